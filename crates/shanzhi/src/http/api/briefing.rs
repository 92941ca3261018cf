//! Briefings (早晚报) over HTTP: the archive of a centre's morning and evening briefings, one
//! briefing's figures, its Word document with the charts, and "generate now".
//!
//! - Who reads: analysts, dispatchers, administrators and leaders whose scope holds the
//!   briefing's node (404 otherwise). Who generates: analysts, dispatchers, administrators.
//! - A briefing is for a region (a centre), never a grid.
//! - The list answers `{items, next_cursor}`, newest first (`?before=<next_cursor>`).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::briefing::Kind;
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::{Actor, Role};
use shanzhi_store::briefing::BriefingRow;
use shanzhi_store::StoreError;

use super::dispute::scope_node;
use super::doc::{schema as s, Doc, Routes};
use crate::briefing::{period_at, summary_json, to_json};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{page_limit, CurrentUser, Json, Query};
use crate::http::state::AppState;

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// `/api/v1/briefings…`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/briefings",
            list,
            Doc::new("briefing", "The archive of morning and evening briefings, newest first: a node's own (node), else every one under the user's scope")
                .query("node", s::node_code(), "only this node's briefings")
                .query("before", s::int64(), "page: briefings before this id")
                .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
        .post(
            "/api/v1/briefings",
            create,
            Doc::new("briefing", "Generate now (analysts, dispatchers, administrators): the latest briefing of the kind due at `at` (default now) for a region; answers the archived one (200) when it exists, else writes it (201)")
                .body(&[
                    ("node", s::node_code()),
                    ("kind?", s::nullable(s::one_of(&Kind::NAMES))),
                    ("at?", s::nullable(s::text(1, 40))),
                ])
                .created()
                .also(200),
        )
        .get(
            "/api/v1/briefings/{id}",
            show,
            Doc::new("briefing", "One briefing with its figures, each with its change against the previous briefing of the same node and kind")
                .path("id", s::int64()),
        )
        .get(
            "/api/v1/briefings/{id}/docx",
            docx,
            Doc::new("briefing", "One briefing as a Word document (A4), its sections as tables and its charts as images")
                .path("id", s::int64())
                .produces(DOCX),
        )
}

fn reads(actor: &Actor) -> bool {
    matches!(
        actor.role,
        Role::Analyst | Role::Dispatcher | Role::Admin | Role::Leader
    )
}

fn writes(actor: &Actor) -> bool {
    matches!(actor.role, Role::Analyst | Role::Dispatcher | Role::Admin)
}

/// A briefing the user may read (404 otherwise, as if it did not exist).
async fn visible(app: &AppState, user: &CurrentUser, id: i64) -> ApiResult<BriefingRow> {
    if !reads(&user.actor) {
        return Err(ApiError::not_found("briefing"));
    }
    let row = match shanzhi_store::briefing::get(&app.db, id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("briefing")),
        Err(e) => return Err(e.into()),
    };
    let node = NodeCode::parse(&row.node_code).map_err(|_| ApiError::not_found("briefing"))?;
    if !user.actor.reaches(&node) {
        return Err(ApiError::not_found("briefing"));
    }
    Ok(row)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    if !reads(&user.actor) {
        return Err(ApiError::forbidden(
            "briefings are for the centre and leaders",
        ));
    }
    let limit = page_limit(q.limit, 50, 200)?;
    let node = scope_node(&app, &user, q.node.as_deref()).await?;
    let exactly = q.node.as_ref().map(|_| node.as_str());
    let mut rows =
        shanzhi_store::briefing::list(&app.db, node.path(), exactly, q.before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    let items: Vec<_> = rows.iter().map(summary_json).collect();
    Ok(axum::Json(json!({"items": items, "next_cursor": next})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    node: String,
    kind: Option<String>,
    at: Option<String>,
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(body): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    if !writes(&user.actor) {
        return Err(ApiError::forbidden(
            "briefings are generated by the centre: analysts, dispatchers, administrators",
        ));
    }
    let node = scope_node(&app, &user, Some(&body.node)).await?;
    if node.is_grid() {
        return Err(ApiError::invalid(
            "node",
            "a briefing is for a region's centre, not a grid",
        ));
    }
    let period = period_at(&app, body.at.as_deref(), body.kind.as_deref())?;
    let (row, written) =
        crate::briefing::generate(&app, &node, &period, Some(user.actor.user_id)).await?;
    let status = if written {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(to_json(&row))))
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let row = visible(&app, &user, id).await?;
    Ok(axum::Json(to_json(&row)))
}

async fn docx(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let row = visible(&app, &user, id).await?;
    let figures: serde_json::Value = serde_json::from_str(&row.figures)
        .map_err(|e| ApiError::internal(anyhow::Error::new(e)))?;
    let font = app.config.briefing_font.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        crate::briefing::docx::render(&figures, font.as_deref())
    })
    .await
    .map_err(|e| ApiError::internal(e.into()))?
    .map_err(|e| ApiError::internal(e.into()))?;
    let kind = if row.kind == "morning" {
        "早报"
    } else {
        "晚报"
    };
    let zh: String = form_urlencoded::byte_serialize(
        format!("{kind}-{}-{}.docx", row.node_code, row.day).as_bytes(),
    )
    .collect();
    let disposition = format!(
        "attachment; filename=\"briefing-{}-{}-{}.docx\"; filename*=UTF-8''{}",
        row.node_code,
        row.kind,
        row.day,
        zh.replace('+', "%20")
    );
    Ok((
        [
            (header::CONTENT_TYPE, DOCX.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
