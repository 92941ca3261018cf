//! The HTTP adapter: one router per module, merged here, with the layers every request passes.

pub mod api;
pub mod error;
pub mod extract;
pub mod gzip;
pub mod open311;
pub mod page;
pub mod reason;
pub mod security;
pub mod state;

use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use self::error::ApiError;
use self::state::AppState;

/// Bodies larger than this are refused, except where a route raises it (imports).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The whole application.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api::router())
        .merge(open311::router(&state.config))
        .merge(page::router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Inside the compression: it reads and rewrites plain-text error bodies.
        .layer(middleware::from_fn(security::harden))
        // gzip for clients that ask (browsers do): map outlines and lists shrink 4–6×. The
        // fastest level keeps the CPU for the requests themselves.
        .layer(CompressionLayer::new().gzip(true).quality(CompressionLevel::Fastest))
        .layer(middleware::from_fn_with_state(state.clone(), security::client_info))
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .layer(middleware::from_fn_with_state(state.clone(), note_write))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(120)))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

/// Read-your-writes with a replica: after a request that may have changed something succeeded,
/// the caller's session notes the primary's WAL position, and its reads wait for the replica to
/// replay that far ([`AppState::reader`]). Nothing happens without a replica.
async fn note_write(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if app.replica.is_none() || safe {
        return next.run(req).await;
    }
    let token = extract::session_token(req.headers()).map(|(t, _)| t);
    let resp = next.run(req).await.into_response();
    if let (Some(token), true) = (token, resp.status().is_success()) {
        let hash = extract::token_hash(&token);
        if let Err(e) = shanzhi_store::session::mark_write(&app.db, &hash).await {
            tracing::warn!(error = %e, "could not note a session's write for read-your-writes");
        }
    }
    resp
}

async fn count_request(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    app.metrics.start();
    let started = Instant::now();
    let resp = next.run(req).await.into_response();
    app.metrics.finish(
        &method,
        &route,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}
