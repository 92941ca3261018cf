//! Households and the citizen's own household: one head, members with relations, scoping, and
//! corrections from a citizen to the grid worker and back.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Session, TestApp};
use crate::resident::{id_number, register, tally, GRID, OTHER_VILLAGE_GRID};

/// Creates a household at `node` as `who`; its id.
pub async fn new_household(app: &TestApp, who: &Session, node: &str) -> i64 {
    let r = app
        .post_json(
            "/api/v1/households",
            Some(who),
            json!({"node": node, "number": "0012"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Adds a member; the response.
pub async fn join(
    app: &TestApp,
    who: &Session,
    household: i64,
    resident: i64,
    relation: &str,
) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/households/{household}/members"),
        Some(who),
        json!({"resident_id": resident, "relation": relation}),
    )
    .await
}

db_test!(a_household_has_exactly_one_head, |app| {
    let cast = app.seed_loop().await;
    let w = &cast.worker;
    let hh = new_household(&app, w, GRID).await;
    assert_eq!(tally(&app, "441502001001", "household", "").await, 1);
    let father = register(&app, w, GRID, "陈父", &id_number(21), None).await["id"]
        .as_i64()
        .unwrap();
    let mother = register(&app, w, GRID, "林母", &id_number(22), None).await["id"]
        .as_i64()
        .unwrap();
    let child = register(&app, w, GRID, "陈子", &id_number(23), None).await["id"]
        .as_i64()
        .unwrap();
    // The first member is the head.
    assert_error(
        join(&app, w, hh, mother, "spouse").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        join(&app, w, hh, father, "head").await.status(),
        StatusCode::OK
    );
    assert_error(
        join(&app, w, hh, mother, "head").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        join(&app, w, hh, mother, "spouse").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        join(&app, w, hh, child, "child").await.status(),
        StatusCode::OK
    );
    assert_error(
        join(&app, w, hh, child, "child").await,
        StatusCode::CONFLICT,
    )
    .await;
    let v = app.get_json(&format!("/api/v1/households/{hh}"), w).await;
    assert_eq!(v["head_resident_id"], father);
    let relations: Vec<&str> = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["relation"].as_str().unwrap())
        .collect();
    assert_eq!(relations, ["head", "spouse", "child"]);
    // The head leaves last; a new head first.
    let r = app
        .post_json(
            &format!("/api/v1/households/{hh}/members/{father}/remove"),
            Some(w),
            json!({}),
        )
        .await;
    assert_error(r, StatusCode::CONFLICT).await;
    let r = app
        .patch_json(
            &format!("/api/v1/households/{hh}"),
            w,
            json!({"head_resident_id": mother, "former_relation": "spouse"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["head_resident_id"], mother);
    let r = app
        .post_json(
            &format!("/api/v1/households/{hh}/members/{father}/remove"),
            Some(w),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["members"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A person of another village does not join here, and that village's households are hidden.
    let far = register(
        &app,
        &cast.other_dispatcher,
        OTHER_VILLAGE_GRID,
        "远亲",
        &id_number(25),
        None,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    assert_error(
        join(&app, &cast.dispatcher, hh, far, "other").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let theirs = new_household(&app, &cast.other_dispatcher, OTHER_VILLAGE_GRID).await;
    assert_eq!(
        app.get(&format!("/api/v1/households/{theirs}"), Some(w))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let listed = app.get_json("/api/v1/households", &cast.dispatcher).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_error(
        app.get("/api/v1/households", Some(&cast.cg)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
});

db_test!(
    a_citizen_corrects_their_household_through_the_grid_worker,
    |app| {
        let cast = app.seed_loop().await;
        let w = &cast.worker;
        let hh = new_household(&app, w, GRID).await;
        let me = register(&app, w, GRID, "黄一", &id_number(31), Some("13100131000")).await["id"]
            .as_i64()
            .unwrap();
        let wife = register(&app, w, GRID, "何二", &id_number(32), None).await["id"]
            .as_i64()
            .unwrap();
        let stranger = register(&app, w, GRID, "路人", &id_number(33), None).await["id"]
            .as_i64()
            .unwrap();
        join(&app, w, hh, me, "head").await;
        join(&app, w, hh, wife, "spouse").await;
        // Staff link the citizen's account to their record.
        let r = app
            .patch_json(
                &format!("/api/v1/residents/{me}"),
                w,
                json!({"user_id": cast.citizen.user_id}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = app
            .patch_json(
                &format!("/api/v1/residents/{stranger}"),
                w,
                json!({"user_id": cast.worker.user_id}),
            )
            .await;
        assert_eq!(
            assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
            "user_id"
        );
        // The citizen sees their household, masked, and nobody else.
        let mine = app.get_json("/api/v1/me/household", &cast.citizen).await;
        assert_eq!(mine["resident"]["id"], me, "{mine}");
        assert_eq!(mine["household"]["members"].as_array().unwrap().len(), 2);
        assert_eq!(mine["resident"]["phone"], "131****1000");
        assert!(!mine.to_string().contains(&id_number(31)));
        assert_eq!(
            app.get(&format!("/api/v1/residents/{wife}"), Some(&cast.citizen))
                .await
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            app.get(
                &format!("/api/v1/residents/{stranger}"),
                Some(&cast.citizen)
            )
            .await
            .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get("/api/v1/me/household", Some(&cast.citizen2))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        // A correction of a stranger is refused; a wrong value is refused with its reason.
        let ask =
            |resident: i64, field: &str, value: &str| {
                app.post_json("/api/v1/me/household/corrections", Some(&cast.citizen),
            json!({"resident_id": resident, "field": field, "value": value, "note": "换号了"}))
            };
        assert_error(
            ask(stranger, "phone", "13900000001").await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(
            assert_error(
                ask(wife, "phone", "123").await,
                StatusCode::UNPROCESSABLE_ENTITY
            )
            .await["field"],
            "value"
        );
        let r = ask(wife, "phone", "13900000001").await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let c: Value = r.json().await.unwrap();
        assert_eq!(c["value"], "139****0001", "the value asked for is masked");
        let cid = c["id"].as_i64().unwrap();
        // The grid worker is told and finds it in the inbox; other villages do not.
        let notes = app.get_json("/api/v1/notifications", w).await;
        assert!(
            notes["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "correction_requested"),
            "{notes}"
        );
        let inbox = app.get_json("/api/v1/corrections?state=pending", w).await;
        assert_eq!(inbox["items"][0]["id"], cid);
        assert!(app
            .get_json("/api/v1/corrections", &cast.other_dispatcher)
            .await["items"]
            .as_array()
            .unwrap()
            .is_empty());
        let r = app
            .post_json(
                &format!("/api/v1/corrections/{cid}/decide"),
                Some(&cast.other_dispatcher),
                json!({"accept": true}),
            )
            .await;
        assert_error(r, StatusCode::NOT_FOUND).await;
        let r = app
            .post_json(
                &format!("/api/v1/corrections/{cid}/decide"),
                Some(&cast.citizen),
                json!({"accept": true}),
            )
            .await;
        assert!(r.status() == StatusCode::NOT_FOUND || r.status() == StatusCode::FORBIDDEN);
        // Accepted: the record changes (sealed: found by the new phone), the citizen is told.
        let r = app
            .post_json(
                &format!("/api/v1/corrections/{cid}/decide"),
                Some(w),
                json!({"accept": true, "note": "已核实"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["state"], "accepted");
        let found: Value = app
            .post_json(
                "/api/v1/residents/search",
                Some(w),
                json!({"phone": "13900000001"}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(found["items"][0]["id"], wife);
        assert_eq!(found["items"][0]["phone"], "139****0001");
        let r = app
            .post_json(
                &format!("/api/v1/corrections/{cid}/decide"),
                Some(w),
                json!({"accept": false}),
            )
            .await;
        assert_error(r, StatusCode::CONFLICT).await;
        let notes = app.get_json("/api/v1/notifications", &cast.citizen).await;
        assert!(
            notes["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "correction_decided" && n["params"]["accept"] == true),
            "{notes}"
        );
        // A rejected one changes nothing.
        let c: Value = ask(me, "name", "黄壹").await.json().await.unwrap();
        let r = app
            .post_json(
                &format!("/api/v1/corrections/{}/decide", c["id"]),
                Some(w),
                json!({"accept": false, "note": "与户口簿不符"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            app.get_json(&format!("/api/v1/residents/{me}"), w).await["name"],
            "黄一"
        );
        let mine = app.get_json("/api/v1/me/household", &cast.citizen).await;
        assert_eq!(mine["corrections"].as_array().unwrap().len(), 2);
    }
);
