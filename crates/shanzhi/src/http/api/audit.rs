//! Reading and verifying the audit log (administrators).

use super::doc::{schema as s, Doc, Routes};
use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::user::permission::can_read_audit;
use shanzhi_domain::user::Scope;
use shanzhi_store::audit::{AuditFilter, AuditRow};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;

/// `/api/v1/audit`, `/api/v1/audit/verify`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/audit",
            list,
            Doc::new("audit", "Audit log, newest first (administrators: rows about records in their subtree)")
                .query("entity", s::string(), "node, user, event…")
                .query("entity_id", s::string(), "record id")
                .query("actor", s::int64(), "user id of who made the change")
                .query("action", s::string(), "what was done (create, update, accept…)")
                .query("from", s::int64(), "at or after (unix ms)")
                .query("to", s::int64(), "before (unix ms)")
                .query("before", s::int64(), "page: rows before this seq")
                .query("limit", s::integer(1, 1000), "page size (default 100)"),
        )
        .get(
            "/api/v1/audit/verify",
            verify,
            Doc::new("audit", "Verify the hash chain; names the first broken row (administrators of the whole tree)"),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    entity: Option<String>,
    entity_id: Option<String>,
    actor: Option<i64>,
    action: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    before: Option<i64>,
    limit: Option<i64>,
}

impl ListQuery {
    fn filter(&self) -> AuditFilter<'_> {
        AuditFilter {
            entity: self.entity.as_deref(),
            entity_id: self.entity_id.as_deref(),
            actor_id: self.actor,
            action: self.action.as_deref(),
            from: self.from,
            to: self.to,
        }
    }
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    // Administrators are node-scoped (`can_read_audit` says so): their node bounds the rows.
    let (true, Scope::Node(root)) = (can_read_audit(&user.actor), &user.actor.scope) else {
        return Err(ApiError::forbidden(
            "only administrators read the audit log",
        ));
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 1000"));
    }
    let (rows, next_before) = if user.at_root(&app).await? {
        let rows = shanzhi_store::audit::list(&app.db, &q.filter(), q.before, limit).await?;
        let next = if rows.len() as i64 == limit {
            rows.last().map(|r| r.seq)
        } else {
            None
        };
        (rows, next)
    } else {
        scoped_rows(&app, root.path(), &q, limit).await?
    };
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
    Ok(axum::Json(
        json!({"items": items, "next_before": next_before}),
    ))
}

/// Rows newest first about records under `root`, read in pages and filtered, scanning at most
/// [`MAX_SCAN`] rows a request; `next_before` continues where the scan stopped.
async fn scoped_rows(
    app: &AppState,
    root: &str,
    q: &ListQuery,
    limit: i64,
) -> ApiResult<(Vec<AuditRow>, Option<i64>)> {
    const PAGE: i64 = 500;
    const MAX_SCAN: usize = 10_000;
    let mut out = Vec::new();
    let mut before = q.before;
    let mut scanned = 0usize;
    loop {
        let page = shanzhi_store::audit::list(&app.db, &q.filter(), before, PAGE).await?;
        let keep = shanzhi_store::audit::under(&app.db, &page, root).await?;
        let full = page.len() as i64 == PAGE;
        scanned += page.len();
        for (row, k) in page.into_iter().zip(keep) {
            before = Some(row.seq);
            if k {
                out.push(row);
                if out.len() as i64 == limit {
                    return Ok((out, before));
                }
            }
        }
        if !full {
            return Ok((out, None));
        }
        if scanned >= MAX_SCAN {
            return Ok((out, before));
        }
    }
}

async fn verify(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    if !can_read_audit(&user.actor) || !user.at_root(&app).await? {
        return Err(ApiError::forbidden(
            "only administrators of the whole tree verify the audit log",
        ));
    }
    Ok(axum::Json(
        match shanzhi_store::audit::verify(&app.db).await? {
            Ok(n) => json!({"ok": true, "rows": n}),
            Err(b) => json!({"ok": false, "broken_at": b.seq, "reason": b.reason}),
        },
    ))
}
