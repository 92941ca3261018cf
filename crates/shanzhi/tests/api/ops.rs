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
    // Two villages and four grids have shapes.
    assert_eq!(v["shapes_indexed"], 6);
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    app.seed_town().await;
    // A request half-sent when the stop comes: the server must read it to the end and answer it.
    let addr = app.url.trim_start_matches("http://").to_owned();
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    sock.write_all(b"GET /api/v1/locate?lon=115.305&lat=22.785 HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.begin_stop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    sock.write_all(b"Connection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    sock.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("441502001001001"), "{answer}");
});
