//! Residents: registered with a checked ID number, answered masked everywhere, found exactly by
//! ID number or phone, scoped by role, revealed one field at a time with an audited purpose,
//! counted in the tally, moved out.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::resident::id_number::complete;
use shanzhi_domain::user::Role;
use shanzhi_store::audit::AuditFilter;

use crate::helpers::{assert_error, Session, TestApp};

/// Grid 001 of village 441502001001 (the cast's grid worker's) and a grid of village 002.
pub const GRID: &str = "441502001001001";
pub const OTHER_VILLAGE_GRID: &str = "441502001002001";

/// A synthetic resident ID born on 1980-01-01 in 城区 with sequence `seq` (odd: a man).
pub fn id_number(seq: u32) -> String {
    complete(&format!("44150219800101{seq:03}"))
}

/// Registers a resident as `who`; the answer's JSON (asserts 201).
pub async fn register(
    app: &TestApp,
    who: &Session,
    node: &str,
    name: &str,
    id: &str,
    phone: Option<&str>,
) -> Value {
    let r = app
        .post_json(
            "/api/v1/residents",
            Some(who),
            json!({"node": node, "name": name, "id_kind": "resident_id", "id_number": id,
                "phone": phone, "residence": "registered", "ethnicity": "汉族"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "register {name}");
    r.json().await.unwrap()
}

/// The tally count of `kind`/`key` at a node path.
pub async fn tally(app: &TestApp, path: &str, kind: &str, key: &str) -> i64 {
    shanzhi_store::tally::at(&app.state.db, path, kind)
        .await
        .unwrap()
        .get(key)
        .copied()
        .unwrap_or(0)
}

db_test!(a_resident_is_registered_masked_and_counted, |app| {
    let cast = app.seed_loop().await;
    let id = id_number(1);
    let v = register(&app, &cast.worker, GRID, "张三", &id, Some("13800138000")).await;
    assert_eq!(v["id_number"], format!("4415**********{}", &id[14..]));
    assert_eq!(v["phone"], "138****8000");
    assert_eq!(v["gender"], "male");
    assert_eq!(v["birth_year"], 1980);
    let rid = v["id"].as_i64().unwrap();
    for path in [
        format!("/api/v1/residents/{rid}"),
        format!("/api/v1/residents?node={GRID}"),
    ] {
        let text = app
            .get(&path, Some(&cast.worker))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            !text.contains(&id) && !text.contains("13800138000"),
            "{path} masks: {text}"
        );
        assert!(text.contains("138****8000"), "{path} shows the mask");
    }
    for path in [GRID, "441502001001", "4415"] {
        assert_eq!(tally(&app, path, "resident", "").await, 1, "{path}");
        assert_eq!(
            tally(&app, path, "residence", "registered").await,
            1,
            "{path}"
        );
    }
    let r = app
        .post_json(
            &format!("/api/v1/residents/{rid}/move_out"),
            Some(&cast.worker),
            json!({"note": "迁往广州"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "moved_out");
    assert_eq!(tally(&app, GRID, "resident", "").await, 0);
    assert_eq!(tally(&app, "4415", "residence", "registered").await, 0);
    let again = app
        .post_json(
            &format!("/api/v1/residents/{rid}/move_out"),
            Some(&cast.worker),
            json!({}),
        )
        .await;
    assert_error(again, StatusCode::CONFLICT).await;
    // Coming back counts again; the audit rows hold masks only.
    let back = app
        .post_json(
            &format!("/api/v1/residents/{rid}/move_out"),
            Some(&cast.worker),
            json!({"status": "present"}),
        )
        .await;
    assert_eq!(back.status(), StatusCode::OK);
    assert_eq!(tally(&app, GRID, "resident", "").await, 1);
    let rows = shanzhi_store::audit::list(
        &app.state.db,
        &AuditFilter {
            entity: Some("resident"),
            ..Default::default()
        },
        None,
        50,
    )
    .await
    .unwrap();
    assert!(rows.iter().any(|r| r.action == "resident.create"));
    for r in &rows {
        let text = format!("{:?}{:?}", r.before_json, r.after_json);
        assert!(
            !text.contains(&id) && !text.contains("13800138000"),
            "audit masks: {text}"
        );
    }
});

db_test!(a_wrong_id_number_is_refused_with_its_reason, |app| {
    let cast = app.seed_loop().await;
    let good = id_number(3);
    let last = if good.ends_with('0') { "1" } else { "0" };
    let bad_check = format!("{}{last}", &good[..17]);
    let bad_region = complete("99150219800101003");
    for (number, reason, key) in [
        (bad_check.as_str(), "check digit", "id_check_digit"),
        (bad_region.as_str(), "region code", "id_region"),
    ] {
        let r = app
            .post_json("/api/v1/residents", Some(&cast.worker),
                json!({"node": GRID, "name": "李四", "id_kind": "resident_id", "id_number": number, "residence": "registered"}))
            .await;
        let e = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(e["field"], "id_number");
        assert!(e["message"].as_str().unwrap().contains(reason), "{e}");
        assert_eq!(e["reason"], key, "a key the page translates");
    }
    // Registered twice: 409 naming where, the number masked.
    register(&app, &cast.worker, GRID, "李四", &good, None).await;
    let r = app
        .post_json("/api/v1/residents", Some(&cast.dispatcher),
            json!({"node": "441502001001002", "name": "李四", "id_kind": "resident_id", "id_number": good, "residence": "floating"}))
        .await;
    let e = assert_error(r, StatusCode::CONFLICT).await;
    assert_eq!(e["reason"], "id_registered");
    assert_eq!(e["params"]["node"], GRID);
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains(GRID) && !msg.contains(&good) && msg.contains("4415**"),
        "{msg}"
    );
    assert_eq!(
        tally(&app, "441502001001", "resident", "").await,
        1,
        "nothing half-written"
    );
    // Without a resident ID, gender and birth year are needed.
    let r = app
        .post_json("/api/v1/residents", Some(&cast.worker),
            json!({"node": GRID, "name": "John", "id_kind": "passport", "id_number": "E1234567", "residence": "overseas"}))
        .await;
    assert_eq!(
        assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "gender"
    );
});

db_test!(
    residents_are_found_exactly_by_id_number_phone_and_name,
    |app| {
        let cast = app.seed_loop().await;
        let a = register(
            &app,
            &cast.worker,
            GRID,
            "王五",
            &id_number(5),
            Some("13900139000"),
        )
        .await;
        let b = register(
            &app,
            &cast.worker,
            GRID,
            "王小明",
            &id_number(7),
            Some("13700137000"),
        )
        .await;
        register(&app, &cast.worker, GRID, "赵六", &id_number(9), None).await;
        let ids = |v: &Value| -> Vec<i64> {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect()
        };
        let search = |body: Value| {
            let app = &app;
            let worker = &cast.worker;
            async move {
                let r = app
                    .post_json("/api/v1/residents/search", Some(worker), body)
                    .await;
                assert_eq!(r.status(), StatusCode::OK);
                r.json::<Value>().await.unwrap()
            }
        };
        let found = search(json!({"id_number": id_number(7)})).await;
        assert_eq!(ids(&found), [b["id"].as_i64().unwrap()]);
        // Exact search never rides in a URL (proxy logs, browser history).
        let r = app
            .get(
                &format!("/api/v1/residents?id_number={}", id_number(7)),
                Some(&cast.worker),
            )
            .await;
        assert!(r.status().is_client_error(), "{}", r.status());
        let found = search(json!({"phone": "139-0013-9000"})).await;
        assert_eq!(ids(&found), [a["id"].as_i64().unwrap()]);
        let found = app
            .get_json(&format!("/api/v1/residents?q={}", "王"), &cast.worker)
            .await;
        assert_eq!(ids(&found).len(), 2);
        let found = search(json!({"phone": "13600136000"})).await;
        assert!(ids(&found).is_empty());
        // A mistyped ID number is refused with the reason, not just not found.
        let r = app
            .post_json(
                "/api/v1/residents/search",
                Some(&cast.worker),
                json!({"id_number": complete("99150219800101005")}),
            )
            .await;
        assert_eq!(
            assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
            "id_number"
        );
        // Keyset paging walks everything once.
        let first = app
            .get_json("/api/v1/residents?limit=2", &cast.worker)
            .await;
        let cursor = first["next_cursor"].as_i64().expect("a next page");
        let second = app
            .get_json(
                &format!("/api/v1/residents?limit=2&cursor={cursor}"),
                &cast.worker,
            )
            .await;
        assert_eq!(ids(&first).len() + ids(&second).len(), 3);
        assert!(second["next_cursor"].is_null());
        // The list's items (written by the database) say what the card says (written here).
        for item in first["items"].as_array().unwrap() {
            let card = app
                .get_json(&format!("/api/v1/residents/{}", item["id"]), &cast.worker)
                .await;
            let item = item.as_object().unwrap();
            assert_eq!(item.len(), 19, "{item:?}");
            for (k, v) in item {
                assert_eq!(&card[k], v, "{k}");
            }
        }
        // Age bands: everyone is 1980-born.
        let old = app
            .get_json("/api/v1/residents?age_from=90", &cast.worker)
            .await;
        assert!(ids(&old).is_empty());
        let all = app
            .get_json(
                "/api/v1/residents?age_from=20&age_to=60&gender=male",
                &cast.worker,
            )
            .await;
        assert!(!ids(&all).is_empty());
    }
);

db_test!(residents_are_scoped_by_role, |app| {
    let cast = app.seed_loop().await;
    let mine = register(
        &app,
        &cast.worker,
        GRID,
        "钱七",
        &id_number(11),
        Some("13500135000"),
    )
    .await;
    let theirs = register(
        &app,
        &cast.other_dispatcher,
        OTHER_VILLAGE_GRID,
        "孙八",
        &id_number(13),
        None,
    )
    .await;
    let (mine, theirs) = (mine["id"].as_i64().unwrap(), theirs["id"].as_i64().unwrap());
    let leader = app.user("leader", Role::Leader, Some("441502000000")).await;
    let mediator = app
        .user("mediator", Role::Mediator, Some("441502001001"))
        .await;
    let see = |v: &Value| -> Vec<i64> {
        v["items"]
            .as_array()
            .map(|a| a.iter().map(|r| r["id"].as_i64().unwrap()).collect())
            .unwrap_or_default()
    };
    // Grid worker: own grid only; the other village is not there.
    assert_eq!(
        see(&app.get_json("/api/v1/residents", &cast.worker).await),
        [mine]
    );
    assert_eq!(
        app.get(&format!("/api/v1/residents/{theirs}"), Some(&cast.worker))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/residents?node={OTHER_VILLAGE_GRID}"),
            Some(&cast.worker)
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    // Dispatcher: the subtree of the village.
    assert_eq!(
        see(&app.get_json("/api/v1/residents", &cast.dispatcher).await),
        [mine]
    );
    assert_eq!(
        see(&app
            .get_json("/api/v1/residents", &cast.town_dispatcher)
            .await),
        [mine, theirs]
    );
    // Leader: reads everything under the county, changes and reveals nothing.
    assert_eq!(
        see(&app.get_json("/api/v1/residents", &leader).await),
        [mine, theirs]
    );
    let r = app
        .patch_json(
            &format!("/api/v1/residents/{mine}"),
            &leader,
            json!({"workplace": "某厂"}),
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post_json(
            &format!("/api/v1/residents/{mine}/reveal"),
            Some(&leader),
            json!({"field": "phone", "purpose": "核实"}),
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN).await;
    let r = app.post_json("/api/v1/residents", Some(&leader),
        json!({"node": GRID, "name": "周九", "id_kind": "resident_id", "id_number": id_number(15), "residence": "registered"})).await;
    assert_error(r, StatusCode::FORBIDDEN).await;
    // Handlers, mediators and citizens have no register.
    for who in [&cast.cg, &mediator, &cast.citizen] {
        assert_error(
            app.get("/api/v1/residents", Some(who)).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(
            app.get(&format!("/api/v1/residents/{mine}"), Some(who))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    }
    // The grid worker changes their own, not the other village's.
    let r = app
        .patch_json(
            &format!("/api/v1/residents/{mine}"),
            &cast.worker,
            json!({"workplace": "新港小学", "version": 1}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .patch_json(
            &format!("/api/v1/residents/{mine}"),
            &cast.worker,
            json!({"workplace": "旧", "version": 1}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::CONFLICT).await["field"],
        "version"
    );
    let r = app
        .patch_json(
            &format!("/api/v1/residents/{theirs}"),
            &cast.worker,
            json!({"workplace": "x"}),
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
});

db_test!(
    a_reveal_needs_the_permission_and_a_purpose_and_is_audited,
    |app| {
        let cast = app.seed_loop().await;
        let id = id_number(17);
        let v = register(&app, &cast.worker, GRID, "吴十", &id, Some("13300133000")).await;
        let rid = v["id"].as_i64().unwrap();
        let path = format!("/api/v1/residents/{rid}/reveal");
        let r = app
            .post_json(
                &path,
                Some(&cast.worker),
                json!({"field": "phone", "purpose": " "}),
            )
            .await;
        assert_eq!(
            assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
            "purpose"
        );
        let r = app
            .post_json(&path, Some(&cast.worker), json!({"field": "phone"}))
            .await;
        assert!(r.status().is_client_error());
        let r = app
            .post_json(
                &path,
                Some(&cast.worker),
                json!({"field": "address", "purpose": "上门走访"}),
            )
            .await;
        assert!(r.status().is_client_error());
        let r = app
            .post_json(
                &path,
                Some(&cast.other_dispatcher),
                json!({"field": "phone", "purpose": "上门走访"}),
            )
            .await;
        assert_error(r, StatusCode::NOT_FOUND).await;
        let r = app
            .post_json(
                &path,
                Some(&cast.worker),
                json!({"field": "phone", "purpose": "上门走访联系"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            v,
            json!({"field": "phone", "value": "13300133000"}),
            "one field only"
        );
        let r = app
            .post_json(
                &path,
                Some(&cast.dispatcher),
                json!({"field": "id_number", "purpose": "核对身份"}),
            )
            .await;
        assert_eq!(r.json::<Value>().await.unwrap()["value"], id);
        let rows = shanzhi_store::audit::list(
            &app.state.db,
            &AuditFilter {
                action: Some("resident.reveal"),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
        assert_eq!(rows.len(), 2);
        let worker_row = rows
            .iter()
            .find(|r| r.actor_id == Some(cast.worker.user_id))
            .expect("the worker's reveal");
        let after: Value = serde_json::from_str(worker_row.after_json.as_deref().unwrap()).unwrap();
        assert_eq!(after, json!({"field": "phone", "purpose": "上门走访联系"}));
        assert_eq!(worker_row.entity_id, rid.to_string());
        for r in &rows {
            let text = format!("{:?}", r.after_json);
            assert!(
                !text.contains("13300133000") && !text.contains(&id),
                "no value in the audit: {text}"
            );
        }
    }
);

/// Tags a resident straight in the store (the tag routes are another module's), counted.
async fn tag(app: &TestApp, resident: i64, node: &str, code: &str) {
    let tag_sql = "INSERT INTO tag (code, name_zh, name_en, kind, created_at, updated_at) VALUES ($1, $1, $1, 'care', 0, 0) ON CONFLICT (code) DO NOTHING";
    let link_sql =
        "INSERT INTO resident_tag (resident_id, tag_code, node_code, since) VALUES ($1, $2, $3, 0)";
    match &app.state.db {
        shanzhi_store::Db::Sqlite { write, .. } => {
            sqlx::query(tag_sql)
                .bind(code)
                .execute(write)
                .await
                .unwrap();
            sqlx::query(link_sql)
                .bind(resident)
                .bind(code)
                .bind(node)
                .execute(write)
                .await
                .unwrap();
        }
        shanzhi_store::Db::Postgres(pool) => {
            sqlx::query(tag_sql).bind(code).execute(pool).await.unwrap();
            sqlx::query(link_sql)
                .bind(resident)
                .bind(code)
                .bind(node)
                .execute(pool)
                .await
                .unwrap();
        }
    }
    let mut t = shanzhi_store::tally::Tally::new();
    t.add(
        &shanzhi_domain::tree::NodeCode::parse(node).unwrap(),
        "tag",
        code,
        1,
    );
    shanzhi_store::tally::add(&app.state.db, &t).await.unwrap();
}

db_test!(
    a_tagged_resident_is_found_by_tag_and_leaves_the_tag_counts_on_moving_out,
    |app| {
        let cast = app.seed_loop().await;
        let v = register(&app, &cast.worker, GRID, "郑老", &id_number(41), None).await;
        let rid = v["id"].as_i64().unwrap();
        register(&app, &cast.worker, GRID, "郑少", &id_number(43), None).await;
        tag(&app, rid, GRID, "elderly_alone").await;
        let found = app
            .get_json("/api/v1/residents?tag=elderly_alone", &cast.worker)
            .await;
        let ids: Vec<i64> = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [rid]);
        // A grid's tagged residents page by id like the others.
        let page = app
            .get_json("/api/v1/residents?tag=elderly_alone&limit=1", &cast.worker)
            .await;
        assert_eq!(page["items"][0]["id"], rid);
        assert!(page["next_cursor"].is_null());
        assert_eq!(
            app.get_json(&format!("/api/v1/residents/{rid}"), &cast.worker)
                .await["tags"],
            json!(["elderly_alone"])
        );
        assert_eq!(tally(&app, "441502001001", "tag", "elderly_alone").await, 1);
        let r = app
            .post_json(
                &format!("/api/v1/residents/{rid}/move_out"),
                Some(&cast.worker),
                json!({"status": "deceased"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(tally(&app, "441502001001", "tag", "elderly_alone").await, 0);
        assert_eq!(tally(&app, "441502001001", "resident", "").await, 1);
        // Death is final.
        let r = app
            .post_json(
                &format!("/api/v1/residents/{rid}/move_out"),
                Some(&cast.worker),
                json!({"status": "present"}),
            )
            .await;
        assert_eq!(
            assert_error(r, StatusCode::CONFLICT).await["field"],
            "status"
        );
    }
);

db_test!(
    a_resident_moved_to_another_grid_takes_the_counts_along,
    |app| {
        let cast = app.seed_loop().await;
        let rid = register(&app, &cast.worker, GRID, "冯十一", &id_number(51), None).await["id"]
            .as_i64()
            .unwrap();
        let next = "441502001001002";
        // The grid worker may not move them out of reach; the village dispatcher may.
        let r = app
            .patch_json(
                &format!("/api/v1/residents/{rid}"),
                &cast.worker,
                json!({"node": next}),
            )
            .await;
        assert_error(r, StatusCode::NOT_FOUND).await;
        let r = app
            .patch_json(
                &format!("/api/v1/residents/{rid}"),
                &cast.dispatcher,
                json!({"node": next, "residence": "floating"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(tally(&app, GRID, "resident", "").await, 0);
        assert_eq!(tally(&app, next, "resident", "").await, 1);
        assert_eq!(tally(&app, next, "residence", "floating").await, 1);
        assert_eq!(tally(&app, "441502001001", "resident", "").await, 1);
        assert_eq!(
            tally(&app, "441502001001", "residence", "registered").await,
            0
        );
        assert_eq!(
            app.get(&format!("/api/v1/residents/{rid}"), Some(&cast.worker))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    }
);
