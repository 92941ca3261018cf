//! Notices that reach people: who gets each kind, read state per user, the live stream.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, Session, TestApp};

/// Every notice `who` has, as (event id, kind), oldest first.
async fn notices(app: &TestApp, who: &Session) -> Vec<(i64, String)> {
    let v = app.get_json("/api/v1/notifications?limit=200", who).await;
    let mut out: Vec<(i64, String)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["event_id"].as_i64().unwrap(),
                n["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.reverse();
    out
}

fn kinds(list: &[(i64, &str)]) -> Vec<(i64, String)> {
    list.iter().map(|(e, k)| (*e, k.to_string())).collect()
}

db_test!(every_notice_kind_reaches_exactly_the_right_people, |app| {
    let c = app.seed_loop().await;
    // One order through the whole loop, with a duplicate merged into it and a reopening.
    let a = app.report(&c.citizen, c.gas).await;
    let dup = app.report(&c.citizen2, c.gas).await;
    app.act_ok(&c.dispatcher, dup, "merge", json!({"into": a}))
        .await;
    app.act_ok(&c.dispatcher, a, "accept", json!({})).await;
    app.act_ok(
        &c.dispatcher,
        a,
        "dispatch",
        json!({"department_id": c.zj_id}),
    )
    .await;
    app.act_ok(&c.dispatcher, a, "remind", json!({"note": "请今天处理"}))
        .await;
    app.act_ok(&c.zj, a, "sign", json!({})).await;
    app.act_ok(
        &c.zj,
        a,
        "request_extension",
        json!({"minutes": 60, "reason": "等材料"}),
    )
    .await;
    app.act_ok(
        &c.dispatcher,
        a,
        "decide_extension",
        json!({"approve": true}),
    )
    .await;
    app.act_ok(&c.zj, a, "report_result", json!({"note": "已修好"}))
        .await;
    app.act_ok(&c.worker, a, "verify", json!({"ok": true}))
        .await;
    app.act_ok(&c.citizen, a, "rate", json!({"score": 2, "fixed": false}))
        .await;
    // One rejected, with its reason.
    let b = app.report(&c.citizen, c.garbage).await;
    app.act_ok(
        &c.dispatcher,
        b,
        "reject",
        json!({"reason": "不属于受理范围"}),
    )
    .await;
    // One returned by 城管 to the centre, then escalated to the town.
    let d = app.report(&c.citizen2, c.garbage).await;
    app.act_ok(&c.dispatcher, d, "accept", json!({})).await;
    app.act_ok(
        &c.dispatcher,
        d,
        "dispatch",
        json!({"department_id": c.cg_id}),
    )
    .await;
    app.act_ok(&c.cg, d, "return", json!({"reason": "不是我们的事"}))
        .await;
    app.act_ok(
        &c.dispatcher,
        d,
        "escalate",
        json!({"reason": "需要街道协调"}),
    )
    .await;
    // One summoned to both departments.
    let e = app.report(&c.citizen, c.gas).await;
    app.act_ok(&c.dispatcher, e, "accept", json!({})).await;
    app.act_ok(
        &c.dispatcher,
        e,
        "summon",
        json!({"departments": [c.cg_id, c.zj_id], "lead": c.zj_id}),
    )
    .await;

    let followers_of_a = [
        (a, "report_accepted"),
        (a, "report_dispatched"),
        (a, "report_in_progress"),
        (a, "report_handled"),
        (a, "report_closed"),
        (a, "report_reopened"),
    ];
    let mut citizen = followers_of_a.to_vec();
    citizen.extend([
        (b, "report_rejected"),
        (e, "report_accepted"),
        (e, "report_dispatched"),
    ]);
    assert_eq!(notices(&app, &c.citizen).await, kinds(&citizen));
    let mut citizen2 = vec![(dup, "report_merged")];
    citizen2.extend(followers_of_a);
    citizen2.extend([
        (d, "report_accepted"),
        (d, "report_dispatched"),
        (d, "report_escalated"),
    ]);
    assert_eq!(notices(&app, &c.citizen2).await, kinds(&citizen2));
    assert_eq!(
        notices(&app, &c.zj).await,
        kinds(&[
            (a, "dispatch"),
            (a, "remind"),
            (a, "extension_decided"),
            (e, "summon")
        ])
    );
    assert_eq!(
        notices(&app, &c.cg).await,
        kinds(&[(d, "dispatch"), (e, "summon")])
    );
    assert_eq!(
        notices(&app, &c.dispatcher).await,
        kinds(&[(a, "extension_requested"), (d, "return")])
    );
    assert_eq!(
        notices(&app, &c.town_dispatcher).await,
        kinds(&[(d, "escalated")])
    );
    for nobody in [&c.worker, &c.other_dispatcher] {
        assert_eq!(notices(&app, nobody).await, Vec::new());
    }
    // Parameters for the words: the department by name, the reason, the kept order.
    let all = app
        .get_json("/api/v1/notifications?limit=200", &c.citizen2)
        .await;
    let find = |kind: &str| -> Value {
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["kind"] == kind)
            .unwrap()
            .clone()
    };
    assert_eq!(find("report_merged")["params"]["into"], a);
    let dispatched = find("report_dispatched");
    assert!(
        dispatched["params"]["department"] == "城区住建局"
            || dispatched["params"]["department"] == "城区城管局",
        "{dispatched}"
    );
    let mine = app
        .get_json("/api/v1/notifications?limit=200", &c.citizen)
        .await;
    let rejected = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "report_rejected")
        .unwrap()
        .clone();
    assert_eq!(rejected["params"]["reason"], "不属于受理范围");
    let returned = app.get_json("/api/v1/notifications", &c.dispatcher).await;
    assert_eq!(returned["items"][0]["params"]["reason"], "不是我们的事");
    assert_eq!(returned["items"][0]["params"]["department"], "城区城管局");
});

db_test!(notices_are_read_per_user_and_counted, |app| {
    let c = app.seed_loop().await;
    app.create_user("zj-2", Role::Handler, None, Some(c.zj_id))
        .await;
    let zj2 = app.login("zj-2").await;
    for _ in 0..3 {
        let id = app.report(&c.citizen, c.gas).await;
        app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
        app.act_ok(
            &c.dispatcher,
            id,
            "dispatch",
            json!({"department_id": c.zj_id}),
        )
        .await;
    }
    let v = app.get_json("/api/v1/notifications", &c.zj).await;
    assert_eq!(v["unread"], 3);
    assert!(v["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["read"] == false));
    let first = v["items"][0]["id"].as_i64().unwrap();
    let r = app
        .post_json(
            &format!("/api/v1/notifications/{first}/read"),
            Some(&c.zj),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["unread"], 2);
    // Read again: still read, nothing changes.
    let r = app
        .post_json(
            &format!("/api/v1/notifications/{first}/read"),
            Some(&c.zj),
            json!({}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["unread"], 2);
    let v = app.get_json("/api/v1/notifications", &c.zj).await;
    assert_eq!(v["items"][0]["read"], true);
    // The department's other handler has read nothing.
    assert_eq!(
        app.get_json("/api/v1/notifications", &zj2).await["unread"],
        3
    );
    // Nobody marks another's notice, nor learns it exists.
    assert_error(
        app.post_json(
            &format!("/api/v1/notifications/{first}/read"),
            Some(&c.cg),
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Only the unread; then pages of one.
    let v = app
        .get_json("/api/v1/notifications?unread=true", &c.zj)
        .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    let p1 = app.get_json("/api/v1/notifications?limit=1", &c.zj).await;
    let next = p1["next_before"].as_i64().unwrap();
    let p2 = app
        .get_json(
            &format!("/api/v1/notifications?limit=1&before={next}"),
            &c.zj,
        )
        .await;
    assert!(p2["items"][0]["id"].as_i64().unwrap() < next);
    assert_error(
        app.get("/api/v1/notifications?limit=0", Some(&c.zj)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // All read.
    let r = app
        .post_json("/api/v1/notifications/read_all", Some(&c.zj), json!({}))
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["marked"].as_i64(), v["unread"].as_i64()),
        (Some(2), Some(0))
    );
    assert_eq!(
        app.get_json("/api/v1/notifications?unread=true", &c.zj)
            .await["items"],
        json!([])
    );
    assert_eq!(
        app.get_json("/api/v1/notifications", &zj2).await["unread"],
        3
    );
});

/// A live stream: reads server-sent events into `buf` until one named `event` whose data
/// contains `needle` arrives, or the time is up (false).
async fn wait_for(
    r: &mut reqwest::Response,
    buf: &mut String,
    event: &str,
    needle: &str,
    within: Duration,
) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let found = buf.split("\n\n").any(|block| {
            block.lines().any(|l| l == format!("event: {event}")) && block.contains(needle)
        });
        if found {
            return true;
        }
        match tokio::time::timeout_at(deadline, r.chunk()).await {
            Ok(Ok(Some(bytes))) => buf.push_str(&String::from_utf8_lossy(&bytes)),
            _ => return false,
        }
    }
}

async fn open_stream(app: &TestApp, who: &Session) -> reqwest::Response {
    let r = app
        .client
        .get(format!("{}/api/v1/notifications/stream", app.url))
        .bearer_auth(&who.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    r
}

db_test!(
    the_stream_delivers_a_notice_made_after_the_client_connected,
    |app| {
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
        let mut zj = open_stream(&app, &c.zj).await;
        let mut cg = open_stream(&app, &c.cg).await;
        let (mut zj_buf, mut cg_buf) = (String::new(), String::new());
        // On connect: the count (the dispatch notice is unread), and no old notice replayed.
        assert!(
            wait_for(
                &mut zj,
                &mut zj_buf,
                "unread",
                "\"unread\":1",
                Duration::from_secs(10)
            )
            .await,
            "{zj_buf}"
        );
        assert!(
            wait_for(
                &mut cg,
                &mut cg_buf,
                "unread",
                "\"unread\":0",
                Duration::from_secs(10)
            )
            .await,
            "{cg_buf}"
        );
        assert!(!zj_buf.contains("event: notification"), "{zj_buf}");
        app.act_ok(&c.dispatcher, id, "remind", json!({"note": "快"}))
            .await;
        assert!(
            wait_for(
                &mut zj,
                &mut zj_buf,
                "notification",
                "\"kind\":\"remind\"",
                Duration::from_secs(10)
            )
            .await,
            "{zj_buf}"
        );
        assert!(
            wait_for(
                &mut zj,
                &mut zj_buf,
                "unread",
                "\"unread\":2",
                Duration::from_secs(10)
            )
            .await,
            "{zj_buf}"
        );
        // Another department hears nothing of it.
        assert!(
            !wait_for(
                &mut cg,
                &mut cg_buf,
                "notification",
                "",
                Duration::from_millis(1500)
            )
            .await,
            "{cg_buf}"
        );
        // The citizen's stream carries their own progress.
        let mut citizen = open_stream(&app, &c.citizen).await;
        let mut buf = String::new();
        assert!(
            wait_for(
                &mut citizen,
                &mut buf,
                "unread",
                "unread",
                Duration::from_secs(10)
            )
            .await
        );
        app.act_ok(&c.zj, id, "sign", json!({})).await;
        assert!(
            wait_for(
                &mut citizen,
                &mut buf,
                "notification",
                "report_in_progress",
                Duration::from_secs(10)
            )
            .await,
            "{buf}"
        );
        // No session, no stream.
        let r = app.get("/api/v1/notifications/stream", None).await;
        assert_error(r, StatusCode::UNAUTHORIZED).await;
    }
);

db_test!(
    the_sweep_supervises_the_department_and_tells_the_reporter_of_an_escalation,
    |app| {
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
        // Far past the deadline and the category's 240 red minutes: yellow, red, then escalation.
        for day in [2, 4, 9] {
            let at = crate::helpers::local(2026, 12, day, 17, 0);
            app.clock.set(at);
            shanzhi::event::sweep(&app.state, at).await.unwrap();
        }
        assert_eq!(
            app.event(&c.town_dispatcher, id).await["centre"],
            "441502001000"
        );
        let supervise: Vec<String> = app.get_json("/api/v1/notifications?limit=200", &c.zj).await
            ["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "supervise")
            .map(|n| n["params"]["level"].as_str().unwrap().to_owned())
            .collect();
        // Newest first: the red card with the escalation, after the yellow card of the overdue order.
        assert_eq!(&supervise[..2], ["red", "yellow"], "{supervise:?}");
        assert_eq!(
            notices(&app, &c.town_dispatcher).await,
            kinds(&[(id, "escalated")])
        );
        let citizen = notices(&app, &c.citizen).await;
        assert_eq!(
            citizen.last(),
            Some(&(id, "report_escalated".to_owned())),
            "{citizen:?}"
        );
        assert_eq!(notices(&app, &c.cg).await, Vec::new());
    }
);
