//! 合并 with evidence through HTTP: suggested duplicates (distance, time window, category,
//! scope, validation) and the trail a merge leaves on the kept order.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Session, TestApp, IN_GRID, TINY_PNG};

/// Reports at a position (`dlat` degrees north of `IN_GRID`, or at `at`) and returns its id.
async fn report_at(
    app: &TestApp,
    who: &Session,
    category: i64,
    at: (f64, f64),
    photos: &[String],
) -> i64 {
    let r = app
        .client
        .post(format!("{}/api/v1/events", app.url))
        .bearer_auth(&who.token)
        .header("idempotency-key", format!("m-{}-{}-{}", at.0, at.1, app.clock_now()))
        .json(&json!({"category_id": category, "description": "路口有垃圾堆", "lon": at.0, "lat": at.1, "photos": photos}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

trait Now {
    fn clock_now(&self) -> i64;
}
impl Now for TestApp {
    fn clock_now(&self) -> i64 {
        use shanzhi::clock::Clock;
        self.clock.now_ms()
    }
}

fn north(m: f64) -> (f64, f64) {
    (IN_GRID.0, IN_GRID.1 + m / 111_195.0)
}

async fn suggestions(app: &TestApp, who: &Session, id: i64, query: &str) -> Vec<(i64, i64)> {
    let v: Value = app
        .get_json(&format!("/api/v1/events/{id}/duplicates{query}"), who)
        .await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_i64().unwrap(), i["distance_m"].as_i64().unwrap()))
        .collect()
}

db_test!(
    duplicates_are_the_same_category_near_and_recent_nearest_first,
    |app| {
        let c = app.seed_loop().await;
        app.set_local(2026, 12, 1, 9, 0);
        let old = report_at(&app, &c.citizen, c.garbage, north(40.0), &[]).await;
        app.set_local(2026, 12, 9, 9, 0);
        let kept = report_at(&app, &c.citizen, c.garbage, IN_GRID, &[]).await;
        app.clock.advance_ms(60_000);
        let near = report_at(&app, &c.citizen2, c.garbage, north(100.0), &[]).await;
        let nearer = report_at(&app, &c.citizen2, c.garbage, north(-50.0), &[]).await;
        let far = report_at(&app, &c.citizen2, c.garbage, north(500.0), &[]).await;
        let _other_category = report_at(&app, &c.citizen2, c.gas, north(10.0), &[]).await;
        let rejected = report_at(&app, &c.citizen2, c.garbage, north(20.0), &[]).await;
        app.act_ok(&c.dispatcher, rejected, "reject", json!({"reason": "重复"}))
            .await;
        let done = report_at(&app, &c.worker, c.garbage, north(150.0), &[]).await;
        app.act_ok(&c.worker, done, "resolve_on_spot", json!({"note": "扫了"}))
            .await;
        app.act_ok(&c.worker, done, "verify", json!({"ok": true}))
            .await;

        let got = suggestions(&app, &c.dispatcher, kept, "").await;
        let ids: Vec<i64> = got.iter().map(|g| g.0).collect();
        assert_eq!(ids, [nearer, near, done], "{got:?}");
        assert!(
            (got[0].1 - 50).abs() <= 2 && (got[1].1 - 100).abs() <= 2,
            "{got:?}"
        );
        // A wider circle and a longer window bring in the far and the old one.
        let ids: Vec<i64> = suggestions(&app, &c.dispatcher, kept, "?metres=1000&days=10")
            .await
            .iter()
            .map(|g| g.0)
            .collect();
        assert_eq!(ids, [old, nearer, near, done, far]);
        let ids: Vec<i64> = suggestions(&app, &c.dispatcher, kept, "?metres=60&limit=1")
            .await
            .iter()
            .map(|g| g.0)
            .collect();
        assert_eq!(ids, [nearer]);
        // Parameters are checked.
        for q in [
            "?metres=0",
            "?metres=5001",
            "?days=0",
            "?days=91",
            "?limit=51",
        ] {
            let r = app
                .get(
                    &format!("/api/v1/events/{kept}/duplicates{q}"),
                    Some(&c.dispatcher),
                )
                .await;
            assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        let r = app
            .get(
                &format!("/api/v1/events/{kept}/duplicates?metres=far"),
                Some(&c.dispatcher),
            )
            .await;
        assert!(r.status().is_client_error());
        // Only the holding centre's dispatchers look.
        let r = app
            .get(
                &format!("/api/v1/events/{kept}/duplicates"),
                Some(&c.worker),
            )
            .await;
        assert_error(r, StatusCode::FORBIDDEN).await;
        let r = app
            .get(
                &format!("/api/v1/events/{kept}/duplicates"),
                Some(&c.other_dispatcher),
            )
            .await;
        assert_error(r, StatusCode::NOT_FOUND).await;
    }
);

db_test!(duplicates_stay_inside_the_dispatchers_area, |app| {
    let c = app.seed_loop().await;
    // Village 001 ends at lon 115.32; village 002 begins there.
    let kept = report_at(&app, &c.citizen, c.garbage, (115.3195, 22.785), &[]).await;
    let across = report_at(&app, &c.citizen2, c.garbage, (115.3205, 22.785), &[]).await;
    let ids: Vec<i64> = suggestions(&app, &c.dispatcher, kept, "")
        .await
        .iter()
        .map(|g| g.0)
        .collect();
    assert!(ids.is_empty(), "{ids:?}");
    // The town's dispatcher, over both villages, finds the one across the border.
    let ids: Vec<i64> = suggestions(&app, &c.town_dispatcher, across, "")
        .await
        .iter()
        .map(|g| g.0)
        .collect();
    assert_eq!(ids, [kept]);
});

db_test!(
    a_merge_leaves_its_report_reporter_and_photos_on_the_kept_order,
    |app| {
        let c = app.seed_loop().await;
        let kept = report_at(&app, &c.citizen, c.garbage, IN_GRID, &[]).await;
        let photo: Value = app
            .client
            .post(format!("{}/api/v1/photos", app.url))
            .bearer_auth(&c.citizen2.token)
            .body(TINY_PNG)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let hash = photo["hash"].as_str().unwrap().to_owned();
        let dup = report_at(
            &app,
            &c.citizen2,
            c.garbage,
            north(30.0),
            std::slice::from_ref(&hash),
        )
        .await;
        let picked = suggestions(&app, &c.dispatcher, dup, "").await;
        assert_eq!(picked.iter().map(|p| p.0).collect::<Vec<_>>(), [kept]);
        app.act_ok(&c.dispatcher, dup, "merge", json!({"into": picked[0].0}))
            .await;

        let page = app.event(&c.dispatcher, kept).await;
        let merged = page["merged_reports"].as_array().unwrap();
        assert_eq!(merged.len(), 1);
        let m = &merged[0];
        assert_eq!(m["id"].as_i64(), Some(dup));
        assert_eq!(m["description"], "路口有垃圾堆");
        assert_eq!(m["reporter_id"].as_i64(), Some(c.citizen2.user_id));
        assert_eq!(m["reporter_name"], "c*******", "masked for staff");
        assert_eq!(m["photos"][0]["hash"], hash.as_str());
        // Staff of the order may open the merged report's photo.
        let r = app
            .get(&format!("/api/v1/photos/{hash}"), Some(&c.dispatcher))
            .await;
        assert_eq!(r.status(), StatusCode::OK);

        // The merged reporter follows the kept order: reads it and hears of its progress.
        let seen = app.event(&c.citizen2, kept).await;
        assert_eq!(
            seen["merged_reports"][0]["reporter_id"].as_i64(),
            Some(c.citizen2.user_id)
        );
        app.act_ok(&c.dispatcher, kept, "accept", json!({})).await;
        let notes: Value = app.get_json("/api/v1/notifications", &c.citizen2).await;
        assert!(
            notes["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["event_id"].as_i64() == Some(kept)),
            "{notes}"
        );
        let mine: Value = app.get_json("/api/v1/events", &c.citizen2).await;
        assert!(mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"].as_i64() == Some(kept)));
        // The kept order's own reporter sees that a report was merged, not who sent it.
        let other = app.event(&c.citizen, kept).await;
        assert_eq!(other["merged_reports"][0]["reporter_id"], Value::Null);
        assert_eq!(other["merged_reports"][0]["description"], Value::Null);
    }
);
