//! What the handlers of the base-data registers share: who may read or change a record at a
//! node ([`base_access`]), the node a record goes to, the subtree a list covers, paging.

use serde_json::Value;
use shanzhi_domain::resident::{base_access, BaseAccess};
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::StoreError;

use super::doc::schema as s;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::CurrentUser;
use crate::http::state::AppState;

/// What `user` may do with a record at `node_code` (nothing for a malformed stored code).
pub fn access(user: &CurrentUser, node_code: &str) -> BaseAccess {
    NodeCode::parse(node_code)
        .map(|c| base_access(&user.actor, &c))
        .unwrap_or(BaseAccess::NONE)
}

/// The record at `node_code` may be read by `user`; else it does not exist for them.
pub fn readable(user: &CurrentUser, node_code: &str, what: &str) -> ApiResult<BaseAccess> {
    let a = access(user, node_code);
    if a.read {
        Ok(a)
    } else {
        Err(ApiError::not_found(what))
    }
}

/// The record at `node_code` may be changed by `user`: 404 when they cannot see it, 403 when
/// they may only read it.
pub fn writable(user: &CurrentUser, node_code: &str, what: &str) -> ApiResult<()> {
    let a = readable(user, node_code, what)?;
    if a.write {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "you may read but not change the base data here",
        ))
    }
}

/// The node a record is filed at, from a request: a known node the user may change data at.
pub async fn target_node(
    app: &AppState,
    user: &CurrentUser,
    raw: &str,
    field: &str,
) -> ApiResult<NodeCode> {
    let code = NodeCode::parse(raw.trim())
        .map_err(|_| ApiError::invalid(field, "not a region or grid code"))?;
    writable(user, code.as_str(), "node")?;
    match shanzhi_store::node::get(&app.db, &code).await {
        Ok(_) => Ok(code),
        Err(StoreError::NotFound) => Err(ApiError::invalid(field, "no such node")),
        Err(e) => Err(e.into()),
    }
}

/// The subtree a list covers: `node` if given (inside the user's area, else 404), the user's
/// own area otherwise; citizens have none.
pub fn list_root(user: &CurrentUser, node: Option<&str>) -> ApiResult<NodeCode> {
    let Some(root) = user.actor.scope.node() else {
        return Err(ApiError::forbidden("this register is for staff of an area"));
    };
    let code = match node {
        Some(raw) => NodeCode::parse(raw)
            .map_err(|_| ApiError::invalid("node", "not a region or grid code"))?,
        None => root.clone(),
    };
    if !base_access(&user.actor, &code).read {
        return Err(if root.contains(&code) {
            ApiError::forbidden("your role has no part in the base data")
        } else {
            ApiError::not_found("node")
        });
    }
    Ok(code)
}

/// A page size in `1..=max` (default `default`): the lists' one rule.
pub use crate::http::extract::page_limit as limit;

/// A list answer: the items and the cursor of the next page (the last id) when it is full.
pub fn page(items: Vec<Value>, last_id: Option<i64>, limit: i64) -> Value {
    let next = (items.len() as i64 == limit).then_some(last_id).flatten();
    serde_json::json!({"items": items, "next_after": next})
}

/// The `node`, `after` and `limit` query parameters of a register list.
pub fn list_params(doc: super::doc::Doc, max: i64) -> super::doc::Doc {
    doc.query(
        "node",
        s::node_code(),
        "region or grid code (default: your area)",
    )
    .query(
        "after",
        s::int64(),
        "ids after this one (next_after of the last page)",
    )
    .query("limit", s::integer(1, max), "page size")
}

/// A store read whose `NotFound` is the API's 404 for `what`.
pub fn found<T>(r: Result<T, StoreError>, what: &str) -> ApiResult<T> {
    match r {
        Err(StoreError::NotFound) => Err(ApiError::not_found(what)),
        other => Ok(other?),
    }
}

/// Is `resident_id` a resident the user may read (an owner or a member named by id)? An
/// unknown one is not.
pub async fn resident_known(
    app: &AppState,
    user: &CurrentUser,
    resident_id: i64,
) -> ApiResult<bool> {
    match shanzhi_store::house::resident_node(&app.db, resident_id).await {
        Ok(node) => Ok(access(user, &node).read),
        Err(StoreError::NotFound) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
