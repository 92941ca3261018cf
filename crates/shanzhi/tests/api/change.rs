//! Several servers on one database (issue 18) keep the grid index and the reference data in
//! memory; one server's change reaches the others. On PostgreSQL it is heard at once
//! (`LISTEN shanzhi_change`): the other server's poll is set to a minute and its reference data
//! would be trusted for five, so only the notice explains seeing the change within seconds. On
//! SQLite the other server polls: the tree every `tree_poll_seconds`, the reference data within
//! its two-second TTL.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;
use shanzhi_store::Engine;

use crate::helpers::{fresh_database, rect, spawn_with};

db_test!(
    a_category_and_a_grid_made_on_one_server_reach_the_other_within_seconds,
    |app| {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database(app.engine, dir.path()).await;
        let keys = app.dir().join("test.pii-keys");
        let poll = match app.engine {
            Engine::Postgres => 60,
            Engine::Sqlite => 1,
        };
        let settings = |c: &mut shanzhi::config::Config| {
            c.tree_poll_seconds = poll;
            c.job_lease_seconds = 3 * poll;
            c.pii_key_file = Some(keys.clone());
        };
        let mut one = spawn_with(
            app.engine,
            url.clone(),
            tempfile::tempdir().unwrap(),
            settings,
        )
        .await;
        let mut two = spawn_with(app.engine, url, dir, settings).await;
        one.seed_town().await;
        let admin = one.user("admin", Role::Admin, Some("440000000000")).await;
        let heard = Instant::now();
        while two.state.reference.notified() != (app.engine == Engine::Postgres) {
            assert!(heard.elapsed() < Duration::from_secs(10), "listening");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // The other server holds a snapshot of the reference data, then a category is made.
        let before = two.state.reference.get(&two.state.db).await.unwrap();
        let r = one
            .post_json(
                "/api/v1/categories",
                Some(&admin),
                json!({"code": "noise", "name": "噪音扰民", "department_kind": "cg",
                    "accept_minutes": 60, "handle_minutes": 840, "verify_minutes": 420,
                    "priority": 3, "on_spot": false}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        assert!(before.category(id).is_none());
        let made = Instant::now();
        loop {
            let snap = two.state.reference.get(&two.state.db).await.unwrap();
            if snap.category(id).is_some() {
                break;
            }
            assert!(
                made.elapsed() < Duration::from_secs(5),
                "the other server never saw the new category"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // A new grid: the other server's locate answers it.
        let (lon, lat) = (115.305, 22.795);
        let r = one
            .post_json(
                "/api/v1/nodes",
                Some(&admin),
                json!({"code": "441502001001003", "name": "新网格", "level": "micro",
                    "geometry": rect(115.30, 22.79, 115.31, 22.80)}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let made = Instant::now();
        loop {
            let v: Value = two
                .get(&format!("/api/v1/locate?lon={lon}&lat={lat}"), None)
                .await
                .json()
                .await
                .unwrap();
            if v["grid"]["code"] == "441502001001003" {
                break;
            }
            assert!(
                made.elapsed() < Duration::from_secs(5),
                "the other server's locate never answered the new grid: {v}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        one.stop().await;
        two.stop().await;
    }
);
