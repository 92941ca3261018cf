//! Bad input gets a 4xx with `{code, message, field}`, never a 500, and changes nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, rect};

db_test!(
    malformed_json_wrong_types_and_unknown_fields_are_400s_naming_the_field,
    |app| {
        app.seed_town().await;
        let admin = app.user("admin", Role::Admin, Some("441500000000")).await;
        let path = "/api/v1/users";
        let v = assert_error(
            app.post_raw(path, &admin, "{\"username\": ").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(v["message"].as_str().unwrap().contains("malformed JSON"));
        let v = assert_error(
            app.post_json(path, Some(&admin), json!({"username": 42}))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(v["field"], "username");
        let body = json!({"username": "u1", "display_name": "x", "password": "a-good-password", "role": "citizen", "colour": "red"});
        let v = assert_error(
            app.post_json(path, Some(&admin), body).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(v["field"], "colour");
        let v = assert_error(
            app.post_json(path, Some(&admin), json!({"username": "u1"}))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(v["field"], "display_name");
        let r = app
            .client
            .post(format!("{}{path}", app.url))
            .bearer_auth(&admin.token)
            .header("content-type", "text/plain")
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_error(r, StatusCode::BAD_REQUEST).await;
    }
);

db_test!(over_long_strings_and_out_of_range_values_are_422s, |app| {
    app.seed_town().await;
    let admin = app.user("admin", Role::Admin, Some("441500000000")).await;
    let long = "长".repeat(101);
    let v = assert_error(
        app.patch_json(
            "/api/v1/nodes/441502001001001",
            &admin,
            json!({"name": long}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "name");
    let far = json!({"type": "Polygon", "coordinates": [[[115.3, 22.78], [215.3, 22.78], [115.3, 23.0], [115.3, 22.78]]]});
    let v = assert_error(
        app.patch_json(
            "/api/v1/nodes/441502001001001",
            &admin,
            json!({"geometry": far}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "geometry");
    let v = assert_error(
        app.post_json("/api/v1/nodes", Some(&admin), json!({"code": "44150200100100X", "name": "x", "level": "small", "geometry": rect(0.0, 0.0, 1.0, 1.0)})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(v["field"].as_str().unwrap().contains("code"), "{v}");
    let n: Value = app
        .get("/api/v1/nodes/441502001001001", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (n["name"].as_str(), n["version"].as_i64()),
        (Some("网格1"), Some(1)),
        "nothing changed"
    );
});

db_test!(missing_records_and_routes_are_404s, |app| {
    app.seed_town().await;
    let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
    assert_error(
        app.get("/api/v1/nodes/441502001001999", Some(&admin)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get("/api/v1/nodes/not-a-code", Some(&admin)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get("/api/v1/users/99999", Some(&admin)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get("/api/v1/no-such-thing", None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
});

db_test!(an_import_body_that_is_not_a_collection_is_refused, |app| {
    app.seed_town().await;
    let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
    let v = assert_error(
        app.post_json(
            "/api/v1/tree/import",
            Some(&admin),
            json!({"type": "Feature"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(v["message"].as_str().unwrap().contains("FeatureCollection"));
    let v = assert_error(
        app.post_json("/api/v1/tree/import", Some(&admin), json!([1, 2]))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(v["message"].as_str().unwrap().contains("FeatureCollection"));
});

db_test!(
    refusals_carry_a_stable_reason_key_and_its_values_beside_the_english_message,
    |app| {
        let c = app.seed_loop().await;
        let id = app.report(&c.citizen, c.gas).await;
        // A move in the wrong state: the key and the state the order is in.
        let v = assert_error(
            app.act(
                &c.dispatcher,
                id,
                "dispatch",
                json!({"department_id": c.zj_id}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(
            (v["reason"].as_str(), v["params"]["state"].as_str()),
            (Some("wrong_state"), Some("reported")),
            "{v}"
        );
        assert!(v["message"]
            .as_str()
            .unwrap()
            .contains("this one is reported"));
        app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
        // A form value out of range: the key and the bounds.
        let v = assert_error(
            app.act(
                &c.dispatcher,
                id,
                "summon",
                json!({"departments": [c.zj_id], "lead": c.zj_id}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            (v["reason"].as_str(), v["field"].as_str(), &v["params"]),
            (
                Some("summon_count"),
                Some("departments"),
                &json!({"min": "2", "max": "20"})
            ),
            "{v}"
        );
        let v = assert_error(
            app.act(&c.dispatcher, id, "merge", json!({})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            (v["reason"].as_str(), v["field"].as_str()),
            (Some("required"), Some("into"))
        );
        // Without a finer key, the reason is the code.
        let v = assert_error(
            app.get("/api/v1/events/999999", Some(&c.dispatcher)).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(
            (v["reason"].as_str(), &v["params"]),
            (Some("not_found"), &json!({}))
        );
    }
);
