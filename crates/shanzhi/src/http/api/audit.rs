//! Reading and verifying the audit log (administrators).

use super::doc::{schema as s, Doc, Routes};
use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::user::permission::can_read_audit;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;

/// `/api/v1/audit`, `/api/v1/audit/verify`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/audit",
            list,
            Doc::new("audit", "Audit log, newest first (administrators)")
                .query("entity", s::string(), "node, user, event…")
                .query("entity_id", s::string(), "record id")
                .query("before", s::int64(), "page: rows before this seq")
                .query("limit", s::integer(1, 1000), "page size (default 100)"),
        )
        .get(
            "/api/v1/audit/verify",
            verify,
            Doc::new("audit", "Verify the hash chain; names the first broken row"),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    entity: Option<String>,
    entity_id: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    if !can_read_audit(&user.actor) {
        return Err(ApiError::forbidden(
            "only administrators read the audit log",
        ));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 1000"));
    }
    let rows = shanzhi_store::audit::list(
        &app.db,
        q.entity.as_deref(),
        q.entity_id.as_deref(),
        q.before,
        limit,
    )
    .await?;
    let items: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "seq": r.seq, "at": r.at, "actor_id": r.actor_id, "action": r.action, "entity": r.entity,
                "entity_id": r.entity_id,
                "before": r.before_json.as_deref().and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()),
                "after": r.after_json.as_deref().and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()),
                "hash": r.hash,
            })
        })
        .collect();
    Ok(axum::Json(json!({"items": items})))
}

async fn verify(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    if !can_read_audit(&user.actor) {
        return Err(ApiError::forbidden(
            "only administrators verify the audit log",
        ));
    }
    Ok(axum::Json(
        match shanzhi_store::audit::verify(&app.db).await? {
            Ok(n) => json!({"ok": true, "rows": n}),
            Err(b) => json!({"ok": false, "broken_at": b.seq, "reason": b.reason}),
        },
    ))
}
