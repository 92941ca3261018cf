//! Health, metrics, request ids, graceful shutdown.

use reqwest::StatusCode;
use serde_json::Value;

db_test!(health_reports_the_database_and_the_index, |app| {
    app.seed_town().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers().get("x-request-id").is_some(),
        "every response carries a request id"
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["grids_indexed"], 4);
});

db_test!(metrics_count_requests_in_prometheus_text, |app| {
    app.get("/api/v1/locate?lon=115.3&lat=22.7", None).await;
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(text.contains("# TYPE shanzhi_http_requests_total counter"));
    assert!(
        text.contains(
            "shanzhi_http_requests_total{method=\"GET\",route=\"/api/v1/locate\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("shanzhi_http_request_duration_seconds_bucket"));
});

db_test!(shutdown_lets_the_request_in_flight_finish, |app| {
    app.seed_town().await;
    // Start a request, then ask the server to stop while it may still be running.
    let url = format!("{}/api/v1/locate?lon=115.305&lat=22.785", app.url);
    let client = app.client.clone();
    let pending = tokio::spawn(async move { client.get(url).send().await.map(|r| r.status()) });
    tokio::task::yield_now().await;
    app.stop().await;
    let status = pending.await.unwrap();
    // Either it was served in full, or it had not connected yet and was never accepted; it is
    // never cut off half-way with a broken response.
    match status {
        Ok(s) => assert_eq!(s, StatusCode::OK),
        Err(e) => assert!(e.is_connect(), "request cut off: {e}"),
    }
});
