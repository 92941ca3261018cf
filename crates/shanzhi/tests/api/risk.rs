//! Risks and early warning (风险研判预警) through HTTP with a moved clock: each rule raises its
//! clue once per window, the assessment's life, the daily report each red and orange risk owes
//! (a missed one warns the lead department and ranks it on the board), figures against a
//! recount, and bad input refused with nothing changed.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use shanzhi::clock::Clock;

use crate::helpers::{assert_error, Cast, Session, TestApp};

/// Clues and risks in the matrix's village (441502001001, led by 城管 of the county) and in the
/// other county (a clue): [in, out]; and a rule on each side.
pub struct RiskWorld {
    pub risk: [i64; 2],
    pub rule: [i64; 2],
}

/// Adds a rule as `who`; its id.
pub async fn add_rule(app: &TestApp, who: &Session, body: Value) -> i64 {
    let r = app.post_json("/api/v1/risk-rules", Some(who), body).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

/// Enters a clue by hand at `node` as `who`; its id.
pub async fn clue(app: &TestApp, who: &Session, node: &str, title: &str) -> i64 {
    let r = app
        .post_json(
            "/api/v1/risks",
            Some(who),
            json!({"node": node, "type": "disaster", "title": title, "detail": "河道水位上涨"}),
        )
        .await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["state"], "clue");
    v["id"].as_i64().unwrap()
}

/// A move that must succeed; the record as answered.
pub async fn act_ok(app: &TestApp, who: &Session, id: i64, body: Value) -> Value {
    let r = app
        .post_json(
            &format!("/api/v1/risks/{id}/actions"),
            Some(who),
            body.clone(),
        )
        .await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body} → {v}");
    v
}

pub async fn risk_world(app: &TestApp, cast: &Cast) -> RiskWorld {
    let county = app
        .user("r-county-admin", Role::Admin, Some("441502000000"))
        .await;
    let other = app
        .user("r-other-admin", Role::Admin, Some("441521000000"))
        .await;
    let inside = clue(app, &county, "441502001001001", "矩阵风险").await;
    act_ok(
        app,
        &county,
        inside,
        json!({"action": "assess", "level": "orange", "lead_department_id": cast.cg_id, "measures": "巡查"}),
    )
    .await;
    let outside = clue(app, &other, "441521001001001", "外县线索").await;
    let rule = |node: &str| {
        json!({"name": "矩阵规则", "kind": "dispute_flags", "params": {"violence": true},
               "node": node, "risk_type": "dispute"})
    };
    RiskWorld {
        risk: [inside, outside],
        rule: [
            add_rule(app, &county, rule("441502001001")).await,
            add_rule(app, &other, rule("441521001001")).await,
        ],
    }
}

async fn clues(app: &TestApp, who: &Session, source: &str) -> Vec<Value> {
    let v = app
        .get_json(
            &format!("/api/v1/risks?source={source}&node=441502000000"),
            who,
        )
        .await;
    v["items"].as_array().unwrap().clone()
}

/// The counters of every risk kind under the county equal a recount of the rows.
async fn figures_match_a_recount(app: &TestApp) {
    let t = shanzhi_store::risk::recount(&app.state.db, "441502")
        .await
        .unwrap();
    for kind in ["risk", "risk_level", "risk_type", "risk_source"] {
        let stored = shanzhi_store::tally::at(&app.state.db, "441502", kind)
            .await
            .unwrap();
        let counted: std::collections::BTreeMap<String, i64> = t
            .rows
            .iter()
            .filter(|((p, k, _), n)| p == "441502" && k == kind && **n != 0)
            .map(|((_, _, key), n)| (key.clone(), *n))
            .collect();
        let stored: std::collections::BTreeMap<String, i64> =
            stored.into_iter().filter(|(_, n)| *n != 0).collect();
        assert_eq!(stored, counted, "{kind}");
    }
}

db_test!(each_rule_raises_its_clue_once_per_window, |app| {
    let cast = app.seed_loop().await;
    let admin = app.user("r-admin", Role::Admin, Some("441502000000")).await;
    let analyst = app
        .user("r-analyst", Role::Analyst, Some("441502000000"))
        .await;
    // Tuesday 2026-09-08, 10:00.
    app.set_local(2026, 9, 8, 10, 0);
    add_rule(
        &app,
        &admin,
        json!({"name": "垃圾集中反映", "kind": "category_burst", "node": "441502001000",
               "params": {"category_id": cast.garbage, "min_events": 3, "days": 2}, "risk_type": "public_health"}),
    )
    .await;
    add_rule(
        &app,
        &admin,
        json!({"name": "重复反映", "kind": "repeat_reporter", "node": "441502000000",
               "params": {"min_reports": 4, "days": 7}, "risk_type": "stability"}),
    )
    .await;
    add_rule(
        &app,
        &admin,
        json!({"name": "涉暴纠纷", "kind": "dispute_flags", "node": "441502000000",
               "params": {"min_parties": 3, "violence": true}, "risk_type": "dispute"}),
    )
    .await;
    add_rule(
        &app,
        &admin,
        json!({"name": "节前欠薪", "kind": "dispute_rise", "node": "441502000000",
               "params": {"type_code": "wages", "days": 30, "min_cases": 2, "rise_percent": 50,
                          "before_spring_festival": 30}, "risk_type": "stability"}),
    )
    .await;
    // Two garbage reports by the grid worker: below the threshold.
    for _ in 0..2 {
        app.report(&cast.worker, cast.garbage).await;
    }
    assert!(clues(&app, &analyst, "rule").await.is_empty());
    // The third raises the clue at once, linked to the report that tipped it.
    let third = app.report(&cast.worker, cast.garbage).await;
    let got = clues(&app, &analyst, "rule").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["event_id"], third);
    assert_eq!(got[0]["node"], "441502001001001");
    assert_eq!(got[0]["type"], "public_health");
    // The centre heard of it.
    let notes = app.get_json("/api/v1/notifications", &analyst).await;
    assert!(notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["kind"] == "risk_clue"));
    // More reports, the sweep, and the next day's reports in the same window: still one.
    app.report(&cast.worker, cast.garbage).await;
    let now = app.clock.now_ms();
    assert_eq!(
        shanzhi::risk::rule::sweep(&app.state, now).await.unwrap(),
        0
    );
    app.set_local(2026, 9, 9, 9, 0);
    app.report(&cast.worker, cast.garbage).await;
    assert_eq!(clues(&app, &analyst, "rule").await.len(), 1);
    // The next window that shares no day with the first (9-09..9-10) holds the report of the
    // 9th: one more on the 10th is two, a second one is a new burst, a new clue.
    app.set_local(2026, 9, 10, 9, 0);
    app.report(&cast.worker, cast.garbage).await;
    assert_eq!(clues(&app, &analyst, "rule").await.len(), 1);
    app.report(&cast.worker, cast.garbage).await;
    assert_eq!(clues(&app, &analyst, "rule").await.len(), 2);

    // The same citizen reports four times in a week: one clue, whatever follows.
    for _ in 0..6 {
        app.report(&cast.citizen, cast.gas).await;
    }
    let repeat: Vec<Value> = clues(&app, &analyst, "rule")
        .await
        .into_iter()
        .filter(|c| c["type"] == "stability")
        .collect();
    assert_eq!(repeat.len(), 1, "{repeat:?}");
    assert!(!repeat[0]["title"].as_str().unwrap().contains("测试"));
    // A rule that no report met as it came in (added after them) is met by the sweep, once
    // per person: the other citizen's three reports and the first citizen's six.
    for _ in 0..3 {
        app.report(&cast.citizen2, cast.gas).await;
    }
    add_rule(
        &app,
        &admin,
        json!({"name": "频繁反映", "kind": "repeat_reporter", "node": "441502000000",
               "params": {"min_reports": 3, "days": 7}, "risk_type": "stability"}),
    )
    .await;
    let now = app.clock.now_ms();
    assert_eq!(
        shanzhi::risk::rule::sweep(&app.state, now).await.unwrap(),
        2
    );
    assert_eq!(
        shanzhi::risk::rule::sweep(&app.state, now).await.unwrap(),
        0
    );

    // A dispute with a violence flag: a clue; a plain one: none.
    let plain = crate::dispute::take_in(&app, &cast.dispatcher, "441502001001", "neighbours").await;
    let r = app
        .post_json(
            "/api/v1/disputes",
            Some(&cast.dispatcher),
            json!({"node": "441502001001", "type": "neighbours", "source": "walk_in", "summary": "邻里冲突，已有推搡",
                   "violence": true, "parties": [{"role": "applicant", "name": "甲"}, {"role": "respondent", "name": "乙"}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let violent = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let d: Vec<Value> = clues(&app, &analyst, "rule")
        .await
        .into_iter()
        .filter(|c| c["type"] == "dispute")
        .collect();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["dispute_id"], violent);
    assert_ne!(d[0]["dispute_id"], plain);

    // Unpaid wages rising, but more than 30 days before the Spring Festival (2027-02-06): no
    // clue; in January the same rise raises one, once.
    for _ in 0..3 {
        crate::dispute::take_in(&app, &cast.dispatcher, "441502001001", "wages").await;
    }
    let at = app.clock.now_ms();
    assert_eq!(shanzhi::risk::rule::sweep(&app.state, at).await.unwrap(), 0);
    app.set_local(2027, 1, 10, 9, 0);
    for _ in 0..3 {
        crate::dispute::take_in(&app, &cast.dispatcher, "441502001001", "wages").await;
    }
    let at = app.clock.now_ms();
    assert_eq!(shanzhi::risk::rule::sweep(&app.state, at).await.unwrap(), 1);
    assert_eq!(shanzhi::risk::rule::sweep(&app.state, at).await.unwrap(), 0);
    figures_match_a_recount(&app).await;
    let f = app
        .get_json("/api/v1/figures/risks?node=441502000000", &admin)
        .await;
    assert_eq!(f["clues_by_rule"], 7, "{f}");
});

db_test!(a_clue_is_assessed_handled_and_closed_after_review, |app| {
    let cast = app.seed_loop().await;
    let analyst = app
        .user("r-analyst", Role::Analyst, Some("441502001000"))
        .await;
    let leader = app
        .user("r-leader", Role::Leader, Some("441502000000"))
        .await;
    app.set_local(2026, 9, 8, 10, 0);
    let id = clue(&app, &analyst, "441502001001001", "河道水位快速上涨").await;
    // Bad moves change nothing.
    let bad = [
        (
            json!({"action": "assess", "level": "purple", "lead_department_id": cast.cg_id, "measures": "m"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "level",
        ),
        (
            json!({"action": "assess", "level": "red", "measures": "m"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lead_department_id",
        ),
        (
            json!({"action": "assess", "level": "red", "lead_department_id": 999_999, "measures": "m"}),
            StatusCode::NOT_FOUND,
            "lead_department_id",
        ),
        (
            json!({"action": "assess", "level": "red", "lead_department_id": cast.cg_id, "helper_ids": [cast.cg_id], "measures": "m"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "helper_ids",
        ),
        (
            json!({"action": "fly"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "action",
        ),
        (
            json!({"action": "finish", "summary": "x"}),
            StatusCode::CONFLICT,
            "",
        ),
    ];
    for (body, status, field) in bad {
        let r = app
            .post_json(
                &format!("/api/v1/risks/{id}/actions"),
                Some(&analyst),
                body.clone(),
            )
            .await;
        let e = assert_error(r, status).await;
        if !field.is_empty() {
            assert_eq!(e["field"], field, "{body}");
        }
    }
    let r = app
        .post_json(
            &format!("/api/v1/risks/{id}/actions"),
            Some(&leader),
            json!({"action": "dismiss", "reason": "x"}),
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN).await;
    let v = app.get_json(&format!("/api/v1/risks/{id}"), &analyst).await;
    assert_eq!(v["state"], "clue");
    assert_eq!(v["timeline"].as_array().unwrap().len(), 1);
    // 联合研判: orange, 城管 leads, 住建 helps; the level's 72 hours start.
    let v = act_ok(
        &app,
        &analyst,
        id,
        json!({"action": "assess", "level": "orange", "lead_department_id": cast.cg_id,
               "helper_ids": [cast.zj_id], "measures": "转移低洼处群众，设置警戒线"}),
    )
    .await;
    assert_eq!(v["state"], "active");
    assert_eq!(v["level"], "orange");
    assert_eq!(
        v["clock"]["due_at"].as_i64().unwrap() - app.clock.now_ms(),
        72 * 3_600_000
    );
    assert!(v["allowed_actions"]
        .as_array()
        .unwrap()
        .contains(&json!("regrade")));
    // Both departments heard of it and see it; the helper reports but may not finish.
    for who in [&cast.cg, &cast.zj] {
        let notes = app.get_json("/api/v1/notifications", who).await;
        assert!(notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "risk_assigned"));
        let list = app.get_json("/api/v1/risks", who).await;
        assert_eq!(list["items"][0]["id"], id);
    }
    act_ok(
        &app,
        &cast.zj,
        id,
        json!({"action": "report", "text": "已转移12户"}),
    )
    .await;
    let r = app
        .post_json(
            &format!("/api/v1/risks/{id}/actions"),
            Some(&cast.zj),
            json!({"action": "finish", "summary": "x"}),
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN).await;
    // Raised to red: a new 24-hour clock from now, on the history.
    app.clock.advance_ms(3_600_000);
    let v = act_ok(
        &app,
        &analyst,
        id,
        json!({"action": "regrade", "level": "red", "reason": "水位继续上涨"}),
    )
    .await;
    assert_eq!(v["level"], "red");
    assert_eq!(
        v["clock"]["due_at"].as_i64().unwrap() - app.clock.now_ms(),
        24 * 3_600_000
    );
    // The lead finishes; the review sends it back once (a reason is required), then closes it.
    act_ok(
        &app,
        &cast.cg,
        id,
        json!({"action": "finish", "summary": "险情解除"}),
    )
    .await;
    let r = app
        .post_json(
            &format!("/api/v1/risks/{id}/actions"),
            Some(&analyst),
            json!({"action": "review", "approve": false}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "note"
    );
    let v = act_ok(
        &app,
        &analyst,
        id,
        json!({"action": "review", "approve": false, "note": "警戒线未撤"}),
    )
    .await;
    assert_eq!(v["state"], "active");
    act_ok(
        &app,
        &cast.cg,
        id,
        json!({"action": "finish", "summary": "警戒已撤"}),
    )
    .await;
    let v = act_ok(
        &app,
        &analyst,
        id,
        json!({"action": "review", "approve": true}),
    )
    .await;
    assert_eq!(v["state"], "closed");
    assert_eq!(v["clock"]["on_time"], true);
    let actions: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["raise", "assess", "report", "regrade", "finish", "review", "finish", "review"]
    );
    assert_eq!(v["reports"].as_array().unwrap().len(), 1);
    // A dismissed clue, then the figures.
    let other = clue(&app, &analyst, "441502001001001", "误报").await;
    act_ok(
        &app,
        &analyst,
        other,
        json!({"action": "dismiss", "reason": "核实无风险"}),
    )
    .await;
    figures_match_a_recount(&app).await;
    let f = app
        .get_json("/api/v1/figures/risks?node=441502001000", &leader)
        .await;
    assert_eq!(
        (
            f["clues"].as_i64(),
            f["converted"].as_i64(),
            f["dismissed"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(f["closed_on_time"], 1);
    assert_eq!(f["by_level"]["red"]["closed"], 1);
    // Audit rows for every move.
    let n = app
        .scalar("SELECT COUNT(*) FROM audit WHERE entity = 'risk'")
        .await;
    assert!(n >= 10, "{n}");
});

db_test!(a_missing_daily_report_warns_the_lead_department, |app| {
    let cast = app.seed_loop().await;
    let analyst = app
        .user("r-analyst", Role::Analyst, Some("441502001000"))
        .await;
    // Assessed orange on Tuesday 2026-09-08: a report is owed on each working day after.
    app.set_local(2026, 9, 8, 10, 0);
    let id = clue(&app, &analyst, "441502001001001", "山体滑坡隐患").await;
    act_ok(&app, &analyst, id, json!({"action": "assess", "level": "orange", "lead_department_id": cast.cg_id, "measures": "监测"})).await;
    let yellow = clue(&app, &analyst, "441502001001001", "路面塌陷").await;
    act_ok(&app, &analyst, yellow, json!({"action": "assess", "level": "yellow", "lead_department_id": cast.cg_id, "measures": "围挡"})).await;
    let sweep = |y, m, d, h| {
        app.set_local(y, m, d, h, 5);
        let now = app.clock.now_ms();
        shanzhi::risk::sweep(&app.state, now)
    };
    // Wednesday: a report that day. Thursday: none.
    app.set_local(2026, 9, 9, 15, 0);
    act_ok(
        &app,
        &cast.cg,
        id,
        json!({"action": "report", "text": "监测正常"}),
    )
    .await;
    assert_eq!(sweep(2026, 9, 10, 0).await.unwrap().lagging, 0);
    let s = sweep(2026, 9, 11, 0).await.unwrap();
    assert_eq!(s.lagging, 1, "{s:?}");
    // Sweeping again finds nothing new.
    assert_eq!(sweep(2026, 9, 11, 1).await.unwrap().lagging, 0);
    let notes = app.get_json("/api/v1/notifications", &cast.cg).await;
    let lag: Vec<&Value> = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "risk_lag")
        .collect();
    assert_eq!(lag.len(), 1);
    assert_eq!(lag[0]["params"]["day"], 20260910);
    let v = app.get_json(&format!("/api/v1/risks/{id}"), &analyst).await;
    assert_eq!(
        v["missed_days"],
        json!([{"department_id": cast.cg_id, "day": 20260910}])
    );
    let board = app
        .get_json("/api/v1/risks/board?node=441502001000", &analyst)
        .await;
    assert_eq!(board["lagging_departments"][0]["department_id"], cast.cg_id);
    assert_eq!(board["lagging_departments"][0]["missed_days"], 1);
    assert_eq!(board["open"]["orange"][0]["id"], id);
    assert_eq!(board["open"]["yellow"][0]["id"], yellow);
    // Friday not reported, the weekend owes nothing: Monday's sweep finds Friday alone.
    let s = sweep(2026, 9, 14, 0).await.unwrap();
    assert_eq!(s.lagging, 1, "{s:?}");
    let v = app.get_json(&format!("/api/v1/risks/{id}"), &analyst).await;
    let days: Vec<i64> = v["missed_days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["day"].as_i64().unwrap())
        .collect();
    assert_eq!(days, [20260911, 20260910]);
    // The yellow risk owes no daily report; the orange one went red on Friday (72 hours).
    let y = app
        .get_json(&format!("/api/v1/risks/{yellow}"), &analyst)
        .await;
    assert_eq!(y["missed_days"], json!([]));
    assert_eq!(v["clock"]["light"], "red");
    figures_match_a_recount(&app).await;
});

db_test!(bad_rules_and_clues_are_refused_and_change_nothing, |app| {
    let cast = app.seed_loop().await;
    let admin = app.user("r-admin", Role::Admin, Some("441502000000")).await;
    let cases = [
        (
            json!({"name": "x", "kind": "category_burst", "node": "441502000000", "params": {"min_events": 3, "days": 2}, "risk_type": "safety"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "params.category_id",
        ),
        (
            json!({"name": "x", "kind": "category_burst", "node": "441502000000", "params": {"category_id": 999999, "min_events": 3, "days": 2}, "risk_type": "safety"}),
            StatusCode::NOT_FOUND,
            "params.category_id",
        ),
        (
            json!({"name": "x", "kind": "weather", "node": "441502000000", "params": {}, "risk_type": "safety"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "kind",
        ),
        (
            json!({"name": "x", "kind": "dispute_flags", "node": "441502000000", "params": {"violence": true}, "risk_type": "weather"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "risk_type",
        ),
        (
            json!({"name": "x", "kind": "dispute_rise", "node": "441502000000", "params": {"type_code": "nope", "days": 3, "min_cases": 1}, "risk_type": "dispute"}),
            StatusCode::NOT_FOUND,
            "params.type_code",
        ),
        (
            json!({"name": "x", "kind": "dispute_flags", "node": "441521000000", "params": {"violence": true}, "risk_type": "dispute"}),
            StatusCode::NOT_FOUND,
            "node",
        ),
    ];
    for (body, status, field) in cases {
        let r = app
            .post_json("/api/v1/risk-rules", Some(&admin), body.clone())
            .await;
        assert_eq!(assert_error(r, status).await["field"], field, "{body}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM risk_rule").await, 0);
    let clues = [
        (
            json!({"node": "441502001001001", "type": "disaster", "title": "  "}),
            "title",
        ),
        (
            json!({"node": "441502001001001", "type": "weather", "title": "x"}),
            "type",
        ),
        (
            json!({"node": "441502001001001", "type": "disaster", "title": "x", "event_id": 999999}),
            "event_id",
        ),
        (
            json!({"node": "4415", "type": "disaster", "title": "x"}),
            "node",
        ),
    ];
    for (body, field) in clues {
        let r = app
            .post_json("/api/v1/risks", Some(&admin), body.clone())
            .await;
        let status = r.status();
        let e: Value = r.json().await.unwrap();
        assert!(status.is_client_error(), "{body}: {status}");
        assert_eq!(e["field"], field, "{body}: {e}");
    }
    let r = app
        .post_json(
            "/api/v1/risks",
            Some(&cast.worker),
            json!({"node": "441502001001001", "type": "disaster", "title": "x"}),
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN).await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM risk").await, 0);
    let r = app.get("/api/v1/risks?level=purple", Some(&admin)).await;
    assert_eq!(
        assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "level"
    );
});
