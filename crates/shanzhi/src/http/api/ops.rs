//! Health and metrics for operators and load balancers.

use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::http::error::ApiError;
use crate::http::security::ClientInfo;
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
            axum::Json(json!({"status": "ok", "database": "ok", "shapes_indexed": grids})),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(
                    json!({"status": "unavailable", "database": "unreachable", "shapes_indexed": grids}),
                ),
            )
        }
    }
}

/// May this request read the metrics? Loopback clients (a Prometheus agent on the same host),
/// or anyone with `Authorization: Bearer <metrics_token>` when the operator set one.
fn may_read_metrics(app: &AppState, client: &ClientInfo, headers: &HeaderMap) -> bool {
    if client.addr.is_loopback() {
        return true;
    }
    let Some(token) = app.config.metrics_token.as_deref() else {
        return false;
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compare digests, so the time taken says nothing about how much of the token matched.
    Sha256::digest(sent.as_bytes()) == Sha256::digest(token.as_bytes())
}

async fn metrics(
    State(app): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
) -> Response {
    if !may_read_metrics(&app, &client, &headers) {
        return ApiError::forbidden(
            "metrics are served to loopback clients, or with the metrics token (SHANZHI_METRICS_TOKEN)",
        )
        .into_response();
    }
    let grids = app.locator.current().len() as f64;
    let body = app.metrics.render(&[(
        "shanzhi_shapes_indexed",
        "Regions and grids with a shape in the point-location index.",
        grids,
    )]);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
