//! Personal data at rest: phones (and, with base data, ID numbers) are sealed in the database,
//! never written to the server's log, and survive a key rotation.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_store::Engine;

use crate::helpers::{spawn_app, Served, TestApp, IN_GRID};

/// Every byte of the SQLite database: the file and its write-ahead log.
fn database_bytes(app: &TestApp) -> Vec<u8> {
    let file = app
        .database_url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-journal"] {
        if let Ok(b) = std::fs::read(format!("{file}{suffix}")) {
            all.extend(b);
        }
    }
    assert!(!all.is_empty(), "no database file at {file}");
    all
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Personal data the test writes; none may be found in plain text.
const USER_PHONE: &str = "13912345678";
const CALLER_PHONE: &str = "13787654321";
const RESIDENT_PHONE: &str = "13655554444";
/// The grid worker's phone, which a warning's SMS goes to.
const WORKER_PHONE: &str = "13511112222";
/// 17 digits under 城区 (441502), completed with their check digit.
const RESIDENT_ID17: &str = "44150219761203471";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_and_id_numbers_are_sealed_in_the_database_and_never_logged() {
    let mut app = spawn_app(Engine::Sqlite).await;
    let c = app.seed_loop().await;
    app.stop().await;
    let (hook, gateway) = crate::warning::webhook(0).await;
    let (served, url) = Served::start(&app, &[("SHANZHI_SMS_WEBHOOK_URL", hook.as_str())]).await;
    app.url = url;

    // A citizen leaves a call-back phone; a dispatcher files a hotline call with the caller's.
    let r = app
        .client
        .put(format!(
            "{}/api/v1/users/{}/phone",
            app.url, c.citizen.user_id
        ))
        .bearer_auth(&c.citizen.token)
        .json(&json!({"phone": USER_PHONE}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .client
        .post(format!("{}/api/v1/hotline", app.url))
        .bearer_auth(&c.dispatcher.token)
        .header("idempotency-key", "pii-1")
        .json(&json!({"category_id": c.garbage, "description": "来电反映路灯不亮", "lon": IN_GRID.0,
            "lat": IN_GRID.1, "caller_name": "李女士", "caller_phone": CALLER_PHONE, "callback": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["caller"]["phone"], "137****4321");

    // A grid worker registers a resident with an ID number and a phone, finds them by the
    // number, and reveals the phone with a purpose (the one answer that holds it).
    let id_number = shanzhi_domain::resident::id_number::complete(RESIDENT_ID17);
    let r = app
        .post_json(
            "/api/v1/residents",
            Some(&c.worker),
            json!({"node": "441502001001001", "name": "陈秀英", "id_kind": "resident_id",
                "id_number": id_number, "phone": RESIDENT_PHONE, "residence": "registered"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let resident: Value = r.json().await.unwrap();
    assert_eq!(
        resident["id_number"],
        format!("4415**********{}", &id_number[14..])
    );
    let found: Value = app
        .post_json(
            "/api/v1/residents/search",
            Some(&c.worker),
            json!({"id_number": id_number}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["id"], resident["id"]);
    let shown: Value = app
        .post_json(
            &format!("/api/v1/residents/{}/reveal", resident["id"]),
            Some(&c.worker),
            json!({"field": "phone", "purpose": "入户走访前电话联系"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["value"], RESIDENT_PHONE);

    // The centre warns the grid: the outbox unseals the worker's phone for the SMS gateway only.
    let r = app
        .client
        .put(format!(
            "{}/api/v1/users/{}/phone",
            app.url, c.worker.user_id
        ))
        .bearer_auth(&c.worker.token)
        .json(&json!({"phone": WORKER_PHONE}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post_json(
            "/api/v1/warnings",
            Some(&c.dispatcher),
            json!({"title": "暴雨黄色预警", "message": "今夜有暴雨，请勿外出。", "level": "yellow",
                "grids": ["441502001001001"]}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    for _ in 0..500 {
        if !gateway.lock().unwrap().accepted.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let sent: Vec<String> = gateway
        .lock()
        .unwrap()
        .accepted
        .iter()
        .filter_map(|(_, b)| b["to"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(sent, [WORKER_PHONE], "the gateway got the worker's phone");

    let log = served.stop();
    assert!(
        log.lines().count() > 50 && log.contains("DEBUG"),
        "logging everything: {}",
        &log[..log.len().min(3000)]
    );
    assert!(
        log.contains("/api/v1/hotline"),
        "the server's log holds the requests: {}",
        &log[..log.len().min(2000)]
    );
    let db = database_bytes(&app);
    // The masks are there (the right files were read) …
    assert!(holds(&db, "139****5678") && holds(&db, "137****4321") && holds(&db, "136****4444"));
    assert!(log.contains("/api/v1/residents/search"));
    // … and no phone or ID number in plain text, in the log or the database.
    for secret in [
        USER_PHONE,
        CALLER_PHONE,
        RESIDENT_PHONE,
        WORKER_PHONE,
        id_number.as_str(),
    ] {
        assert!(!log.contains(secret), "{secret} in the server's log");
        assert!(!holds(&db, secret), "{secret} in the database file");
    }
}

db_test!(
    a_key_rotation_reseals_every_value_and_reads_the_same,
    |app| {
        let c = app.seed_loop().await;
        for (who, phone) in [(&c.citizen, USER_PHONE), (&c.dispatcher, "13600001111")] {
            let r = app
                .client
                .put(format!("{}/api/v1/users/{}/phone", app.url, who.user_id))
                .bearer_auth(&who.token)
                .json(&json!({"phone": phone}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
        }
        let keys = &app.state.pii;
        let db = &app.state.db;
        let before = shanzhi_store::pii::key_counts(db, keys).await.unwrap();
        assert_eq!(before.get("k1"), Some(&2), "{before:?}");
        // A new key in the file: this server re-reads it and seals new values with it.
        let new = shanzhi_store::pii::add_key(&app.dir().join("test.pii-keys")).unwrap();
        assert_eq!(new, "k2");
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        assert_eq!(keys.active_id(), "k2");
        let done = shanzhi_store::pii::rotate(db, keys, |_| {}).await.unwrap();
        assert_eq!(done.resealed, 2);
        let after = shanzhi_store::pii::key_counts(db, keys).await.unwrap();
        assert_eq!(after.get("k2"), Some(&2), "{after:?}");
        assert_eq!(after.get("k1"), Some(&0), "{after:?}");
        assert_eq!(
            shanzhi_store::user::phone(db, keys, c.citizen.user_id)
                .await
                .unwrap()
                .as_deref(),
            Some(USER_PHONE)
        );
        assert_eq!(shanzhi_store::pii::count_stale(db, "k2").await.unwrap(), 0);
        // Another rotation with nothing stale does nothing.
        assert_eq!(
            shanzhi_store::pii::rotate(db, keys, |_| {})
                .await
                .unwrap()
                .resealed,
            0
        );
    }
);

db_test!(
    a_server_refuses_to_start_with_keys_that_do_not_open_the_database,
    |app| {
        let c = app.seed_loop().await;
        let r = app
            .client
            .put(format!(
                "{}/api/v1/users/{}/phone",
                app.url, c.citizen.user_id
            ))
            .bearer_auth(&c.citizen.token)
            .json(&json!({"phone": USER_PHONE}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let db = &app.state.db;
        shanzhi_store::pii::check_keys(db, &app.state.pii)
            .await
            .expect("the database's own keys open it");
        // Keys of another database (a lost key file replaced by a fresh one).
        let other = shanzhi_store::pii::Keyring::for_tests("another database");
        let e = shanzhi_store::pii::check_keys(db, &other)
            .await
            .expect_err("foreign keys are refused");
        assert!(e.to_string().contains("app_user.phone_enc"), "{e}");
        // The real binary, its key file gone: it does not start (and says why) rather than
        // sealing new values under keys that cannot read the old ones.
        let missing = app.dir().join("lost.pii-keys");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_shanzhi"))
            .args([
                "serve",
                "--database-url",
                &app.database_url,
                "--bind",
                "127.0.0.1:0",
            ])
            .env("SHANZHI_PII_KEY_FILE", &missing)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run shanzhi serve");
        assert!(
            !out.status.success(),
            "the server started with a fresh key file"
        );
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("do not open"), "{said}");
    }
);
