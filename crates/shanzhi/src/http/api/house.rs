//! Buildings (楼栋) and houses (房屋): `/api/v1/buildings…`, `/api/v1/houses…`. Scoped by
//! [`base_access`](shanzhi_domain::resident::base_access) at the record's node; occupants come
//! with their personal data masked.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::house::{
    parse_address, parse_building_name, parse_floors, parse_footprint, parse_point, parse_room,
    HouseUse, Owner,
};
use shanzhi_domain::user::person::mask_name;
use shanzhi_store::house::{Building, BuildingInput, House, HouseInput, Occupant, Within};
use shanzhi_store::StoreError;

use super::base::{
    found, limit, list_params, list_root, page, readable, resident_known, target_node, writable,
};
use super::doc::{schema as s, Doc, Routes};
use super::map::{bbox, parse_bbox};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json, Query};
use crate::http::state::AppState;

const MAX_LIST: i64 = 2000;

/// `/api/v1/buildings…`, `/api/v1/houses…`.
pub fn routes() -> Routes {
    let building = |required: bool| {
        let mut v = vec![
            ("node_code", s::node_code()),
            ("name", s::name()),
            ("address?", s::nullable(s::note(200, false))),
            ("lon?", s::nullable(s::number(-180.0, 180.0))),
            ("lat?", s::nullable(s::number(-90.0, 90.0))),
            ("footprint?", s::nullable(s::geometry())),
            ("floors?", s::nullable(s::integer(1, 200))),
        ];
        if !required {
            // In a change, null keeps the value, as an absent field does.
            v[0] = ("node_code?", s::nullable(v[0].1.clone()));
            v[1] = ("name?", s::nullable(v[1].1.clone()));
        }
        v
    };
    let house = |required: bool| {
        let mut v = vec![
            ("room", s::name()),
            (
                "use",
                s::one_of(&["self_occupied", "rented", "vacant", "commercial"]),
            ),
            ("building_id?", s::nullable(s::int64())),
            ("node_code?", s::nullable(s::node_code())),
            ("area?", s::nullable(s::number(0.0, 1_000_000.0))),
            ("owner_resident_id?", s::nullable(s::int64())),
            ("owner_name?", s::nullable(s::note(100, false))),
        ];
        if !required {
            v[0] = ("room?", s::nullable(v[0].1.clone()));
            v[1] = ("use?", s::nullable(v[1].1.clone()));
        }
        v
    };
    Routes::new()
        .get(
            "/api/v1/buildings",
            list_buildings,
            list_params(
                Doc::new("house", "Buildings of an area, or of the map's view"),
                MAX_LIST,
            )
            .query(
                "bbox",
                bbox(),
                "min_lon,min_lat,max_lon,max_lat: only buildings drawn there",
            ),
        )
        .post(
            "/api/v1/buildings",
            create_building,
            Doc::new("house", "Register a building")
                .body(&building(true))
                .created(),
        )
        .get(
            "/api/v1/buildings/{id}",
            show_building,
            Doc::new(
                "house",
                "A building with its houses and their occupants (masked)",
            )
            .path("id", s::int64()),
        )
        .patch(
            "/api/v1/buildings/{id}",
            update_building,
            Doc::new("house", "Change a building")
                .path("id", s::int64())
                .body(&building(false)),
        )
        .post(
            "/api/v1/houses",
            create_house,
            Doc::new(
                "house",
                "Register a house (a room of a building, or a house of a village)",
            )
            .body(&house(true))
            .created(),
        )
        .get(
            "/api/v1/houses/{id}",
            show_house,
            Doc::new("house", "A house with its owner and occupants (masked)")
                .path("id", s::int64()),
        )
        .patch(
            "/api/v1/houses/{id}",
            update_house,
            Doc::new("house", "Change a house")
                .path("id", s::int64())
                .body(&house(false)),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    bbox: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
}

async fn list_buildings(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let root = list_root(&user, q.node.as_deref())?;
    let limit = limit(q.limit, 200, MAX_LIST)?;
    let w = Within {
        path: root.path(),
        bbox: q.bbox.as_deref().map(parse_bbox).transpose()?,
        after: q.after.unwrap_or(0),
        limit,
    };
    let rows = shanzhi_store::house::buildings(&app.db, &w).await?;
    let last = rows.last().map(|b| b.id);
    Ok(axum::Json(page(
        rows.iter().map(Building::to_json).collect(),
        last,
        limit,
    )))
}

/// A building's fields as sent; on a change, a field left out (or null) keeps its value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildingBody {
    node_code: Option<String>,
    name: Option<String>,
    address: Option<String>,
    lon: Option<f64>,
    lat: Option<f64>,
    footprint: Option<Value>,
    floors: Option<i64>,
}

async fn building_input(
    app: &AppState,
    user: &CurrentUser,
    b: BuildingBody,
    before: Option<&Building>,
) -> ApiResult<BuildingInput> {
    let node_code = match (&b.node_code, before) {
        (Some(raw), _) => target_node(app, user, raw, "node_code").await?,
        (None, Some(old)) => shanzhi_domain::tree::NodeCode::parse(&old.node_code)
            .map_err(|_| ApiError::internal(anyhow::anyhow!("bad stored node")))?,
        (None, None) => return Err(ApiError::invalid("node_code", "is missing")),
    };
    let name = match (&b.name, before) {
        (Some(n), _) => parse_building_name(n)?,
        (None, Some(old)) => old.name.clone(),
        (None, None) => return Err(ApiError::invalid("name", "is missing")),
    };
    let point = match (b.lon, b.lat, before) {
        (None, None, Some(old)) => old.lon.zip(old.lat),
        (lon, lat, _) => parse_point(lon, lat)?.map(|p| (p.lon(), p.lat())),
    };
    let footprint = match (&b.footprint, before) {
        (Some(v), _) => Some(parse_footprint(v)?.to_geojson().to_string()),
        (None, Some(old)) => old.footprint.clone(),
        (None, None) => None,
    };
    Ok(BuildingInput {
        node_code,
        name,
        address: match (&b.address, before) {
            (Some(a), _) => parse_address(a)?,
            (None, Some(old)) => old.address.clone(),
            (None, None) => None,
        },
        point,
        footprint,
        floors: match (b.floors, before) {
            (Some(n), _) => Some(parse_floors(n)?),
            (None, Some(old)) => old.floors,
            (None, None) => None,
        },
    })
}

async fn create_building(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<BuildingBody>,
) -> ApiResult<impl IntoResponse> {
    let input = building_input(&app, &user, b, None).await?;
    let row =
        shanzhi_store::house::insert_building(&app.db, &input, user.user.id, app.clock.now_ms())
            .await?;
    Ok((StatusCode::CREATED, axum::Json(row.to_json())))
}

/// An occupant as a house card shows them: ID number and phone always masked; with the room
/// the name is an address of a person, so those who may not reveal personal data here (leaders,
/// analysts) see it masked too.
fn occupant(o: &Occupant, reveal: bool) -> Value {
    let mut v = o.to_json();
    if !reveal {
        v["name"] = json!(mask_name(&o.name));
    }
    v
}

async fn find_building(app: &AppState, id: i64) -> ApiResult<Building> {
    found(
        shanzhi_store::house::building(&app.db, id).await,
        "building",
    )
}

async fn show_building(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let b = find_building(&app, id).await?;
    let a = readable(&user, &b.node_code, "building")?;
    let houses = shanzhi_store::house::houses_of(&app.db, id).await?;
    let occupants = shanzhi_store::house::occupants_of_building(&app.db, id).await?;
    let mut out = b.to_json();
    out["houses"] = json!(houses
        .iter()
        .map(|h| {
            let mut v = h.to_json();
            v["occupants"] = json!(occupants
                .iter()
                .filter(|o| o.house_id == Some(h.id))
                .map(|o| occupant(o, a.reveal))
                .collect::<Vec<_>>());
            v
        })
        .collect::<Vec<_>>());
    Ok(axum::Json(out))
}

async fn update_building(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<BuildingBody>,
) -> ApiResult<impl IntoResponse> {
    let before = find_building(&app, id).await?;
    writable(&user, &before.node_code, "building")?;
    let input = building_input(&app, &user, b, Some(&before)).await?;
    let row = shanzhi_store::house::update_building(
        &app.db,
        &before,
        &input,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    Ok(axum::Json(row.to_json()))
}

/// A house's fields as sent; on a change, a field left out (or null) keeps its value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HouseBody {
    room: Option<String>,
    #[serde(rename = "use")]
    use_kind: Option<String>,
    building_id: Option<i64>,
    node_code: Option<String>,
    area: Option<f64>,
    owner_resident_id: Option<i64>,
    owner_name: Option<String>,
}

async fn house_input(
    app: &AppState,
    user: &CurrentUser,
    b: HouseBody,
    before: Option<&House>,
) -> ApiResult<HouseInput> {
    let building_id = b.building_id.or(before.and_then(|h| h.building_id));
    // A house in a building is filed at the building's node.
    let node_code = match (building_id, &b.node_code, before) {
        (Some(bid), given, _) => {
            let building = match shanzhi_store::house::building(&app.db, bid).await {
                Err(StoreError::NotFound) => {
                    return Err(ApiError::not_found("building").with_field("building_id"))
                }
                other => other?,
            };
            if !super::base::access(user, &building.node_code).write {
                return Err(ApiError::not_found("building").with_field("building_id"));
            }
            if given
                .as_deref()
                .is_some_and(|g| g.trim() != building.node_code)
            {
                return Err(ApiError::conflict(
                    Some("node_code"),
                    "a house is filed at its building's node",
                ));
            }
            target_node(app, user, &building.node_code, "building_id").await?
        }
        (None, Some(raw), _) => target_node(app, user, raw, "node_code").await?,
        (None, None, Some(old)) => target_node(app, user, &old.node_code, "node_code").await?,
        (None, None, None) => {
            return Err(ApiError::invalid(
                "node_code",
                "give the building or the node of a house",
            ))
        }
    };
    let room = match (&b.room, before) {
        (Some(r), _) => parse_room(r)?,
        (None, Some(old)) => old.room.clone(),
        (None, None) => return Err(ApiError::invalid("room", "is missing")),
    };
    let use_kind = match (&b.use_kind, before) {
        (Some(u), _) => HouseUse::parse(u)?.as_str().to_owned(),
        (None, Some(old)) => old.use_kind.clone(),
        (None, None) => return Err(ApiError::invalid("use", "is missing")),
    };
    let area = match (b.area, before) {
        (Some(a), _) if !(a.is_finite() && (0.0..=1_000_000.0).contains(&a)) => {
            return Err(ApiError::invalid("area", "must be between 0 and 1000000"))
        }
        (Some(a), _) => Some(a),
        (None, old) => old.and_then(|h| h.area),
    };
    let owner = if b.owner_resident_id.is_none() && b.owner_name.is_none() {
        before.and_then(|h| match (h.owner_resident_id, &h.owner_name) {
            (Some(id), _) => Some(Owner::Resident(id)),
            (None, Some(n)) => Some(Owner::Named(n.clone())),
            _ => None,
        })
    } else {
        Owner::parse(b.owner_resident_id, b.owner_name.as_deref())?
    };
    if let Some(Owner::Resident(rid)) = &owner {
        if !resident_known(app, user, *rid).await? {
            return Err(ApiError::not_found("resident").with_field("owner_resident_id"));
        }
    }
    let (owner_resident_id, owner_name) = match owner {
        Some(Owner::Resident(id)) => (Some(id), None),
        Some(Owner::Named(n)) => (None, Some(n)),
        None => (None, None),
    };
    Ok(HouseInput {
        building_id,
        node_code,
        room,
        use_kind,
        area,
        owner_resident_id,
        owner_name,
    })
}

async fn create_house(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<HouseBody>,
) -> ApiResult<impl IntoResponse> {
    let input = house_input(&app, &user, b, None).await?;
    let row = shanzhi_store::house::insert_house(&app.db, &input, user.user.id, app.clock.now_ms())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(row.to_json())))
}

async fn find_house(app: &AppState, id: i64) -> ApiResult<House> {
    found(shanzhi_store::house::house(&app.db, id).await, "house")
}

async fn show_house(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let h = find_house(&app, id).await?;
    let a = readable(&user, &h.node_code, "house")?;
    let occupants = shanzhi_store::house::occupants(&app.db, id).await?;
    let mut out = h.to_json();
    out["occupants"] = json!(occupants
        .iter()
        .map(|o| occupant(o, a.reveal))
        .collect::<Vec<_>>());
    Ok(axum::Json(out))
}

async fn update_house(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<HouseBody>,
) -> ApiResult<impl IntoResponse> {
    let before = find_house(&app, id).await?;
    writable(&user, &before.node_code, "house")?;
    let input = house_input(&app, &user, b, Some(&before)).await?;
    let row = shanzhi_store::house::update_house(
        &app.db,
        &before,
        &input,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    Ok(axum::Json(row.to_json()))
}
