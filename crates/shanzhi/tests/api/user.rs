//! Users administered within scope.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::assert_error;

db_test!(an_admin_creates_users_inside_the_jurisdiction_only, |app| {
    app.seed_town().await;
    let admin = app
        .user("townadmin", Role::Admin, Some("441502001000"))
        .await;
    let body = json!({"username": "newworker", "display_name": "新网格员", "password": "a-good-password", "role": "grid_worker", "scope": "441502001001001"});
    let r = app
        .post_json("/api/v1/users", Some(&admin), body.clone())
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert!(
        v.get("password_hash").is_none() && v.get("password").is_none(),
        "no secrets in {v}"
    );
    // The new user can log in.
    let r = app
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"username": "newworker", "password": "a-good-password"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Same name again: 409.
    assert_error(
        app.post_json("/api/v1/users", Some(&admin), body).await,
        StatusCode::CONFLICT,
    )
    .await;
    // A scope above the admin's own: 403.
    let body = json!({"username": "cityworker", "display_name": "x", "password": "a-good-password", "role": "dispatcher", "scope": "441500000000"});
    assert_error(
        app.post_json("/api/v1/users", Some(&admin), body).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // A role that needs a scope without one: 422 naming the field.
    let body = json!({"username": "noscope", "display_name": "x", "password": "a-good-password", "role": "dispatcher"});
    let v = assert_error(
        app.post_json("/api/v1/users", Some(&admin), body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "scope");
    // A short password: 422.
    let body =
        json!({"username": "short", "display_name": "x", "password": "short", "role": "citizen"});
    let v = assert_error(
        app.post_json("/api/v1/users", Some(&admin), body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "password");
});

db_test!(department_handlers_are_scoped_to_their_department, |app| {
    app.seed_town().await;
    let admin = app
        .user("countyadmin", Role::Admin, Some("441502000000"))
        .await;
    let r = app
        .post_json(
            "/api/v1/departments",
            Some(&admin),
            json!({"code": "cg-441502", "name": "城区城管局", "region": "441502000000"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let dep: Value = r.json().await.unwrap();
    let body = json!({"username": "handler", "display_name": "城管办理人", "password": "a-good-password", "role": "handler", "department_id": dep["id"]});
    assert_eq!(
        app.post_json("/api/v1/users", Some(&admin), body)
            .await
            .status(),
        StatusCode::CREATED
    );
    let handler = app.login_with("handler", "a-good-password").await;
    let me: Value = app
        .get("/api/v1/me", Some(&handler))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["scope_node"], "441502000000");
    // Departments above a village are visible to its dispatcher.
    let disp = app
        .user("vdisp", Role::Dispatcher, Some("441502001001"))
        .await;
    let v: Value = app
        .get("/api/v1/departments", Some(&disp))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"][0]["code"], "cg-441502");
    // A department outside the admin's county: 403.
    let r = app
        .post_json(
            "/api/v1/departments",
            Some(&admin),
            json!({"code": "cg-4415", "name": "市城管局", "region": "441500000000"}),
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN).await;
});

db_test!(an_admin_cannot_read_users_of_another_area, |app| {
    app.seed_town().await;
    let other = app
        .create_user("other", Role::GridWorker, Some("441502001002"), None)
        .await;
    let admin = app.user("vadmin", Role::Admin, Some("441502001001")).await;
    assert_error(
        app.get(&format!("/api/v1/users/{other}"), Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let r = app
        .patch_json(
            &format!("/api/v1/users/{other}"),
            &admin,
            json!({"disabled": true}),
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
    let v: Value = app
        .get("/api/v1/users", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["vadmin"]);
});

db_test!(disabling_a_user_ends_their_sessions, |app| {
    app.seed_town().await;
    let admin = app.user("admin", Role::Admin, Some("441500000000")).await;
    let worker = app
        .user("worker", Role::GridWorker, Some("441502001001"))
        .await;
    let r = app
        .patch_json(
            &format!("/api/v1/users/{}", worker.user_id),
            &admin,
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_error(
        app.get("/api/v1/me", Some(&worker)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
});
