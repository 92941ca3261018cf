//! Visits (走访) over HTTP: record one (its photos through the event photo store; a problem
//! found becomes an event of the closed loop in the same request, linked both ways), the visit
//! log, and a grid worker's visits due. Scoped by `base_access` at the resident's node.

use super::doc::{schema as s, Doc, Routes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use geo::InteriorPoint;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::event::photo::MAX_PHOTOS;
use shanzhi_domain::grid::LonLat;
use shanzhi_domain::resident::access::base_access;
use shanzhi_domain::tag::{check_notes, is_overdue, Found, DAY_MS, MAX_NOTES_CHARS};
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::event::Attached;
use shanzhi_store::visit::{Filter, NewVisit, Visit};
use shanzhi_store::StoreError;

use super::node::visible_node;
use super::tag::resident_for;
use crate::event::{self as service, Report, MAX_DESCRIPTION_CHARS};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{page_limit, CurrentUser, Json, Query};
use crate::http::state::AppState;

/// `/api/v1/visits…`.
pub fn routes() -> Routes {
    Routes::new()
        .post(
            "/api/v1/visits",
            create,
            Doc::new("visit", "Record a visit to a resident: resets when each of their tags next falls due; `report` files a problem found as an event (source `visit`) in the same step")
                .body(&[
                    ("resident_id", s::int64()),
                    ("found", s::one_of(&["nothing", "need", "hazard", "other"])),
                    ("notes?", s::note(MAX_NOTES_CHARS, false)),
                    ("lon?", s::nullable(s::number(-180.0, 180.0))),
                    ("lat?", s::nullable(s::number(-90.0, 90.0))),
                    ("photos?", s::array_max(s::photo_hash(), MAX_PHOTOS)),
                    ("report?", s::nullable(serde_json::json!({
                        "type": "object", "additionalProperties": false,
                        "required": ["category_id", "description"],
                        "properties": {"category_id": s::int64(), "description": s::note(MAX_DESCRIPTION_CHARS, true)},
                    }))),
                ])
                .created(),
        )
        .get(
            "/api/v1/visits",
            list,
            Doc::new("visit", "The visit log, newest first: one resident's, or every visit under a node")
                .query("resident", s::int64(), "resident id")
                .query("node", s::node_code(), "region or grid code (default: the user's scope)")
                .query("cursor", s::int64(), "page: visits older than this visit id")
                .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
        .get(
            "/api/v1/visits/due",
            due,
            Doc::new("visit", "Visits due under a node: overdue first, then the soonest (the tag with the shortest interval decides)")
                .query("node", s::node_code(), "region or grid code (default: the user's scope)")
                .query("within_days", s::integer(0, 365), "also visits falling due in this many days (default 7)")
                .query("limit", s::integer(1, 500), "at most this many people (default 200)"),
        )
        .get(
            "/api/v1/visits/{id}",
            show,
            Doc::new("visit", "One visit").path("id", s::int64()),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    category_id: i64,
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    resident_id: i64,
    found: String,
    #[serde(default)]
    notes: String,
    lon: Option<f64>,
    lat: Option<f64>,
    #[serde(default)]
    photos: Vec<String>,
    report: Option<ReportBody>,
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let (subject, node) = resident_for(&app, &user, b.resident_id, true).await?;
    let found = Found::parse(&b.found)?;
    check_notes(&b.notes)?;
    let at = match (b.lon, b.lat) {
        (Some(lon), Some(lat)) => Some(LonLat::parse(lon, lat)?),
        (None, None) => None,
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "lon",
                "give both lon and lat, or neither",
            ))
        }
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "lat",
                "give both lon and lat, or neither",
            ))
        }
    };
    if b.photos.len() > MAX_PHOTOS {
        return Err(ApiError::invalid("photos", "at most 9 photos"));
    }
    service::check_uploaded(&app, &user.actor, &b.photos).await?;
    let now = app.clock.now_ms();
    let visit = NewVisit {
        resident_id: subject.id,
        node_code: subject.node_code.clone(),
        user_id: user.user.id,
        at: now,
        lon: at.map(LonLat::lon),
        lat: at.map(LonLat::lat),
        notes: b.notes,
        found: found.as_str().to_owned(),
        event_id: None,
        photos: b.photos.clone(),
    };
    // A problem found goes into the loop with the visit attached: the report's transaction
    // writes both (linked) or neither, and a refused report writes no visit either.
    let (id, event) = match &b.report {
        None => (shanzhi_store::visit::insert(&app.db, &visit).await?, None),
        Some(r) => {
            let place = match at {
                Some(p) => p,
                None => node_point(&app, &user, &node).await?,
            };
            let report = Report {
                category_id: r.category_id,
                description: r.description.clone(),
                lon: place.lon(),
                lat: place.lat(),
                address: None,
                photos: b.photos,
                // Each visit files its own report (a visit is not retried as a whole).
                idempotency_key: format!("visit-{:016x}", rand::random::<u64>()),
                source: Some("visit".into()),
                unknown_position_in: None,
                attached: Attached::Visit(visit),
            };
            let (row, _) = service::report(&app, &user.actor, &report)
                .await
                .map_err(in_report)?;
            let (id, _) = shanzhi_store::visit::of_event(&app.db, row.id)
                .await?
                .ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!("event {} has no visit", row.id))
                })?;
            (id, Some(row))
        }
    };
    let mut v = answer(&app, shanzhi_store::visit::get(&app.db, id).await?).await?;
    if let Some(e) = &event {
        v["event"] = json!({"id": e.id, "state": e.state, "grid": e.grid_code});
    }
    Ok((StatusCode::CREATED, axum::Json(v)))
}

/// A refusal of the report, named under `report` (its fields are `report.category_id`, …).
fn in_report(mut e: ApiError) -> ApiError {
    if let Some(f) = e.field.take() {
        e.field = Some(match f.as_str() {
            "category_id" | "description" => format!("report.{f}"),
            other => other.to_owned(),
        });
    }
    e
}

/// Where a problem found on a visit without a position is filed: a point inside the
/// resident's node (their grid).
async fn node_point(app: &AppState, user: &CurrentUser, node: &NodeCode) -> ApiResult<LonLat> {
    let n = visible_node(app, user, node).await?;
    let point = n.shape.as_ref().and_then(|s| s.geometry().interior_point());
    match point {
        Some(p) => Ok(LonLat::parse(p.x(), p.y())?),
        None => Err(ApiError::invalid(
            "lon",
            "the resident's grid has no shape: give the visit's position to report a problem",
        )),
    }
}

/// A visit as answered: with its photos.
async fn answer(app: &AppState, v: Visit) -> ApiResult<Value> {
    let photos = shanzhi_store::visit::photos(&app.db, &[v.id]).await?;
    let mut out = v.to_json();
    out["photos"] = photos_json(photos.iter().map(|(_, h)| h));
    Ok(out)
}

fn photos_json<'a>(hashes: impl Iterator<Item = &'a String>) -> Value {
    Value::Array(
        hashes
            .map(|h| json!({"hash": h, "url": format!("/api/v1/photos/{h}")}))
            .collect(),
    )
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let v = match shanzhi_store::visit::get(&app.db, id).await {
        Ok(v) => v,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("visit")),
        Err(e) => return Err(e.into()),
    };
    let node = NodeCode::parse(&v.node_code)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("visit {id}: {e}")))?;
    if !base_access(&user.actor, &node).read {
        return Err(ApiError::not_found("visit"));
    }
    Ok(axum::Json(answer(&app, v).await?))
}

/// The node a list is about: `node`, or the user's own; 404 outside their reach, 403 for
/// roles without base data.
async fn scope_node(app: &AppState, user: &CurrentUser, node: Option<&str>) -> ApiResult<NodeCode> {
    let code = match node {
        Some(c) => NodeCode::parse(c)
            .map_err(|_| ApiError::invalid("node", "not a region or grid code"))?,
        None => match user.actor.scope.node() {
            Some(c) => c.clone(),
            None => return Err(ApiError::forbidden("visits are for grid staff")),
        },
    };
    visible_node(app, user, &code).await?;
    if !base_access(&user.actor, &code).read {
        return Err(ApiError::forbidden("visits are for grid staff"));
    }
    Ok(code)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    resident: Option<i64>,
    node: Option<String>,
    cursor: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let limit = page_limit(q.limit, 50, 200)?;
    let path = match (q.resident, &q.node) {
        // One person's log: wherever they were visited, if their record is in reach now.
        (Some(id), None) => {
            resident_for(&app, &user, id, false).await?;
            None
        }
        (_, node) => Some(
            scope_node(&app, &user, node.as_deref())
                .await?
                .path()
                .to_owned(),
        ),
    };
    let rows = shanzhi_store::visit::list(
        &app.db,
        &Filter {
            path,
            resident_id: q.resident,
            before_id: q.cursor,
            limit,
        },
    )
    .await?;
    let ids: Vec<i64> = rows.iter().map(|v| v.id).collect();
    let photos = shanzhi_store::visit::photos(&app.db, &ids).await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|v| v.id))
        .flatten();
    let items: Vec<Value> = rows
        .iter()
        .map(|v| {
            let mut j = v.to_json();
            j["photos"] = photos_json(photos.iter().filter(|(id, _)| *id == v.id).map(|(_, h)| h));
            j
        })
        .collect();
    Ok(axum::Json(json!({"items": items, "next_cursor": next})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DueQuery {
    node: Option<String>,
    within_days: Option<i64>,
    limit: Option<i64>,
}

async fn due(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<DueQuery>,
) -> ApiResult<impl IntoResponse> {
    let within = q.within_days.unwrap_or(7);
    if !(0..=365).contains(&within) {
        return Err(ApiError::invalid(
            "within_days",
            "must be between 0 and 365",
        ));
    }
    let limit = page_limit(q.limit, 200, 500)?;
    let node = scope_node(&app, &user, q.node.as_deref()).await?;
    let now = app.clock.now_ms();
    let rows = shanzhi_store::tag::due(&app.db, node.path(), now + within * DAY_MS, limit).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.resident_id).collect();
    let tags = shanzhi_store::tag::of_residents(&app.db, &ids).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mine: Vec<&str> = tags
                .iter()
                .filter(|t| t.resident_id == r.resident_id)
                .map(|t| t.tag_code.as_str())
                .collect();
            json!({"resident_id": r.resident_id, "name": r.name, "node": r.node_code,
                   "due_at": r.due_at, "overdue": is_overdue(r.due_at, now), "tags": mine})
        })
        .collect();
    Ok(axum::Json(json!({"items": items, "now": now})))
}
