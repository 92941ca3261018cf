//! The mediator pool (调解员库) and expert panels (专家库) over HTTP: staff of the centres read
//! the pool in their area; dispatchers at or above a mediator's node and administrators manage it.

use super::doc::{schema as s, Doc, Routes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::dispute::{centre_level, manages_pool, parse_type_code, MEDIATOR_KINDS};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::{Actor, Role, Scope};
use shanzhi_store::mediator::{Filter, MediatorInput, MediatorRow};
use shanzhi_store::StoreError;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{page_limit, CurrentUser, Json, Query};
use crate::http::state::AppState;

fn type_code_schema() -> Value {
    s::pattern(r"^[a-z][a-z0-9_]{1,31}$")
}

fn mediator_body(required: bool) -> Vec<(&'static str, Value)> {
    let o = |k: &'static str, opt: &'static str| if required { k } else { opt };
    vec![
        (o("name", "name?"), s::name()),
        (o("kind", "kind?"), s::one_of(&MEDIATOR_KINDS)),
        (
            o("specialties", "specialties?"),
            s::array_max(type_code_schema(), 20),
        ),
        ("organisation?", s::nullable(s::note(100, false))),
        (o("node", "node?"), s::region_code()),
        ("dialects?", s::array_max(s::label(20), 10)),
        ("rating?", s::nullable(s::number(0.0, 5.0))),
        ("user_id?", s::nullable(s::int64())),
        ("active?", s::nullable(s::boolean())),
    ]
}

/// `/api/v1/mediators…`, `/api/v1/panels…`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/mediators",
            list,
            Doc::new("mediator", "The mediator pool in the user's area (and at the levels above it), with load, rating and success rate")
                .query("specialty", type_code_schema(), "dispute type code")
                .query("level", s::one_of(&["village", "town", "county"]), "level served")
                .query("node", s::region_code(), "serving under this node (default: the user's scope)")
                .query("q", s::note(50, false), "name prefix")
                .query("after", s::int64(), "page: mediators after this id")
                .query("limit", s::integer(1, 500), "page size (default 100)"),
        )
        .post(
            "/api/v1/mediators",
            create,
            Doc::new("mediator", "Add a mediator to the pool (dispatchers at or above the node, administrators)")
                .body(&mediator_body(true))
                .created(),
        )
        .get(
            "/api/v1/mediators/{id}",
            show,
            Doc::new("mediator", "One mediator").path("id", s::int64()),
        )
        .patch(
            "/api/v1/mediators/{id}",
            change,
            Doc::new("mediator", "Change a mediator (dispatchers at or above the node, administrators)")
                .path("id", s::int64())
                .body(&mediator_body(false)),
        )
        .get(
            "/api/v1/panels",
            panels,
            Doc::new("mediator", "Expert panels in the user's area and above")
                .query("limit", s::integer(1, 500), "at most (default 200)"),
        )
        .post(
            "/api/v1/panels",
            create_panel,
            Doc::new("mediator", "Form an expert panel (专家组) of mediators of the pool")
                .body(&[
                    ("name", s::name()),
                    ("node", s::region_code()),
                    ("specialties", s::array_max(type_code_schema(), 20)),
                    ("member_ids", json!({"type": "array", "items": s::int64(), "minItems": 1, "maxItems": 50})),
                ])
                .created(),
        )
        .get(
            "/api/v1/panels/{id}",
            show_panel,
            Doc::new("mediator", "One expert panel with its members").path("id", s::int64()),
        )
}

/// Staff who read the pool: the centres, leaders, analysts and mediators.
fn reads_pool(actor: &Actor) -> bool {
    matches!(actor.scope, Scope::Node(_))
        && matches!(
            actor.role,
            Role::Admin | Role::Dispatcher | Role::Leader | Role::Analyst | Role::Mediator
        )
}

/// Whether the actor may see a record serving at `node`: in their subtree or at an ancestor
/// of their scope (a town sees the county's mediators too).
fn in_reach(actor: &Actor, node: &NodeCode) -> bool {
    actor.reaches(node) || actor.scope.node().is_some_and(|root| node.contains(root))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    specialty: Option<String>,
    level: Option<String>,
    node: Option<String>,
    q: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    if !reads_pool(&user.actor) {
        return Err(ApiError::forbidden("the mediator pool is for the centres"));
    }
    let limit = page_limit(q.limit, 100, 500)?;
    let node = super::dispute::scope_node(&app, &user, q.node.as_deref()).await?;
    if let Some(sp) = &q.specialty {
        parse_type_code(sp).map_err(|e| ApiError::from(e).with_field("specialty"))?;
    }
    if let Some(l) = &q.level {
        if !matches!(l.as_str(), "village" | "town" | "county") {
            return Err(ApiError::invalid(
                "level",
                "must be village, town or county",
            ));
        }
    }
    let qtext = match q.q.as_deref() {
        Some(raw) => shanzhi_domain::text::note("q", raw, 50)?,
        None => None,
    };
    let rows = shanzhi_store::mediator::list(
        &app.db,
        &Filter {
            under: Some(node.path().to_owned()),
            at_nodes: node
                .ancestor_codes()
                .into_iter()
                .filter(|c| c != node.as_str())
                .collect(),
            specialty: q.specialty,
            level: q.level,
            q: qtext,
            active_only: false,
            after: q.after,
            limit,
        },
    )
    .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let items: Vec<Value> = rows.iter().map(MediatorRow::to_json).collect();
    Ok(axum::Json(json!({"items": items, "next_cursor": next})))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MediatorBody {
    name: Option<String>,
    kind: Option<String>,
    specialties: Option<Vec<String>>,
    organisation: Option<String>,
    node: Option<String>,
    dialects: Option<Vec<String>>,
    rating: Option<f64>,
    user_id: Option<i64>,
    active: Option<bool>,
}

/// Checks a mediator's values (the old ones fill what a PATCH leaves out).
async fn input_of(
    app: &AppState,
    actor: &Actor,
    b: MediatorBody,
    old: Option<&MediatorRow>,
) -> ApiResult<MediatorInput> {
    let name_raw = b
        .name
        .or(old.map(|o| o.name.clone()))
        .ok_or_else(|| ApiError::invalid("name", "is required"))?;
    let name = shanzhi_domain::tree::parse_name(&name_raw)
        .map_err(|_| ApiError::invalid("name", "1 to 100 characters"))?;
    let kind = b
        .kind
        .or(old.map(|o| o.kind.clone()))
        .ok_or_else(|| ApiError::invalid("kind", "is required"))?;
    if !MEDIATOR_KINDS.contains(&kind.as_str()) {
        return Err(ApiError::invalid(
            "kind",
            format!("must be one of: {}", MEDIATOR_KINDS.join(" ")),
        ));
    }
    let specialties = match b.specialties {
        Some(s) => s,
        None => old
            .map(MediatorRow::specialties)
            .ok_or_else(|| ApiError::invalid("specialties", "is required"))?,
    };
    if specialties.len() > 20 {
        return Err(ApiError::invalid("specialties", "at most 20"));
    }
    let known = shanzhi_store::dispute::types(&app.db).await?;
    for sp in &specialties {
        if !known.iter().any(|t| &t.code == sp) {
            return Err(ApiError::not_found("dispute type").with_field("specialties"));
        }
    }
    let node_raw = b
        .node
        .or(old.map(|o| o.node_code.clone()))
        .ok_or_else(|| ApiError::invalid("node", "is required"))?;
    let node =
        NodeCode::parse(&node_raw).map_err(|_| ApiError::invalid("node", "not a region code"))?;
    let level = centre_level(&node)
        .ok_or_else(|| ApiError::invalid("node", "mediators serve a village, town or county"))?;
    match shanzhi_store::node::get(&app.db, &node).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(ApiError::not_found("node").with_field("node")),
        Err(e) => return Err(e.into()),
    }
    if !manages_pool(actor, &node) {
        return Err(ApiError::forbidden(
            "only dispatchers at or above the node, and administrators, manage the pool",
        ));
    }
    let organisation = match b.organisation {
        Some(o) => shanzhi_domain::text::note("organisation", &o, 100)?,
        None => old.and_then(|o| o.organisation.clone()),
    };
    let dialects = match b.dialects {
        Some(d) => d,
        None => old
            .map(|o| serde_json::from_str(&o.dialects).unwrap_or_default())
            .unwrap_or_default(),
    };
    if dialects.len() > 10
        || dialects.iter().any(|d| {
            d.trim().is_empty() || d.chars().count() > 20 || d.chars().any(char::is_control)
        })
    {
        return Err(ApiError::invalid(
            "dialects",
            "at most 10, each 1 to 20 characters",
        ));
    }
    let rating = b.rating.or(old.map(|o| o.rating)).unwrap_or(0.0);
    if !(0.0..=5.0).contains(&rating) {
        return Err(ApiError::invalid("rating", "must be between 0 and 5"));
    }
    let user_id = b.user_id.or(old.and_then(|o| o.user_id));
    if let Some(u) = user_id {
        let person = shanzhi_store::user::people(&app.db, &[u]).await?;
        match person.first() {
            Some(p) if p.role == "mediator" => {}
            Some(_) => {
                return Err(ApiError::invalid(
                    "user_id",
                    "the account must have the mediator role",
                ))
            }
            None => return Err(ApiError::not_found("user").with_field("user_id")),
        }
    }
    Ok(MediatorInput {
        name,
        kind,
        specialties,
        organisation,
        level: level.as_str().to_owned(),
        node_code: node.as_str().to_owned(),
        dialects: dialects.iter().map(|d| d.trim().to_owned()).collect(),
        rating,
        user_id,
        active: b.active.or(old.map(|o| o.active)).unwrap_or(true),
    })
}

fn taken(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict { .. } => {
            ApiError::conflict(Some("user_id"), "this account is another mediator's")
        }
        e => e.into(),
    }
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<MediatorBody>,
) -> ApiResult<impl IntoResponse> {
    let m = input_of(&app, &user.actor, b, None).await?;
    let id = shanzhi_store::mediator::insert(&app.db, &m, user.user.id, app.clock.now_ms())
        .await
        .map_err(taken)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(shanzhi_store::mediator::get(&app.db, id).await?.to_json()),
    ))
}

async fn visible_mediator(app: &AppState, actor: &Actor, id: i64) -> ApiResult<MediatorRow> {
    let m = match shanzhi_store::mediator::get(&app.db, id).await {
        Ok(m) => m,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("mediator")),
        Err(e) => return Err(e.into()),
    };
    let node = NodeCode::parse(&m.node_code)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("mediator {id}: {e}")))?;
    if !reads_pool(actor) || !in_reach(actor, &node) {
        return Err(ApiError::not_found("mediator"));
    }
    Ok(m)
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(
        visible_mediator(&app, &user.actor, id).await?.to_json(),
    ))
}

async fn change(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<MediatorBody>,
) -> ApiResult<impl IntoResponse> {
    let old = visible_mediator(&app, &user.actor, id).await?;
    let old_node = NodeCode::parse(&old.node_code)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("mediator {id}: {e}")))?;
    if !manages_pool(&user.actor, &old_node) {
        return Err(ApiError::forbidden(
            "only dispatchers at or above the node, and administrators, manage the pool",
        ));
    }
    let m = input_of(&app, &user.actor, b, Some(&old)).await?;
    shanzhi_store::mediator::update(
        &app.db,
        id,
        old.version,
        &m,
        user.user.id,
        app.clock.now_ms(),
    )
    .await
    .map_err(taken)?;
    Ok(axum::Json(
        shanzhi_store::mediator::get(&app.db, id).await?.to_json(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PanelsQuery {
    limit: Option<i64>,
}

async fn panels(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<PanelsQuery>,
) -> ApiResult<impl IntoResponse> {
    if !reads_pool(&user.actor) {
        return Err(ApiError::forbidden("the panels are for the centres"));
    }
    let limit = page_limit(q.limit, 200, 500)?;
    let root = user
        .actor
        .scope
        .node()
        .cloned()
        .ok_or_else(|| ApiError::forbidden("no scope"))?;
    let rows =
        shanzhi_store::mediator::panels(&app.db, Some(root.path()), &root.ancestor_codes(), limit)
            .await?;
    let mut items = Vec::with_capacity(rows.len());
    for p in &rows {
        let members = shanzhi_store::mediator::panel_members(&app.db, p.id).await?;
        items.push(p.to_json(&members));
    }
    Ok(axum::Json(json!({"items": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PanelBody {
    name: String,
    node: String,
    specialties: Vec<String>,
    member_ids: Vec<i64>,
}

async fn create_panel(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<PanelBody>,
) -> ApiResult<impl IntoResponse> {
    let name = shanzhi_domain::tree::parse_name(&b.name)
        .map_err(|_| ApiError::invalid("name", "1 to 100 characters"))?;
    let node =
        NodeCode::parse(&b.node).map_err(|_| ApiError::invalid("node", "not a region code"))?;
    if centre_level(&node).is_none() {
        return Err(ApiError::invalid(
            "node",
            "panels serve a village, town or county",
        ));
    }
    match shanzhi_store::node::get(&app.db, &node).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(ApiError::not_found("node").with_field("node")),
        Err(e) => return Err(e.into()),
    }
    if !manages_pool(&user.actor, &node) {
        return Err(ApiError::forbidden(
            "only dispatchers at or above the node, and administrators, form panels",
        ));
    }
    if b.specialties.len() > 20 {
        return Err(ApiError::invalid("specialties", "at most 20"));
    }
    let known = shanzhi_store::dispute::types(&app.db).await?;
    if b.specialties
        .iter()
        .any(|sp| !known.iter().any(|t| &t.code == sp))
    {
        return Err(ApiError::not_found("dispute type").with_field("specialties"));
    }
    if b.member_ids.is_empty() || b.member_ids.len() > 50 {
        return Err(ApiError::invalid("member_ids", "1 to 50 mediators"));
    }
    let mut members = b.member_ids.clone();
    members.sort_unstable();
    members.dedup();
    for m in &members {
        match shanzhi_store::mediator::get(&app.db, *m).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(ApiError::not_found("mediator").with_field("member_ids"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    let id = shanzhi_store::mediator::insert_panel(
        &app.db,
        &name,
        node.as_str(),
        &b.specialties,
        &members,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    let p = shanzhi_store::mediator::panel(&app.db, id).await?;
    let members = shanzhi_store::mediator::panel_members(&app.db, id).await?;
    Ok((StatusCode::CREATED, axum::Json(p.to_json(&members))))
}

async fn show_panel(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let p = match shanzhi_store::mediator::panel(&app.db, id).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("panel")),
        Err(e) => return Err(e.into()),
    };
    let node = NodeCode::parse(&p.node_code)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("panel {id}: {e}")))?;
    if !reads_pool(&user.actor) || !in_reach(&user.actor, &node) {
        return Err(ApiError::not_found("panel"));
    }
    let members = shanzhi_store::mediator::panel_members(&app.db, id).await?;
    Ok(axum::Json(p.to_json(&members)))
}
