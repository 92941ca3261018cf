//! The people's map: one level of the tree in view, coloured by a figure; events as points.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi::clock::Clock;
use shanzhi_store::Engine;

use crate::helpers::{assert_error, rect, Session, TestApp};

db_test!(
    the_map_colours_grids_by_open_events_and_shows_the_event_in_its_grid,
    |app| {
        let c = app.seed_loop().await;
        let id = app.report(&c.citizen, c.gas).await;
        let bbox = "115.29,22.77,115.35,22.80";
        let v: Value = app
            .get(
                &format!("/api/v1/map/nodes?level=grid&bbox={bbox}&zoom=14&figure=open"),
                Some(&c.town_dispatcher),
            )
            .await
            .json()
            .await
            .unwrap();
        let features = v["features"].as_array().unwrap();
        assert_eq!(features.len(), 4);
        let value = |code: &str| {
            features
                .iter()
                .find(|f| f["properties"]["code"] == code)
                .unwrap()["properties"]["value"]
                .as_f64()
                .unwrap()
        };
        assert_eq!(value("441502001001001"), 1.0);
        assert_eq!(value("441502001002001"), 0.0);
        let v: Value = app
            .get(
                &format!("/api/v1/map/nodes?level=village&bbox={bbox}&zoom=12"),
                Some(&c.town_dispatcher),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["features"].as_array().unwrap().len(), 2);
        // A village dispatcher sees only their village.
        let v: Value = app
            .get(
                &format!("/api/v1/map/nodes?level=grid&bbox={bbox}&zoom=14"),
                Some(&c.dispatcher),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["features"].as_array().unwrap().len(), 2);
        let pts: Value = app
            .get(
                &format!("/api/v1/map/events?bbox={bbox}"),
                Some(&c.town_dispatcher),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(pts["features"][0]["properties"]["id"], id);
        assert_eq!(pts["features"][0]["properties"]["grid"], "441502001001001");
        let card: Value = app
            .get(
                "/api/v1/map/card?code=441502001001001",
                Some(&c.town_dispatcher),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(card["open"], 1);
        assert!(card["staff"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["role"] == "grid_worker"));
        assert_error(
            app.get(
                "/api/v1/map/nodes?level=grid&bbox=1,2,3",
                Some(&c.dispatcher),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_error(
            app.get(
                &format!("/api/v1/map/nodes?level=planet&bbox={bbox}"),
                Some(&c.dispatcher),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
);

db_test!(
    the_maps_kept_outlines_follow_new_grids_new_shapes_and_new_names,
    |app| {
        let admin = town_with_admin(&app).await;
        let bbox = "115.25,22.70,115.40,22.85";
        let grids = |v: &Value| -> Vec<(String, String, Value)> {
            v["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["properties"]["code"].as_str().unwrap().to_owned(),
                        f["properties"]["name"].as_str().unwrap().to_owned(),
                        f["geometry"].clone(),
                    )
                })
                .collect()
        };
        let map = || async {
            let r = app
                .get(
                    &format!("/api/v1/map/nodes?level=grid&bbox={bbox}&zoom=14"),
                    Some(&admin),
                )
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        };
        // Asked twice: the second answer comes from the kept outlines and is the same.
        let first = map().await;
        let before = grids(&first);
        assert!(!before.is_empty());
        assert_eq!(grids(&map().await), before);
        assert!(before.iter().all(|(code, _, _)| code != "441502001001003"));
        // Each level the console draws is built ahead (at start and when the tree moved).
        let drawn = shanzhi::http::api::map::DRAWN_LEVELS;
        let mut sorted = drawn.to_vec();
        sorted.sort_unstable();
        // Built by the server itself (its tree poll, or PostgreSQL's notice of the change):
        // waited for, up to a few of its ticks.
        let built = || async {
            let version = app.state.db.tree_version().await.unwrap();
            for _ in 0..300 {
                let (at, lens) = app.state.map.levels_kept();
                if at == version && lens == sorted {
                    return (at, lens);
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!(
                "the map's levels were not built for tree version {version}: {:?}",
                app.state.map.levels_kept()
            );
        };
        let (version, lens) = built().await;
        assert_eq!(lens, sorted);

        // A new grid appears at once.
        let r = app
            .post_json(
                "/api/v1/nodes",
                Some(&admin),
                json!({"code": "441502001001003", "name": "新网格", "level": "micro", "geometry": rect(115.30, 22.79, 115.31, 22.80)}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let after = grids(&map().await);
        assert_eq!(after.len(), before.len() + 1);
        let new = after
            .iter()
            .find(|(c, _, _)| c == "441502001001003")
            .unwrap();
        assert_eq!(new.1, "新网格");
        // One part: drawn as a polygon.
        assert_eq!(new.2["type"], "Polygon");

        // A new name and a new outline too.
        let r = app
            .patch_json(
                "/api/v1/nodes/441502001001003",
                &admin,
                json!({"name": "改名网格", "version": 1, "geometry": rect(115.31, 22.79, 115.32, 22.80)}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let again = grids(&map().await);
        let moved = again
            .iter()
            .find(|(c, _, _)| c == "441502001001003")
            .unwrap();
        assert_eq!(moved.1, "改名网格");
        assert_ne!(moved.2, new.2);
        let lon = moved.2["coordinates"][0][0][0].as_f64().unwrap();
        assert!((115.309..=115.321).contains(&lon), "{lon}");
        // The tree moved: the levels are built again for it.
        let (after, lens) = built().await;
        assert!(after > version, "{after} after {version}");
        assert_eq!(lens, sorted);
    }
);

db_test!(
    far_out_the_map_counts_open_orders_per_cell_and_near_it_sends_each_order,
    |app| {
        let c = app.seed_loop().await;
        app.report(&c.citizen, c.garbage).await;
        app.report(&c.citizen, c.gas).await;
        // A third order in the other village, 0.03° east: another cell at zoom 11 (0.044°).
        let r = app
            .client
            .post(format!("{}/api/v1/events", app.url))
            .bearer_auth(&c.citizen.token)
            .header("idempotency-key", "map-group-east")
            .json(&json!({"category_id": c.garbage, "description": "路灯不亮", "lon": 115.335, "lat": 22.785}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let bbox = "115.0,22.5,115.6,23.0";
        let get = |q: String| {
            let app = &app;
            let who = c.town_dispatcher.clone();
            async move {
                let r = app
                    .get(&format!("/api/v1/map/events?bbox={bbox}{q}"), Some(&who))
                    .await;
                assert_eq!(r.status(), StatusCode::OK);
                r.json::<Value>().await.unwrap()
            }
        };
        let groups = |v: &Value| -> Vec<(i64, i64, f64, f64)> {
            assert_eq!(v["grouped"], true, "{v}");
            v["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    let p = &f["properties"];
                    let at = &f["geometry"]["coordinates"];
                    (
                        p["count"].as_i64().unwrap(),
                        p["red"].as_i64().unwrap(),
                        at[0].as_f64().unwrap(),
                        at[1].as_f64().unwrap(),
                    )
                })
                .collect()
        };
        // A country's view: the town is one cell, at the orders' mean position. (Cells are
        // fixed squares: at zooms 5 to 11, lon 115.3125 is an edge between the two villages.)
        let far = get("&zoom=4".into()).await;
        let g = groups(&far);
        assert_eq!(g.len(), 1, "{far}");
        assert_eq!((g[0].0, g[0].1), (3, 0));
        assert!(
            (g[0].2 - (115.305 * 2.0 + 115.335) / 3.0).abs() < 1e-9,
            "{g:?}"
        );
        assert!((far["cell"].as_f64().unwrap() - 90.0 / 16.0).abs() < 1e-12);
        // A county's: the two villages' orders fall in two cells, the fuller first.
        let g = groups(&get("&zoom=11".into()).await);
        assert_eq!(g.len(), 2, "{g:?}");
        assert_eq!((g[0].0, g[1].0), (2, 1));
        assert!(
            (g[0].2 - 115.305).abs() < 1e-9 && (g[1].2 - 115.335).abs() < 1e-9,
            "{g:?}"
        );
        // Only some categories: the cells count those.
        let g = groups(&get(format!("&zoom=4&categories={}", c.gas)).await);
        assert_eq!(g.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1]);
        // From zoom 12 on, each order is a point, filtered the same way.
        let near = get("&zoom=12".into()).await;
        assert!(near.get("grouped").is_none(), "{near}");
        assert_eq!(near["features"].as_array().unwrap().len(), 3);
        let near = get(format!("&zoom=14&categories={},{}", c.gas, c.gas + 1000)).await;
        assert_eq!(near["features"].as_array().unwrap().len(), 1);
        // A department's handler counts only the orders sent to their department: none yet.
        let r = app
            .get(
                &format!("/api/v1/map/events?bbox={bbox}&zoom=7"),
                Some(&c.zj),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["features"], json!([]));
        for bad in ["abc", "0", "1,,2", ""] {
            let r = app
                .get(
                    &format!("/api/v1/map/events?bbox={bbox}&zoom=7&categories={bad}"),
                    Some(&c.town_dispatcher),
                )
                .await;
            let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(body["field"], "categories", "{bad}: {body}");
        }
    }
);

db_test!(
    the_server_makes_the_far_out_outlines_before_anyone_asks,
    |app| {
        let admin = town_with_admin(&app).await;
        // The town gets an outline: the server makes it, by itself, for each zoom the console
        // draws towns at (10–12), and for no other.
        let r = app.get("/api/v1/nodes/441502001000", Some(&admin)).await;
        assert_eq!(r.status(), StatusCode::OK);
        let version = r.json::<Value>().await.unwrap()["version"].clone();
        let r = app
            .patch_json(
                "/api/v1/nodes/441502001000",
                &admin,
                json!({"version": version, "geometry": rect(115.30, 22.78, 115.34, 22.81)}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let tree = app.state.db.tree_version().await.unwrap();
        let mut made = false;
        for _ in 0..300 {
            let (at, _) = app.state.map.levels_kept();
            if at >= tree && (10..=12).all(|z| app.state.map.outlines_kept(z) == 1) {
                made = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(made, "the town's outlines were not made ahead");
        assert_eq!(app.state.map.outlines_kept(9), 0);
        assert_eq!(app.state.map.outlines_kept(13), 0);
        // And drawn from them.
        let r = app
            .get(
                "/api/v1/map/nodes?level=town&bbox=115.2,22.7,115.4,22.9&zoom=11",
                Some(&admin),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v = r.json::<Value>().await.unwrap();
        assert_eq!(
            v["features"][0]["properties"]["code"], "441502001000",
            "{v}"
        );
    }
);

db_test!(
    the_maps_kept_answers_follow_the_figures_and_come_gzipped_when_asked,
    |app| {
        let c = app.seed_loop().await;
        app.report(&c.citizen, c.gas).await;
        let path = "/api/v1/map/nodes?level=grid&bbox=115.29,22.77,115.35,22.80&zoom=14";
        let ask = |encoding: Option<&'static str>| {
            let mut req = app
                .client
                .get(format!("{}{path}", app.url))
                .bearer_auth(&c.town_dispatcher.token);
            if let Some(e) = encoding {
                req = req.header("accept-encoding", e);
            }
            async move { req.send().await.unwrap() }
        };
        let plain = || async {
            let r = ask(None).await;
            assert_eq!(r.status(), StatusCode::OK);
            assert!(r.headers().get("content-encoding").is_none());
            r.json::<Value>().await.unwrap()
        };
        let open_in = |v: &Value, code: &str| {
            v["features"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["properties"]["code"] == code)
                .unwrap()["properties"]["value"]
                .as_f64()
                .unwrap()
        };
        let first = plain().await;
        assert_eq!(open_in(&first, "441502001001001"), 1.0);
        // Asked again: the kept answer, the same.
        let reused = app.state.map.reused();
        assert_eq!(plain().await, first);
        assert_eq!(app.state.map.reused(), reused + 1);
        // With nothing committed in between, not even the figures are counted again on SQLite
        // (PostgreSQL counts them every time).
        let sqlite = app.engine == Engine::Sqlite;
        assert_eq!(
            kept_between(&app, path, &c.town_dispatcher, |m| m.figures_reused()).await,
            sqlite
        );

        // Gzip when asked for: the same answer, compressed, and said so.
        for accept in ["gzip", "br;q=1.0, gzip;q=0.8", "*"] {
            let r = ask(Some(accept)).await;
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(r.headers()["content-encoding"], "gzip", "{accept}");
            assert_eq!(r.headers()["vary"], "accept-encoding");
            assert_eq!(gunzip_json(r).await, first);
        }
        // Refused gzip: plain text.
        let r = ask(Some("gzip;q=0")).await;
        assert!(r.headers().get("content-encoding").is_none());
        assert_eq!(r.json::<Value>().await.unwrap(), first);

        // A new order in the same grid: the same shapes with another figure, a new answer.
        app.report(&c.citizen, c.gas).await;
        let reused = app.state.map.reused();
        let second = plain().await;
        assert_eq!(
            app.state.map.reused(),
            reused,
            "a new figure is a new answer"
        );
        assert_eq!(open_in(&second, "441502001001001"), 2.0);
        assert_eq!(gunzip_json(ask(Some("gzip")).await).await, second);

        // Overdue: none yet; past their deadlines the sweeper turns the lights red, and the
        // kept figures follow at once.
        let overdue = format!("{path}&figure=overdue");
        let ask_overdue = || async {
            let r = app.get(&overdue, Some(&c.town_dispatcher)).await;
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        };
        assert_eq!(open_in(&ask_overdue().await, "441502001001001"), 0.0);
        assert_eq!(
            kept_between(&app, &overdue, &c.town_dispatcher, |m| m.figures_reused()).await,
            sqlite
        );
        app.clock.advance_ms(30 * 86_400_000);
        shanzhi::event::sweep(&app.state, app.clock.now_ms())
            .await
            .unwrap();
        assert_eq!(open_in(&ask_overdue().await, "441502001001001"), 2.0);
    }
);

db_test!(
    the_maps_grouped_events_are_kept_until_something_is_written,
    |app| {
        let c = app.seed_loop().await;
        app.report(&c.citizen, c.gas).await;
        let path = "/api/v1/map/events?bbox=115.0,22.5,115.6,23.0&zoom=7";
        let who = c.town_dispatcher.clone();
        let count = || async {
            let r = app.get(path, Some(&who)).await;
            assert_eq!(r.status(), StatusCode::OK);
            let v = r.json::<Value>().await.unwrap();
            assert_eq!(v["grouped"], true, "{v}");
            v["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["properties"]["count"].as_i64().unwrap())
                .sum::<i64>()
        };
        assert_eq!(count().await, 1);
        // Asked again with nothing committed in between: the kept answer on SQLite (PostgreSQL
        // counts every time).
        let sqlite = app.engine == Engine::Sqlite;
        assert_eq!(
            kept_between(&app, path, &who, |m| m.groups_reused()).await,
            sqlite
        );
        // Gzipped when asked for: the same groups.
        let r = app
            .client
            .get(format!("{}{path}", app.url))
            .bearer_auth(&who.token)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-encoding"], "gzip");
        assert_eq!(gunzip_json(r).await["grouped"], true);
        // A new order: counted at once, not the kept answer.
        app.report(&c.citizen, c.gas).await;
        assert_eq!(count().await, 2);
    }
);

/// The town's tree (`seed_town`) and an administrator of the town.
async fn town_with_admin(app: &TestApp) -> Session {
    app.seed_town().await;
    app.user(
        "admin",
        shanzhi_domain::user::Role::Admin,
        Some("441502001000"),
    )
    .await
}

/// A gzipped answer's body as JSON.
async fn gunzip_json(r: reqwest::Response) -> Value {
    let z = r.bytes().await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&z[..]), &mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Whether asking `path` twice in a row moves `reused` (a count of answers or figures served from
/// the kept ones), in one of five tries: a commit in the background (the counters' fold, the jobs'
/// lease) may fall between two.
async fn kept_between(
    app: &TestApp,
    path: &str,
    who: &Session,
    reused: fn(&shanzhi::map::MapCache) -> u64,
) -> bool {
    for _ in 0..5 {
        assert_eq!(app.get(path, Some(who)).await.status(), StatusCode::OK);
        let before = reused(&app.state.map);
        assert_eq!(app.get(path, Some(who)).await.status(), StatusCode::OK);
        if reused(&app.state.map) > before {
            return true;
        }
    }
    false
}
