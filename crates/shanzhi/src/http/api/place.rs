//! Places (场所) and their safety checks: `/api/v1/places…`. Scoped by
//! [`base_access`](shanzhi_domain::resident::base_access) at the place's node.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::house::{parse_address, parse_point};
use shanzhi_domain::place::{parse_check_note, parse_place_name, CheckResult, Licence, PlaceKind};
use shanzhi_store::house::Within;
use shanzhi_store::place::{Check, Filter, Place, PlaceInput};
use shanzhi_store::StoreError;

use super::base::{found, limit, list_params, list_root, page, readable, target_node, writable};
use super::doc::{schema as s, Doc, Routes};
use super::map::{bbox, parse_bbox};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json, Query};
use crate::http::state::AppState;

const MAX_LIST: i64 = 2000;

/// `/api/v1/places…`.
pub fn routes() -> Routes {
    let kinds = PlaceKind::words();
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
            ("lon?", s::nullable(s::number(-180.0, 180.0))),
            ("lat?", s::nullable(s::number(-90.0, 90.0))),
            ("building_id?", s::nullable(s::int64())),
            ("licence_no?", s::nullable(s::note(64, false))),
            ("licence_expires?", s::nullable(s::date())),
        ]
    };
    Routes::new()
        .get(
            "/api/v1/places",
            list,
            list_params(
                Doc::new(
                    "place",
                    "Places of an area, by kind, overdue checks, or the map's view",
                ),
                MAX_LIST,
            )
            .query("kind", s::one_of(&kinds), "one kind of place")
            .query(
                "overdue",
                s::boolean(),
                "only places whose safety check is overdue",
            )
            .query(
                "bbox",
                bbox(),
                "min_lon,min_lat,max_lon,max_lat: only places drawn there",
            ),
        )
        .post(
            "/api/v1/places",
            create,
            Doc::new("place", "Register a place")
                .body(&body(true))
                .created(),
        )
        .get(
            "/api/v1/places/{id}",
            show,
            Doc::new("place", "A place with its latest safety checks").path("id", s::int64()),
        )
        .patch(
            "/api/v1/places/{id}",
            update,
            Doc::new("place", "Change a place")
                .path("id", s::int64())
                .body(&body(false)),
        )
        .post(
            "/api/v1/places/{id}/checks",
            check,
            Doc::new(
                "place",
                "Record a safety check (its result sets when the next one is due)",
            )
            .path("id", s::int64())
            .body(&[
                ("result", s::one_of(&["passed", "hazards_found", "failed"])),
                ("note?", s::nullable(s::note(2000, false))),
            ])
            .created(),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    kind: Option<String>,
    overdue: Option<bool>,
    bbox: Option<String>,
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
    let now = app.clock.now_ms();
    let kind = q.kind.as_deref().map(PlaceKind::parse).transpose()?;
    let w = Within {
        path: root.path(),
        bbox: q.bbox.as_deref().map(parse_bbox).transpose()?,
        after: q.after.unwrap_or(0),
        limit,
    };
    let f = Filter {
        kind: kind.map(PlaceKind::as_str),
        overdue_at: (q.overdue == Some(true)).then_some(now),
    };
    let rows = shanzhi_store::place::list(&app.db, &w, &f).await?;
    let last = rows.last().map(|p| p.id);
    Ok(axum::Json(page(
        rows.iter().map(|p| p.to_json(now)).collect(),
        last,
        limit,
    )))
}

/// A place's fields as sent; on a change, a field left out (or null) keeps its value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    node_code: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    address: Option<String>,
    lon: Option<f64>,
    lat: Option<f64>,
    building_id: Option<i64>,
    licence_no: Option<String>,
    licence_expires: Option<String>,
}

/// Builds the input; with it, the kind (to schedule the first or a changed check).
async fn input(
    app: &AppState,
    user: &CurrentUser,
    b: Body,
    before: Option<&Place>,
) -> ApiResult<(PlaceInput, PlaceKind)> {
    let node_code = match (&b.node_code, before) {
        (Some(raw), _) => target_node(app, user, raw, "node_code").await?,
        (None, Some(old)) => target_node(app, user, &old.node_code, "node_code").await?,
        (None, None) => return Err(ApiError::invalid("node_code", "is missing")),
    };
    let kind = match (&b.kind, before) {
        (Some(k), _) => PlaceKind::parse(k)?,
        (None, Some(old)) => PlaceKind::parse(&old.kind)?,
        (None, None) => return Err(ApiError::invalid("kind", "is missing")),
    };
    let name = match (&b.name, before) {
        (Some(n), _) => parse_place_name(n)?,
        (None, Some(old)) => old.name.clone(),
        (None, None) => return Err(ApiError::invalid("name", "is missing")),
    };
    let point = match (b.lon, b.lat, before) {
        (None, None, Some(old)) => old.lon.zip(old.lat),
        (lon, lat, _) => parse_point(lon, lat)?.map(|p| (p.lon(), p.lat())),
    };
    let building_id = b.building_id.or(before.and_then(|p| p.building_id));
    if let Some(bid) = b.building_id {
        let ok = match shanzhi_store::house::building(&app.db, bid).await {
            Ok(building) => super::base::access(user, &building.node_code).read,
            Err(StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        };
        if !ok {
            return Err(ApiError::not_found("building").with_field("building_id"));
        }
    }
    let licence = if b.licence_no.is_none() && b.licence_expires.is_none() {
        before.and_then(|p| {
            p.licence_no
                .clone()
                .map(|number| (number, p.licence_expires.clone()))
        })
    } else {
        Licence::parse(b.licence_no.as_deref(), b.licence_expires.as_deref())?.map(|l| {
            (
                l.number,
                l.expires.map(|d| d.format("%Y-%m-%d").to_string()),
            )
        })
    };
    let (licence_no, licence_expires) = match licence {
        Some((n, e)) => (Some(n), e),
        None => (None, None),
    };
    Ok((
        PlaceInput {
            node_code,
            kind: kind.as_str().to_owned(),
            name,
            address: match (&b.address, before) {
                (Some(a), _) => parse_address(a)?,
                (None, old) => old.and_then(|p| p.address.clone()),
            },
            point,
            building_id,
            licence_no,
            licence_expires,
        },
        kind,
    ))
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<Body>,
) -> ApiResult<impl IntoResponse> {
    let (input, kind) = input(&app, &user, b, None).await?;
    let now = app.clock.now_ms();
    let row =
        shanzhi_store::place::insert(&app.db, &input, kind.first_check_at(now), user.user.id, now)
            .await?;
    Ok((StatusCode::CREATED, axum::Json(row.to_json(now))))
}

async fn find(app: &AppState, id: i64) -> ApiResult<Place> {
    found(shanzhi_store::place::get(&app.db, id).await, "place")
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let p = find(&app, id).await?;
    readable(&user, &p.node_code, "place")?;
    let now = app.clock.now_ms();
    let checks = shanzhi_store::place::checks(&app.db, id, 50).await?;
    let mut out = p.to_json(now);
    let licence_expired = p
        .licence_no
        .as_deref()
        .and_then(|n| {
            Licence::parse(Some(n), p.licence_expires.as_deref())
                .ok()
                .flatten()
        })
        .is_some_and(|l| l.expired(now));
    out["licence_expired"] = json!(licence_expired);
    out["checks"] = json!(checks.iter().map(Check::to_json).collect::<Vec<_>>());
    Ok(axum::Json(out))
}

async fn update(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<Body>,
) -> ApiResult<impl IntoResponse> {
    let before = find(&app, id).await?;
    writable(&user, &before.node_code, "place")?;
    let (input, kind) = input(&app, &user, b, Some(&before)).await?;
    let now = app.clock.now_ms();
    // A new kind is checked on its own schedule: from the last check, or from now.
    let next = if input.kind == before.kind {
        before.next_check_at
    } else {
        match (
            before.last_check_at,
            before.last_result.as_deref().map(CheckResult::parse),
        ) {
            (Some(at), Some(Ok(r))) => kind.next_check_at(r, at),
            _ => kind.first_check_at(now),
        }
    };
    let row =
        shanzhi_store::place::update(&app.db, &before, &input, next, user.user.id, now).await?;
    Ok(axum::Json(row.to_json(now)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    result: String,
    note: Option<String>,
}

async fn check(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<CheckBody>,
) -> ApiResult<impl IntoResponse> {
    let p = find(&app, id).await?;
    writable(&user, &p.node_code, "place")?;
    let result = CheckResult::parse(&b.result)?;
    let note = parse_check_note(result, b.note.as_deref())?;
    let kind = PlaceKind::parse(&p.kind)?;
    let now = app.clock.now_ms();
    let next = kind.next_check_at(result, now);
    let c = shanzhi_store::place::add_check(
        &app.db,
        id,
        result.as_str(),
        note.as_deref(),
        next,
        user.user.id,
        now,
    )
    .await?;
    let mut out = c.to_json();
    out["next_check_at"] = json!(next);
    out["overdue"] = json!(false);
    Ok((StatusCode::CREATED, axum::Json(out)))
}
