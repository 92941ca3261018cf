//! The register of collective contracts (集体经济合同) and their clean-up (一清三规范):
//! `/api/v1/contracts/…` and the citizen's `/api/v1/me/contracts`.
//!
//! The village committee (村委会) and the town's agency (三资代理中心) — duties an administrator
//! gives — register and change a village's contracts and move the clean-up of their flags, as
//! do administrators whose area holds the village. Staff whose area holds the village and duty
//! holders read them. A citizen reads the contracts of the villages they are registered in
//! (public disclosure of finance affairs), a private counterparty's name masked.
//!
//! The flags are raised and closed by the store in the transaction of each write (for the
//! contract and for its peers, whose median it moves) and by the daily recheck ([`sweep`]) for
//! the contracts whose term has ended.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::contract::{
    cleanup_move, Cleanup, CleanupRefusal, ContractKind, Flag, Limits, Unit,
};
use shanzhi_domain::ledger::{parse_yuan, Duty};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::person::mask_name;
use shanzhi_domain::user::Role;
use shanzhi_store::contract::{Contract, Filter, FlagRow, Values};
use shanzhi_store::event::LogEntry;
use shanzhi_store::StoreError;

use super::doc::{schema as s, Doc, Routes};
use super::village::{duties, holding, home_villages, reads, village};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json, Query};
use crate::http::state::AppState;

const MAX_NUMBER: usize = 40;
const MAX_NAME: usize = 100;
const MAX_TEXT: usize = 200;
const MAX_PHOTOS: usize = 20;
const AMOUNT: &str = r"^[0-9]{1,12}(\.[0-9]{1,2})?$";

fn contract_body(with_node: bool) -> Vec<(&'static str, Value)> {
    let mut b = vec![
        ("number", s::label(MAX_NUMBER)),
        (
            "kind",
            s::one_of(&ContractKind::ALL.map(ContractKind::as_str)),
        ),
        ("asset_name", s::label(MAX_NAME)),
        ("location?", s::nullable(s::note(MAX_TEXT, false))),
        ("area", s::pattern(AMOUNT)),
        ("unit", s::one_of(&Unit::ALL.map(Unit::as_str))),
        ("counterparty", s::label(MAX_NAME)),
        ("private_party?", s::nullable(s::boolean())),
        ("start", s::date()),
        ("end", s::date()),
        ("yearly_price", s::pattern(AMOUNT)),
        ("payment_terms?", s::nullable(s::note(MAX_TEXT, false))),
        ("meeting_date?", s::nullable(s::date())),
        ("meeting_ref?", s::nullable(s::note(MAX_NAME, false))),
        ("terminated?", s::nullable(s::boolean())),
        (
            "photos?",
            s::nullable(s::array_max(s::photo_hash(), MAX_PHOTOS)),
        ),
    ];
    if with_node {
        b.insert(0, ("node", s::node_code()));
    } else {
        b.push(("version", s::int64()));
    }
    b
}

/// `/api/v1/contracts/…`, `/api/v1/me/contracts`.
pub fn routes() -> Routes {
    let flags = Flag::ALL.map(Flag::as_str);
    let statuses = Cleanup::ALL.map(Cleanup::as_str);
    Routes::new()
        .get(
            "/api/v1/contracts",
            list,
            Doc::new("contract", "Contracts of the villages of an area, newest first, with their flags")
                .query("node", s::node_code(), "a village, or an area whose villages are listed (default: the user's area)")
                .query("kind", s::one_of(&ContractKind::ALL.map(ContractKind::as_str)), "one kind")
                .query("flag", s::one_of(&flags), "contracts carrying this flag (open, unless a status is given)")
                .query("status", s::one_of(&statuses), "contracts with a flag in this clean-up status")
                .query("before", s::int64(), "contracts with a smaller id (the next page)")
                .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
        .post(
            "/api/v1/contracts",
            create,
            Doc::new("contract", "Register a contract (the village committee, the town's agency, administrators); its flags are raised at once")
                .body(&contract_body(true))
                .created(),
        )
        .get(
            "/api/v1/contracts/summary",
            summary,
            Doc::new("contract", "The clean-up under an area: per flag, how many are open, rectifying and cleaned")
                .query("node", s::node_code(), "a village or an area (default: the user's area)"),
        )
        .get(
            "/api/v1/contracts/{id}",
            show,
            Doc::new("contract", "A contract with its flags and their clean-up, attachment photos and timeline").path("id", s::int64()),
        )
        .put(
            "/api/v1/contracts/{id}",
            replace,
            Doc::new("contract", "Change a contract (the village committee, the town's agency, administrators); flags that no longer apply close")
                .path("id", s::int64())
                .body(&contract_body(false)),
        )
        .post(
            "/api/v1/contracts/{id}/flags/{flag}",
            cleanup,
            Doc::new("contract", "Move the clean-up of an open flag: open → rectifying → cleaned (a note says how)")
                .path("id", s::int64())
                .path("flag", s::one_of(&flags))
                .body(&[
                    ("status", s::one_of(&statuses)),
                    ("note?", s::nullable(s::note(500, false))),
                ]),
        )
        .get(
            "/api/v1/me/contracts",
            mine,
            Doc::new("contract", "The contracts of the villages the citizen is registered in (村集体合同公开)")
                .query("before", s::int64(), "contracts with a smaller id (the next page)")
                .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
}

/// The flags' settings of this deployment.
fn limits() -> Limits {
    Limits::default()
}

/// Rechecks the flags the passing of the days changes (a contract's term ending): run by the
/// housekeeping timer; a day's change is seen within its first sweep.
pub async fn sweep(app: &AppState, now: i64) -> Result<usize, ApiError> {
    let today = shanzhi_domain::calendar::local_date(now);
    Ok(shanzhi_store::contract::recheck(&app.db, today, &limits(), now).await?)
}

// ---- who ------------------------------------------------------------------------------------

/// May the user register and change the village's contracts and move their clean-up?
fn writes(user: &CurrentUser, held: &[(NodeCode, String)], node: &NodeCode) -> bool {
    (user.actor.role == Role::Admin && user.actor.reaches(node))
        || holding(held, node, Duty::Committee) == Duty::Committee
        || holding(held, node, Duty::TownAgency) == Duty::TownAgency
}

// ---- input ----------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContractBody {
    node: Option<String>,
    number: String,
    kind: String,
    asset_name: String,
    location: Option<String>,
    area: String,
    unit: String,
    counterparty: String,
    private_party: Option<bool>,
    start: String,
    end: String,
    yearly_price: String,
    payment_terms: Option<String>,
    meeting_date: Option<String>,
    meeting_ref: Option<String>,
    terminated: Option<bool>,
    photos: Option<Vec<String>>,
    version: Option<i64>,
}

fn day(field: &str, raw: &str) -> ApiResult<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::invalid(field, "must be a date YYYY-MM-DD"))
}

/// Checks a contract's body into what the store writes; new photos must be the user's uploads
/// (those the contract holds already stay, whoever uploaded them).
async fn values(
    app: &AppState,
    user: &CurrentUser,
    b: &ContractBody,
    kept: &[String],
) -> ApiResult<Values> {
    use shanzhi_domain::text::{label, note};
    let number = label("number", &b.number, MAX_NUMBER)?;
    let kind = ContractKind::parse(b.kind.trim()).ok_or_else(|| {
        ApiError::invalid("kind", "land, forest, grassland, pond, building or other")
    })?;
    let asset_name = label("asset_name", &b.asset_name, MAX_NAME)?;
    let location = match b.location.as_deref() {
        Some(l) => note("location", l, MAX_TEXT)?,
        None => None,
    };
    let area = parse_yuan("area", &b.area).map_err(|_| {
        ApiError::invalid(
            "area",
            "must be an area above zero with at most two decimals, e.g. 12.50",
        )
    })?;
    let unit =
        Unit::parse(b.unit.trim()).ok_or_else(|| ApiError::invalid("unit", "mu, m2 or piece"))?;
    let counterparty = label("counterparty", &b.counterparty, MAX_NAME)?;
    let start = day("start", &b.start)?;
    let end = day("end", &b.end)?;
    if end < start {
        return Err(ApiError::invalid("end", "the end is before the start"));
    }
    let yearly_fen = parse_yuan("yearly_price", &b.yearly_price)?;
    let payment_terms = match b.payment_terms.as_deref() {
        Some(t) => note("payment_terms", t, MAX_TEXT)?,
        None => None,
    };
    let meeting_date = b
        .meeting_date
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(|d| day("meeting_date", d))
        .transpose()?;
    let meeting_ref = match b.meeting_ref.as_deref() {
        Some(r) => note("meeting_ref", r, MAX_NAME)?,
        None => None,
    };
    if meeting_ref.is_some() && meeting_date.is_none() {
        return Err(ApiError::invalid(
            "meeting_date",
            "give the meeting's date with its reference",
        ));
    }
    let photos: Vec<String> = b
        .photos
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    if photos.len() > MAX_PHOTOS {
        return Err(ApiError::invalid(
            "photos",
            format!("at most {MAX_PHOTOS} photos"),
        ));
    }
    for (i, h) in photos.iter().enumerate() {
        if h.len() != 64 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(ApiError::invalid(format!("photos[{i}]"), "a photo's hash"));
        }
        if !kept.contains(h)
            && shanzhi_store::event::photos_uploaded_by(
                &app.db,
                std::slice::from_ref(h),
                user.user.id,
            )
            .await?
                != 1
        {
            return Err(ApiError::invalid(
                format!("photos[{i}]"),
                "upload the image first (POST /api/v1/photos)",
            ));
        }
    }
    let mut seen = photos.clone();
    seen.sort();
    seen.dedup();
    if seen.len() != photos.len() {
        return Err(ApiError::invalid("photos", "an image is attached once"));
    }
    Ok(Values {
        number,
        kind: kind.as_str().to_owned(),
        asset_name,
        location,
        area_centi: area,
        unit: unit.as_str().to_owned(),
        counterparty,
        // A counterparty is masked in public unless it is said to be no private person.
        private_party: b.private_party.unwrap_or(true),
        start_date: start.format("%Y-%m-%d").to_string(),
        end_date: end.format("%Y-%m-%d").to_string(),
        yearly_fen,
        payment_terms,
        meeting_date: meeting_date.map(|d| d.format("%Y-%m-%d").to_string()),
        meeting_ref,
        terminated: b.terminated.unwrap_or(false),
        photos,
    })
}

fn log(user: &CurrentUser, action: &str) -> LogEntry {
    LogEntry {
        actor_id: Some(user.user.id),
        action: action.to_owned(),
        from_state: None,
        to_state: action.to_owned(),
        note: None,
        data: json!({}),
    }
}

fn number_taken(e: StoreError, number: &str) -> ApiError {
    match e {
        StoreError::Conflict { .. } => ApiError::conflict(
            Some("number"),
            format!("the village has a contract numbered {number} already"),
        ),
        e => e.into(),
    }
}

// ---- handlers -------------------------------------------------------------------------------

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<ContractBody>,
) -> ApiResult<impl IntoResponse> {
    let node = village(
        b.node
            .as_deref()
            .ok_or_else(|| ApiError::invalid("node", "the village"))?,
        "node",
    )?;
    if !writes(&user, &duties(&app, &user).await?, &node) {
        return Err(ApiError::forbidden(
            "only the village committee or the town's agency registers its contracts",
        ));
    }
    if b.version.is_some() {
        return Err(ApiError::invalid(
            "version",
            "a new contract has no version",
        ));
    }
    let v = values(&app, &user, &b, &[]).await?;
    let now = app.clock.now_ms();
    let c = shanzhi_store::contract::insert(
        &app.db,
        node.as_str(),
        &v,
        &log(&user, "create"),
        user.user.id,
        now,
        shanzhi_domain::calendar::local_date(now),
        &limits(),
    )
    .await
    .map_err(|e| number_taken(e, &v.number))?;
    Ok((StatusCode::CREATED, axum::Json(detail(&app, &c).await?)))
}

async fn replace(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ContractBody>,
) -> ApiResult<impl IntoResponse> {
    let (c, node, held) = readable(&app, &user, id).await?;
    if !writes(&user, &held, &node) {
        return Err(ApiError::forbidden(
            "only the village committee or the town's agency changes its contracts",
        ));
    }
    if b.node.as_deref().is_some_and(|n| n != c.node_code) {
        return Err(ApiError::invalid("node", "a contract stays in its village"));
    }
    let version = b
        .version
        .ok_or_else(|| ApiError::invalid("version", "the version read"))?;
    let kept = shanzhi_store::contract::photos(&app.db, id).await?;
    let v = values(&app, &user, &b, &kept).await?;
    let now = app.clock.now_ms();
    shanzhi_store::contract::replace(
        &app.db,
        &c,
        version,
        &v,
        &log(&user, "update"),
        user.user.id,
        now,
        shanzhi_domain::calendar::local_date(now),
        &limits(),
    )
    .await
    .map_err(|e| number_taken(e, &v.number))?;
    let c = shanzhi_store::contract::get(&app.db, id).await?;
    Ok(axum::Json(detail(&app, &c).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CleanupBody {
    status: String,
    note: Option<String>,
}

async fn cleanup(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, flag)): Path<(i64, String)>,
    Json(b): Json<CleanupBody>,
) -> ApiResult<impl IntoResponse> {
    let flag = Flag::parse(&flag).ok_or_else(|| {
        ApiError::invalid(
            "flag",
            "expired, term_too_long, price_low or no_meeting_approval",
        )
    })?;
    let to = Cleanup::parse(b.status.trim())
        .ok_or_else(|| ApiError::invalid("status", "open, rectifying or cleaned"))?;
    let note = match b.note.as_deref() {
        Some(n) => shanzhi_domain::text::note("note", n, 500)?,
        None => None,
    };
    let (c, node, held) = readable(&app, &user, id).await?;
    if !writes(&user, &held, &node) {
        return Err(ApiError::forbidden(
            "only the village committee or the town's agency moves a flag's clean-up",
        ));
    }
    let row = match shanzhi_store::contract::open_flag(&app.db, c.id, flag.as_str()).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => {
            return Err(ApiError::conflict(
                Some("flag"),
                format!("the contract carries no open {} flag", flag.as_str()),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let from = Cleanup::parse(&row.status).unwrap_or(Cleanup::Open);
    cleanup_move(from, to, note.is_some()).map_err(|r| match r {
        CleanupRefusal::Conflict(why) => ApiError::conflict(Some("status"), why),
        CleanupRefusal::NoteNeeded => ApiError::invalid(
            "note",
            "say how the flag was cleaned up, or why it is reopened",
        ),
    })?;
    shanzhi_store::contract::set_cleanup(
        &app.db,
        &row,
        to.as_str(),
        note.as_deref(),
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    let c = shanzhi_store::contract::get(&app.db, id).await?;
    Ok(axum::Json(detail(&app, &c).await?))
}

/// The contract, its village and the user's duties if the user may read it; else 404.
async fn readable(
    app: &AppState,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<(Contract, NodeCode, Vec<(NodeCode, String)>)> {
    let c = match shanzhi_store::contract::get(&app.db, id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("contract")),
        Err(e) => return Err(e.into()),
    };
    let node = NodeCode::parse(&c.node_code).map_err(|e| ApiError::internal(e.into()))?;
    let held = duties(app, user).await?;
    if !reads(user, &held, &node) {
        return Err(ApiError::not_found("contract"));
    }
    Ok((c, node, held))
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let (c, _, _) = readable(&app, &user, id).await?;
    Ok(axum::Json(detail(&app, &c).await?))
}

/// A contract for staff: its flags (every row, open and closed), photos and timeline.
async fn detail(app: &AppState, c: &Contract) -> ApiResult<Value> {
    let mut v = c.to_json();
    v["node_name"] = json!(shanzhi_store::node::names(&app.db, &[c.node_code.as_str()])
        .await?
        .into_iter()
        .next()
        .map(|(_, n, _)| n));
    let rows = shanzhi_store::contract::flag_history(&app.db, c.id).await?;
    v["flags"] = json!(rows
        .iter()
        .filter(|r| r.is_current)
        .map(FlagRow::to_json)
        .collect::<Vec<_>>());
    v["flag_history"] = json!(rows.iter().map(FlagRow::to_json).collect::<Vec<_>>());
    v["photos"] = json!(shanzhi_store::contract::photos(&app.db, c.id)
        .await?
        .iter()
        .map(|h| json!({"hash": h, "url": format!("/api/v1/photos/{h}")}))
        .collect::<Vec<_>>());
    v["timeline"] = json!(shanzhi_store::contract::timeline(&app.db, c.id)
        .await?
        .iter()
        .map(|l| json!({"at": l.at, "actor_id": l.actor_id, "action": l.action, "from": l.from_state,
            "to": l.to_state, "note": l.note, "data": serde_json::from_str::<Value>(&l.data).unwrap_or(Value::Null)}))
        .collect::<Vec<_>>());
    Ok(v)
}

/// What a villager reads of a contract: a private person's name masked, no staff's notes.
fn public_json(c: &Contract) -> Value {
    let party = if c.private_party {
        mask_name(&c.counterparty)
    } else {
        c.counterparty.clone()
    };
    json!({"id": c.id, "node": c.node_code, "number": c.number, "kind": c.kind, "asset_name": c.asset_name,
        "location": c.location, "area": shanzhi_store::contract::area_text(c.area_centi), "unit": c.unit,
        "counterparty": party, "start": c.start_date, "end": c.end_date,
        "yearly_price": shanzhi_domain::ledger::yuan(c.yearly_fen), "yearly_fen": c.yearly_fen,
        "payment_terms": c.payment_terms, "meeting_date": c.meeting_date, "meeting_ref": c.meeting_ref,
        "terminated": c.terminated})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    kind: Option<String>,
    flag: Option<String>,
    status: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

/// The node a staff list or summary is of: the one asked for, else the user's area or their
/// first duty's node.
fn root_of(
    user: &CurrentUser,
    held: &[(NodeCode, String)],
    raw: Option<&str>,
) -> ApiResult<NodeCode> {
    let root = match raw {
        Some(raw) => {
            NodeCode::parse(raw).map_err(|_| ApiError::invalid("node", "not a region code"))?
        }
        None => match (user.actor.scope.node(), held.first()) {
            (Some(n), _) if !matches!(user.actor.role, Role::Citizen | Role::Handler) => n.clone(),
            (_, Some((n, _))) => n.clone(),
            _ => return Err(ApiError::forbidden(
                "contracts are read by staff of an area; citizens read theirs under /api/v1/me/contracts",
            )),
        },
    };
    if !reads(user, held, &root) {
        return Err(ApiError::forbidden("outside your area"));
    }
    Ok(root)
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let held = duties(&app, &user).await?;
    let root = root_of(&user, &held, q.node.as_deref())?;
    let kind = q
        .kind
        .as_deref()
        .map(|k| {
            ContractKind::parse(k).ok_or_else(|| {
                ApiError::invalid("kind", "land, forest, grassland, pond, building or other")
            })
        })
        .transpose()?;
    let flag = q
        .flag
        .as_deref()
        .map(|f| {
            Flag::parse(f).ok_or_else(|| {
                ApiError::invalid(
                    "flag",
                    "expired, term_too_long, price_low or no_meeting_approval",
                )
            })
        })
        .transpose()?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            Cleanup::parse(s)
                .ok_or_else(|| ApiError::invalid("status", "open, rectifying or cleaned"))
        })
        .transpose()?;
    let f = Filter {
        under: root.path().to_owned(),
        kind: kind.map(|k| k.as_str().to_owned()),
        flag: flag.map(|f| f.as_str().to_owned()),
        status: status.map(|s| s.as_str().to_owned()),
        villages: None,
        before: q.before,
        limit: super::base::limit(q.limit, 50, 200)?,
    };
    page(&app, f, true).await
}

async fn page(app: &AppState, f: Filter, staff: bool) -> ApiResult<axum::Json<Value>> {
    let limit = f.limit;
    let mut rows = shanzhi_store::contract::list(&app.db, &f).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let names = super::names::node_names(app, rows.iter().map(|r| r.node_code.as_str())).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut flags: HashMap<i64, Vec<Value>> = HashMap::new();
    for r in shanzhi_store::contract::current_flags(&app.db, &ids).await? {
        let v = if staff {
            r.to_json()
        } else {
            json!({"flag": r.flag, "status": r.status, "open": r.closed_at.is_none()})
        };
        flags.entry(r.contract_id).or_default().push(v);
    }
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = if staff { r.to_json() } else { public_json(r) };
            v["node_name"] = json!(names.get(&r.node_code));
            v["flags"] = json!(flags.remove(&r.id).unwrap_or_default());
            v
        })
        .collect();
    let next = if more {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(axum::Json(json!({"items": items, "next_cursor": next})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryQuery {
    node: Option<String>,
}

async fn summary(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SummaryQuery>,
) -> ApiResult<impl IntoResponse> {
    let held = duties(&app, &user).await?;
    let root = root_of(&user, &held, q.node.as_deref())?;
    let (rows, total, flagged) = shanzhi_store::contract::summary(&app.db, root.path()).await?;
    let flags: Vec<Value> = Flag::ALL
        .iter()
        .map(|f| {
            let count = |s: Cleanup| {
                rows.iter()
                    .find(|(x, y, _)| x == f.as_str() && y == s.as_str())
                    .map_or(0, |r| r.2)
            };
            json!({"flag": f.as_str(), "open": count(Cleanup::Open),
                "rectifying": count(Cleanup::Rectifying), "cleaned": count(Cleanup::Cleaned)})
        })
        .collect();
    Ok(axum::Json(
        json!({"node": root.as_str(), "contracts": total,
        "flagged": flagged, "flags": flags}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MineQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

async fn mine(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<MineQuery>,
) -> ApiResult<impl IntoResponse> {
    if user.actor.role != Role::Citizen {
        return Err(ApiError::forbidden(
            "these are a villager's public contracts; staff read /api/v1/contracts",
        ));
    }
    let villages = home_villages(&app, user.user.id).await?;
    let f = Filter {
        under: String::new(),
        kind: None,
        flag: None,
        status: None,
        villages: Some(villages),
        before: q.before,
        limit: super::base::limit(q.limit, 50, 200)?,
    };
    page(&app, f, false).await
}
