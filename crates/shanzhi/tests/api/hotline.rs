//! The hotline (12345): a dispatcher files a caller's report; the caller's phone is kept and
//! answered masked. And the place search the form uses.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Session, TestApp, IN_GRID};

async fn hotline(app: &TestApp, who: &Session, key: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/hotline", app.url))
        .bearer_auth(&who.token)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn call(category: i64, phone: &str) -> Value {
    json!({"category_id": category, "description": "来电反映路边有垃圾堆积", "lon": IN_GRID.0, "lat": IN_GRID.1,
        "caller_name": " 张先生 ", "caller_phone": phone, "callback": true})
}

db_test!(
    a_dispatcher_files_a_hotline_call_and_the_callers_phone_stays_masked,
    |app| {
        let c = app.seed_loop().await;
        let r = hotline(
            &app,
            &c.dispatcher,
            "call-1",
            call(c.garbage, "13812345678"),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let text = r.text().await.unwrap();
        assert!(!text.contains("13812345678"), "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["source"], "hotline");
        assert_eq!(v["place"], "立新社区 › 网格1");
        assert_eq!(
            v["caller"],
            json!({"name": "张先生", "phone": "138****5678", "callback": true, "created_at": v["caller"]["created_at"]})
        );
        let id = v["id"].as_i64().unwrap();
        // A retry of the same call answers the same event and the first caller.
        let again = hotline(
            &app,
            &c.dispatcher,
            "call-1",
            call(c.garbage, "13812345678"),
        )
        .await;
        assert_eq!(again.status(), StatusCode::OK);
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["id"], id);
        // Whoever sees the order reads the caller, masked; the audit log has no full number.
        let caller = app
            .get_json(&format!("/api/v1/events/{id}/caller"), &c.town_dispatcher)
            .await;
        assert_eq!(caller["caller"]["phone"], "138****5678");
        let id_text = id.to_string();
        let rows = shanzhi_store::audit::list(
            &app.state.db,
            &shanzhi_store::audit::AuditFilter {
                entity: Some("event"),
                entity_id: Some(&id_text),
                ..Default::default()
            },
            None,
            50,
        )
        .await
        .unwrap();
        let logged: Vec<String> = rows
            .iter()
            .filter(|r| r.action == "event.caller")
            .map(|r| format!("{:?}", r.after_json))
            .collect();
        assert_eq!(logged.len(), 1);
        assert!(logged[0].contains("138****5678") && !logged[0].contains("13812345678"));
        // An order without a caller answers null.
        let plain = app.report(&c.citizen, c.garbage).await;
        let none = app
            .get_json(&format!("/api/v1/events/{plain}/caller"), &c.dispatcher)
            .await;
        assert_eq!(none["caller"], Value::Null);
    }
);

db_test!(a_hotline_call_needs_a_real_phone_and_a_dispatcher, |app| {
    let c = app.seed_loop().await;
    for (phone, key) in [
        ("12345", "bad-1"),
        ("1381234567x", "bad-2"),
        ("00123456789", "bad-3"),
    ] {
        let v = assert_error(
            hotline(&app, &c.dispatcher, key, call(c.garbage, phone)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["field"], "caller_phone", "{phone}");
    }
    let mut blank = call(c.garbage, "13812345678");
    blank["caller_name"] = json!("  ");
    let v = assert_error(
        hotline(&app, &c.dispatcher, "bad-4", blank).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "caller_name");
    // Nothing was filed by the refused calls.
    let list = app.get_json("/api/v1/events", &c.dispatcher).await;
    assert_eq!(list["items"], json!([]));
    for who in [&c.worker, &c.citizen, &c.zj] {
        assert_error(
            hotline(&app, who, "not-mine", call(c.garbage, "0660-3312345")).await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
});

db_test!(place_search_finds_names_in_the_callers_area_only, |app| {
    let c = app.seed_loop().await;
    let names = |v: &Value| -> Vec<(String, Vec<String>)> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["code"].as_str().unwrap().to_owned(),
                    n["ancestors"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a.as_str().unwrap().to_owned())
                        .collect(),
                )
            })
            .collect()
    };
    // The village dispatcher finds the grids of their village, not the other village's.
    let v = app
        .get_json("/api/v1/nodes/search?q=%E7%BD%91%E6%A0%BC", &c.dispatcher)
        .await;
    assert_eq!(
        names(&v),
        vec![
            ("441502001001001".to_owned(), vec![]),
            ("441502001001002".to_owned(), vec![])
        ]
    );
    // The town dispatcher finds both villages' grids, each with its village's name.
    let v = app
        .get_json(
            "/api/v1/nodes/search?q=%E7%BD%91%E6%A0%BC1",
            &c.town_dispatcher,
        )
        .await;
    assert_eq!(
        names(&v),
        vec![
            ("441502001001001".to_owned(), vec!["立新社区".to_owned()]),
            ("441502001002001".to_owned(), vec!["新港社区".to_owned()])
        ]
    );
    // A LIKE wildcard is text, not a pattern.
    let v = app
        .get_json("/api/v1/nodes/search?q=%25", &c.town_dispatcher)
        .await;
    assert_eq!(v["items"], json!([]));
    for bad in [
        "/api/v1/nodes/search?q=",
        "/api/v1/nodes/search?q=%20%20",
        "/api/v1/nodes/search?q=a&limit=51",
    ] {
        assert_error(
            app.get(bad, Some(&c.town_dispatcher)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    assert_error(
        app.get("/api/v1/nodes/search?q=%E7%BD%91", Some(&c.citizen))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
});

db_test!(
    a_hotline_report_and_its_caller_are_written_together_or_not_at_all,
    |app| {
        let c = app.seed_loop().await;
        crate::visit::fail_inserts(&app, "event_caller").await;
        let r = hotline(
            &app,
            &c.dispatcher,
            "call-9",
            call(c.garbage, "13812345678"),
        )
        .await;
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        crate::visit::allow_inserts(&app, "event_caller").await;
        let events = app.get_json("/api/v1/events", &c.dispatcher).await;
        assert_eq!(
            events["items"],
            json!([]),
            "a hotline report without its caller"
        );
        // The same call again (same key: nothing of the first attempt stayed) files both.
        let r = hotline(
            &app,
            &c.dispatcher,
            "call-9",
            call(c.garbage, "13812345678"),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["caller"]["phone"], "138****5678");
    }
);
