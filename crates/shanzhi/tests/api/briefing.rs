//! Briefings (早晚报) through HTTP with a moved clock: a briefing for a fixed day holds the
//! figures of a recount from the rows and its change against the previous one; the schedule
//! writes each briefing once; the .docx opens with its charts; bad input and roles refused
//! with nothing written.

use std::io::{Cursor, Read};

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi::clock::Clock;
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, local, Session, TestApp};

/// The town of the seeded world (villages 441502001001 and 441502001002).
const TOWN: &str = "441502001000";
/// A point in village 441502001002's first grid.
const IN_VILLAGE_2: (f64, f64) = (115.325, 22.785);

/// Reports an event of `category` at a point as `who`; its id.
async fn report_at(app: &TestApp, who: &Session, category: i64, at: (f64, f64)) -> i64 {
    let r = app
        .client
        .post(format!("{}/api/v1/events", app.url))
        .bearer_auth(&who.token)
        .header(
            "idempotency-key",
            format!("b-{category}-{}", app.clock.now_ms()),
        )
        .json(
            &json!({"category_id": category, "description": "井盖缺失", "lon": at.0, "lat": at.1}),
        )
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

/// Generates a briefing as `who`; the answer's status and body.
async fn generate(app: &TestApp, who: &Session, body: Value) -> (StatusCode, Value) {
    let r = app.post_json("/api/v1/briefings", Some(who), body).await;
    let status = r.status();
    (status, r.json().await.unwrap())
}

async fn count(app: &TestApp, sql: &str, binds: &[i64]) -> i64 {
    shanzhi_store::with_pool!(&app.state.db, pool => {
        let mut q = sqlx::query_scalar::<_, i64>(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_one(pool).await.unwrap()
    })
}

/// `(key, n)` of a section, for comparing with a recount.
fn pairs(items: &Value, key: &str) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i[key].to_string().trim_matches('"').to_owned(),
                i["n"].as_i64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

db_test!(
    a_briefing_for_a_fixed_day_holds_the_figures_of_a_recount,
    |app| {
        let cast = app.seed_loop().await;
        let analyst = app.user("b-analyst", Role::Analyst, Some(TOWN)).await;
        // Tuesday 2026-09-08, 10:00: two reports in village 1, a clue assessed orange.
        app.set_local(2026, 9, 8, 10, 0);
        app.report(&cast.citizen, cast.garbage).await;
        app.report(&cast.citizen, cast.garbage).await;
        let x = crate::risk::clue(&app, &analyst, "441502001001001", "山体滑坡隐患").await;
        crate::risk::act_ok(
            &app,
            &analyst,
            x,
            json!({"action": "assess", "level": "orange",
        "lead_department_id": cast.cg_id, "measures": "监测"}),
        )
        .await;
        // The night: one report, in the morning briefing of Wednesday 09-09.
        app.set_local(2026, 9, 8, 20, 0);
        app.report(&cast.citizen, cast.garbage).await;
        app.set_local(2026, 9, 9, 8, 30);
        let (status, previous) = generate(&app, &analyst, json!({"node": TOWN})).await;
        assert_eq!(status, StatusCode::CREATED, "{previous}");
        assert_eq!(previous["kind"], "morning");
        assert_eq!(previous["day"], 20260909);
        assert_eq!(
            previous["figures"]["totals"]["events"],
            json!({"n": 1, "change": null})
        );
        // Wednesday evening and the night after: the period of Thursday's morning briefing.
        app.set_local(2026, 9, 9, 19, 0);
        for _ in 0..3 {
            app.report(&cast.citizen, cast.garbage).await;
        }
        report_at(&app, &cast.citizen, cast.gas, IN_VILLAGE_2).await;
        let y = crate::risk::clue(&app, &analyst, "441502001002001", "张三家燃气泄漏").await;
        crate::dispute::take_in(&app, &cast.dispatcher, "441502001001", "neighbours").await;
        // No progress report on Wednesday: the midnight sweep finds the department lagging.
        app.set_local(2026, 9, 10, 0, 5);
        let s = shanzhi::risk::sweep(&app.state, app.clock.now_ms())
            .await
            .unwrap();
        assert_eq!(s.lagging, 1, "{s:?}");
        // Then the centre raises it to red.
        app.set_local(2026, 9, 10, 0, 10);
        crate::risk::act_ok(
            &app,
            &analyst,
            x,
            json!({"action": "regrade", "level": "red", "reason": "升级"}),
        )
        .await;
        app.set_local(2026, 9, 10, 8, 30);
        let (status, b) = generate(
            &app,
            &analyst,
            json!({"node": TOWN, "at": "2026-09-10 08:00"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{b}");
        assert_eq!(
            (b["kind"].as_str(), b["day"].as_i64()),
            (Some("morning"), Some(20260910))
        );
        let (from, to) = (local(2026, 9, 9, 18, 0), local(2026, 9, 10, 8, 0));
        assert_eq!(
            (b["from"].as_i64(), b["to"].as_i64()),
            (Some(from), Some(to))
        );
        let f = &b["figures"];
        assert_eq!(f["previous"]["id"], previous["id"]);

        // New events: a recount of the rows of the period under the town.
        let events = count(&app, "SELECT COUNT(*) FROM event WHERE created_at >= $1 AND created_at < $2 AND grid_code LIKE '441502001%'", &[from, to]).await;
        assert_eq!(events, 4);
        assert_eq!(
            f["totals"]["events"],
            json!({"n": events, "change": events - 1})
        );
        let mut by_category = Vec::new();
        for id in [cast.garbage, cast.gas] {
            let n = count(&app, "SELECT COUNT(*) FROM event WHERE created_at >= $1 AND created_at < $2 AND category_id = $3", &[from, to, id]).await;
            by_category.push((id.to_string(), n));
        }
        by_category.sort();
        assert_eq!(pairs(&f["events_by_category"], "id"), by_category);
        let garbage = f["events_by_category"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == cast.garbage)
            .unwrap();
        assert_eq!(garbage["change"], 3 - 1, "garbage 3 now, 1 before");
        let mut by_area = Vec::new();
        for village in ["441502001001", "441502001002"] {
            let n = count(&app, &format!("SELECT COUNT(*) FROM event WHERE created_at >= $1 AND created_at < $2 AND grid_code LIKE '{village}%'"), &[from, to]).await;
            by_area.push((village.to_owned(), n));
        }
        assert_eq!(pairs(&f["events_by_area"], "code"), by_area);
        assert_eq!(f["hotspots"][0]["code"], "441502001001001");
        assert_eq!(f["hotspots"][0]["n"], 3);

        // Overdue: open orders whose deadline had passed at the period's end.
        let overdue = count(&app, "SELECT COUNT(*) FROM event WHERE state IN ('reported', 'accepted', 'dispatched', 'in_progress', 'resolved') AND due_at IS NOT NULL AND due_at <= $1 AND grid_code LIKE '441502001%'", &[to]).await;
        assert!(overdue > 0);
        assert_eq!(f["totals"]["overdue"]["n"], overdue);

        // Risks: the new clue, the regrade; the lagging department; the dispute taken in.
        assert_eq!(f["totals"]["clues_new"]["n"], 1);
        assert_eq!(f["clues"][0]["id"], y);
        assert_eq!(f["totals"]["risks_new"]["n"], 0);
        assert_eq!(f["totals"]["risks_regraded"]["n"], 1);
        assert_eq!(f["risks_graded"][0]["id"], x);
        assert_eq!(
            (
                f["risks_graded"][0]["from_level"].as_str(),
                f["risks_graded"][0]["level"].as_str()
            ),
            (Some("orange"), Some("red"))
        );
        let lags = count(
            &app,
            "SELECT COUNT(*) FROM risk_lag WHERE at >= $1 AND at < $2 AND department_id = $3",
            &[from, to, cast.cg_id],
        )
        .await;
        assert_eq!(lags, 1);
        assert_eq!(
            f["lagging"],
            json!([{"department_id": cast.cg_id, "name": "城区城管局", "n": lags, "risks": 1, "change": 1}])
        );
        assert_eq!(f["totals"]["disputes"]["n"], 1);
        assert_eq!(f["disputes_by_type"][0]["code"], "neighbours");

        // Nothing personal: no party, reporter, phone or clue title.
        let text = b.to_string();
        for personal in [
            "王小明",
            "李大华",
            "13800001111",
            "张三",
            "山体滑坡",
            "b-analyst",
        ] {
            assert!(!text.contains(personal), "{personal} in the briefing");
        }

        // Archived: the same again answers the stored one, listed newest first.
        let (status, again) = generate(
            &app,
            &analyst,
            json!({"node": TOWN, "at": "2026-09-10T08:00:00+08:00", "kind": "morning"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again["id"], b["id"]);
        let list = app
            .get_json(&format!("/api/v1/briefings?node={TOWN}&limit=1"), &analyst)
            .await;
        assert_eq!(list["items"][0]["id"], b["id"]);
        let next = list["next_cursor"].as_i64().unwrap();
        let rest = app
            .get_json(
                &format!("/api/v1/briefings?node={TOWN}&before={next}"),
                &analyst,
            )
            .await;
        assert_eq!(rest["items"][0]["id"], previous["id"]);
        assert_eq!(rest["next_cursor"], Value::Null);
        let one = app
            .get_json(&format!("/api/v1/briefings/{}", b["id"]), &analyst)
            .await;
        assert_eq!(one["figures"], b["figures"]);

        // The Word document opens, with its charts as PNG images.
        let r = app
            .get(
                &format!("/api/v1/briefings/{}/docx", b["id"]),
                Some(&analyst),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.unwrap().to_vec();
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a .docx is a zip package");
        let mut xml = String::new();
        zip.by_name("word/document.xml")
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        assert!(xml.contains("早报"), "title");
        assert!(
            xml.contains("441502001001001") || xml.contains("网格1"),
            "hotspot"
        );
        let media: Vec<String> = zip
            .file_names()
            .filter_map(Result::ok)
            .filter(|n| n.starts_with("word/media/") && !n.ends_with('/'))
            .map(|n| n.into_owned())
            .collect();
        assert!(media.len() >= 3, "charts: {media:?}");
        for m in media {
            let mut png = Vec::new();
            zip.by_name(&m).unwrap().read_to_end(&mut png).unwrap();
            assert!(png.starts_with(&[0x89, b'P', b'N', b'G']), "{m} is a PNG");
        }
    }
);

db_test!(the_schedule_writes_each_briefing_once, |app| {
    app.seed_town().await;
    // Every county and town by default: 441502000000 and 441502001000.
    app.set_local(2026, 9, 10, 8, 1);
    let now = app.clock.now_ms();
    let (a, b) = tokio::join!(
        shanzhi::briefing::sweep(&app.state, now),
        shanzhi::briefing::sweep(&app.state, now)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 2);
    assert_eq!(shanzhi::briefing::sweep(&app.state, now).await.unwrap(), 0);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM briefing").await, 2);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM briefing WHERE kind = 'morning' AND day = 20260910 AND created_by IS NULL").await, 2);
    // Later the same morning nothing is due; at 18:00 the evening ones are.
    app.set_local(2026, 9, 10, 12, 0);
    assert_eq!(
        shanzhi::briefing::sweep(&app.state, app.clock.now_ms())
            .await
            .unwrap(),
        0
    );
    app.set_local(2026, 9, 10, 18, 0);
    assert_eq!(
        shanzhi::briefing::sweep(&app.state, app.clock.now_ms())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        shanzhi::briefing::sweep(&app.state, app.clock.now_ms())
            .await
            .unwrap(),
        0
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM briefing").await, 4);
});

db_test!(bad_briefing_requests_are_refused_and_write_nothing, |app| {
    let cast = app.seed_loop().await;
    let analyst = app.user("b-analyst", Role::Analyst, Some(TOWN)).await;
    let leader = app.user("b-leader", Role::Leader, Some(TOWN)).await;
    let outsider = app
        .user("b-outsider", Role::Analyst, Some("441502001002"))
        .await;
    app.set_local(2026, 9, 10, 9, 0);
    let cases = [
        (json!({"node": "441502009000"}), StatusCode::NOT_FOUND, None),
        (
            json!({"node": "4415"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("node"),
        ),
        (
            json!({"node": "441502001001001"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("node"),
        ),
        (
            json!({"node": TOWN, "kind": "noon"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("kind"),
        ),
        (
            json!({"node": TOWN, "at": "2026-09-11 08:00"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("at"),
        ),
        (
            json!({"node": TOWN, "at": "yesterday"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("at"),
        ),
        (
            json!({"node": TOWN, "colour": "red"}),
            StatusCode::BAD_REQUEST,
            None,
        ),
    ];
    for (body, status, field) in cases {
        let r = app
            .post_json("/api/v1/briefings", Some(&analyst), body.clone())
            .await;
        assert_eq!(r.status(), status, "{body}");
        let v = assert_error(r, status).await;
        if let Some(field) = field {
            assert_eq!(v["field"], field, "{body}");
        }
    }
    // Roles: leaders read but do not generate; grid workers, handlers and citizens neither.
    for who in [&leader, &cast.worker, &cast.cg, &cast.citizen] {
        let r = app
            .post_json("/api/v1/briefings", Some(who), json!({"node": TOWN}))
            .await;
        assert!(
            matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{}",
            r.status()
        );
    }
    for who in [&cast.worker, &cast.cg, &cast.citizen] {
        assert_error(
            app.get(&format!("/api/v1/briefings?node={TOWN}"), Some(who))
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM briefing").await, 0);
    // Written by the analyst: the leader reads it, someone from another village does not.
    let (status, b) = generate(&app, &analyst, json!({"node": TOWN})).await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    let id = b["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/briefings/{id}"), Some(&leader))
            .await
            .status(),
        StatusCode::OK
    );
    for path in [
        format!("/api/v1/briefings/{id}"),
        format!("/api/v1/briefings/{id}/docx"),
    ] {
        assert_error(app.get(&path, Some(&outsider)).await, StatusCode::NOT_FOUND).await;
        assert_error(
            app.get(&path, Some(&cast.citizen)).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    assert_error(
        app.get(&format!("/api/v1/briefings?node={TOWN}"), Some(&outsider))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        app.get_json("/api/v1/briefings", &outsider).await["items"],
        json!([])
    );
});

/// Yesterday's evening briefings of village 441502001001 and of the other county's village
/// 441521001001 (for the authorization matrix): [in, out].
pub async fn briefing_world(app: &TestApp) -> [i64; 2] {
    let now = app.clock.now_ms();
    let period = shanzhi::briefing::times(&app.state).latest(now, None);
    let mut ids = [0; 2];
    for (i, code) in ["441502001001", "441521001001"].into_iter().enumerate() {
        let node = shanzhi_domain::tree::NodeCode::parse(code).unwrap();
        let (row, _) = shanzhi::briefing::generate(&app.state, &node, &period, None)
            .await
            .unwrap();
        ids[i] = row.id;
    }
    ids
}
