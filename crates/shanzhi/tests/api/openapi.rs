//! The OpenAPI document states the rules the handlers enforce (what schemathesis relies on),
//! and requests the document calls invalid are refused.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

db_test!(
    every_path_parameter_of_the_document_has_a_typed_schema,
    |app| {
        let doc: Value = app
            .get("/api/v1/openapi.json", None)
            .await
            .json()
            .await
            .unwrap();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                for p in op["parameters"].as_array().unwrap() {
                    let schema = &p["schema"];
                    let typed = schema["type"] != "string"
                        || schema.get("pattern").is_some()
                        || schema.get("enum").is_some();
                    if p["in"] == "path" {
                        assert!(typed, "{method} {path}: {{{}}} has no schema", p["name"]);
                    }
                }
                assert!(
                    !path.contains("{action}"),
                    "{path}: each move is documented"
                );
            }
        }
        let users = &doc["paths"]["/api/v1/users/{id}"]["patch"];
        assert_eq!(users["parameters"][0]["schema"]["type"], "integer");
        let body = &users["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["properties"]["password"]["minLength"], 10);
        let rate = &doc["paths"]["/api/v1/events/{id}/rate"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"];
        assert_eq!(rate["required"], json!(["score", "fixed"]));
        assert_eq!(rate["properties"]["score"]["maximum"], 5);
    }
);

db_test!(a_user_change_to_a_null_display_name_is_refused, |app| {
    app.seed_town().await;
    let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
    let clerk = app.user("clerk", Role::Admin, Some("440000000000")).await;
    for body in [
        json!({"display_name": null}),
        json!({"password": null}),
        json!({"disabled": null}),
    ] {
        let r = app
            .patch_json(
                &format!("/api/v1/users/{}", clerk.user_id),
                &admin,
                body.clone(),
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let r = app
        .patch_json(
            &format!("/api/v1/users/{}", clerk.user_id),
            &admin,
            json!({"display_name": "Clerk"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
});

db_test!(a_calendar_without_its_periods_is_refused, |app| {
    app.seed_town().await;
    let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
    let put = |body: Value| {
        app.client
            .put(format!("{}/api/v1/calendar", app.url))
            .bearer_auth(&admin.token)
            .json(&body)
            .send()
    };
    let r = put(json!({"holidays": [], "workdays": []})).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["field"], "periods");
    let whole = json!({"holidays": [], "workdays": [], "periods": [["09:00", "17:00"]]});
    assert_eq!(put(whole).await.unwrap().status(), StatusCode::OK);
});

db_test!(
    a_category_department_kind_is_a_short_code_not_any_text,
    |app| {
        app.seed_town().await;
        let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
        let category = |kind: Value| {
            json!({"code": "noise", "name": "噪音扰民", "department_kind": kind, "accept_minutes": 60,
            "handle_minutes": 840, "verify_minutes": 120, "priority": 3, "on_spot": false})
        };
        for bad in [json!("a\u{0}b"), json!("x".repeat(100_000)), json!("城管")] {
            let r = app
                .post_json("/api/v1/categories", Some(&admin), category(bad))
                .await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        }
        let r = app
            .post_json("/api/v1/categories", Some(&admin), category(json!(" cg ")))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["department_kind"], "cg");
    }
);
