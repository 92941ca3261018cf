//! 待办 through HTTP: for every role, orders in every waiting situation, and the inbox holds
//! exactly them, with the right kinds, counts and order.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::grid_take::grid_first_on;
use crate::helpers::{local, Cast, Session, TestApp};

/// (id, kinds) in the inbox's order, the counts, and the whole answer.
async fn inbox(
    app: &TestApp,
    who: &Session,
) -> (Vec<(i64, Vec<String>)>, BTreeMap<String, i64>, Value) {
    let v: Value = app.get_json("/api/v1/inbox", who).await;
    let items = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let kinds = i["waits_for"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect();
            (i["id"].as_i64().unwrap(), kinds)
        })
        .collect();
    let counts = v["counts"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, n)| n.as_i64() != Some(0))
        .map(|(k, n)| (k.clone(), n.as_i64().unwrap()))
        .collect();
    (items, counts, v)
}

fn sorted(mut v: Vec<(i64, Vec<String>)>) -> Vec<(i64, Vec<String>)> {
    v.sort();
    v
}

fn want(rows: &[(i64, &[&str])]) -> Vec<(i64, Vec<String>)> {
    sorted(
        rows.iter()
            .map(|(id, ks)| (*id, ks.iter().map(|k| k.to_string()).collect()))
            .collect(),
    )
}

fn counts(rows: &[(&str, i64)]) -> BTreeMap<String, i64> {
    rows.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

async fn accepted(app: &TestApp, c: &Cast) -> i64 {
    let id = app.report(&c.citizen, c.gas).await;
    app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
    id
}

async fn at_department(app: &TestApp, c: &Cast) -> i64 {
    let id = accepted(app, c).await;
    app.act_ok(
        &c.dispatcher,
        id,
        "dispatch",
        json!({"department_id": c.zj_id}),
    )
    .await;
    id
}

async fn signed(app: &TestApp, c: &Cast) -> i64 {
    let id = at_department(app, c).await;
    app.act_ok(&c.zj, id, "sign", json!({})).await;
    id
}

async fn handled(app: &TestApp, c: &Cast) -> i64 {
    let id = signed(app, c).await;
    app.act_ok(&c.zj, id, "report_result", json!({"note": "已修好"}))
        .await;
    id
}

async fn closed(app: &TestApp, c: &Cast) -> i64 {
    let id = handled(app, c).await;
    app.act_ok(&c.dispatcher, id, "verify", json!({"ok": true}))
        .await;
    id
}

db_test!(
    every_role_finds_exactly_what_waits_on_it_with_its_kinds_and_counts,
    |app| {
        let c = app.seed_loop().await;
        app.set_local(2026, 12, 1, 9, 0);
        grid_first_on(&app, &c, c.garbage).await;
        let step = || app.clock.advance_ms(60_000);
        // With the grid.
        let waiting = app.report(&c.citizen, c.garbage).await;
        step();
        let taken = app.report(&c.citizen2, c.garbage).await;
        app.act_ok(&c.worker, taken, "take", json!({})).await;
        step();
        // At the centre.
        let new = app.report(&c.citizen, c.gas).await;
        step();
        let to_dispatch = accepted(&app, &c).await;
        step();
        let bounced = at_department(&app, &c).await;
        for i in 0..3 {
            if i > 0 {
                app.act_ok(
                    &c.dispatcher,
                    bounced,
                    "dispatch",
                    json!({"department_id": c.zj_id}),
                )
                .await;
            }
            app.act_ok(&c.zj, bounced, "return", json!({"reason": "不归我们管"}))
                .await;
        }
        assert_eq!(
            app.event(&c.dispatcher, bounced).await["decision_required"],
            true
        );
        step();
        let extension = signed(&app, &c).await;
        app.act_ok(
            &c.zj,
            extension,
            "request_extension",
            json!({"minutes": 120, "reason": "等配件"}),
        )
        .await;
        step();
        let to_verify = handled(&app, &c).await;
        step();
        let reopened = closed(&app, &c).await;
        app.act_ok(
            &c.citizen,
            reopened,
            "rate",
            json!({"score": 1, "fixed": false}),
        )
        .await;
        step();
        // At a department.
        let to_sign = at_department(&app, &c).await;
        step();
        let in_hand = signed(&app, &c).await;
        step();
        let summoned = accepted(&app, &c).await;
        app.act_ok(
            &c.dispatcher,
            summoned,
            "summon",
            json!({"departments": [c.cg_id, c.zj_id], "lead": c.zj_id}),
        )
        .await;
        step();
        // With the reporter.
        let to_rate = closed(&app, &c).await;
        let rated = closed(&app, &c).await;
        app.act_ok(
            &c.citizen,
            rated,
            "rate",
            json!({"score": 5, "fixed": true}),
        )
        .await;

        let (items, n, v) = inbox(&app, &c.dispatcher).await;
        assert_eq!(
            sorted(items),
            want(&[
                (new, &["accept"]),
                (to_dispatch, &["dispatch"]),
                (bounced, &["decide"]),
                (extension, &["decide_extension"]),
                (to_verify, &["verify"]),
                (reopened, &["dispatch"])
            ])
        );
        assert_eq!(
            n,
            counts(&[
                ("accept", 1),
                ("dispatch", 2),
                ("decide", 1),
                ("decide_extension", 1),
                ("verify", 1)
            ])
        );
        assert_eq!(
            (v["total"].as_i64(), v["capped"].as_bool()),
            (Some(6), Some(false))
        );
        // 重办 is marked, and only there.
        for i in v["items"].as_array().unwrap() {
            assert_eq!(
                i["reopened"].as_bool(),
                Some(i["id"].as_i64() == Some(reopened)),
                "{i}"
            );
        }

        let (items, n, _) = inbox(&app, &c.worker).await;
        assert_eq!(
            sorted(items),
            want(&[
                (waiting, &["take"]),
                (taken, &["taken"]),
                (to_verify, &["verify"])
            ])
        );
        assert_eq!(n, counts(&[("take", 1), ("taken", 1), ("verify", 1)]));

        let (items, n, _) = inbox(&app, &c.zj).await;
        assert_eq!(
            sorted(items),
            want(&[
                (extension, &["handle"]),
                (to_sign, &["sign"]),
                (in_hand, &["handle"]),
                (summoned, &["sign", "check_in"])
            ])
        );
        assert_eq!(n, counts(&[("handle", 2), ("sign", 2), ("check_in", 1)]));
        let (items, _, _) = inbox(&app, &c.cg).await;
        assert_eq!(sorted(items), want(&[(summoned, &["check_in"])]));

        let (items, n, _) = inbox(&app, &c.citizen).await;
        assert_eq!(sorted(items), want(&[(to_rate, &["rate"])]));
        assert_eq!(n, counts(&[("rate", 1)]));
        let (items, _, _) = inbox(&app, &c.citizen2).await;
        assert!(items.is_empty());
        // Roles without moves of the loop have nothing waiting.
        for role in [Role::Admin, Role::Leader, Role::Analyst] {
            let who = app
                .user(&format!("x-{}", role.as_str()), role, Some("441502001001"))
                .await;
            let (items, n, _) = inbox(&app, &who).await;
            assert!(items.is_empty() && n.is_empty(), "{role:?}");
        }
        // Someone above the village's centre has its own inbox: the village's orders are not in it.
        let (items, _, _) = inbox(&app, &c.town_dispatcher).await;
        assert!(items.is_empty());

        // Each item's kinds are the order page's moves: the inbox and the page agree.
        for who in [&c.dispatcher, &c.worker, &c.zj, &c.cg, &c.citizen] {
            for (id, kinds) in inbox(&app, who).await.0 {
                let page = app.event(who, id).await;
                let allowed: Vec<&str> = page["allowed_actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap())
                    .collect();
                assert!(
                    !allowed.is_empty() && !kinds.is_empty(),
                    "{id}: {allowed:?}"
                );
            }
        }
        // A kind filters the items, not the counts.
        let v: Value = app
            .get_json("/api/v1/inbox?kind=dispatch", &c.dispatcher)
            .await;
        let ids: Vec<i64> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect();
        assert_eq!(
            sorted(ids.iter().map(|i| (*i, vec![])).collect()),
            sorted(vec![(to_dispatch, vec![]), (reopened, vec![])])
        );
        assert_eq!(v["counts"]["accept"], 1);
        let r = app
            .get("/api/v1/inbox?kind=nothing", Some(&c.dispatcher))
            .await;
        crate::helpers::assert_error(r, reqwest::StatusCode::UNPROCESSABLE_ENTITY).await;
        let r = app.get("/api/v1/inbox?limit=0", Some(&c.dispatcher)).await;
        crate::helpers::assert_error(r, reqwest::StatusCode::UNPROCESSABLE_ENTITY).await;
    }
);

db_test!(the_inbox_shows_red_then_yellow_then_by_due_time, |app| {
    let c = app.seed_loop().await;
    app.set_local(2026, 12, 1, 9, 0);
    let first = app.report(&c.citizen, c.gas).await; // accept clock: due 10:00
    app.set_local(2026, 12, 1, 9, 10);
    let second = app.report(&c.citizen, c.gas).await; // due 10:10
    app.set_local(2026, 12, 1, 9, 20);
    let third = app.report(&c.citizen, c.gas).await; // due 10:20
    app.set_local(2026, 12, 1, 9, 55);
    // Accepting starts a fresh clock: due 10:55.
    app.act_ok(&c.dispatcher, first, "accept", json!({})).await;
    let at = local(2026, 12, 1, 10, 12);
    app.clock.set(at);
    shanzhi::event::sweep(&app.state, at).await.unwrap();
    let v: Value = app.get_json("/api/v1/inbox", &c.dispatcher).await;
    let got: Vec<(i64, String)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_i64().unwrap(),
                i["light"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (second, "red".to_owned()),
            (third, "yellow".to_owned()),
            (first, "green".to_owned())
        ]
    );
    // `limit` cuts the items, not the total.
    let v: Value = app.get_json("/api/v1/inbox?limit=1", &c.dispatcher).await;
    assert_eq!(
        (v["items"].as_array().unwrap().len(), v["total"].as_i64()),
        (1, Some(3))
    );
    assert_eq!(v["items"][0]["id"].as_i64(), Some(second));
});
