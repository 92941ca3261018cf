//! Organisations (enterprises, social organisations, the grid's party branch) with their
//! members, and the officials assigned to a grid: `/api/v1/organisations…`. Scoped by
//! [`base_access`](shanzhi_domain::resident::base_access) at the organisation's node.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::house::parse_address;
use shanzhi_domain::organisation::{
    check_member, parse_duty, parse_organisation_name, Member, MemberRole, OrganisationKind,
};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::Role;
use shanzhi_store::organisation::{Official, Organisation, OrganisationInput};
use shanzhi_store::StoreError;

use super::base::{
    found, limit, list_params, list_root, page, readable, resident_known, target_node, writable,
};
use super::doc::{schema as s, Doc, Routes};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json, Query};
use crate::http::state::AppState;

const MAX_LIST: i64 = 1000;

/// `/api/v1/organisations…`.
pub fn routes() -> Routes {
    let kinds = ["enterprise", "social_organisation", "party_branch"];
    let body = |required: bool| {
        vec![
            // In a change, null keeps the value, as an absent field does.
            if required {
                ("node_code", s::node_code())
            } else {
                ("node_code?", s::nullable(s::node_code()))
            },
            if required {
                ("kind", s::one_of(&kinds))
            } else {
                ("kind?", s::nullable(s::one_of(&kinds)))
            },
            if required {
                ("name", s::name())
            } else {
                ("name?", s::nullable(s::name()))
            },
            ("address?", s::nullable(s::note(200, false))),
        ]
    };
    Routes::new()
        .get(
            "/api/v1/organisations",
            list,
            list_params(
                Doc::new("organisation", "Organisations of an area"),
                MAX_LIST,
            )
            .query("kind", s::one_of(&kinds), "one kind of organisation"),
        )
        .post(
            "/api/v1/organisations",
            create,
            Doc::new(
                "organisation",
                "Register an organisation (one party branch per node)",
            )
            .body(&body(true))
            .created(),
        )
        .get(
            "/api/v1/organisations/{id}",
            show,
            Doc::new("organisation", "An organisation with its members").path("id", s::int64()),
        )
        .patch(
            "/api/v1/organisations/{id}",
            update,
            Doc::new("organisation", "Change an organisation")
                .path("id", s::int64())
                .body(&body(false)),
        )
        .post(
            "/api/v1/organisations/{id}/members",
            add_member,
            Doc::new(
                "organisation",
                "Add a member (a resident or a name; party roles in a branch)",
            )
            .path("id", s::int64())
            .body(&[
                ("role", s::one_of(&["secretary", "deputy", "member"])),
                ("resident_id?", s::nullable(s::int64())),
                ("name?", s::nullable(s::note(100, false))),
            ])
            .created(),
        )
        .delete(
            "/api/v1/organisations/{id}/members/{member_id}",
            remove_member,
            Doc::new("organisation", "Remove a member")
                .path("id", s::int64())
                .path("member_id", s::int64()),
        )
        .get(
            "/api/v1/organisations/grid/{code}",
            grid,
            Doc::new(
                "organisation",
                "A grid's party branch with its members and the officials assigned to it",
            )
            .path("code", s::node_code()),
        )
        .put(
            "/api/v1/organisations/grid/{code}/officials/{user_id}",
            set_official,
            Doc::new(
                "organisation",
                "Assign an official to a grid with a duty (包联干部 …)",
            )
            .path("code", s::node_code())
            .path("user_id", s::int64())
            .body(&[("duty", s::name())]),
        )
        .delete(
            "/api/v1/organisations/grid/{code}/officials/{user_id}",
            remove_official,
            Doc::new("organisation", "Remove an official from a grid")
                .path("code", s::node_code())
                .path("user_id", s::int64()),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    kind: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let root = list_root(&user, q.node.as_deref())?;
    let limit = limit(q.limit, 200, MAX_LIST)?;
    let kind = q.kind.as_deref().map(OrganisationKind::parse).transpose()?;
    let rows = shanzhi_store::organisation::list(
        &app.db,
        root.path(),
        kind.map(OrganisationKind::as_str),
        q.after.unwrap_or(0),
        limit,
    )
    .await?;
    let last = rows.last().map(|o| o.id);
    Ok(axum::Json(page(
        rows.iter().map(Organisation::to_json).collect(),
        last,
        limit,
    )))
}

/// An organisation's fields as sent; on a change, a field left out (or null) keeps its value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    node_code: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    address: Option<String>,
}

async fn input(
    app: &AppState,
    user: &CurrentUser,
    b: Body,
    before: Option<&Organisation>,
) -> ApiResult<OrganisationInput> {
    let node_code = match (&b.node_code, before) {
        (Some(raw), _) => target_node(app, user, raw, "node_code").await?,
        (None, Some(old)) => target_node(app, user, &old.node_code, "node_code").await?,
        (None, None) => return Err(ApiError::invalid("node_code", "is missing")),
    };
    let kind = match (&b.kind, before) {
        (Some(k), _) => OrganisationKind::parse(k)?,
        (None, Some(old)) => OrganisationKind::parse(&old.kind)?,
        (None, None) => return Err(ApiError::invalid("kind", "is missing")),
    };
    Ok(OrganisationInput {
        node_code,
        kind: kind.as_str().to_owned(),
        name: match (&b.name, before) {
            (Some(n), _) => parse_organisation_name(n)?,
            (None, Some(old)) => old.name.clone(),
            (None, None) => return Err(ApiError::invalid("name", "is missing")),
        },
        address: match (&b.address, before) {
            (Some(a), _) => parse_address(a)?,
            (None, old) => old.and_then(|o| o.address.clone()),
        },
    })
}

fn conflict(e: StoreError) -> ApiError {
    match e {
        // PostgreSQL names the index; SQLite names its column.
        StoreError::Conflict { constraint }
            if constraint.contains("branch") || constraint == "organisation.node_code" =>
        {
            ApiError::conflict(Some("kind"), "this node already has a party branch")
        }
        StoreError::Conflict { constraint }
            if constraint.contains("secretary")
                || constraint == "organisation_member.organisation_id" =>
        {
            ApiError::conflict(Some("role"), "the branch already has a secretary")
        }
        other => other.into(),
    }
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<Body>,
) -> ApiResult<impl IntoResponse> {
    let o = input(&app, &user, b, None).await?;
    let row = shanzhi_store::organisation::insert(&app.db, &o, user.user.id, app.clock.now_ms())
        .await
        .map_err(conflict)?;
    Ok((StatusCode::CREATED, axum::Json(row.to_json())))
}

async fn find(app: &AppState, id: i64) -> ApiResult<Organisation> {
    found(
        shanzhi_store::organisation::get(&app.db, id).await,
        "organisation",
    )
}

async fn with_members(app: &AppState, o: &Organisation) -> ApiResult<serde_json::Value> {
    let members = shanzhi_store::organisation::members(&app.db, o.id).await?;
    let mut out = o.to_json();
    out["members"] = json!(members.iter().map(|m| m.to_json()).collect::<Vec<_>>());
    Ok(out)
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let o = find(&app, id).await?;
    readable(&user, &o.node_code, "organisation")?;
    Ok(axum::Json(with_members(&app, &o).await?))
}

async fn update(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<Body>,
) -> ApiResult<impl IntoResponse> {
    let before = find(&app, id).await?;
    writable(&user, &before.node_code, "organisation")?;
    let o = input(&app, &user, b, Some(&before)).await?;
    if o.kind != before.kind && before.kind == OrganisationKind::PartyBranch.as_str() {
        let members = shanzhi_store::organisation::members(&app.db, id).await?;
        if members
            .iter()
            .any(|m| m.role != MemberRole::Member.as_str())
        {
            return Err(ApiError::conflict(
                Some("kind"),
                "remove the secretary and deputies before the branch becomes another kind",
            ));
        }
    }
    let row =
        shanzhi_store::organisation::update(&app.db, &before, &o, user.user.id, app.clock.now_ms())
            .await
            .map_err(conflict)?;
    Ok(axum::Json(row.to_json()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberBody {
    role: String,
    resident_id: Option<i64>,
    name: Option<String>,
}

async fn add_member(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<MemberBody>,
) -> ApiResult<impl IntoResponse> {
    let o = find(&app, id).await?;
    writable(&user, &o.node_code, "organisation")?;
    let role = MemberRole::parse(&b.role)?;
    let member = Member::parse(b.resident_id, b.name.as_deref())?;
    if let Member::Resident(rid) = member {
        if !resident_known(&app, &user, rid).await? {
            return Err(ApiError::not_found("resident").with_field("resident_id"));
        }
    }
    let present: Vec<MemberRole> = shanzhi_store::organisation::members(&app.db, id)
        .await?
        .iter()
        .filter_map(|m| MemberRole::parse(&m.role).ok())
        .collect();
    check_member(OrganisationKind::parse(&o.kind)?, role, &present).map_err(|e| match e {
        shanzhi_domain::DomainError::Refused { why } => ApiError::conflict(Some("role"), why),
        other => other.into(),
    })?;
    let (resident_id, name) = match member {
        Member::Resident(r) => (Some(r), None),
        Member::Named(n) => (None, Some(n)),
    };
    let m = shanzhi_store::organisation::add_member(
        &app.db,
        id,
        resident_id,
        name.as_deref(),
        role.as_str(),
        user.user.id,
        app.clock.now_ms(),
    )
    .await
    .map_err(conflict)?;
    Ok((StatusCode::CREATED, axum::Json(m.to_json())))
}

async fn remove_member(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, member_id)): Path<(i64, i64)>,
) -> ApiResult<impl IntoResponse> {
    let o = find(&app, id).await?;
    writable(&user, &o.node_code, "organisation")?;
    match shanzhi_store::organisation::remove_member(
        &app.db,
        id,
        member_id,
        user.user.id,
        app.clock.now_ms(),
    )
    .await
    {
        Err(StoreError::NotFound) => Err(ApiError::not_found("member")),
        other => {
            other?;
            Ok(axum::Json(json!({"removed": member_id})))
        }
    }
}

fn grid_code(raw: &str) -> ApiResult<NodeCode> {
    NodeCode::parse(raw).map_err(|_| ApiError::not_found("node"))
}

async fn grid(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let code = grid_code(&code)?;
    readable(&user, code.as_str(), "node")?;
    let branch = match shanzhi_store::organisation::branch_of(&app.db, code.as_str()).await? {
        Some(o) => with_members(&app, &o).await?,
        None => serde_json::Value::Null,
    };
    let officials = shanzhi_store::organisation::officials(&app.db, code.as_str()).await?;
    Ok(axum::Json(
        json!({"node_code": code.as_str(), "party_branch": branch,
        "officials": officials.iter().map(Official::to_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DutyBody {
    duty: String,
}

async fn set_official(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((code, user_id)): Path<(String, i64)>,
    Json(b): Json<DutyBody>,
) -> ApiResult<impl IntoResponse> {
    let code = grid_code(&code)?;
    writable(&user, code.as_str(), "node")?;
    if let Err(StoreError::NotFound) = shanzhi_store::node::get(&app.db, &code).await {
        return Err(ApiError::not_found("node"));
    }
    let duty = parse_duty(&b.duty)?;
    let official = match shanzhi_store::user::get(&app.db, user_id).await {
        Err(StoreError::NotFound) => return Err(ApiError::not_found("user").with_field("user_id")),
        other => other?,
    };
    if official.role == Role::Citizen.as_str() {
        return Err(ApiError::invalid(
            "user_id",
            "an official is a staff user, not a citizen",
        ));
    }
    shanzhi_store::organisation::set_official(
        &app.db,
        code.as_str(),
        user_id,
        &duty,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    Ok(axum::Json(
        json!({"node_code": code.as_str(), "user_id": user_id, "display_name": official.display_name, "duty": duty}),
    ))
}

async fn remove_official(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((code, user_id)): Path<(String, i64)>,
) -> ApiResult<impl IntoResponse> {
    let code = grid_code(&code)?;
    writable(&user, code.as_str(), "node")?;
    match shanzhi_store::organisation::remove_official(
        &app.db,
        code.as_str(),
        user_id,
        user.user.id,
        app.clock.now_ms(),
    )
    .await
    {
        Err(StoreError::NotFound) => Err(ApiError::not_found("official")),
        other => {
            other?;
            Ok(axum::Json(json!({"removed": user_id})))
        }
    }
}
