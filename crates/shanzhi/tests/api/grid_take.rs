//! 网格接单 (一网五单) through HTTP: a report reaches the grid first where its category and its
//! jurisdiction say so; a grid worker of its grid takes it, then resolves it on the spot or
//! passes it on to the centre; the sweep passes on what the grid leaves; figures stay right.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi::event::Recount;
use shanzhi_domain::user::Role;

use shanzhi::clock::Clock;

use crate::helpers::{assert_error, local, Cast, Session, TestApp};

/// Turns the rule on for a category (as its administrators would) and, through the API, for
/// village 441502001001 (as its administrator would).
pub async fn grid_first_on(app: &TestApp, c: &Cast, category: i64) -> Session {
    set_category_grid_first(app, category, true).await;
    let admin = app.user("vadmin", Role::Admin, Some("441502001001")).await;
    let r = app
        .client
        .put(format!("{}/api/v1/nodes/441502001001/grid_first", app.url))
        .bearer_auth(&admin.token)
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let _ = c;
    admin
}

pub async fn set_category_grid_first(app: &TestApp, category: i64, on: bool) {
    let db = &app.state.db;
    let cat = shanzhi_store::category::get(db, category).await.unwrap();
    let input = shanzhi_store::category::CategoryInput {
        code: cat.code,
        parent_id: cat.parent_id,
        name: cat.name,
        department_kind: cat.department_kind,
        accept_minutes: cat.accept_minutes,
        handle_minutes: cat.handle_minutes,
        verify_minutes: cat.verify_minutes,
        priority: cat.priority,
        on_spot: cat.on_spot,
        escalate_after_minutes: cat.escalate_after_minutes,
        active: cat.active,
        grid_first: on,
    };
    shanzhi_store::category::update(db, category, &input, 1, app.clock.now_ms())
        .await
        .unwrap();
    app.state.reference.invalidate();
}

fn actions(ev: &Value) -> Vec<String> {
    ev["allowed_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

db_test!(
    a_taken_report_resolved_on_the_spot_never_reaches_the_centre,
    |app| {
        let c = app.seed_loop().await;
        grid_first_on(&app, &c, c.garbage).await;
        let id = app.report(&c.citizen, c.garbage).await;
        let ev = app.event(&c.worker, id).await;
        assert_eq!(
            (ev["state"].as_str(), ev["grid_stage"].as_str()),
            (Some("reported"), Some("waiting"))
        );
        assert_eq!(actions(&ev), ["take"]);
        assert!(!actions(&app.event(&c.dispatcher, id).await).contains(&"accept".to_owned()));
        // The centre waits for the grid.
        let r = app.act(&c.dispatcher, id, "accept", json!({})).await;
        assert_error(r, StatusCode::CONFLICT).await;
        let ev = app.act_ok(&c.worker, id, "take", json!({})).await;
        assert_eq!(
            (ev["grid_stage"].as_str(), ev["taken_by"].as_i64()),
            (Some("taken"), Some(c.worker.user_id))
        );
        let ev = app
            .act_ok(&c.worker, id, "resolve_on_spot", json!({"note": "已清理"}))
            .await;
        assert_eq!(
            (ev["state"].as_str(), ev["grid_stage"].as_str()),
            (Some("resolved"), None)
        );
        let ev = app
            .act_ok(&c.worker, id, "verify", json!({"ok": true}))
            .await;
        assert_eq!(ev["state"], "closed");
        let steps: Vec<String> = app.event(&c.dispatcher, id).await["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["action"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(steps, ["report", "take", "resolve_on_spot", "verify"]);
        // 我的接单.
        let mine: Value = app
            .get_json("/api/v1/events?taken_by_me=true", &c.worker)
            .await;
        assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    }
);

db_test!(
    a_report_passed_on_with_a_note_goes_on_as_today_at_the_centre,
    |app| {
        let c = app.seed_loop().await;
        app.set_local(2026, 12, 1, 9, 0);
        grid_first_on(&app, &c, c.gas).await;
        let id = app.report(&c.citizen, c.gas).await;
        app.act_ok(&c.worker, id, "take", json!({})).await;
        // What the worker found is required.
        let r = app
            .act(&c.worker, id, "pass_on", json!({"note": "  "}))
            .await;
        let e = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(e["field"], "note");
        let r = app.act(&c.worker, id, "pass_on", json!({})).await;
        assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        app.clock.advance_ms(20 * 60 * 1000);
        let ev = app
            .act_ok(
                &c.worker,
                id,
                "pass_on",
                json!({"note": "燃气管接口漏气，需专业处置"}),
            )
            .await;
        assert_eq!(
            (ev["state"].as_str(), ev["grid_stage"].as_str()),
            (Some("reported"), None)
        );
        // The centre's accept clock starts at the pass-on.
        assert_eq!(ev["stage_started_at"].as_i64(), Some(app.clock.now_ms()));
        assert_eq!(
            actions(&app.event(&c.worker, id).await),
            Vec::<String>::new()
        );
        app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
        app.act_ok(
            &c.dispatcher,
            id,
            "dispatch",
            json!({"department_id": c.zj_id}),
        )
        .await;
        let tl = app.event(&c.dispatcher, id).await["timeline"].clone();
        let pass = tl
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["action"] == "pass_on")
            .unwrap();
        assert_eq!(pass["note"], "燃气管接口漏气，需专业处置");
        assert_eq!(pass["actor_id"].as_i64(), Some(c.worker.user_id));
        figures_equal_the_recount(&app).await;
    }
);

db_test!(
    the_grid_step_refuses_other_grids_wrong_states_and_other_takers,
    |app| {
        let c = app.seed_loop().await;
        grid_first_on(&app, &c, c.garbage).await;
        let other_grid = app
            .user("worker2", Role::GridWorker, Some("441502001001002"))
            .await;
        let colleague = app
            .user("worker3", Role::GridWorker, Some("441502001001001"))
            .await;
        let id = app.report(&c.citizen, c.garbage).await;
        // Another grid's worker does not even see it; nobody passes on or resolves before a take.
        assert_error(
            app.act(&other_grid, id, "take", json!({})).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_error(
            app.act(&c.worker, id, "pass_on", json!({"note": "x"}))
                .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_error(
            app.act(&c.worker, id, "resolve_on_spot", json!({"note": "x"}))
                .await,
            StatusCode::CONFLICT,
        )
        .await;
        for who in [&c.dispatcher, &c.cg, &c.citizen] {
            let r = app.act(who, id, "take", json!({})).await;
            assert!(
                matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                "{}",
                r.status()
            );
        }
        app.act_ok(&c.worker, id, "take", json!({})).await;
        // Taken once: not again, and only the taker acts.
        assert_error(
            app.act(&colleague, id, "take", json!({})).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_error(
            app.act(&colleague, id, "pass_on", json!({"note": "x"}))
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_error(
            app.act(&colleague, id, "resolve_on_spot", json!({"note": "x"}))
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        app.act_ok(&c.worker, id, "pass_on", json!({"note": "需要清运车"}))
            .await;
        // At the centre now: no grid move is left.
        assert_error(
            app.act(&c.worker, id, "take", json!({})).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_error(
            app.act(&c.worker, id, "pass_on", json!({"note": "x"}))
                .await,
            StatusCode::CONFLICT,
        )
        .await;
    }
);

db_test!(
    with_the_rule_off_or_from_a_grid_worker_a_report_goes_straight_to_the_centre,
    |app| {
        let c = app.seed_loop().await;
        // A fresh install: off everywhere.
        let id = app.report(&c.citizen, c.garbage).await;
        assert_eq!(
            app.event(&c.dispatcher, id).await["grid_stage"],
            Value::Null
        );
        app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
        // The category goes to the grid but the jurisdiction does not run the rule.
        set_category_grid_first(&app, c.garbage, true).await;
        let id = app.report(&c.citizen, c.garbage).await;
        assert_eq!(
            app.event(&c.dispatcher, id).await["grid_stage"],
            Value::Null
        );
        // The jurisdiction runs it but the category does not go to the grid.
        let admin = grid_first_on(&app, &c, c.garbage).await;
        let id = app.report(&c.citizen, c.gas).await;
        assert_eq!(
            app.event(&c.dispatcher, id).await["grid_stage"],
            Value::Null
        );
        // A grid worker's own report skips the step.
        let id = app.report(&c.worker, c.garbage).await;
        assert_eq!(
            app.event(&c.dispatcher, id).await["grid_stage"],
            Value::Null
        );
        // The nearest setting wins: the grid below switches it off again.
        let r = app
            .client
            .put(format!(
                "{}/api/v1/nodes/441502001001001/grid_first",
                app.url
            ))
            .bearer_auth(&admin.token)
            .json(&json!({"enabled": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            (v["setting"].as_bool(), v["effective"].as_bool()),
            (Some(false), Some(false))
        );
        let id = app.report(&c.citizen, c.garbage).await;
        assert_eq!(
            app.event(&c.dispatcher, id).await["grid_stage"],
            Value::Null
        );
        let village: Value = app
            .get_json("/api/v1/nodes/441502001001/grid_first", &admin)
            .await;
        assert_eq!(village["effective"], true);
        assert_eq!(village["below"][0]["code"], "441502001001001");
        // The setting must be given; null clears it and the grid inherits again.
        let put = |body: Value| {
            app.client
                .put(format!(
                    "{}/api/v1/nodes/441502001001001/grid_first",
                    app.url
                ))
                .bearer_auth(&admin.token)
                .json(&body)
                .send()
        };
        let e = assert_error(
            put(json!({})).await.unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "enabled");
        let v: Value = put(json!({"enabled": null}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (v["setting"].clone(), v["effective"].as_bool()),
            (Value::Null, Some(true))
        );
        put(json!({"enabled": false})).await.unwrap();
        // Another village's administrator may not set it here.
        let other = app.user("oadmin", Role::Admin, Some("441502001002")).await;
        let r = app
            .client
            .put(format!("{}/api/v1/nodes/441502001001/grid_first", app.url))
            .bearer_auth(&other.token)
            .json(&json!({"enabled": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
);

db_test!(
    the_sweep_passes_on_what_the_grid_did_not_take_in_time,
    |app| {
        let c = app.seed_loop().await;
        app.set_local(2026, 12, 1, 9, 0);
        grid_first_on(&app, &c, c.garbage).await;
        let untaken = app.report(&c.citizen, c.garbage).await;
        let taken = app.report(&c.citizen2, c.garbage).await;
        app.act_ok(&c.worker, taken, "take", json!({})).await;
        let sweep = |at: i64| {
            app.clock.set(at);
            shanzhi::event::sweep(&app.state, at)
        };
        // 60 working minutes to take: at 09:50 it is only yellow.
        let s = sweep(local(2026, 12, 1, 9, 50)).await.unwrap();
        assert_eq!(s.passed_on, 0);
        assert_eq!(
            app.event(&c.dispatcher, untaken).await["grid_stage"],
            "waiting"
        );
        let s = sweep(local(2026, 12, 1, 10, 1)).await.unwrap();
        assert_eq!(s.passed_on, 2);
        for id in [untaken, taken] {
            let ev = app.event(&c.dispatcher, id).await;
            assert_eq!(
                (
                    ev["state"].as_str(),
                    ev["grid_stage"].as_str(),
                    ev["light"].as_str()
                ),
                (Some("reported"), None, Some("green"))
            );
            let last = ev["timeline"].as_array().unwrap().last().unwrap().clone();
            assert_eq!(
                (last["action"].as_str(), last["actor_id"].as_i64()),
                (Some("pass_on"), None)
            );
            assert!(
                last["note"].as_str().unwrap().contains("网格超时转办"),
                "{last}"
            );
            assert!(actions(&ev).contains(&"accept".to_owned()));
        }
        figures_equal_the_recount(&app).await;
    }
);

/// The figures of the grid, village and province equal a recount from the timelines.
pub async fn figures_equal_the_recount(app: &TestApp) {
    let mut recount = Recount::default();
    for (log, ev) in shanzhi_store::event::logs_under(&app.state.db, "44")
        .await
        .unwrap()
    {
        recount.add(&log, &ev).unwrap();
    }
    for path in ["441502001001001", "441502001001", "44"] {
        let stored =
            shanzhi_store::event::counters(&app.state.db, path, 20000101, 20991231, "all", 0)
                .await
                .unwrap();
        assert_eq!(
            stored,
            recount.counters(path, 20000101, 20991231, "all", 0),
            "{path}"
        );
    }
}
