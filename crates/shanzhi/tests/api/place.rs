//! Places and their safety checks: scoping, validation with the field, checks making a place
//! overdue or not, and the overdue counts per node.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::assert_error;
use crate::house::{cast, created, post, reads, seed_two_counties, writes};

const DAY: i64 = 86_400_000;

async fn place(
    app: &crate::helpers::TestApp,
    who: &crate::helpers::Session,
    node: &str,
    kind: &str,
) -> Value {
    created(post(app, who, "/api/v1/places", json!({"node_code": node, "kind": kind, "name": "好又多便利店",
        "lon": 115.305, "lat": 22.785, "licence_no": "JY14415020001", "licence_expires": "2030-12-31"})).await).await
}

db_test!(places_are_scoped_for_every_role, |app| {
    seed_two_counties(&app).await;
    let cast = cast(&app).await;
    let root = app.user("root", Role::Admin, Some("440000000000")).await;
    let inside = place(&app, &root, "441502001001001", "small_restaurant").await["id"]
        .as_i64()
        .unwrap();
    let outside = place(&app, &root, "441521001001001", "small_hotel").await["id"]
        .as_i64()
        .unwrap();
    for (role, s) in &cast {
        let r = app.get(&format!("/api/v1/places/{inside}"), Some(s)).await;
        assert_eq!(
            r.status().is_success(),
            reads(*role),
            "{role:?} reads a place"
        );
        let r = app.get(&format!("/api/v1/places/{outside}"), Some(s)).await;
        assert!(!r.status().is_success(), "{role:?} reads a place outside");
        let r = app
            .get("/api/v1/places?node=441521001001001", Some(s))
            .await;
        assert!(!r.status().is_success(), "{role:?} lists places outside");
        let r = post(
            &app,
            s,
            &format!("/api/v1/places/{inside}/checks"),
            json!({"result": "passed"}),
        )
        .await;
        assert_eq!(
            r.status().is_success(),
            writes(*role),
            "{role:?} checks a place"
        );
        let r = app
            .patch_json(
                &format!("/api/v1/places/{outside}"),
                s,
                json!({"name": "改"}),
            )
            .await;
        assert!(!r.status().is_success(), "{role:?} changes a place outside");
    }
});

db_test!(checks_make_a_place_overdue_or_not, |app| {
    seed_two_counties(&app).await;
    let worker = app
        .user("wkr", Role::GridWorker, Some("441502001001001"))
        .await;
    let p = place(&app, &worker, "441502001001001", "small_internet_cafe").await;
    let id = p["id"].as_i64().unwrap();
    assert_eq!(p["overdue"], false);
    let overdue = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    assert!(overdue(&app.get_json("/api/v1/places?overdue=true", &worker).await).is_empty());
    // A new internet café is first checked within 30 days.
    app.clock.advance_ms(31 * DAY);
    assert_eq!(
        overdue(&app.get_json("/api/v1/places?overdue=true", &worker).await),
        vec![id]
    );
    let (total, children) = shanzhi_store::place::overdue_counts(
        &app.state.db,
        "441502001",
        12,
        app.state.clock.now_ms(),
    )
    .await
    .unwrap();
    assert_eq!((total, children), (1, vec![("441502001001".to_owned(), 1)]));
    // Hazards found: checked again within 15 days.
    let c = created(
        post(
            &app,
            &worker,
            &format!("/api/v1/places/{id}/checks"),
            json!({"result": "hazards_found", "note": "灭火器过期"}),
        )
        .await,
    )
    .await;
    assert_eq!(c["result"], "hazards_found");
    assert!(overdue(&app.get_json("/api/v1/places?overdue=true", &worker).await).is_empty());
    app.clock.advance_ms(16 * DAY);
    assert_eq!(
        overdue(&app.get_json("/api/v1/places?overdue=true", &worker).await),
        vec![id]
    );
    // Passed: due again in 30 days.
    created(
        post(
            &app,
            &worker,
            &format!("/api/v1/places/{id}/checks"),
            json!({"result": "passed"}),
        )
        .await,
    )
    .await;
    app.clock.advance_ms(29 * DAY);
    let v = app.get_json(&format!("/api/v1/places/{id}"), &worker).await;
    assert_eq!(
        (v["overdue"].as_bool(), v["last_result"].as_str()),
        (Some(false), Some("passed"))
    );
    assert_eq!(v["checks"].as_array().unwrap().len(), 2);
    let (total, _) =
        shanzhi_store::place::overdue_counts(&app.state.db, "44", 4, app.state.clock.now_ms())
            .await
            .unwrap();
    assert_eq!(total, 0);
});

db_test!(bad_places_and_checks_are_refused_with_the_field, |app| {
    seed_two_counties(&app).await;
    let worker = app
        .user("wkr", Role::GridWorker, Some("441502001001001"))
        .await;
    let ok = json!({"node_code": "441502001001001", "kind": "shop", "name": "店"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let cases = [
        (with("kind", json!("bar")), "kind"),
        (with("name", json!("")), "name"),
        (
            with("licence_expires", json!("2030-02-30")),
            "licence_expires",
        ),
        (
            json!({"node_code": "441502001001001", "kind": "shop", "name": "店", "licence_expires": "2030-01-01"}),
            "licence_no",
        ),
        (with("lat", json!(22.7)), "lon"),
        (with("building_id", json!(424242)), "building_id"),
    ];
    for (body, field) in cases {
        // A reference to a record that is not there is a 404 naming the field.
        let status = if field == "building_id" {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let v = assert_error(
            post(&app, &worker, "/api/v1/places", body.clone()).await,
            status,
        )
        .await;
        assert_eq!(v["field"], field, "{body}");
    }
    let id = created(post(&app, &worker, "/api/v1/places", ok).await).await["id"]
        .as_i64()
        .unwrap();
    for (body, field) in [
        (json!({"result": "ok"}), "result"),
        (json!({"result": "failed"}), "note"),
        (json!({"result": "hazards_found", "note": "  "}), "note"),
    ] {
        let v = assert_error(
            post(
                &app,
                &worker,
                &format!("/api/v1/places/{id}/checks"),
                body.clone(),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["field"], field, "{body}");
    }
    let t = shanzhi_store::tally::at(&app.state.db, "441502", "place")
        .await
        .unwrap();
    assert_eq!(
        t.get("shop"),
        Some(&1),
        "one place counted, none of the refused"
    );
});

db_test!(
    the_demo_gives_every_grid_places_and_a_party_branch_some_overdue,
    |app| {
        use shanzhi::demo;
        let city = demo::generate(demo::Scale::Town, 7).unwrap();
        let now = 1_795_000_000_000;
        // The demo writes its places and organisations with the rest.
        demo::write_with_events(&app.state.db, &app.state.pii, &city, now, 0)
            .await
            .unwrap();
        let grids = city.grid_count() as i64;
        let root = city.root.path();
        let (overdue, _) = shanzhi_store::place::overdue_counts(&app.state.db, root, 12, now)
            .await
            .unwrap();
        let total: i64 = shanzhi_store::tally::at(&app.state.db, root, "place")
            .await
            .unwrap()
            .values()
            .sum();
        assert!(
            total >= 2 * grids && total <= 8 * grids,
            "{total} places in {grids} grids"
        );
        assert!(
            overdue > 0 && overdue < total / 3,
            "{overdue} of {total} overdue"
        );
        let branches = shanzhi_store::organisation::list(
            &app.state.db,
            root,
            Some("party_branch"),
            0,
            100_000,
        )
        .await
        .unwrap();
        assert_eq!(branches.len() as i64, grids);
        let officials =
            shanzhi_store::organisation::officials(&app.state.db, branches[0].node_code.as_str())
                .await
                .unwrap();
        assert!(
            !officials.is_empty(),
            "the village's dispatchers are the grid's officials"
        );
    }
);
