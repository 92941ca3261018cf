//! Regions and grids one at a time, and who may see and change them.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, rect};

db_test!(admin_creates_reads_and_renames_a_grid, |app| {
    app.seed_town().await;
    let admin = app.user("admin", Role::Admin, Some("441502001000")).await;
    let r = app
        .post_json(
            "/api/v1/nodes",
            Some(&admin),
            json!({"code": "441502001001003", "name": "新网格", "level": "micro", "geometry": rect(115.30, 22.79, 115.31, 22.80)}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app.get("/api/v1/nodes/441502001001003", Some(&admin)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["name"], "新网格");
    assert_eq!(v["level"], "micro");
    assert_eq!(v["geometry"]["type"], "Polygon");
    let chain: Vec<&str> = v["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        chain,
        vec![
            "440000000000",
            "441500000000",
            "441502000000",
            "441502001000",
            "441502001001"
        ]
    );

    let r = app
        .patch_json(
            "/api/v1/nodes/441502001001003",
            &admin,
            json!({"name": "改名网格", "version": 1}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["name"].as_str(), v["version"].as_i64()),
        (Some("改名网格"), Some(2))
    );
    // A second writer holding the old version loses instead of overwriting.
    let r = app
        .patch_json(
            "/api/v1/nodes/441502001001003",
            &admin,
            json!({"name": "旧版本", "version": 1}),
        )
        .await;
    assert_error(r, StatusCode::CONFLICT).await;
});

db_test!(children_and_subtree_list_in_code_order_with_paging, |app| {
    app.seed_town().await;
    let admin = app.user("admin", Role::Admin, Some("441500000000")).await;
    let v: Value = app
        .get("/api/v1/nodes/441502001001/children", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["441502001001001", "441502001001002"]);

    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let q = if after.is_empty() {
            "/api/v1/nodes/441502000000/subtree?limit=3".to_owned()
        } else {
            format!("/api/v1/nodes/441502000000/subtree?limit=3&after={after}")
        };
        let v: Value = app.get(&q, Some(&admin)).await.json().await.unwrap();
        seen.extend(
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["code"].as_str().unwrap().to_owned()),
        );
        match v["next_after"].as_str() {
            Some(n) => after = n.to_owned(),
            None => break,
        }
    }
    // county, town, two villages, four grids
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert_eq!(seen[0], "441502000000");
});

db_test!(
    a_village_worker_cannot_see_or_change_the_next_village,
    |app| {
        app.seed_town().await;
        let worker = app
            .user("worker", Role::GridWorker, Some("441502001001"))
            .await;
        assert_eq!(
            app.get("/api/v1/nodes/441502001001001", Some(&worker))
                .await
                .status(),
            StatusCode::OK
        );
        for path in [
            "/api/v1/nodes/441502001002001",
            "/api/v1/nodes/441502001002",
            "/api/v1/nodes/441502001002/children",
            "/api/v1/nodes/441502001000",
        ] {
            assert_error(app.get(path, Some(&worker)).await, StatusCode::NOT_FOUND).await;
        }
        let r = app
            .patch_json(
                "/api/v1/nodes/441502001002001",
                &worker,
                json!({"name": "hijacked"}),
            )
            .await;
        assert_error(r, StatusCode::NOT_FOUND).await;
        // Even inside the village, a grid worker may not change the tree.
        let r = app
            .patch_json(
                "/api/v1/nodes/441502001001001",
                &worker,
                json!({"name": "renamed"}),
            )
            .await;
        assert_error(r, StatusCode::FORBIDDEN).await;
        let v: Value = app
            .get(
                "/api/v1/nodes/441502001002001",
                Some(&app.user("boss", Role::Admin, Some("440000000000")).await),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["name"], "网格1", "nothing changed");
    }
);

db_test!(
    an_admin_of_village_a_cannot_create_grids_in_village_b,
    |app| {
        app.seed_town().await;
        let admin = app.user("vadmin", Role::Admin, Some("441502001001")).await;
        let r = app
        .post_json(
            "/api/v1/nodes",
            Some(&admin),
            json!({"code": "441502001002009", "name": "越界", "level": "small", "geometry": rect(115.32, 22.79, 115.33, 22.80)}),
        )
        .await;
        let v = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            v["message"].as_str().unwrap().contains("unknown parent"),
            "{v}"
        );
        assert_eq!(app.node_count().await, 10);
    }
);

db_test!(a_moved_grid_may_not_overlap_its_sibling, |app| {
    app.seed_town().await;
    let admin = app.user("admin", Role::Admin, Some("441502001000")).await;
    let r = app
        .patch_json(
            "/api/v1/nodes/441502001001002",
            &admin,
            json!({"geometry": rect(115.305, 22.78, 115.315, 22.79)}),
        )
        .await;
    let v = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(v["field"], "geometry");
    assert!(v["message"].as_str().unwrap().contains("441502001001001"));
});

db_test!(citizens_have_no_staff_tree, |app| {
    app.seed_town().await;
    let citizen = app.user("citizen", Role::Citizen, None).await;
    assert_error(
        app.get("/api/v1/nodes/441502001001", Some(&citizen)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get("/api/v1/nodes", Some(&citizen)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
});
