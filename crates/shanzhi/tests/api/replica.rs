//! Reads from a PostgreSQL streaming replica (issue 18): lists and the map's reads go to the
//! replica, except for a session whose last write the replica has not replayed yet
//! (read-your-writes), and to the primary while the replica does not answer.
//!
//! Needs a primary (`SHANZHI_TEST_DATABASE_URL`) and its streaming replica
//! (`SHANZHI_TEST_REPLICA_URL`, the same server's URL form: `postgres://USER@HOST:PORT/postgres`)
//! on which the test may pause and resume replay (a superuser). `.ci/run` starts both
//! (initdb, then `pg_basebackup -R`). Without them the test says so and passes, except in CI
//! (`CI` set), where it fails: CI must run it.

use std::time::{Duration, Instant};

use serde_json::Value;
use shanzhi_store::{Db, Engine};

use crate::helpers::{fresh_database, spawn_with, Session, TestApp};

/// The replica's and the primary's URLs for a test database's name.
fn replica_setting() -> Option<(String, String)> {
    let primary = std::env::var("SHANZHI_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty());
    let replica = std::env::var("SHANZHI_TEST_REPLICA_URL")
        .ok()
        .filter(|v| !v.is_empty());
    match (primary, replica) {
        (Some(p), Some(r)) => Some((p, r)),
        _ => {
            let why = "SHANZHI_TEST_DATABASE_URL and SHANZHI_TEST_REPLICA_URL are not both set";
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                panic!("the replica test cannot run in CI: {why}");
            }
            eprintln!("replica test skipped: {why} (run .ci/run)");
            None
        }
    }
}

fn with_database(base: &str, name: &str) -> String {
    let root = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
    format!("{root}/{name}")
}

async fn sql(db: &Db, statement: &str) {
    let Db::Postgres(pool) = db else {
        unreachable!()
    };
    sqlx::query(statement).execute(pool).await.unwrap();
}

/// Resumes the shared replica's replay when dropped (a test that paused it and then failed).
struct Paused(String);

impl Drop for Paused {
    fn drop(&mut self) {
        let url = self.0.clone();
        // Dropped inside the test's runtime: a thread of its own with a runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(db) = Db::connect(&url, 1).await {
                    sql(&db, "SELECT pg_wal_replay_resume()").await;
                    db.close().await;
                }
            });
        })
        .join();
    }
}

/// Ids of the events `who` lists.
async fn listed(app: &TestApp, who: &Session) -> Vec<i64> {
    let v: Value = app.get_json("/api/v1/events?limit=500", who).await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_read_from_the_replica_and_a_session_that_wrote_reads_its_write() {
    let Some((_, replica_base)) = replica_setting() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(Engine::Postgres, dir.path()).await;
    let name = url.rsplit('/').next().unwrap().to_owned();
    let replica_url = with_database(&replica_base, &name);
    let setting = replica_url.clone();
    let app = spawn_with(Engine::Postgres, url, dir, move |c| {
        c.replica_url = Some(setting);
    })
    .await;
    let c = app.seed_loop().await;
    let first = app.report(&c.citizen, c.garbage).await;

    // The replica catches up with everything written so far (a fixed target: the other tests
    // keep writing to the same server).
    let replica = Db::connect_replica(&replica_url, 2).await.unwrap();
    let target = app.state.db.wal_position().await.unwrap().unwrap();
    let started = Instant::now();
    while !matches!(replica.wal_position().await, Ok(Some(r)) if r >= target) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "replica never caught up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(listed(&app, &c.dispatcher).await.contains(&first));

    // Replay stops: the replica keeps what it had. The replica is shared with the other tests
    // running now: replay resumes when this guard goes, also if an assertion below fails.
    let control = Db::connect(&replica_base, 2).await.unwrap();
    sql(&control, "SELECT pg_wal_replay_pause()").await;
    let paused = Paused(replica_base.clone());
    let second = app.report(&c.citizen2, c.garbage).await;
    // The session that wrote reads its write (from the primary)…
    assert!(listed(&app, &c.citizen2).await.contains(&second));
    // …while a dispatcher who wrote nothing reads the replica, which has not seen it.
    let theirs = listed(&app, &c.dispatcher).await;
    assert!(theirs.contains(&first));
    assert!(
        !theirs.contains(&second),
        "the dispatcher's list came from the primary"
    );
    // A move by the dispatcher: from now on their reads wait for the replica too.
    app.act_ok(
        &c.dispatcher,
        first,
        "accept",
        serde_json::json!({"version": 1}),
    )
    .await;
    assert!(listed(&app, &c.dispatcher).await.contains(&second));

    // Replay resumes: the town's dispatcher, who wrote nothing, sees it from the replica.
    sql(&control, "SELECT pg_wal_replay_resume()").await;
    std::mem::forget(paused);
    let started = Instant::now();
    while !listed(&app, &c.town_dispatcher).await.contains(&second) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "replay resumed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    control.close().await;
    replica.close().await;
    let mut app = app;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_replica_down_reads_go_to_the_primary() {
    if replica_setting().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(Engine::Postgres, dir.path()).await;
    // Nothing listens on port 1.
    let mut app = spawn_with(Engine::Postgres, url, dir, |c| {
        c.replica_url = Some("postgres://postgres@127.0.0.1:1/shanzhi".into());
    })
    .await;
    let c = app.seed_loop().await;
    let id = app.report(&c.citizen, c.garbage).await;
    assert!(listed(&app, &c.dispatcher).await.contains(&id));
    let r = app
        .get(
            "/api/v1/map/events?bbox=115.0,22.0,116.0,23.5",
            Some(&c.dispatcher),
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    app.stop().await;
}
