//! A rolling upgrade (issue 18): the previous release's binary serves a database while this
//! release migrates it under it, then serves beside this release (and a second previous server
//! starts on the migrated schema, as one restarting mid-upgrade would). Reports, a retried
//! report, a whole loop of moves and a raced move go through both versions; every server lists
//! and locates what the others made, the figures equal a recount and the audit chain, written by
//! both, verifies with either binary.
//!
//! The previous binary is `SHANZHI_TEST_PREVIOUS_BIN`: `.ci/run` builds it from the commit
//! `packaging/previous-release` names.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::counters::recounted;
use crate::helpers::{
    act_at as act, engines, fresh_database, get_at as get, spawn_on, Served, IN_GRID,
};
use crate::servers::report;

/// The previous release's binary, or `None` (said once) when this run has none: `.ci/run`
/// sets the variable empty when its clone lacks the commit. Unset under CI is a mistake.
fn previous_release() -> Option<PathBuf> {
    match std::env::var("SHANZHI_TEST_PREVIOUS_BIN") {
        Ok(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            assert!(
                p.is_file(),
                "SHANZHI_TEST_PREVIOUS_BIN={}: no such file",
                p.display()
            );
            Some(p)
        }
        Ok(_) => {
            eprintln!("rolling-upgrade test skipped: .ci/run found no previous release to build");
            None
        }
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but SHANZHI_TEST_PREVIOUS_BIN is not: .ci/run builds the previous release"
            );
            eprintln!(
                "rolling-upgrade test skipped: SHANZHI_TEST_PREVIOUS_BIN is not set (.ci/run sets it)"
            );
            None
        }
    }
}

/// Runs `bin` with `args` on the database and the test's key file; answers its standard output,
/// failing the test when it fails.
fn run(bin: &Path, dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(bin)
        .args(args)
        .env("SHANZHI_PII_KEY_FILE", dir.join("test.pii-keys"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "{} {args:?}: {}\n{}",
        bin.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The highest migration applied to the database at `url`.
async fn schema_version(url: &str) -> i64 {
    let db = shanzhi_store::Db::connect(url, 1).await.unwrap();
    let v: i64 = match &db {
        shanzhi_store::Db::Sqlite { write, .. } => {
            sqlx::query_scalar("SELECT MAX(version) FROM schema_migration")
                .fetch_one(write)
                .await
        }
        shanzhi_store::Db::Postgres(p) => {
            sqlx::query_scalar("SELECT MAX(version) FROM schema_migration")
                .fetch_one(p)
                .await
        }
    }
    .unwrap();
    db.close().await;
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_previous_release_serves_beside_this_one_while_this_one_migrates_under_it() {
    let Some(previous) = previous_release() else {
        return;
    };
    let version = run(&previous, Path::new("."), &["--version"]);
    let release = include_str!("../../../../packaging/previous-release");
    let named = release
        .lines()
        .find_map(|l| l.strip_prefix("version = "))
        .map(|v| v.trim().trim_matches('"'))
        .expect("packaging/previous-release names its version");
    assert_eq!(
        version.trim(),
        format!("shanzhi {named}"),
        "{}",
        previous.display()
    );
    for engine in engines() {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database(engine, dir.path()).await;
        // The database as the previous release made it, served by that release.
        run(&previous, dir.path(), &["migrate", "--database-url", &url]);
        let before = schema_version(&url).await;
        let env = [("RUST_LOG", "info")];
        let (old, old_url) = Served::start_binary(&previous, dir.path(), &url, &env).await;
        // This release starts on it and migrates it while the previous one serves.
        let mut app = spawn_on(engine, url.clone(), dir).await;
        let after = schema_version(&url).await;
        assert!(after >= before);
        eprintln!(
            "{engine:?}: {} made the schema up to migration {before}; this release took it to {after}",
            version.trim()
        );
        let c = app.seed_loop().await;
        let (new, new_url) = Served::start(&app, &env).await;
        // A previous server started on the migrated schema (one restarting mid-upgrade).
        let (old2, old2_url) = Served::start_binary(&previous, app.dir(), &url, &env).await;
        let urls = [old_url, new_url, old2_url];
        let client = &app.client;

        // Each server locates into the tree and takes reports in the categories made after the
        // first one started (it polls its tree and reference data).
        for (k, u) in urls.iter().enumerate() {
            let t = Instant::now();
            loop {
                let r = client
                    .post(format!("{u}/api/v1/events"))
                    .bearer_auth(&c.citizen.token)
                    .header("idempotency-key", format!("first-{k}"))
                    .json(&json!({"category_id": c.garbage, "description": "垃圾堆放",
                        "lon": IN_GRID.0, "lat": IN_GRID.1}))
                    .send()
                    .await
                    .unwrap();
                if r.status() == StatusCode::CREATED {
                    break;
                }
                assert!(
                    !r.status().is_server_error() && t.elapsed() < Duration::from_secs(30),
                    "{u}: {} {}",
                    r.status(),
                    r.text().await.unwrap()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }

        // Reports on every server, and one report retried on the other version with its key:
        // answered, not made twice.
        let mut ids = Vec::new();
        for (k, u) in urls.iter().enumerate() {
            for i in 0..15 {
                let key = format!("upgrade-{k}-{i}");
                ids.push(
                    report(
                        client,
                        std::slice::from_ref(u),
                        0,
                        &c.citizen.token,
                        c.garbage,
                        &key,
                    )
                    .await,
                );
            }
        }
        for (a, b) in [(0, 1), (1, 2)] {
            let key = format!("retried-{a}-{b}");
            let first = report(client, &urls[a..=a], 0, &c.citizen.token, c.gas, &key).await;
            let again = report(client, &urls[b..=b], 0, &c.citizen.token, c.gas, &key).await;
            assert_eq!(first, again, "{key}");
            ids.push(first);
        }
        let stored = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM event WHERE reporter_id = {} AND description <> '垃圾堆放'",
                c.citizen.user_id
            ))
            .await;
        assert_eq!(stored, ids.len() as i64);

        // Every server's dispatcher list holds every report, whichever version stored it.
        for u in &urls {
            let v = get(
                client,
                u,
                "/api/v1/events?limit=500",
                Some(&c.dispatcher.token),
            )
            .await;
            let listed: Vec<i64> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap())
                .collect();
            for id in &ids {
                assert!(listed.contains(id), "{u}: {id} not listed");
            }
        }

        // The whole loop, each move on the other version than the one before.
        let gas = ids[ids.len() - 1];
        let steps: [(&str, &str, Value); 5] = [
            (&c.dispatcher.token, "accept", json!({})),
            (
                &c.dispatcher.token,
                "dispatch",
                json!({"department_id": c.zj_id}),
            ),
            (&c.zj.token, "sign", json!({})),
            (&c.zj.token, "report_result", json!({"note": "阀门已更换"})),
            (&c.worker.token, "verify", json!({"ok": true})),
        ];
        for (n, (token, action, body)) in steps.into_iter().enumerate() {
            let (status, v) = act(client, &urls[n % 3], token, gas, action, body).await;
            assert_eq!(status, StatusCode::OK, "{action} on {}: {v}", urls[n % 3]);
        }
        let mut seen = Vec::new();
        for u in &urls {
            let path = format!("/api/v1/events/{gas}");
            let v = get(client, u, &path, Some(&c.dispatcher.token)).await;
            seen.push(json!([v["state"], v["version"]]));
        }
        assert!(seen.iter().all(|s| *s == seen[0]), "{seen:?}");
        assert_ne!(seen[0][0], "reported");

        // A move raced on the two versions lands once.
        for (n, id) in ids.iter().take(4).enumerate() {
            let (a, b) = (&urls[n % 2], &urls[1 + n % 2]);
            let ((sa, _), (sb, _)) = tokio::join!(
                act(
                    client,
                    a,
                    &c.dispatcher.token,
                    *id,
                    "accept",
                    json!({"version": 1})
                ),
                act(
                    client,
                    b,
                    &c.town_dispatcher.token,
                    *id,
                    "reject",
                    json!({"version": 1, "reason": "重复"})
                ),
            );
            let mut s = vec![sa, sb];
            s.sort();
            assert_eq!(s, vec![StatusCode::OK, StatusCode::CONFLICT], "event {id}");
        }

        // The figures through every server equal a recount from the timelines.
        let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
        let today = chrono::Utc::now().date_naive();
        let (from, to) = (
            today - chrono::Days::new(400),
            today + chrono::Days::new(400),
        );
        let day = |d: chrono::NaiveDate| d.format("%Y%m%d").to_string().parse::<i64>().unwrap();
        let expected = recounted(&app, "44", day(from), day(to)).await;
        for u in &urls {
            let f = get(
                client,
                u,
                &format!(
                    "/api/v1/figures?node=440000000000&from={}&to={}",
                    from.format("%Y-%m-%d"),
                    to.format("%Y-%m-%d")
                ),
                Some(&admin.token),
            )
            .await;
            assert_eq!(f["figures"]["counters"], expected, "{u}");
        }

        // The audit chain both versions wrote verifies with either binary.
        for bin in [previous.as_path(), Path::new(env!("CARGO_BIN_EXE_shanzhi"))] {
            run(bin, app.dir(), &["audit", "verify", "--database-url", &url]);
        }
        for s in [old, new, old2] {
            s.stop();
        }
        app.stop().await;
    }
}
