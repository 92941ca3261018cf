//! The people's map: one level of the tree in view, coloured by a figure; events as points.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::assert_error;

db_test!(
    the_map_colours_grids_by_open_events_and_shows_the_event_in_its_grid,
    |app| {
        let c = app.seed_loop().await;
        let id = app.report(&c.citizen, c.gas).await;
        let bbox = "115.29,22.77,115.35,22.80";
        let v: Value = app
            .get(
                &format!("/api/v1/map/nodes?level=grid&bbox={bbox}&zoom=14&figure=open"),
                Some(&c.town_dispatcher),
            )
            .await
            .json()
            .await
            .unwrap();
        let features = v["features"].as_array().unwrap();
        assert_eq!(features.len(), 4);
        let value = |code: &str| {
            features
                .iter()
                .find(|f| f["properties"]["code"] == code)
                .unwrap()["properties"]["value"]
                .as_f64()
                .unwrap()
        };
        assert_eq!(value("441502001001001"), 1.0);
        assert_eq!(value("441502001002001"), 0.0);
        let v: Value = app
            .get(
                &format!("/api/v1/map/nodes?level=village&bbox={bbox}&zoom=12"),
                Some(&c.town_dispatcher),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["features"].as_array().unwrap().len(), 2);
        // A village dispatcher sees only their village.
        let v: Value = app
            .get(
                &format!("/api/v1/map/nodes?level=grid&bbox={bbox}&zoom=14"),
                Some(&c.dispatcher),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["features"].as_array().unwrap().len(), 2);
        let pts: Value = app
            .get(
                &format!("/api/v1/map/events?bbox={bbox}"),
                Some(&c.town_dispatcher),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(pts["features"][0]["properties"]["id"], id);
        assert_eq!(pts["features"][0]["properties"]["grid"], "441502001001001");
        let card: Value = app
            .get(
                "/api/v1/map/card?code=441502001001001",
                Some(&c.town_dispatcher),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(card["open"], 1);
        assert!(card["staff"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["role"] == "grid_worker"));
        assert_error(
            app.get(
                "/api/v1/map/nodes?level=grid&bbox=1,2,3",
                Some(&c.dispatcher),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_error(
            app.get(
                &format!("/api/v1/map/nodes?level=planet&bbox={bbox}"),
                Some(&c.dispatcher),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
);
