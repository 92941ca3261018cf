//! `shanzhi backup` and `shanzhi restore` (issue 18), run as the real binary against the real
//! binary serving: a backup taken while reports pour in restores into a fresh database with every
//! report acknowledged before it began, figures equal to a recount and an intact audit chain; a
//! restore without the right keys, into a database in use, or of a file that is no backup is
//! refused and changes nothing.

use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;
use shanzhi_store::Engine;

use crate::counters::{counters, recounted};
use crate::helpers::{fresh_database, spawn_with, Served, IN_GRID};

/// Runs `shanzhi ARGS` on `database_url` with the key file `keys`; answers its output.
pub(crate) async fn shanzhi(database_url: &str, keys: &std::path::Path, args: &[&str]) -> Output {
    let (url, keys) = (database_url.to_owned(), keys.to_owned());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_shanzhi"))
            .args(&args)
            .args(["--database-url", &url])
            .env("SHANZHI_PII_KEY_FILE", keys)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run shanzhi")
    })
    .await
    .unwrap()
}

pub(crate) fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

db_test!(
    a_backup_taken_while_reports_pour_in_restores_every_acknowledged_report_counter_and_audit_row,
    |app| {
        let c = app.seed_loop().await;
        // A sealed phone in the copy, so the restore's key check has something to open.
        app.hotline_call(&c, "call-1", "13800138000").await;
        let keys = app.dir().join("test.pii-keys");
        let (served, url) = Served::start(&app, &[]).await;
        let acked: Arc<Mutex<Vec<i64>>> = Arc::default();
        let done = Arc::new(AtomicBool::new(false));
        let mut clients = Vec::new();
        for k in 0..8 {
            let (client, url, token, acked, done) = (
                app.client.clone(),
                url.clone(),
                c.citizen.token.clone(),
                acked.clone(),
                done.clone(),
            );
            let category = c.garbage;
            clients.push(tokio::spawn(async move {
                for i in 0.. {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    let r = client
                        .post(format!("{url}/api/v1/events"))
                        .bearer_auth(&token)
                        .header("idempotency-key", format!("backup-{k}-{i}"))
                        .json(&json!({"category_id": category, "description": "路灯不亮",
                            "lon": IN_GRID.0, "lat": IN_GRID.1}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), StatusCode::CREATED);
                    let body: Value = r.json().await.unwrap();
                    acked.lock().unwrap().push(body["id"].as_i64().unwrap());
                }
            }));
        }
        while acked.lock().unwrap().len() < 100 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Everything acknowledged and audited before the backup begins must be in it; the
        // clients go on writing while it runs.
        let before = acked.lock().unwrap().clone();
        let audited = app.scalar("SELECT COUNT(*) FROM audit").await;
        let file = app.dir().join("backup.shanzhi");
        let out = shanzhi(
            &app.database_url,
            &keys,
            &["backup", file.to_str().unwrap()],
        )
        .await;
        assert!(out.status.success(), "{}", said(&out));
        assert!(said(&out).contains("backed up"), "{}", said(&out));
        assert!(
            said(&out).contains("keys are not in the backup"),
            "{}",
            said(&out)
        );
        // The copy holds the phone sealed, never in plain text (a pg_dump archive is read
        // back as SQL by pg_restore, since it is compressed).
        let plain = match app.engine {
            shanzhi_store::Engine::Sqlite => std::fs::read(&file).unwrap(),
            shanzhi_store::Engine::Postgres => {
                let tool = shanzhi::backup::find_pg_tool("pg_restore").unwrap();
                let out = std::process::Command::new(tool)
                    .args(["-f", "-"])
                    .arg(&file)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                out.stdout
            }
        };
        let has = |needle: &str| plain.windows(needle.len()).any(|w| w == needle.as_bytes());
        assert!(has("event_caller"), "the copy was not read");
        assert!(!has("13800138000"), "a plain phone in the backup");
        assert!(!said(&out).contains("13800138000"));
        let during = acked.lock().unwrap().len();
        done.store(true, Ordering::Relaxed);
        for client in clients {
            client.await.unwrap();
        }
        served.stop();
        assert!(during >= before.len());

        // A second backup to the same file is refused and leaves the first as it was.
        let first = std::fs::read(&file).unwrap();
        let again = shanzhi(
            &app.database_url,
            &keys,
            &["backup", file.to_str().unwrap()],
        )
        .await;
        assert!(!again.status.success());
        assert!(said(&again).contains("exists"), "{}", said(&again));
        assert_eq!(std::fs::read(&file).unwrap(), first);

        // Into the database in use: refused, nothing changes.
        let events = app.scalar("SELECT COUNT(*) FROM event").await;
        let busy = shanzhi(
            &app.database_url,
            &keys,
            &["restore", file.to_str().unwrap()],
        )
        .await;
        assert!(!busy.status.success());
        assert!(
            said(&busy).contains("a restore goes into a new"),
            "{}",
            said(&busy)
        );
        assert_eq!(app.scalar("SELECT COUNT(*) FROM event").await, events);

        // A file that is no backup.
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("residents.csv");
        std::fs::write(&csv, "姓名,身份证号\n").unwrap();
        let target = fresh_database(app.engine, dir.path()).await;
        let restored_keys = dir.path().join("test.pii-keys");
        let junk = shanzhi(&target, &restored_keys, &["restore", csv.to_str().unwrap()]).await;
        assert!(!junk.status.success());
        assert!(
            said(&junk).contains("not a Shanzhi backup"),
            "{}",
            said(&junk)
        );

        // Without the backup's keys: refused before anything is written (a fresh key would
        // leave the copy's phones unreadable).
        let keyless = shanzhi(
            &target,
            &restored_keys,
            &["restore", file.to_str().unwrap()],
        )
        .await;
        assert!(!keyless.status.success());
        assert!(said(&keyless).contains("--keys"), "{}", said(&keyless));
        assert!(!restored_keys.exists());

        // With a key file that is not the backup's: the check that the keys open the data
        // refuses it (on SQLite nothing is left behind).
        let wrong = dir.path().join("wrong.pii-keys");
        shanzhi_store::pii::Keyring::from_file(&wrong).unwrap();
        let target = match app.engine {
            Engine::Sqlite => {
                let w = shanzhi(
                    &target,
                    &restored_keys,
                    &[
                        "restore",
                        file.to_str().unwrap(),
                        "--keys",
                        wrong.to_str().unwrap(),
                    ],
                )
                .await;
                assert!(!w.status.success());
                assert!(said(&w).contains("do not open"), "{}", said(&w));
                assert!(!dir.path().join("test.db").exists());
                assert!(!restored_keys.exists());
                target
            }
            // pg_restore has written the copy by the time the keys are checked: the message
            // says to drop that database; the good restore goes into another one.
            Engine::Postgres => {
                let w = shanzhi(
                    &target,
                    &restored_keys,
                    &[
                        "restore",
                        file.to_str().unwrap(),
                        "--keys",
                        wrong.to_str().unwrap(),
                    ],
                )
                .await;
                assert!(!w.status.success());
                assert!(said(&w).contains("drop that database"), "{}", said(&w));
                assert!(!restored_keys.exists());
                fresh_database(app.engine, dir.path()).await
            }
        };

        // The restore proper, with the backup's key file.
        let out = shanzhi(
            &target,
            &restored_keys,
            &[
                "restore",
                file.to_str().unwrap(),
                "--keys",
                keys.to_str().unwrap(),
            ],
        )
        .await;
        assert!(out.status.success(), "{}", said(&out));
        assert!(said(&out).contains("audit chain intact"), "{}", said(&out));
        assert_eq!(
            std::fs::read(&restored_keys).unwrap(),
            std::fs::read(&keys).unwrap()
        );

        // A server on the restored copy: every report acknowledged before the backup, the
        // audit rows written before it with the chain intact, the figures equal to a recount.
        let copy = spawn_with(app.engine, target, dir, |_| {}).await;
        let ids: Vec<String> = before.iter().map(i64::to_string).collect();
        let found = copy
            .scalar(&format!(
                "SELECT COUNT(*) FROM event WHERE id IN ({})",
                ids.join(", ")
            ))
            .await;
        assert_eq!(found, before.len() as i64);
        assert!(copy.scalar("SELECT COUNT(*) FROM audit").await >= audited);
        assert!(shanzhi_store::audit::verify(&copy.state.db)
            .await
            .unwrap()
            .is_ok());
        let today = chrono::Utc::now().date_naive();
        let (from, to) = (
            today - chrono::Days::new(400),
            today + chrono::Days::new(400),
        );
        let day = |d: chrono::NaiveDate| d.format("%Y%m%d").to_string().parse::<i64>().unwrap();
        let admin = copy.user("admin", Role::Admin, Some("440000000000")).await;
        for (node, path) in [
            ("440000000000", "44"),
            ("441502001001001", "441502001001001"),
        ] {
            assert_eq!(
                counters(
                    &copy,
                    &admin,
                    node,
                    &from.format("%Y-%m-%d").to_string(),
                    &to.format("%Y-%m-%d").to_string()
                )
                .await,
                recounted(&copy, path, day(from), day(to)).await,
                "{node}"
            );
        }
        // The sealed phone opens with the restored key file.
        let sealed: Vec<u8> = shanzhi_store::with_pool!(&copy.state.db, pool => {
            sqlx::query_scalar("SELECT phone_enc FROM event_caller").fetch_one(pool).await.unwrap()
        });
        let restored = shanzhi_store::pii::Keyring::from_file(&restored_keys).unwrap();
        assert_eq!(restored.decrypt(&sealed).unwrap(), "13800138000");
    }
);
