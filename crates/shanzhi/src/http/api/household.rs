//! Households (户) over HTTP: list, create, open with members, change number, house and head,
//! members joining and leaving. Scoped like residents (`base_access` at the household's node);
//! members answered masked.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::household::{parse_number, Relation};
use shanzhi_domain::resident::{base_access, BaseAccess};
use shanzhi_domain::user::Role;
use shanzhi_store::household::{HouseholdRow, Refusal};
use shanzhi_store::resident::ResidentRow;
use shanzhi_store::StoreError;

use super::doc::{schema as s, Doc, Routes};
use super::resident::{need_write, node_for};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{next_page, page_limit, present, CurrentUser, Json, Query};
use crate::http::state::AppState;

/// Most households one page lists.
const MAX_LIMIT: i64 = 200;

fn relation() -> Value {
    s::one_of(&[
        "head",
        "spouse",
        "child",
        "parent",
        "grandchild",
        "sibling",
        "other",
    ])
}

fn number() -> Value {
    s::pattern(r"^[0-9A-Za-z-]{0,40}$")
}

/// `/api/v1/households…`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/households",
            list,
            Doc::new(
                "household",
                "Households of a subtree (staff with base-data access)",
            )
            .query(
                "node",
                s::node_code(),
                "the subtree (default: the user's area)",
            )
            .query("cursor", s::int64(), "next_cursor of the previous page")
            .query(
                "limit",
                s::integer(1, MAX_LIMIT),
                "at most 200 (default 50)",
            ),
        )
        .post(
            "/api/v1/households",
            create,
            Doc::new(
                "household",
                "Create a household at a node (grid workers, dispatchers, administrators)",
            )
            .body(&[
                ("node", s::node_code()),
                ("number?", s::nullable(number())),
                ("house_id?", s::nullable(s::int64())),
            ])
            .created(),
        )
        .get(
            "/api/v1/households/{id}",
            show,
            Doc::new(
                "household",
                "A household with its members and their relation to the head, masked",
            )
            .path("id", s::int64()),
        )
        .patch(
            "/api/v1/households/{id}",
            update,
            Doc::new(
                "household",
                "Change a household's number, house or head (optimistic on version)",
            )
            .path("id", s::int64())
            .body(&[
                ("version?", s::nullable(s::int64())),
                ("number?", s::nullable(number())),
                ("house_id?", s::nullable(s::int64())),
                ("head_resident_id?", s::nullable(s::int64())),
                (
                    "former_relation?",
                    s::nullable(s::one_of(&[
                        "spouse",
                        "child",
                        "parent",
                        "grandchild",
                        "sibling",
                        "other",
                    ])),
                ),
            ]),
        )
        .post(
            "/api/v1/households/{id}/members",
            add_member,
            Doc::new(
                "household",
                "Add a resident of the household's node as a member (one head per household)",
            )
            .path("id", s::int64())
            .body(&[("resident_id", s::int64()), ("relation", relation())]),
        )
        .post(
            "/api/v1/households/{id}/members/{resident_id}/remove",
            remove_member,
            Doc::new(
                "household",
                "Take a member out of the household (the head leaves last)",
            )
            .path("id", s::int64())
            .path("resident_id", s::int64()),
        )
}

/// A household with its members (masked), as answers show it.
pub(crate) async fn with_members(app: &AppState, hh: &HouseholdRow) -> ApiResult<Value> {
    let members = shanzhi_store::resident::by_household(&app.db, hh.id).await?;
    let mut v = hh.to_json();
    v["members"] = json!(members.iter().map(ResidentRow::to_json).collect::<Vec<_>>());
    Ok(v)
}

/// The household `id` and what the user may do with it; 404 when they may not read it (a
/// citizen reads their own household, by record).
async fn visible(
    app: &AppState,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<(HouseholdRow, BaseAccess)> {
    let hh = shanzhi_store::household::get(&app.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("household"))?;
    let access = if user.actor.role == Role::Citizen {
        let own = shanzhi_store::resident::of_user(&app.db, user.user.id).await?;
        BaseAccess {
            read: own.is_some_and(|me| me.household_id == Some(hh.id)),
            ..BaseAccess::NONE
        }
    } else {
        base_access(&user.actor, &hh.node()?)
    };
    if !access.read {
        return Err(ApiError::not_found("household"));
    }
    Ok((hh, access))
}

fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::Rule(e) => e.into(),
        Refusal::OtherNode => ApiError::conflict(
            Some("resident_id"),
            "the resident lives at another node than the household",
        ),
        Refusal::Elsewhere => ApiError::conflict(
            Some("resident_id"),
            "the resident is in another household already",
        ),
        Refusal::NotMember => {
            ApiError::conflict(Some("resident_id"), "not a member of this household")
        }
    }
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict { constraint } if constraint.contains("house") => {
            ApiError::not_found("house").with_field("house_id")
        }
        e => e.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    cursor: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let node = node_for(&user, q.node.as_deref(), |a| a.read)?;
    let limit = page_limit(q.limit, 50, MAX_LIMIT)?;
    let mut rows =
        shanzhi_store::household::list(&app.db, node.path(), q.cursor, limit + 1).await?;
    let next = next_page(&mut rows, limit, |r| r.id);
    Ok(axum::Json(
        json!({"items": rows.iter().map(HouseholdRow::to_json).collect::<Vec<_>>(), "next_cursor": next}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    node: String,
    number: Option<String>,
    house_id: Option<i64>,
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let node = node_for(&user, Some(&b.node), |a| a.write)?;
    let number = b.number.as_deref().map(parse_number).transpose()?.flatten();
    let hh = shanzhi_store::household::insert(
        &app.db,
        &node,
        number.as_deref(),
        b.house_id,
        Some(user.user.id),
        app.clock.now_ms(),
    )
    .await
    .map_err(store_error)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(with_members(&app, &hh).await?),
    ))
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let (hh, access) = visible(&app, &user, id).await?;
    let mut v = with_members(&app, &hh).await?;
    v["can"] = json!({"write": access.write});
    Ok(axum::Json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    version: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    number: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    house_id: Option<Option<i64>>,
    head_resident_id: Option<i64>,
    former_relation: Option<String>,
}

async fn update(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<UpdateBody>,
) -> ApiResult<impl IntoResponse> {
    let (mut hh, access) = visible(&app, &user, id).await?;
    need_write(&access)?;
    let now = app.clock.now_ms();
    let number = match &b.number {
        Some(n) => Some(n.as_deref().map(parse_number).transpose()?.flatten()),
        None => None,
    };
    let former = b
        .former_relation
        .as_deref()
        .map(Relation::parse)
        .transpose()?
        .unwrap_or(Relation::Other);
    if b.version.is_some_and(|v| v != hh.version) {
        return Err(StoreError::Stale.into());
    }
    if number.is_some() || b.house_id.is_some() {
        hh = shanzhi_store::household::update(
            &app.db,
            id,
            b.version,
            number,
            b.house_id,
            Some(user.user.id),
            now,
        )
        .await
        .map_err(store_error)?;
    }
    if let Some(head) = b.head_resident_id {
        hh = shanzhi_store::household::set_head(&app.db, id, head, former, Some(user.user.id), now)
            .await?
            .map_err(refusal)?;
    }
    Ok(axum::Json(with_members(&app, &hh).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberBody {
    resident_id: i64,
    relation: String,
}

async fn add_member(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<MemberBody>,
) -> ApiResult<impl IntoResponse> {
    let (_, access) = visible(&app, &user, id).await?;
    need_write(&access)?;
    let relation = Relation::parse(&b.relation)?;
    // The resident must be one the user may read: an unknown one and a hidden one look alike.
    super::resident::visible(&app, &user, b.resident_id).await?;
    let row = shanzhi_store::household::add_member(
        &app.db,
        id,
        b.resident_id,
        relation,
        Some(user.user.id),
        app.clock.now_ms(),
    )
    .await?
    .map_err(refusal)?;
    Ok(axum::Json(row.to_json()))
}

async fn remove_member(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, resident_id)): Path<(i64, i64)>,
) -> ApiResult<impl IntoResponse> {
    let (_, access) = visible(&app, &user, id).await?;
    need_write(&access)?;
    shanzhi_store::household::remove_member(
        &app.db,
        id,
        resident_id,
        Some(user.user.id),
        app.clock.now_ms(),
    )
    .await?
    .map_err(refusal)?;
    let hh = shanzhi_store::household::get(&app.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("household"))?;
    Ok(axum::Json(with_members(&app, &hh).await?))
}
