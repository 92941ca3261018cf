//! Base-data figures through HTTP: residents by residence and by tag, visits on schedule and
//! overdue, for a node and its children — the children add up to the parent.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::assert_error;
use crate::tag::{insert_resident, tag_ok, GRID};

const DAY: i64 = 86_400_000;

/// Σ over the children of one figure (`f` picks it out of a child).
fn sum(v: &Value, f: impl Fn(&Value) -> i64) -> i64 {
    v["children"].as_array().unwrap().iter().map(f).sum()
}

db_test!(base_figures_of_the_children_add_up_to_the_parent, |app| {
    let c = app.seed_loop().await;
    let people = [
        (GRID, "elderly_alone"),
        (GRID, "disabled"),
        ("441502001001002", "elderly_alone"),
        ("441502001002001", "elderly_alone"),
        ("441502001002002", "veteran"),
    ];
    for (i, (node, tag)) in people.iter().enumerate() {
        let id = insert_resident(&app, node, &format!("居民{i}")).await;
        tag_ok(&app, &c.town_dispatcher, id, tag).await;
    }
    // Two places in the grid: a first check falls due within 30 days, so both are overdue
    // after 40; one checked then is not.
    let mut places = Vec::new();
    for name in ["海湾小食店", "便民诊所"] {
        let r = app
            .post_json(
                "/api/v1/places",
                Some(&c.town_dispatcher),
                json!({"node_code": GRID, "kind": "small_restaurant", "name": name}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        places.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    app.clock.advance_ms(40 * DAY);
    let r = app
        .post_json(
            &format!("/api/v1/places/{}/checks", places[0]),
            Some(&c.town_dispatcher),
            json!({"result": "passed"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let v = insert_resident(&app, GRID, "新居民").await;
    tag_ok(&app, &c.town_dispatcher, v, "pregnant").await;
    let town = app
        .get_json("/api/v1/figures/base?node=441502001000", &c.town_dispatcher)
        .await;
    assert_eq!(town["residents"], 6);
    assert_eq!(town["residence"]["registered"], 6);
    assert_eq!(town["tags"]["elderly_alone"], 3);
    assert_eq!(town["tags"]["veteran"], 1);
    // Veterans need no visits; the four tagged 40 days ago are overdue, the newest is not.
    assert_eq!(
        town["visits"],
        json!({"on_schedule": 1, "overdue": 4, "total": 5})
    );
    assert_eq!(town["places"]["total"], 2);
    assert_eq!(town["places"]["overdue_checks"], 1);
    assert_eq!(
        sum(&town, |c| c["places"]["overdue_checks"].as_i64().unwrap()),
        1
    );
    assert_eq!(town["children"].as_array().unwrap().len(), 2);
    let tag = |code: &'static str| move |c: &Value| c["tags"][code].as_i64().unwrap_or(0);
    for level in [
        &town,
        &app.get_json("/api/v1/figures/base?node=441502001001", &c.dispatcher)
            .await,
    ] {
        assert_eq!(
            sum(level, |c| c["residents"].as_i64().unwrap()),
            level["residents"].as_i64().unwrap()
        );
        assert_eq!(
            sum(level, tag("elderly_alone")),
            level["tags"]["elderly_alone"].as_i64().unwrap()
        );
        for k in ["on_schedule", "overdue"] {
            assert_eq!(
                sum(level, |c| c["visits"][k].as_i64().unwrap()),
                level["visits"][k].as_i64().unwrap(),
                "{k}"
            );
        }
    }
    let village = app
        .get_json("/api/v1/figures/base?node=441502001001", &c.dispatcher)
        .await;
    assert_eq!(village["residents"], 4);
    let grid = &village["children"][0];
    assert_eq!(grid["code"], GRID);
    assert_eq!(
        (
            grid["tags"]["elderly_alone"].clone(),
            grid["tags"]["disabled"].clone(),
            grid["tags"]["pregnant"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    assert_eq!(
        grid["visits"],
        json!({"on_schedule": 1, "overdue": 2, "total": 3})
    );
    // Scoped: a leader reads; another village, a handler and a citizen do not.
    let leader = app.user("leader", Role::Leader, Some("441502001001")).await;
    assert_eq!(
        app.get("/api/v1/figures/base", Some(&leader))
            .await
            .status(),
        StatusCode::OK
    );
    assert_error(
        app.get(
            "/api/v1/figures/base?node=441502001001",
            Some(&c.other_dispatcher),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get("/api/v1/figures/base", Some(&c.cg)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_error(
        app.get("/api/v1/figures/base", Some(&c.citizen)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let e = assert_error(
        app.get("/api/v1/figures/base?node=xx", Some(&c.dispatcher))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["field"], "node");
});
