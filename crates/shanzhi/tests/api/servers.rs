//! Three real servers on one database (issue 18): reports and moves go to all three, one server
//! is killed and then the one holding the timed jobs; nothing acknowledged is lost or doubled,
//! the jobs move to a live server within the lease, a move raced on two servers lands once, a
//! grid made on one server is located by the others, and the figures equal a recount.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::counters::recounted;
use crate::helpers::{act_at, rect, Served, IN_GRID};

/// Files one report under `key`, starting at server `first` and moving on to the next one
/// while a server does not answer (the same key each time: a report a dying server stored but
/// never acknowledged is answered, not made twice). Answers the event's id.
pub(crate) async fn report(
    client: &reqwest::Client,
    urls: &[String],
    first: usize,
    token: &str,
    category: i64,
    key: &str,
) -> i64 {
    for attempt in 0..60 {
        let url = &urls[(first + attempt) % urls.len()];
        let sent = client
            .post(format!("{url}/api/v1/events"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .timeout(Duration::from_secs(10))
            .json(&json!({"category_id": category, "description": "路灯不亮",
                "lon": IN_GRID.0, "lat": IN_GRID.1}))
            .send()
            .await;
        if let Ok(r) = sent {
            if r.status() == StatusCode::CREATED || r.status() == StatusCode::OK {
                if let Ok(v) = r.json::<Value>().await {
                    return v["id"].as_i64().unwrap();
                }
            } else {
                assert!(r.status().is_server_error(), "{key}: {}", r.status());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no server took the report {key}");
}

/// Who holds the timed jobs' lease (its holder id starts with the server's process id).
async fn jobs_holder(app: &crate::helpers::TestApp) -> Option<String> {
    shanzhi_store::lease::holder(&app.state.db, "timed-jobs")
        .await
        .unwrap()
        .map(|(h, _)| h)
}

db_test!(
    three_servers_share_reports_moves_jobs_and_the_tree_and_lose_nothing_when_two_die,
    |app| {
        let c = app.seed_loop().await;
        // The in-process test server runs on a test clock weeks behind the real servers': its
        // lease looks long run out to them, so the three real servers hold the jobs.
        // With a streaming replica (PostgreSQL, `SHANZHI_TEST_REPLICA_URL`), the servers read
        // their lists and the map from it.
        let replica = match (app.engine, std::env::var("SHANZHI_TEST_REPLICA_URL")) {
            (shanzhi_store::Engine::Postgres, Ok(base)) if !base.is_empty() => {
                let name = app.database_url.rsplit('/').next().unwrap().to_owned();
                let root = base
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .unwrap_or(&base)
                    .to_owned();
                Some(format!("{root}/{name}"))
            }
            _ => None,
        };
        let mut env = vec![
            ("SHANZHI_TREE_POLL_SECONDS", "1"),
            ("SHANZHI_JOB_LEASE_SECONDS", "3"),
            ("RUST_LOG", "info"),
        ];
        if let Some(r) = &replica {
            env.push(("SHANZHI_REPLICA_URL", r.as_str()));
        }
        let mut servers = Vec::new();
        let mut urls = Vec::new();
        for _ in 0..3 {
            let (s, url) = Served::start(&app, &env[..]).await;
            servers.push(Some(s));
            urls.push(url);
        }
        let pid_of = |h: &str| -> u32 {
            h.strip_prefix("pid")
                .and_then(|r| r.split('-').next())
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("holder id {h}"))
        };
        let pids: Vec<u32> = servers.iter().map(|s| s.as_ref().unwrap().pid()).collect();
        let started = Instant::now();
        let holder_ix = loop {
            if let Some(h) = jobs_holder(&app).await {
                if let Some(ix) = pids.iter().position(|&p| p == pid_of(&h)) {
                    break ix;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nobody took the jobs"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };

        // Twelve clients, four per server, report until told to stop.
        let acked: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
        let done = Arc::new(AtomicBool::new(false));
        let mut clients = Vec::new();
        for k in 0..12 {
            let (client, urls, token, acked, done) = (
                app.client.clone(),
                urls.clone(),
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
                    let key = format!("multi-{k}-{i}");
                    let id = report(&client, &urls, k % 3, &token, category, &key).await;
                    acked.lock().unwrap().push((key, id));
                }
            }));
        }
        let until = |n: usize| {
            let acked = acked.clone();
            async move {
                let t = Instant::now();
                while acked.lock().unwrap().len() < n {
                    assert!(t.elapsed() < Duration::from_secs(60), "{n} reports");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        until(150).await;
        // A server that does not hold the jobs dies.
        let victim = (holder_ix + 1) % 3;
        servers[victim].take().unwrap().kill();
        until(300).await;
        // Then the one that does: the jobs move to the last one within the lease and a tick.
        servers[holder_ix].take().unwrap().kill();
        let killed_at = Instant::now();
        let last = 3 - victim - holder_ix;
        loop {
            if let Some(h) = jobs_holder(&app).await {
                if pid_of(&h) == pids[last] {
                    break;
                }
            }
            assert!(
                killed_at.elapsed() < Duration::from_secs(10),
                "the jobs did not move to the live server"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        until(400).await;
        done.store(true, Ordering::Relaxed);
        for client in clients {
            client.await.unwrap();
        }

        // Every acknowledged report is stored once: one event per key, and no event the
        // clients were not told of.
        let acked = acked.lock().unwrap().clone();
        let ids: BTreeSet<i64> = acked.iter().map(|(_, id)| *id).collect();
        assert_eq!(ids.len(), acked.len(), "a key answered two events");
        let stored = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM event WHERE reporter_id = {}",
                c.citizen.user_id
            ))
            .await;
        assert_eq!(stored, ids.len() as i64);

        // A dispatcher's list through the live server (from the replica when there is one, so
        // within the replica's lag) holds every acknowledged report.
        let t = Instant::now();
        loop {
            let v: Value = app
                .client
                .get(format!("{}/api/v1/events?limit=500", urls[last]))
                .bearer_auth(&c.dispatcher.token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let listed: BTreeSet<i64> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap())
                .collect();
            let newest: BTreeSet<i64> = ids.iter().rev().take(500).copied().collect();
            if newest.is_subset(&listed) {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "the list never caught up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // The server left standing takes moves; a move raced from two sessions lands once.
        let live = &urls[last];
        let client = &app.client;
        for id in ids.iter().take(5) {
            let act = |who: String, action: &'static str, body: Value| async move {
                act_at(client, live, &who, *id, action, body).await.0
            };
            let (a, b) = tokio::join!(
                act(c.dispatcher.token.clone(), "accept", json!({"version": 1})),
                act(
                    c.town_dispatcher.token.clone(),
                    "reject",
                    json!({"version": 1, "reason": "重复"})
                ),
            );
            let mut s = vec![a, b];
            s.sort();
            assert_eq!(s, vec![StatusCode::OK, StatusCode::CONFLICT], "event {id}");
        }

        // A grid made through the live server: a new server started now and the live one
        // locate it.
        let (fresh, fresh_url) = Served::start(&app, &env[..]).await;
        let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
        let r = client
            .post(format!("{live}/api/v1/nodes"))
            .bearer_auth(&admin.token)
            .json(
                &json!({"code": "441502001001003", "name": "新网格", "level": "micro",
                "geometry": rect(115.30, 22.79, 115.31, 22.80)}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        for url in [live, &fresh_url] {
            let t = Instant::now();
            loop {
                let v: Value = client
                    .get(format!("{url}/api/v1/locate?lon=115.305&lat=22.795"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if v["grid"]["code"] == "441502001001003" {
                    break;
                }
                assert!(t.elapsed() < Duration::from_secs(5), "{url}: {v}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }

        // The figures, read through a live server, equal a recount from the timelines.
        let today = chrono::Utc::now().date_naive();
        let (from, to) = (
            today - chrono::Days::new(400),
            today + chrono::Days::new(400),
        );
        let day = |d: chrono::NaiveDate| d.format("%Y%m%d").to_string().parse::<i64>().unwrap();
        for (node, path) in [
            ("440000000000", "44"),
            ("441502001001001", "441502001001001"),
        ] {
            let f: Value = client
                .get(format!(
                    "{fresh_url}/api/v1/figures?node={node}&from={}&to={}",
                    from.format("%Y-%m-%d"),
                    to.format("%Y-%m-%d")
                ))
                .bearer_auth(&admin.token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(
                f["figures"]["counters"],
                recounted(&app, path, day(from), day(to)).await,
                "{node}"
            );
        }
        drop(fresh);
        for s in servers.into_iter().flatten() {
            s.stop();
        }
    }
);
