//! Open311 defects found with real clients and real 311 data (issue 10), each pinned by a test,
//! and the GeoReport v2 JSON Schemas (tests/open311/schemas) checked against real answers.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shanzhi::clock::Clock;
use shanzhi_domain::user::Role;

use super::{
    assert_open311_error, created_id, spec_example, well_formed, with_field, without, COUNTY,
};
use crate::helpers::{engines, spawn_app_with, IN_GRID};

/// The JSON Schema of one GeoReport answer, compiled.
fn schema(name: &str) -> jsonschema::Validator {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/open311/schemas/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    jsonschema::validator_for(&v).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// Asserts that a JSON answer matches the named schema, listing every violation.
pub(super) fn assert_schema(name: &str, v: &Value) {
    let validator = schema(name);
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name}.json: {}\nin {v}",
        errors.join("; ")
    );
}

/// The text of the first `<name>` element of an XML answer, its references decoded as an XML
/// parser decodes them (a raw CR or CR LF would become LF; `&#13;` is a CR).
fn xml_text(xml: &str, name: &str) -> String {
    let raw = xml
        .split(&format!("<{name}>"))
        .nth(1)
        .and_then(|s| s.split(&format!("</{name}>")).next())
        .unwrap_or_else(|| panic!("no <{name}> in {xml}"));
    raw.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace("&#13;", "\r")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn form_value(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

db_test!(
    descriptions_up_to_the_spec_limit_of_4000_characters_are_kept_and_longer_are_refused_in_one_voice,
    |app| {
        let c = app.seed_loop().await;
        let client = app.open311_client("long-reports", 60).await;
        let body = spec_example(&client.key, "exposed_garbage");
        // 4,000 characters, most of them three bytes in UTF-8.
        let long: String = "垃圾堆放在楼道口。".repeat(444) + "1234";
        assert_eq!(long.chars().count(), 4000);
        let id = created_id(
            app.open311_form(
                "requests.json",
                with_field(&body, "description", &form_value(&long)),
            )
            .await,
        )
        .await;
        let one: Value = app
            .open311_get(&format!("requests/{id}.json"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(one[0]["description"].as_str(), Some(long.as_str()));
        assert_eq!(app.event(&c.dispatcher, id).await["description"], long);

        let too_long = format!("{long}x");
        for ext in ["json", "xml"] {
            assert_open311_error(
                app.open311_form(
                    &format!("requests.{ext}"),
                    with_field(&body, "description", &form_value(&too_long)),
                )
                .await,
                StatusCode::BAD_REQUEST,
                "description: must be at most 4000 characters",
            )
            .await;
        }
        // The JSON API takes the same and says the same.
        let r = app
            .client
            .post(format!("{}/api/v1/events", app.url))
            .bearer_auth(&c.citizen.token)
            .header("idempotency-key", "long-1")
            .json(&json!({"category_id": c.garbage, "description": long, "lon": IN_GRID.0, "lat": IN_GRID.1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let r = app
            .client
            .post(format!("{}/api/v1/events", app.url))
            .bearer_auth(&c.citizen.token)
            .header("idempotency-key", "long-2")
            .json(&json!({"category_id": c.garbage, "description": too_long, "lon": IN_GRID.0, "lat": IN_GRID.1}))
            .send()
            .await
            .unwrap();
        let e = crate::helpers::assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(
            (e["field"].as_str(), e["message"].as_str()),
            (
                Some("description"),
                Some("must be at most 4000 characters")
            ),
            "{e}"
        );
    }
);

db_test!(
    attributes_are_kept_apart_and_the_description_and_address_come_back_as_sent,
    |app| {
        let c = app.seed_loop().await;
        let client = app.open311_client("citizen-app", 60).await;
        let description = "楼道里有很浓的燃气味";
        let form = reqwest::multipart::Form::new()
            .text("api_key", client.key.clone())
            .text("service_code", "gas")
            .text("lat", IN_GRID.1.to_string())
            .text("long", IN_GRID.0.to_string())
            .text("address_string", "人民路 12 号")
            .text("description", description)
            .text("attribute[severity]", "danger")
            .text("attribute[affected][]", "children")
            .text("attribute[affected][]", "elderly")
            .text("attribute[address_detail]", "3 栋 2 单元")
            .text("attribute[occurred_at]", "2026-11-18T09:30:00+08:00");
        let r = app
            .client
            .post(format!("{}/open311/v2/requests.json", app.url))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let id = created_id(r).await;

        let ev = app.event(&c.dispatcher, id).await;
        assert_eq!(ev["description"], description);
        assert_eq!(ev["address"], "人民路 12 号");
        assert_eq!(
            ev["attributes"],
            json!({"severity": "danger", "affected": ["children", "elderly"], "address_detail": "3 栋 2 单元",
                "occurred_at": "2026-11-18T09:30:00+08:00"})
        );

        let plain: Value = app
            .open311_get(&format!("requests/{id}.json"))
            .await
            .json()
            .await
            .unwrap();
        assert_schema("requests", &plain);
        assert_eq!(plain[0]["description"], description);
        assert_eq!(plain[0]["address"], "人民路 12 号");
        assert!(
            plain[0].get("extended_attributes").is_none(),
            "only on request"
        );
        // With the extensions' flag, the attributes come back too, in both formats.
        let ext: Value = app
            .open311_get(&format!("requests/{id}.json?extensions=true"))
            .await
            .json()
            .await
            .unwrap();
        assert_schema("requests", &ext);
        let attrs: Vec<(String, String)> = ext[0]["extended_attributes"]["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["code"].as_str().unwrap().to_owned(),
                    a["value"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for (code, value) in [
            ("severity", "danger"),
            ("affected", "children"),
            ("affected", "elderly"),
            ("address_detail", "3 栋 2 单元"),
        ] {
            assert!(
                attrs.contains(&(code.to_owned(), value.to_owned())),
                "{code}={value} in {attrs:?}"
            );
        }
        let xml = app
            .open311_get("requests.xml?extensions=true&service_code=gas")
            .await
            .text()
            .await
            .unwrap();
        let names = well_formed(&xml).unwrap();
        assert!(names.iter().any(|n| n == "extended_attributes"), "{xml}");
        assert_eq!(xml_text(&xml, "description"), description);
    }
);

db_test!(
    text_that_is_not_utf8_is_refused_and_nothing_is_stored,
    |app| {
        app.seed_loop().await;
        let client = app.open311_client("latin1-app", 1000).await;
        let body = spec_example(&client.key, "exposed_garbage");
        for ext in ["json", "xml"] {
            let path = format!("requests.{ext}");
            // "café" in Latin-1, percent-encoded, and as a raw byte in the body.
            assert_open311_error(
                app.open311_form(&path, with_field(&body, "description", "caf%E9"))
                    .await,
                StatusCode::BAD_REQUEST,
                "description: not valid UTF-8",
            )
            .await;
            let marked = with_field(&body, "description", "cafMARK");
            let at = marked.find("MARK").unwrap();
            let mut raw = marked[..at].as_bytes().to_vec();
            raw.push(0xE9);
            raw.extend_from_slice(marked[at + 4..].as_bytes());
            let r = app
                .client
                .post(format!("{}/open311/v2/{path}", app.url))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(raw)
                .send()
                .await
                .unwrap();
            assert_open311_error(r, StatusCode::BAD_REQUEST, "not valid UTF-8").await;
            // A multipart text part.
            let form = reqwest::multipart::Form::new()
                .text("api_key", client.key.clone())
                .text("service_code", "exposed_garbage")
                .text("lat", IN_GRID.1.to_string())
                .text("long", IN_GRID.0.to_string())
                .part(
                    "description",
                    reqwest::multipart::Part::bytes(b"caf\xe9".to_vec()),
                );
            let r = app
                .client
                .post(format!("{}/open311/v2/{path}", app.url))
                .multipart(form)
                .send()
                .await
                .unwrap();
            assert_open311_error(r, StatusCode::BAD_REQUEST, "not valid UTF-8").await;
            // And a query parameter of a read.
            assert_open311_error(
                app.open311_get(&format!("requests.{ext}?service_code=caf%E9"))
                    .await,
                StatusCode::BAD_REQUEST,
                "not valid UTF-8",
            )
            .await;
        }
        let listed: Value = app.open311_get("requests.json").await.json().await.unwrap();
        assert_eq!(listed, json!([]), "nothing was stored");
    }
);

db_test!(
    a_request_with_only_an_address_waits_at_its_jurisdictions_centre_until_a_dispatcher_places_it,
    |app| {
        let c = app.seed_loop().await;
        let county = app.user("cdisp", Role::Dispatcher, Some(COUNTY)).await;
        let client = app.open311_client("address-app", 60).await;
        let body = without(
            &spec_example(&client.key, "exposed_garbage"),
            &["lat", "long"],
        );
        let id = created_id(app.open311_form("requests.json", body).await).await;

        // Open311 readers see no position rather than a point at 0,0.
        let one: Value = app
            .open311_get(&format!("requests/{id}.json"))
            .await
            .json()
            .await
            .unwrap();
        assert_schema("requests", &one);
        assert_eq!(
            (&one[0]["lat"], &one[0]["long"], &one[0]["address"]),
            (&Value::Null, &Value::Null, &json!("1234 5th street"))
        );
        let xml = app
            .open311_get(&format!("requests/{id}.xml"))
            .await
            .text()
            .await
            .unwrap();
        assert!(xml.contains("<lat/>") && xml.contains("<long/>"), "{xml}");

        // The county's centre holds it, marked as position unknown; the village does not see it.
        let ev = app.event(&county, id).await;
        assert_eq!(
            (ev["grid"].as_str(), ev["centre"].as_str()),
            (Some(COUNTY), Some(COUNTY))
        );
        assert_eq!(ev["position_known"], false);
        assert_eq!((&ev["lon"], &ev["lat"]), (&Value::Null, &Value::Null));
        assert!(
            ev["allowed_actions"]
                .as_array()
                .unwrap()
                .contains(&json!("locate")),
            "{ev}"
        );
        let r = app
            .get(&format!("/api/v1/events/{id}"), Some(&c.dispatcher))
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        // Counted for the county, not drawn on the map anywhere.
        let figures = |node: &'static str| {
            let a = &app;
            let who = county.clone();
            async move {
                let f: Value = a
                    .get(&format!("/api/v1/figures?node={node}"), Some(&who))
                    .await
                    .json()
                    .await
                    .unwrap();
                f["figures"]["counters"].clone()
            }
        };
        assert_eq!(figures(COUNTY).await["reported"], 1);
        assert_eq!(figures("441502001001").await["reported"], 0);
        let map: Value = app
            .get("/api/v1/map/events?bbox=-180,-90,180,90", Some(&county))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(map["features"], json!([]), "{map}");

        // The county centre accepts it, then a dispatcher places it.
        app.act_ok(&county, id, "accept", json!({})).await;
        let path = format!("/api/v1/events/{id}/locate");
        let locate = |who: &crate::helpers::Session, lon: f64, lat: f64| {
            let (a, path, who) = (&app, path.clone(), who.clone());
            async move {
                a.post_json(&path, Some(&who), json!({"lon": lon, "lat": lat}))
                    .await
            }
        };
        let r = locate(&c.worker, IN_GRID.0, IN_GRID.1).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "a worker cannot see it");
        let r = locate(&county, 116.9, 22.785).await;
        crate::helpers::assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        let r = locate(&county, IN_GRID.0, IN_GRID.1).await;
        assert_eq!(r.status(), StatusCode::OK);
        let placed: Value = r.json().await.unwrap();
        assert_eq!(placed["grid"], "441502001001001");
        assert_eq!(placed["position_known"], true);
        assert_eq!(placed["state"], "accepted", "not a move of the loop");
        assert_eq!(placed["centre"], COUNTY, "still held by the county");
        let r = locate(&county, IN_GRID.0, IN_GRID.1).await;
        crate::helpers::assert_error(r, StatusCode::CONFLICT).await;

        // Its counts moved down with it, once.
        for node in [COUNTY, "441502001001", "441502001001001"] {
            let f = figures(node).await;
            assert_eq!(
                (f["reported"].as_i64(), f["accepted"].as_i64()),
                (Some(1), Some(1)),
                "{node}: {f}"
            );
        }
        let one: Value = app
            .open311_get(&format!("requests/{id}.json"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(one[0]["lat"], json!(IN_GRID.1));
        let map: Value = app
            .get("/api/v1/map/events?bbox=115,22,116,23", Some(&county))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(map["features"].as_array().unwrap().len(), 1, "{map}");
        // The updates feed does not report a position as a change of status.
        let feed: Value = app
            .open311_get("servicerequestupdates.json")
            .await
            .json()
            .await
            .unwrap();
        assert_schema("updates", &feed);
        assert_eq!(
            feed.as_array().unwrap().len(),
            2,
            "report and accept: {feed}"
        );
    }
);

db_test!(
    carriage_returns_and_surrounding_spaces_come_back_exactly_in_xml_and_json,
    |app| {
        let c = app.seed_loop().await;
        let client = app.open311_client("windows-app", 60).await;
        let text = "  第一行\r\n第二行\rthird <line> & 'more'\t\n  ";
        let id = created_id(
            app.open311_form(
                "requests.json",
                with_field(
                    &spec_example(&client.key, "exposed_garbage"),
                    "description",
                    &form_value(text),
                ),
            )
            .await,
        )
        .await;
        assert_eq!(app.event(&c.dispatcher, id).await["description"], text);
        let json: Value = app
            .open311_get(&format!("requests/{id}.json"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(json[0]["description"], text);
        let xml = app
            .open311_get(&format!("requests/{id}.xml"))
            .await
            .text()
            .await
            .unwrap();
        well_formed(&xml).unwrap();
        assert!(!xml.contains('\r'), "no raw CR: a parser would make it LF");
        assert_eq!(xml_text(&xml, "description"), text);
    }
);

db_test!(
    reads_refuse_a_wrong_api_key_and_take_every_w3c_date_form,
    |app| {
        app.seed_loop().await;
        let client = app.open311_client("fms", 60).await;
        created_id(
            app.open311_form(
                "requests.json",
                spec_example(&client.key, "exposed_garbage"),
            )
            .await,
        )
        .await;
        for ext in ["json", "xml"] {
            for path in [
                format!("servicerequestupdates.{ext}"),
                format!("requests.{ext}"),
                format!("services.{ext}"),
                format!("services/gas.{ext}"),
                format!("discovery.{ext}"),
            ] {
                let sep = if path.contains('?') { '&' } else { '?' };
                assert_open311_error(
                    app.open311_get(&format!("{path}{sep}api_key=guess")).await,
                    StatusCode::FORBIDDEN,
                    "invalid api_key",
                )
                .await;
                let r = app
                    .open311_get(&format!("{path}{sep}api_key={}", client.key))
                    .await;
                assert_eq!(r.status(), StatusCode::OK, "{path} with the right key");
            }
        }
        // The clock stands in November 2026: a year-month, a year and a date all parse.
        let now = shanzhi::http::open311::date::format(app.clock.now_ms());
        assert!(now.starts_with("2026-11"), "{now}");
        for q in [
            "start_date=2026-11&end_date=2026-12",
            "start_date=2026-11-01&end_date=2026-12",
            "start_date=2026-10",
        ] {
            for what in ["requests", "servicerequestupdates"] {
                let r = app.open311_get(&format!("{what}.json?{q}")).await;
                assert_eq!(r.status(), StatusCode::OK, "{what}?{q}");
                let v: Value = r.json().await.unwrap();
                assert_eq!(v.as_array().unwrap().len(), 1, "{what}?{q}: {v}");
            }
        }
        let r = app
            .open311_get("requests.json?start_date=2026&end_date=2026-02")
            .await;
        assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
        assert_open311_error(
            app.open311_get("requests.json?start_date=2026-13").await,
            StatusCode::BAD_REQUEST,
            "start_date",
        )
        .await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_apps_on_configured_origins_get_cors_and_preflight_answers() {
    const ORIGIN: &str = "https://app.example.org";
    for engine in engines() {
        let mut app = spawn_app_with(engine, |c| {
            c.open311_cors_origins = vec![ORIGIN.to_owned()];
        })
        .await;
        app.seed_loop().await;
        let url = format!("{}/open311/v2/requests.json", app.url);
        let preflight = app
            .client
            .request(Method::OPTIONS, &url)
            .header("origin", ORIGIN)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .unwrap();
        assert!(preflight.status().is_success(), "{}", preflight.status());
        let h = preflight.headers();
        assert_eq!(h["access-control-allow-origin"], ORIGIN);
        let methods = h["access-control-allow-methods"].to_str().unwrap();
        assert!(
            methods.contains("POST") && methods.contains("GET"),
            "{methods}"
        );
        assert!(h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("content-type"));
        let r = app
            .client
            .get(format!("{}/open311/v2/services.json", app.url))
            .header("origin", ORIGIN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["access-control-allow-origin"], ORIGIN);
        let r = app
            .client
            .get(format!("{}/open311/v2/services.json", app.url))
            .header("origin", "https://evil.example.com")
            .send()
            .await
            .unwrap();
        assert!(r.headers().get("access-control-allow-origin").is_none());
        // The staff API stays same-origin.
        let r = app
            .client
            .get(format!("{}/api/v1/openapi.json", app.url))
            .header("origin", ORIGIN)
            .send()
            .await
            .unwrap();
        assert!(r.headers().get("access-control-allow-origin").is_none());
        app.stop().await;
    }
}

db_test!(no_origin_gets_cors_unless_configured, |app| {
    app.seed_loop().await;
    let r = app
        .client
        .get(format!("{}/open311/v2/services.json", app.url))
        .header("origin", "https://app.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("access-control-allow-origin").is_none());
});

db_test!(every_json_answer_matches_the_georeport_v2_schemas, |app| {
    let c = app.seed_loop().await;
    let client = app.open311_client("schema-app", 60).await;
    let start = app.clock.now_ms();
    let get = |path: String| {
        let a = &app;
        async move {
            let r = a.open311_get(&path).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            r.json::<Value>().await.unwrap()
        }
    };
    assert_schema("discovery", &get("discovery.json".into()).await);
    assert_schema("services", &get("services.json".into()).await);
    for code in ["gas", "exposed_garbage"] {
        assert_schema(
            "service_definition",
            &get(format!("services/{code}.json")).await,
        );
    }
    let r = app
        .open311_form(
            "requests.json",
            spec_example(&client.key, "exposed_garbage"),
        )
        .await;
    let created: Value = r.json().await.unwrap();
    assert_schema("request_created", &created);
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.act_ok(
        &c.dispatcher,
        id.parse().unwrap(),
        "reject",
        json!({"reason": "不属于本中心职责"}),
    )
    .await;
    assert_schema("requests", &get("requests.json".into()).await);
    assert_schema(
        "requests",
        &get("requests.json?extensions=true".into()).await,
    );
    assert_schema("requests", &get(format!("requests/{id}.json")).await);
    let date = |ms: i64| shanzhi::http::open311::date::format(ms).replace('+', "%2B");
    let feed = get(format!(
        "servicerequestupdates.json?start_date={}",
        date(start)
    ))
    .await;
    assert_eq!(feed.as_array().unwrap().len(), 2, "{feed}");
    assert_schema("updates", &feed);
    for path in [
        "requests/999999.json",
        "services/potholes.json",
        "requests.json?status=pending",
        "tokens/1.json",
    ] {
        let r = app.open311_get(path).await;
        assert!(r.status().is_client_error(), "{path}");
        assert_schema("errors", &r.json::<Value>().await.unwrap());
    }
    // The schemas are not vacuous: they catch what the spec forbids.
    let mut leaky = get(format!("requests/{id}.json")).await;
    leaky[0]["email"] = json!("someone@example.org");
    assert!(!schema("requests").is_valid(&leaky));
    assert!(!schema("errors").is_valid(&json!([{"code": "400", "description": "x"}])));
    assert!(!schema("request_created").is_valid(&json!([{"service_notice": "x"}])));
});
