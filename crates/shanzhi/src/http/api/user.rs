//! Users, administered inside the administrator's subtree.

use super::doc::{schema as s, Doc, Routes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::tree::{parse_name, NodeCode};
use shanzhi_domain::user::permission::{can_manage_user, scope_kind, ScopeKind};
use shanzhi_domain::user::{Password, Role, Scope, Username};
use shanzhi_store::user::{NewUser, UserChange, UserRow};
use shanzhi_store::StoreError;

use crate::http::api::auth::account_keys_prefix;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{actor_of, present, CurrentUser, Json, Query};
use crate::http::state::AppState;
use crate::password;

/// `/api/v1/users…`
pub fn routes() -> Routes {
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    Routes::new()
        .get(
            "/api/v1/users",
            list,
            Doc::new("user", "Users in the administrator's area")
                .query("after", s::int64(), "page: id after")
                .query("limit", s::integer(1, 1000), "page size (default 100)"),
        )
        .post(
            "/api/v1/users",
            create,
            Doc::new("user", "Create a user (administrators)")
                .body(&[
                    ("username", s::username()),
                    ("display_name", s::name()),
                    ("password", s::password()),
                    ("role", s::one_of(&roles)),
                    ("scope?", s::nullable(s::node_code())),
                    ("department_id?", s::nullable(s::int64())),
                ])
                .created(),
        )
        .get(
            "/api/v1/users/{id}",
            show,
            Doc::new("user", "A user").path("id", s::int64()),
        )
        .patch(
            "/api/v1/users/{id}",
            update,
            Doc::new("user", "Change a user: name, password, disabled, unlock")
                .path("id", s::int64())
                .body(&[
                    ("display_name?", s::name()),
                    ("password?", s::password()),
                    ("current_password?", s::text(0, 1024)),
                    ("disabled?", s::boolean()),
                    ("unlock?", s::boolean()),
                ]),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let (Role::Admin, Scope::Node(root)) = (user.actor.role, &user.actor.scope) else {
        return Err(ApiError::forbidden("only administrators list users"));
    };
    let limit = crate::http::extract::page_limit(q.limit, 100, 1000)?;
    let rows = shanzhi_store::user::list_under(&app.db, root, q.after.unwrap_or(0), limit).await?;
    let next = if rows.len() as i64 == limit {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(axum::Json(
        json!({"items": rows.iter().map(UserRow::to_json).collect::<Vec<_>>(), "next_after": next}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    username: String,
    display_name: String,
    password: String,
    role: String,
    scope: Option<String>,
    department_id: Option<i64>,
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let username = Username::parse(&b.username)?;
    let display_name = parse_name(&b.display_name)
        .map_err(|_| ApiError::invalid("display_name", "must be 1 to 100 characters"))?;
    let pw = Password::new_checked(&b.password, &[username.as_str(), &display_name])?;
    let role = Role::parse(&b.role)?;
    let (scope_code, department_id, target) = match scope_kind(role) {
        ScopeKind::Own => (None, None, Scope::Own),
        ScopeKind::Node => {
            let raw = b.scope.as_deref().ok_or_else(|| {
                ApiError::invalid("scope", "this role needs a scope: a region or grid code")
            })?;
            let code = NodeCode::parse(raw).map_err(|e| match e {
                shanzhi_domain::DomainError::Invalid { reason, .. } => {
                    ApiError::invalid("scope", reason)
                }
                other => other.into(),
            })?;
            (Some(code.clone()), None, Scope::Node(code))
        }
        ScopeKind::Department => {
            let id = b.department_id.ok_or_else(|| {
                ApiError::invalid("department_id", "a department handler needs a department")
            })?;
            let dep = match shanzhi_store::department::get(&app.db, id).await {
                Ok(d) => d,
                Err(StoreError::NotFound) => {
                    return Err(ApiError::invalid("department_id", "no such department"))
                }
                Err(e) => return Err(e.into()),
            };
            let region = NodeCode::parse(&dep.region_code)
                .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
            (None, Some(id), Scope::Department { id, region })
        }
    };
    if !can_manage_user(&user.actor, &target, user.at_root(&app).await?) {
        return Err(ApiError::forbidden(
            "you may only create users inside your own jurisdiction",
        ));
    }
    if let Some(code) = &scope_code {
        match shanzhi_store::node::get(&app.db, code).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(ApiError::invalid("scope", "no such region or grid"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| ApiError::internal(e.into()))?
        .map_err(ApiError::internal)?;
    let new = NewUser {
        username,
        display_name,
        password_hash: hash,
        role,
        scope: scope_code,
        department_id,
    };
    match shanzhi_store::user::insert(&app.db, &new, Some(user.user.id), app.clock.now_ms()).await {
        Ok(row) => Ok((StatusCode::CREATED, axum::Json(row.to_json()))),
        Err(StoreError::Conflict { .. }) => Err(ApiError::conflict(
            Some("username"),
            "this username is taken",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Loads a user the administrator may manage, or 404.
pub(crate) async fn managed_user(
    app: &AppState,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<UserRow> {
    let row = match shanzhi_store::user::get(&app.db, id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("user")),
        Err(e) => return Err(e.into()),
    };
    if row.id == user.user.id {
        return Ok(row);
    }
    let target = actor_of(app, &row).await?;
    if !can_manage_user(&user.actor, &target.scope, user.at_root(app).await?) {
        return Err(ApiError::not_found("user"));
    }
    Ok(row)
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(managed_user(&app, &user, id).await?.to_json()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    password: Option<String>,
    /// Required to change one's own password.
    current_password: Option<String>,
    #[serde(default, deserialize_with = "present")]
    disabled: Option<bool>,
    #[serde(default)]
    unlock: bool,
}

async fn update(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<UpdateBody>,
) -> ApiResult<impl IntoResponse> {
    let target = managed_user(&app, &user, id).await?;
    let own = target.id == user.user.id;
    if !own && user.actor.role != Role::Admin {
        return Err(ApiError::not_found("user"));
    }
    if own && user.actor.role != Role::Admin && (b.disabled.is_some() || b.unlock) {
        return Err(ApiError::forbidden(
            "only an administrator may disable or unlock an account",
        ));
    }
    let display_name = b
        .display_name
        .as_deref()
        .map(parse_name)
        .transpose()
        .map_err(|_| ApiError::invalid("display_name", "must be 1 to 100 characters"))?;
    let password_hash = match b.password.as_deref() {
        Some(p) => {
            if own {
                check_current_password(&app, &target, b.current_password.as_deref()).await?;
            }
            let pw = Password::new_checked(p, &[&target.username, &target.display_name])?;
            Some(
                tokio::task::spawn_blocking(move || password::hash(&pw))
                    .await
                    .map_err(|e| ApiError::internal(e.into()))?
                    .map_err(ApiError::internal)?,
            )
        }
        None => None,
    };
    let change = UserChange {
        display_name,
        password_hash,
        disabled: b.disabled,
        unlock: b.unlock,
    };
    let row =
        shanzhi_store::user::update(&app.db, id, &change, user.user.id, app.clock.now_ms()).await?;
    if b.unlock {
        shanzhi_store::throttle::clear_prefix(&app.db, &account_keys_prefix(&row.username)).await?;
    }
    Ok(axum::Json(row.to_json()))
}

/// Changing one's own password needs the current one (a session left open on a shared
/// computer must not be enough to take the account over).
async fn check_current_password(
    app: &AppState,
    me: &UserRow,
    current: Option<&str>,
) -> ApiResult<()> {
    let Some(current) = current else {
        return Err(ApiError::invalid(
            "current_password",
            "give your current password to change it",
        ));
    };
    let typed = Password::typed(current)
        .map_err(|_| ApiError::invalid("current_password", "the current password is wrong"))?;
    let username = Username::parse(&me.username)?;
    let hash = shanzhi_store::user::for_login(&app.db, &username)
        .await?
        .map(|(_, h)| h)
        .ok_or_else(|| ApiError::not_found("user"))?;
    let ok = tokio::task::spawn_blocking(move || password::verify(typed.expose(), &hash))
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "current_password",
            "the current password is wrong",
        ))
    }
}
