//! The tag catalogue and tags on residents through HTTP: who reads and changes the catalogue,
//! tagging counts (tally `tag` at the node and every ancestor), the first visit falling due one
//! interval later, and the scope of every role.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shanzhi::clock::Clock;
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::Role;
use shanzhi_store::tally::Tally;
use shanzhi_store::Db;

use crate::helpers::{assert_error, Session, TestApp};

const DAY: i64 = 86_400_000;
pub const GRID: &str = "441502001001001";

/// Puts a resident straight into the register at `node` (the people API is another module's),
/// counted in the tally as the register counts them. Answers the resident's id.
pub async fn insert_resident(app: &TestApp, node: &str, name: &str) -> i64 {
    let now = app.clock.now_ms();
    let sql = "INSERT INTO resident (node_code, name, gender, id_kind, residence, created_at, updated_at) \
               VALUES ($1, $2, 'female', 'other', 'registered', $3, $3) RETURNING id";
    let id: i64 = match &app.state.db {
        Db::Sqlite { write, .. } => {
            sqlx::query_scalar(sql)
                .bind(node)
                .bind(name)
                .bind(now)
                .fetch_one(write)
                .await
        }
        Db::Postgres(p) => {
            sqlx::query_scalar(sql)
                .bind(node)
                .bind(name)
                .bind(now)
                .fetch_one(p)
                .await
        }
    }
    .unwrap();
    let mut t = Tally::new();
    let code = NodeCode::parse(node).unwrap();
    t.add(&code, "resident", "", 1);
    t.add(&code, "residence", "registered", 1);
    shanzhi_store::tally::add(&app.state.db, &t).await.unwrap();
    id
}

/// Tags a resident as `who`; answers the response.
pub async fn tag(app: &TestApp, who: &Session, resident: i64, tag: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/residents/{resident}/tags"),
        Some(who),
        json!({"tag": tag}),
    )
    .await
}

/// Tags a resident; the tag must go on.
pub async fn tag_ok(app: &TestApp, who: &Session, resident: i64, code: &str) -> Value {
    let r = tag(app, who, resident, code).await;
    assert_eq!(r.status(), StatusCode::CREATED, "tag {code}");
    r.json().await.unwrap()
}

async fn untag(app: &TestApp, who: &Session, resident: i64, tag: &str) -> reqwest::Response {
    app.client
        .request(
            Method::DELETE,
            format!("{}/api/v1/residents/{resident}/tags/{tag}", app.url),
        )
        .bearer_auth(&who.token)
        .send()
        .await
        .unwrap()
}

/// The `tag` count of `code` at a node path, straight from the tally.
async fn count(app: &TestApp, path: &str, code: &str) -> i64 {
    shanzhi_store::tally::at(&app.state.db, path, "tag")
        .await
        .unwrap()
        .get(code)
        .copied()
        .unwrap_or(0)
}

db_test!(the_builtin_catalogue_is_read_by_every_staff_role, |app| {
    let c = app.seed_loop().await;
    let v = app.get_json("/api/v1/tags", &c.worker).await;
    let items = v["items"].as_array().unwrap();
    let find = |code: &str| items.iter().find(|t| t["code"] == code).cloned();
    for (code, days, vulnerable) in [
        ("elderly_alone", json!(30), true),
        ("subsistence", json!(90), false),
        ("mental_illness", json!(14), true),
        ("community_correction", json!(7), false),
        ("veteran", Value::Null, false),
        ("pregnant", json!(30), true),
    ] {
        let t = find(code).unwrap_or_else(|| panic!("builtin {code}"));
        assert_eq!(t["visit_days"], days, "{code}");
        assert_eq!(t["vulnerable"], vulnerable, "{code}");
        assert_eq!(t["builtin"], true);
    }
    assert_eq!(items.len(), 14);
    for who in [&c.dispatcher, &c.cg] {
        assert_eq!(
            app.get("/api/v1/tags", Some(who)).await.status(),
            StatusCode::OK
        );
    }
    assert_error(
        app.get("/api/v1/tags", Some(&c.citizen)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
});

db_test!(
    administrators_of_the_whole_tree_add_and_change_tags,
    |app| {
        let c = app.seed_loop().await;
        let root = app
            .user("root-admin", Role::Admin, Some("440000000000"))
            .await;
        let village_admin = app.user("v-admin", Role::Admin, Some("441502001001")).await;
        let body = json!({"code": "flood_risk", "name_zh": "低洼户", "name_en": "Low-lying home", "kind": "attention", "visit_days": 60, "vulnerable": true});
        assert_error(
            app.post_json("/api/v1/tags", Some(&village_admin), body.clone())
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_error(
            app.post_json("/api/v1/tags", Some(&c.dispatcher), body.clone())
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let r = app
            .post_json("/api/v1/tags", Some(&root), body.clone())
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let t: Value = r.json().await.unwrap();
        assert_eq!(
            (t["builtin"].clone(), t["visit_days"].clone()),
            (json!(false), json!(60))
        );
        let e = assert_error(
            app.post_json("/api/v1/tags", Some(&root), body).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["field"], "code");
        for (bad, field) in [
            (
                json!({"code": "Bad Code", "name_zh": "x", "name_en": "x", "kind": "care"}),
                "code",
            ),
            (
                json!({"code": "ok_code", "name_zh": "x", "name_en": "x", "kind": "kind"}),
                "kind",
            ),
            (
                json!({"code": "ok_code", "name_zh": "x", "name_en": "x", "kind": "care", "visit_days": 0}),
                "visit_days",
            ),
            (
                json!({"code": "ok_code", "name_zh": " ", "name_en": "x", "kind": "care"}),
                "name_zh",
            ),
        ] {
            let e = assert_error(
                app.post_json("/api/v1/tags", Some(&root), bad).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(e["field"], field);
        }
        // Their own tag: anything changes; the interval may be cleared.
        let r = app
            .patch_json(
                "/api/v1/tags/flood_risk",
                &root,
                json!({"name_zh": "低洼易涝户", "visit_days": null}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let t: Value = r.json().await.unwrap();
        assert_eq!(
            (
                t["name_zh"].clone(),
                t["visit_days"].clone(),
                t["version"].clone()
            ),
            (json!("低洼易涝户"), Value::Null, json!(2))
        );
        // A builtin tag: only its interval and whether it marks vulnerable people.
        let e = assert_error(
            app.patch_json(
                "/api/v1/tags/elderly_alone",
                &root,
                json!({"name_zh": "老人"}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["field"], "name_zh");
        let r = app
            .patch_json(
                "/api/v1/tags/elderly_alone",
                &root,
                json!({"visit_days": 15}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["visit_days"], 15);
        assert_error(
            app.patch_json(
                "/api/v1/tags/elderly_alone",
                &village_admin,
                json!({"visit_days": 10}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_error(
            app.patch_json("/api/v1/tags/no_such", &root, json!({"visit_days": 10}))
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let audit = shanzhi_store::with_pool!(&app.state.db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit WHERE entity = 'tag' AND action IN ('tag.create', 'tag.update')",
    ).fetch_one(pool).await.unwrap());
        assert_eq!(audit, 3);
    }
);

db_test!(
    tagging_counts_at_every_level_and_sets_the_first_visit,
    |app| {
        let c = app.seed_loop().await;
        let a = insert_resident(&app, GRID, "王秀英").await;
        let b = insert_resident(&app, "441502001001002", "李建国").await;
        let now = app.clock.now_ms();
        let row = tag_ok(&app, &c.worker, a, "community_correction").await;
        assert_eq!(row["next_visit_at"], now + 7 * DAY, "calendar days");
        tag_ok(&app, &c.worker, a, "veteran").await;
        assert_eq!(
            app.get_json(&format!("/api/v1/residents/{a}/tags"), &c.worker)
                .await["next_visit_at"],
            now + 7 * DAY
        );
        // The village dispatcher tags in another grid of the village.
        tag_ok(&app, &c.dispatcher, b, "community_correction").await;
        assert_eq!(count(&app, GRID, "community_correction").await, 1);
        assert_eq!(count(&app, "441502001001", "community_correction").await, 2);
        assert_eq!(count(&app, "44", "community_correction").await, 2);
        assert_eq!(count(&app, "441502001001", "veteran").await, 1);
        // Twice is refused and counts nothing more.
        let e = assert_error(
            tag(&app, &c.worker, a, "veteran").await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["field"], "tag");
        assert_eq!(count(&app, "441502001001", "veteran").await, 1);
        let e = assert_error(
            tag(&app, &c.worker, a, "no_such_tag").await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(e["field"], "tag");
        // Untagging uncounts, once.
        let r = untag(&app, &c.worker, a, "community_correction").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["removed"], true);
        assert_eq!(
            untag(&app, &c.worker, a, "community_correction")
                .await
                .json::<Value>()
                .await
                .unwrap()["removed"],
            false
        );
        assert_eq!(count(&app, GRID, "community_correction").await, 0);
        assert_eq!(count(&app, "441502001001", "community_correction").await, 1);
        let audit = shanzhi_store::with_pool!(&app.state.db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit WHERE entity = 'resident' AND action IN ('resident.tag', 'resident.untag')",
    ).fetch_one(pool).await.unwrap());
        assert_eq!(audit, 4);
    }
);

db_test!(tagging_is_scoped_like_the_register, |app| {
    let c = app.seed_loop().await;
    let mine = insert_resident(&app, GRID, "王秀英").await;
    let next_grid = insert_resident(&app, "441502001001002", "李建国").await;
    let leader = app.user("leader", Role::Leader, Some("441502001001")).await;
    let mediator = app
        .user("mediator", Role::Mediator, Some("441502001001"))
        .await;
    // A grid worker: their grid only; a resident elsewhere does not exist for them.
    assert_error(
        tag(&app, &c.worker, next_grid, "disabled").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        tag(&app, &c.other_dispatcher, mine, "disabled").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        tag(&app, &c.cg, mine, "disabled").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        tag(&app, &c.citizen, mine, "disabled").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        tag(&app, &mediator, mine, "disabled").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // A leader reads but does not tag.
    assert_error(
        tag(&app, &leader, mine, "disabled").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_error(
        untag(&app, &leader, mine, "disabled").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v1/residents/{mine}/tags"), Some(&leader))
            .await
            .status(),
        StatusCode::OK
    );
    assert_error(
        app.get(
            &format!("/api/v1/residents/{mine}/tags"),
            Some(&c.other_dispatcher),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(count(&app, "44", "disabled").await, 0);
    tag_ok(&app, &c.town_dispatcher, mine, "disabled").await;
    assert_eq!(count(&app, "44", "disabled").await, 1);
});
