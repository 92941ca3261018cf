//! Emergency rosters (平急转换): exactly the vulnerable residents of the chosen grids, with
//! household, address, tags and workers; marking; who may build and open one; audit rows.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, rect, TestApp};
use crate::house::{
    building, cast, created, house, insert_id, of, post, resident, seed_two_counties, tag, tags,
};

/// Vulnerable and other residents in grids 001 and 002 of village 441502001001 and in the
/// other village; returns (the vulnerable ones of the two grids, one in grid 002).
async fn population(
    app: &TestApp,
    worker: &crate::helpers::Session,
    dispatcher: &crate::helpers::Session,
) -> (Vec<i64>, i64) {
    tags(app).await;
    let g1 = "441502001001001";
    let g2 = "441502001001002";
    let b1 = building(app, worker, g1, (115.305, 22.785)).await;
    let h1 = house(app, worker, b1, "1单元101").await;
    let b2 = building(app, dispatcher, g2, (115.315, 22.785)).await;
    let h2 = house(app, dispatcher, b2, "2号").await;
    let a = resident(app, g1, "独居甲", Some(h1)).await;
    tag(app, a, g1, "t_alone").await;
    tag(app, a, g1, "t_watch").await;
    let b = resident(app, g2, "独居乙", Some(h2)).await;
    tag(app, b, g2, "t_alone").await;
    let watched = resident(app, g1, "关注丙", Some(h1)).await;
    tag(app, watched, g1, "t_watch").await;
    resident(app, g1, "无标签丁", Some(h1)).await;
    let elsewhere = resident(app, "441502001002001", "别村戊", None).await;
    tag(app, elsewhere, "441502001002001", "t_alone").await;
    (vec![a, b], b)
}

fn entry_ids(v: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resident_id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

db_test!(
    the_roster_holds_exactly_the_vulnerable_residents_of_the_chosen_grids,
    |app| {
        seed_two_counties(&app).await;
        let cast = cast(&app).await;
        let worker = of(&cast, Role::GridWorker);
        let dispatcher = of(&cast, Role::Dispatcher);
        let (mut want, _) = population(&app, worker, dispatcher).await;
        want.sort();
        let r = created(
            post(
                &app,
                dispatcher,
                "/api/v1/emergency/rosters",
                json!({"name": "台风“海葵”转移", "grids": ["441502001001001", "441502001001002"]}),
            )
            .await,
        )
        .await;
        assert_eq!(r["entries"], 2);
        let id = r["id"].as_i64().unwrap();
        let v = app
            .get_json(&format!("/api/v1/emergency/rosters/{id}"), dispatcher)
            .await;
        assert_eq!(entry_ids(&v), want);
        let first = v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "独居甲")
            .unwrap();
        assert_eq!(first["address"], "3栋 1单元101");
        assert_eq!(first["phone"], "138****5678");
        assert_eq!(
            first["tags"].as_array().unwrap().len(),
            1,
            "only the vulnerable tags: {first}"
        );
        assert_eq!(first["workers"][0]["user_id"], worker.user_id);
        assert_eq!(v["progress"]["total"], 2);
        assert_eq!(v["progress"]["pending"], 2);
        // The audit row names the roster as the purpose.
        let n = insert_id(&app.state.db, &format!("SELECT COUNT(*) FROM audit WHERE action = 'roster.create' AND entity_id = '{id}' AND after_json LIKE '%台风%'")).await;
        assert_eq!(n, 1);
        let opened = insert_id(
            &app.state.db,
            &format!(
                "SELECT COUNT(*) FROM audit WHERE action = 'roster.open' AND entity_id = '{id}'"
            ),
        )
        .await;
        assert_eq!(opened, 1);
    }
);

db_test!(a_drawn_area_chooses_the_buildings_inside_it, |app| {
    seed_two_counties(&app).await;
    let cast = cast(&app).await;
    let dispatcher = of(&cast, Role::Dispatcher);
    let (_, in_grid_2) = population(&app, of(&cast, Role::GridWorker), dispatcher).await;
    let r = created(
        post(
            &app,
            dispatcher,
            "/api/v1/emergency/rosters",
            json!({"name": "内涝", "polygon": rect(115.312, 22.782, 115.318, 22.788)}),
        )
        .await,
    )
    .await;
    let v = app
        .get_json(
            &format!("/api/v1/emergency/rosters/{}", r["id"]),
            dispatcher,
        )
        .await;
    assert_eq!(entry_ids(&v), vec![in_grid_2]);
    let empty = post(
        &app,
        dispatcher,
        "/api/v1/emergency/rosters",
        json!({"name": "空", "polygon": rect(115.330, 22.800, 115.331, 22.801)}),
    )
    .await;
    assert_eq!(
        assert_error(empty, StatusCode::CONFLICT).await["field"],
        "polygon"
    );
});

db_test!(
    workers_mark_entries_and_only_those_who_may_reveal_open_the_roster,
    |app| {
        seed_two_counties(&app).await;
        let cast = cast(&app).await;
        let worker = of(&cast, Role::GridWorker);
        let dispatcher = of(&cast, Role::Dispatcher);
        let (people, in_grid_2) = population(&app, worker, dispatcher).await;
        let id = created(
            post(
                &app,
                dispatcher,
                "/api/v1/emergency/rosters",
                json!({"name": "寒潮", "grids": ["441502001001001", "441502001001002"]}),
            )
            .await,
        )
        .await["id"]
            .as_i64()
            .unwrap();
        let in_grid_1 = people.iter().copied().find(|p| *p != in_grid_2).unwrap();
        let mark = |who, resident: i64, body: Value| {
            let app = &app;
            async move {
                post(
                    app,
                    who,
                    &format!("/api/v1/emergency/rosters/{id}/entries/{resident}"),
                    body,
                )
                .await
            }
        };
        let r = mark(
            worker,
            in_grid_1,
            json!({"state": "moved", "note": "已转移到安置点"}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            (
                v["progress"]["marked"].as_i64(),
                v["progress"]["moved"].as_i64()
            ),
            (Some(1), Some(1))
        );
        // The grid worker opens the roster over two grids and finds their own grid's people
        // only; the progress is the whole roster's.
        let seen = app
            .get_json(&format!("/api/v1/emergency/rosters/{id}"), worker)
            .await;
        let nodes: Vec<&str> = seen["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node_code"].as_str().unwrap())
            .collect();
        assert!(
            !nodes.is_empty() && nodes.iter().all(|n| *n == "441502001001001"),
            "{nodes:?}"
        );
        assert!(seen["progress"]["total"].as_i64().unwrap() > nodes.len() as i64);
        // The grid worker of grid 001 does not mark grid 002's people.
        assert_eq!(
            mark(worker, in_grid_2, json!({"state": "contacted"}))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let bad = mark(worker, in_grid_1, json!({"state": "pending"})).await;
        assert_eq!(
            assert_error(bad, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
            "state"
        );
        let n = insert_id(
            &app.state.db,
            &format!(
                "SELECT COUNT(*) FROM audit WHERE action = 'roster.mark' AND entity_id = '{id}'"
            ),
        )
        .await;
        assert_eq!(n, 1);
        // Analysts read the progress but may not open the addresses; leaders, who command the
        // switch to emergency, open and build rosters (audited like everyone's).
        for role in [Role::Leader, Role::Analyst] {
            let s = of(&cast, role);
            let r = app
                .get(&format!("/api/v1/emergency/rosters/{id}"), Some(s))
                .await;
            if role == Role::Leader {
                assert_eq!(r.status(), StatusCode::OK);
            } else {
                assert_error(r, StatusCode::FORBIDDEN).await;
            }
            let list = app.get_json("/api/v1/emergency/rosters", s).await;
            let ours = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == id)
                .expect("the roster on the list");
            assert_eq!(ours["progress"]["marked"], 1, "{role:?}: {list}");
            assert!(
                !list.to_string().contains("独居"),
                "no personal data in the list"
            );
            let r = post(
                &app,
                s,
                "/api/v1/emergency/rosters",
                json!({"name": "x", "grids": ["441502001001001"]}),
            )
            .await;
            if role == Role::Leader {
                assert_eq!(r.status(), StatusCode::CREATED);
            } else {
                assert_error(r, StatusCode::FORBIDDEN).await;
            }
        }
        let opened = insert_id(
            &app.state.db,
            &format!(
                "SELECT COUNT(*) FROM audit WHERE action = 'roster.open' AND entity_id = '{id}'"
            ),
        )
        .await;
        assert!(opened >= 1, "opening a roster is audited");
        for role in [Role::Citizen, Role::Handler, Role::Mediator] {
            let r = app
                .get(
                    &format!("/api/v1/emergency/rosters/{id}"),
                    Some(of(&cast, role)),
                )
                .await;
            assert!(!r.status().is_success(), "{role:?}");
        }
        // A dispatcher of another county does not see it at all.
        let far = app
            .user("far", Role::Dispatcher, Some("441521001001"))
            .await;
        let r = app
            .get(&format!("/api/v1/emergency/rosters/{id}"), Some(&far))
            .await;
        assert_error(r, StatusCode::NOT_FOUND).await;
        let r = post(
            &app,
            &far,
            "/api/v1/emergency/rosters",
            json!({"name": "x", "grids": ["441502001001001"]}),
        )
        .await;
        assert_error(r, StatusCode::NOT_FOUND).await;
    }
);
