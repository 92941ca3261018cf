//! Organisations, party branches with members, officials of a grid: scoping, validation, the
//! one-branch-per-grid and one-secretary rules.

use reqwest::StatusCode;
use serde_json::json;
use shanzhi_domain::user::Role;

use crate::helpers::assert_error;
use crate::house::{cast, created, of, post, reads, resident, seed_two_counties, writes};

db_test!(organisations_are_scoped_for_every_role, |app| {
    seed_two_counties(&app).await;
    let cast = cast(&app).await;
    let root = app.user("root", Role::Admin, Some("440000000000")).await;
    let make =
        |node: &'static str| json!({"node_code": node, "kind": "enterprise", "name": "汕尾渔具厂"});
    let inside = created(
        post(
            &app,
            &root,
            "/api/v1/organisations",
            make("441502001001001"),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let outside = created(
        post(
            &app,
            &root,
            "/api/v1/organisations",
            make("441521001001001"),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    for (role, s) in &cast {
        let r = app
            .get(&format!("/api/v1/organisations/{inside}"), Some(s))
            .await;
        assert_eq!(
            r.status().is_success(),
            reads(*role),
            "{role:?} reads an organisation"
        );
        let r = app
            .get(&format!("/api/v1/organisations/{outside}"), Some(s))
            .await;
        assert!(!r.status().is_success(), "{role:?} reads one outside");
        let r = post(
            &app,
            s,
            &format!("/api/v1/organisations/{inside}/members"),
            json!({"role": "member", "name": "员工"}),
        )
        .await;
        assert_eq!(
            r.status().is_success(),
            writes(*role),
            "{role:?} adds a member"
        );
        let r = app
            .get("/api/v1/organisations/grid/441502001001001", Some(s))
            .await;
        assert_eq!(
            r.status().is_success(),
            reads(*role),
            "{role:?} reads the grid's branch"
        );
        let r = app
            .get("/api/v1/organisations/grid/441521001001001", Some(s))
            .await;
        assert!(
            !r.status().is_success(),
            "{role:?} reads another county's branch"
        );
    }
});

db_test!(
    a_grid_has_one_party_branch_with_one_secretary_and_its_officials,
    |app| {
        seed_two_counties(&app).await;
        let cast = cast(&app).await;
        let worker = of(&cast, Role::GridWorker);
        let leader = of(&cast, Role::Leader);
        let grid = "441502001001001";
        let branch = created(
            post(
                &app,
                worker,
                "/api/v1/organisations",
                json!({"node_code": grid, "kind": "party_branch", "name": "网格1党支部"}),
            )
            .await,
        )
        .await;
        let id = branch["id"].as_i64().unwrap();
        let again = post(
            &app,
            worker,
            "/api/v1/organisations",
            json!({"node_code": grid, "kind": "party_branch", "name": "第二支部"}),
        )
        .await;
        assert_eq!(
            assert_error(again, StatusCode::CONFLICT).await["field"],
            "kind"
        );
        let someone = resident(&app, grid, "陈书记", None).await;
        created(
            post(
                &app,
                worker,
                &format!("/api/v1/organisations/{id}/members"),
                json!({"role": "secretary", "resident_id": someone}),
            )
            .await,
        )
        .await;
        let second = post(
            &app,
            worker,
            &format!("/api/v1/organisations/{id}/members"),
            json!({"role": "secretary", "name": "另一人"}),
        )
        .await;
        assert_eq!(
            assert_error(second, StatusCode::CONFLICT).await["field"],
            "role"
        );
        let m = created(
            post(
                &app,
                worker,
                &format!("/api/v1/organisations/{id}/members"),
                json!({"role": "member", "name": "党员甲"}),
            )
            .await,
        )
        .await;
        let bad = post(
            &app,
            worker,
            &format!("/api/v1/organisations/{id}/members"),
            json!({"role": "member"}),
        )
        .await;
        assert_eq!(
            assert_error(bad, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
            "resident_id"
        );
        let r = app
            .client
            .put(format!(
                "{}/api/v1/organisations/grid/{grid}/officials/{}",
                app.url, leader.user_id
            ))
            .bearer_auth(&worker.token)
            .json(&json!({"duty": "包联干部"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v = app
            .get_json(&format!("/api/v1/organisations/grid/{grid}"), leader)
            .await;
        assert_eq!(v["party_branch"]["members"][0]["name"], "陈书记");
        assert_eq!(v["party_branch"]["members"][0]["role"], "secretary");
        assert_eq!(v["party_branch"]["members"].as_array().unwrap().len(), 2);
        assert_eq!(v["officials"][0]["duty"], "包联干部");
        let r = app
            .client
            .delete(format!(
                "{}/api/v1/organisations/{id}/members/{}",
                app.url, m["id"]
            ))
            .bearer_auth(&worker.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = app
            .client
            .delete(format!(
                "{}/api/v1/organisations/grid/{grid}/officials/{}",
                app.url, leader.user_id
            ))
            .bearer_auth(&worker.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v = app
            .get_json(&format!("/api/v1/organisations/grid/{grid}"), leader)
            .await;
        assert_eq!(v["party_branch"]["members"].as_array().unwrap().len(), 1);
        assert!(v["officials"].as_array().unwrap().is_empty());
        // Party roles belong to branches.
        let firm = created(
            post(
                &app,
                worker,
                "/api/v1/organisations",
                json!({"node_code": grid, "kind": "social_organisation", "name": "志愿者协会"}),
            )
            .await,
        )
        .await;
        let r = post(
            &app,
            worker,
            &format!("/api/v1/organisations/{}/members", firm["id"]),
            json!({"role": "deputy", "name": "某"}),
        )
        .await;
        assert_eq!(
            assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
            "role"
        );
    }
);
