//! Departments (职能部门).

use super::doc::{schema as s, Doc, Routes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::tree::{parse_name, NodeCode};
use shanzhi_domain::user::permission::can_manage_department;
use shanzhi_store::department::Department;
use shanzhi_store::StoreError;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json};
use crate::http::state::AppState;

/// `/api/v1/departments`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/departments",
            list,
            Doc::new("department", "Departments serving the user's area"),
        )
        .post(
            "/api/v1/departments",
            create,
            Doc::new("department", "Create a department (administrators)")
                .body(&[
                    ("code", s::code()),
                    ("name", s::name()),
                    ("region", s::region_code()),
                ])
                .created(),
        )
}

async fn list(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    let Some(root) = user.actor.scope.node() else {
        return Err(ApiError::forbidden("citizens do not list departments"));
    };
    let rows = shanzhi_store::department::list_for(&app.db, root).await?;
    Ok(axum::Json(
        json!({"items": rows.iter().map(Department::to_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    code: String,
    name: String,
    region: String,
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let code = b.code.trim().to_owned();
    if code.is_empty()
        || code.len() > 64
        || !code
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c))
    {
        return Err(ApiError::invalid(
            "code",
            "must be 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    let name = parse_name(&b.name)?;
    let region =
        NodeCode::parse(&b.region).map_err(|_| ApiError::invalid("region", "not a region code"))?;
    if region.is_grid() {
        return Err(ApiError::invalid(
            "region",
            "a department belongs to a region, not a grid",
        ));
    }
    if !can_manage_department(&user.actor, &region) {
        return Err(ApiError::forbidden(
            "you may only add departments inside your own jurisdiction",
        ));
    }
    match shanzhi_store::department::insert(
        &app.db,
        &code,
        &name,
        &region,
        Some(user.user.id),
        app.clock.now_ms(),
    )
    .await
    {
        Ok(d) => Ok((StatusCode::CREATED, axum::Json(d.to_json()))),
        Err(StoreError::Conflict { constraint }) if constraint.contains("code") => Err(
            ApiError::conflict(Some("code"), "a department with this code exists"),
        ),
        Err(StoreError::Conflict { .. }) => Err(ApiError::invalid("region", "no such region")),
        Err(e) => Err(e.into()),
    }
}
