//! Residents (实有人口) over HTTP: the scoped register with exact search by ID number or phone,
//! a person's card, changes, moving out, and the audited reveal of one field. Every answer is
//! masked; out-of-scope records answer 404.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Datelike;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::calendar::local_date;
use shanzhi_domain::resident::record::{
    birth_years_of_ages, parse_ethnicity, parse_gender, parse_identity, parse_person_name,
    parse_workplace, IdKind, Identity,
};
use shanzhi_domain::resident::{base_access, BaseAccess, Residence, ResidentInput, Status};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::person::Phone;
use shanzhi_domain::user::Role;
use shanzhi_store::resident::{Change, Field, Filter, Placement, ResidentRow};
use shanzhi_store::StoreError;

use super::doc::{schema as s, Doc, Routes};
use super::person::{check_purpose, MAX_PURPOSE_CHARS};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{page_limit, present, CurrentUser, Json, Query};
use crate::http::state::AppState;

/// Most residents one page lists.
const MAX_LIMIT: i64 = 200;

/// Schemas shared with the household and correction routes.
pub(crate) mod schema {
    use serde_json::Value;

    use super::s;

    pub fn person_name() -> Value {
        serde_json::json!({"type": "string", "minLength": 1, "maxLength": 50,
            "pattern": r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"})
    }
    pub fn gender() -> Value {
        s::one_of(&["male", "female"])
    }
    pub fn id_kind() -> Value {
        s::one_of(&["resident_id", "passport", "other"])
    }
    /// An identity number as typed (checked by its kind: GB 11643 for a resident ID).
    pub fn id_number() -> Value {
        s::pattern(r"^[0-9A-Za-z -]{4,60}$")
    }
    pub fn phone() -> Value {
        s::pattern(r"^[ -]*(\+[ -]*8[ -]*6)?[ -]*1([ -]*[0-9]){10}[ -]*$")
    }
    /// A tag code as the catalogue writes them (`elderly_alone`).
    pub fn tag() -> Value {
        s::pattern("^[a-z][a-z0-9_]{1,39}$")
    }
    /// The name filter: a name's characters (no control characters), blank for any.
    pub fn name_filter() -> Value {
        serde_json::json!({"type": "string", "maxLength": 50, "pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"})
    }
    pub fn residence() -> Value {
        s::one_of(&["registered", "floating", "overseas"])
    }
    pub fn status() -> Value {
        s::one_of(&["present", "moved_out", "deceased"])
    }
    pub fn ethnicity() -> Value {
        s::one_of(shanzhi_domain::resident::record::ETHNICITIES)
    }
    pub fn workplace() -> Value {
        s::pattern(r"^[^\x00-\x1f\x7f-\x9f]{0,100}$")
    }
}

/// `/api/v1/residents…`.
pub fn routes() -> Routes {
    use schema as r;
    Routes::new()
        .get("/api/v1/residents", list, Doc::new("resident",
            "The residents of a subtree (staff with base-data access), masked; exact search by ID number or phone through the blind index")
            .query("node", s::node_code(), "the subtree (default: the user's area)")
            .query("q", r::name_filter(), "names beginning with this (blank: any)")
            .query("residence", r::residence(), "registered, floating or overseas")
            .query("gender", r::gender(), "male or female")
            .query("tag", r::tag(), "a care or attention tag code")
            .query("age_from", s::integer(0, 200), "youngest age")
            .query("age_to", s::integer(0, 200), "oldest age")
            .query("status", r::status(), "present (default: all)")
            .query("household", s::int64(), "members of this household")
            .query("cursor", s::int64(), "next_cursor of the previous page")
            .query("limit", s::integer(1, MAX_LIMIT), "at most 200 (default 50)"))
        .post("/api/v1/residents/search", search, Doc::new("resident",
            "The same list with exact search by ID number or phone, given in the body so that they never appear in a URL (proxy logs, browser history)")
            .body(&[
                ("node?", s::nullable(s::node_code())),
                ("q?", s::nullable(r::name_filter())),
                ("id_number?", s::nullable(r::id_number())),
                ("phone?", s::nullable(r::phone())),
                ("residence?", s::nullable(r::residence())),
                ("gender?", s::nullable(r::gender())),
                ("tag?", s::nullable(r::tag())),
                ("age_from?", s::nullable(s::integer(0, 200))),
                ("age_to?", s::nullable(s::integer(0, 200))),
                ("status?", s::nullable(r::status())),
                ("household?", s::nullable(s::int64())),
                ("cursor?", s::nullable(s::int64())),
                ("limit?", s::nullable(s::integer(1, MAX_LIMIT))),
            ]))
        .post("/api/v1/residents", create, Doc::new("resident",
            "Register a resident (grid workers, dispatchers, administrators in their area); the ID number is checked (GB 11643) and sealed")
            .body(&[
                ("node", s::node_code()),
                ("name", r::person_name()),
                ("gender?", s::nullable(r::gender())),
                ("birth_year?", s::nullable(s::integer(1850, 2100))),
                ("id_kind", r::id_kind()),
                ("id_number?", s::nullable(r::id_number())),
                ("phone?", s::nullable(r::phone())),
                ("ethnicity?", s::nullable(r::ethnicity())),
                ("residence", r::residence()),
                ("workplace?", s::nullable(r::workplace())),
                ("house_id?", s::nullable(s::int64())),
            ])
            .created())
        .get("/api/v1/residents/{id}", show, Doc::new("resident",
            "A person's card: the record masked, their household with its members, their tags")
            .path("id", s::int64()))
        .patch("/api/v1/residents/{id}", update, Doc::new("resident",
            "Change a resident (optimistic on version); answered masked")
            .path("id", s::int64())
            .body(&[
                ("version?", s::nullable(s::int64())),
                ("node?", s::nullable(s::node_code())),
                ("name?", s::nullable(r::person_name())),
                ("gender?", s::nullable(r::gender())),
                ("birth_year?", s::nullable(s::integer(1850, 2100))),
                ("id_kind?", s::nullable(r::id_kind())),
                ("id_number?", s::nullable(r::id_number())),
                ("phone?", s::nullable(r::phone())),
                ("ethnicity?", s::nullable(r::ethnicity())),
                ("residence?", s::nullable(r::residence())),
                ("workplace?", s::nullable(r::workplace())),
                ("house_id?", s::nullable(s::int64())),
                ("user_id?", s::nullable(s::int64())),
            ]))
        .post("/api/v1/residents/{id}/move_out", move_out, Doc::new("resident",
            "Record that a resident moved out, died, or came back (status); the figures follow")
            .path("id", s::int64())
            .body(&[
                ("status?", s::nullable(s::one_of(&["moved_out", "deceased", "present"]))),
                ("note?", s::nullable(s::note(MAX_NOTE_CHARS, false))),
                ("version?", s::nullable(s::int64())),
            ]))
        .post("/api/v1/residents/{id}/reveal", reveal, Doc::new("resident",
            "Reveal one field (ID number or phone) with a stated purpose; audited with the purpose, never the value")
            .path("id", s::int64())
            .body(&[
                ("field", s::one_of(&["id_number", "phone"])),
                ("purpose", s::note(MAX_PURPOSE_CHARS, true)),
            ]))
}

/// The resident `id` and what `user` may do with it; 404 when they may not read it. A citizen
/// reads the members of their own household (by record), nothing else.
pub(crate) async fn visible(
    app: &AppState,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<(ResidentRow, BaseAccess)> {
    let row = shanzhi_store::resident::get(&app.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("resident"))?;
    let access = access_to(app, user, &row).await?;
    if !access.read {
        return Err(ApiError::not_found("resident"));
    }
    Ok((row, access))
}

/// What `user` may do with the resident `row`.
async fn access_to(app: &AppState, user: &CurrentUser, row: &ResidentRow) -> ApiResult<BaseAccess> {
    if user.actor.role == Role::Citizen {
        let own = shanzhi_store::resident::of_user(&app.db, user.user.id).await?;
        let mine = own.is_some_and(|me| {
            me.id == row.id || (me.household_id.is_some() && me.household_id == row.household_id)
        });
        return Ok(BaseAccess {
            read: mine,
            ..BaseAccess::NONE
        });
    }
    Ok(base_access(&user.actor, &row.node()?))
}

/// Longest note of a move out or a correction, in characters.
pub(crate) const MAX_NOTE_CHARS: usize = 500;

/// A note as typed: trimmed, at most 500 characters, no control characters but line breaks
/// and tabs; none is empty.
pub(crate) fn check_note(raw: Option<&str>) -> ApiResult<String> {
    let note = raw.unwrap_or("").trim();
    if note.chars().count() > MAX_NOTE_CHARS
        || note
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ApiError::invalid(
            "note",
            "at most 500 characters, no control characters",
        ));
    }
    Ok(note.to_owned())
}

/// 403 unless `access` allows changes (the record itself is readable: 404 came first).
pub(crate) fn need_write(access: &BaseAccess) -> ApiResult<()> {
    if access.write {
        Ok(())
    } else {
        Err(ApiError::forbidden("your role may not change the register"))
    }
}

/// The node a list or a new record names (default: the user's area), which the user must
/// `need` (read or write) there; 404 outside their area, 403 for roles without base data.
pub(crate) fn node_for(
    user: &CurrentUser,
    node: Option<&str>,
    need: fn(&BaseAccess) -> bool,
) -> ApiResult<NodeCode> {
    let Some(root) = user.actor.scope.node() else {
        return Err(ApiError::forbidden(
            "the register is for staff; citizens see their own household",
        ));
    };
    let node = match node {
        Some(n) => NodeCode::parse(n)
            .map_err(|_| ApiError::invalid("node", "not a region or grid code"))?,
        None => root.clone(),
    };
    if !user.actor.reaches(&node) {
        return Err(ApiError::not_found("node"));
    }
    if !need(&base_access(&user.actor, &node)) {
        return Err(ApiError::forbidden(
            "your role may not do this with the register",
        ));
    }
    Ok(node)
}

/// An identity number as searched: a resident ID is checked (so a mistyped one is refused
/// with its reason), anything else read as a passport or other number.
fn searched_identity(raw: &str, now: i64) -> ApiResult<Identity> {
    let looks_resident = raw.chars().filter(|c| !c.is_whitespace()).count() == 18;
    let kind = if looks_resident {
        IdKind::ResidentId
    } else {
        IdKind::Other
    };
    Ok(parse_identity(kind, raw, now)?)
}

/// The list's filters. In a query string (GET) without the ID number and the phone: those only
/// in the body of `POST /api/v1/residents/search`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    q: Option<String>,
    #[serde(default, skip)]
    id_number: Option<String>,
    #[serde(default, skip)]
    phone: Option<String>,
    residence: Option<String>,
    gender: Option<String>,
    tag: Option<String>,
    age_from: Option<i32>,
    age_to: Option<i32>,
    status: Option<String>,
    household: Option<i64>,
    cursor: Option<i64>,
    limit: Option<i64>,
}

/// The body of an exact search (the list's filters, with the ID number and the phone).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchBody {
    node: Option<String>,
    q: Option<String>,
    id_number: Option<String>,
    phone: Option<String>,
    residence: Option<String>,
    gender: Option<String>,
    tag: Option<String>,
    age_from: Option<i32>,
    age_to: Option<i32>,
    status: Option<String>,
    household: Option<i64>,
    cursor: Option<i64>,
    limit: Option<i64>,
}

async fn search(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<SearchBody>,
) -> ApiResult<impl IntoResponse> {
    let q = ListQuery {
        node: b.node,
        q: b.q,
        id_number: b.id_number,
        phone: b.phone,
        residence: b.residence,
        gender: b.gender,
        tag: b.tag,
        age_from: b.age_from,
        age_to: b.age_to,
        status: b.status,
        household: b.household,
        cursor: b.cursor,
        limit: b.limit,
    };
    listed(&app, &user, q).await
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    listed(&app, &user, q).await
}

async fn listed(app: &AppState, user: &CurrentUser, q: ListQuery) -> ApiResult<Response> {
    let node = node_for(user, q.node.as_deref(), |a| a.read)?;
    let now = app.clock.now_ms();
    let limit = page_limit(q.limit, 50, MAX_LIMIT)?;
    for (field, age) in [("age_from", q.age_from), ("age_to", q.age_to)] {
        if age.is_some_and(|a| !(0..=200).contains(&a)) {
            return Err(ApiError::invalid(field, "must be between 0 and 200"));
        }
    }
    let name_prefix =
        match q.q.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => Some(parse_person_name(n).map_err(|_| {
                ApiError::invalid("q", "at most 50 characters, no control characters")
            })?),
            _ => None,
        };
    let (born_from, born_to) = birth_years_of_ages(local_date(now).year(), q.age_from, q.age_to);
    let f = Filter {
        under: node.path().to_owned(),
        name_prefix,
        id_number: q
            .id_number
            .as_deref()
            .map(|n| searched_identity(n, now))
            .transpose()?
            .map(|i| i.expose().to_owned()),
        phone: q
            .phone
            .as_deref()
            .map(Phone::parse)
            .transpose()?
            .map(|p| p.expose().to_owned()),
        residence: q.residence.as_deref().map(Residence::parse).transpose()?,
        gender: q
            .gender
            .as_deref()
            .map(parse_gender)
            .transpose()?
            .map(|g| g.as_str().to_owned()),
        tag: q
            .tag
            .as_deref()
            .map(shanzhi_domain::tag::TagCode::parse)
            .transpose()?
            .map(|t| t.as_str().to_owned()),
        born_from,
        born_to,
        status: q.status.as_deref().map(Status::parse).transpose()?,
        household_id: q.household,
        after: q.cursor,
        limit,
    };
    let page = shanzhi_store::resident::list(&app.db, &app.pii, &f).await?;
    // The items are JSON already (the database wrote them): passed through, not parsed.
    let next = page
        .next_cursor
        .map_or_else(|| "null".to_owned(), |n| n.to_string());
    let body = format!("{{\"items\":{},\"next_cursor\":{next}}}", page.items);
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    node: String,
    name: String,
    gender: Option<String>,
    birth_year: Option<i64>,
    id_kind: String,
    id_number: Option<String>,
    phone: Option<String>,
    ethnicity: Option<String>,
    residence: String,
    workplace: Option<String>,
    house_id: Option<i64>,
}

/// A refused insert or change as the client sees it: a duplicate ID number names the node of
/// the record that holds it (the number masked), a missing house its field.
pub(crate) async fn write_error(
    app: &AppState,
    e: StoreError,
    identity: Option<&Identity>,
) -> ApiError {
    match e {
        StoreError::Conflict { constraint } if constraint.contains("id_idx") => {
            let at = match identity {
                Some(i) => shanzhi_store::resident::holder_of(&app.db, &app.pii, i.expose())
                    .await
                    .ok()
                    .flatten()
                    .map(|r| r.node_code),
                None => None,
            };
            let masked = identity.map(Identity::masked).unwrap_or_default();
            ApiError::conflict(
                Some("id_number"),
                match at {
                    Some(node) => {
                        format!("the ID number {masked} is registered already, at {node}")
                    }
                    None => format!("the ID number {masked} is registered already"),
                },
            )
        }
        StoreError::Conflict { constraint } if constraint.contains("house") => {
            ApiError::not_found("house").with_field("house_id")
        }
        e => e.into(),
    }
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let node = node_for(&user, Some(&b.node), |a| a.write)?;
    let now = app.clock.now_ms();
    let input = ResidentInput {
        name: b.name,
        gender: b.gender,
        birth_year: b.birth_year,
        id_kind: b.id_kind,
        id_number: b.id_number,
        phone: b.phone,
        ethnicity: b.ethnicity,
        residence: b.residence,
        workplace: b.workplace,
    };
    let r = input.check(now)?;
    let at = Placement {
        node,
        house_id: b.house_id,
        user_id: None,
    };
    match shanzhi_store::resident::insert(&app.db, &app.pii, &r, &at, Some(user.user.id), now).await
    {
        Ok(row) => Ok((StatusCode::CREATED, axum::Json(row.to_json()))),
        Err(e) => Err(write_error(&app, e, r.identity.as_ref()).await),
    }
}

/// A resident's card: the record, their tags, and their household with its members.
pub(crate) async fn card(app: &AppState, row: &ResidentRow) -> ApiResult<Value> {
    let mut v = row.to_json();
    v["tags"] = json!(shanzhi_store::resident::tags(&app.db, row.id).await?);
    v["household"] = match row.household_id {
        Some(h) => match shanzhi_store::household::get(&app.db, h).await? {
            Some(hh) => super::household::with_members(app, &hh).await?,
            None => Value::Null,
        },
        None => Value::Null,
    };
    Ok(v)
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let (row, access) = visible(&app, &user, id).await?;
    let mut v = card(&app, &row).await?;
    v["can"] = json!({"write": access.write, "reveal": access.reveal});
    Ok(axum::Json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    version: Option<i64>,
    node: Option<String>,
    name: Option<String>,
    gender: Option<String>,
    birth_year: Option<i64>,
    id_kind: Option<String>,
    id_number: Option<String>,
    #[serde(default, deserialize_with = "present")]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    ethnicity: Option<Option<String>>,
    residence: Option<String>,
    #[serde(default, deserialize_with = "present")]
    workplace: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    house_id: Option<Option<i64>>,
    /// The citizen account that is this person.
    #[serde(default, deserialize_with = "present")]
    user_id: Option<Option<i64>>,
}

async fn update(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<UpdateBody>,
) -> ApiResult<impl IntoResponse> {
    let (row, access) = visible(&app, &user, id).await?;
    need_write(&access)?;
    let now = app.clock.now_ms();
    let node = match &b.node {
        Some(n) => Some(node_for(&user, Some(n), |a| a.write)?),
        None => None,
    };
    let kind = b.id_kind.as_deref().map(IdKind::parse).transpose()?;
    let identity = match (&b.id_number, kind) {
        (Some(n), k) => Some(parse_identity(
            k.unwrap_or(IdKind::parse(&row.id_kind)?),
            n,
            now,
        )?),
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "id_number",
                "a new kind of document needs its number",
            ))
        }
        (None, None) => None,
    };
    let resident_id = match &identity {
        Some(i) => i.kind() == IdKind::ResidentId,
        None => row.id_kind == IdKind::ResidentId.as_str(),
    };
    if resident_id && (b.gender.is_some() || b.birth_year.is_some()) {
        let field = if b.gender.is_some() {
            "gender"
        } else {
            "birth_year"
        };
        return Err(ApiError::invalid(field, "taken from the ID number"));
    }
    let this_year = i64::from(local_date(now).year());
    if b.birth_year
        .is_some_and(|y| !(1850..=this_year).contains(&y))
    {
        return Err(ApiError::invalid(
            "birth_year",
            "must be a past year from 1850 on",
        ));
    }
    let (gender, birth_year) = match &identity {
        Some(Identity::Resident(n)) => (
            Some(n.sex().as_str().to_owned()),
            Some(i32::from(n.born().year)),
        ),
        _ => (
            b.gender
                .as_deref()
                .map(parse_gender)
                .transpose()?
                .map(|g| g.as_str().to_owned()),
            b.birth_year.map(|y| y as i32),
        ),
    };
    let blank = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let c = Change {
        name: b.name.as_deref().map(parse_person_name).transpose()?,
        identity: identity.clone(),
        gender,
        birth_year,
        phone: b
            .phone
            .as_ref()
            .map(|p| blank(p).as_deref().map(Phone::parse).transpose())
            .transpose()?,
        ethnicity: b
            .ethnicity
            .as_ref()
            .map(|e| blank(e).as_deref().map(parse_ethnicity).transpose())
            .transpose()?,
        residence: b.residence.as_deref().map(Residence::parse).transpose()?,
        workplace: b
            .workplace
            .as_ref()
            .map(|w| {
                blank(w)
                    .as_deref()
                    .map(parse_workplace)
                    .transpose()
                    .map(Option::flatten)
            })
            .transpose()?,
        house_id: b.house_id,
        node,
        user_id: b.user_id,
    };
    if let Some(Some(u)) = b.user_id {
        let account = shanzhi_store::user::get(&app.db, u).await;
        if !matches!(account, Ok(a) if a.role == Role::Citizen.as_str()) {
            return Err(ApiError::invalid("user_id", "not a citizen account"));
        }
    }
    if c.is_empty() {
        return Ok(axum::Json(row.to_json()));
    }
    match shanzhi_store::resident::update(
        &app.db,
        &app.pii,
        id,
        b.version,
        &c,
        "resident.update",
        Some(user.user.id),
        now,
    )
    .await
    {
        Ok(row) => Ok(axum::Json(row.to_json())),
        Err(e) => Err(write_error(&app, e, identity.as_ref()).await),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveOutBody {
    status: Option<String>,
    note: Option<String>,
    version: Option<i64>,
}

async fn move_out(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<MoveOutBody>,
) -> ApiResult<impl IntoResponse> {
    let (_, access) = visible(&app, &user, id).await?;
    need_write(&access)?;
    let to = match b.status.as_deref() {
        Some(s) => Status::parse(s)?,
        None => Status::MovedOut,
    };
    let note = check_note(b.note.as_deref())?;
    let note = note.as_str();
    let now = app.clock.now_ms();
    match shanzhi_store::resident::set_status(
        &app.db,
        id,
        b.version,
        to,
        note,
        Some(user.user.id),
        now,
    )
    .await?
    {
        Ok(row) => Ok(axum::Json(row.to_json())),
        Err(why) => Err(ApiError::conflict(Some("status"), why)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevealBody {
    field: String,
    purpose: String,
}

async fn reveal(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<RevealBody>,
) -> ApiResult<impl IntoResponse> {
    let (_, access) = visible(&app, &user, id).await?;
    if !access.reveal {
        return Err(ApiError::forbidden(
            "your role may not reveal personal data",
        ));
    }
    let field = match b.field.as_str() {
        "id_number" => Field::IdNumber,
        "phone" => Field::Phone,
        _ => {
            return Err(ApiError::invalid(
                "field",
                "must be one of: id_number phone",
            ))
        }
    };
    let purpose = check_purpose(&b.purpose)?;
    let value = shanzhi_store::resident::reveal(
        &app.db,
        &app.pii,
        id,
        field,
        purpose,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?
    .ok_or_else(|| ApiError::not_found(field.as_str()))?;
    Ok(axum::Json(json!({"field": field.as_str(), "value": value})))
}
