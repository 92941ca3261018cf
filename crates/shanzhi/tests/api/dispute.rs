//! Dispute cases (矛盾纠纷多元化解) through HTTP: a case's life from a citizen's application to
//! the follow-up, deadlines on the shared working calendar, scoping, figures against a recount,
//! and personal data never answered in plain text.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use shanzhi::clock::Clock;

use crate::helpers::{local, spawn_app, Cast, Session, TestApp};

/// Cases, sessions, mediators and panels in scope of the matrix's village (441502001001) and
/// outside it (the other county's village 441521001001): [in, out].
pub struct DisputeWorld {
    pub case: [i64; 2],
    pub session: [i64; 2],
    pub mediator: [i64; 2],
    pub panel: [i64; 2],
}

/// Adds a mediator serving `node` as `who`; its id.
pub async fn add_mediator(
    app: &TestApp,
    who: &Session,
    node: &str,
    name: &str,
    specialties: &[&str],
    user_id: Option<i64>,
) -> i64 {
    let r = app
        .post_json(
            "/api/v1/mediators",
            Some(who),
            json!({"name": name, "kind": "peoples", "specialties": specialties, "node": node,
                   "organisation": "人民调解委员会", "dialects": ["粤语"], "rating": 4.5, "user_id": user_id}),
        )
        .await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

/// The applicant's ID number in every case taken in here (valid check digit).
fn applicant_id() -> String {
    shanzhi_domain::resident::id_number::complete("44150219800101001")
}

/// Takes a case in at `node` as `who`; its id.
pub async fn take_in(app: &TestApp, who: &Session, node: &str, type_code: &str) -> i64 {
    let r = app
        .post_json(
            "/api/v1/disputes",
            Some(who),
            json!({"node": node, "type": type_code, "source": "walk_in", "summary": "邻里漏水纠纷",
                   "parties": [
                       {"role": "applicant", "name": "王小明", "id_number": applicant_id(), "phone": "13800001111",
                        "address": "汕尾市城区东风路12号"},
                       {"role": "respondent", "name": "李大华"}]}),
        )
        .await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

/// A move that must succeed; the case as answered.
pub async fn act_ok(app: &TestApp, who: &Session, id: i64, body: Value) -> Value {
    let r = app
        .post_json(
            &format!("/api/v1/disputes/{id}/actions"),
            Some(who),
            body.clone(),
        )
        .await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body} → {v}");
    v
}

/// Schedules a session as `who`; its id.
pub async fn session(app: &TestApp, who: &Session, id: i64) -> i64 {
    let r = app
        .post_json(
            &format!("/api/v1/disputes/{id}/sessions"),
            Some(who),
            json!({"at": app.clock.now_ms() + 86_400_000, "place": "村调解室", "attendees": ["王小明", "李大华"]}),
        )
        .await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

/// The matrix's dispute records: the in-scope case taken in by the grid worker, accepted by the
/// village centre and assigned to the matrix's mediator (`mediator_user`), with a session and a
/// panel; the same outside, in the other county, by its own dispatcher.
pub async fn dispute_world(app: &TestApp, cast: &Cast, mediator_user: i64) -> DisputeWorld {
    let county = app
        .user("d-county-disp", Role::Dispatcher, Some("441521000000"))
        .await;
    let m_in = add_mediator(
        app,
        &cast.dispatcher,
        "441502001001",
        "矩阵调解员",
        &["neighbours"],
        Some(mediator_user),
    )
    .await;
    let m_out = add_mediator(
        app,
        &county,
        "441521001001",
        "外县调解员",
        &["neighbours"],
        None,
    )
    .await;
    let mut out = DisputeWorld {
        case: [0; 2],
        session: [0; 2],
        mediator: [m_in, m_out],
        panel: [0; 2],
    };
    for (i, (who, node, m)) in [
        (&cast.worker, "441502001001001", m_in),
        (&county, "441521001001001", m_out),
    ]
    .into_iter()
    .enumerate()
    {
        let centre = if i == 0 { &cast.dispatcher } else { &county };
        let id = take_in(app, who, node, "neighbours").await;
        act_ok(app, centre, id, json!({"action": "accept"})).await;
        act_ok(
            app,
            centre,
            id,
            json!({"action": "assign", "mediator_id": m}),
        )
        .await;
        out.case[i] = id;
        out.session[i] = session(app, centre, id).await;
        let village = if i == 0 {
            "441502001001"
        } else {
            "441521001001"
        };
        let r = app
            .post_json(
                "/api/v1/panels",
                Some(centre),
                json!({"name": "专家组", "node": village, "specialties": ["neighbours"], "member_ids": [m]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        out.panel[i] = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    }
    out
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap_or_default().to_owned())
        .collect()
}

db_test!(
    a_citizen_applies_and_the_case_runs_to_a_follow_up_that_closes_it,
    |app| {
        let cast = app.seed_loop().await;
        app.set_local(2026, 3, 2, 9, 0);
        let mediator = app
            .user("tj-mediator", Role::Mediator, Some("441502001000"))
            .await;
        let mid = add_mediator(
            &app,
            &cast.town_dispatcher,
            "441502001000",
            "调解员甲",
            &["labour"],
            Some(mediator.user_id),
        )
        .await;
        let r = app
        .post_json(
            "/api/v1/me/disputes",
            Some(&cast.citizen),
            json!({"type": "wages", "summary": "工地拖欠工资三个月", "respondent_name": "某建筑公司", "node": "441502001000", "amount_cents": 3_000_000}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let case: Value = r.json().await.unwrap();
        let id = case["id"].as_i64().unwrap();
        assert_eq!(case["state"], "intake");
        assert_eq!(case["level"], "town");
        assert_eq!(case["source"], "online");
        // The citizen follows it; nobody else's application is in their list.
        let mine = app.get_json("/api/v1/me/disputes", &cast.citizen).await;
        assert_eq!(mine["items"].as_array().unwrap().len(), 1);
        assert!(
            app.get_json("/api/v1/me/disputes", &cast.citizen2).await["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        // The town centre accepts: a clock of 30 working days starts.
        let v = act_ok(&app, &cast.town_dispatcher, id, json!({"action": "accept"})).await;
        assert_eq!(v["state"], "accepted");
        assert!(v["clocks"]["due_at"].as_i64().unwrap() > app.clock.now_ms());
        assert!(names(&v, "allowed_actions").contains(&"assign".to_owned()));
        // The suggestions rank the labour specialist (wages is under labour) first.
        let s = app
            .get_json(
                &format!("/api/v1/disputes/{id}/suggestions"),
                &cast.town_dispatcher,
            )
            .await;
        assert_eq!(s["items"][0]["mediator"]["id"], mid);
        assert!(names(&s["items"][0], "reasons").contains(&"specialty".to_owned()));
        act_ok(
            &app,
            &cast.town_dispatcher,
            id,
            json!({"action": "assign", "mediator_id": mid}),
        )
        .await;
        let notes = app.get_json("/api/v1/notifications", &mediator).await;
        assert!(
            notes["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "dispute_assigned"),
            "{notes}"
        );
        // The mediator sees it in their list, holds a session and writes its record.
        let list = app.get_json("/api/v1/disputes", &mediator).await;
        assert_eq!(list["items"][0]["id"], id);
        let sid = session(&app, &mediator, id).await;
        let r = app
            .patch_json(
                &format!("/api/v1/disputes/{id}/sessions/{sid}"),
                &mediator,
                json!({"record": "双方同意分期支付", "held": true}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v = act_ok(&app, &mediator, id, json!({"action": "record_outcome", "outcome": "agreement", "terms": "公司于三月底前支付工资三万元"})).await;
        assert_eq!(v["state"], "agreed");
        assert_eq!(v["agreement"]["terms"], "公司于三月底前支付工资三万元");
        assert_eq!(v["sessions"][0]["record"], "双方同意分期支付");
        // A broken agreement reopens to the same mediator; the second follow-up closes it.
        let v = act_ok(
            &app,
            &mediator,
            id,
            json!({"action": "follow_up", "honoured": false, "note": "尚未支付"}),
        )
        .await;
        assert_eq!(v["state"], "assigned");
        assert_eq!(v["mediator"]["id"], mid);
        assert_eq!(v["reopened"], true);
        act_ok(&app, &mediator, id, json!({"action": "record_outcome", "outcome": "agreement", "terms": "四月十日前一次付清"})).await;
        let v = act_ok(
            &app,
            &mediator,
            id,
            json!({"action": "follow_up", "honoured": true}),
        )
        .await;
        assert_eq!(v["state"], "closed");
        let actions: Vec<String> = v["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["action"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            actions,
            [
                "intake",
                "accept",
                "assign",
                "schedule_session",
                "record_outcome",
                "follow_up",
                "record_outcome",
                "follow_up"
            ]
        );
        // Judicial confirmation once, on the agreement.
        let j = json!({"action": "judicial_confirmation", "court": "城区人民法院", "date": "2026-04-20", "number": "(2026)粤1502民特1号"});
        let v = act_ok(&app, &cast.town_dispatcher, id, j.clone()).await;
        assert_eq!(v["judicial"]["court"], "城区人民法院");
        let r = app
            .post_json(
                &format!("/api/v1/disputes/{id}/actions"),
                Some(&cast.town_dispatcher),
                j,
            )
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        // The citizen sees their case, closed, and heard of each step of it.
        let r = app
            .get(&format!("/api/v1/disputes/{id}"), Some(&cast.citizen))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let notes = app
            .get_json("/api/v1/notifications?limit=50", &cast.citizen)
            .await;
        let mut steps: Vec<String> = notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "dispute_step" && n["params"]["dispute_id"] == id)
            .map(|n| n["params"]["state"].as_str().unwrap().to_owned())
            .collect();
        steps.reverse(); // newest first
        assert_eq!(
            steps,
            [
                "accepted",
                "assigned",
                "in_session",
                "agreed",
                "assigned",
                "agreed",
                "closed"
            ],
            "{notes}"
        );
        // Nobody else hears of it.
        let other = app
            .get_json("/api/v1/notifications?limit=50", &cast.citizen2)
            .await;
        assert!(!other.to_string().contains("dispute_step"), "{other}");
    }
);

db_test!(
    the_mediation_clock_counts_working_days_across_a_holiday_and_a_make_up_day,
    |app| {
        let cast = app.seed_loop().await;
        // Accepted on Thursday 2026-09-17 at 09:00: 30 working days on China's calendar skip the
        // 中秋 holiday (Sep 25–27) and 国庆 (Oct 1–7) and count the make-up Sundays Sep 20 and Oct 10.
        app.set_local(2026, 9, 17, 9, 0);
        let id = take_in(&app, &cast.dispatcher, "441502001001", "neighbours").await;
        let v = act_ok(&app, &cast.dispatcher, id, json!({"action": "accept"})).await;
        let cal = shanzhi_domain::calendar::WorkCalendar::china_default();
        let mut day = chrono::NaiveDate::from_ymd_opt(2026, 9, 17).unwrap();
        let mut counted = 0;
        while counted < 30 {
            day = day.succ_opt().unwrap();
            if cal.is_working_day(day) {
                counted += 1;
            }
        }
        // 30 whole working days from 09:00 end at 09:00 of the 30th working day after.
        let want = shanzhi_domain::calendar::local_ms(day, 9 * 60);
        assert_eq!(v["clocks"]["due_at"].as_i64().unwrap(), want);
        assert!(
            cal.is_working_day(chrono::NaiveDate::from_ymd_opt(2026, 9, 20).unwrap()),
            "Sunday Sep 20 is worked"
        );
        assert!(
            !cal.is_working_day(chrono::NaiveDate::from_ymd_opt(2026, 10, 5).unwrap()),
            "Monday Oct 5 is off"
        );
        // Ten days off and two make-up days later than plain weekdays would have it.
        assert_eq!(day, chrono::NaiveDate::from_ymd_opt(2026, 11, 4).unwrap());
        // The sweep turns it yellow in the last fifth, then red, and tells the centre.
        let sweep = |at: i64| {
            app.clock.set(at);
            shanzhi::dispute::sweep(&app.state, at)
        };
        let s = sweep(local(2026, 10, 27, 9, 0)).await.unwrap();
        assert_eq!(s.yellow, 1);
        let s = sweep(want + 60_000).await.unwrap();
        assert_eq!(s.red, 1);
        let v = app
            .get_json(&format!("/api/v1/disputes/{id}"), &cast.dispatcher)
            .await;
        assert_eq!(v["light"], "red");
        assert_eq!(v["clocks"]["supervision"], "yellow");
        let notes = app
            .get_json("/api/v1/notifications", &cast.dispatcher)
            .await;
        assert!(
            notes["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "dispute_supervise"),
            "{notes}"
        );
        // Five working days later still open: a red card, and the town's centre hears of it.
        assert_eq!(supervise_notes(&app, &cast.town_dispatcher, id).await, 0);
        let s = sweep(cal.add_working_days(want, 5) - 60_000).await.unwrap();
        assert_eq!(s.red, 0);
        let s = sweep(cal.add_working_days(want, 5) + 60_000).await.unwrap();
        assert_eq!(s.checked, 1);
        let v = app
            .get_json(&format!("/api/v1/disputes/{id}"), &cast.dispatcher)
            .await;
        assert_eq!(v["clocks"]["supervision"], "red", "{v}");
        assert_eq!(supervise_notes(&app, &cast.town_dispatcher, id).await, 1);
        // Nothing more to check on it: a later sweep says nothing again.
        let s = sweep(cal.add_working_days(want, 9)).await.unwrap();
        assert_eq!(s.checked, 0);
        assert_eq!(supervise_notes(&app, &cast.town_dispatcher, id).await, 1);
    }
);

db_test!(
    an_approved_extension_adds_fifteen_working_days_once,
    |app| {
        let cast = app.seed_loop().await;
        app.set_local(2026, 3, 2, 9, 0);
        let mediator = app
            .user("ext-mediator", Role::Mediator, Some("441502001001"))
            .await;
        let mid = add_mediator(
            &app,
            &cast.dispatcher,
            "441502001001",
            "调解员乙",
            &["neighbours"],
            Some(mediator.user_id),
        )
        .await;
        let id = take_in(&app, &cast.dispatcher, "441502001001", "neighbours").await;
        let v = act_ok(&app, &cast.dispatcher, id, json!({"action": "accept"})).await;
        let due = v["clocks"]["due_at"].as_i64().unwrap();
        act_ok(
            &app,
            &cast.dispatcher,
            id,
            json!({"action": "assign", "mediator_id": mid}),
        )
        .await;
        act_ok(
            &app,
            &mediator,
            id,
            json!({"action": "request_extension", "reason": "等待鉴定结果"}),
        )
        .await;
        let v = act_ok(
            &app,
            &cast.dispatcher,
            id,
            json!({"action": "decide_extension", "approve": true}),
        )
        .await;
        let cal = shanzhi_domain::calendar::WorkCalendar::china_default();
        assert_eq!(
            v["clocks"]["due_at"].as_i64().unwrap(),
            cal.add_working_days(due, 15)
        );
        assert_eq!(v["clocks"]["extended"], true);
        let r = app
            .post_json(
                &format!("/api/v1/disputes/{id}/actions"),
                Some(&mediator),
                json!({"action": "request_extension", "reason": "再延"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
    }
);

db_test!(each_role_sees_the_cases_the_rules_give_it, |app| {
    let cast = app.seed_loop().await;
    let mediator = app
        .user("sc-mediator", Role::Mediator, Some("441502001001"))
        .await;
    let other_mediator = app
        .user("sc-mediator2", Role::Mediator, Some("441502001001"))
        .await;
    let mid = add_mediator(
        &app,
        &cast.dispatcher,
        "441502001001",
        "调解员丙",
        &["family"],
        Some(mediator.user_id),
    )
    .await;
    add_mediator(
        &app,
        &cast.dispatcher,
        "441502001001",
        "调解员丁",
        &["family"],
        Some(other_mediator.user_id),
    )
    .await;
    let village_case = take_in(&app, &cast.worker, "441502001001001", "family").await;
    let town_case = take_in(&app, &cast.town_dispatcher, "441502001000", "family").await;
    let other_village = take_in(&app, &cast.other_dispatcher, "441502001002", "family").await;
    act_ok(
        &app,
        &cast.dispatcher,
        village_case,
        json!({"action": "accept"}),
    )
    .await;
    act_ok(
        &app,
        &cast.dispatcher,
        village_case,
        json!({"action": "assign", "mediator_id": mid}),
    )
    .await;
    let ids = |v: Value| -> Vec<i64> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect()
    };
    // A centre: its level and below, not the level above nor a sibling.
    assert_eq!(
        ids(app.get_json("/api/v1/disputes", &cast.dispatcher).await),
        [village_case]
    );
    assert_eq!(
        ids(app
            .get_json("/api/v1/disputes", &cast.town_dispatcher)
            .await),
        [village_case, town_case, other_village]
    );
    // The mediator: what is assigned to them; another mediator: nothing.
    assert_eq!(
        ids(app.get_json("/api/v1/disputes", &mediator).await),
        [village_case]
    );
    assert!(ids(app.get_json("/api/v1/disputes", &other_mediator).await).is_empty());
    let r = app
        .get(
            &format!("/api/v1/disputes/{village_case}"),
            Some(&other_mediator),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The grid worker: what they took in.
    assert_eq!(
        ids(app.get_json("/api/v1/disputes", &cast.worker).await),
        [village_case]
    );
    // A citizen: only their own applications.
    assert!(ids(app.get_json("/api/v1/disputes", &cast.citizen).await).is_empty());
    let r = app
        .get(
            &format!("/api/v1/disputes/{town_case}"),
            Some(&cast.citizen),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A transfer up moves the case to the town and un-assigns it.
    let v = act_ok(
        &app,
        &cast.dispatcher,
        village_case,
        json!({"action": "transfer_up", "reason": "涉及多村"}),
    )
    .await;
    assert_eq!(v["level"], "town");
    assert!(v["mediator"].is_null());
    assert!(ids(app.get_json("/api/v1/disputes", &cast.dispatcher).await).is_empty());
    assert!(ids(app.get_json("/api/v1/disputes", &mediator).await).is_empty());
});

db_test!(
    parties_personal_data_is_answered_masked_and_sealed_at_rest,
    |app| {
        let cast = app.seed_loop().await;
        let id = take_in(&app, &cast.dispatcher, "441502001001", "neighbours").await;
        for who in [&cast.dispatcher, &cast.town_dispatcher] {
            let text = app
                .get(&format!("/api/v1/disputes/{id}"), Some(who))
                .await
                .text()
                .await
                .unwrap();
            assert!(!text.contains(&applicant_id()), "{text}");
            assert!(!text.contains("13800001111"), "{text}");
            assert!(!text.contains("东风路12号"), "{text}");
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["parties"][0]["address"], "汕尾市城区****");
            assert_eq!(v["parties"][0]["name"], "王小明");
            assert!(v["parties"][0]["id_mask"].as_str().unwrap().contains('*'));
            assert!(v["parties"][0]["phone_mask"]
                .as_str()
                .unwrap()
                .contains('*'));
        }
        // A leader reads the case with names masked.
        let leader = app
            .user("d-leader", Role::Leader, Some("441502000000"))
            .await;
        let v = app
            .get_json(&format!("/api/v1/disputes/{id}"), &leader)
            .await;
        assert_eq!(v["parties"][0]["name"], "王*");
        // At rest: no plain number in the party table, the blind index finds a repeat applicant.
        let plain: Vec<(Option<String>, Option<String>)> =
            shanzhi_store::dispute::parties(&app.state.db, id)
                .await
                .unwrap()
                .into_iter()
                .map(|p| (p.id_mask, p.phone_mask))
                .collect();
        assert!(plain
            .iter()
            .all(|(i, p)| i.as_deref().is_none_or(|x| x.contains('*'))
                && p.as_deref().is_none_or(|x| x.contains('*'))));
        let stored: i64 = shanzhi_store::with_pool!(&app.state.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM dispute_party WHERE address_mask LIKE '%12号%' OR name LIKE '%12号%'")
                .fetch_one(pool).await.unwrap()
        });
        assert_eq!(stored, 0);
        let again = take_in(&app, &cast.dispatcher, "441502001001", "debt").await;
        let v = app
            .get_json(&format!("/api/v1/disputes/{again}"), &cast.dispatcher)
            .await;
        assert_eq!(v["risk"]["repeat"], true);
        let v = app
            .get_json(&format!("/api/v1/disputes/{id}"), &cast.dispatcher)
            .await;
        assert_eq!(v["risk"]["repeat"], false);
    }
);

db_test!(dispute_figures_equal_a_recount_of_the_cases, |app| {
    let cast = app.seed_loop().await;
    app.set_local(2026, 3, 2, 9, 0);
    let mediator = app
        .user("fg-mediator", Role::Mediator, Some("441502001000"))
        .await;
    let mid = add_mediator(
        &app,
        &cast.town_dispatcher,
        "441502001000",
        "调解员戊",
        &["family"],
        Some(mediator.user_id),
    )
    .await;
    let mut ids = Vec::new();
    for (node, t) in [
        ("441502001001", "family"),
        ("441502001002", "debt"),
        ("441502001000", "family"),
        ("441502001001001", "land"),
    ] {
        ids.push(take_in(&app, &cast.town_dispatcher, node, t).await);
    }
    let town = &cast.town_dispatcher;
    // One agreed and honoured, one failed, one withdrawn after a transfer up, one left in intake.
    for &id in &ids[..3] {
        act_ok(&app, town, id, json!({"action": "accept"})).await;
    }
    act_ok(
        &app,
        town,
        ids[0],
        json!({"action": "transfer_up", "reason": "由镇调处"}),
    )
    .await;
    for &id in &ids[..3] {
        act_ok(
            &app,
            town,
            id,
            json!({"action": "assign", "mediator_id": mid}),
        )
        .await;
    }
    act_ok(
        &app,
        &mediator,
        ids[0],
        json!({"action": "record_outcome", "outcome": "agreement", "terms": "赔偿一千元"}),
    )
    .await;
    act_ok(
        &app,
        &mediator,
        ids[0],
        json!({"action": "follow_up", "honoured": true}),
    )
    .await;
    act_ok(&app, &mediator, ids[1], json!({"action": "record_outcome", "outcome": "failure", "referral": "court", "reason": "一方拒绝"})).await;
    act_ok(
        &app,
        &mediator,
        ids[2],
        json!({"action": "record_outcome", "outcome": "withdrawal", "reason": "已和解"}),
    )
    .await;
    act_ok(&app, town, ids[1], json!({"action": "close"})).await;
    let f = app
        .get_json("/api/v1/figures/disputes?node=441502001000", town)
        .await;
    for (k, want) in [
        ("found", 4),
        ("accepted", 3),
        ("mediated", 3),
        ("agreements", 1),
        ("concluded", 2),
        ("followed_up", 1),
        ("honoured", 1),
    ] {
        assert_eq!(f[k], want, "{k}: {f}");
    }
    assert_eq!(f["success_rate"], 0.5);
    assert_eq!(f["by_type"]["family"]["found"], 2);
    assert_eq!(f["by_level"]["town"]["agreements"], 1);
    assert_eq!(f["by_mediator"][mid.to_string()]["mediated"], 3);
    // The map layer: each village of the town with its counts (the transferred case is the town's).
    let m = app
        .get_json("/api/v1/map/disputes?node=441502001000", town)
        .await;
    let village = |code: &str| {
        m["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["node_code"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(village("441502001001")["found"], 1, "{m}");
    assert_eq!(village("441502001002")["concluded"], 1, "{m}");
    // Every counter row equals a recount from the cases, at every node.
    let recount = shanzhi_store::dispute::recount(&app.state.db, "44")
        .await
        .unwrap();
    tally_is(&app, &recount).await;
    for path in ["44", "441502", "441502001", "441502001001", "441502001002"] {
        for kind in [
            "dispute",
            "dispute_type",
            "dispute_level",
            "dispute_source",
            "dispute_mediator",
        ] {
            for (key, n) in shanzhi_store::tally::at(&app.state.db, path, kind)
                .await
                .unwrap()
            {
                let want = recount
                    .rows
                    .get(&(path.to_owned(), kind.to_owned(), key.clone()))
                    .copied()
                    .unwrap_or(0);
                assert_eq!(n, want, "{path} {kind} {key}");
            }
        }
    }
});

/// A 矛盾纠纷 category with a child, as administrators set them up.
async fn dispute_category(app: &TestApp) -> i64 {
    let input = |code: &str, parent_id: Option<i64>| shanzhi_store::category::CategoryInput {
        code: code.into(),
        parent_id,
        name: "矛盾纠纷".into(),
        department_kind: None,
        accept_minutes: 120,
        handle_minutes: 2100,
        verify_minutes: 420,
        priority: 2,
        on_spot: true,
        escalate_after_minutes: None,
        active: true,
        grid_first: false,
    };
    let parent = shanzhi_store::category::insert(&app.state.db, &input("dispute", None), None, 0)
        .await
        .unwrap();
    shanzhi_store::category::insert(
        &app.state.db,
        &input("neighbour_dispute", Some(parent.id)),
        None,
        0,
    )
    .await
    .unwrap()
    .id
}

db_test!(
    an_event_of_the_dispute_category_becomes_a_case_and_closes_with_it,
    |app| {
        let cast = app.seed_loop().await;
        app.set_local(2026, 3, 2, 9, 0);
        let category = dispute_category(&app).await;
        let event = app.report(&cast.citizen, category).await;
        // Not every event is a dispute; only the centre converts.
        let garbage = app.report(&cast.citizen, cast.garbage).await;
        let r = app
            .post_json(
                &format!("/api/v1/events/{garbage}/dispute"),
                Some(&cast.dispatcher),
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let r = app
            .post_json(
                &format!("/api/v1/events/{event}/dispute"),
                Some(&cast.worker),
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = app
            .post_json(
                &format!("/api/v1/events/{event}/dispute"),
                Some(&cast.dispatcher),
                json!({"type": "neighbours"}),
            )
            .await;
        let status = r.status();
        let case: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{case}");
        let id = case["id"].as_i64().unwrap();
        assert_eq!(case["event_id"], event);
        assert_eq!(case["source"], "event");
        assert_eq!(case["node_code"], "441502001001");
        // The event links to the case and waits for it: no clock of its own.
        let ev = app.event(&cast.dispatcher, event).await;
        let line = ev["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["action"] == "to_dispute")
            .cloned()
            .expect("a conversion line");
        assert_eq!(line["data"]["dispute_id"], id);
        assert_eq!(ev["dispute_id"], id);
        assert!(ev["due_at"].is_null(), "{ev}");
        let r = app
            .post_json(
                &format!("/api/v1/events/{event}/dispute"),
                Some(&cast.dispatcher),
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT, "converted once");
        // The case runs; its close closes the event with the outcome on the event's timeline.
        let mediator = app
            .user("ev-mediator", Role::Mediator, Some("441502001001"))
            .await;
        let mid = add_mediator(
            &app,
            &cast.dispatcher,
            "441502001001",
            "调解员己",
            &["neighbours"],
            Some(mediator.user_id),
        )
        .await;
        act_ok(&app, &cast.dispatcher, id, json!({"action": "accept"})).await;
        act_ok(
            &app,
            &cast.dispatcher,
            id,
            json!({"action": "assign", "mediator_id": mid}),
        )
        .await;
        act_ok(
            &app,
            &mediator,
            id,
            json!({"action": "record_outcome", "outcome": "agreement", "terms": "楼上修复防水层"}),
        )
        .await;
        assert_ne!(
            app.event(&cast.dispatcher, event).await["state"],
            "closed",
            "an agreement alone does not close the event"
        );
        act_ok(
            &app,
            &mediator,
            id,
            json!({"action": "follow_up", "honoured": true}),
        )
        .await;
        let ev = app.event(&cast.dispatcher, event).await;
        assert_eq!(ev["state"], "closed");
        let line = ev["timeline"].as_array().unwrap().last().cloned().unwrap();
        assert_eq!(line["action"], "dispute_closed");
        assert_eq!(line["data"]["outcome"], "agreement");
        assert!(
            line["note"].as_str().unwrap().contains("调解成功"),
            "{line}"
        );
        // The reporter follows it closed too.
        assert_eq!(app.event(&cast.citizen, event).await["state"], "closed");
    }
);

db_test!(
    a_declined_case_gives_its_event_back_to_the_loop_with_a_new_clock,
    |app| {
        let cast = app.seed_loop().await;
        app.set_local(2026, 3, 2, 9, 0);
        let category = dispute_category(&app).await;
        let event = app.report(&cast.citizen, category).await;
        let r = app
            .post_json(
                &format!("/api/v1/events/{event}/dispute"),
                Some(&cast.dispatcher),
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        assert!(app.event(&cast.dispatcher, event).await["due_at"].is_null());
        act_ok(
            &app,
            &cast.dispatcher,
            id,
            json!({"action": "decline", "reason": "不属于民间纠纷"}),
        )
        .await;
        let ev = app.event(&cast.dispatcher, event).await;
        assert_eq!(ev["state"], "reported");
        assert!(ev["due_at"].as_i64().unwrap() > app.clock.now_ms(), "{ev}");
        assert_eq!(
            ev["timeline"].as_array().unwrap().last().unwrap()["action"],
            "dispute_declined"
        );
    }
);

db_test!(
    the_demo_year_of_cases_walks_every_path_and_its_figures_equal_a_recount,
    |app| {
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
        // The history's load sets the event tables' indexes aside and makes them again (SQLite):
        // every one is back, as a fresh database defines it.
        if let shanzhi_store::Db::Sqlite { read: pool, .. } = &app.state.db {
            let fresh = spawn_app(shanzhi_store::Engine::Sqlite).await;
            let indexes = |pool: sqlx::SqlitePool| async move {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
                     AND tbl_name IN ('event', 'event_log', 'event_stat', 'event_close_hist') ORDER BY name",
                )
                .fetch_all(&pool)
                .await
                .unwrap();
                rows
            };
            let shanzhi_store::Db::Sqlite {
                read: fresh_pool, ..
            } = &fresh.state.db
            else {
                unreachable!("spawned on SQLite")
            };
            let want = indexes(fresh_pool.clone()).await;
            assert!(want.len() >= 10, "{want:?}");
            assert_eq!(indexes(pool.clone()).await, want);
        }
        let states: Vec<(String, i64)> = shanzhi_store::with_pool!(&app.state.db, pool => {
            sqlx::query_as("SELECT state, COUNT(*) FROM dispute GROUP BY state ORDER BY state").fetch_all(pool).await.unwrap()
        });
        let total: i64 = states.iter().map(|s| s.1).sum();
        assert_eq!(
            total as usize,
            shanzhi::demo::dispute::cases_a_year(city.scale),
            "{states:?}"
        );
        // Most cases are over; some are declined; some still wait where "now" found them.
        let n = |s: &str| states.iter().find(|x| x.0 == s).map_or(0, |x| x.1);
        assert!(n("closed") * 2 > total, "{states:?}");
        assert!(n("declined") > 0, "{states:?}");
        assert!(total - n("closed") - n("declined") > 0, "{states:?}");
        // Every closed case walked its path: an outcome, and a follow-up where it was an agreement.
        let odd: i64 = shanzhi_store::with_pool!(&app.state.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM dispute WHERE state = 'closed' AND (outcome IS NULL \
                OR mediator_id IS NULL OR (outcome = 'agreement' AND honoured IS NULL))").fetch_one(pool).await.unwrap()
        });
        assert_eq!(odd, 0);
        // Written in bulk as the API writes a case move by move: a timeline line per version,
        // the intake first, and the number made of the year and the id.
        let (lines_off, intake_off): (i64, i64) = shanzhi_store::with_pool!(&app.state.db, pool => {
            sqlx::query_as("SELECT \
                (SELECT COUNT(*) FROM dispute d WHERE d.version <> (SELECT COUNT(*) FROM dispute_log l WHERE l.dispute_id = d.id)), \
                (SELECT COUNT(*) FROM dispute d WHERE (SELECT l.action FROM dispute_log l WHERE l.dispute_id = d.id ORDER BY l.id LIMIT 1) <> 'intake')")
                .fetch_one(pool).await.unwrap()
        });
        assert_eq!((lines_off, intake_off), (0, 0));
        let numbers: Vec<(i64, String)> = shanzhi_store::with_pool!(&app.state.db, pool => {
            sqlx::query_as("SELECT id, number FROM dispute").fetch_all(pool).await.unwrap()
        });
        for (id, number) in &numbers {
            assert!(number.ends_with(&format!("-{id:06}")), "{id} {number}");
        }
        // The staff read them: the town's board lists cases, a mediator of the pool has a record.
        let town = app
            .login_with("dispatcher", shanzhi::demo::DEMO_PASSWORD)
            .await;
        let list = app.get_json("/api/v1/disputes?limit=5", &town).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 5, "{list}");
        let f = app
            .get_json(
                &format!("/api/v1/figures/disputes?node={}", city.root.as_str()),
                &town,
            )
            .await;
        assert_eq!(f["found"], total, "{f}");
        assert!(f["success_rate"].as_f64().unwrap() > 0.7, "{f}");
        // Every counter equals a recount from the cases, and from the risk records walked
        // and written the same way.
        let root = city.root.path().to_owned();
        for recount in [
            shanzhi_store::dispute::recount(&app.state.db, &root)
                .await
                .unwrap(),
            shanzhi_store::risk::recount(&app.state.db, &root)
                .await
                .unwrap(),
        ] {
            assert!(!recount.rows.is_empty());
            tally_is(&app, &recount).await;
        }
        // The risk records too: a timeline line per version, raised first, numbered by id,
        // and the stability centre's board reads them.
        let (lines_off, raise_off, risks): (i64, i64, i64) = shanzhi_store::with_pool!(&app.state.db, pool => {
            sqlx::query_as("SELECT \
                (SELECT COUNT(*) FROM risk r WHERE r.version <> (SELECT COUNT(*) FROM risk_log l WHERE l.risk_id = r.id)), \
                (SELECT COUNT(*) FROM risk r WHERE (SELECT l.action FROM risk_log l WHERE l.risk_id = r.id ORDER BY l.id LIMIT 1) <> 'raise'), \
                (SELECT COUNT(*) FROM risk)")
                .fetch_one(pool).await.unwrap()
        });
        assert_eq!((lines_off, raise_off), (0, 0));
        assert_eq!(
            risks as usize,
            shanzhi::demo::risk::clues_a_year(city.scale)
        );
        let numbers: Vec<(i64, String)> = shanzhi_store::with_pool!(&app.state.db, pool => {
            sqlx::query_as("SELECT id, number FROM risk").fetch_all(pool).await.unwrap()
        });
        for (id, number) in &numbers {
            assert!(
                number.starts_with("FX") && number.ends_with(&format!("-{id:06}")),
                "{id} {number}"
            );
        }
    }
);

/// Every row of `recount` is what the stored tally holds.
async fn tally_is(app: &TestApp, recount: &shanzhi_store::tally::Tally) {
    for ((path, kind, key), n) in &recount.rows {
        let stored = shanzhi_store::tally::at(&app.state.db, path, kind)
            .await
            .unwrap();
        assert_eq!(
            stored.get(key).copied().unwrap_or(0),
            *n,
            "{path} {kind} {key}"
        );
    }
}

/// How many supervision notices about case `id` the user has.
async fn supervise_notes(app: &TestApp, who: &Session, id: i64) -> usize {
    let v = app.get_json("/api/v1/notifications", who).await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "dispute_supervise" && n["params"]["dispute_id"] == id)
        .count()
}
