//! People have names: timelines name who acted, citizens masked; names only in scope; the
//! reporter's phone revealed for a call-back with an audited purpose, masked everywhere else.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;
use shanzhi_store::user::UserChange;

use crate::helpers::{assert_error, Session, TestApp};

async fn rename(app: &TestApp, who: &Session, name: &str) {
    let change = UserChange {
        display_name: Some(name.to_owned()),
        ..UserChange::default()
    };
    shanzhi_store::user::update(&app.state.db, who.user_id, &change, who.user_id, 0)
        .await
        .unwrap();
}

fn line<'a>(ev: &'a Value, action: &str) -> &'a Value {
    ev["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["action"] == action)
        .unwrap_or_else(|| panic!("no {action} in {ev}"))
}

db_test!(timelines_name_the_people_on_an_order, |app| {
    let c = app.seed_loop().await;
    rename(&app, &c.citizen, "张三丰").await;
    rename(&app, &c.dispatcher, "李调度").await;
    rename(&app, &c.zj, "王住建").await;
    let id = app.report(&c.citizen, c.gas).await;
    app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
    app.act_ok(
        &c.dispatcher,
        id,
        "dispatch",
        json!({"department_id": c.zj_id}),
    )
    .await;
    app.act_ok(&c.zj, id, "sign", json!({})).await;
    // Staff: colleagues by name and unit, the citizen masked.
    for staff in [&c.dispatcher, &c.zj, &c.town_dispatcher] {
        let ev = app.event(staff, id).await;
        assert_eq!(line(&ev, "report")["actor_name"], "张*");
        assert_eq!(line(&ev, "report")["actor_unit"], Value::Null);
        assert_eq!(ev["reporter_name"], "张*");
        assert_eq!(line(&ev, "accept")["actor_name"], "李调度");
        assert_eq!(line(&ev, "accept")["actor_unit"], "立新社区");
        assert_eq!(line(&ev, "sign")["actor_name"], "王住建");
        assert_eq!(line(&ev, "sign")["actor_unit"], "城区住建局");
        assert!(!ev.to_string().contains("张三丰"), "{ev}");
    }
    // The citizen: their own name, and the units (not the names) of the staff.
    let ev = app.event(&c.citizen, id).await;
    assert_eq!(line(&ev, "report")["actor_name"], "张三丰");
    assert_eq!(line(&ev, "sign")["actor_name"], Value::Null);
    assert_eq!(line(&ev, "sign")["actor_unit"], "城区住建局");
    assert!(!ev.to_string().contains("李调度"), "{ev}");
});

db_test!(people_lists_only_staff_in_scope, |app| {
    let c = app.seed_loop().await;
    rename(&app, &c.worker, "赵网格").await;
    let ids = format!(
        "/api/v1/people?ids={},{},{},{}",
        c.worker.user_id, c.other_dispatcher.user_id, c.citizen.user_id, c.zj.user_id
    );
    // A village dispatcher: their own grid worker, not the other village's dispatcher, not
    // the county department, never a citizen.
    let v = app.get_json(&ids, &c.dispatcher).await;
    assert_eq!(
        v["items"],
        json!([{"id": c.worker.user_id, "name": "赵网格", "unit": "网格1", "role": "grid_worker"}])
    );
    // The town dispatcher sees both villages' staff.
    let v = app.get_json(&ids, &c.town_dispatcher).await;
    let listed: Vec<i64> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, {
        let mut l = vec![c.worker.user_id, c.other_dispatcher.user_id];
        l.sort();
        l
    });
    // A handler: their own department's colleagues.
    let v = app.get_json(&ids, &c.zj).await;
    let listed: Vec<i64> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, vec![c.zj.user_id]);
    assert_error(app.get(&ids, Some(&c.citizen)).await, StatusCode::FORBIDDEN).await;
    assert_error(
        app.get("/api/v1/people?ids=x", Some(&c.dispatcher)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
});

db_test!(
    the_reporters_phone_is_revealed_for_a_call_back_with_an_audited_purpose,
    |app| {
        let c = app.seed_loop().await;
        // The citizen leaves a phone; the answer shows it masked.
        let r = app
            .client
            .put(format!(
                "{}/api/v1/users/{}/phone",
                app.url, c.citizen.user_id
            ))
            .bearer_auth(&c.citizen.token)
            .json(&json!({"phone": "138 1234 5678"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["phone"], "138****5678");
        let bad = app
            .client
            .put(format!(
                "{}/api/v1/users/{}/phone",
                app.url, c.citizen.user_id
            ))
            .bearer_auth(&c.citizen.token)
            .json(&json!({"phone": "12345"}))
            .send()
            .await
            .unwrap();
        assert_error(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
        let id = app.report(&c.citizen, c.gas).await;
        let app_ref = &app;
        let reveal = move |who: &Session, purpose: &str| {
            let who = who.clone();
            let purpose = purpose.to_owned();
            async move {
                app_ref
                    .post_json(
                        &format!("/api/v1/events/{id}/reporter_contact"),
                        Some(&who),
                        json!({"purpose": purpose}),
                    )
                    .await
            }
        };
        // Who may: the holding centre's dispatcher (and the town's above it), with a purpose.
        assert_error(
            reveal(&c.dispatcher, "  ").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let r = reveal(&c.dispatcher, "回访：核实处理结果").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"phone": "13812345678"})
        );
        assert_eq!(
            reveal(&c.town_dispatcher, "回访").await.status(),
            StatusCode::OK
        );
        // Who may not: the grid worker, the citizen, a department, another village's centre.
        for (who, status) in [
            (&c.worker, StatusCode::FORBIDDEN),
            (&c.citizen, StatusCode::FORBIDDEN),
            (&c.zj, StatusCode::NOT_FOUND),
            (&c.other_dispatcher, StatusCode::NOT_FOUND),
        ] {
            assert_error(reveal(who, "回访").await, status).await;
        }
        // The order page says who may call back, and shows no phone.
        assert_eq!(app.event(&c.dispatcher, id).await["may_call_back"], true);
        assert_eq!(app.event(&c.worker, id).await["may_call_back"], false);
        assert!(!app
            .event(&c.dispatcher, id)
            .await
            .to_string()
            .contains("13812345678"));
        // Each reveal is in the audit log with its purpose; the number itself never is.
        let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
        let audit = app
            .get_json(
                &format!(
                    "/api/v1/audit?entity=user&entity_id={}&limit=50",
                    c.citizen.user_id
                ),
                &admin,
            )
            .await;
        let rows = audit["items"].as_array().unwrap();
        let reveals: Vec<&Value> = rows
            .iter()
            .filter(|r| r["action"] == "user.reveal_phone")
            .collect();
        assert_eq!(reveals.len(), 2, "{audit}");
        assert!(reveals
            .iter()
            .any(|r| r.to_string().contains("回访：核实处理结果")
                && r["actor_id"] == c.dispatcher.user_id));
        assert!(!audit.to_string().contains("13812345678"), "{audit}");
        assert!(audit.to_string().contains("138****5678"), "{audit}");
    }
);

db_test!(a_user_sets_the_e_mail_address_warnings_go_to, |app| {
    let c = app.seed_loop().await;
    let put = |who: &Session, id: i64, body: Value| {
        let req = app
            .client
            .put(format!("{}/api/v1/users/{id}/email", app.url))
            .bearer_auth(&who.token)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let r = put(
        &c.citizen,
        c.citizen.user_id,
        json!({"email": " Li.Si@Example.ORG "}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["email"],
        "Li.Si@example.org"
    );
    let me = app.get_json("/api/v1/me", &c.citizen).await;
    assert_eq!(me["email"], "Li.Si@example.org");
    // A bad address is refused with the field named and changes nothing.
    for bad in ["lisi", "li si@example.org", "lisi@localhost"] {
        let e = assert_error(
            put(&c.citizen, c.citizen.user_id, json!({"email": bad})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "email", "{bad}");
    }
    assert_eq!(
        app.get_json("/api/v1/me", &c.citizen).await["email"],
        "Li.Si@example.org"
    );
    // Nobody else's but an administrator's over them; blank or null clears it.
    assert_error(
        put(
            &c.citizen2,
            c.citizen.user_id,
            json!({"email": "x@example.org"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let r = put(&c.citizen, c.citizen.user_id, json!({"email": "  "})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.get_json("/api/v1/me", &c.citizen).await["email"],
        Value::Null
    );
    // The audit row holds the address masked.
    let rows = shanzhi_store::audit::list(
        &app.state.db,
        &shanzhi_store::audit::AuditFilter {
            entity: Some("user"),
            ..Default::default()
        },
        None,
        50,
    )
    .await
    .unwrap();
    let set: Vec<_> = rows.iter().filter(|r| r.action == "user.email").collect();
    assert_eq!(set.len(), 2);
    let text = format!(
        "{:?}",
        set.iter().map(|r| &r.after_json).collect::<Vec<_>>()
    );
    assert!(
        text.contains("L***@example.org") && !text.contains("Li.Si"),
        "{text}"
    );
});
