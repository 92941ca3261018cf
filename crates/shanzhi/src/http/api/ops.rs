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
    Router::new()
        .route("/api/v1", get(index))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
}

/// A short index of what this server offers, until the web console lands.
async fn index() -> impl IntoResponse {
    axum::Json(json!({
        "name": "善治 Shanzhi",
        "health": "/healthz",
        "metrics": "/metrics",
        "api": {
            "login": "POST /api/v1/auth/login {username, password}",
            "me": "GET /api/v1/me",
            "locate": "GET /api/v1/locate?lon=..&lat..",
            "nodes": "GET|POST /api/v1/nodes, GET|PATCH /api/v1/nodes/{code}, /children, /subtree",
            "tree": "POST /api/v1/tree/import, GET /api/v1/tree/export?root=CODE",
            "users": "GET|POST /api/v1/users, GET|PATCH /api/v1/users/{id}",
            "departments": "GET|POST /api/v1/departments",
            "audit": "GET /api/v1/audit, GET /api/v1/audit/verify",
        },
    }))
}

async fn health(State(app): State<AppState>) -> impl IntoResponse {
    let grids = app.locator.current().len();
    match app.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(json!({"status": "ok", "database": "ok", "grids_indexed": grids})),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(
                    json!({"status": "unavailable", "database": "unreachable", "grids_indexed": grids}),
                ),
            )
        }
    }
}

async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    let grids = app.locator.current().len() as f64;
    let body = app.metrics.render(&[(
        "shanzhi_grids_indexed",
        "Grids in the point-location index.",
        grids,
    )]);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
