//! Hardening (issue 10): what a page or an answer tells the browser, who reads the metrics,
//! where a login may send the browser, error shapes, passwords, the audit log and the shared
//! settings of administrators below the top, and what department handlers see of the map.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, engines, spawn_app_with, PASSWORD};

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

db_test!(
    pages_cannot_be_framed_and_api_answers_are_not_cached,
    |app| {
        app.seed_town().await;
        let page = app.get("/login", None).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(header(&page, "x-frame-options"), "DENY");
        assert!(header(&page, "content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(header(&page, "referrer-policy"), "same-origin");
        let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
        let api = app.get("/api/v1/me", Some(&admin)).await;
        assert_eq!(header(&api, "x-content-type-options"), "nosniff");
        assert_eq!(header(&api, "cache-control"), "no-store");
        let err = app.get("/api/v1/nodes/123", Some(&admin)).await;
        assert_eq!(header(&err, "cache-control"), "no-store");
        assert_eq!(header(&err, "x-content-type-options"), "nosniff");
    }
);

db_test!(cookies_are_secure_when_the_request_came_over_https, |app| {
    app.seed_town().await;
    app.create_user("worker", Role::GridWorker, Some("441502001001"), None)
        .await;
    let login = |proto: Option<&'static str>| {
        let mut req = app
            .client
            .post(format!("{}/api/v1/auth/login", app.url))
            .json(&json!({"username": "worker", "password": PASSWORD}));
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        req.send()
    };
    let plain = login(None).await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain
        .headers()
        .get_all("set-cookie")
        .iter()
        .all(|c| !c.to_str().unwrap().contains("Secure")));
    let https = login(Some("https")).await.unwrap();
    let cookies: Vec<&str> = https
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap())
        .collect();
    assert_eq!(cookies.len(), 2);
    assert!(
        cookies.iter().all(|c| c.contains("; Secure")),
        "{cookies:?}"
    );
    assert!(header(&https, "strict-transport-security").contains("max-age"));
});

db_test!(metrics_are_for_loopback_or_the_token_holder, |app| {
    let here = app.get("/metrics", None).await;
    assert_eq!(here.status(), StatusCode::OK);
    let far = app
        .client
        .get(format!("{}/metrics", app.url))
        .header("x-forwarded-for", "203.0.113.8")
        .send()
        .await
        .unwrap();
    assert_error(far, StatusCode::FORBIDDEN).await;
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_token_opens_the_metrics_to_other_addresses() {
    for engine in engines() {
        let mut app = spawn_app_with(engine, |c| {
            c.metrics_token = Some("scrape-me-please".into())
        })
        .await;
        let far = |token: &'static str| {
            app.client
                .get(format!("{}/metrics", app.url))
                .header("x-forwarded-for", "203.0.113.8")
                .bearer_auth(token)
                .send()
        };
        assert_eq!(
            far("scrape-me-please").await.unwrap().status(),
            StatusCode::OK
        );
        assert_eq!(far("wrong").await.unwrap().status(), StatusCode::FORBIDDEN);
        app.stop().await;
    }
}

db_test!(a_login_never_sends_the_browser_to_another_host, |app| {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for bad in [
        "/%09/example.invalid/x",
        "//example.invalid/x",
        "/%5Cexample.invalid",
        "https://example.invalid/",
        "/%0D%0A/example.invalid",
    ] {
        for page in ["/login", "/m/login"] {
            let r = client
                .get(format!("{}{page}?next={bad}", app.url))
                .send()
                .await
                .unwrap();
            assert!(
                r.status().is_redirection(),
                "{page}?next={bad}: {}",
                r.status()
            );
            assert_eq!(header(&r, "location"), page, "{bad}");
        }
    }
    let ok = client
        .get(format!("{}/login?next=/console/events/3", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
});

db_test!(framework_errors_answer_in_the_api_shape, |app| {
    let c = app.seed_loop().await;
    // An unparsable id in the path.
    let r = app.get("/api/v1/events/abc", Some(&c.dispatcher)).await;
    let v = assert_error(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(v["code"], "bad_request");
    // A move with a body over the limit. (The server answers before reading it all and closes
    // the connection: a client of its own, so that no later request reuses that connection.)
    let big = "x".repeat(2 * 1024 * 1024);
    let once = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    };
    // The server may answer and close before the client has written the whole body (the client
    // then sees a broken pipe instead of the answer): such a send is tried again a few times.
    let send = |path: &'static str, token: String, media: &'static str, body: Vec<u8>| {
        let url = format!("{}{path}", app.url);
        let once = &once;
        async move {
            for tries in 1.. {
                match once()
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", media)
                    .body(body.clone())
                    .send()
                    .await
                {
                    Ok(r) => return r,
                    Err(e) if e.is_request() && tries < 10 => {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                    Err(e) => panic!("{path}: no answer in {tries} tries: {e}"),
                }
            }
            unreachable!()
        }
    };
    let r = send(
        "/api/v1/events/1/accept",
        c.dispatcher.token.clone(),
        "application/json",
        format!("{{\"note\": \"{big}\"}}").into_bytes(),
    )
    .await;
    let v = assert_error(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(v["code"], "too_large");
    // A photo over the limit.
    let r = send(
        "/api/v1/photos",
        c.citizen.token.clone(),
        "image/jpeg",
        vec![0xFFu8; 9 * 1024 * 1024],
    )
    .await;
    let v = assert_error(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(v["code"], "too_large");
    // Rewritten errors stay readable for clients that take gzip: the body is what the
    // encoding header says (this broke every plain-text error for browsers and schemathesis).
    let r = app
        .client
        .get(format!("{}/api/v1/events/abc", app.url))
        .bearer_auth(&c.dispatcher.token)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    let gzip = header(&r, "content-encoding") == "gzip";
    let body = r.bytes().await.unwrap();
    if gzip {
        assert_eq!(&body[..2], &[0x1f, 0x8b], "a gzip stream");
    } else {
        assert!(serde_json::from_slice::<Value>(&body).is_ok());
    }
    // A wrong method.
    let r = app
        .client
        .delete(format!("{}/api/v1/me", app.url))
        .bearer_auth(&c.citizen.token)
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::METHOD_NOT_ALLOWED).await;
});

db_test!(
    a_category_department_kind_must_be_a_department_code_stem,
    |app| {
        app.seed_town().await;
        let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
        let body = |kind: Value| {
            json!({"code": "noise", "name": "噪音", "department_kind": kind, "accept_minutes": 60,
               "handle_minutes": 60, "verify_minutes": 60, "priority": 3, "on_spot": false})
        };
        for bad in [
            json!("cg\u{0}x"),
            json!("城管"),
            json!("x".repeat(100 * 1024)),
            json!("CG"),
        ] {
            let r = app
                .post_json("/api/v1/categories", Some(&admin), body(bad))
                .await;
            let status = r.status();
            let v: Value = r.json().await.unwrap();
            assert!(
                status == StatusCode::UNPROCESSABLE_ENTITY
                    || status == StatusCode::PAYLOAD_TOO_LARGE,
                "{status} {v}"
            );
            assert!(v.get("code").is_some() && v.get("field").is_some());
        }
        let r = app
            .post_json("/api/v1/categories", Some(&admin), body(json!("cg")))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
);

db_test!(
    an_idempotency_key_reused_for_another_report_is_refused,
    |app| {
        let c = app.seed_loop().await;
        let first = app.report_with_key(&c.citizen, c.garbage, "key-1").await;
        assert_eq!(first.status(), StatusCode::CREATED);
        let first: Value = first.json().await.unwrap();
        // The same report again: the first event, nothing new.
        let again = app.report_with_key(&c.citizen, c.garbage, "key-1").await;
        assert!(again.status().is_success());
        assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
        // Another report under the same key: refused, and nothing is created.
        let other = app.report_with_key(&c.citizen, c.gas, "key-1").await;
        let v = assert_error(other, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(v["field"], "Idempotency-Key");
        let mine: Value = app.get_json("/api/v1/events", &c.citizen).await;
        assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    }
);

db_test!(
    weak_passwords_are_refused_and_changing_ones_own_needs_the_current_one,
    |app| {
        app.seed_town().await;
        let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
        for weak in [
            "12345678",
            "password",
            "        ",
            "1234567890",
            "password12",
        ] {
            let r = app
                .post_json(
                    "/api/v1/users",
                    Some(&admin),
                    json!({"username": "newbie", "display_name": "新人", "password": weak,
                       "role": "grid_worker", "scope": "441502001001"}),
                )
                .await;
            let v = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(v["field"], "password", "{weak:?}");
        }
        let worker = app
            .user("worker", Role::GridWorker, Some("441502001001"))
            .await;
        let path = format!("/api/v1/users/{}", worker.user_id);
        let r = app
            .patch_json(
                &path,
                &worker,
                json!({"password": "a long new pass phrase"}),
            )
            .await;
        let v = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(v["field"], "current_password");
        let r = app
            .patch_json(
                &path,
                &worker,
                json!({"password": "a long new pass phrase", "current_password": "not-it-at-all"}),
            )
            .await;
        assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        let r = app
            .patch_json(
                &path,
                &worker,
                json!({"password": "a long new pass phrase", "current_password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        app.login_with("worker", "a long new pass phrase").await;
    }
);

db_test!(an_admin_resets_passwords_only_inside_their_scope, |app| {
    app.seed_town().await;
    let village_admin = app.user("vadmin", Role::Admin, Some("441502001001")).await;
    let inside = app
        .create_user("worker1", Role::GridWorker, Some("441502001001001"), None)
        .await;
    let outside = app
        .create_user("worker2", Role::GridWorker, Some("441502001002001"), None)
        .await;
    let citizen = app.create_user("citizen1", Role::Citizen, None, None).await;
    let reset = json!({"password": "a fresh strong phrase"});
    let r = app
        .patch_json(
            &format!("/api/v1/users/{inside}"),
            &village_admin,
            reset.clone(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    for id in [outside, citizen] {
        let r = app
            .patch_json(
                &format!("/api/v1/users/{id}"),
                &village_admin,
                reset.clone(),
            )
            .await;
        assert_error(r, StatusCode::NOT_FOUND).await;
    }
    let top = app.user("admin", Role::Admin, Some("440000000000")).await;
    let r = app
        .patch_json(&format!("/api/v1/users/{citizen}"), &top, reset)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
});

db_test!(
    an_admin_below_the_top_reads_only_their_subtree_of_the_audit_log,
    |app| {
        let c = app.seed_loop().await;
        let top = app.user("admin", Role::Admin, Some("440000000000")).await;
        let village = app.user("vadmin", Role::Admin, Some("441502001001")).await;
        let neighbour = app.user("nadmin", Role::Admin, Some("441502001002")).await;
        // An event in village 001, a node change in each village, a calendar change at the top.
        let id = app.report(&c.citizen, c.garbage).await;
        for (who, code) in [
            (&village, "441502001001001"),
            (&neighbour, "441502001002001"),
        ] {
            let r = app
                .patch_json(
                    &format!("/api/v1/nodes/{code}"),
                    who,
                    json!({"name": "改名"}),
                )
                .await;
            assert_eq!(r.status(), StatusCode::OK);
        }
        let all: Value = app.get_json("/api/v1/audit?limit=1000", &top).await;
        let seen: Value = app.get_json("/api/v1/audit?limit=1000", &village).await;
        let rows = seen["items"].as_array().unwrap();
        assert!(rows.len() < all["items"].as_array().unwrap().len());
        assert!(rows
            .iter()
            .any(|r| r["entity"] == "event" && r["entity_id"] == id.to_string()));
        assert!(rows
            .iter()
            .any(|r| r["entity"] == "node" && r["entity_id"] == "441502001001001"));
        for r in rows {
            assert!(
                !(r["entity"] == "node" && r["entity_id"] == "441502001002001"),
                "the neighbour's node: {r}"
            );
            assert!(r["entity"] != "category", "shared settings: {r}");
        }
        // Asking for a record outside by its id finds nothing.
        let v: Value = app
            .get_json(
                "/api/v1/audit?entity=node&entity_id=441502001002001",
                &village,
            )
            .await;
        assert_eq!(v["items"], json!([]));
        let v: Value = app.get_json("/api/v1/audit?entity=event", &neighbour).await;
        assert_eq!(v["items"], json!([]), "the event is in the other village");
        let r = app.get("/api/v1/audit/verify", Some(&village)).await;
        assert_error(r, StatusCode::FORBIDDEN).await;
    }
);

db_test!(
    only_an_admin_of_the_whole_tree_changes_the_calendar_and_categories,
    |app| {
        let c = app.seed_loop().await;
        let county = app.user("cadmin", Role::Admin, Some("441502000000")).await;
        let top = app.user("admin", Role::Admin, Some("440000000000")).await;
        let cal = json!({"holidays": ["2026-12-14"], "workdays": [], "periods": [["08:30", "12:00"], ["14:00", "17:30"]]});
        let put = |who: &crate::helpers::Session| {
            app.client
                .put(format!("{}/api/v1/calendar", app.url))
                .bearer_auth(&who.token)
                .json(&cal)
                .send()
        };
        assert_error(put(&county).await.unwrap(), StatusCode::FORBIDDEN).await;
        assert_eq!(put(&top).await.unwrap().status(), StatusCode::OK);
        let change = json!({"code": "gas", "name": "燃气泄漏", "department_kind": "zj", "accept_minutes": 1,
                        "handle_minutes": 1, "verify_minutes": 1, "priority": 1, "on_spot": false});
        let r = app
            .patch_json(
                &format!("/api/v1/categories/{}", c.gas),
                &county,
                change.clone(),
            )
            .await;
        assert_error(r, StatusCode::FORBIDDEN).await;
        let r = app
            .post_json(
                "/api/v1/categories",
                Some(&county),
                json!({"code": "x", "name": "x", "accept_minutes": 1,
                    "handle_minutes": 1, "verify_minutes": 1, "priority": 1, "on_spot": false}),
            )
            .await;
        assert_error(r, StatusCode::FORBIDDEN).await;
        let r = app
            .patch_json(&format!("/api/v1/categories/{}", c.gas), &top, change)
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
);

db_test!(
    a_department_handler_sees_only_their_departments_orders_on_the_map,
    |app| {
        let c = app.seed_loop().await;
        // One order dispatched to 城管, one citizen report never sent anywhere.
        let sent = app.report(&c.citizen, c.garbage).await;
        app.act_ok(&c.dispatcher, sent, "accept", json!({})).await;
        app.act_ok(
            &c.dispatcher,
            sent,
            "dispatch",
            json!({"department_id": c.cg_id}),
        )
        .await;
        let unsent = app.report(&c.citizen2, c.gas).await;
        let bbox = "115.2,22.7,115.4,22.9";
        let ids = |v: &Value| -> Vec<i64> {
            v["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["properties"]["id"].as_i64().unwrap())
                .collect()
        };
        let town: Value = app
            .get_json(
                &format!("/api/v1/map/events?bbox={bbox}"),
                &c.town_dispatcher,
            )
            .await;
        assert!(ids(&town).contains(&unsent));
        let cg: Value = app
            .get_json(&format!("/api/v1/map/events?bbox={bbox}"), &c.cg)
            .await;
        assert_eq!(ids(&cg), vec![sent]);
        let zj: Value = app
            .get_json(&format!("/api/v1/map/events?bbox={bbox}"), &c.zj)
            .await;
        assert_eq!(ids(&zj), Vec::<i64>::new());
        // Shapes are coloured by the department's open orders only.
        let nodes: Value = app
            .get_json(
                &format!("/api/v1/map/nodes?level=village&bbox={bbox}&figure=open"),
                &c.zj,
            )
            .await;
        assert!(
            nodes["features"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["properties"]["value"] == json!(0.0)),
            "{nodes}"
        );
        let open: Value = app
            .get_json(
                &format!("/api/v1/map/nodes?level=village&bbox={bbox}&figure=open"),
                &c.cg,
            )
            .await;
        let total: f64 = open["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["properties"]["value"].as_f64())
            .sum();
        assert_eq!(total, 1.0, "城管 has one open order: {open}");
        // The card names no staff and counts the department's orders.
        let card: Value = app
            .get_json("/api/v1/map/card?code=441502001001", &c.zj)
            .await;
        assert_eq!(card["staff"], json!([]));
        assert_eq!(card["open"], 0);
        assert_eq!(
            card["figures_30_days"]["counters"]["dispatched"], 0,
            "{card}"
        );
        // Figures: the department's own, no other department, no categories.
        let f: Value = app
            .get_json(
                "/api/v1/figures?node=441502001000&children=true&daily=true",
                &c.cg,
            )
            .await;
        assert_eq!(f["by_category"], json!([]));
        let deps = f["by_department"].as_array().unwrap();
        assert_eq!(deps.len(), 1);
        assert_eq!(deps[0]["department_id"], c.cg_id);
        let town: Value = app
            .get_json("/api/v1/figures?node=441502001000", &c.town_dispatcher)
            .await;
        assert_ne!(f["figures"], town["figures"], "{f}");
    }
);

db_test!(
    a_list_search_with_a_nul_byte_is_refused_not_a_server_error,
    |app| {
        let c = app.seed_loop().await;
        // Found by schemathesis on PostgreSQL, which refuses NUL in text: it was a 500.
        let r = app
            .get(
                "/api/v1/events?q=%E5%9E%83%00x&state=reported",
                Some(&c.citizen),
            )
            .await;
        let v = assert_error(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(v["field"], "q");
        // Other control characters: refused too, never a server error.
        let r = app
            .get("/api/v1/events?q=%E5%9E%83%07x", Some(&c.citizen))
            .await;
        let v = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(v["field"], "q");
    }
);

db_test!(
    a_nul_in_any_query_parameter_is_refused_not_a_server_error,
    |app| {
        app.seed_town().await;
        let admin = app.user("admin", Role::Admin, Some("440000000000")).await;
        // Found by schemathesis on PostgreSQL: `entity` with a NUL was a 500.
        let r = app
            .get("/api/v1/audit?entity=G%00x&limit=5", Some(&admin))
            .await;
        let v = assert_error(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(v["field"], "entity");
    }
);
