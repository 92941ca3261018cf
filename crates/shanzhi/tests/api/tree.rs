//! Importing and exporting whole trees: all or nothing, refusals named by feature.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, grid, rect, region};

async fn import(
    app: &crate::helpers::TestApp,
    who: &crate::helpers::Session,
    features: Vec<Value>,
) -> reqwest::Response {
    app.post_json(
        "/api/v1/tree/import",
        Some(who),
        json!({"type": "FeatureCollection", "features": features}),
    )
    .await
}

/// Imports `features` (after a valid first feature) and checks the refusal names `index`/`code`.
async fn refused(
    app: &crate::helpers::TestApp,
    features: Vec<Value>,
    index: usize,
    code: &str,
    words: &str,
) {
    refused_with(
        app,
        features,
        index,
        code,
        words,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// Like [`refused`], answered with `status`.
async fn refused_with(
    app: &crate::helpers::TestApp,
    features: Vec<Value>,
    index: usize,
    code: &str,
    words: &str,
    status: StatusCode,
) {
    let admin = app.login("admin").await;
    let before = app.node_count().await;
    let r = import(app, &admin, features).await;
    let v = assert_error(r, status).await;
    assert_eq!(v["code"], "invalid_import");
    let errors = v["errors"].as_array().unwrap();
    let hit = errors
        .iter()
        .find(|e| e["index"] == index && e["code"] == code);
    assert!(hit.is_some(), "expected feature {index} ({code}) in {v}");
    assert!(
        hit.unwrap()["message"].as_str().unwrap().contains(words),
        "expected '{words}' in {v}"
    );
    assert_eq!(app.node_count().await, before, "nothing written");
}

db_test!(import_refuses_a_self_intersecting_polygon, |app| {
    app.seed_town().await;
    app.create_user("admin", Role::Admin, Some("441500000000"), None)
        .await;
    let bow = json!({"type": "Polygon", "coordinates": [[[115.30, 22.80], [115.31, 22.81], [115.31, 22.80], [115.30, 22.81], [115.30, 22.80]]]});
    let features = vec![
        grid(
            "441502001001003",
            "好的",
            rect(115.30, 22.79, 115.31, 22.80),
        ),
        grid("441502001001004", "坏的", bow),
    ];
    refused(
        &app,
        features,
        1,
        "441502001001004",
        "self-intersection at (115.305, 22.805)",
    )
    .await;
});

db_test!(import_refuses_an_unknown_parent, |app| {
    app.seed_town().await;
    app.create_user("admin", Role::Admin, Some("441500000000"), None)
        .await;
    let features = vec![grid(
        "441502001009001",
        "孤儿",
        rect(115.30, 22.79, 115.31, 22.80),
    )];
    refused(&app, features, 0, "441502001009001", "unknown parent").await;
});

db_test!(
    import_refuses_duplicate_codes_in_the_file_and_in_the_database,
    |app| {
        app.seed_town().await;
        app.create_user("admin", Role::Admin, Some("441500000000"), None)
            .await;
        let features = vec![
            grid("441502001001003", "一", rect(115.30, 22.79, 115.31, 22.80)),
            grid("441502001001003", "二", rect(115.31, 22.79, 115.32, 22.80)),
        ];
        refused(&app, features, 1, "441502001001003", "duplicate").await;
        let features = vec![grid(
            "441502001001001",
            "已有",
            rect(115.30, 22.79, 115.31, 22.80),
        )];
        // A code the tree has already is a conflict with it, like any duplicate.
        refused_with(
            &app,
            features,
            0,
            "441502001001001",
            "already exists",
            StatusCode::CONFLICT,
        )
        .await;
    }
);

db_test!(import_refuses_a_code_outside_its_parents_prefix, |app| {
    app.seed_town().await;
    app.create_user("admin", Role::Admin, Some("441500000000"), None)
        .await;
    let mut v = region("441502002001", "错挂的村", None);
    v["properties"]["parent"] = json!("441502001000");
    refused(&app, vec![v], 0, "441502002001", "prefix").await;
});

db_test!(import_refuses_a_grid_overlapping_its_sibling, |app| {
    app.seed_town().await;
    app.create_user("admin", Role::Admin, Some("441500000000"), None)
        .await;
    // Half on top of the existing grid 441502001001001.
    let features = vec![grid(
        "441502001001003",
        "压线",
        rect(115.305, 22.78, 115.315, 22.79),
    )];
    refused(&app, features, 0, "441502001001003", "overlaps").await;
    // Within the tolerance (a sliver along the shared edge) is accepted.
    let admin = app.login("admin").await;
    let r = import(
        &app,
        &admin,
        vec![grid(
            "441502001001003",
            "贴边",
            rect(115.2999999, 22.79, 115.3099999, 22.80),
        )],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
});

db_test!(a_whole_tree_imports_and_exports_round_trip, |app| {
    app.seed_town().await;
    let admin = app.user("admin", Role::Admin, Some("441500000000")).await;
    let features = vec![
        region("441502002000", "香洲街道", None),
        region(
            "441502002001",
            "香洲社区",
            Some(rect(115.40, 22.78, 115.42, 22.79)),
        ),
        grid(
            "441502002001001",
            "香洲一格",
            rect(115.40, 22.78, 115.41, 22.79),
        ),
        grid(
            "441502002001002",
            "香洲二格",
            rect(115.41, 22.78, 115.42, 22.79),
        ),
    ];
    let r = import(&app, &admin, features).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["imported"], 4);
    let r = app
        .get("/api/v1/tree/export?root=441502002000", Some(&admin))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let fc: Value = r.json().await.unwrap();
    let codes: Vec<&str> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        vec![
            // The root's ancestors first, so the export loads into an empty database.
            "440000000000",
            "441500000000",
            "441502000000",
            "441502002000",
            "441502002001",
            "441502002001001",
            "441502002001002"
        ]
    );
    assert_eq!(
        fc["features"][5]["geometry"]["coordinates"][0][1],
        json!([115.41, 22.78])
    );
    // The new grids are locatable at once: the R-tree was rebuilt.
    let v: Value = app
        .get("/api/v1/locate?lon=115.415&lat=22.785", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["grid"]["code"], "441502002001002");
});

db_test!(only_administrators_import, |app| {
    app.seed_town().await;
    let dispatcher = app
        .user("disp", Role::Dispatcher, Some("441500000000"))
        .await;
    let r = import(
        &app,
        &dispatcher,
        vec![grid(
            "441502001001003",
            "x",
            rect(115.30, 22.79, 115.31, 22.80),
        )],
    )
    .await;
    assert_error(r, StatusCode::FORBIDDEN).await;
});
