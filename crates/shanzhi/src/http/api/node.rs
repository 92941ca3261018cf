//! Regions and grids one at a time: read, create, change, children, subtree.

use super::doc::{schema as s, Doc, Routes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::grid::Shape;
use shanzhi_domain::tree::{outside_parent, overlapping_sibling, parse_name, Level, NodeCode};
use shanzhi_domain::user::permission::{can_edit_node, can_view_node};
use shanzhi_store::node::{Node, NodeChange};
use shanzhi_store::StoreError;

use super::tree::import_features;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{present, CurrentUser, Json, Query};
use crate::http::state::AppState;

/// `/api/v1/nodes…`
pub fn routes() -> Routes {
    let levels: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
    let list = |summary| {
        Doc::new("tree", summary)
            .path("code", s::node_code())
            .query("geometry", s::boolean(), "include GeoJSON")
            .query("after", s::string(), "page: path after")
            .query("limit", s::integer(1, 5000), "page size (default 500)")
    };
    Routes::new()
        .get(
            "/api/v1/nodes",
            roots,
            Doc::new("tree", "The root of the user's scope"),
        )
        .post(
            "/api/v1/nodes",
            create,
            Doc::new("tree", "Create a region or grid (administrators)")
                .body(&[
                    ("code", s::node_code()),
                    ("name", s::name()),
                    ("level?", s::nullable(s::one_of(&levels))),
                    ("parent?", s::nullable(s::node_code())),
                    ("geometry?", s::nullable(s::geometry())),
                ])
                .created(),
        )
        .get(
            "/api/v1/nodes/search",
            search,
            Doc::new("tree", "Regions and grids in the user's scope whose name contains the text, shallowest first")
                .query_required("q", s::note(50, true), "part of a name")
                .query("limit", s::integer(1, 50), "how many (default 20)"),
        )
        .get(
            "/api/v1/nodes/{code}",
            show,
            Doc::new("tree", "A region or grid with its shape and ancestors")
                .path("code", s::node_code()),
        )
        .patch(
            "/api/v1/nodes/{code}",
            update,
            Doc::new("tree", "Rename or reshape a node (administrators)")
                .path("code", s::node_code())
                .body_schema(json!({
                    "type": "object", "additionalProperties": false,
                    "properties": {"name": s::name(), "geometry": s::geometry(), "version": s::nullable(s::int64())},
                    "anyOf": [{"required": ["name"]}, {"required": ["geometry"]}],
                })),
        )
        .get(
            "/api/v1/nodes/{code}/children",
            children,
            list("Direct children"),
        )
        .get(
            "/api/v1/nodes/{code}/subtree",
            subtree,
            list("The whole subtree in path order, paged"),
        )
}

/// Parses a code from the path; a malformed code cannot name anything, so it is a 404 as well.
fn path_code(raw: &str) -> ApiResult<NodeCode> {
    NodeCode::parse(raw).map_err(|_| ApiError::not_found("node"))
}

/// Loads a node the user may see, or answers 404 whether it is missing or out of scope.
pub async fn visible_node(app: &AppState, user: &CurrentUser, code: &NodeCode) -> ApiResult<Node> {
    if !can_view_node(&user.actor, code) {
        return Err(ApiError::not_found("node"));
    }
    found(shanzhi_store::node::get(&app.db, code).await)
}

/// [`visible_node`] without its outline (`shape` is `None`), for answers that name the node
/// only.
pub async fn visible_node_head(
    app: &AppState,
    user: &CurrentUser,
    code: &NodeCode,
) -> ApiResult<Node> {
    if !can_view_node(&user.actor, code) {
        return Err(ApiError::not_found("node"));
    }
    found(shanzhi_store::node::head(&app.db, code).await)
}

fn found(read: Result<Node, StoreError>) -> ApiResult<Node> {
    match read {
        Ok(n) => Ok(n),
        Err(StoreError::NotFound) => Err(ApiError::not_found("node")),
        Err(e) => Err(e.into()),
    }
}

async fn roots(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    let Some(root) = user.actor.scope.node() else {
        return Err(ApiError::forbidden(
            "citizens have no staff tree; use /api/v1/locate",
        ));
    };
    let node = visible_node(&app, &user, root).await?;
    Ok(axum::Json(json!({"items": [node.to_json(false)]})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    q: String,
    limit: Option<i64>,
}

/// Places by name in the user's subtree (the hotline form and the area pickers).
async fn search(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SearchQuery>,
) -> ApiResult<impl IntoResponse> {
    let Some(root) = user.actor.scope.node() else {
        return Err(ApiError::forbidden("no area to search"));
    };
    let text = q.q.trim();
    if text.is_empty() || text.chars().count() > 50 {
        return Err(ApiError::invalid("q", "must be 1 to 50 characters"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(ApiError::invalid(
            "q",
            "must not contain control characters",
        ));
    }
    let limit = q.limit.unwrap_or(20);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 50"));
    }
    let nodes = shanzhi_store::node::search(&app.db, root, text, limit).await?;
    // Each hit with the names above it (below the user's root), so two 网格1 tell apart.
    let mut above: Vec<String> = Vec::new();
    for n in &nodes {
        for p in n.code.ancestor_paths() {
            if p.len() > root.path().len() && p.len() < n.code.path().len() {
                above.push(p.clone());
            }
        }
    }
    above.sort();
    above.dedup();
    let ancestors = shanzhi_store::node::by_paths(&app.db, &above).await?;
    let items: Vec<Value> = nodes
        .iter()
        .map(|n| {
            let chain: Vec<&str> = ancestors
                .iter()
                .filter(|a| a.code.contains(&n.code) && a.code != n.code)
                .map(|a| a.name.as_str())
                .collect();
            let mut v = n.to_json(false);
            v["ancestors"] = json!(chain);
            v
        })
        .collect();
    Ok(axum::Json(json!({ "items": items })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    code: String,
    name: String,
    level: Option<String>,
    parent: Option<String>,
    geometry: Option<Value>,
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(body): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let feature = json!({
        "type": "Feature",
        "properties": {"code": body.code, "name": body.name, "level": body.level, "parent": body.parent},
        "geometry": body.geometry,
    });
    let collection = json!({"type": "FeatureCollection", "features": [feature]});
    match import_features(
        &app,
        Some(&user),
        &collection,
        &app.config.import_options(),
        false,
    )
    .await
    {
        Ok(_) => {
            let code = NodeCode::parse(&body.code)?;
            let node = shanzhi_store::node::get(&app.db, &code).await?;
            Ok((StatusCode::CREATED, axum::Json(node.to_json(true))))
        }
        Err(e) => Err(e),
    }
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let code = path_code(&code)?;
    let node = visible_node(&app, &user, &code).await?;
    let chain = shanzhi_store::node::by_paths(&app.db, &code.ancestor_paths()).await?;
    let mut v = node.to_json(true);
    v["ancestors"] = Value::Array(
        chain
            .iter()
            .filter(|n| n.code != node.code)
            .map(|n| json!({"code": n.code, "name": n.name, "level": n.level}))
            .collect(),
    );
    v["editable"] = json!(can_edit_node(&user.actor, &code));
    Ok(axum::Json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    geometry: Option<Value>,
    /// The version the client read; a stale one gets 409 instead of overwriting.
    version: Option<i64>,
}

async fn update(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Json(body): Json<UpdateBody>,
) -> ApiResult<impl IntoResponse> {
    let code = path_code(&code)?;
    let node = visible_node(&app, &user, &code).await?;
    if !can_edit_node(&user.actor, &code) {
        return Err(ApiError::forbidden(
            "only an administrator of this area may change it",
        ));
    }
    let name = body.name.as_deref().map(parse_name).transpose()?;
    let shape = body
        .geometry
        .as_ref()
        .map(Shape::from_geojson)
        .transpose()?;
    if name.is_none() && shape.is_none() {
        return Err(ApiError::invalid(
            "name",
            "nothing to change: give a name or a geometry",
        ));
    }
    if let Some(s) = &shape {
        check_new_shape(&app, &node, s).await?;
    }
    let change = NodeChange { name, shape };
    let after = shanzhi_store::node::update(
        &app.db,
        &code,
        &change,
        body.version,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    if change.shape.is_some() {
        app.locator
            .refresh(&app.db)
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(axum::Json(after.to_json(true)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default)]
    geometry: bool,
    after: Option<String>,
    limit: Option<i64>,
}

async fn children(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let code = path_code(&code)?;
    visible_node(&app, &user, &code).await?;
    let items = shanzhi_store::node::children(&app.db, &code, q.geometry).await?;
    Ok(axum::Json(
        json!({"items": items.iter().map(|n| n.to_json(q.geometry)).collect::<Vec<_>>()}),
    ))
}

async fn subtree(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let code = path_code(&code)?;
    visible_node(&app, &user, &code).await?;
    let limit = q.limit.unwrap_or(500);
    if !(1..=5000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 5000"));
    }
    let items =
        shanzhi_store::node::subtree(&app.db, &code, q.after.as_deref(), limit, q.geometry).await?;
    let next = if items.len() as i64 == limit {
        items.last().map(|n| n.code.path().to_owned())
    } else {
        None
    };
    Ok(axum::Json(json!({
        "items": items.iter().map(|n| n.to_json(q.geometry)).collect::<Vec<_>>(),
        "next_after": next,
    })))
}

/// A node's new shape must keep apart from its siblings, lie inside its nearest ancestor with a
/// shape and still hold its children, within the configured tolerances (as on import).
async fn check_new_shape(app: &AppState, node: &Node, shape: &Shape) -> ApiResult<()> {
    let at = |(x, y): (f64, f64)| format!("e.g. at ({x}, {y})");
    let siblings = match &node.parent {
        Some(p) => shanzhi_store::node::with_children(&app.db, p.as_str()).await?,
        None => shanzhi_store::node::roots(&app.db).await?,
    };
    let others: Vec<(&str, &Shape)> = siblings
        .iter()
        .filter(|n| n.code != node.code && n.parent == node.parent)
        .filter_map(|n| n.shape.as_ref().map(|sh| (n.code.as_str(), sh)))
        .collect();
    if let Some((other, share, place)) =
        overlapping_sibling(shape, others, app.config.overlap_tolerance)
    {
        return Err(ApiError::invalid(
            "geometry",
            format!(
                "overlaps its sibling {other} by {:.1}% of the smaller one (tolerance {:.1}%), {}",
                share * 100.0,
                app.config.overlap_tolerance * 100.0,
                at(place)
            ),
        ));
    }
    let tol = app.config.outside_tolerance;
    let chain = shanzhi_store::node::by_paths(&app.db, &node.code.ancestor_paths()).await?;
    let codes: Vec<&str> = chain
        .iter()
        .filter(|n| n.code != node.code)
        .map(|n| n.code.as_str())
        .collect();
    let mut ancestors = shanzhi_store::node::by_codes(&app.db, &codes).await?;
    ancestors.sort_by_key(|n| std::cmp::Reverse(n.code.path().len()));
    if let Some((a, a_shape)) = ancestors
        .iter()
        .find_map(|a| a.shape.as_ref().map(|s| (a, s)))
    {
        if let Some((share, place)) = outside_parent(shape, a_shape, tol) {
            return Err(ApiError::invalid(
                "geometry",
                format!(
                    "lies {:.1}% outside its parent {} {} (tolerance {:.1}%), {}",
                    share * 100.0,
                    a.code,
                    a.name,
                    tol * 100.0,
                    at(place)
                ),
            ));
        }
    }
    for child in shanzhi_store::node::with_children(&app.db, node.code.as_str()).await? {
        let Some(cs) = child.shape.as_ref().filter(|_| child.code != node.code) else {
            continue;
        };
        if let Some((share, place)) = outside_parent(cs, shape, tol) {
            return Err(ApiError::invalid(
                "geometry",
                format!(
                    "would leave its child {} {} {:.1}% outside (tolerance {:.1}%), {}",
                    child.code,
                    child.name,
                    share * 100.0,
                    tol * 100.0,
                    at(place)
                ),
            ));
        }
    }
    Ok(())
}
