//! Photos through HTTP: who may read one, how it is served, and which files are refused.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use shanzhi::clock::Clock;
use shanzhi_domain::user::Role;
use shanzhi_store::open311::NewClient;

use crate::helpers::{assert_error, Cast, Session, TestApp, IN_GRID, TINY_JPEG, TINY_PNG};

async fn upload(app: &TestApp, who: &Session, bytes: Vec<u8>) -> Response {
    app.client
        .post(format!("{}/api/v1/photos", app.url))
        .bearer_auth(&who.token)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// Uploads a photo that must be accepted; returns its hash.
async fn uploaded(app: &TestApp, who: &Session, bytes: &[u8]) -> String {
    let r = upload(app, who, bytes.to_vec()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    v["hash"].as_str().unwrap().to_owned()
}

/// The status of GET /api/v1/photos/{hash} for `who`; a 404 must be the API's JSON error.
async fn read_status(app: &TestApp, who: &Session, hash: &str) -> StatusCode {
    let r = app.get(&format!("/api/v1/photos/{hash}"), Some(who)).await;
    let status = r.status();
    if status == StatusCode::NOT_FOUND {
        assert_eq!(assert_error(r, status).await["code"], "not_found");
    }
    status
}

/// Reports an event at `IN_GRID` with these photos; returns the response.
async fn report_with(app: &TestApp, who: &Session, c: &Cast, photos: &[&str]) -> Response {
    app.client
        .post(format!("{}/api/v1/events", app.url))
        .bearer_auth(&who.token)
        .header("idempotency-key", format!("photo-{}", rand::random::<u64>()))
        .json(&json!({"category_id": c.garbage, "description": "路口有垃圾", "lon": IN_GRID.0, "lat": IN_GRID.1, "photos": photos}))
        .send()
        .await
        .unwrap()
}

db_test!(
    a_photo_is_read_by_its_uploader_until_attached_and_then_by_readers_of_its_event,
    |app| {
        let c = app.seed_loop().await;
        let hash = uploaded(&app, &c.citizen, TINY_PNG).await;

        // Before it is attached: the uploader only.
        let r = app
            .get(&format!("/api/v1/photos/{hash}"), Some(&c.citizen))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.bytes().await.unwrap().as_ref(), TINY_PNG);
        assert_eq!(
            read_status(&app, &c.citizen2, &hash).await,
            StatusCode::NOT_FOUND,
            "another citizen cannot read it"
        );
        assert_eq!(
            read_status(&app, &c.dispatcher, &hash).await,
            StatusCode::NOT_FOUND,
            "nor staff, while it belongs to no record"
        );

        // Attached to a report: whoever may read the report.
        let r = report_with(&app, &c.citizen, &c, &[&hash]).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(read_status(&app, &c.citizen, &hash).await, StatusCode::OK);
        assert_eq!(
            read_status(&app, &c.citizen2, &hash).await,
            StatusCode::NOT_FOUND
        );
        let r = app
            .get(&format!("/api/v1/photos/{hash}"), Some(&c.dispatcher))
            .await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "the village dispatcher is in scope"
        );
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(
            read_status(&app, &c.town_dispatcher, &hash).await,
            StatusCode::OK,
            "so is the town's"
        );
        assert_eq!(
            read_status(&app, &c.other_dispatcher, &hash).await,
            StatusCode::NOT_FOUND,
            "the other village's dispatcher is out of scope"
        );
        assert_eq!(
            read_status(&app, &c.zj, &hash).await,
            StatusCode::NOT_FOUND,
            "a department handler before the order is sent to them"
        );

        // Unknown and malformed hashes look the same.
        assert_eq!(
            read_status(&app, &c.citizen, &"0".repeat(64)).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            read_status(&app, &c.citizen, "not-a-hash").await,
            StatusCode::NOT_FOUND
        );
    }
);

db_test!(
    a_hash_alone_does_not_let_anyone_attach_or_read_someone_elses_photo,
    |app| {
        let c = app.seed_loop().await;
        let hash = uploaded(&app, &c.citizen, TINY_JPEG).await;
        let r = report_with(&app, &c.citizen2, &c, &[&hash]).await;
        assert_eq!(
            assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
            "photos"
        );
        assert_eq!(
            read_status(&app, &c.citizen2, &hash).await,
            StatusCode::NOT_FOUND
        );
        // Sending the same bytes is having them: the second uploader may use their copy.
        assert_eq!(uploaded(&app, &c.citizen2, TINY_JPEG).await, hash);
        assert_eq!(read_status(&app, &c.citizen2, &hash).await, StatusCode::OK);
        let r = report_with(&app, &c.citizen2, &c, &[&hash]).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        // A result photo must be the handler's own upload too.
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
        let r = app
            .act(
                &c.zj,
                id,
                "report_result",
                json!({"note": "已处理", "photos": [hash]}),
            )
            .await;
        assert_eq!(
            assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
            "photos"
        );
    }
);

db_test!(
    a_handler_reads_the_photos_of_an_order_sent_to_their_department,
    |app| {
        let c = app.seed_loop().await;
        let hash = uploaded(&app, &c.citizen, TINY_PNG).await;
        let r = report_with(&app, &c.citizen, &c, &[&hash]).await;
        let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
        app.act_ok(
            &c.dispatcher,
            id,
            "dispatch",
            json!({"department_id": c.cg_id}),
        )
        .await;
        assert_eq!(read_status(&app, &c.cg, &hash).await, StatusCode::OK);
        assert_eq!(
            read_status(&app, &c.zj, &hash).await,
            StatusCode::NOT_FOUND,
            "another department"
        );
    }
);

db_test!(
    files_that_are_not_whole_images_are_refused_at_upload,
    |app| {
        let c = app.seed_loop().await;
        let html = b"<html><body><script>alert(document.cookie)</script></body></html>";
        let polyglots: Vec<Vec<u8>> = vec![
            [&[0xFF, 0xD8, 0xFF, 0xE0][..], html].concat(),
            [&TINY_PNG[..8], html].concat(),
            [TINY_JPEG, html].concat(),
            [TINY_PNG, html].concat(),
            TINY_JPEG[..TINY_JPEG.len() - 2].to_vec(),
        ];
        for bytes in polyglots {
            let v = assert_error(
                upload(&app, &c.citizen, bytes).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(v["field"], "photo", "{v}");
            assert!(
                v["message"].as_str().unwrap().contains("not a whole"),
                "{v}"
            );
        }
        assert_eq!(
            upload(&app, &c.citizen, TINY_JPEG.to_vec()).await.status(),
            StatusCode::CREATED
        );
    }
);

db_test!(
    open311_media_is_checked_at_upload_and_served_with_nosniff,
    |app| {
        let c = app.seed_loop().await;
        let user_id = app
            .create_user("camera-svc", Role::Citizen, None, None)
            .await;
        let (key, key_hash) = shanzhi::http::open311::new_api_key();
        let client = NewClient {
            name: "camera".into(),
            key_hash,
            user_id,
            rate_per_minute: 60,
        };
        shanzhi_store::open311::insert_client(&app.state.db, &client, None, app.clock.now_ms())
            .await
            .unwrap();
        let post = |media: Vec<u8>| {
            let form = reqwest::multipart::Form::new()
                .text("api_key", key.clone())
                .text("service_code", "exposed_garbage")
                .text("lat", IN_GRID.1.to_string())
                .text("long", IN_GRID.0.to_string())
                .part(
                    "media",
                    reqwest::multipart::Part::bytes(media).file_name("photo.jpg"),
                );
            app.client
                .post(format!("{}/open311/v2/requests.json", app.url))
                .multipart(form)
                .send()
        };
        let r = post([TINY_JPEG, b"<html>".as_slice()].concat())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.text().await.unwrap().contains("not a whole JPEG"));

        let r = post(TINY_JPEG.to_vec()).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        let id: i64 = v[0]["service_request_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let hash = app.event(&c.dispatcher, id).await["photos"][0]["hash"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = app.get(&format!("/open311/v2/media/{hash}"), None).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    }
);
