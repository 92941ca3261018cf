//! Logging in, sessions shared between instances, lockout, CSRF.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, spawn_on, PASSWORD};

db_test!(
    a_wrong_password_is_refused_and_the_fifth_failure_locks_the_account,
    |app| {
        app.seed_town().await;
        app.create_user("worker", Role::GridWorker, Some("441502001001"), None)
            .await;
        for _ in 0..4 {
            let r = app
                .post_json(
                    "/api/v1/auth/login",
                    None,
                    json!({"username": "worker", "password": "wrong-password"}),
                )
                .await;
            assert_error(r, StatusCode::UNAUTHORIZED).await;
        }
        let r = app
            .post_json(
                "/api/v1/auth/login",
                None,
                json!({"username": "worker", "password": "wrong-password"}),
            )
            .await;
        assert_error(r, StatusCode::LOCKED).await;
        // Locked: even the right password is refused…
        let r = app
            .post_json(
                "/api/v1/auth/login",
                None,
                json!({"username": "worker", "password": PASSWORD}),
            )
            .await;
        assert_error(r, StatusCode::LOCKED).await;
        // …until the lockout ends.
        app.clock.advance_ms(16 * 60 * 1000);
        let r = app
            .post_json(
                "/api/v1/auth/login",
                None,
                json!({"username": "worker", "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
);

db_test!(
    an_unknown_user_gets_the_same_answer_as_a_wrong_password,
    |app| {
        let r = app
            .post_json(
                "/api/v1/auth/login",
                None,
                json!({"username": "nobody", "password": "whatever-1"}),
            )
            .await;
        let v = assert_error(r, StatusCode::UNAUTHORIZED).await;
        assert_eq!(v["message"], "wrong username or password");
    }
);

db_test!(logout_ends_the_session, |app| {
    app.seed_town().await;
    let s = app
        .user("worker", Role::GridWorker, Some("441502001001"))
        .await;
    assert_eq!(
        app.get("/api/v1/me", Some(&s)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.post_json("/api/v1/auth/logout", Some(&s), json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_error(
        app.get("/api/v1/me", Some(&s)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
});

db_test!(sessions_expire, |app| {
    app.seed_town().await;
    let s = app
        .user("worker", Role::GridWorker, Some("441502001001"))
        .await;
    app.clock.advance_ms(366 * 24 * 3600 * 1000);
    assert_error(
        app.get("/api/v1/me", Some(&s)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
});

db_test!(a_session_from_one_instance_works_on_another, |app| {
    app.seed_town().await;
    let s = app.user("admin", Role::Admin, Some("441500000000")).await;
    let mut second = spawn_on(
        app.engine,
        app.database_url.clone(),
        tempfile::tempdir().unwrap(),
    )
    .await;
    let r = second.get("/api/v1/me", Some(&s)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["username"], "admin");
    second.stop().await;
});

db_test!(cookie_writes_need_the_csrf_token, |app| {
    app.seed_town().await;
    app.create_user("admin", Role::Admin, Some("441502001000"), None)
        .await;
    let jar = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = jar
        .post(format!("{}/api/v1/auth/login", app.url))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let set_cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(set_cookies.iter().any(|c| c.starts_with("shanzhi_session=")
        && c.contains("HttpOnly")
        && c.contains("SameSite=Lax")));
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Reads need no token.
    assert_eq!(
        jar.get(format!("{}/api/v1/me", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let url = format!("{}/api/v1/nodes/441502001001001", app.url);
    let r = jar
        .patch(&url)
        .json(&json!({"name": "改名"}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::FORBIDDEN).await;
    let r = jar
        .patch(&url)
        .header("x-csrf-token", "forged")
        .json(&json!({"name": "改名"}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::FORBIDDEN).await;
    let r = jar
        .patch(&url)
        .header("x-csrf-token", csrf)
        .json(&json!({"name": "改名"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
});

db_test!(requests_without_a_session_are_unauthorized, |app| {
    assert_error(app.get("/api/v1/me", None).await, StatusCode::UNAUTHORIZED).await;
    let r = app
        .client
        .get(format!("{}/api/v1/me", app.url))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED).await;
});
