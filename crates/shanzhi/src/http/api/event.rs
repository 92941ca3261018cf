//! Events (work orders) over HTTP: report, read, list, and every move of the loop (the inbox is
//! in `inbox.rs`, duplicates and merged reports in `duplicate.rs`).

use super::doc::{schema as s, Doc, Routes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shanzhi_domain::event::photo::MAX_PHOTOS;
use shanzhi_domain::event::state::{MAX_NOTE_CHARS, MAX_PLACE_CHARS};
use shanzhi_domain::event::{Action, State as EvState};
use shanzhi_domain::grid::{Crs, LonLat};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::{Role, Scope};
use shanzhi_store::event::{EventRow, Filter, ListScope};
use shanzhi_store::StoreError;

use super::names::{summoned, with_names, Names};
use crate::event::{self as service, Report, MAX_DESCRIPTION_CHARS};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{parse_json, CurrentUser, Json, Query};
use crate::http::state::AppState;

/// `/api/v1/events…`.
pub fn routes() -> Routes {
    let list_doc = |summary| {
        Doc::new("event", summary)
            .query(
                "state",
                s::pattern(&format!(
                    "^,*(({s})(,+({s}))*)?,*$",
                    s = EvState::ALL.map(EvState::as_str).join("|")
                )),
                "comma-separated states",
            )
            .query("category", s::int64(), "category id (with its children)")
            .query("department", s::int64(), "department id")
            .query("under", s::node_code(), "region or grid code")
            .query("from", s::int64(), "created at or after (unix ms)")
            .query("to", s::int64(), "created before (unix ms)")
            .query("overdue", s::boolean(), "red light")
            .query("q", s::note(100, false), "text in description or address")
            .query("before", s::pattern(CURSOR), "cursor from next_before")
            .query("limit", s::integer(1, 500), "page size (default 50)")
            .query(
                "taken_by_me",
                s::boolean(),
                "only orders the grid worker asking took (我的接单)",
            )
    };
    let routes = Routes::new()
        .get("/api/v1/events", list, list_doc("Events in the user's scope, newest first, keyset-paged"))
        .post("/api/v1/events", create, Doc::new("event", "Report an event")
            .header("Idempotency-Key", s::pattern(r"^[!-~]{1,128}$"), "1 to 128 visible ASCII characters; a retry with the same key answers the first event")
            .body(&[("category_id", s::int64()), ("description", s::note(MAX_DESCRIPTION_CHARS, true)), ("lon", s::number(-180.0, 180.0)), ("lat", s::number(-90.0, 90.0)),
                ("address?", s::nullable(s::note(200, false))), ("photos?", s::array_max(s::photo_hash(), MAX_PHOTOS)),
                ("crs?", s::nullable(s::crs()))])
            .created()
            .also(200))
        .get("/api/v1/events/sample", sample, Doc::new("event", "A random sample of closed orders to re-inspect (dispatchers)")
            .query("under", s::node_code(), "region or grid code").query("from", s::int64(), "closed at or after (unix ms)")
            .query("to", s::int64(), "closed before (unix ms)").query("n", s::integer(1, 200), "how many (default 10)"))
        .get("/api/v1/events/{id}", show, Doc::new("event", "An event with its timeline, photos, the reports merged into it (`merged_reports`) and the actions allowed to the user now")
            .path("id", s::int64()))
        .post("/api/v1/events/{id}/locate", locate, Doc::new("event",
            "Set the position of an event filed without one (an Open311 request with only an address): dispatchers of the holding centre")
            .path("id", s::int64())
            .body(&[("lon", s::number(-180.0, 180.0)), ("lat", s::number(-90.0, 90.0)), ("version?", s::nullable(s::int64())),
                ("crs?", s::nullable(s::crs()))]));
    // One route takes every move; the document lists each with the fields it needs.
    let mut moves = Vec::new();
    for (path, summary, required) in ACTIONS {
        let mut body = act_body();
        body["required"] = json!(required);
        match path {
            "/api/v1/events/{id}/request_extension" => {
                body["properties"]["minutes"] = s::integer(1, 60 * 24 * 30)
            }
            "/api/v1/events/{id}/rate" => body["properties"]["score"] = s::integer(1, 5),
            "/api/v1/events/{id}/dispatch" => {
                body["properties"]["due_minutes"] = s::nullable(s::integer(1, 60 * 24 * 365))
            }
            "/api/v1/events/{id}/summon" => {
                body["properties"]["departments"] = json!({"type": "array", "items": s::int64(), "minItems": 2, "maxItems": 20, "uniqueItems": true});
                // The brief: report by (unix ms, in the next 30 days), where, why.
                body["properties"]["place"] = s::nullable(s::note(MAX_PLACE_CHARS, false));
                body["properties"]["reason"] = s::nullable(s::note(MAX_NOTE_CHARS, false));
            }
            _ => {}
        }
        // Text a move reads when given: no control characters, at most 2,000 characters.
        let read = match path {
            "/api/v1/events/{id}/verify" | "/api/v1/events/{id}/reinspect" => Some("note"),
            "/api/v1/events/{id}/remind" => Some("note"),
            "/api/v1/events/{id}/rate" => Some("comment"),
            _ => None,
        };
        if let Some(field) = read {
            body["properties"][field] = s::nullable(s::note(MAX_NOTE_CHARS, false));
        }
        for field in required {
            // A needed field must be there and not null.
            let p = &mut body["properties"][field];
            *p = match *field {
                "reason" | "note" => s::note(MAX_NOTE_CHARS, true),
                _ => {
                    let mut schema = p.clone();
                    if let Some(o) = schema.as_object_mut() {
                        o.remove("nullable");
                    }
                    schema
                }
            };
        }
        moves.push((
            path,
            Doc::new("event", summary)
                .path("id", s::int64())
                .body_schema(body),
        ));
    }
    routes.route_as("post", "/api/v1/events/{id}/{action}", post(act), moves)
}

/// A `next_before` cursor: `created_at:id`.
const CURSOR: &str = r"^[+-]?[0-9]{1,18}:[+-]?[0-9]{1,18}$";

/// Each move, its summary and the fields it needs.
const ACTIONS: [(&str, &str, &[&str]); 19] = [
    (
        "/api/v1/events/{id}/take",
        "Take a report waiting for the grid (网格接单) (grid workers of its grid)",
        &[],
    ),
    (
        "/api/v1/events/{id}/pass_on",
        "Pass a taken report to the centre with what was found, in a note (the grid worker who took it)",
        &["note"],
    ),
    (
        "/api/v1/events/{id}/accept",
        "Accept a new report (dispatchers)",
        &[],
    ),
    (
        "/api/v1/events/{id}/reject",
        "Reject a report, with a reason (dispatchers)",
        &["reason"],
    ),
    (
        "/api/v1/events/{id}/resolve_on_spot",
        "Resolve on the spot, with a note (grid workers)",
        &["note"],
    ),
    (
        "/api/v1/events/{id}/dispatch",
        "Dispatch to a department (default: the category's) (dispatchers)",
        &[],
    ),
    (
        "/api/v1/events/{id}/sign",
        "Sign for a dispatched order (handlers)",
        &[],
    ),
    (
        "/api/v1/events/{id}/return",
        "Return an order to the centre, with a reason (handlers)",
        &["reason"],
    ),
    (
        "/api/v1/events/{id}/request_extension",
        "Ask for more working minutes (handlers)",
        &["minutes", "reason"],
    ),
    (
        "/api/v1/events/{id}/decide_extension",
        "Approve or refuse an extension (dispatchers)",
        &["approve"],
    ),
    (
        "/api/v1/events/{id}/report_result",
        "Report the result, with a note (handlers)",
        &["note"],
    ),
    (
        "/api/v1/events/{id}/verify",
        "Verify a result (grid workers); a failed check needs a note",
        &["ok"],
    ),
    (
        "/api/v1/events/{id}/rate",
        "Rate a closed order, 1 to 5, and say whether it was fixed (its reporter)",
        &["score", "fixed"],
    ),
    (
        "/api/v1/events/{id}/escalate",
        "Escalate to the centre above, with a reason",
        &["reason"],
    ),
    (
        "/api/v1/events/{id}/summon",
        "Summon 2 to 20 departments, one of them the lead (dispatchers)",
        &["departments", "lead"],
    ),
    (
        "/api/v1/events/{id}/check_in",
        "Check in as a summoned department (handlers)",
        &[],
    ),
    (
        "/api/v1/events/{id}/merge",
        "Merge a duplicate into another order (dispatchers)",
        &["into"],
    ),
    (
        "/api/v1/events/{id}/remind",
        "Remind the department (supervision)",
        &[],
    ),
    (
        "/api/v1/events/{id}/reinspect",
        "Record a re-inspection of a closed order (dispatchers)",
        &["ok"],
    ),
];

/// Every field a move may carry (each move reads those it needs and ignores the others).
fn act_body() -> Value {
    let text = || s::nullable(s::string());
    json!({"type": "object", "additionalProperties": false, "properties": {
        "version": s::nullable(s::int64()), "reason": text(), "note": text(), "department_id": s::nullable(s::int64()),
        "due_minutes": s::nullable(s::int64()), "minutes": s::nullable(s::int64()), "approve": s::nullable(s::boolean()),
        "ok": s::nullable(s::boolean()), "score": s::nullable(s::integer(i32::MIN.into(), i32::MAX.into())), "comment": text(),
        "fixed": s::nullable(s::boolean()), "departments": s::nullable(s::array(s::int64())), "lead": s::nullable(s::int64()),
        "into": s::nullable(s::int64()), "photos": s::array_max(s::photo_hash(), MAX_PHOTOS),
        "report_by": s::nullable(s::int64()), "place": text(),
    }})
}

/// An order as the API answers it, written straight out (a page of a list builds no map of
/// keys per order).
#[derive(Serialize)]
pub struct EventJson<'a> {
    id: i64,
    category_id: i64,
    grid: &'a str,
    centre: &'a str,
    state: &'a str,
    source: &'a str,
    description: &'a str,
    address: Option<&'a str>,
    // An event filed by address only has no position yet: no point to draw.
    lon: Option<f64>,
    lat: Option<f64>,
    position_known: bool,
    reporter_id: Option<i64>,
    department_id: Option<i64>,
    priority: i64,
    summoned: Value,
    returns: i64,
    reopened: i64,
    reminders: i64,
    escalations: i64,
    decision_required: bool,
    pending_extension_minutes: Option<i64>,
    rating: Option<i64>,
    rating_comment: Option<&'a str>,
    merged_into: Option<i64>,
    stage_started_at: i64,
    due_at: Option<i64>,
    light: &'a str,
    supervision: &'a str,
    overdue: bool,
    created_at: i64,
    updated_at: i64,
    closed_at: Option<i64>,
    version: i64,
    grid_stage: Option<&'a str>,
    taken_by: Option<i64>,
}

impl<'a> EventJson<'a> {
    pub fn of(row: &'a EventRow) -> EventJson<'a> {
        EventJson {
            id: row.id,
            category_id: row.category_id,
            grid: &row.grid_code,
            centre: &row.centre_code,
            state: &row.state,
            source: &row.source,
            description: &row.description,
            address: row.address.as_deref(),
            lon: row.position_known.then_some(row.lon),
            lat: row.position_known.then_some(row.lat),
            position_known: row.position_known,
            reporter_id: row.reporter_id,
            department_id: row.department_id,
            priority: row.priority,
            summoned: serde_json::from_str::<Value>(&row.summoned).unwrap_or(Value::Null),
            returns: row.returns,
            reopened: row.reopened,
            reminders: row.reminders,
            escalations: row.escalations,
            decision_required: row.decision_required,
            pending_extension_minutes: row.pending_extension,
            rating: row.rating,
            rating_comment: row.rating_comment.as_deref(),
            merged_into: row.merged_into,
            stage_started_at: row.stage_started_at,
            due_at: row.due_at,
            light: &row.light,
            supervision: &row.supervision,
            overdue: row.light == "red",
            created_at: row.created_at,
            updated_at: row.updated_at,
            closed_at: row.closed_at,
            version: row.version,
            grid_stage: row.grid_stage.as_deref(),
            taken_by: row.taken_by,
        }
    }
}

pub fn to_json(row: &EventRow) -> Value {
    // Plain fields only: writing them as a value cannot fail.
    serde_json::to_value(EventJson::of(row)).unwrap_or(Value::Null)
}

/// An order of a list with the names people read ([`with_names`]'s `place` and `department`).
#[derive(Serialize)]
struct NamedEvent<'a> {
    #[serde(flatten)]
    event: EventJson<'a>,
    place: Option<&'a str>,
    department: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    category_id: i64,
    description: String,
    lon: f64,
    lat: f64,
    address: Option<String>,
    #[serde(default)]
    photos: Vec<String>,
    /// The system lon/lat are in (default wgs84; a phone's map SDK in China gives gcj02).
    crs: Option<String>,
}

/// A position as sent, in WGS-84: checked for range, then converted from its declared system.
pub(super) fn wgs84(crs: Option<&str>, lon: f64, lat: f64) -> Result<(f64, f64), ApiError> {
    LonLat::parse(lon, lat)?;
    let crs = crs.map(Crs::parse).transpose()?.unwrap_or_default();
    Ok(crs.to_wgs84(lon, lat))
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(b): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (lon, lat) = wgs84(b.crs.as_deref(), b.lon, b.lat)?;
    let r = Report {
        category_id: b.category_id,
        description: b.description,
        lon,
        lat,
        address: b.address,
        photos: b.photos,
        idempotency_key: key,
        source: None,
        unknown_position_in: None,
        attached: Default::default(),
    };
    let (row, created) = service::report(&app, &user.actor, &r).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        [("idempotent-replay", if created { "false" } else { "true" })],
        axum::Json(to_json(&row)),
    ))
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let (row, category, ev) = service::visible(&app, &user.actor, id).await?;
    let timeline = shanzhi_store::event::timeline(&app.db, id).await?;
    let photos = shanzhi_store::event::photos(&app.db, id).await?;
    let mut v = to_json(&row);
    with_names(&app, std::slice::from_mut(&mut v)).await?;
    v["category"] = json!({"id": category.id, "code": category.code, "name": category.name});
    let mut allowed = service::allowed_actions(&ev, &user.actor);
    if !row.position_known && shanzhi_domain::event::state::can_set_position(&user.actor, &ev) {
        allowed.push("locate");
    }
    v["allowed_actions"] = json!(allowed);
    v["merged_reports"] = super::duplicate::merged_reports(&app, &user, id).await?;
    // A problem found on a visit (走访): the visit and the resident it was about.
    let visit = shanzhi_store::visit::of_event(&app.db, id).await?;
    v["visit_id"] = json!(visit.map(|(visit, _)| visit));
    v["visit_resident_id"] = json!(visit.map(|(_, resident)| resident));
    // The service attributes an Open311 request came with, kept apart from its description.
    if let Some(attributes) = shanzhi_store::open311::attributes(&app.db, id).await? {
        v["attributes"] = attributes;
    }
    v["photos"] = Value::Array(photos.iter().map(|(stage, hash)| json!({"stage": stage, "hash": hash, "url": format!("/api/v1/photos/{hash}")})).collect());
    // Names and units of the people on this order, as this user may see them (one query).
    let mut ids: Vec<i64> = timeline.iter().filter_map(|l| l.actor_id).collect();
    ids.extend(row.reporter_id);
    let people = crate::person::seen(&app, &user.actor, &ids, true).await?;
    let name_of = |id: Option<i64>| id.and_then(|i| people.get(&i));
    v["may_call_back"] = json!(
        row.reporter_id.is_some()
            && shanzhi_domain::user::person::can_reveal_reporter_contact(&user.actor, &ev)
    );
    v["reporter_name"] = json!(name_of(row.reporter_id).and_then(|p| p.name.clone()));
    // The dispute case this order became (矛盾纠纷), if any: it closes the order.
    v["dispute_id"] = json!(shanzhi_store::dispute::of_event(&app.db, row.id)
        .await?
        .map(|d| d.id));
    v["timeline"] = Value::Array(
        timeline
            .iter()
            .map(|l| {
                let who = name_of(l.actor_id);
                json!({
                    "at": l.at, "actor_id": l.actor_id, "action": l.action, "from": l.from_state, "to": l.to_state,
                    "actor_name": who.and_then(|p| p.name.clone()), "actor_unit": who.and_then(|p| p.unit.clone()),
                    "note": l.note, "data": serde_json::from_str::<Value>(&l.data).unwrap_or(Value::Null),
                })
            })
            .collect(),
    );
    Ok(axum::Json(v))
}

/// The body of a move: what each action needs (others are ignored), and the version read.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActBody {
    version: Option<i64>,
    reason: Option<String>,
    note: Option<String>,
    department_id: Option<i64>,
    due_minutes: Option<i64>,
    minutes: Option<i64>,
    approve: Option<bool>,
    ok: Option<bool>,
    score: Option<i32>,
    comment: Option<String>,
    fixed: Option<bool>,
    departments: Option<Vec<i64>>,
    lead: Option<i64>,
    into: Option<i64>,
    #[serde(default)]
    photos: Vec<String>,
    report_by: Option<i64>,
    place: Option<String>,
}

fn need<T>(v: Option<T>, field: &str) -> ApiResult<T> {
    v.ok_or_else(|| ApiError::invalid(field, "is required for this action"))
}

async fn department_region(app: &AppState, id: i64, field: &str) -> ApiResult<NodeCode> {
    match shanzhi_store::department::get(&app.db, id).await {
        Ok(d) => {
            NodeCode::parse(&d.region_code).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))
        }
        Err(StoreError::NotFound) => Err(ApiError::invalid(field, format!("no department {id}"))),
        Err(e) => Err(e.into()),
    }
}

/// The category's default department for the event: the nearest `<kind>-<region path>` up the
/// grid's chain (a county's 城管局 serves its villages unless a town has its own).
async fn default_department(app: &AppState, user: &CurrentUser, id: i64) -> ApiResult<i64> {
    let (row, category, _) = service::visible(app, &user.actor, id).await?;
    let Some(kind) = category.department_kind.as_deref() else {
        return Err(ApiError::invalid(
            "department_id",
            "this category has no default department; choose one",
        ));
    };
    let grid =
        NodeCode::parse(&row.grid_code).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    for path in grid.ancestor_paths().iter().rev().filter(|p| p.len() <= 12) {
        if let Some(d) =
            shanzhi_store::department::by_code(&app.db, &format!("{kind}-{path}")).await?
        {
            return Ok(d.id);
        }
    }
    Err(ApiError::invalid(
        "department_id",
        format!("no '{kind}' department serves this area; choose one"),
    ))
}

async fn act(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    // A move with nothing to say (accept, sign, check_in) may come with an empty body.
    let b: ActBody = if body.iter().all(u8::is_ascii_whitespace) {
        ActBody::default()
    } else {
        parse_json(&body)?
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let a = match action.as_str() {
        "take" => Action::Take,
        "pass_on" => Action::PassOn {
            note: text(&b.note),
        },
        "accept" => Action::Accept,
        "reject" => Action::Reject {
            reason: text(&b.reason),
        },
        "resolve_on_spot" => Action::ResolveOnSpot {
            note: text(&b.note),
        },
        "dispatch" => {
            let d = match b.department_id {
                Some(d) => d,
                None => default_department(&app, &user, id).await?,
            };
            Action::Dispatch {
                department_id: d,
                department_region: department_region(&app, d, "department_id").await?,
            }
        }
        "sign" => Action::Sign,
        "return" => Action::Return {
            reason: text(&b.reason),
        },
        "request_extension" => Action::RequestExtension {
            minutes: need(b.minutes, "minutes")?,
            reason: text(&b.reason),
        },
        "decide_extension" => Action::DecideExtension {
            approve: need(b.approve, "approve")?,
        },
        "report_result" => Action::ReportResult {
            note: text(&b.note),
        },
        "verify" => Action::Verify {
            ok: need(b.ok, "ok")?,
            note: text(&b.note),
        },
        "rate" => Action::Rate {
            score: need(b.score, "score")?,
            comment: text(&b.comment),
            // Asked on purpose: a rating that does not say whether it was fixed is refused.
            fixed: need(b.fixed, "fixed")?,
        },
        "escalate" => Action::Escalate {
            reason: text(&b.reason),
        },
        "summon" => {
            let ids = need(b.departments.clone(), "departments")?;
            let mut deps = Vec::with_capacity(ids.len());
            for d in ids.iter().take(21) {
                deps.push((*d, department_region(&app, *d, "departments").await?));
            }
            // The time to report by is ahead, within 30 days.
            if let Some(at) = b.report_by {
                let now = app.clock.now_ms();
                if at <= now || at > now + 30 * 86_400_000 {
                    return Err(ApiError::invalid(
                        "report_by",
                        "must be a time in the next 30 days",
                    ));
                }
            }
            Action::Summon {
                departments: deps,
                lead: need(b.lead, "lead")?,
                report_by: b.report_by,
                place: text(&b.place),
                reason: text(&b.reason),
            }
        }
        "check_in" => Action::CheckIn,
        "merge" => {
            let into = need(b.into, "into")?;
            let target = match service::visible(&app, &user.actor, into).await {
                Ok((row, _, _)) => row,
                Err(e) if e.status == StatusCode::NOT_FOUND => {
                    return Err(ApiError::invalid(
                        "into",
                        format!("no event {into} in your area"),
                    ))
                }
                Err(e) => return Err(e),
            };
            let target_state = EvState::parse(&target.state)
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad state")))?;
            Action::Merge {
                target_id: into,
                target_state,
            }
        }
        "remind" => Action::Remind {
            note: text(&b.note),
        },
        "reinspect" => Action::Reinspect {
            ok: need(b.ok, "ok")?,
            note: text(&b.note),
        },
        _ => return Err(ApiError::not_found("action")),
    };
    let photos = if matches!(
        a,
        Action::ReportResult { .. } | Action::ResolveOnSpot { .. }
    ) {
        b.photos.clone()
    } else {
        Vec::new()
    };
    let row = service::act(&app, &user.actor, id, &a, b.version, b.due_minutes, &photos).await?;
    Ok(axum::Json(to_json(&row)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocateBody {
    lon: f64,
    lat: f64,
    version: Option<i64>,
    crs: Option<String>,
}

async fn locate(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<LocateBody>,
) -> ApiResult<impl IntoResponse> {
    let (lon, lat) = wgs84(b.crs.as_deref(), b.lon, b.lat)?;
    let row = service::locate(&app, &user.actor, id, lon, lat, b.version).await?;
    Ok(axum::Json(to_json(&row)))
}

/// The filters of the event list (and of its Excel export).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    state: Option<String>,
    category: Option<i64>,
    department: Option<i64>,
    under: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    overdue: Option<bool>,
    q: Option<String>,
    before: Option<String>,
    limit: Option<i64>,
    taken_by_me: Option<bool>,
}

/// The list scope of an actor: their subtree, their department, or their own reports.
pub(super) fn scope_of(user: &CurrentUser) -> ListScope {
    match &user.actor.scope {
        Scope::Node(c) => ListScope::Under(c.path().to_owned()),
        Scope::Department { id, .. } => ListScope::Department(*id),
        Scope::Own => ListScope::Reporter(user.user.id),
    }
}

async fn page(
    app: &AppState,
    rows: &[EventRow],
    limit: i64,
) -> ApiResult<axum::response::Response> {
    let next = if rows.len() as i64 == limit {
        rows.last().map(|r| format!("{}:{}", r.created_at, r.id))
    } else {
        None
    };
    let grids = rows.iter().map(|r| r.grid_code.as_str()).collect();
    let mut items: Vec<EventJson> = rows.iter().map(EventJson::of).collect();
    let departments = rows
        .iter()
        .zip(&items)
        .flat_map(|(r, e)| r.department_id.into_iter().chain(summoned(&e.summoned)))
        .collect();
    let names = Names::load(app, grids, departments).await?;
    let items: Vec<NamedEvent> = items
        .drain(..)
        .map(|mut event| {
            names.name_summoned(&mut event.summoned);
            NamedEvent {
                place: names.place(event.grid),
                department: names.department(event.department_id),
                event,
            }
        })
        .collect();
    Ok(axum::Json(ListPage {
        items,
        next_before: next,
    })
    .into_response())
}

/// A page of a list: its orders and the cursor of the next page (none at the end).
#[derive(Serialize)]
struct ListPage<'a> {
    items: Vec<NamedEvent<'a>>,
    next_before: Option<String>,
}

/// The store filter of a list query (limit, states, category, area, days, text, cursor).
pub(super) fn list_filter(
    user: &CurrentUser,
    q: &ListQuery,
    default_limit: i64,
    max_limit: i64,
) -> ApiResult<Filter> {
    let limit = q.limit.unwrap_or(default_limit);
    if !(1..=max_limit).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {max_limit}"),
        ));
    }
    let mut f = Filter {
        limit,
        ..Filter::default()
    };
    if let Some(s) = &q.state {
        for part in s.split(',').filter(|p| !p.is_empty()) {
            let st = EvState::parse(part)
                .ok_or_else(|| ApiError::invalid("state", format!("unknown state '{part}'")))?;
            f.states.push(st.as_str().to_owned());
        }
    }
    f.category_id = q.category;
    f.department_id = q.department;
    if let Some(u) = &q.under {
        let code = NodeCode::parse(u)
            .map_err(|_| ApiError::invalid("under", "not a region or grid code"))?;
        f.under = Some(code.path().to_owned());
    }
    f.from_ms = q.from;
    f.to_ms = q.to;
    f.overdue = q.overdue;
    if q.taken_by_me == Some(true) {
        f.taken_by = Some(user.user.id);
    }
    if let Some(raw) = q.q.as_deref() {
        if raw.chars().count() > 100 {
            return Err(ApiError::invalid("q", "at most 100 characters"));
        }
        // PostgreSQL refuses NUL in text: refuse control characters here, as 422, not a 500.
        if raw
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(ApiError::invalid(
                "q",
                "must not contain control characters",
            ));
        }
    }
    if let Some(t) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        f.text = Some(t.to_owned());
    }
    if let Some(c) = &q.before {
        let parsed = c
            .split_once(':')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
        f.before = Some(
            parsed.ok_or_else(|| ApiError::invalid("before", "not a cursor from next_before"))?,
        );
    }
    Ok(f)
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let f = list_filter(&user, &q, 50, 500)?;
    // From the replica when there is one (and it has this session's last write).
    let db = app.reader(&user).await;
    let rows = shanzhi_store::event::list(db, &scope_of(&user), &f).await?;
    page(&app, &rows, f.limit).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleQuery {
    under: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    n: Option<i64>,
}

/// A random sample of closed orders for re-inspection (抽查).
async fn sample(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SampleQuery>,
) -> ApiResult<impl IntoResponse> {
    if user.actor.role != Role::Dispatcher {
        return Err(ApiError::forbidden(
            "only dispatchers re-inspect closed orders",
        ));
    }
    let Some(root) = user.actor.scope.node() else {
        return Err(ApiError::forbidden("no area"));
    };
    let under = match &q.under {
        Some(u) => NodeCode::parse(u)
            .map_err(|_| ApiError::invalid("under", "not a region or grid code"))?,
        None => root.clone(),
    };
    if !root.contains(&under) {
        return Err(ApiError::not_found("node"));
    }
    let n = q.n.unwrap_or(10);
    if !(1..=200).contains(&n) {
        return Err(ApiError::invalid("n", "must be between 1 and 200"));
    }
    let now = app.clock.now_ms();
    let rows = shanzhi_store::event::sample_closed(
        &app.db,
        under.path(),
        q.from.unwrap_or(0),
        q.to.unwrap_or(now + 1),
        n,
    )
    .await?;
    Ok(axum::Json(
        json!({"items": rows.iter().map(to_json).collect::<Vec<_>>()}),
    ))
}
