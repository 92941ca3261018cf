//! Visits through HTTP: the visits-due list (overdue first; the shortest interval decides), a
//! visit resetting it, the visit log, scoping for every role, and a problem found on a visit
//! becoming an event of the closed loop in one step, linked both ways.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi::clock::Clock;
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, Session, TestApp, TINY_PNG};
use crate::matrix::upload;
use crate::tag::{insert_resident, tag_ok, GRID};

const DAY: i64 = 86_400_000;

async fn visit(app: &TestApp, who: &Session, body: Value) -> reqwest::Response {
    app.post_json("/api/v1/visits", Some(who), body).await
}

async fn visit_ok(app: &TestApp, who: &Session, body: Value) -> Value {
    let r = visit(app, who, body).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "visit: {v}");
    v
}

fn due_ids(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["resident_id"].as_i64().unwrap())
        .collect()
}

db_test!(
    visits_fall_due_by_the_shortest_interval_and_a_visit_resets_them,
    |app| {
        let c = app.seed_loop().await;
        let a = insert_resident(&app, GRID, "王秀英").await;
        let b = insert_resident(&app, GRID, "李建国").await;
        let untagged = insert_resident(&app, GRID, "张伟").await;
        let elsewhere = insert_resident(&app, "441502001002001", "陈芳").await;
        tag_ok(&app, &c.worker, a, "elderly_alone").await; // 30 days
        tag_ok(&app, &c.worker, a, "community_correction").await; // 7 days: decides
        tag_ok(&app, &c.worker, b, "subsistence").await; // 90 days
        tag_ok(&app, &c.town_dispatcher, elsewhere, "community_correction").await;
        let start = app.clock.now_ms();
        let due = |within: i64| format!("/api/v1/visits/due?node={GRID}&within_days={within}");
        assert_eq!(
            due_ids(&app.get_json(&due(0), &c.worker).await),
            Vec::<i64>::new()
        );
        let v = app.get_json(&due(7), &c.worker).await;
        assert_eq!(due_ids(&v), vec![a]);
        assert_eq!(v["items"][0]["due_at"], start + 7 * DAY);
        assert_eq!(v["items"][0]["overdue"], false);
        let mut tags: Vec<String> = serde_json::from_value(v["items"][0]["tags"].clone()).unwrap();
        tags.sort();
        assert_eq!(tags, ["community_correction", "elderly_alone"]);
        // 91 days on: both overdue, the longest overdue first; the untagged person never.
        app.clock.set(start + 91 * DAY);
        let v = app.get_json(&due(0), &c.worker).await;
        assert_eq!(due_ids(&v), vec![a, b]);
        assert_eq!(v["items"][1]["overdue"], true);
        assert!(!due_ids(&v).contains(&untagged));
        // The grid worker's default node is their grid; the village dispatcher sees both grids.
        assert_eq!(
            due_ids(
                &app.get_json("/api/v1/visits/due?within_days=0", &c.worker)
                    .await
            ),
            vec![a, b]
        );
        assert_eq!(
            due_ids(
                &app.get_json("/api/v1/visits/due?within_days=0", &c.town_dispatcher)
                    .await
            ),
            vec![a, elsewhere, b]
        );
        // A visit resets every tag of the person: due again in 7 days (the shortest).
        let now = app.clock.now_ms();
        visit_ok(
            &app,
            &c.worker,
            json!({"resident_id": a, "found": "nothing", "notes": "身体健康"}),
        )
        .await;
        assert_eq!(due_ids(&app.get_json(&due(0), &c.worker).await), vec![b]);
        let v = app.get_json(&due(7), &c.worker).await;
        assert_eq!(due_ids(&v), vec![b, a]);
        assert_eq!(v["items"][1]["due_at"], now + 7 * DAY);
        let tags = app
            .get_json(&format!("/api/v1/residents/{a}/tags"), &c.worker)
            .await;
        for t in tags["items"].as_array().unwrap() {
            let days = if t["tag"] == "elderly_alone" { 30 } else { 7 };
            assert_eq!(t["next_visit_at"], now + days * DAY, "{t}");
        }
        // Figures follow the clock: in the village, a's two tags are on schedule again, b's is overdue.
        let f = app
            .get_json("/api/v1/figures/base?node=441502001001", &c.dispatcher)
            .await;
        assert_eq!(
            f["visits"],
            json!({"on_schedule": 2, "overdue": 1, "total": 3})
        );
    }
);

db_test!(
    a_problem_found_on_a_visit_becomes_a_linked_event_in_one_step,
    |app| {
        let c = app.seed_loop().await;
        let a = insert_resident(&app, GRID, "王秀英").await;
        tag_ok(&app, &c.worker, a, "elderly_alone").await;
        let photo = upload(&app, &c.worker, TINY_PNG).await;
        // No position given: filed inside the resident's grid.
        let v = visit_ok(
            &app,
            &c.worker,
            json!({
                "resident_id": a, "found": "hazard", "notes": "厨房燃气管老化",
                "photos": [photo],
                "report": {"category_id": c.gas, "description": "独居老人家中燃气管老化漏气"},
            }),
        )
        .await;
        let event_id = v["event_id"].as_i64().expect("the visit answers its event");
        assert_eq!(v["event"]["id"], event_id);
        assert_eq!(v["photos"][0]["hash"], photo.as_str());
        let visit_id = v["id"].as_i64().unwrap();
        // The event: in the loop's first state, from a visit, in the resident's grid, linked back.
        let ev = app.event(&c.dispatcher, event_id).await;
        assert_eq!(ev["state"], "reported");
        assert_eq!(ev["source"], "visit");
        assert_eq!(ev["grid"], GRID);
        assert_eq!(ev["visit_id"], visit_id);
        assert_eq!(ev["visit_resident_id"], a);
        assert_eq!(ev["photos"][0]["hash"], photo.as_str());
        // The dispatcher's inbox of reported orders holds it.
        let list = app
            .get_json("/api/v1/events?state=reported", &c.dispatcher)
            .await;
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["id"] == event_id),
            "{list}"
        );
        // The dispatcher opens the visit and its photo.
        let seen = app
            .get_json(&format!("/api/v1/visits/{visit_id}"), &c.dispatcher)
            .await;
        assert_eq!(seen["event_id"], event_id);
        assert_eq!(
            app.get(&format!("/api/v1/photos/{photo}"), Some(&c.dispatcher))
                .await
                .status(),
            StatusCode::OK
        );
        // An event reported the usual way has no visit.
        let plain = app.report(&c.worker, c.garbage).await;
        assert_eq!(
            app.event(&c.dispatcher, plain).await["visit_id"],
            Value::Null
        );
        // With a position: filed there.
        let v = visit_ok(
            &app,
            &c.worker,
            json!({
                "resident_id": a, "found": "need", "lon": 115.302, "lat": 22.781,
                "report": {"category_id": c.garbage, "description": "门口垃圾无人清运"},
            }),
        )
        .await;
        let ev = app.event(&c.worker, v["event_id"].as_i64().unwrap()).await;
        assert_eq!(
            (ev["lon"].clone(), ev["lat"].clone()),
            (json!(115.302), json!(22.781))
        );
    }
);

db_test!(a_refused_report_writes_no_visit, |app| {
    let c = app.seed_loop().await;
    let a = insert_resident(&app, GRID, "王秀英").await;
    let log = format!("/api/v1/visits?resident={a}");
    for (body, field) in [
        (json!({"resident_id": a, "found": "fire"}), "found"),
        (
            json!({"resident_id": a, "found": "need", "lon": 115.3}),
            "lat",
        ),
        (
            json!({"resident_id": a, "found": "need", "notes": "a\u{7}"}),
            "notes",
        ),
        (
            json!({"resident_id": a, "found": "need", "photos": ["0".repeat(64)]}),
            "photos",
        ),
        (
            json!({"resident_id": a, "found": "need", "report": {"category_id": 99999, "description": "x"}}),
            "report.category_id",
        ),
        (
            json!({"resident_id": a, "found": "need", "report": {"category_id": c.gas, "description": " "}}),
            "report.description",
        ),
        // A position outside the worker's grid.
        (
            json!({"resident_id": a, "found": "need", "lon": 115.325, "lat": 22.785, "report": {"category_id": c.gas, "description": "漏气"}}),
            "lon",
        ),
    ] {
        let e = assert_error(
            visit(&app, &c.worker, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], field);
    }
    assert_eq!(app.get_json(&log, &c.worker).await["items"], json!([]));
    let events = app.get_json("/api/v1/events", &c.dispatcher).await;
    assert_eq!(events["items"], json!([]));
});

db_test!(visits_are_scoped_like_the_register, |app| {
    let c = app.seed_loop().await;
    let mine = insert_resident(&app, GRID, "王秀英").await;
    let other = insert_resident(&app, "441502001002001", "陈芳").await;
    let leader = app.user("leader", Role::Leader, Some("441502001001")).await;
    let mediator = app
        .user("mediator", Role::Mediator, Some("441502001001"))
        .await;
    let body = |r: i64| json!({"resident_id": r, "found": "nothing"});
    let v = visit_ok(&app, &c.worker, body(mine)).await;
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["user_id"], c.worker.user_id);
    visit_ok(&app, &c.other_dispatcher, body(other)).await;
    // Writing: in reach only; leaders read and do not write.
    for who in [&c.worker, &c.dispatcher, &c.cg, &c.citizen, &mediator] {
        assert_error(visit(&app, who, body(other)).await, StatusCode::NOT_FOUND).await;
    }
    assert_error(
        visit(&app, &leader, body(mine)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Reading one visit.
    for who in [&c.worker, &c.dispatcher, &c.town_dispatcher, &leader] {
        assert_eq!(
            app.get(&format!("/api/v1/visits/{id}"), Some(who))
                .await
                .status(),
            StatusCode::OK
        );
    }
    for who in [&c.other_dispatcher, &c.cg, &c.citizen, &mediator] {
        assert_error(
            app.get(&format!("/api/v1/visits/{id}"), Some(who)).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    // The log: a node's, a person's.
    let ids = |v: Value| -> Vec<i64> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        ids(app.get_json("/api/v1/visits", &c.worker).await),
        vec![id]
    );
    assert_eq!(
        ids(app.get_json("/api/v1/visits", &c.town_dispatcher).await).len(),
        2
    );
    assert_eq!(
        ids(app
            .get_json(&format!("/api/v1/visits?resident={mine}"), &leader)
            .await),
        vec![id]
    );
    assert_error(
        app.get(
            &format!("/api/v1/visits?resident={mine}"),
            Some(&c.other_dispatcher),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get("/api/v1/visits?node=441502001002", Some(&c.dispatcher))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get("/api/v1/visits", Some(&c.citizen)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_error(
        app.get("/api/v1/visits/due", Some(&c.cg)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_error(
        app.get("/api/v1/visits/due", Some(&mediator)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Paging by cursor.
    let second = visit_ok(&app, &c.worker, body(mine)).await["id"]
        .as_i64()
        .unwrap();
    let page = app.get_json("/api/v1/visits?limit=1", &c.worker).await;
    assert_eq!(ids(page.clone()), vec![second]);
    let next = page["next_cursor"].as_i64().unwrap();
    assert_eq!(
        ids(app
            .get_json(&format!("/api/v1/visits?limit=1&cursor={next}"), &c.worker)
            .await),
        vec![id]
    );
});

/// Makes every insert into `table` fail (a trigger raising an error) until [`allow_inserts`]:
/// a write failing half-way through a transaction, for the tests that check nothing of it stays.
pub async fn fail_inserts(app: &TestApp, table: &str) {
    let sql = match app.state.db.engine() {
        shanzhi_store::Engine::Sqlite => format!(
            "CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        ),
        shanzhi_store::Engine::Postgres => format!(
            "CREATE OR REPLACE FUNCTION fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; \
             CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fail_insert();"
        ),
    };
    crate::house::exec(&app.state.db, &sql).await;
}

/// Undoes [`fail_inserts`].
pub async fn allow_inserts(app: &TestApp, table: &str) {
    let sql = match app.state.db.engine() {
        shanzhi_store::Engine::Sqlite => format!("DROP TRIGGER fail_{table};"),
        shanzhi_store::Engine::Postgres => format!("DROP TRIGGER fail_{table} ON {table};"),
    };
    crate::house::exec(&app.state.db, &sql).await;
}

db_test!(
    a_visit_and_the_event_it_files_are_written_together_or_not_at_all,
    |app| {
        let c = app.seed_loop().await;
        let a = insert_resident(&app, GRID, "王秀英").await;
        let log = format!("/api/v1/visits?resident={a}");
        let body = json!({"resident_id": a, "found": "need", "notes": "燃气管老化",
        "report": {"category_id": c.gas, "description": "独居老人家中燃气管老化漏气"}});
        // The visit's row fails after the event's rows went in: the report's transaction takes
        // the event back with it.
        fail_inserts(&app, "visit").await;
        let r = visit(&app, &c.worker, body.clone()).await;
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        allow_inserts(&app, "visit").await;
        assert_eq!(app.get_json(&log, &c.worker).await["items"], json!([]));
        let events = app.get_json("/api/v1/events", &c.dispatcher).await;
        assert_eq!(events["items"], json!([]), "an event without its visit");
        // Sent again, both are written and linked.
        let v = visit_ok(&app, &c.worker, body).await;
        let event = v["event"]["id"].as_i64().unwrap();
        assert_eq!(v["event_id"], event);
        let log = app.get_json(&log, &c.worker).await;
        assert_eq!(log["items"].as_array().unwrap().len(), 1);
        let events = app.get_json("/api/v1/events", &c.dispatcher).await;
        assert_eq!(events["items"].as_array().unwrap().len(), 1);
    }
);
