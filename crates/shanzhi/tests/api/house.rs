//! Buildings and houses: scoping for every role, validation with the field, occupants masked,
//! counts kept; and the seeding helpers the place, organisation and emergency tests share.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use shanzhi_domain::user::Role;
use shanzhi_store::Db;

use crate::helpers::{assert_error, grid, rect, region, Session, TestApp};

/// Runs one statement of test data that returns an id.
pub async fn insert_id(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite { write, .. } => sqlx::query_scalar(sql).fetch_one(write).await,
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs statements of test data.
pub async fn exec(db: &Db, sql: &str) {
    match db {
        Db::Sqlite { write, .. } => sqlx::raw_sql(sql).execute(write).await.map(|_| ()),
        Db::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A resident (the people module owns the register: the tests write the row directly), with
/// a masked ID number and phone as the register keeps them.
pub async fn resident(app: &TestApp, node: &str, name: &str, house: Option<i64>) -> i64 {
    let house = house.map_or("NULL".to_owned(), |h| h.to_string());
    insert_id(&app.state.db, &format!(
        "INSERT INTO resident (node_code, house_id, name, gender, birth_year, id_kind, id_mask, phone_mask, residence, created_at, updated_at) \
         VALUES ('{node}', {house}, '{name}', 'female', 1940, 'resident_id', '4415**********123X', '138****5678', 'registered', 0, 0) RETURNING id")).await
}

/// Tags for the tests (codes no catalogue ships): one vulnerable, one not.
pub async fn tags(app: &TestApp) {
    exec(&app.state.db, "INSERT INTO tag (code, name_zh, name_en, kind, visit_days, vulnerable, builtin, created_at, updated_at) VALUES \
        ('t_alone', '测试独居', 'test alone', 'care', 30, TRUE, FALSE, 0, 0), \
        ('t_watch', '测试关注', 'test watch', 'attention', NULL, FALSE, FALSE, 0, 0)").await;
}

/// Tags a resident.
pub async fn tag(app: &TestApp, resident: i64, node: &str, code: &str) {
    exec(&app.state.db, &format!(
        "INSERT INTO resident_tag (resident_id, tag_code, node_code, since) VALUES ({resident}, '{code}', '{node}', 0)")).await;
}

/// The seeded town plus a second county with one grid (441521001001001).
pub async fn seed_two_counties(app: &TestApp) {
    app.seed_town().await;
    seed_other_county(app).await;
}

/// A second county (海丰县 441521) with one grid, 441521001001001, beside the seeded town.
pub async fn seed_other_county(app: &TestApp) {
    app.import_as_operator(json!({"type": "FeatureCollection", "features": [
        region("441521000000", "海丰县", None),
        region("441521001000", "海城镇", None),
        region("441521001001", "城东社区", Some(rect(115.40, 22.78, 115.42, 22.79))),
        grid("441521001001001", "网格1", rect(115.40, 22.78, 115.41, 22.79)),
    ]}))
    .await;
}

/// One session per role, acting from village 441502001001 (the grid worker from its grid 001,
/// the handler from a department, the citizen with no area).
pub async fn cast(app: &TestApp) -> Vec<(Role, Session)> {
    let dep = shanzhi_store::department::insert(
        &app.state.db,
        "cg-441502",
        "城区城管局",
        &shanzhi_domain::tree::NodeCode::parse("441502000000").unwrap(),
        None,
        0,
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    for role in Role::ALL {
        let name = format!("b-{}", role.as_str().replace('_', "-"));
        let s = match role {
            Role::GridWorker => app.user(&name, role, Some("441502001001001")).await,
            Role::Citizen => app.user(&name, role, None).await,
            Role::Handler => {
                app.create_user(&name, role, None, Some(dep.id)).await;
                app.login(&name).await
            }
            _ => app.user(&name, role, Some("441502001001")).await,
        };
        out.push((role, s));
    }
    out
}

/// The session of a role in a cast.
pub fn of(cast: &[(Role, Session)], role: Role) -> &Session {
    &cast.iter().find(|c| c.0 == role).unwrap().1
}

/// Base data may be changed by administrators, dispatchers and grid workers.
pub fn writes(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Dispatcher | Role::GridWorker)
}

/// …and read by leaders and analysts too.
pub fn reads(role: Role) -> bool {
    writes(role) || matches!(role, Role::Leader | Role::Analyst)
}

pub async fn post(app: &TestApp, who: &Session, path: &str, body: Value) -> Response {
    app.post_json(path, Some(who), body).await
}

pub async fn created(r: Response) -> Value {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

/// A building in `node`, created by `who`.
pub async fn building(app: &TestApp, who: &Session, node: &str, at: (f64, f64)) -> i64 {
    created(
        post(
            app,
            who,
            "/api/v1/buildings",
            json!({"node_code": node, "name": "3栋", "lon": at.0, "lat": at.1, "floors": 6}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

/// A house in a building.
pub async fn house(app: &TestApp, who: &Session, building: i64, room: &str) -> i64 {
    created(
        post(
            app,
            who,
            "/api/v1/houses",
            json!({"building_id": building, "room": room, "use": "self_occupied"}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

async fn tally(app: &TestApp, path: &str, kind: &str) -> std::collections::BTreeMap<String, i64> {
    shanzhi_store::tally::at(&app.state.db, path, kind)
        .await
        .unwrap()
}

db_test!(buildings_and_houses_are_scoped_for_every_role, |app| {
    seed_two_counties(&app).await;
    let cast = cast(&app).await;
    let root = app.user("root", Role::Admin, Some("440000000000")).await;
    let inside = building(&app, &root, "441502001001001", (115.305, 22.785)).await;
    let outside = building(&app, &root, "441521001001001", (115.405, 22.785)).await;
    let room = house(&app, &root, inside, "1单元101").await;
    for (role, s) in &cast {
        let r = app
            .get(&format!("/api/v1/buildings/{inside}"), Some(s))
            .await;
        assert_eq!(
            r.status().is_success(),
            reads(*role),
            "{role:?} reads a building in its area"
        );
        let r = app
            .get(&format!("/api/v1/buildings/{outside}"), Some(s))
            .await;
        assert_eq!(
            r.status(),
            if reads(*role) {
                StatusCode::NOT_FOUND
            } else {
                r.status()
            },
            "{role:?}"
        );
        assert!(
            !r.status().is_success(),
            "{role:?} reads a building outside its area"
        );
        let r = app.get(&format!("/api/v1/houses/{room}"), Some(s)).await;
        assert_eq!(
            r.status().is_success(),
            reads(*role),
            "{role:?} reads a house"
        );
        let r = app.get("/api/v1/buildings", Some(s)).await;
        assert_eq!(
            r.status().is_success(),
            reads(*role),
            "{role:?} lists buildings"
        );
        if r.status().is_success() {
            let v: Value = r.json().await.unwrap();
            let ids: Vec<i64> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["id"].as_i64().unwrap())
                .collect();
            assert!(
                ids.contains(&inside) && !ids.contains(&outside),
                "{role:?} lists only its area: {ids:?}"
            );
        }
        let r = post(
            &app,
            s,
            "/api/v1/buildings",
            json!({"node_code": "441502001001001", "name": "新楼"}),
        )
        .await;
        assert_eq!(
            r.status().is_success(),
            writes(*role),
            "{role:?} creates a building"
        );
        if reads(*role) && !writes(*role) {
            assert_eq!(r.status(), StatusCode::FORBIDDEN);
        }
        let r = post(
            &app,
            s,
            "/api/v1/buildings",
            json!({"node_code": "441521001001001", "name": "新楼"}),
        )
        .await;
        assert!(
            !r.status().is_success(),
            "{role:?} creates a building outside its area"
        );
        let r = app
            .patch_json(
                &format!("/api/v1/houses/{room}"),
                s,
                json!({"use": "rented"}),
            )
            .await;
        assert_eq!(
            r.status().is_success(),
            writes(*role),
            "{role:?} changes a house"
        );
    }
});

db_test!(
    buildings_are_found_by_box_and_show_houses_with_masked_occupants,
    |app| {
        seed_two_counties(&app).await;
        let worker = app
            .user("wkr", Role::GridWorker, Some("441502001001001"))
            .await;
        let b = building(&app, &worker, "441502001001001", (115.305, 22.785)).await;
        let far = building(&app, &worker, "441502001001001", (115.309, 22.789)).await;
        let h = house(&app, &worker, b, "2单元301").await;
        resident(&app, "441502001001001", "王秀英", Some(h)).await;
        let in_box = app
            .get_json(
                "/api/v1/buildings?bbox=115.30,22.78,115.306,22.786",
                &worker,
            )
            .await;
        let ids: Vec<i64> = in_box["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![b]);
        assert_ne!(far, b);
        let v = app
            .get_json(&format!("/api/v1/buildings/{b}"), &worker)
            .await;
        assert_eq!(v["houses"][0]["room"], "2单元301");
        let o = &v["houses"][0]["occupants"][0];
        assert_eq!(o["name"], "王秀英");
        assert_eq!(o["id_number"], "4415**********123X");
        assert_eq!(o["phone"], "138****5678");
        let card = app.get_json(&format!("/api/v1/houses/{h}"), &worker).await;
        assert_eq!(card["occupants"].as_array().unwrap().len(), 1);
        assert_eq!(card["building_name"], "3栋");
    }
);

db_test!(bad_buildings_and_houses_are_refused_with_the_field, |app| {
    seed_two_counties(&app).await;
    let worker = app
        .user("wkr", Role::GridWorker, Some("441502001001001"))
        .await;
    let cases = [
        (
            json!({"node_code": "441502001001001", "name": "楼", "floors": 201}),
            "floors",
        ),
        (
            json!({"node_code": "441502001001001", "name": "楼", "floors": 0}),
            "floors",
        ),
        (
            json!({"node_code": "441502001001001", "name": "  "}),
            "name",
        ),
        (
            json!({"node_code": "441502001001001", "name": "楼", "lon": 115.3}),
            "lat",
        ),
        (
            json!({"node_code": "441502001001001", "name": "楼", "lon": 190.0, "lat": 22.0}),
            "lon",
        ),
        (
            json!({"node_code": "441502001001001", "name": "楼", "footprint": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}),
            "footprint",
        ),
        (json!({"node_code": "12", "name": "楼"}), "node_code"),
    ];
    for (body, field) in cases {
        let v = assert_error(
            post(&app, &worker, "/api/v1/buildings", body.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["field"], field, "{body}");
    }
    let b = building(&app, &worker, "441502001001001", (115.305, 22.785)).await;
    let cases = [
        (
            json!({"building_id": b, "room": "101", "use": "hotel"}),
            "use",
        ),
        (
            json!({"building_id": b, "room": " ", "use": "vacant"}),
            "room",
        ),
        (
            json!({"building_id": 999_999, "room": "101", "use": "vacant"}),
            "building_id",
        ),
        (
            json!({"building_id": b, "room": "101", "use": "vacant", "owner_resident_id": 999_999}),
            "owner_resident_id",
        ),
        (json!({"room": "101", "use": "vacant"}), "node_code"),
    ];
    for (body, field) in cases {
        // A reference to a record that is not there is a 404 naming the field.
        let status = if body.to_string().contains("999999") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let v = assert_error(
            post(&app, &worker, "/api/v1/houses", body.clone()).await,
            status,
        )
        .await;
        assert_eq!(v["field"], field, "{body}");
    }
});

db_test!(building_and_house_counts_follow_each_change, |app| {
    seed_two_counties(&app).await;
    let worker = app
        .user("wkr", Role::GridWorker, Some("441502001001001"))
        .await;
    let b = building(&app, &worker, "441502001001001", (115.305, 22.785)).await;
    let h = house(&app, &worker, b, "101").await;
    assert_eq!(tally(&app, "441502001", "building").await.get(""), Some(&1));
    assert_eq!(
        tally(&app, "441502001001001", "house")
            .await
            .get("self_occupied"),
        Some(&1)
    );
    let r = app
        .patch_json(
            &format!("/api/v1/houses/{h}"),
            &worker,
            json!({"use": "rented", "owner_name": "李四"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let counts = tally(&app, "4415", "house").await;
    assert_eq!(
        (counts.get("self_occupied"), counts.get("rented")),
        (Some(&0), Some(&1))
    );
    let v = app.get_json(&format!("/api/v1/houses/{h}"), &worker).await;
    assert_eq!(
        (v["use"].as_str(), v["owner_name"].as_str()),
        (Some("rented"), Some("李四"))
    );
    let n = insert_id(
        &app.state.db,
        &format!("SELECT COUNT(*) FROM audit WHERE action = 'house.update' AND entity_id = '{h}'"),
    )
    .await;
    assert_eq!(n, 1, "the change is audited");
});

/// The base-data records of the authorization matrix: index 0 in grid 441502001001001 (in
/// scope), index 1 in grid 441521001001001 (outside).
pub struct BaseWorld {
    pub building: [i64; 2],
    pub house: [i64; 2],
    pub place: [i64; 2],
    pub organisation: [i64; 2],
    /// A member of each organisation per role, for that role to remove.
    pub members: Vec<(Role, [i64; 2])>,
    pub roster: [i64; 2],
    /// The vulnerable resident on each roster.
    pub resident: [i64; 2],
}

/// Builds [`BaseWorld`] as an administrator of the province; every user in `users` is made an
/// official of both grids (each role removes its own assignment).
pub async fn base_world(app: &TestApp, users: &[(Role, i64)]) -> BaseWorld {
    let root = app
        .user("base-root", Role::Admin, Some("440000000000"))
        .await;
    tags(app).await;
    let grids = ["441502001001001", "441521001001001"];
    let points = [(115.305, 22.785), (115.405, 22.785)];
    let mut w = BaseWorld {
        building: [0; 2],
        house: [0; 2],
        place: [0; 2],
        organisation: [0; 2],
        members: users.iter().map(|(r, _)| (*r, [0; 2])).collect(),
        roster: [0; 2],
        resident: [0; 2],
    };
    for (i, g) in grids.iter().enumerate() {
        w.building[i] = building(app, &root, g, points[i]).await;
        w.house[i] = house(app, &root, w.building[i], "101").await;
        w.resident[i] = resident(app, g, "矩阵独居", Some(w.house[i])).await;
        tag(app, w.resident[i], g, "t_alone").await;
        w.place[i] = created(
            post(
                app,
                &root,
                "/api/v1/places",
                json!({"node_code": g, "kind": "small_shop", "name": "矩阵小店"}),
            )
            .await,
        )
        .await["id"]
            .as_i64()
            .unwrap();
        w.organisation[i] = created(
            post(
                app,
                &root,
                "/api/v1/organisations",
                json!({"node_code": g, "kind": "party_branch", "name": "矩阵支部"}),
            )
            .await,
        )
        .await["id"]
            .as_i64()
            .unwrap();
        for m in w.members.iter_mut() {
            m.1[i] = created(
                post(
                    app,
                    &root,
                    &format!("/api/v1/organisations/{}/members", w.organisation[i]),
                    json!({"role": "member", "name": "矩阵党员"}),
                )
                .await,
            )
            .await["id"]
                .as_i64()
                .unwrap();
        }
        for (_, user) in users {
            shanzhi_store::organisation::set_official(
                &app.state.db,
                g,
                *user,
                "包联干部",
                root.user_id,
                0,
            )
            .await
            .unwrap();
        }
        w.roster[i] = created(
            post(
                app,
                &root,
                "/api/v1/emergency/rosters",
                json!({"name": "矩阵名单", "grids": [g]}),
            )
            .await,
        )
        .await["id"]
            .as_i64()
            .unwrap();
    }
    w
}

db_test!(
    readers_who_may_not_reveal_see_occupants_names_masked,
    |app| {
        seed_two_counties(&app).await;
        let cast = cast(&app).await;
        let worker = of(&cast, Role::GridWorker);
        let b = building(&app, worker, "441502001001001", (115.305, 22.785)).await;
        let h = house(&app, worker, b, "2单元301").await;
        resident(&app, "441502001001001", "王秀英", Some(h)).await;
        let shown = |v: &Value| v["occupants"][0]["name"].as_str().unwrap().to_owned();
        assert_eq!(
            shown(&app.get_json(&format!("/api/v1/houses/{h}"), worker).await),
            "王秀英"
        );
        for role in [Role::Leader, Role::Analyst] {
            let v = app
                .get_json(&format!("/api/v1/houses/{h}"), of(&cast, role))
                .await;
            assert_eq!(shown(&v), "王*", "{role:?}");
            let v = app
                .get_json(&format!("/api/v1/buildings/{b}"), of(&cast, role))
                .await;
            assert_eq!(v["houses"][0]["occupants"][0]["name"], "王*", "{role:?}");
        }
    }
);
