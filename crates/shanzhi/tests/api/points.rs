//! The village points system (积分制) through HTTP: rules, awards and redemptions with their
//! named refusals, balances equal to their sums after concurrent awards and redemptions, a
//! citizen reading only their own villages, and the points of a confirmed report given once by
//! the sweep (and none for a rejected report).

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use shanzhi::clock::Clock;

use crate::helpers::{assert_error, Cast, Session, TestApp, TINY_PNG};
use crate::house::{exec, resident};

const VILLAGE: &str = "441502001001";
const OTHER: &str = "441502001002";
const GRID: &str = "441502001001001";
const OTHER_GRID: &str = "441502001002001";

/// The village's people: its dispatcher (staff), a committee member (a grid worker with the
/// duty), three residents (the cast's citizen among them) and a resident of the other village.
struct People {
    c: Cast,
    committee: Session,
    a: Session,
    b: Session,
    outsider: Session,
}

/// Registers `who` as a resident of `node` (the register links a resident to their account).
pub async fn live_in(app: &TestApp, who: &Session, node: &str, name: &str) {
    let r = resident(app, node, name, None).await;
    exec(
        &app.state.db,
        &format!(
            "UPDATE resident SET user_id = {} WHERE id = {r}",
            who.user_id
        ),
    )
    .await;
}

async fn people(app: &TestApp) -> People {
    let c = app.seed_loop().await;
    let admin = app.user("p-admin", Role::Admin, Some("441502000000")).await;
    let committee = app.user("p-committee", Role::GridWorker, Some(GRID)).await;
    app.give_duty(&admin, &committee, VILLAGE, "committee")
        .await;
    let a = app.user("p-zhang", Role::Citizen, None).await;
    let b = app.user("p-li", Role::Citizen, None).await;
    let outsider = app.user("p-wang", Role::Citizen, None).await;
    live_in(app, &c.citizen, GRID, "陈大文").await;
    live_in(app, &a, GRID, "张小红").await;
    live_in(app, &b, GRID, "李建国").await;
    live_in(app, &outsider, OTHER_GRID, "王五").await;
    People {
        c,
        committee,
        a,
        b,
        outsider,
    }
}

async fn status_json(r: reqwest::Response, want: StatusCode) -> Value {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, want, "{v}");
    v
}

async fn rule(app: &TestApp, who: &Session, name: &str, points: i64, kind: &str) -> Value {
    status_json(
        app.post_json(
            "/api/v1/points/rules",
            Some(who),
            json!({"node": VILLAGE, "name": name, "points": points, "kind": kind}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

async fn item(app: &TestApp, who: &Session, name: &str, price: i64, stock: i64) -> Value {
    status_json(
        app.post_json(
            "/api/v1/points/items",
            Some(who),
            json!({"node": VILLAGE, "name": name, "price": price, "stock": stock}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

async fn award_call(
    app: &TestApp,
    who: &Session,
    to: &Session,
    rule: &Value,
    note: &str,
) -> reqwest::Response {
    app.post_json(
        "/api/v1/points/awards",
        Some(who),
        json!({"node": VILLAGE, "user_id": to.user_id, "rule_id": rule["id"], "note": note}),
    )
    .await
}

async fn award(app: &TestApp, who: &Session, to: &Session, rule: &Value) -> Value {
    status_json(
        award_call(app, who, to, rule, "参加村道清扫").await,
        StatusCode::CREATED,
    )
    .await
}

async fn redeem(app: &TestApp, who: &Session, item: &Value, quantity: i64) -> reqwest::Response {
    app.post_json(
        "/api/v1/points/redemptions",
        Some(who),
        json!({"item_id": item["id"], "quantity": quantity}),
    )
    .await
}

async fn my_balance(app: &TestApp, who: &Session, node: &str) -> i64 {
    let me = app.get_json("/api/v1/me/points", who).await;
    me["villages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["node"] == node)
        .unwrap_or_else(|| panic!("{node} in {me}"))["balance"]
        .as_i64()
        .unwrap()
}

/// The stored balances equal Σ awards − Σ redemptions, for every resident of the village.
async fn assert_recounted(app: &TestApp) {
    let kept = shanzhi_store::points::balances(&app.state.db, VILLAGE)
        .await
        .unwrap();
    let recount = shanzhi_store::points::recount(&app.state.db, VILLAGE)
        .await
        .unwrap();
    assert_eq!(kept, recount);
}

db_test!(rules_awards_and_redemptions_with_their_refusals, |app| {
    let p = people(&app).await;
    let staff = &p.c.dispatcher;
    let cleanup = rule(&app, staff, "参加环境整治", 5, "manual").await;
    let breach = rule(&app, &p.committee, "违反村规民约", -10, "manual").await;
    let report = rule(&app, staff, "上报隐患经核实", 2, "report_confirmed").await;
    // Who may not manage: a grid worker without the duty, the other village's staff, a citizen.
    for who in [&p.c.worker, &p.c.other_dispatcher, &p.a] {
        assert_error(
            app.post_json(
                "/api/v1/points/rules",
                Some(who),
                json!({"node": VILLAGE, "name": "x", "points": 1, "kind": "manual"}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    // Rules out of bounds; one rule for confirmed reports per village.
    for (points, kind, field) in [
        (0, "manual", "points"),
        (1001, "manual", "points"),
        (-2, "report_confirmed", "points"),
        (3, "auto", "kind"),
    ] {
        let v = assert_error(
            app.post_json(
                "/api/v1/points/rules",
                Some(staff),
                json!({"node": VILLAGE, "name": "x", "points": points, "kind": kind}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["field"], field, "{v}");
    }
    let v = assert_error(
        app.post_json(
            "/api/v1/points/rules",
            Some(staff),
            json!({"node": VILLAGE, "name": "再来一条", "points": 3, "kind": "report_confirmed"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(v["reason"], "points_report_rule_twice");
    // The rule for confirmed reports cannot be made to take points: its stored kind refuses
    // it (a conflict with the rule, not a malformed request), and nothing changes.
    let put = app
        .put_json(
            &format!("/api/v1/points/rules/{}", report["id"]),
            staff,
            json!({"name": "上报隐患经核实", "points": -2, "active": true}),
        )
        .await;
    let v = assert_error(put, StatusCode::CONFLICT).await;
    assert_eq!(
        (v["field"].as_str(), v["reason"].as_str()),
        (Some("points"), Some("points_report_positive"))
    );
    // Input out of range is malformed whatever the rule's kind.
    for (name, points, field) in [("上报隐患经核实", -1001, "points"), ("", 2, "name")] {
        let put = app
            .put_json(
                &format!("/api/v1/points/rules/{}", report["id"]),
                staff,
                json!({"name": name, "points": points, "active": true}),
            )
            .await;
        let v = assert_error(put, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(v["field"], field, "{v}");
    }
    let r = app
        .get(&format!("/api/v1/points/rules?node={VILLAGE}"), Some(staff))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let listed = r.json::<Value>().await.unwrap();
    let stored = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == report["id"])
        .cloned()
        .unwrap();
    assert_eq!(stored, report, "refused changes leave the rule as it was");
    // Awards: by a manual rule, to a resident, with a note.
    for _ in 0..3 {
        award(&app, staff, &p.a, &cleanup).await;
    }
    let w = award(&app, &p.committee, &p.a, &breach).await;
    assert_eq!(w["points"], -10);
    assert_eq!(w["balance"], 5);
    let v = assert_error(
        award_call(&app, staff, &p.outsider, &cleanup, "x").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        (v["field"].as_str(), v["reason"].as_str()),
        (Some("user_id"), Some("points_not_resident"))
    );
    let v = assert_error(
        award_call(&app, staff, &p.c.worker, &cleanup, "x").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "user_id");
    let v = assert_error(
        award_call(&app, staff, &p.a, &report, "x").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["reason"], "points_rule_automatic");
    let v = assert_error(
        award_call(&app, staff, &p.a, &cleanup, "  ").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "note");
    // Evidence photos must be the awarder's uploads; at most nine.
    let r = app
        .upload("/api/v1/photos", staff, TINY_PNG.to_vec(), "image/png")
        .await;
    let hash = status_json(r, StatusCode::CREATED).await["hash"].clone();
    let w = status_json(
        app.post_json(
            "/api/v1/points/awards",
            Some(staff),
            json!({"node": VILLAGE, "user_id": p.b.user_id, "rule_id": cleanup["id"], "note": "帮扶孤寡老人", "evidence": [hash]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(w["evidence"][0]["hash"], hash);
    // The evidence is read by the village's staff and the resident awarded, not by others.
    let photo = format!("/api/v1/photos/{}", hash.as_str().unwrap());
    for (who, want) in [
        (&p.b, StatusCode::OK),
        (&p.committee, StatusCode::OK),
        (&p.a, StatusCode::NOT_FOUND),
        (&p.c.other_dispatcher, StatusCode::NOT_FOUND),
    ] {
        assert_eq!(app.get(&photo, Some(who)).await.status(), want);
    }
    let v = assert_error(
        app.post_json(
            "/api/v1/points/awards",
            Some(staff),
            json!({"node": VILLAGE, "user_id": p.b.user_id, "rule_id": cleanup["id"], "note": "x", "evidence": ["ab".repeat(32)]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "evidence");
    // A withdrawn rule gives nothing more.
    let put = app
        .put_json(
            &format!("/api/v1/points/rules/{}", breach["id"]),
            staff,
            json!({"name": "违反村规民约", "points": -10, "active": false}),
        )
        .await;
    assert_eq!(status_json(put, StatusCode::OK).await["active"], false);
    let v = assert_error(
        award_call(&app, staff, &p.a, &breach, "x").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["reason"], "points_rule_withdrawn");
    // The shop: bad items refused; redemptions refused for a short stock or balance.
    for (price, stock, field) in [(0, 1, "price"), (-3, 1, "price"), (5, -1, "stock")] {
        let v = assert_error(
            app.post_json(
                "/api/v1/points/items",
                Some(staff),
                json!({"node": VILLAGE, "name": "x", "price": price, "stock": stock}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["field"], field);
    }
    let soap = item(&app, staff, "洗衣粉", 5, 1).await;
    let oil = item(&app, &p.committee, "食用油", 20, 5).await;
    app.clock.advance_ms(60_000);
    let r = status_json(redeem(&app, &p.a, &soap, 1).await, StatusCode::CREATED).await;
    assert_eq!(
        (r["points"].as_i64(), r["balance"].as_i64()),
        (Some(5), Some(0))
    );
    let v = assert_error(redeem(&app, &p.b, &soap, 1).await, StatusCode::CONFLICT).await;
    assert_eq!(
        (v["field"].as_str(), v["reason"].as_str()),
        (Some("stock"), Some("points_short_stock"))
    );
    let v = assert_error(redeem(&app, &p.b, &oil, 1).await, StatusCode::CONFLICT).await;
    assert_eq!(
        (v["field"].as_str(), v["reason"].as_str()),
        (Some("balance"), Some("points_short_balance"))
    );
    assert_eq!(v["params"], json!({"balance": "5", "cost": "20"}));
    let v = assert_error(
        redeem(&app, &p.b, &oil, 0).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "quantity");
    assert_error(redeem(&app, staff, &oil, 1).await, StatusCode::FORBIDDEN).await;
    // Restocking adds; the stock never goes below zero.
    let restock = |body: Value| {
        app.client
            .put(format!("{}/api/v1/points/items/{}", app.url, soap["id"]))
            .bearer_auth(&staff.token)
            .json(&body)
            .send()
    };
    let v = status_json(
        restock(json!({"name": "洗衣粉", "price": 5, "restock": 10, "active": true}))
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["stock"], 10);
    let v = assert_error(
        restock(json!({"name": "洗衣粉", "price": 5, "restock": -11, "active": true}))
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(v["field"], "restock");
    // What each reads: the resident their balance and history, staff the lists.
    assert_eq!(my_balance(&app, &p.a, VILLAGE).await, 0);
    assert_eq!(my_balance(&app, &p.b, VILLAGE).await, 5);
    let me = app.get_json("/api/v1/me/points", &p.a).await;
    assert_eq!(me["history"].as_array().unwrap().len(), 5, "{me}");
    assert_eq!(me["history"][0]["kind"], "redemption");
    assert_eq!(me["history"][0]["points"], -5);
    let awards = app
        .get_json(&format!("/api/v1/points/awards?node={VILLAGE}"), staff)
        .await;
    assert_eq!(awards["items"].as_array().unwrap().len(), 5);
    assert_eq!(awards["items"][0]["user_name"], "p-li");
    let reds = app
        .get_json(
            &format!("/api/v1/points/redemptions?node={VILLAGE}"),
            &p.committee,
        )
        .await;
    assert_eq!(reds["items"][0]["item_name"], "洗衣粉");
    assert_recounted(&app).await;
    // Every change is audited.
    let audited = app
        .scalar("SELECT COUNT(*) FROM audit WHERE action LIKE 'points.%'")
        .await;
    // 3 rules + 1 rule change + 5 awards + 2 items + 1 restock + 1 redemption.
    assert_eq!(audited, 13);
});

db_test!(balances_equal_their_sums_after_concurrent_writes, |app| {
    let p = people(&app).await;
    let staff = &p.c.dispatcher;
    let ten = rule(&app, staff, "参加志愿服务", 10, "manual").await;
    for _ in 0..5 {
        award(&app, staff, &p.a, &ten).await;
        award(&app, staff, &p.b, &ten).await;
    }
    // 20 writes at once: 10 awards and 10 redemptions racing for the last 3 of an item.
    let last = item(&app, staff, "大米", 10, 3).await;
    let awards = (0..10).map(|i| {
        let to = if i % 2 == 0 { &p.a } else { &p.b };
        award_call(&app, &p.committee, to, &ten, "巡河")
    });
    let redemptions = (0..10).map(|i| {
        let who = if i % 2 == 0 { &p.a } else { &p.b };
        redeem(&app, who, &last, 1)
    });
    let (awards, redemptions) = futures_util::future::join(
        futures_util::future::join_all(awards),
        futures_util::future::join_all(redemptions),
    )
    .await;
    assert!(awards.iter().all(|r| r.status() == StatusCode::CREATED));
    let done = redemptions
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    assert_eq!(done, 3);
    assert!(redemptions
        .iter()
        .all(|r| matches!(r.status(), StatusCode::CREATED | StatusCode::CONFLICT)));
    let stock = app
        .scalar(&format!(
            "SELECT stock FROM points_item WHERE id = {}",
            last["id"]
        ))
        .await;
    assert_eq!(stock, 0);
    assert_recounted(&app).await;
    let (a, b) = (
        my_balance(&app, &p.a, VILLAGE).await,
        my_balance(&app, &p.b, VILLAGE).await,
    );
    assert_eq!(a + b, 100 + 100 - 30);
    // A balance that covers one redemption, five tries at once: one goes through, none
    // overdraws.
    let c = &p.c.citizen;
    award(&app, staff, c, &ten).await;
    let bike = item(&app, staff, "自行车", 10, 10).await;
    let tries = (0..5).map(|_| redeem(&app, c, &bike, 1));
    let answers = futures_util::future::join_all(tries).await;
    assert_eq!(
        answers
            .iter()
            .filter(|r| r.status() == StatusCode::CREATED)
            .count(),
        1
    );
    assert_eq!(my_balance(&app, c, VILLAGE).await, 0);
    assert_eq!(
        app.scalar(&format!(
            "SELECT stock FROM points_item WHERE id = {}",
            bike["id"]
        ))
        .await,
        9
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM points_balance WHERE balance < 0")
            .await,
        0
    );
    assert_recounted(&app).await;
});

db_test!(a_citizen_sees_only_their_own_villages, |app| {
    let p = people(&app).await;
    let staff = &p.c.dispatcher;
    let cleanup = rule(&app, staff, "参加环境整治", 5, "manual").await;
    let soap = item(&app, staff, "洗衣粉", 5, 3).await;
    award(&app, staff, &p.a, &cleanup).await;
    award(&app, staff, &p.a, &cleanup).await;
    award(&app, staff, &p.b, &cleanup).await;
    // A resident reads the rules, the shop (with their balance) and the ranking, names masked.
    let ranking = app
        .get_json(&format!("/api/v1/points/ranking?node={VILLAGE}"), &p.b)
        .await;
    let items = ranking["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{ranking}");
    assert_eq!(items[0]["balance"], 10);
    assert_eq!(items[0]["name"], "p*");
    assert!(items[0].get("user_id").is_none());
    assert_eq!(
        (items[1]["me"].as_bool(), items[0]["me"].as_bool()),
        (Some(true), Some(false))
    );
    let shop = app
        .get_json(&format!("/api/v1/points/items?node={VILLAGE}"), &p.b)
        .await;
    assert_eq!(
        (
            shop["balance"].as_i64(),
            shop["items"].as_array().map(Vec::len)
        ),
        (Some(5), Some(1))
    );
    let residents = app
        .get_json(&format!("/api/v1/points/residents?node={VILLAGE}"), staff)
        .await;
    let names: Vec<(&str, i64)> = residents["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["balance"].as_i64().unwrap()))
        .collect();
    assert_eq!(names, [("citizen", 0), ("p-li", 5), ("p-zhang", 10)]);
    assert_error(
        app.get(
            &format!("/api/v1/points/residents?node={VILLAGE}"),
            Some(&p.b),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let staff_ranking = app
        .get_json(&format!("/api/v1/points/ranking?node={VILLAGE}"), staff)
        .await;
    assert_eq!(staff_ranking["items"][0]["name"], "p-zhang");
    // The other village's resident reads none of it and redeems nothing here.
    for path in [
        "rules",
        "ranking",
        "items",
        "awards",
        "redemptions",
        "residents",
    ] {
        assert_error(
            app.get(
                &format!("/api/v1/points/{path}?node={VILLAGE}"),
                Some(&p.outsider),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    assert_error(
        redeem(&app, &p.outsider, &soap, 1).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // The village's own residents read no staff list either.
    assert_error(
        app.get(&format!("/api/v1/points/awards?node={VILLAGE}"), Some(&p.a))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let me = app.get_json("/api/v1/me/points", &p.outsider).await;
    assert_eq!(
        me["villages"],
        json!([{"node": OTHER, "name": me["villages"][0]["name"], "balance": 0}])
    );
    assert_eq!(me["history"], json!([]));
    // Staff have no page of their own; the other village's staff see none of this one.
    assert_error(
        app.get("/api/v1/me/points", Some(staff)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_error(
        app.get(
            &format!("/api/v1/points/ranking?node={VILLAGE}"),
            Some(&p.c.other_dispatcher),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
});

/// An accepted report dispatched, handled and verified: closed as real (结案).
async fn walk_to_closed(app: &TestApp, c: &Cast, id: i64) {
    app.act_ok(
        &c.dispatcher,
        id,
        "dispatch",
        json!({"department_id": c.zj_id}),
    )
    .await;
    app.act_ok(&c.zj, id, "sign", json!({})).await;
    app.act_ok(&c.zj, id, "report_result", json!({"note": "阀门已更换"}))
        .await;
    let e = app
        .act_ok(&c.worker, id, "verify", json!({"ok": true}))
        .await;
    assert_eq!(e["state"], "closed");
}

db_test!(
    a_confirmed_report_earns_points_once_and_a_rejected_one_none,
    |app| {
        let p = people(&app).await;
        let c = &p.c;
        // A report closed before the village published its rule earns nothing by it.
        let early = app.report(&c.citizen, c.gas).await;
        app.act_ok(&c.dispatcher, early, "accept", json!({})).await;
        walk_to_closed(&app, c, early).await;
        assert_eq!(
            shanzhi::points::sweep(&app.state, app.clock.now_ms())
                .await
                .unwrap(),
            0
        );
        app.clock.advance_ms(60_000);
        rule(&app, &c.dispatcher, "上报隐患经核实", 2, "report_confirmed").await;
        // One report closed as real, one rejected, one still open.
        let closed = app.report(&c.citizen, c.gas).await;
        app.act_ok(&c.dispatcher, closed, "accept", json!({})).await;
        walk_to_closed(&app, c, closed).await;
        let rejected = app.report(&c.citizen, c.gas).await;
        app.act_ok(
            &c.dispatcher,
            rejected,
            "reject",
            json!({"reason": "不属实"}),
        )
        .await;
        let open = app.report(&c.citizen, c.gas).await;
        app.act_ok(&c.dispatcher, open, "accept", json!({})).await;
        // The sweep runs on every server: twice at once, then again.
        let now = app.clock.now_ms();
        let (x, y) = futures_util::future::join(
            shanzhi::points::sweep(&app.state, now),
            shanzhi::points::sweep(&app.state, now),
        )
        .await;
        assert_eq!(x.unwrap() + y.unwrap(), 1);
        assert_eq!(shanzhi::points::sweep(&app.state, now).await.unwrap(), 0);
        assert_eq!(my_balance(&app, &c.citizen, VILLAGE).await, 2);
        let me = app.get_json("/api/v1/me/points", &c.citizen).await;
        assert_eq!(me["history"].as_array().unwrap().len(), 1, "{me}");
        assert_eq!(me["history"][0]["automatic"], true);
        assert_eq!(
            app.scalar(&format!(
                "SELECT COUNT(*) FROM points_award WHERE source_event_id = {closed}"
            ))
            .await,
            1
        );
        assert_eq!(
            app.scalar(&format!(
                "SELECT COUNT(*) FROM points_award WHERE source_event_id IN ({early}, {rejected}, {open})"
            ))
            .await,
            0
        );
        // The open one closes later: its points come with the next run, once.
        app.act_ok(
            &c.dispatcher,
            open,
            "dispatch",
            json!({"department_id": c.zj_id}),
        )
        .await;
        app.act_ok(&c.zj, open, "sign", json!({})).await;
        app.act_ok(&c.zj, open, "report_result", json!({"note": "已处理"}))
            .await;
        app.act_ok(&c.worker, open, "verify", json!({"ok": true}))
            .await;
        let now = app.clock.now_ms();
        assert_eq!(shanzhi::points::sweep(&app.state, now).await.unwrap(), 1);
        assert_eq!(shanzhi::points::sweep(&app.state, now).await.unwrap(), 0);
        assert_eq!(my_balance(&app, &c.citizen, VILLAGE).await, 4);
        assert_recounted(&app).await;
    }
);

/// A rule and an item of village 441502001001 and of the other county's village, for the
/// authorization matrix (written by the store).
pub struct PointsWorld {
    pub rule: [i64; 2],
    pub item: [i64; 2],
}

pub async fn points_world(app: &TestApp, by: i64) -> PointsWorld {
    let mut w = PointsWorld {
        rule: [0; 2],
        item: [0; 2],
    };
    for (i, node) in ["441502001001", "441521001001"].iter().enumerate() {
        w.rule[i] =
            shanzhi_store::points::insert_rule(&app.state.db, node, "矩阵", 5, "manual", by, 0)
                .await
                .unwrap()
                .id;
        w.item[i] = shanzhi_store::points::insert_item(&app.state.db, node, "矩阵", 5, 1, by, 0)
            .await
            .unwrap()
            .id;
    }
    w
}

// The town demo written once: its points add up, and its consultations and drafts are there.
db_test!(the_demo_points_add_up_in_every_village, |app| {
    let city =
        tokio::task::spawn_blocking(|| shanzhi::demo::generate(shanzhi::demo::Scale::Town, 3))
            .await
            .unwrap()
            .unwrap();
    let events = shanzhi::demo::history::events_a_year(city.scale);
    shanzhi::demo::write_with_events(
        &app.state.db,
        &app.state.pii,
        &city,
        app.state.clock.now_ms(),
        events,
    )
    .await
    .unwrap();
    let villages: Vec<String> = shanzhi_store::with_pool!(&app.state.db, pool => {
        sqlx::query_scalar("SELECT DISTINCT node_code FROM points_rule ORDER BY node_code").fetch_all(pool).await.unwrap()
    });
    assert!(!villages.is_empty());
    for v in &villages {
        let kept = shanzhi_store::points::balances(&app.state.db, v)
            .await
            .unwrap();
        let recount = shanzhi_store::points::recount(&app.state.db, v)
            .await
            .unwrap();
        assert_eq!(kept, recount, "{v}");
    }
    let count = |sql: &'static str| app.scalar(sql);
    assert!(count("SELECT COUNT(*) FROM points_award").await > 20);
    assert!(count("SELECT COUNT(*) FROM points_redemption").await > 0);
    assert_eq!(
        count("SELECT COUNT(*) FROM points_item WHERE stock < 0").await,
        0
    );
    // The demo's confirmed reports were given their points by the sweep, once each.
    let automatic =
        count("SELECT COUNT(*) FROM points_award WHERE source_event_id IS NOT NULL").await;
    let closed_reports = count("SELECT COUNT(*) FROM points_award a JOIN event e ON e.id = a.source_event_id WHERE e.state = 'closed' AND e.reporter_id = a.user_id").await;
    assert_eq!(automatic, closed_reports);
    eprintln!(
        "demo points: {} awards ({automatic} automatic), {} redemptions",
        count("SELECT COUNT(*) FROM points_award").await,
        count("SELECT COUNT(*) FROM points_redemption").await
    );
    // The demo's consultations and legislative drafts (written in the same run).
    for state in ["open", "held", "concluded"] {
        let n: i64 = shanzhi_store::with_pool!(&app.state.db, pool => {
            sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM consultation WHERE state = $1").bind(state).fetch_one(pool).await.unwrap()
        });
        assert!(n > 0, "no {state} topic");
    }
    assert_eq!(
        count("SELECT CAST(COALESCE(SUM(comments), 0) AS BIGINT) FROM consultation").await,
        count("SELECT COUNT(*) FROM consultation_comment").await
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM draft_law WHERE state = 'open'").await,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM draft_law WHERE state = 'done'").await,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM opinion o JOIN draft_law d ON d.id = o.draft_id WHERE d.state = 'done' AND o.verdict = 'received'").await,
        0
    );
    assert!(count("SELECT COUNT(*) FROM opinion WHERE verdict = 'adopted'").await > 0);
    assert!(
        count("SELECT COUNT(*) FROM question WHERE subject = 'suggestion' AND state = 'answered'")
            .await
            > 0
    );
    assert_eq!(
        shanzhi::points::sweep(&app.state, app.state.clock.now_ms())
            .await
            .unwrap(),
        0
    );
});
