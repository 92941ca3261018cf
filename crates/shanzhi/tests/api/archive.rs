//! `shanzhi archive --before YYYY-MM FILE` (issue 18), run as the real binary: months of events
//! that are over and done with leave the database for a file, with every row that refers to
//! them; a month with an open order, or one a report of a later month was merged into, stays.
//! The figures read as before and equal a recount of what is left plus what the file holds.
//! SQLite keeps one event table and refuses.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi::event::Recount;
use shanzhi_domain::event::figures::Figures;
use shanzhi_domain::user::Role;
use shanzhi_store::{Db, Engine};

use crate::backup::{said, shanzhi};
use crate::counters::counters;
use crate::helpers::{fresh_database, Cast, Served, TestApp, IN_GRID, TINY_PNG};

/// New reports are numbered `months` months on (as the quarter-hour job does when a month
/// comes, China time); answers that month as YYYYMM.
async fn months_on(pool: &sqlx::PgPool, months: i64) -> i64 {
    let month = format!(
        "date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') + interval '{months} months'"
    );
    sqlx::query(&format!(
        "SELECT shanzhi_event_partitions(({month} + interval '1 day') AT TIME ZONE 'Asia/Shanghai')"
    ))
    .execute(pool)
    .await
    .unwrap();
    let m: String = sqlx::query_scalar(&format!("SELECT to_char({month}, 'YYYYMM')"))
        .fetch_one(pool)
        .await
        .unwrap();
    m.parse().unwrap()
}

fn month_after(yyyymm: i64) -> i64 {
    if yyyymm % 100 == 12 {
        yyyymm + 89
    } else {
        yyyymm + 1
    }
}

fn dashed(yyyymm: i64) -> String {
    format!("{}-{:02}", yyyymm / 100, yyyymm % 100)
}

/// The counters of every event's timeline lines in `db` (its `event` and `event_log`).
async fn recount_into(recount: &mut Recount, db: &Db) {
    for (log, ev) in shanzhi_store::event::logs_under(db, "44").await.unwrap() {
        recount.add(&log, &ev).unwrap();
    }
}

db_test!(
    months_that_are_over_leave_for_a_file_and_the_figures_stay,
    |app| {
        let c = app.seed_loop().await;
        if let Db::Postgres(pool) = &app.state.db {
            archived(&app, &c, pool).await;
        } else {
            let keys = app.dir().join("test.pii-keys");
            let file = app.dir().join("old.archive");
            let out = shanzhi(
                &app.database_url,
                &keys,
                &["archive", "--before", "2026-01", file.to_str().unwrap()],
            )
            .await;
            assert!(!out.status.success());
            assert!(said(&out).contains("PostgreSQL only"), "{}", said(&out));
            assert!(!file.exists());
        }
    }
);

async fn archived(app: &TestApp, c: &Cast, pool: &sqlx::PgPool) {
    let keys = app.dir().join("test.pii-keys");
    let exec = |sql: String| async move {
        sqlx::raw_sql(&sql).execute(pool).await.unwrap();
    };
    // This month: a closed and rated order, a report merged into it, a hotline call with the
    // caller's phone (sealed), closed too; an order stored before the partitioning (in the
    // first partition).
    let kept_open = app.report(&c.citizen, c.garbage).await;
    let a = app.report(&c.citizen, c.garbage).await;
    let photo: Value = app
        .client
        .post(format!("{}/api/v1/photos", app.url))
        .bearer_auth(&c.zj.token)
        .body(TINY_PNG)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.close_order(c, a, json!([photo["hash"]])).await;
    app.act_ok(&c.citizen, a, "rate", json!({"score": 5, "fixed": true}))
        .await;
    let b = app.report(&c.citizen, c.garbage).await;
    app.act_ok(&c.dispatcher, b, "merge", json!({"into": a}))
        .await;
    let call = app.hotline_call(c, "archive-call", "13800138000").await;
    app.close_order(c, call, json!([])).await;
    exec(format!(
        "CREATE TABLE old_one AS SELECT * FROM event WHERE id = {a}; \
         UPDATE old_one SET id = 7, merged_into = NULL; INSERT INTO event SELECT * FROM old_one; \
         DROP TABLE old_one"
    ))
    .await;
    // The open report of this month is closed only now: every order of the month is closed.
    app.close_order(c, kept_open, json!([])).await;

    // Next month: a closed order, and one still open; the month after: a report merged into
    // next month's closed order.
    let next = months_on(pool, 1).await;
    let f = app.report(&c.citizen, c.garbage).await;
    app.close_order(c, f, json!([])).await;
    let open = app.report(&c.citizen, c.garbage).await;
    let later = months_on(pool, 2).await;
    let g = app.report(&c.citizen, c.garbage).await;
    app.act_ok(&c.dispatcher, g, "merge", json!({"into": f}))
        .await;
    assert!(
        f >= next * 100_000_000 && g >= later * 100_000_000,
        "{f} {g}"
    );

    // The figures before, equal to a recount of every timeline.
    let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
    let (from, to) = ("2020-01-01", "2029-12-31");
    let nodes = [
        ("440000000000", "44"),
        ("441502001001001", "441502001001001"),
    ];
    let mut before = Vec::new();
    let mut all = Recount::default();
    recount_into(&mut all, &app.state.db).await;
    for (node, path) in nodes {
        let f = counters(app, &admin, node, from, to).await;
        let r = serde_json::to_value(Figures::from_counters(
            all.counters(path, 20200101, 20291231, "all", 0),
        ))
        .unwrap()["counters"]
            .clone();
        assert_eq!(f, r, "{node}");
        before.push(f);
    }
    let this = a / 100_000_000;
    let referring = |id: i64| {
        format!(
            "SELECT (SELECT COUNT(*) FROM event_log WHERE event_id = {id}) \
             + (SELECT COUNT(*) FROM idempotency WHERE event_id = {id}) \
             + (SELECT COUNT(*) FROM event_caller WHERE event_id = {id}) \
             + (SELECT COUNT(*) FROM event_photo WHERE event_id = {id}) \
             + (SELECT COUNT(*) FROM notification WHERE event_id = {id})"
        )
    };
    assert!(app.scalar(&referring(call)).await >= 3);
    assert!(app.scalar(&referring(a)).await >= 7);

    let notices_of_a = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM notification WHERE event_id = {a}"
        ))
        .await;
    assert!(notices_of_a > 0);
    let unlinked = "SELECT COUNT(*) FROM notification WHERE event_id IS NULL";
    let unlinked_before = app.scalar(unlinked).await;

    // A month not over yet, a month that is no month, and a phone still in plain text (as a
    // release before sealing left it): refused, nothing changes.
    let file = app.dir().join("months.archive");
    let file_arg = file.to_str().unwrap();
    let events = app.scalar("SELECT COUNT(*) FROM event").await;
    exec(format!(
        "UPDATE event_caller SET phone = '13900139000' WHERE event_id = {call}"
    ))
    .await;
    for (month, says) in [
        (dashed(month_after(later)), "only months that are over"),
        ("2026-13".to_owned(), "give a month as YYYY-MM"),
        (dashed(later), "phones are still kept in plain text"),
    ] {
        let out = shanzhi(
            &app.database_url,
            &keys,
            &["archive", "--before", &month, file_arg],
        )
        .await;
        assert!(!out.status.success());
        assert!(said(&out).contains(says), "{}", said(&out));
        assert!(!said(&out).contains("13900139000"));
    }
    exec(format!(
        "UPDATE event_caller SET phone = '' WHERE event_id = {call}"
    ))
    .await;
    assert!(!file.exists());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM event").await, events);

    // A run that moved the first partition but could not write its file leaves it waiting in
    // the archive schema; the next run writes it, and moves nothing else.
    let moved = shanzhi_store::partition::archive_months(
        &app.state.db,
        shanzhi_store::partition::month_base(this),
        chrono::Utc::now().timestamp_millis(),
    )
    .await
    .unwrap();
    assert_eq!(moved.len(), 1);
    assert!(moved[0].archived && moved[0].month == "legacy", "{moved:?}");
    let first = app.dir().join("legacy.archive");
    let out = shanzhi(
        &app.database_url,
        &keys,
        &[
            "archive",
            "--before",
            &dashed(later),
            first.to_str().unwrap(),
        ],
    )
    .await;
    let told = said(&out);
    assert!(out.status.success(), "{told}");
    assert!(
        told.contains("the months legacy wait in the schema shanzhi_archive"),
        "{told}"
    );
    assert!(first.exists());
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM event WHERE id = {a}"))
            .await,
        1
    );

    // Everything before the month after next, while a real server takes reports: this month
    // goes; next month stays (an open order, a later report merged into it). The server's
    // reports wait for the moment the event tables are locked, and none fails.
    let (served, url) = Served::start(app, &[]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for k in 0..4 {
        let (client, url, token, stop) = (
            app.client.clone(),
            url.clone(),
            c.citizen.token.clone(),
            stop.clone(),
        );
        let category = c.garbage;
        clients.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0.. {
                if stop.load(Ordering::Relaxed) && i > 3 {
                    break;
                }
                let r = client
                    .post(format!("{url}/api/v1/events"))
                    .bearer_auth(&token)
                    .header("idempotency-key", format!("archive-{k}-{i}"))
                    .json(&json!({"category_id": category, "description": "路灯不亮",
                        "lon": IN_GRID.0, "lat": IN_GRID.1}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let body: Value = r.json().await.unwrap();
                if status != StatusCode::CREATED {
                    return Err(format!("{status}: {body}"));
                }
                acked.push(body["id"].as_i64().unwrap());
            }
            Ok(acked)
        }));
    }
    let out = shanzhi(
        &app.database_url,
        &keys,
        &["archive", "--before", &dashed(later), file_arg],
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for client in clients {
        match client.await.unwrap() {
            Ok(ids) => acked.extend(ids),
            Err(e) => panic!(
                "a report failed while the archive ran: {e}\n{}",
                served.log()
            ),
        }
    }
    served.stop();
    let told = said(&out);
    assert!(out.status.success(), "{told}");
    assert!(!told.contains("legacy"), "{told}");
    let line = |month: i64| {
        told.lines()
            .find(|l| l.starts_with(&format!("{month}: ")))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line(this).starts_with(&format!("{this}: 4 events, ")),
        "{told}"
    );
    assert!(line(this).contains(": archived (with "), "{told}");
    assert_eq!(
        line(next),
        format!(
            "{next}: 2 events, {} timeline lines: kept, 1 order is still open; 1 report of a \
             month that stays merged into its orders",
            app.scalar(&format!(
                "SELECT COUNT(*) FROM event_log WHERE event_id IN ({f}, {open})"
            ))
            .await
        ),
        "{told}"
    );
    assert!(!told.contains("13800138000"));
    assert!(file.exists());
    let ids: Vec<String> = acked.iter().map(i64::to_string).collect();
    assert!(acked.len() >= 16);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM event WHERE id IN ({})",
            ids.join(", ")
        ))
        .await,
        acked.len() as i64
    );

    // Gone from the event tables with every row that needs them; the notices live on without
    // their link, which their copies keep; merges stay as they were.
    for id in [7, a, b, call, kept_open] {
        assert_eq!(
            app.scalar(&format!("SELECT COUNT(*) FROM event WHERE id = {id}"))
                .await,
            0,
            "{id}"
        );
        assert_eq!(app.scalar(&referring(id)).await, 0, "{id}");
    }
    assert!(app.scalar(unlinked).await >= unlinked_before + notices_of_a);
    for id in [f, open, g] {
        assert_eq!(
            app.scalar(&format!("SELECT COUNT(*) FROM event WHERE id = {id}"))
                .await,
            1
        );
    }
    assert_eq!(
        app.scalar(&format!("SELECT merged_into FROM event WHERE id = {g}"))
            .await,
        f
    );
    let r = app
        .get(&format!("/api/v1/events/{a}"), Some(&c.dispatcher))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    app.act_ok(&c.dispatcher, open, "accept", json!({})).await;
    let fresh = app.report(&c.citizen, c.garbage).await;
    assert!(fresh >= later * 100_000_000);

    // The ledger knows both files.
    for (month, file) in [("legacy", &first), (&this.to_string(), &file)] {
        let (path, sha): (String, String) = sqlx::query_as(&format!(
            "SELECT file, sha256 FROM event_archive WHERE month = '{month}'"
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        use sha2::{Digest, Sha256};
        assert_eq!(
            sha,
            hex::encode(Sha256::digest(std::fs::read(file).unwrap()))
        );
        assert_eq!(
            path,
            std::fs::canonicalize(file).unwrap().display().to_string()
        );
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'shanzhi_archive'")
            .await,
        0
    );

    // The file: it holds the month with its pictures and the caller's phone sealed, and a
    // recount of what is left plus what it holds equals the figures.
    let tool = shanzhi::backup::find_pg_tool("pg_restore").unwrap();
    let sql = std::process::Command::new(&tool)
        .args(["-f", "-"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(sql.status.success());
    let sql = String::from_utf8_lossy(&sql.stdout);
    assert!(sql.contains("event_caller_"), "the file was not read");
    assert!(!sql.contains("13800138000"), "a plain phone in the archive");
    let dir = tempfile::tempdir().unwrap();
    let copy = fresh_database(Engine::Postgres, dir.path()).await;
    let out = std::process::Command::new(&tool)
        .args(["--no-owner", "--dbname", &copy])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = Db::connect(&copy, 2).await.unwrap();
    let Db::Postgres(copy_pool) = &read else {
        unreachable!()
    };
    let one = |sql: String| async move {
        sqlx::query_scalar::<_, i64>(&sql)
            .fetch_one(copy_pool)
            .await
            .unwrap()
    };
    assert_eq!(
        one(format!(
            "SELECT COUNT(*) FROM shanzhi_archive.photo_{this} p \
             JOIN shanzhi_archive.event_photo_{this} e ON e.hash = p.hash WHERE e.event_id = {a}"
        ))
        .await,
        1
    );
    assert_eq!(
        one(format!(
            "SELECT merged_into FROM shanzhi_archive.event_{this} WHERE id = {b}"
        ))
        .await,
        a
    );
    assert_eq!(
        one(format!(
            "SELECT COUNT(*) FROM shanzhi_archive.notification_{this} WHERE event_id = {a}"
        ))
        .await,
        notices_of_a
    );
    for view in ["event", "event_log"] {
        sqlx::query(&format!(
            "CREATE VIEW public.{view} AS SELECT * FROM shanzhi_archive.{view}_{this}"
        ))
        .execute(copy_pool)
        .await
        .unwrap();
    }
    assert_eq!(one("SELECT COUNT(*) FROM event".to_owned()).await, 4);
    let mut split = Recount::default();
    recount_into(&mut split, &app.state.db).await;
    recount_into(&mut split, &read).await;
    read.close().await;
    for ((node, path), was) in nodes.iter().zip(&before) {
        let now = counters(app, &admin, node, from, to).await;
        let r = serde_json::to_value(Figures::from_counters(
            split.counters(path, 20200101, 20291231, "all", 0),
        ))
        .unwrap()["counters"]
            .clone();
        assert_eq!(now, r, "{node}");
        // Unchanged but for what came since: the server's reports, the new one and an accept.
        assert_eq!(now["closed"], was["closed"], "{node}");
        assert_eq!(now["rated"], was["rated"], "{node}");
        assert_eq!(
            now["reported"].as_i64().unwrap(),
            was["reported"].as_i64().unwrap() + acked.len() as i64 + 1,
            "{node}"
        );
    }

    // Again: nothing left to take; next month still stays, no file is made.
    let again = app.dir().join("again.archive");
    let out = shanzhi(
        &app.database_url,
        &keys,
        &[
            "archive",
            "--before",
            &dashed(later),
            again.to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("no file made"), "{}", said(&out));
    assert!(!again.exists());

    // The audit chain holds the archive's steps and still verifies.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit WHERE action LIKE 'event.archive%'")
            .await,
        4
    );
    let out = shanzhi(&app.database_url, &keys, &["audit", "verify"]).await;
    assert!(out.status.success(), "{}", said(&out));
}
