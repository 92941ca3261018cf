//! Health and metrics for operators and load balancers.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::http::state::AppState;

/// `/healthz` and `/metrics`.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health)).route("/metrics", get(metrics))
}

async fn health(State(app): State<AppState>) -> impl IntoResponse {
    let grids = app.locator.current().len();
    match app.db.ping().await {
        Ok(()) => (StatusCode::OK, axum::Json(json!({"status": "ok", "database": "ok", "grids_indexed": grids}))),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({"status": "unavailable", "database": "unreachable", "grids_indexed": grids})),
            )
        }
    }
}

async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    let grids = app.locator.current().len() as f64;
    let body = app.metrics.render(&[("shanzhi_grids_indexed", "Grids in the point-location index.", grids)]);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body)
}
