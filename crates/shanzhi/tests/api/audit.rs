//! The audit chain: every change is recorded; a tampered row is named by `audit verify`.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi::clock::Clock;
use shanzhi_domain::user::Role;
use shanzhi_store::{Db, Engine};

use crate::helpers::TestApp;

async fn exec(db: &Db, sql: &str) -> Result<(), sqlx::Error> {
    match db {
        Db::Sqlite { write, .. } => sqlx::raw_sql(sql).execute(write).await.map(|_| ()),
        Db::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
}

fn cli_verify(app: &TestApp) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shanzhi"))
        .args(["audit", "verify", "--database-url", &app.database_url])
        .output()
        .expect("run shanzhi audit verify");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

db_test!(changes_are_recorded_with_before_and_after, |app| {
    app.seed_town().await;
    let admin = app.user("admin", Role::Admin, Some("441500000000")).await;
    let r = app
        .patch_json(
            "/api/v1/nodes/441502001001001",
            &admin,
            json!({"name": "新名字"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = app
        .get(
            "/api/v1/audit?entity=node&entity_id=441502001001001",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let row = &v["items"][0];
    assert_eq!(row["action"], "node.update");
    assert_eq!(row["actor_id"], admin.user_id);
    assert_eq!(row["before"]["name"], "网格1");
    assert_eq!(row["after"]["name"], "新名字");
    // Non-admins may not read the log.
    let worker = app
        .user("worker", Role::GridWorker, Some("441502001001"))
        .await;
    assert_eq!(
        app.get("/api/v1/audit", Some(&worker)).await.status(),
        StatusCode::FORBIDDEN
    );
});

db_test!(the_audit_page_filters_by_actor_action_and_time, |app| {
    app.seed_town().await;
    let admin = app.user("admin", Role::Admin, Some("441500000000")).await;
    let other = app.user("admin2", Role::Admin, Some("441500000000")).await;
    let before = app.clock.now_ms();
    for (who, code, name) in [
        (&admin, "441502001001001", "甲"),
        (&other, "441502001001002", "乙"),
        (&admin, "441502001001002", "丙"),
    ] {
        let r = app
            .patch_json(&format!("/api/v1/nodes/{code}"), who, json!({"name": name}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let list = |q: String| {
        let app = &app;
        let admin = &admin;
        async move {
            let v: Value = app.get_json(&format!("/api/v1/audit?{q}"), admin).await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["after"]["name"].as_str().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
        }
    };
    let mine = list(format!("actor={}&action=node.update", admin.user_id)).await;
    assert_eq!(mine, ["丙", "甲"]);
    let theirs = list(format!("actor={}&action=node.update", other.user_id)).await;
    assert_eq!(theirs, ["乙"]);
    // One record's history, newest first.
    let grid2 = list("entity=node&entity_id=441502001001002".into()).await;
    assert_eq!(&grid2[..2], ["丙", "乙"]);
    // A window that ends before the changes holds none of them.
    let none = list(format!("action=node.update&to={before}")).await;
    assert!(none.is_empty(), "{none:?}");
    let since = list(format!("action=node.update&from={before}")).await;
    assert_eq!(since.len(), 3);
    // A filter of the wrong type is the client's mistake.
    let r = app.get("/api/v1/audit?actor=abc", Some(&admin)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
});

db_test!(the_database_refuses_to_change_audit_rows, |app| {
    app.seed_town().await;
    assert!(
        exec(&app.state.db, "UPDATE audit SET action = 'x' WHERE seq = 1")
            .await
            .is_err()
    );
    assert!(exec(&app.state.db, "DELETE FROM audit WHERE seq = 1")
        .await
        .is_err());
});

db_test!(audit_verify_names_the_first_tampered_row, |app| {
    app.seed_town().await;
    // The chain is the whole tree's: an administrator of the whole tree verifies it.
    let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
    for name in ["一", "二", "三"] {
        app.patch_json(
            "/api/v1/nodes/441502001001001",
            &admin,
            json!({"name": name}),
        )
        .await;
    }
    let v: Value = app
        .get("/api/v1/audit/verify", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["ok"], true, "{v}");
    let (code, out) = cli_verify(&app);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");

    // Someone with database access rewrites history: disables the guard and edits row 3.
    let disable = match app.engine {
        Engine::Sqlite => "DROP TRIGGER audit_no_update",
        Engine::Postgres => "ALTER TABLE audit DISABLE TRIGGER audit_no_change",
    };
    exec(&app.state.db, disable).await.unwrap();
    exec(
        &app.state.db,
        "UPDATE audit SET after_json = '{\"name\":\"forged\"}' WHERE seq = 3",
    )
    .await
    .unwrap();

    let v: Value = app
        .get("/api/v1/audit/verify", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["broken_at"], 3);
    let (code, out) = cli_verify(&app);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("BROKEN at row 3"), "{out}");
});
