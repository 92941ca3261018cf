//! 待办 over HTTP: every open order on which the user has a move now, by kind.
//!
//! Candidates come from one indexed query per role (see [`shanzhi_store::event::InboxScope`]);
//! each is then put to the same rules as the order page ([`service::allowed_actions`]), and
//! kept when one of its moves waits on the user ([`waits_for`]). The inbox is bounded work, not
//! a list to page through: every waiting order up to [`CAP`] is ranked (red, yellow, then by due
//! time) and counted per kind; `limit` cuts the items shown, `capped` says more candidates
//! existed than were looked at (the most urgent ones were).

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use shanzhi_domain::event::inbox::{urgency, waits_for, KINDS};
use shanzhi_domain::user::{Role, Scope};
use shanzhi_store::category::Category;
use shanzhi_store::event::{EventRow, InboxScope};

use super::doc::{schema as s, Doc, Routes};
use super::event::to_json;
use super::names::with_names;
use crate::event::{self as service, state_of};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;

/// Most candidate orders looked at per inbox.
pub const CAP: i64 = 1000;

/// `/api/v1/inbox`.
pub fn routes() -> Routes {
    Routes::new().get(
        "/api/v1/inbox",
        inbox,
        Doc::new(
            "event",
            "What waits on the user now: every open order with a move of theirs, red first, then yellow, then by due time; \
             each item has `waits_for` (kinds) and `reopened`; `counts` per kind over all waiting orders; \
             `capped` when more than 1,000 candidates existed (the most urgent were looked at)",
        )
        .query("kind", s::one_of(&KINDS), "only orders of this kind (counts stay over all kinds)")
        .query("limit", s::integer(1, 500), "items shown (default 200); counts and total cover all"),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InboxQuery {
    kind: Option<String>,
    limit: Option<i64>,
}

/// Where the user's candidates are: a centre's inbox is what its own centre holds (not the
/// centres below it, which have their own dispatchers).
fn scope_of(user: &CurrentUser) -> Option<InboxScope> {
    match (user.actor.role, &user.actor.scope) {
        (Role::Dispatcher, Scope::Node(c)) => Some(InboxScope::Centre(c.path().to_owned())),
        (Role::Handler, Scope::Department { id, .. }) => Some(InboxScope::Department(*id)),
        (Role::GridWorker, Scope::Node(c)) => Some(InboxScope::Grid(c.path().to_owned())),
        (Role::Citizen, _) => Some(InboxScope::Reporter(user.user.id)),
        _ => None,
    }
}

/// Every order waiting on the user with its kinds, most urgent first, and whether more
/// candidates existed than [`CAP`] (the inbox page and its Excel export read the same list).
pub(super) async fn waiting(
    app: &AppState,
    user: &CurrentUser,
) -> ApiResult<(Vec<(EventRow, Vec<&'static str>)>, bool)> {
    let rows = match scope_of(user) {
        Some(scope) => shanzhi_store::event::inbox_candidates(&app.db, &scope, CAP).await?,
        None => Vec::new(),
    };
    let capped = rows.len() as i64 >= CAP;
    let mut categories: HashMap<i64, Category> = HashMap::new();
    let mut waiting = Vec::new();
    for row in rows {
        if let Entry::Vacant(slot) = categories.entry(row.category_id) {
            slot.insert(shanzhi_store::category::get(&app.db, row.category_id).await?);
        }
        let ev = state_of(&row, &categories[&row.category_id])?;
        let kinds = waits_for(&service::allowed_actions(&ev, &user.actor), &ev);
        if !kinds.is_empty() {
            waiting.push((row, kinds));
        }
    }
    waiting.sort_by_key(|(r, _)| urgency(&r.light, r.due_at, r.id));
    Ok((waiting, capped))
}

async fn inbox(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<InboxQuery>,
) -> ApiResult<impl IntoResponse> {
    let limit = q.limit.unwrap_or(200);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 500"));
    }
    if let Some(k) = &q.kind {
        if !KINDS.contains(&k.as_str()) {
            return Err(ApiError::invalid(
                "kind",
                format!("must be one of {}", KINDS.join(", ")),
            ));
        }
    }
    let (waiting, capped) = waiting(&app, &user).await?;
    let mut counts = Map::new();
    for k in KINDS {
        let n = waiting.iter().filter(|(_, ks)| ks.contains(&k)).count();
        counts.insert(k.to_owned(), json!(n));
    }
    let total = waiting.len();
    let items: Vec<Value> = waiting
        .iter()
        .filter(|(_, ks)| q.kind.as_deref().is_none_or(|k| ks.contains(&k)))
        .take(limit as usize)
        .map(|(row, kinds)| {
            let mut v = to_json(row);
            // 重办: reopened by a rating or a re-inspection; the count stays as `reopened_times`.
            v["reopened_times"] = json!(row.reopened);
            v["reopened"] = json!(row.reopened > 0);
            v["waits_for"] = json!(kinds);
            v
        })
        .collect();
    let mut items = items;
    with_names(&app, &mut items).await?;
    Ok(axum::Json(json!({
        "items": items, "counts": counts, "total": total, "capped": capped,
    })))
}
