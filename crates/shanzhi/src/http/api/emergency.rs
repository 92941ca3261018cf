//! Emergency mode (平急转换): `/api/v1/emergency/rosters…`. A roster lists the vulnerable
//! residents of chosen grids or of an area drawn on the map, with their household, address,
//! tags and grid workers; workers mark each entry. Building and opening a roster show
//! addresses, so both need `reveal` at every grid it covers and both are audited; the list
//! (names and progress only) needs `read`, for the wall screen.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::emergency::{
    common_node, inside, parse_entry_note, parse_roster_name, EntryState, Progress, MAX_GRIDS,
};
use shanzhi_domain::grid::Shape;
use shanzhi_domain::resident::base_access;
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::emergency::{Choice, NewRoster, Roster};
use shanzhi_store::house::Within;
use shanzhi_store::StoreError;

use super::base::{access, list_root};
use super::doc::{schema as s, Doc, Routes};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json, Query};
use crate::http::state::AppState;

/// Most buildings a drawn area may hold.
const MAX_BUILDINGS: i64 = 20_000;

/// `/api/v1/emergency/rosters…`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/emergency/rosters",
            list,
            Doc::new("emergency", "Rosters covering an area, with their progress (no personal data)")
                .query("node", s::node_code(), "region or grid code (default: your area)"),
        )
        .post(
            "/api/v1/emergency/rosters",
            create,
            Doc::new("emergency", "Build the roster of vulnerable people of chosen grids or of a drawn area (audited with its name as the purpose)")
                .body(&[
                    ("name", s::name()),
                    ("grids?", s::nullable(s::array_max(s::node_code(), MAX_GRIDS))),
                    ("polygon?", s::nullable(s::geometry())),
                ])
                .created(),
        )
        .get(
            "/api/v1/emergency/rosters/{id}",
            show,
            Doc::new("emergency", "Open a roster: each person with household, address, tags, workers and mark (audited)")
                .path("id", s::int64()),
        )
        .post(
            "/api/v1/emergency/rosters/{id}/entries/{resident_id}",
            mark,
            Doc::new("emergency", "Mark a person on a roster contacted, moved or unreachable")
                .path("id", s::int64())
                .path("resident_id", s::int64())
                .body(&[
                    ("state", s::one_of(&["contacted", "moved", "unreachable"])),
                    ("note?", s::nullable(s::note(500, false))),
                ]),
        )
}

fn progress_json(rows: &[(String, i64)]) -> Value {
    let p = Progress::of(rows.iter().filter_map(|(s, n)| {
        EntryState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .map(|st| (st, *n))
    }));
    json!({"total": p.total, "marked": p.marked(), "pending": p.pending, "contacted": p.contacted,
        "moved": p.moved, "unreachable": p.unreachable})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let root = list_root(&user, q.node.as_deref())?;
    let rows = shanzhi_store::emergency::list(&app.db, root.path(), 100).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut v = r.to_json();
        v["progress"] = progress_json(&shanzhi_store::emergency::progress(&app.db, r.id).await?);
        v["nodes"] = json!(shanzhi_store::emergency::nodes(&app.db, r.id).await?);
        items.push(v);
    }
    Ok(axum::Json(json!({"items": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    grids: Option<Vec<String>>,
    polygon: Option<Value>,
}

/// The user may build or open a roster at `code`: those who may reveal personal data there, and
/// the leaders of the area, who command the switch to emergency (平急转换); both are audited.
/// 404 when they cannot see the node, 403 when they may see but not command.
fn revealing(user: &CurrentUser, code: &str, what: &str) -> ApiResult<()> {
    let a = access(user, code);
    if !a.read {
        Err(ApiError::not_found(what))
    } else if !a.reveal && user.actor.role != shanzhi_domain::user::Role::Leader {
        Err(ApiError::forbidden(
            "a roster shows addresses: only those who may reveal personal data in every grid of it, and the area's leaders, may build or open it",
        ))
    } else {
        Ok(())
    }
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let Some(root) = user.actor.scope.node().cloned() else {
        return Err(ApiError::forbidden("rosters are for staff of an area"));
    };
    let name = parse_roster_name(&b.name)?;
    let (nodes, choice, area) = match (b.grids, b.polygon) {
        (Some(grids), None) => {
            if grids.is_empty() || grids.len() > MAX_GRIDS {
                return Err(ApiError::invalid(
                    "grids",
                    format!("must be between 1 and {MAX_GRIDS}"),
                ));
            }
            let mut codes = BTreeSet::new();
            for g in &grids {
                let code = NodeCode::parse(g.trim())
                    .map_err(|_| ApiError::invalid("grids", "not a region or grid code"))?;
                revealing(&user, code.as_str(), "node")?;
                match shanzhi_store::node::get(&app.db, &code).await {
                    Err(StoreError::NotFound) => {
                        return Err(ApiError::not_found("node").with_field("grids"))
                    }
                    other => other?,
                };
                codes.insert(code);
            }
            let nodes: Vec<NodeCode> = codes.into_iter().collect();
            let area = json!({"grids": nodes.iter().map(NodeCode::as_str).collect::<Vec<_>>()});
            (nodes, Choice::Nodes, area)
        }
        (None, Some(polygon)) => {
            revealing(&user, root.as_str(), "node")?;
            let shape = Shape::from_geojson(&polygon).map_err(|e| match e {
                shanzhi_domain::DomainError::Invalid { reason, .. } => {
                    ApiError::invalid("polygon", reason)
                }
                other => other.into(),
            })?;
            let w = Within {
                path: root.path(),
                bbox: Some(shape.bbox()),
                after: 0,
                limit: MAX_BUILDINGS,
            };
            let buildings = shanzhi_store::house::buildings(&app.db, &w).await?;
            let chosen = inside(
                &shape,
                buildings
                    .iter()
                    .filter_map(|b| Some((b.id, b.lon?, b.lat?))),
            );
            let mut codes = BTreeSet::new();
            for b in buildings.iter().filter(|b| chosen.contains(&b.id)) {
                if let Ok(c) = NodeCode::parse(&b.node_code) {
                    if base_access(&user.actor, &c).reveal {
                        codes.insert(c);
                    }
                }
            }
            if codes.is_empty() {
                return Err(ApiError::conflict(
                    Some("polygon"),
                    "no buildings of your area lie in it",
                ));
            }
            (
                codes.into_iter().collect(),
                Choice::Buildings(chosen),
                json!({"polygon": shape.to_geojson()}),
            )
        }
        _ => return Err(ApiError::invalid("grids", "give either grids or a polygon")),
    };
    let node_code = common_node(&nodes)
        .filter(|c| root.contains(c))
        .unwrap_or(root);
    let new = NewRoster {
        name,
        node_code: node_code.as_str().to_owned(),
        area,
        nodes: nodes.iter().map(|n| n.as_str().to_owned()).collect(),
        choice,
    };
    let (roster, n) =
        shanzhi_store::emergency::create(&app.db, &new, user.user.id, app.clock.now_ms()).await?;
    let mut out = roster.to_json();
    out["entries"] = json!(n);
    out["nodes"] = json!(new.nodes);
    Ok((StatusCode::CREATED, axum::Json(out)))
}

/// A roster the user may see: 404 if it is wholly outside their area.
async fn openable(app: &AppState, user: &CurrentUser, id: i64) -> ApiResult<(Roster, Vec<String>)> {
    let roster = super::base::found(shanzhi_store::emergency::get(&app.db, id).await, "roster")?;
    let nodes = shanzhi_store::emergency::nodes(&app.db, id).await?;
    if !nodes.iter().any(|n| access(user, n).read) {
        return Err(ApiError::not_found("roster"));
    }
    Ok((roster, nodes))
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let (roster, nodes) = openable(&app, &user, id).await?;
    // Each opens the grids of the roster they may (a grid worker their own grid of a roster
    // over several, a dispatcher or a leader above them all): the entries of the others are
    // left out, the progress stays the whole roster's.
    let mut refused = None;
    let mut open_nodes = Vec::new();
    for n in &nodes {
        match revealing(&user, n, "roster") {
            Ok(()) => open_nodes.push(n.clone()),
            Err(e) => refused = refused.or(Some(e)),
        }
    }
    if open_nodes.is_empty() {
        return Err(refused.unwrap_or_else(|| ApiError::not_found("roster")));
    }
    let entries: Vec<_> = shanzhi_store::emergency::entries(&app.db, id)
        .await?
        .into_iter()
        .filter(|e| revealing(&user, &e.node_code, "roster").is_ok())
        .collect();
    let tags = shanzhi_store::emergency::tags(&app.db, id).await?;
    let workers = shanzhi_store::emergency::workers(&app.db, id).await?;
    let progress = shanzhi_store::emergency::progress(&app.db, id).await?;
    shanzhi_store::emergency::opened(&app.db, id, &roster.name, user.user.id, app.clock.now_ms())
        .await?;
    let items: Vec<Value> = entries
        .iter()
        .map(|e| {
            let address = match (&e.building_name, &e.room) {
                (Some(b), Some(r)) => Some(format!("{b} {r}")),
                (None, Some(r)) => Some(r.clone()),
                _ => None,
            };
            json!({"resident_id": e.resident_id, "node_code": e.node_code, "name": e.name,
                "gender": e.gender, "birth_year": e.birth_year, "phone": e.phone_mask,
                "household_id": e.household_id, "relation": e.relation,
                "building": e.building_name, "room": e.room, "address": address,
                "tags": tags.iter().filter(|t| t.0 == e.resident_id)
                    .map(|t| json!({"code": t.1, "name_zh": t.2, "name_en": t.3})).collect::<Vec<_>>(),
                "workers": workers.iter().filter(|w| w.0 == e.node_code)
                    .map(|w| json!({"user_id": w.1, "display_name": w.2})).collect::<Vec<_>>(),
                "state": e.state, "note": e.note, "marked_by": e.marked_by, "marked_at": e.marked_at})
        })
        .collect();
    let mut out = roster.to_json();
    out["nodes"] = json!(nodes);
    out["progress"] = progress_json(&progress);
    out["entries"] = json!(items);
    Ok(axum::Json(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkBody {
    state: String,
    note: Option<String>,
}

async fn mark(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, resident_id)): Path<(i64, i64)>,
    Json(b): Json<MarkBody>,
) -> ApiResult<impl IntoResponse> {
    openable(&app, &user, id).await?;
    let node = super::base::found(
        shanzhi_store::emergency::entry_node(&app.db, id, resident_id).await,
        "entry",
    )?;
    super::base::writable(&user, &node, "entry")?;
    let state = EntryState::parse_mark(&b.state)?;
    let note = parse_entry_note(b.note.as_deref())?;
    let now = app.clock.now_ms();
    shanzhi_store::emergency::mark(
        &app.db,
        id,
        resident_id,
        state.as_str(),
        note.as_deref(),
        user.user.id,
        now,
    )
    .await?;
    let progress = shanzhi_store::emergency::progress(&app.db, id).await?;
    Ok(axum::Json(
        json!({"roster_id": id, "resident_id": resident_id, "state": state.as_str(),
        "note": note, "marked_at": now, "progress": progress_json(&progress)}),
    ))
}
