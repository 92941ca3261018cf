//! Point location: hand-made squares and the demo generator's own ground truth.

use reqwest::StatusCode;
use serde_json::Value;
use shanzhi::demo::{self, Scale};

use crate::helpers::assert_error;

db_test!(locate_finds_the_hand_made_square_and_its_chain, |app| {
    app.seed_town().await;
    for (lon, lat, code) in [
        (115.305, 22.785, "441502001001001"),
        (115.315, 22.785, "441502001001002"),
        (115.325, 22.785, "441502001002001"),
        (115.339, 22.789, "441502001002002"),
    ] {
        let r = app
            .get(&format!("/api/v1/locate?lon={lon}&lat={lat}"), None)
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["inside"], true);
        assert_eq!(v["grid"]["code"], code, "at {lon},{lat}");
        let chain: Vec<&str> = v["chain"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap())
            .collect();
        assert_eq!(&chain[..4], &["广东省", "汕尾市", "城区", "新港街道"]);
    }
});

db_test!(
    a_point_outside_every_grid_is_outside_the_jurisdiction,
    |app| {
        app.seed_town().await;
        let r = app.get("/api/v1/locate?lon=116.5&lat=23.5", None).await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["inside"], false);
        assert_eq!(v["code"], "outside_jurisdiction");
    }
);

db_test!(bad_coordinates_get_a_clear_error, |app| {
    app.seed_town().await;
    let v = assert_error(
        app.get("/api/v1/locate?lon=181&lat=22", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "lon");
    let v = assert_error(
        app.get("/api/v1/locate?lon=115&lat=-95", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "lat");
    let v = assert_error(
        app.get("/api/v1/locate?lon=east&lat=22", None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(v["field"], "lon");
    let v = assert_error(
        app.get("/api/v1/locate?lat=22", None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(v["field"], "lon");
});

db_test!(locate_agrees_with_the_demo_city_ground_truth, |app| {
    let city = tokio::task::spawn_blocking(|| demo::generate(Scale::City, 7))
        .await
        .unwrap()
        .unwrap();
    demo::write_with_events(&app.state.db, &app.state.pii, &city, 1_795_000_000_000, 0)
        .await
        .unwrap();
    app.state.locator.refresh(&app.state.db).await.unwrap();
    let grids: Vec<_> = city.nodes.iter().filter(|n| n.level.is_grid()).collect();
    assert!(grids.len() > 4500);
    // Every 25th grid: its inner point must locate to it.
    for g in grids.iter().step_by(25) {
        let (lon, lat) = g.inside.unwrap();
        let v: Value = app
            .get(&format!("/api/v1/locate?lon={lon}&lat={lat}"), None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            v["grid"]["code"],
            g.code.as_str(),
            "inner point of {}",
            g.code
        );
    }
});
