//! 网格接单 per jurisdiction over HTTP: administrators switch the grid-first rule on or off for
//! a subtree; the nearest setting up the tree wins (none: off). A category must also allow it.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::permission::can_edit_node;

use super::doc::{schema as s, Doc, Routes};
use super::node::visible_node;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json};
use crate::http::state::AppState;

/// `/api/v1/nodes/{code}/grid_first`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/nodes/{code}/grid_first",
            show,
            Doc::new(
                "node",
                "The grid-first rule (网格接单) at a node: its own setting (null: inherited), the effective value, and the settings below it",
            )
            .path("code", s::node_code()),
        )
        .put(
            "/api/v1/nodes/{code}/grid_first",
            set,
            Doc::new(
                "node",
                "Switch the grid-first rule (网格接单) on or off for a subtree, or clear the setting with null (administrators of the area)",
            )
            .path("code", s::node_code())
            .body(&[("enabled", s::nullable(s::boolean()))]),
        )
}

fn path_code(raw: &str) -> ApiResult<NodeCode> {
    NodeCode::parse(raw).map_err(|_| ApiError::not_found("node"))
}

async fn answer(app: &AppState, code: &NodeCode) -> ApiResult<serde_json::Value> {
    let below = shanzhi_store::grid_first::under(&app.db, code).await?;
    let own = below
        .iter()
        .find(|(c, _, _)| c == code.as_str())
        .map(|(_, on, _)| *on);
    let effective = shanzhi_store::grid_first::nearest(&app.db, code)
        .await?
        .unwrap_or(false);
    Ok(json!({
        "code": code.as_str(), "setting": own, "effective": effective,
        "below": below.iter().filter(|(c, _, _)| c != code.as_str())
            .map(|(c, on, at)| json!({"code": c, "enabled": on, "updated_at": at})).collect::<Vec<_>>(),
    }))
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let code = path_code(&code)?;
    visible_node(&app, &user, &code).await?;
    Ok(axum::Json(answer(&app, &code).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetBody {
    /// Required; `null` clears the node's own setting (it then inherits).
    #[serde(default, deserialize_with = "present")]
    enabled: Option<Option<bool>>,
}

/// A field that is there, even as `null`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<bool>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

async fn set(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Json(b): Json<SetBody>,
) -> ApiResult<impl IntoResponse> {
    let code = path_code(&code)?;
    let Some(enabled) = b.enabled else {
        return Err(ApiError::invalid(
            "enabled",
            "is required (true, false, or null to inherit)",
        ));
    };
    visible_node(&app, &user, &code).await?;
    if !can_edit_node(&user.actor, &code) {
        return Err(ApiError::forbidden(
            "only an administrator of this area may set its grid-first rule",
        ));
    }
    shanzhi_store::grid_first::set(
        &app.db,
        &code,
        enabled,
        Some(user.user.id),
        app.clock.now_ms(),
    )
    .await?;
    Ok(axum::Json(answer(&app, &code).await?))
}
