//! The map's disputes layer: open cases per holding centre, at a point inside its area, with the
//! overdue ones counted; closed and declined cases leave it.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::dispute::{act_ok, take_in};

fn feature<'a>(layer: &'a Value, code: &str) -> Option<&'a Value> {
    layer["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["node_code"] == code)
}

db_test!(
    the_disputes_layer_counts_the_open_cases_of_each_centre_at_a_point_inside_it,
    |app| {
        let cast = app.seed_loop().await;
        let a = take_in(&app, &cast.worker, "441502001001001", "neighbours").await;
        let b = take_in(&app, &cast.worker, "441502001001001", "family").await;
        act_ok(&app, &cast.dispatcher, b, json!({"action": "accept"})).await;
        let leader = app
            .user("map-leader", Role::Leader, Some("441502000000"))
            .await;
        let layer = app.get_json("/api/v1/map/dispute-centres", &leader).await;
        assert_eq!(layer["type"], "FeatureCollection");
        let f = feature(&layer, "441502001001").expect("the village centre is drawn");
        assert_eq!(f["properties"]["open"], 2);
        assert_eq!(f["properties"]["overdue"], 0);
        let [lon, lat] = [
            f["geometry"]["coordinates"][0].as_f64().unwrap(),
            f["geometry"]["coordinates"][1].as_f64().unwrap(),
        ];
        assert!(
            (115.30..115.32).contains(&lon) && (22.78..22.81).contains(&lat),
            "{lon},{lat}"
        );
        assert!(
            feature(&layer, "441502001002").is_none(),
            "a centre without open cases is not drawn"
        );
        // Past its 30 working days, the accepted case turns red at the sweep and counts as overdue.
        app.clock.advance_ms(60 * 86_400_000);
        let now = {
            use shanzhi::clock::Clock;
            app.clock.now_ms()
        };
        shanzhi::dispute::sweep(&app.state, now).await.unwrap();
        let layer = app.get_json("/api/v1/map/dispute-centres", &leader).await;
        assert_eq!(
            feature(&layer, "441502001001").unwrap()["properties"]["overdue"],
            1
        );
        // A declined case leaves the layer.
        act_ok(
            &app,
            &cast.dispatcher,
            a,
            json!({"action": "decline", "reason": "不属于调解范围"}),
        )
        .await;
        let layer = app
            .get_json(
                "/api/v1/map/dispute-centres?node=441502001001",
                &cast.dispatcher,
            )
            .await;
        assert_eq!(
            feature(&layer, "441502001001").unwrap()["properties"]["open"],
            1
        );
        // Out of scope: hidden; not a reader of cases: refused.
        let r = app
            .get(
                "/api/v1/map/dispute-centres?node=441502001002",
                Some(&cast.dispatcher),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = app
            .get("/api/v1/map/dispute-centres", Some(&cast.citizen))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
);
