//! Logging in, sessions shared between instances, lockout, CSRF.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, spawn_on, PASSWORD};

/// A login attempt from `from` (the client address a trusted proxy reports; the tests talk over
/// loopback, which is trusted by default).
async fn login_from(
    app: &crate::helpers::TestApp,
    from: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/auth/login", app.url))
        .header("x-forwarded-for", from)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request")
}

db_test!(
    parallel_guesses_are_checked_five_times_at_most_and_then_wait,
    |app| {
        app.seed_town().await;
        app.create_user("worker", Role::GridWorker, Some("441502001001"), None)
            .await;
        // 31 wrong passwords and the right one, all at once (the bug: 96 were checked and the
        // right one got in).
        let mut tries = tokio::task::JoinSet::new();
        for i in 0..32 {
            let pw = if i == 20 {
                PASSWORD.to_owned()
            } else {
                format!("wrong-password-{i}")
            };
            let (client, url) = (app.client.clone(), app.url.clone());
            tries.spawn(async move {
                client
                    .post(format!("{url}/api/v1/auth/login"))
                    .header("x-forwarded-for", "198.51.100.4")
                    .json(&json!({"username": "worker", "password": pw}))
                    .send()
                    .await
                    .expect("request")
                    .status()
            });
        }
        let statuses = tries.join_all().await;
        let checked = statuses
            .iter()
            .filter(|s| **s != StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert!(checked <= 5, "{checked} guesses were checked: {statuses:?}");
        assert!(statuses.iter().all(|s| matches!(
            *s,
            StatusCode::UNAUTHORIZED | StatusCode::OK | StatusCode::TOO_MANY_REQUESTS
        )));
        // While waiting, even the right password is refused, with Retry-After…
        if !statuses.contains(&StatusCode::OK) {
            let r = login_from(&app, "198.51.100.4", "worker", PASSWORD).await;
            assert!(r.headers().get("retry-after").is_some());
            let v = assert_error(r, StatusCode::TOO_MANY_REQUESTS).await;
            assert_eq!(v["code"], "throttled");
            // …until the wait is over.
            app.clock.advance_ms(16 * 1000);
            let r = login_from(&app, "198.51.100.4", "worker", PASSWORD).await;
            assert_eq!(r.status(), StatusCode::OK);
        }
    }
);

db_test!(
    unknown_wrong_and_disabled_accounts_get_the_same_answers,
    |app| {
        app.seed_town().await;
        app.create_user("worker", Role::GridWorker, Some("441502001001"), None)
            .await;
        let off = app
            .create_user("retired", Role::GridWorker, Some("441502001001"), None)
            .await;
        let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
        let r = app
            .patch_json(
                &format!("/api/v1/users/{off}"),
                &admin,
                json!({"disabled": true}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        // The same run of answers for a real account and a name nobody has: five refusals
        // saying the same thing, then a wait.
        let mut runs = Vec::new();
        for (name, from) in [("worker", "198.51.100.1"), ("nobody", "198.51.100.2")] {
            let mut seen = Vec::new();
            for _ in 0..6 {
                let r = login_from(&app, from, name, "wrong-password").await;
                let status = r.status();
                let v: Value = r.json().await.unwrap();
                seen.push((status, v["code"].clone(), v["message"].clone()));
            }
            runs.push(seen);
        }
        assert_eq!(runs[0], runs[1]);
        assert_eq!(runs[0][0].0, StatusCode::UNAUTHORIZED);
        assert_eq!(runs[0][5].0, StatusCode::TOO_MANY_REQUESTS);
        // A disabled account with its right password says exactly what a wrong one says.
        let right = login_from(&app, "198.51.100.3", "retired", PASSWORD).await;
        let wrong = login_from(&app, "198.51.100.3", "nobody-else", "wrong-password").await;
        assert_eq!(right.status(), StatusCode::UNAUTHORIZED);
        let (a, b): (Value, Value) = (right.json().await.unwrap(), wrong.json().await.unwrap());
        assert_eq!(a, b);
    }
);

db_test!(a_stranger_cannot_lock_a_user_out_from_elsewhere, |app| {
    app.seed_town().await;
    app.create_user("admin2", Role::Admin, Some("440000000000"), None)
        .await;
    for _ in 0..40 {
        let r = login_from(&app, "203.0.113.66", "admin2", "guess-guess-guess").await;
        assert!(matches!(
            r.status(),
            StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
        ));
    }
    let r = login_from(&app, "203.0.113.66", "admin2", PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the attacker's address waits"
    );
    // The real administrator, at their own desk, logs in at once.
    let r = login_from(&app, "192.0.2.10", "admin2", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
});

db_test!(an_administrator_unlock_clears_the_wait, |app| {
    app.seed_town().await;
    let id = app
        .create_user("worker", Role::GridWorker, Some("441502001001"), None)
        .await;
    for _ in 0..6 {
        login_from(&app, "198.51.100.9", "worker", "wrong-password").await;
    }
    let r = login_from(&app, "198.51.100.9", "worker", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
    let r = app
        .patch_json(
            &format!("/api/v1/users/{id}"),
            &admin,
            json!({"unlock": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = login_from(&app, "198.51.100.9", "worker", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
});

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

db_test!(
    an_office_of_many_users_behind_one_address_never_waits,
    |app| {
        app.seed_town().await;
        app.create_user("worker", Role::GridWorker, Some("441502001001"), None)
            .await;
        for _ in 0..30 {
            let r = login_from(&app, "198.51.100.77", "worker", PASSWORD).await;
            assert_eq!(r.status(), StatusCode::OK);
        }
    }
);
