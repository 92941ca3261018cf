//! Warnings to people (预警发布): `/api/v1/warnings…` and the citizen's `/api/v1/me/warnings`.
//!
//! Who may send one: the centre's staff — administrators, dispatchers and analysts (研判) —
//! for grids of their own area (a grid outside it does not exist for them: 404); grid
//! workers, leaders, mediators, department handlers and citizens are refused (403). Staff of
//! an area (every role with a node of the tree, handlers and citizens apart) read the
//! warnings that cover a grid of it or a grid above them. A citizen reads the warnings of the
//! grids they are registered in (`/api/v1/me/warnings`) and gets each as a notice.
//!
//! Public without a session, like Open311: a warning is a public broadcast (CAP scope
//! Public), so its CAP 1.2 message (`/api/v1/warnings/{id}/cap`) and the Atom feed of the
//! latest ones (`/api/v1/warnings/feed`) need no login — other warning systems subscribe to
//! them. They hold the title, message, level, time and grid outlines and names; not who sent
//! it, not who it reached.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::emergency::common_node;
use shanzhi_domain::grid::Shape;
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::Role;
use shanzhi_domain::warning::{
    grids_touched, parse_message, parse_title, Level, MAX_GRIDS, MAX_MESSAGE_CHARS, MAX_TITLE_CHARS,
};
use shanzhi_store::emergency::{Choice, NewRoster};
use shanzhi_store::warning::{NewWarning, Warning};
use shanzhi_store::StoreError;

use super::doc::{schema as s, Doc, Routes};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json, Query};
use crate::http::state::AppState;
use crate::warning::cap;

/// Media type of a CAP message.
pub const CAP_XML: &str = "application/cap+xml";
/// Media type of the feed.
pub const ATOM_XML: &str = "application/atom+xml";
/// Warnings in the feed.
const FEED_LEN: i64 = 50;
/// Most grids a drawn area may be tested against.
const MAX_CANDIDATES: i64 = 20_000;

/// `/api/v1/warnings…`, `/api/v1/me/warnings`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/warnings",
            list,
            Doc::new("warning", "Warnings covering a grid of an area, newest first")
                .query("node", s::node_code(), "region or grid code (default: your area)")
                .query("before", s::int64(), "the id of the last warning seen")
                .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
        .post(
            "/api/v1/warnings",
            create,
            Doc::new("warning", "Send a colour-graded warning to the grid workers and residents of chosen grids or of a drawn area: notices now, e-mail and SMS from the outbox, a CAP 1.2 message, and the roster of vulnerable people")
                .body(&[
                    ("title", s::label(MAX_TITLE_CHARS)),
                    ("message", s::note(MAX_MESSAGE_CHARS, true)),
                    ("level", s::one_of(&["red", "orange", "yellow", "blue"])),
                    ("risk_id?", s::nullable(s::integer(1, i64::MAX))),
                    ("grids?", s::nullable(s::array_max(s::node_code(), MAX_GRIDS))),
                    ("polygon?", s::nullable(s::geometry())),
                ])
                .created(),
        )
        .get(
            "/api/v1/warnings/feed",
            feed,
            Doc::new("warning", "Atom feed of the latest warnings, each linking its CAP 1.2 message (public)")
                .public()
                .produces(ATOM_XML),
        )
        .get(
            "/api/v1/warnings/{id}",
            show,
            Doc::new("warning", "A warning with its grids, delivery counts per channel and state, and its roster")
                .path("id", s::int64()),
        )
        .get(
            "/api/v1/warnings/{id}/cap",
            cap_message,
            Doc::new("warning", "A warning as an OASIS CAP 1.2 alert, one polygon per grid (public)")
                .public()
                .path("id", s::int64())
                .produces(CAP_XML),
        )
        .get(
            "/api/v1/me/warnings",
            mine,
            Doc::new("warning", "The warnings of the grids the citizen is registered in")
                .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
}

/// May the user send warnings? The centre's staff with an area.
fn sender_root(user: &CurrentUser) -> ApiResult<NodeCode> {
    match (user.actor.role, user.actor.scope.node()) {
        (Role::Admin | Role::Dispatcher | Role::Analyst, Some(root))
            if !matches!(
                user.actor.scope,
                shanzhi_domain::user::Scope::Department { .. }
            ) =>
        {
            Ok(root.clone())
        }
        _ => Err(ApiError::forbidden(
            "warnings are sent by the centre: administrators, dispatchers and analysts of an area",
        )),
    }
}

/// The area of a staff reader: every role with a node of the tree but handlers and citizens.
fn reader_root(user: &CurrentUser) -> ApiResult<NodeCode> {
    match (&user.actor.scope, user.actor.role) {
        (shanzhi_domain::user::Scope::Node(root), r) if r != Role::Citizen => Ok(root.clone()),
        _ => Err(ApiError::forbidden(
            "warnings are listed for staff of an area; citizens read theirs under /api/v1/me/warnings",
        )),
    }
}

/// The codes of the grids above `root` (and itself when a grid): warnings sent to them cover it.
fn grids_above(root: &NodeCode) -> Vec<String> {
    root.ancestor_paths()
        .into_iter()
        .filter(|p| p.len() > 12)
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let mine = reader_root(&user)?;
    let root = match q.node.as_deref() {
        Some(raw) => {
            let c = NodeCode::parse(raw.trim())
                .map_err(|_| ApiError::invalid("node", "not a region or grid code"))?;
            if !mine.contains(&c) {
                return Err(ApiError::not_found("node"));
            }
            c
        }
        None => mine,
    };
    let limit = super::base::limit(q.limit, 50, 200)?;
    let rows =
        shanzhi_store::warning::list(&app.db, root.path(), &grids_above(&root), q.before, limit)
            .await?;
    let mut items = Vec::with_capacity(rows.len());
    for w in &rows {
        items.push(summary(&app, w).await?);
    }
    Ok(axum::Json(super::base::page(
        items,
        rows.last().map(|w| w.id),
        limit,
    )))
}

/// A warning with its grids and delivery counts.
async fn summary(app: &AppState, w: &Warning) -> ApiResult<Value> {
    let mut v = w.to_json();
    v["grids"] = json!(shanzhi_store::warning::nodes(&app.db, w.id).await?);
    let mut deliveries = json!({});
    for channel in ["email", "sms"] {
        deliveries[channel] = json!({"pending": 0, "sent": 0, "failed": 0,
            "configured": app.outbox.serves(channel)});
    }
    for (channel, state, n) in shanzhi_store::warning::deliveries(&app.db, w.id).await? {
        deliveries[&channel][&state] = json!(n);
    }
    v["deliveries"] = deliveries;
    v["cap_url"] = json!(format!("/api/v1/warnings/{}/cap", w.id));
    Ok(v)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    title: String,
    message: String,
    level: String,
    risk_id: Option<i64>,
    grids: Option<Vec<String>>,
    polygon: Option<Value>,
}

/// The chosen grids: given by code (each a grid of the sender's area), or those a drawn area
/// touches.
async fn chosen_grids(
    app: &AppState,
    root: &NodeCode,
    grids: Option<Vec<String>>,
    polygon: Option<Value>,
) -> ApiResult<(Vec<NodeCode>, Value)> {
    match (grids, polygon) {
        (Some(grids), None) => {
            if grids.is_empty() || grids.len() > MAX_GRIDS {
                return Err(ApiError::invalid(
                    "grids",
                    format!("must name between 1 and {MAX_GRIDS} grids"),
                ));
            }
            let mut codes = BTreeSet::new();
            for g in &grids {
                let code = NodeCode::parse(g.trim())
                    .map_err(|_| ApiError::invalid("grids", "not a grid code"))?;
                if !code.is_grid() {
                    return Err(ApiError::invalid(
                        "grids",
                        "a region is not a grid: name its grids, or draw the area",
                    ));
                }
                if !root.contains(&code) {
                    return Err(ApiError::not_found("grid").with_field("grids"));
                }
                match shanzhi_store::node::get(&app.db, &code).await {
                    Err(StoreError::NotFound) => {
                        return Err(ApiError::not_found("grid").with_field("grids"))
                    }
                    other => other?,
                };
                codes.insert(code);
            }
            let nodes: Vec<NodeCode> = codes.into_iter().collect();
            let area = json!({"grids": nodes.iter().map(NodeCode::as_str).collect::<Vec<_>>()});
            Ok((nodes, area))
        }
        (None, Some(polygon)) => {
            let shape = Shape::from_geojson(&polygon).map_err(|e| match e {
                shanzhi_domain::DomainError::Invalid { reason, .. } => {
                    ApiError::invalid("polygon", reason)
                }
                other => other.into(),
            })?;
            let candidates = shanzhi_store::warning::grids_in_bbox(
                &app.db,
                root.path(),
                shape.bbox(),
                MAX_CANDIDATES,
            )
            .await?;
            let outlines: Vec<(String, Shape)> = candidates
                .iter()
                .filter_map(|(code, geometry)| {
                    let v: Value = serde_json::from_str(geometry).ok()?;
                    Some((code.clone(), Shape::from_geojson(&v).ok()?))
                })
                .collect();
            let touched = grids_touched(&shape, &outlines);
            if touched.is_empty() {
                return Err(ApiError::invalid(
                    "polygon",
                    "the area touches no grid of your area",
                ));
            }
            let nodes = touched
                .iter()
                .filter_map(|c| NodeCode::parse(c).ok())
                .collect();
            Ok((nodes, json!({"polygon": shape.to_geojson()})))
        }
        _ => Err(ApiError::invalid("grids", "give either grids or a polygon")),
    }
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let root = sender_root(&user)?;
    let title = parse_title(&b.title)?;
    let message = parse_message(&b.message)?;
    let level = Level::parse(&b.level)?;
    if matches!(b.risk_id, Some(r) if r < 1) {
        return Err(ApiError::invalid("risk_id", "must be a risk's id"));
    }
    let (grids, area) = chosen_grids(&app, &root, b.grids, b.polygon).await?;
    let node_code = common_node(&grids)
        .filter(|c| root.contains(c))
        .unwrap_or(root);
    let now = app.clock.now_ms();
    let day = cap::cap_time(now)[..10].replace('-', "");
    let roster_name: String = format!("{}：{}", level.zh(), title)
        .chars()
        .take(shanzhi_domain::emergency::MAX_NAME_CHARS)
        .collect();
    let codes: Vec<String> = grids.iter().map(|g| g.as_str().to_owned()).collect();
    let new = NewWarning {
        title: title.clone(),
        message: message.clone(),
        level: level.as_str().to_owned(),
        risk_id: b.risk_id,
        node_code: node_code.as_str().to_owned(),
        grids: grids.clone(),
        area: area.clone(),
        notice_kind: "warning".to_owned(),
        notice_params: json!({"title": title, "level": level.as_str()}),
        notice_message: format!("【{}】{}：{}", level.zh(), title, message),
        roster: NewRoster {
            name: roster_name,
            node_code: node_code.as_str().to_owned(),
            area: json!({"grids": codes, "warning": true}),
            nodes: codes.clone(),
            choice: Choice::Nodes,
        },
    };
    let temp = format!("tmp-{now}-{}-{}", user.user.id, rand::random::<u32>());
    let created = shanzhi_store::warning::create(&app.db, &new, user.user.id, now, &temp, |id| {
        format!("YJ-{day}-{id:04}")
    })
    .await?;
    // Wake the live notice streams of everyone reached, and the outbox worker.
    let notes: Vec<_> = created
        .people
        .iter()
        .map(|u| {
            shanzhi_store::notification::NewNotification::to_user(
                *u,
                "warning",
                Value::Null,
                String::new(),
            )
        })
        .collect();
    app.notices.announce(&notes);
    app.outbox.wake();
    let mut out = summary(&app, &created.warning).await?;
    out["recipients"] = json!(created.recipients);
    out["roster"] = json!({"id": created.roster.id, "entries": created.roster_entries});
    Ok((StatusCode::CREATED, axum::Json(out)))
}

/// A warning the staff reader may see: 404 when none of its grids is in or above their area.
async fn visible(app: &AppState, user: &CurrentUser, id: i64) -> ApiResult<(Warning, Vec<String>)> {
    let root = reader_root(user)?;
    let w = super::base::found(shanzhi_store::warning::get(&app.db, id).await, "warning")?;
    let nodes = shanzhi_store::warning::nodes(&app.db, id).await?;
    let seen = nodes.iter().any(|n| {
        NodeCode::parse(n)
            .map(|c| root.contains(&c) || c.contains(&root))
            .unwrap_or(false)
    });
    if !seen {
        return Err(ApiError::not_found("warning"));
    }
    Ok((w, nodes))
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let (w, _) = visible(&app, &user, id).await?;
    let mut out = summary(&app, &w).await?;
    if let Some(r) = w.roster_id {
        let progress = shanzhi_store::emergency::progress(&app.db, r).await?;
        let total: i64 = progress.iter().map(|(_, n)| n).sum();
        out["roster"] = json!({"id": r, "entries": total,
            "progress": progress.into_iter().map(|(s, n)| (s, json!(n))).collect::<serde_json::Map<_, _>>()});
    }
    Ok(axum::Json(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MineQuery {
    limit: Option<i64>,
}

async fn mine(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<MineQuery>,
) -> ApiResult<impl IntoResponse> {
    if user.actor.role != Role::Citizen {
        return Err(ApiError::forbidden(
            "these are a citizen's own warnings; staff list them under /api/v1/warnings",
        ));
    }
    let limit = super::base::limit(q.limit, 50, 200)?;
    let mut grids = BTreeSet::new();
    for n in shanzhi_store::warning::home_nodes(&app.db, user.user.id).await? {
        if let Ok(c) = NodeCode::parse(&n) {
            grids.extend(grids_above(&c));
        }
    }
    let grids: Vec<String> = grids.into_iter().collect();
    let rows = if grids.is_empty() {
        Vec::new()
    } else {
        // An empty subtree ("~" sorts after every code) and the citizen's grids.
        shanzhi_store::warning::list(&app.db, "~", &grids, None, limit).await?
    };
    let items: Vec<Value> = rows
        .iter()
        .map(|w| {
            json!({"id": w.id, "number": w.number, "title": w.title, "message": w.message,
                "level": w.level, "created_at": w.created_at,
                "cap_url": format!("/api/v1/warnings/{}/cap", w.id)})
        })
        .collect();
    Ok(axum::Json(json!({"items": items})))
}

/// The name the centre sends under: the name of the warning's node.
async fn sender_name(app: &AppState, w: &Warning) -> ApiResult<String> {
    Ok(match NodeCode::parse(&w.node_code) {
        Ok(c) => match shanzhi_store::node::get(&app.db, &c).await {
            Ok(n) => format!("{}社会治理中心", n.name),
            Err(StoreError::NotFound) => "社会治理中心".to_owned(),
            Err(e) => return Err(e.into()),
        },
        Err(_) => "社会治理中心".to_owned(),
    })
}

async fn cap_message(
    State(app): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let w = super::base::found(shanzhi_store::warning::get(&app.db, id).await, "warning")?;
    let codes = shanzhi_store::warning::nodes(&app.db, id).await?;
    let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    let mut nodes = shanzhi_store::node::by_codes(&app.db, &refs).await?;
    nodes.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    let grids: Vec<cap::Grid> = nodes
        .into_iter()
        .map(|n| cap::Grid {
            name: n.name,
            shape: n.shape,
        })
        .collect();
    let name = sender_name(&app, &w).await?;
    let xml = cap::alert(&app.config.warning.cap_sender, &name, &w, &grids);
    Ok(([(header::CONTENT_TYPE, CAP_XML)], xml))
}

async fn feed(State(app): State<AppState>) -> ApiResult<impl IntoResponse> {
    let rows = shanzhi_store::warning::latest(&app.db, FEED_LEN).await?;
    let base = app
        .config
        .warning
        .public_url
        .as_deref()
        .unwrap_or("")
        .trim_end_matches('/')
        .to_owned();
    let xml = cap::feed(
        &base,
        &app.config.warning.cap_sender,
        "善治",
        &rows,
        app.clock.now_ms(),
    );
    Ok(([(header::CONTENT_TYPE, ATOM_XML)], xml))
}
