//! The counters behind the figures under load and after a crash (issue 17). A report or a move
//! journals its counter deltas (`stat_journal`) in its own transaction and a fold adds them to
//! the counters later; every read of the figures folds first, so the figures equal a recount
//! from the timelines at any moment, also after the server is killed mid-write.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi::event::Recount;
use shanzhi_domain::event::figures::Figures;
use shanzhi_domain::user::Role;

use crate::helpers::{Served, Session, TestApp, IN_GRID};
use crate::house::exec;

/// The figures' counters of a node over days, as the dashboard reads them.
pub(crate) async fn counters(
    app: &TestApp,
    admin: &Session,
    node: &str,
    from: &str,
    to: &str,
) -> Value {
    let f: Value = app
        .get(
            &format!("/api/v1/figures?node={node}&from={from}&to={to}"),
            Some(admin),
        )
        .await
        .json()
        .await
        .unwrap();
    f["figures"]["counters"].clone()
}

/// The counters a recount from every timeline line gives, as the figures write them.
pub(crate) async fn recounted(app: &TestApp, path: &str, from: i64, to: i64) -> Value {
    let mut recount = Recount::default();
    for (log, ev) in shanzhi_store::event::logs_under(&app.state.db, "44")
        .await
        .unwrap()
    {
        recount.add(&log, &ev).unwrap();
    }
    serde_json::to_value(Figures::from_counters(
        recount.counters(path, from, to, "all", 0),
    ))
    .unwrap()["counters"]
        .clone()
}

db_test!(
    figures_equal_a_recount_after_the_server_is_killed_while_reports_pour_in,
    |app| {
        let c = app.seed_loop().await;
        // The real binary on the test's database, fed by 16 clients until it is killed.
        let (served, url) = Served::start(&app, &[]).await;
        let acked: Arc<Mutex<Vec<i64>>> = Arc::default();
        let mut clients = Vec::new();
        for k in 0..16 {
            let (client, url, token, acked) = (
                app.client.clone(),
                url.clone(),
                c.citizen.token.clone(),
                acked.clone(),
            );
            let category = c.garbage;
            clients.push(tokio::spawn(async move {
                for i in 0.. {
                    let sent = client
                        .post(format!("{url}/api/v1/events"))
                        .bearer_auth(&token)
                        .header("idempotency-key", format!("crash-{k}-{i}"))
                        .json(&json!({"category_id": category, "description": "路灯不亮",
                            "lon": IN_GRID.0, "lat": IN_GRID.1}))
                        .send()
                        .await;
                    let Ok(r) = sent else { break };
                    if r.status() != StatusCode::CREATED {
                        break;
                    }
                    let Ok(body) = r.json::<Value>().await else {
                        break;
                    };
                    acked.lock().unwrap().push(body["id"].as_i64().unwrap());
                }
            }));
        }
        while acked.lock().unwrap().len() < 200 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        served.kill();
        for client in clients {
            client.await.unwrap();
        }
        let acked = acked.lock().unwrap().clone();
        // Every acknowledged report is stored.
        let ids: Vec<String> = acked.iter().map(i64::to_string).collect();
        let stored = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM event WHERE id IN ({})",
                ids.join(", ")
            ))
            .await;
        assert_eq!(stored, acked.len() as i64);
        // What the dead server had not folded is still journaled; the next read counts it. The
        // real binary stamps reports with today's date: a range of days around it.
        let today = chrono::Utc::now().date_naive();
        let day = |d: chrono::NaiveDate| {
            (
                d.format("%Y-%m-%d").to_string(),
                d.format("%Y%m%d").to_string().parse::<i64>().unwrap(),
            )
        };
        let (from, fd) = day(today - chrono::Days::new(400));
        let (to, td) = day(today + chrono::Days::new(400));
        let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
        for (node, path) in [
            ("440000000000", "44"),
            ("441502001001001", "441502001001001"),
        ] {
            assert_eq!(
                counters(&app, &admin, node, &from, &to).await,
                recounted(&app, path, fd, td).await,
                "{node}"
            );
        }
        assert!(
            counters(&app, &admin, "441502001001001", &from, &to).await["reported"]
                .as_i64()
                .unwrap()
                >= acked.len() as i64
        );
        assert_eq!(app.scalar("SELECT COUNT(*) FROM stat_journal").await, 0);
    }
);

db_test!(
    a_delta_left_in_the_journal_is_counted_by_the_next_read_and_only_once,
    |app| {
        let c = app.seed_loop().await;
        app.set_local(2026, 12, 1, 9, 0);
        app.report(&c.citizen, c.garbage).await;
        // A delta a crashed server left behind: one more report in the grid that day.
        exec(
            &app.state.db,
            &format!(
                "INSERT INTO stat_journal (grid_code, day, category_id, reported) \
                 VALUES ('441502001001001', 20261201, {}, 1)",
                c.garbage
            ),
        )
        .await;
        let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
        for node in ["441502001001001", "441502001000", "440000000000"] {
            let day = counters(&app, &admin, node, "2026-12-01", "2026-12-01").await;
            assert_eq!(day["reported"], 2, "{node}");
            // Read again: folded once, not twice; the month and the year have it too.
            let year = counters(&app, &admin, node, "2026-01-01", "2026-12-31").await;
            assert_eq!(year["reported"], 2, "{node}");
        }
        assert_eq!(app.scalar("SELECT COUNT(*) FROM stat_journal").await, 0);
    }
);

db_test!(
    a_servers_own_fold_leaves_the_journal_to_another_folding_and_a_read_still_waits_for_it,
    |app| {
        let c = app.seed_loop().await;
        app.set_local(2026, 12, 1, 9, 0);
        app.report(&c.citizen, c.garbage).await;
        let db = &app.state.db;
        if let shanzhi_store::Db::Postgres(pool) = db {
            // Another server folding: it holds the fold lock.
            let mut other = pool.begin().await.unwrap();
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(shanzhi_store::event::FOLD_LOCK)
                .execute(&mut *other)
                .await
                .unwrap();
            // A delta journaled meanwhile (the report's own may have been folded already by the
            // server's once-a-second fold).
            exec(
                db,
                &format!(
                    "INSERT INTO stat_journal (grid_code, day, category_id, reported) \
                     VALUES ('441502001001001', 20261201, {}, 1)",
                    c.garbage
                ),
            )
            .await;
            // This server's own fold does not queue behind it and leaves the journal as it is.
            let t = std::time::Instant::now();
            assert_eq!(
                shanzhi_store::event::fold_stats_behind(db).await.unwrap(),
                0
            );
            assert!(t.elapsed() < std::time::Duration::from_secs(2));
            assert!(app.scalar("SELECT COUNT(*) FROM stat_journal").await > 0);
            // A read folds first: it waits for the other fold to end, then folds.
            let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
            let read = counters(&app, &admin, "441502001001001", "2026-12-01", "2026-12-01");
            let release = async {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                other.rollback().await.unwrap();
            };
            let (day, ()) = tokio::join!(read, release);
            assert_eq!(day["reported"], 2);
            assert_eq!(app.scalar("SELECT COUNT(*) FROM stat_journal").await, 0);
        }
        // SQLite has one writer and no fold lock: nothing to leave to another fold there.
    }
);

db_test!(
    figures_of_settled_days_follow_an_order_located_days_later,
    |app| {
        // The sums of days before today are kept; locating an order after the fact moves its
        // counts into the village's and the grid's past days, and the figures show it at once.
        use crate::open311::{created_id, spec_example, without, COUNTY};
        app.seed_loop().await;
        let county = app.user("cdisp", Role::Dispatcher, Some(COUNTY)).await;
        app.set_local(2026, 3, 2, 10, 0);
        let client = app.open311_client("address-app", 60).await;
        let body = without(
            &spec_example(&client.key, "exposed_garbage"),
            &["lat", "long"],
        );
        let id = created_id(app.open311_form("requests.json", body).await).await;
        app.act_ok(&county, id, "accept", json!({})).await;

        app.set_local(2026, 3, 5, 10, 0);
        let (village, grid) = ("441502001001", "441502001001001");
        for node in [village, grid, village] {
            let f = counters(&app, &county, node, "2026-03-01", "2026-03-05").await;
            assert_eq!(f["reported"], 0, "{node} before: {f}");
        }
        let r = app
            .post_json(
                &format!("/api/v1/events/{id}/locate"),
                Some(&county),
                json!({"lon": IN_GRID.0, "lat": IN_GRID.1}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        for node in [village, grid] {
            let f = counters(&app, &county, node, "2026-03-01", "2026-03-05").await;
            assert_eq!(
                (f["reported"].as_i64(), f["accepted"].as_i64()),
                (Some(1), Some(1)),
                "{node} after: {f}"
            );
            assert_eq!(f, recounted(&app, node, 20260301, 20260305).await, "{node}");
        }
    }
);

db_test!(a_move_counted_on_a_settled_day_reaches_the_figures, |app| {
    // A server whose clock runs behind (or a delta folded after midnight) counts on a day
    // another reader has settled already: the figures still show it.
    let c = app.seed_loop().await;
    let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
    app.set_local(2026, 3, 5, 10, 0);
    app.report(&c.citizen, c.garbage).await;
    let (from, to) = ("2026-03-01", "2026-03-05");
    for _ in 0..2 {
        let f = counters(&app, &admin, "441502001001", from, to).await;
        assert_eq!(f["reported"], 1, "{f}");
    }
    app.set_local(2026, 3, 3, 10, 0);
    app.report(&c.citizen, c.garbage).await;
    app.set_local(2026, 3, 5, 11, 0);
    let f = counters(&app, &admin, "441502001001", from, to).await;
    assert_eq!(f["reported"], 2, "{f}");
    assert_eq!(f, recounted(&app, "441502001001", 20260301, 20260305).await);
});

// A demo history of several parts, each generated a part ahead of the writer on a thread of its
// own: every part is written once, in order, and the counters the parts add up equal a recount
// from the timelines, at the town and in each village.
db_test!(a_history_written_in_parts_equals_a_recount, |app| {
    let mut city =
        tokio::task::spawn_blocking(|| shanzhi::demo::generate(shanzhi::demo::Scale::Town, 5))
            .await
            .unwrap()
            .unwrap();
    // The events are what is tested: a small population keeps the rest of the demo quick.
    city.residents = 200;
    let now = app.state.clock.now_ms();
    shanzhi::demo::write_in_parts(&app.state.db, &app.state.pii, &city, now, 2_500, 1_000)
        .await
        .unwrap();
    let loads: Vec<String> = shanzhi_store::with_pool!(&app.state.db, pool => {
        sqlx::query_scalar("SELECT after_json FROM audit WHERE action = 'demo.history' AND entity = 'event' ORDER BY seq")
            .fetch_all(pool).await.unwrap()
    });
    let events: Vec<i64> = loads
        .iter()
        .map(|j| {
            serde_json::from_str::<Value>(j).unwrap()["events"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(events, [1_000, 1_000, 500]);
    let in_history = app
        .scalar("SELECT COUNT(*) FROM event WHERE id <= 2500")
        .await;
    assert_eq!(in_history, 2_500);
    let today = chrono::DateTime::from_timestamp_millis(now)
        .unwrap()
        .date_naive();
    let day = |d: chrono::NaiveDate| {
        (
            d.format("%Y-%m-%d").to_string(),
            d.format("%Y%m%d").to_string().parse::<i64>().unwrap(),
        )
    };
    let (from, fd) = day(today - chrono::Days::new(400));
    let (to, td) = day(today + chrono::Days::new(400));
    // The demo's own administrator, whose scope is the town.
    let admin = app.login_with("admin", shanzhi::demo::DEMO_PASSWORD).await;
    let villages: Vec<&shanzhi_domain::tree::NodeCode> = city
        .nodes
        .iter()
        .filter(|n| n.parent.as_ref() == Some(&city.root))
        .map(|n| &n.code)
        .collect();
    assert!(villages.len() > 5, "{villages:?}");
    // One recount from every timeline line, read for each node.
    let mut recount = Recount::default();
    for (log, ev) in shanzhi_store::event::logs_under(&app.state.db, "44")
        .await
        .unwrap()
    {
        recount.add(&log, &ev).unwrap();
    }
    for node in std::iter::once(&city.root).chain(villages) {
        let want = serde_json::to_value(Figures::from_counters(recount.counters(
            node.path(),
            fd,
            td,
            "all",
            0,
        )))
        .unwrap()["counters"]
            .clone();
        let got = counters(&app, &admin, node.as_str(), &from, &to).await;
        assert_eq!(got, want, "{}", node.as_str());
        if *node == city.root {
            assert_eq!(want["reported"], 2_500, "{want}");
        }
    }
});
