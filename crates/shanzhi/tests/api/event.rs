//! The closed loop through HTTP: every path, every refusal, the clocks, the counts.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi::clock::Clock;
use shanzhi::event::Recount;
use shanzhi_domain::event::figures::Figures;

use crate::helpers::{
    assert_error, local, Cast, Session, TestApp, IN_GRID, TINY_JPEG as JPEG, TINY_PNG as PNG,
};

async fn upload_photo(app: &TestApp, who: &Session, bytes: &'static [u8]) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/photos", app.url))
        .bearer_auth(&who.token)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// Walks an order from the citizen's report to the department and back to a closed, rated order.
async fn dispatched_and_closed(app: &TestApp, c: &Cast) -> i64 {
    let id = app.report(&c.citizen, c.gas).await;
    app.close_order(c, id, json!([])).await;
    id
}

db_test!(a_citizen_report_goes_round_the_whole_loop, |app| {
    let c = app.seed_loop().await;
    let photo: Value = upload_photo(&app, &c.citizen, PNG)
        .await
        .json()
        .await
        .unwrap();
    let hash = photo["hash"].as_str().unwrap().to_owned();
    let r = app
        .client
        .post(format!("{}/api/v1/events", app.url))
        .bearer_auth(&c.citizen.token)
        .header("idempotency-key", "first-report")
        .json(&json!({"category_id": c.gas, "description": "楼道有燃气味", "lon": IN_GRID.0, "lat": IN_GRID.1, "address": "立新路1号", "photos": [hash]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let ev: Value = r.json().await.unwrap();
    let id = ev["id"].as_i64().unwrap();
    assert_eq!(ev["state"], "reported");
    assert_eq!(ev["grid"], "441502001001001");
    assert_eq!(ev["centre"], "441502001001");
    assert!(ev["due_at"].as_i64().is_some());

    assert_eq!(
        app.act_ok(&c.dispatcher, id, "accept", json!({})).await["state"],
        "accepted"
    );
    let d = app
        .act_ok(
            &c.dispatcher,
            id,
            "dispatch",
            json!({"department_id": c.zj_id}),
        )
        .await;
    assert_eq!(
        (d["state"].as_str(), d["department_id"].as_i64()),
        (Some("dispatched"), Some(c.zj_id))
    );
    assert_eq!(
        app.act_ok(&c.zj, id, "sign", json!({})).await["state"],
        "in_progress"
    );
    let result_photo: Value = upload_photo(&app, &c.zj, JPEG).await.json().await.unwrap();
    let r = app
        .act_ok(
            &c.zj,
            id,
            "report_result",
            json!({"note": "已关闭阀门并维修", "photos": [result_photo["hash"]]}),
        )
        .await;
    assert_eq!(r["state"], "resolved");
    assert_eq!(
        app.act_ok(
            &c.worker,
            id,
            "verify",
            json!({"ok": true, "note": "现场已无异味"})
        )
        .await["state"],
        "closed"
    );
    let rated = app
        .act_ok(
            &c.citizen,
            id,
            "rate",
            json!({"score": 5, "fixed": true, "comment": "很快"}),
        )
        .await;
    assert_eq!(
        (rated["state"].as_str(), rated["rating"].as_i64()),
        (Some("closed"), Some(5))
    );

    let detail = app.event(&c.citizen, id).await;
    let actions: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "report",
            "accept",
            "dispatch",
            "sign",
            "report_result",
            "verify",
            "rate"
        ]
    );
    let stages: Vec<&str> = detail["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, vec!["report", "result"]);
    let r = app
        .get(
            &format!("/api/v1/photos/{}", photo["hash"].as_str().unwrap()),
            Some(&c.dispatcher),
        )
        .await;
    assert_eq!(r.headers()["content-type"], "image/png");
    // Each move is in the audit log too.
    let admin = app
        .user(
            "admin",
            shanzhi_domain::user::Role::Admin,
            Some("440000000000"),
        )
        .await;
    let audit: Value = app
        .get(
            &format!("/api/v1/audit?entity=event&entity_id={id}&limit=50"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"].as_array().unwrap().len(), 7);
    // The reporter was told of each change of state.
    let notes: Value = app
        .get("/api/v1/notifications", Some(&c.citizen))
        .await
        .json()
        .await
        .unwrap();
    assert!(notes["items"].as_array().unwrap().len() >= 5);
});

db_test!(a_grid_worker_resolves_small_matters_on_the_spot, |app| {
    let c = app.seed_loop().await;
    let id = app.report(&c.worker, c.garbage).await;
    let v = app
        .act_ok(&c.worker, id, "resolve_on_spot", json!({"note": "已清理"}))
        .await;
    assert_eq!(v["state"], "resolved");
    assert_eq!(
        app.act_ok(&c.dispatcher, id, "verify", json!({"ok": true}))
            .await["state"],
        "closed"
    );
    // A category that needs a department cannot be.
    let gas = app.report(&c.worker, c.gas).await;
    assert_error(
        app.act(&c.worker, gas, "resolve_on_spot", json!({"note": "x"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
});

db_test!(a_rejected_report_stays_rejected, |app| {
    let c = app.seed_loop().await;
    let id = app.report(&c.citizen, c.garbage).await;
    let v = assert_error(
        app.act(&c.dispatcher, id, "reject", json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "reason");
    assert_eq!(
        app.act_ok(&c.dispatcher, id, "reject", json!({"reason": "重复反映"}))
            .await["state"],
        "rejected"
    );
    assert_error(
        app.act(&c.dispatcher, id, "accept", json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
});

/// Every action with a body that would be valid, and who would be entitled in the right state.
fn all_moves(c: &Cast) -> Vec<(&'static str, Value, &Session)> {
    vec![
        ("accept", json!({}), &c.dispatcher),
        ("reject", json!({"reason": "r"}), &c.dispatcher),
        ("resolve_on_spot", json!({"note": "n"}), &c.worker),
        ("dispatch", json!({"department_id": c.zj_id}), &c.dispatcher),
        ("sign", json!({}), &c.zj),
        ("return", json!({"reason": "r"}), &c.zj),
        (
            "request_extension",
            json!({"minutes": 60, "reason": "r"}),
            &c.zj,
        ),
        ("decide_extension", json!({"approve": true}), &c.dispatcher),
        ("report_result", json!({"note": "n"}), &c.zj),
        ("verify", json!({"ok": true}), &c.worker),
        ("rate", json!({"score": 5, "fixed": true}), &c.citizen),
        ("escalate", json!({"reason": "r"}), &c.dispatcher),
        (
            "summon",
            json!({"departments": [c.zj_id, c.cg_id], "lead": c.zj_id}),
            &c.dispatcher,
        ),
        ("check_in", json!({}), &c.zj),
        ("merge", json!({"into": 999_999}), &c.dispatcher),
        ("remind", json!({}), &c.dispatcher),
        ("reinspect", json!({"ok": true}), &c.dispatcher),
    ]
}

/// Tries every move that the state does not allow; each must be refused and change nothing.
async fn refuse_all_but(app: &TestApp, c: &Cast, id: i64, allowed: &[&str]) {
    let before = app.event(&c.dispatcher, id).await;
    for (action, body, who) in all_moves(c) {
        if allowed.contains(&action) {
            continue;
        }
        let r = app.act(who, id, action, body).await;
        let status = r.status();
        assert!(
            matches!(
                status,
                StatusCode::CONFLICT
                    | StatusCode::FORBIDDEN
                    | StatusCode::NOT_FOUND
                    | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "{action} in state {}: {status}",
            before["state"]
        );
        let after = app.event(&c.dispatcher, id).await;
        assert_eq!(
            after["version"], before["version"],
            "{action} changed the event in state {}",
            before["state"]
        );
    }
}

db_test!(every_forbidden_move_is_refused_and_changes_nothing, |app| {
    let c = app.seed_loop().await;
    let id = app.report(&c.citizen, c.gas).await;
    refuse_all_but(&app, &c, id, &["accept", "reject", "escalate", "merge"]).await;
    app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
    refuse_all_but(&app, &c, id, &["dispatch", "escalate", "summon", "merge"]).await;
    app.act_ok(
        &c.dispatcher,
        id,
        "dispatch",
        json!({"department_id": c.zj_id}),
    )
    .await;
    refuse_all_but(&app, &c, id, &["sign", "return", "remind"]).await;
    app.act_ok(&c.zj, id, "sign", json!({})).await;
    refuse_all_but(
        &app,
        &c,
        id,
        &["return", "request_extension", "report_result", "remind"],
    )
    .await;
    app.act_ok(&c.zj, id, "report_result", json!({"note": "done"}))
        .await;
    refuse_all_but(&app, &c, id, &["verify"]).await;
    app.act_ok(&c.worker, id, "verify", json!({"ok": true}))
        .await;
    refuse_all_but(&app, &c, id, &["rate", "reinspect"]).await;

    // The right state but the wrong person: 403 (or 404 where they cannot even see it).
    let fresh = app.report(&c.citizen, c.gas).await;
    assert_error(
        app.act(&c.other_dispatcher, fresh, "accept", json!({}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.act(&c.worker, fresh, "accept", json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_error(
        app.act(&c.town_dispatcher, fresh, "sign", json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    app.act_ok(&c.dispatcher, fresh, "accept", json!({})).await;
    app.act_ok(
        &c.dispatcher,
        fresh,
        "dispatch",
        json!({"department_id": c.zj_id}),
    )
    .await;
    assert_error(
        app.act(&c.cg, fresh, "sign", json!({})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.act(&c.dispatcher, fresh, "sign", json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Unknown actions are not routes.
    assert_error(
        app.act(&c.dispatcher, fresh, "teleport", json!({})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
});

db_test!(only_the_reporter_rates_and_only_once, |app| {
    let c = app.seed_loop().await;
    let id = dispatched_and_closed(&app, &c).await;
    assert_error(
        app.act(&c.citizen2, id, "rate", json!({"score": 5, "fixed": true}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.act(
            &c.dispatcher,
            id,
            "rate",
            json!({"score": 5, "fixed": true}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Nothing is assumed: a rating must say whether the problem was fixed.
    let v = assert_error(
        app.act(&c.citizen, id, "rate", json!({"score": 5})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "fixed");
    let v = assert_error(
        app.act(&c.citizen, id, "rate", json!({"score": 6, "fixed": true}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "score");
    app.act_ok(&c.citizen, id, "rate", json!({"score": 4, "fixed": true}))
        .await;
    let v = assert_error(
        app.act(&c.citizen, id, "rate", json!({"score": 5, "fixed": true}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("already been rated"));
    assert_eq!(app.event(&c.citizen, id).await["rating"], 4);
});

db_test!(a_low_rating_reopens_the_order_and_is_counted_apart, |app| {
    let c = app.seed_loop().await;
    let id = dispatched_and_closed(&app, &c).await;
    let v = app
        .act_ok(
            &c.citizen,
            id,
            "rate",
            json!({"score": 2, "fixed": true, "comment": "还有味道"}),
        )
        .await;
    assert_eq!(v["state"], "accepted");
    assert_eq!(v["reopened"], 1);
    assert_eq!(v["department_id"], Value::Null);
    let f: Value = app
        .get("/api/v1/figures?node=441502001001", Some(&c.dispatcher))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f["figures"]["counters"]["reopened"], 1);
    assert_eq!(f["figures"]["counters"]["closed"], 1);
    // "Not fixed" reopens even with a good score.
    let id2 = dispatched_and_closed(&app, &c).await;
    assert_eq!(
        app.act_ok(&c.citizen, id2, "rate", json!({"score": 5, "fixed": false}))
            .await["state"],
        "accepted"
    );
});

db_test!(a_retried_report_makes_one_event, |app| {
    let c = app.seed_loop().await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let r = app
            .report_with_key(&c.worker, c.garbage, "phone-retry-7f3a")
            .await;
        let expected = if i == 0 {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        assert_eq!(r.status(), expected);
        ids.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    let list: Value = app
        .get("/api/v1/events", Some(&c.dispatcher))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let f: Value = app
        .get("/api/v1/figures?node=441502001001", Some(&c.dispatcher))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f["figures"]["counters"]["reported"], 1);
    // Concurrent retries too.
    let (a, b) = tokio::join!(
        app.report_with_key(&c.worker, c.garbage, "burst"),
        app.report_with_key(&c.worker, c.garbage, "burst")
    );
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a["id"], b["id"]);
    // A report without a key is refused.
    let r = app
        .client
        .post(format!("{}/api/v1/events", app.url))
        .bearer_auth(&c.worker.token)
        .json(&json!({"category_id": c.garbage, "description": "x", "lon": IN_GRID.0, "lat": IN_GRID.1}))
        .send()
        .await
        .unwrap();
    let v = assert_error(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(v["field"], "Idempotency-Key");
});

db_test!(two_concurrent_moves_one_wins_the_other_gets_409, |app| {
    let c = app.seed_loop().await;
    for _ in 0..3 {
        let id = app.report(&c.citizen, c.gas).await;
        let (a, b) = tokio::join!(
            app.act(&c.dispatcher, id, "accept", json!({"version": 1})),
            app.act(
                &c.town_dispatcher,
                id,
                "reject",
                json!({"version": 1, "reason": "重复"})
            )
        );
        let mut statuses = vec![a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, vec![StatusCode::OK, StatusCode::CONFLICT]);
        let ev = app.event(&c.dispatcher, id).await;
        assert_eq!(ev["version"], 2, "exactly one move landed");
        let timeline = ev["timeline"].as_array().unwrap().len();
        assert_eq!(timeline, 2);
    }
    // A stale version is refused before anything happens.
    let id = app.report(&c.citizen, c.gas).await;
    app.act_ok(&c.dispatcher, id, "accept", json!({"version": 1}))
        .await;
    assert_error(
        app.act(
            &c.dispatcher,
            id,
            "dispatch",
            json!({"version": 1, "department_id": c.zj_id}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
});

db_test!(
    the_clock_turns_orders_yellow_red_and_escalates_them_across_a_holiday_and_a_make_up_day,
    |app| {
        let c = app.seed_loop().await;
        let admin = app
            .user(
                "admin",
                shanzhi_domain::user::Role::Admin,
                Some("440000000000"),
            )
            .await;
        // Monday 14 December is a holiday; Saturday 12 December is a make-up working day.
        let cal = json!({"holidays": ["2026-12-14"], "workdays": ["2026-12-12"], "periods": [["08:30", "12:00"], ["14:00", "17:30"]]});
        let r = app
            .client
            .put(format!("{}/api/v1/calendar", app.url))
            .bearer_auth(&admin.token)
            .json(&cal)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);

        app.set_local(2026, 12, 11, 15, 0); // Friday 15:00
        let id = app.report(&c.citizen, c.gas).await;
        app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
        app.set_local(2026, 12, 11, 16, 0);
        let v = app
            .act_ok(
                &c.dispatcher,
                id,
                "dispatch",
                json!({"department_id": c.zj_id}),
            )
            .await;
        // 420 working minutes from Friday 16:00: 90 on Friday, 330 on the make-up Saturday → Sat 16:00.
        assert_eq!(v["due_at"].as_i64().unwrap(), local(2026, 12, 12, 16, 0));
        assert_eq!(v["light"], "green");

        let sweep = |at: i64| {
            app.clock.set(at);
            shanzhi::event::sweep(&app.state, at)
        };
        sweep(local(2026, 12, 12, 14, 0)).await.unwrap();
        assert_eq!(
            app.event(&c.dispatcher, id).await["light"],
            "green",
            "Sat 14:00: 120 of 420 minutes left"
        );
        let s = sweep(local(2026, 12, 12, 15, 0)).await.unwrap();
        assert_eq!(s.yellow, 1);
        let ev = app.event(&c.dispatcher, id).await;
        assert_eq!(
            (ev["light"].as_str(), ev["supervision"].as_str()),
            (Some("yellow"), Some("normal"))
        );
        let s = sweep(local(2026, 12, 12, 16, 1)).await.unwrap();
        assert_eq!(s.red, 1);
        let ev = app.event(&c.dispatcher, id).await;
        assert_eq!(
            (
                ev["light"].as_str(),
                ev["supervision"].as_str(),
                ev["overdue"].as_bool()
            ),
            (Some("red"), Some("yellow"), Some(true))
        );
        // The department was told.
        let notes: Value = app
            .get("/api/v1/notifications", Some(&c.zj))
            .await
            .json()
            .await
            .unwrap();
        assert!(notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["message"].as_str().unwrap().contains("黄牌督办")));
        // Red for 240 working minutes escalates: 89 left on Saturday, Sunday off, Monday a holiday,
        // so not before Tuesday 11:00.
        sweep(local(2026, 12, 14, 16, 0)).await.unwrap();
        let ev = app.event(&c.dispatcher, id).await;
        assert_eq!(
            (ev["supervision"].as_str(), ev["centre"].as_str()),
            (Some("yellow"), Some("441502001001")),
            "no escalation over the holiday"
        );
        let s = sweep(local(2026, 12, 15, 11, 5)).await.unwrap();
        assert_eq!(s.escalated, 1);
        let ev = app.event(&c.town_dispatcher, id).await;
        assert_eq!(
            (
                ev["supervision"].as_str(),
                ev["centre"].as_str(),
                ev["escalations"].as_i64()
            ),
            (Some("red"), Some("441502001000"), Some(1))
        );
        let last = ev["timeline"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["action"], "escalate");
        // Closing it late counts as not on time.
        app.act_ok(&c.zj, id, "sign", json!({})).await;
        app.act_ok(&c.zj, id, "report_result", json!({"note": "修好了"}))
            .await;
        app.act_ok(&c.worker, id, "verify", json!({"ok": true}))
            .await;
        let f: Value = app
            .get(
                "/api/v1/figures?node=441502001000&from=2026-12-01&to=2026-12-31",
                Some(&c.town_dispatcher),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(f["figures"]["counters"]["closed"], 1);
        assert_eq!(f["figures"]["counters"]["closed_on_time"], 0);
        assert_eq!(
            f["figures"]["counters"]["closed_town"], 1,
            "closed at the town level it was escalated to"
        );
    }
);

db_test!(an_approved_extension_moves_the_due_time, |app| {
    let c = app.seed_loop().await;
    app.set_local(2026, 12, 1, 9, 0); // a Tuesday
    let id = app.report(&c.citizen, c.gas).await;
    app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
    app.act_ok(
        &c.dispatcher,
        id,
        "dispatch",
        json!({"department_id": c.zj_id}),
    )
    .await;
    let signed = app.act_ok(&c.zj, id, "sign", json!({})).await;
    let due = signed["due_at"].as_i64().unwrap();
    let v = app
        .act_ok(
            &c.zj,
            id,
            "request_extension",
            json!({"minutes": 420, "reason": "等配件"}),
        )
        .await;
    assert_eq!(v["pending_extension_minutes"], 420);
    assert_error(
        app.act(
            &c.zj,
            id,
            "request_extension",
            json!({"minutes": 60, "reason": "again"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let v = app
        .act_ok(
            &c.dispatcher,
            id,
            "decide_extension",
            json!({"approve": true}),
        )
        .await;
    assert_eq!(v["pending_extension_minutes"], Value::Null);
    assert_eq!(
        v["due_at"].as_i64().unwrap(),
        due + 24 * 3600 * 1000,
        "one working day later"
    );
    app.act_ok(
        &c.zj,
        id,
        "request_extension",
        json!({"minutes": 60, "reason": "再等等"}),
    )
    .await;
    let v = app
        .act_ok(
            &c.dispatcher,
            id,
            "decide_extension",
            json!({"approve": false}),
        )
        .await;
    assert_eq!(
        v["due_at"].as_i64().unwrap(),
        due + 24 * 3600 * 1000,
        "a denial changes nothing"
    );
});

db_test!(
    an_order_bounced_too_often_goes_to_the_centre_to_decide,
    |app| {
        let c = app.seed_loop().await;
        let id = app.report(&c.citizen, c.gas).await;
        app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
        for (round, (dep, who)) in [(c.zj_id, &c.zj), (c.cg_id, &c.cg), (c.zj_id, &c.zj)]
            .into_iter()
            .enumerate()
        {
            app.act_ok(&c.dispatcher, id, "dispatch", json!({"department_id": dep}))
                .await;
            let v = app
                .act_ok(who, id, "return", json!({"reason": "不属于本部门"}))
                .await;
            assert_eq!(v["returns"], round as i64 + 1);
            assert_eq!(v["decision_required"], round == 2);
        }
        app.act_ok(
            &c.dispatcher,
            id,
            "dispatch",
            json!({"department_id": c.cg_id}),
        )
        .await;
        let v = assert_error(
            app.act(&c.cg, id, "return", json!({"reason": "还是不归我们"}))
                .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(v["message"]
            .as_str()
            .unwrap()
            .contains("can no longer be returned"));
        let f: Value = app
            .get("/api/v1/figures?node=441502001001", Some(&c.dispatcher))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(f["figures"]["counters"]["returned"], 3);
        assert_eq!(f["figures"]["counters"]["dispatched"], 4);
    }
);

db_test!(summoned_departments_check_in_and_the_lead_handles, |app| {
    let c = app.seed_loop().await;
    let id = app.report(&c.citizen, c.gas).await;
    app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
    let v = app
        .act_ok(
            &c.dispatcher,
            id,
            "summon",
            json!({"departments": [c.zj_id, c.cg_id], "lead": c.zj_id}),
        )
        .await;
    assert_eq!(v["summoned"].as_array().unwrap().len(), 2);
    // Both departments see it; the helper department checks in once; only the lead signs.
    app.event(&c.cg, id).await;
    app.act_ok(&c.cg, id, "check_in", json!({})).await;
    assert_error(
        app.act(&c.cg, id, "check_in", json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_error(
        app.act(&c.cg, id, "sign", json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let v = app.act_ok(&c.zj, id, "sign", json!({})).await;
    assert!(v["summoned"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["checked_in"] == true));
    // A list names each summoned department and the lead as the order's department, for the
    // centre and for a helper department alike (their lists are read by different paths), and
    // says of the order what its own page says (the list's page is written by other code).
    for who in [&c.dispatcher, &c.cg] {
        let list = app.get_json("/api/v1/events?limit=50", who).await;
        let item = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .expect("the summoned order is listed");
        let mut names: Vec<&str> = item["summoned"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap_or_else(|| panic!("{item}")))
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["城区住建局", "城区城管局"], "{item}");
        assert_eq!(item["department"], "城区住建局", "{item}");
        assert!(
            item["place"].as_str().is_some_and(|p| !p.is_empty()),
            "{item}"
        );
        let page = app.event(who, id).await;
        for (key, value) in item.as_object().unwrap() {
            assert_eq!(
                &page[key], value,
                "{key}: the list says {value}, the page {}",
                page[key]
            );
        }
    }
    // On SQLite a town's list is read by the direct reader, which takes columns by position:
    // each of its rows equals the row read through sqlx by name.
    let row = shanzhi_store::event::get(&app.state.db, id).await.unwrap();
    let grid = shanzhi_domain::tree::NodeCode::parse(&row.grid_code).unwrap();
    let listed = shanzhi_store::event::list(
        &app.state.db,
        &shanzhi_store::event::ListScope::Under(grid.path().to_owned()),
        &shanzhi_store::event::Filter {
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let found = listed.iter().find(|r| r.id == id).expect("listed");
    assert_eq!(format!("{found:?}"), format!("{row:?}"));
    let v = assert_error(
        app.act(
            &c.dispatcher,
            app.report(&c.citizen, c.gas).await,
            "summon",
            json!({"departments": [c.zj_id], "lead": c.zj_id}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let _ = v;
});

db_test!(a_summons_says_when_where_and_why, |app| {
    let c = app.seed_loop().await;
    let id = app.report(&c.citizen, c.gas).await;
    app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
    let now = app.clock.now_ms();
    // The time to report by lies ahead, within 30 days.
    for bad in [now - 60_000, now + 31 * 86_400_000] {
        let v = assert_error(
            app.act(
                &c.dispatcher,
                id,
                "summon",
                json!({"departments": [c.zj_id, c.cg_id], "lead": c.zj_id, "report_by": bad}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["field"], "report_by");
    }
    let long = "会".repeat(201);
    let v = assert_error(
        app.act(
            &c.dispatcher,
            id,
            "summon",
            json!({"departments": [c.zj_id, c.cg_id], "lead": c.zj_id, "place": long}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "place");
    let by = now + 2 * 3_600_000;
    app.act_ok(
        &c.dispatcher,
        id,
        "summon",
        json!({"departments": [c.zj_id, c.cg_id], "lead": c.zj_id, "report_by": by,
            "place": "村委会二楼会议室", "reason": "燃气管道占压，需要联合处置"}),
    )
    .await;
    let v = app.event(&c.dispatcher, id).await;
    let line = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["action"] == "summon")
        .expect("a summon line")
        .clone();
    assert_eq!(line["note"], "燃气管道占压，需要联合处置");
    assert_eq!(line["data"]["report_by"], by);
    assert_eq!(line["data"]["place"], "村委会二楼会议室");
    // Each summoned department is told when and where.
    for who in [&c.zj, &c.cg] {
        let notes = app.get_json("/api/v1/notifications", who).await;
        let n = notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["kind"] == "summon" && n["event_id"] == id)
            .expect("a summons notice")
            .clone();
        assert_eq!(n["params"]["report_by"], by);
        assert_eq!(n["params"]["place"], "村委会二楼会议室");
    }
});

db_test!(
    a_duplicate_merges_and_its_reporter_follows_the_original,
    |app| {
        let c = app.seed_loop().await;
        let original = app.report(&c.citizen, c.garbage).await;
        let duplicate = app.report(&c.citizen2, c.garbage).await;
        let v = app
            .act_ok(&c.dispatcher, duplicate, "merge", json!({"into": original}))
            .await;
        assert_eq!(
            (v["state"].as_str(), v["merged_into"].as_i64()),
            (Some("merged"), Some(original))
        );
        assert_error(
            app.act(&c.dispatcher, original, "merge", json!({"into": original}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        // The second reporter now sees the original and is told of its progress.
        app.event(&c.citizen2, original).await;
        app.act_ok(&c.dispatcher, original, "accept", json!({}))
            .await;
        let notes: Value = app
            .get("/api/v1/notifications", Some(&c.citizen2))
            .await
            .json()
            .await
            .unwrap();
        assert!(notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["event_id"] == original));
    }
);

db_test!(a_reminder_reaches_the_department, |app| {
    let c = app.seed_loop().await;
    let id = app.report(&c.citizen, c.gas).await;
    app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
    app.act_ok(
        &c.dispatcher,
        id,
        "dispatch",
        json!({"department_id": c.zj_id}),
    )
    .await;
    let v = app
        .act_ok(&c.dispatcher, id, "remind", json!({"note": "请今天处理"}))
        .await;
    assert_eq!(v["reminders"], 1);
    let notes: Value = app
        .get("/api/v1/notifications", Some(&c.zj))
        .await
        .json()
        .await
        .unwrap();
    assert!(notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["kind"] == "remind" && n["event_id"] == id));
});

db_test!(escalation_hands_the_order_to_the_town_centre, |app| {
    let c = app.seed_loop().await;
    let id = app.report(&c.citizen, c.gas).await;
    let v = app
        .act_ok(
            &c.dispatcher,
            id,
            "escalate",
            json!({"reason": "涉及多个村"}),
        )
        .await;
    assert_eq!(v["centre"], "441502001000");
    assert_error(
        app.act(&c.dispatcher, id, "accept", json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    app.act_ok(&c.town_dispatcher, id, "accept", json!({}))
        .await;
    let inbox: Value = app
        .get("/api/v1/inbox", Some(&c.town_dispatcher))
        .await
        .json()
        .await
        .unwrap();
    assert!(inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == id));
    let inbox: Value = app
        .get("/api/v1/inbox", Some(&c.dispatcher))
        .await
        .json()
        .await
        .unwrap();
    assert!(!inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == id));
});

db_test!(
    closed_orders_can_be_sampled_and_a_failed_reinspection_reopens,
    |app| {
        let c = app.seed_loop().await;
        let id = dispatched_and_closed(&app, &c).await;
        let s: Value = app
            .get("/api/v1/events/sample?n=5", Some(&c.dispatcher))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(s["items"][0]["id"], id);
        assert_error(
            app.get("/api/v1/events/sample", Some(&c.worker)).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let v = app
            .act_ok(
                &c.dispatcher,
                id,
                "reinspect",
                json!({"ok": false, "note": "抽查发现仍有问题"}),
            )
            .await;
        assert_eq!(
            (v["state"].as_str(), v["reopened"].as_i64()),
            (Some("accepted"), Some(1))
        );
    }
);

db_test!(every_list_is_scoped_to_who_asks, |app| {
    let c = app.seed_loop().await;
    let mine = app.report(&c.citizen, c.gas).await;
    let theirs = app.report(&c.citizen2, c.garbage).await;
    app.act_ok(&c.dispatcher, mine, "accept", json!({})).await;
    app.act_ok(
        &c.dispatcher,
        mine,
        "dispatch",
        json!({"department_id": c.zj_id}),
    )
    .await;
    let ids = |v: Value| -> Vec<i64> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect()
    };
    let list = |who: &Session| {
        let who = who.clone();
        let app = &app;
        async move {
            ids(app
                .get("/api/v1/events", Some(&who))
                .await
                .json()
                .await
                .unwrap())
        }
    };
    assert_eq!(list(&c.citizen).await, vec![mine]);
    assert_eq!(list(&c.citizen2).await, vec![theirs]);
    assert_eq!(list(&c.zj).await, vec![mine]);
    assert_eq!(list(&c.cg).await, Vec::<i64>::new());
    assert_eq!(list(&c.dispatcher).await, vec![theirs, mine]);
    assert_eq!(list(&c.town_dispatcher).await, vec![theirs, mine]);
    assert_eq!(list(&c.other_dispatcher).await, Vec::<i64>::new());
    // Reading one outside the scope is a 404.
    assert_error(
        app.get(&format!("/api/v1/events/{mine}"), Some(&c.citizen2))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get(&format!("/api/v1/events/{mine}"), Some(&c.other_dispatcher))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get(&format!("/api/v1/events/{theirs}"), Some(&c.zj))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Inboxes: what waits on each.
    assert_eq!(
        ids(app
            .get("/api/v1/inbox", Some(&c.zj))
            .await
            .json()
            .await
            .unwrap()),
        vec![mine]
    );
    assert_eq!(
        ids(app
            .get("/api/v1/inbox", Some(&c.dispatcher))
            .await
            .json()
            .await
            .unwrap()),
        vec![theirs]
    );
    assert_eq!(
        ids(app
            .get("/api/v1/inbox", Some(&c.cg))
            .await
            .json()
            .await
            .unwrap()),
        Vec::<i64>::new()
    );
    // Filters.
    assert_eq!(
        ids(app
            .get("/api/v1/events?state=dispatched", Some(&c.dispatcher))
            .await
            .json()
            .await
            .unwrap()),
        vec![mine]
    );
    assert_eq!(
        ids(app
            .get(
                &format!("/api/v1/events?category={}", c.garbage),
                Some(&c.dispatcher)
            )
            .await
            .json()
            .await
            .unwrap()),
        vec![theirs]
    );
    assert_eq!(
        ids(app
            .get(
                &format!("/api/v1/events?department={}", c.zj_id),
                Some(&c.dispatcher)
            )
            .await
            .json()
            .await
            .unwrap()),
        vec![mine]
    );
    assert_eq!(
        ids(app
            .get("/api/v1/events?q=%E5%9E%83%E5%9C%BE", Some(&c.dispatcher))
            .await
            .json()
            .await
            .unwrap()),
        vec![theirs, mine]
    );
    assert_eq!(
        ids(app
            .get("/api/v1/events?under=441502001002", Some(&c.dispatcher))
            .await
            .json()
            .await
            .unwrap()),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(app
            .get("/api/v1/events?overdue=true", Some(&c.dispatcher))
            .await
            .json()
            .await
            .unwrap()),
        Vec::<i64>::new()
    );
    // Keyset paging walks every row once.
    let first: Value = app
        .get("/api/v1/events?limit=1", Some(&c.dispatcher))
        .await
        .json()
        .await
        .unwrap();
    let cursor = first["next_before"].as_str().unwrap().to_owned();
    let second = ids(app
        .get(
            &format!("/api/v1/events?limit=1&before={cursor}"),
            Some(&c.dispatcher),
        )
        .await
        .json()
        .await
        .unwrap());
    assert_eq!((ids(first), second), (vec![theirs], vec![mine]));
    assert_error(
        app.get("/api/v1/events?state=lost", Some(&c.dispatcher))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
});

db_test!(
    a_report_outside_the_jurisdiction_or_with_a_bad_photo_is_refused,
    |app| {
        let c = app.seed_loop().await;
        let r = app
            .client
            .post(format!("{}/api/v1/events", app.url))
            .bearer_auth(&c.citizen.token)
            .header("idempotency-key", "far-away")
            .json(&json!({"category_id": c.garbage, "description": "x", "lon": 100.0, "lat": 30.0}))
            .send()
            .await
            .unwrap();
        let v = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(v["message"]
            .as_str()
            .unwrap()
            .contains("outside the jurisdiction"));
        let v = assert_error(
            upload_photo(&app, &c.citizen, b"GIF89a....").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["field"], "photo");
        let r = app
        .client
        .post(format!("{}/api/v1/events", app.url))
        .bearer_auth(&c.citizen.token)
        .header("idempotency-key", "bad-photo")
        .json(&json!({"category_id": c.garbage, "description": "x", "lon": IN_GRID.0, "lat": IN_GRID.1, "photos": ["00ff"]}))
        .send()
        .await
        .unwrap();
        assert_eq!(
            assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
            "photos"
        );
        let list: Value = app
            .get("/api/v1/events", Some(&c.dispatcher))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            list["items"].as_array().unwrap().is_empty(),
            "nothing was written"
        );
    }
);

db_test!(
    figures_equal_a_brute_force_recount_and_add_up_the_tree,
    |app| {
        let c = app.seed_loop().await;
        app.set_local(2026, 12, 1, 9, 0);
        // A mix of paths in two villages and two days.
        let a = dispatched_and_closed(&app, &c).await;
        app.act_ok(&c.citizen, a, "rate", json!({"score": 5, "fixed": true}))
            .await;
        let b = dispatched_and_closed(&app, &c).await;
        app.act_ok(&c.citizen, b, "rate", json!({"score": 1, "fixed": true}))
            .await;
        let g = app.report(&c.worker, c.garbage).await;
        app.act_ok(&c.worker, g, "resolve_on_spot", json!({"note": "扫了"}))
            .await;
        app.clock.advance_ms(3 * 3600 * 1000);
        app.act_ok(&c.worker, g, "verify", json!({"ok": true}))
            .await;
        app.set_local(2026, 12, 2, 10, 0);
        let other_village = app
        .client
        .post(format!("{}/api/v1/events", app.url))
        .bearer_auth(&c.citizen.token)
        .header("idempotency-key", "v2")
        .json(&json!({"category_id": c.gas, "description": "燃气", "lon": 115.325, "lat": 22.785}))
        .send()
        .await
        .unwrap();
        let o = other_village.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        app.act_ok(&c.other_dispatcher, o, "accept", json!({}))
            .await;
        app.act_ok(&c.other_dispatcher, o, "escalate", json!({"reason": "大"}))
            .await;
        app.act_ok(
            &c.town_dispatcher,
            o,
            "dispatch",
            json!({"department_id": c.zj_id}),
        )
        .await;
        app.act_ok(&c.zj, o, "return", json!({"reason": "不对"}))
            .await;

        // Brute force: recount from the timelines alone.
        let mut recount = Recount::default();
        for (log, ev) in shanzhi_store::event::logs_under(&app.state.db, "44")
            .await
            .unwrap()
        {
            recount.add(&log, &ev).unwrap();
        }
        let admin = app
            .user(
                "admin",
                shanzhi_domain::user::Role::Admin,
                Some("440000000000"),
            )
            .await;
        for (node, path) in [
            ("441502001000", "441502001"),
            ("441502001001", "441502001001"),
            ("441502001002", "441502001002"),
            ("441502001001001", "441502001001001"),
            ("440000000000", "44"),
        ] {
            for (from, to, fd, td) in [
                ("2026-12-01", "2026-12-01", 20261201, 20261201),
                ("2026-12-01", "2026-12-31", 20261201, 20261231),
                // Read from the month and year rows kept beside the days.
                ("2026-01-01", "2026-12-31", 20260101, 20261231),
                ("2025-11-15", "2027-01-03", 20251115, 20270103),
                ("2026-11-30", "2026-12-02", 20261130, 20261202),
            ] {
                let f: Value = app
                    .get(
                        &format!("/api/v1/figures?node={node}&from={from}&to={to}"),
                        Some(&admin),
                    )
                    .await
                    .json()
                    .await
                    .unwrap();
                let expected = serde_json::to_value(Figures::from_counters(
                    recount.counters(path, fd, td, "all", 0),
                ))
                .unwrap();
                assert_eq!(
                    f["figures"]["counters"], expected["counters"],
                    "{node} {from}..{to}"
                );
                assert_eq!(f["figures"]["on_time_rate"], expected["on_time_rate"]);
                assert_eq!(
                    f["figures"]["satisfaction_mean"],
                    expected["satisfaction_mean"]
                );
            }
        }
        let town: Value = app
            .get(
                "/api/v1/figures?node=441502001000&from=2026-12-01&to=2026-12-31&children=true",
                Some(&admin),
            )
            .await
            .json()
            .await
            .unwrap();
        let c_town = &town["figures"]["counters"];
        assert_eq!(c_town["reported"], 4);
        assert_eq!(c_town["closed"], 3);
        assert_eq!(c_town["reopened"], 1);
        assert_eq!(c_town["rated"], 2);
        assert_eq!(town["figures"]["satisfaction_mean"]["value"], 3.0);
        // The town is the sum of its villages, counter by counter.
        for key in [
            "reported",
            "accepted",
            "dispatched",
            "returned",
            "closed",
            "closed_on_time",
            "reopened",
            "rated",
            "rating_sum",
        ] {
            let sum: i64 = town["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(|ch| ch["figures"]["counters"][key].as_i64().unwrap())
                .sum();
            assert_eq!(c_town[key].as_i64().unwrap(), sum, "{key}");
        }
        // By department and category, and the time to close.
        let deps = town["by_department"].as_array().unwrap();
        let zj = deps.iter().find(|d| d["department_id"] == c.zj_id).unwrap();
        assert_eq!(zj["figures"]["counters"]["returned"], 1);
        assert!(town["figures"]["median_close_minutes"].as_f64().is_some());
    }
);

db_test!(
    dispatch_without_a_department_uses_the_categorys_default,
    |app| {
        let c = app.seed_loop().await;
        let id = app.report(&c.citizen, c.gas).await;
        app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
        let v = app.act_ok(&c.dispatcher, id, "dispatch", json!({})).await;
        assert_eq!(
            v["department_id"], c.zj_id,
            "燃气 goes to the county's 住建 by default"
        );
    }
);

db_test!(administrators_manage_categories_and_others_may_not, |app| {
    let c = app.seed_loop().await;
    let admin = app
        .user(
            "admin",
            shanzhi_domain::user::Role::Admin,
            Some("440000000000"),
        )
        .await;
    let body = json!({"code": "noise", "name": "噪音扰民", "department_kind": "cg", "accept_minutes": 60, "handle_minutes": 840,
        "verify_minutes": 420, "priority": 3, "on_spot": false});
    let r = app
        .post_json("/api/v1/categories", Some(&admin), body.clone())
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_error(
        app.post_json("/api/v1/categories", Some(&admin), body.clone())
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_error(
        app.post_json("/api/v1/categories", Some(&c.dispatcher), body)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let bad = json!({"code": "x", "name": "x", "accept_minutes": 0, "handle_minutes": 1, "verify_minutes": 1, "priority": 3, "on_spot": false});
    assert_eq!(
        assert_error(
            app.post_json("/api/v1/categories", Some(&admin), bad).await,
            StatusCode::UNPROCESSABLE_ENTITY
        )
        .await["field"],
        "accept_minutes"
    );
    let r = app
        .client
        .put(format!("{}/api/v1/categories/{id}/levels/town", app.url))
        .bearer_auth(&admin.token)
        .json(&json!({"accept_minutes": 120, "handle_minutes": 2100, "verify_minutes": 420}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The public list shows it, and a citizen can report in it.
    let list: Value = app
        .get("/api/v1/categories", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["code"] == "noise"));
    app.report(&c.citizen, id).await;
});

db_test!(
    the_openapi_document_lists_every_route_and_nothing_else,
    |app| {
        let doc: Value = app
            .get("/api/v1/openapi.json", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(doc["openapi"], "3.0.3");
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths["/api/v1/events"]["post"]["requestBody"].is_object());
        assert!(paths["/api/v1/events/{id}/accept"]["post"].is_object());
        assert!(paths.len() >= 25, "{} paths", paths.len());
        // Every documented operation is a real route: none falls through to "route not found".
        for (path, ops) in paths {
            for method in ops.as_object().unwrap().keys() {
                let url = format!(
                    "{}{}",
                    app.url,
                    path.replace("{code}", "441502001001")
                        .replace("{id}", "1")
                        .replace("{level}", "town")
                        .replace("{hash}", &"0".repeat(64))
                );
                let r = app
                    .client
                    .request(method.to_uppercase().parse().unwrap(), url)
                    .send()
                    .await
                    .unwrap();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                assert_ne!(
                    body["message"], "route not found",
                    "{method} {path} is documented but not routed"
                );
            }
        }
    }
);

db_test!(control_characters_in_text_are_refused_not_stored, |app| {
    let c = app.seed_loop().await;
    let r = app
        .client
        .post(format!("{}/api/v1/events", app.url))
        .bearer_auth(&c.citizen.token)
        .header("idempotency-key", "nul")
        .json(&json!({"category_id": c.garbage, "description": "bad\u{0}text", "lon": IN_GRID.0, "lat": IN_GRID.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "description"
    );
    let id = app.report(&c.citizen, c.garbage).await;
    let v = assert_error(
        app.act(&c.dispatcher, id, "reject", json!({"reason": "x\u{0}y"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "reason");
});

db_test!(
    concurrent_reports_share_group_commits_without_losing_or_doubling_any,
    |app| {
        let c = app.seed_loop().await;
        app.set_local(2026, 12, 1, 9, 0);
        // 60 reports at once, every third one sent twice with the same key: the committer
        // writes them in groups, and a repeated key in the same group must still make one event.
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..60 {
            let copies = if i % 3 == 0 { 2 } else { 1 };
            for _ in 0..copies {
                let (client, url, token) =
                    (app.client.clone(), app.url.clone(), c.citizen.token.clone());
                let category = c.garbage;
                calls.spawn(async move {
                    let r = client
                        .post(format!("{url}/api/v1/events"))
                        .bearer_auth(&token)
                        .header("idempotency-key", format!("group-{i}"))
                        .json(&json!({"category_id": category, "description": "路边有一堆垃圾", "lon": 115.305, "lat": 22.785}))
                        .send()
                        .await
                        .unwrap();
                    let status = r.status().as_u16();
                    let v: Value = r.json().await.unwrap();
                    (i, status, v["id"].as_i64().unwrap())
                });
            }
        }
        let mut ids: std::collections::HashMap<i32, Vec<(u16, i64)>> = Default::default();
        while let Some(done) = calls.join_next().await {
            let (i, status, id) = done.unwrap();
            ids.entry(i).or_default().push((status, id));
        }
        let mut distinct = std::collections::HashSet::new();
        for (i, got) in &ids {
            let first = got[0].1;
            assert!(
                got.iter().all(|(_, id)| *id == first),
                "report {i}: {got:?}"
            );
            assert_eq!(
                got.iter().filter(|(s, _)| *s == 201).count(),
                1,
                "report {i} created exactly once: {got:?}"
            );
            assert!(distinct.insert(first), "two reports share event {first}");
        }
        assert_eq!(distinct.len(), 60);
        // The counters are what the timelines say, and the audit chain is whole.
        let mut recount = Recount::default();
        for (log, ev) in shanzhi_store::event::logs_under(&app.state.db, "44")
            .await
            .unwrap()
        {
            recount.add(&log, &ev).unwrap();
        }
        let stored = shanzhi_store::event::counters(
            &app.state.db,
            "441502001001001",
            20261201,
            20261201,
            "all",
            0,
        )
        .await
        .unwrap();
        assert_eq!(stored.reported, 60);
        assert_eq!(
            stored,
            recount.counters("441502001001001", 20261201, 20261201, "all", 0)
        );
        let admin = app
            .user(
                "admin",
                shanzhi_domain::user::Role::Admin,
                Some("440000000000"),
            )
            .await;
        let v: Value = app
            .get("/api/v1/audit/verify", Some(&admin))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["ok"], true, "{v}");
    }
);

db_test!(
    figures_rank_every_department_with_work_unless_the_chain_is_asked_for,
    |app| {
        let c = app.seed_loop().await;
        app.set_local(2026, 12, 1, 9, 0);
        let id = app.report(&c.citizen, c.gas).await;
        app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
        app.act_ok(
            &c.dispatcher,
            id,
            "dispatch",
            json!({"department_id": c.zj_id}),
        )
        .await;
        // A department of a village under the county: not on the county's chain.
        let village = shanzhi_domain::tree::NodeCode::parse("441502001001").unwrap();
        let local = shanzhi_store::department::insert(
            &app.state.db,
            "cg-441502001001",
            "村城管站",
            &village,
            None,
            0,
        )
        .await
        .unwrap();
        let other = app.report(&c.citizen, c.gas).await;
        app.act_ok(&c.dispatcher, other, "accept", json!({})).await;
        app.act_ok(
            &c.dispatcher,
            other,
            "dispatch",
            json!({"department_id": local.id}),
        )
        .await;
        let admin = app
            .user(
                "admin",
                shanzhi_domain::user::Role::Admin,
                Some("440000000000"),
            )
            .await;
        let ids = |v: &Value| -> Vec<i64> {
            v["by_department"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["department_id"].as_i64().unwrap())
                .collect()
        };
        let q = "/api/v1/figures?node=441502000000&from=2026-12-01&to=2026-12-01";
        let chain: Value = app
            .get(&format!("{q}&departments=chain"), Some(&admin))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(ids(&chain), vec![c.zj_id], "{chain}");
        // Every department with work under the node is the default.
        let all: Value = app.get(q, Some(&admin)).await.json().await.unwrap();
        let mut got = ids(&all);
        got.sort();
        assert_eq!(got, vec![c.zj_id, local.id]);
        // The village's own figures rank its own department (and the county's above it).
        let v: Value = app
            .get(
                "/api/v1/figures?node=441502001001&from=2026-12-01&to=2026-12-01",
                Some(&admin),
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(ids(&v).contains(&local.id), "{v}");
        let bad = app
            .get(&format!("{q}&departments=some"), Some(&admin))
            .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = bad.json().await.unwrap();
        assert_eq!(body["field"], "departments");
    }
);
