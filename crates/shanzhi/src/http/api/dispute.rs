//! Dispute cases over HTTP (矛盾纠纷多元化解): the type tree, staff intake and a citizen's
//! application (申请调解), the scoped case list, the case page with its timeline, every move of
//! the case's life, sessions, mediator suggestions, and the figures.
//!
//! Deviations from the shared contract (briefs14/contract.md), for the web helper:
//! - Lists answer `{items, next_cursor}` (keyset on id, `?after=<next_cursor>`), like /residents.
//! - Parties' names are masked (`张*`) for viewers other than the holding centre and the
//!   assigned mediator; ID numbers and phones are always masked (`id_mask`, `phone_mask`).
//! - Sources: patrol walk_in hotline petition court police procuratorate (staff intake), event
//!   (converted), online (a citizen's application).
//! - Figures: `/figures/disputes?node=` answers the measures of `domain::dispute::MEASURES` at
//!   the node, and per type / level / source / mediator, from the counters (Σ/Σ).
//! - The agreement routes (`/disputes/{id}/agreement`, `.docx`) are the web helper's
//!   (http/api/dispute_agreement.rs, on `crate::dispute::agreement`; `crate::dispute` is a
//!   folder for it); the store gives them `store::dispute::reveal_ids` (audited reveal).
//! - `GET /map/disputes?node=` answers per-child counts (the measures) for colouring the
//!   child regions; cases are held by centres, so there are no points.
//! - `POST /events/{id}/dispute` takes `{type?}` (default `other`); the event category tree
//!   must hold a category with code `dispute` (the demo's) — none is seeded by migration.

use super::doc::{schema as s, Doc, Routes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::dispute::rank::{rank, Candidate, Need};
use shanzhi_domain::dispute::state::{Judicial, MAX_NOTE_CHARS, MAX_TERMS_CHARS};
use shanzhi_domain::dispute::{
    can_take_in, centre_level, intake_centre, parse_type_code, sees_names, Action, CentreLevel,
    Outcome, PartyRole, Referral, Source, State as CaseState, MEASURES, REPEAT_DAYS,
};
use shanzhi_domain::resident::record::{parse_identity, parse_person_name, IdKind};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::person::{mask_address, mask_name, Phone};
use shanzhi_domain::user::{Actor, Role};
use shanzhi_store::dispute::{DisputeRow, DisputeType, Filter, NewDispute, NewParty};
use shanzhi_store::event::LogEntry;
use shanzhi_store::notification::NewNotification;
use shanzhi_store::StoreError;

use super::node::visible_node;
use crate::dispute::{
    allowed_actions, clocks_json, intake_log, involvement, new_row, node_of, visible,
};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{page_limit, CurrentUser, Json, Query};
use crate::http::state::AppState;

const DAY_MS: i64 = 86_400_000;
/// Longest account of a case, in characters.
pub const MAX_SUMMARY_CHARS: usize = 2_000;
/// Most parties of one case.
pub const MAX_PARTIES: usize = 50;
/// Largest amount at stake, in cents (100 billion yuan).
pub const MAX_AMOUNT_CENTS: i64 = 10_000_000_000_000;
/// Most people involved.
pub const MAX_PEOPLE: i64 = 1_000_000;

fn sources() -> Vec<&'static str> {
    Source::ALL.iter().map(|s| s.as_str()).collect()
}

fn staff_sources() -> Vec<&'static str> {
    Source::staff_sources().map(|s| s.as_str()).collect()
}

fn states() -> Vec<&'static str> {
    CaseState::ALL.iter().map(|s| s.as_str()).collect()
}

fn type_code_schema() -> Value {
    s::pattern(r"^[a-z][a-z0-9_]{1,31}$")
}

/// A person's name as `parse_person_name` takes it (at most 50 characters).
fn person_name() -> Value {
    let mut v = s::name();
    v["maxLength"] = json!(50);
    v
}

fn party_schema() -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["role"],
    "properties": {
        "role": s::one_of(&["applicant", "respondent", "other"]),
        "resident_id": s::nullable(s::int64()),
        "name": s::nullable(s::name()),
        "gender": s::nullable(s::one_of(&["male", "female"])),
        "id_number": s::nullable(s::text(1, 40)),
        "phone": s::nullable(s::text(1, 20)),
        "address": s::nullable(s::note(200, false)),
    }})
}

/// `/api/v1/dispute-types`, `/api/v1/disputes…`, `/api/v1/me/disputes`, `/api/v1/figures/disputes`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/dispute-types",
            types,
            Doc::new("dispute", "The dispute type tree (family, neighbours, land, …; children under their parent)"),
        )
        .post(
            "/api/v1/dispute-types",
            add_type,
            Doc::new("dispute", "Add a dispute type (administrators)")
                .body(&[
                    ("code", type_code_schema()),
                    ("name_zh", s::name()),
                    ("name_en", s::name()),
                    ("parent?", s::nullable(type_code_schema())),
                ])
                .created(),
        )
        .get(
            "/api/v1/disputes",
            list,
            Doc::new("dispute", "Cases the user may see: a centre's under its node, a mediator's assigned, a grid worker's taken in, a citizen's own")
                .query("state", s::one_of(&states()), "state")
                .query("level", s::one_of(&["village", "town", "county"]), "level of the holding centre")
                .query("type", type_code_schema(), "dispute type code")
                .query("source", s::one_of(&sources()), "source")
                .query("node", s::node_code(), "only cases held under this node (staff)")
                .query("mediator", s::int64(), "assigned mediator id")
                .query("light", s::one_of(&["green", "yellow", "red"]), "deadline light")
                .query("after", s::int64(), "page: cases after this id")
                .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
        .post(
            "/api/v1/disputes",
            create,
            Doc::new("dispute", "Take a case in (staff): parties are people of the register (resident_id) or named here, their ID numbers and phones sealed")
                .body(&[
                    ("node", s::node_code()),
                    ("type", type_code_schema()),
                    ("source", s::one_of(&staff_sources())),
                    ("summary", s::note(MAX_SUMMARY_CHARS, true)),
                    ("amount_cents?", s::nullable(s::integer(0, MAX_AMOUNT_CENTS))),
                    ("people_involved?", s::nullable(s::integer(1, MAX_PEOPLE))),
                    ("violence?", s::nullable(s::boolean())),
                    ("parties", json!({"type": "array", "items": party_schema(), "minItems": 1, "maxItems": MAX_PARTIES})),
                ])
                .created(),
        )
        .get(
            "/api/v1/disputes/{id}",
            show,
            Doc::new("dispute", "A case: parties (masked), sessions, panels, timeline, outcome, clocks and the actions the user may take")
                .path("id", s::int64()),
        )
        .post(
            "/api/v1/disputes/{id}/actions",
            act,
            Doc::new("dispute", "A move of the case's life (accept, decline, assign, schedule_session, record_outcome, follow_up, close, transfer_up, transfer_down, request_extension, decide_extension, judicial_confirmation, invite_panel)")
                .path("id", s::int64())
                .body(&[
                    ("action", s::one_of(&Action::NAMES)),
                    ("reason?", s::nullable(s::note(MAX_NOTE_CHARS, false))),
                    ("note?", s::nullable(s::note(MAX_NOTE_CHARS, false))),
                    ("mediator_id?", s::nullable(s::int64())),
                    ("to_node?", s::nullable(s::node_code())),
                    ("outcome?", s::nullable(s::one_of(&["agreement", "failure", "withdrawal"]))),
                    ("terms?", s::nullable(s::note(MAX_TERMS_CHARS, false))),
                    ("referral?", s::nullable(s::one_of(&["court", "arbitration", "admin_review"]))),
                    ("honoured?", s::nullable(s::boolean())),
                    ("approve?", s::nullable(s::boolean())),
                    ("court?", s::nullable(s::note(100, false))),
                    ("number?", s::nullable(s::note(100, false))),
                    ("date?", s::nullable(s::date())),
                    ("panel_id?", s::nullable(s::int64())),
                ]),
        )
        .post(
            "/api/v1/disputes/{id}/sessions",
            add_session,
            Doc::new("dispute", "Schedule a mediation session (the assigned mediator or the centre); the first one puts the case in session")
                .path("id", s::int64())
                .body(&[
                    ("at", s::int64()),
                    ("place", s::note(200, true)),
                    ("attendees", s::array_max(s::name(), 50)),
                    ("record?", s::nullable(s::note(MAX_TERMS_CHARS, false))),
                    ("photos?", s::array_max(s::photo_hash(), 9)),
                ])
                .created(),
        )
        .patch(
            "/api/v1/disputes/{id}/sessions/{sid}",
            change_session,
            Doc::new("dispute", "Write a session's record (笔录), its attendees, or mark it held")
                .path("id", s::int64())
                .path("sid", s::int64())
                .body(&[
                    ("record?", s::nullable(s::note(MAX_TERMS_CHARS, false))),
                    ("attendees?", s::nullable(s::array_max(s::name(), 50))),
                    ("held?", s::nullable(s::boolean())),
                ]),
        )
        .get(
            "/api/v1/disputes/{id}/suggestions",
            suggestions,
            Doc::new("dispute", "Mediators ranked for the case: specialty, level, load, rating, with the reasons")
                .path("id", s::int64()),
        )
        .get(
            "/api/v1/me/disputes",
            mine,
            Doc::new("dispute", "A citizen's own applications for mediation"),
        )
        .post(
            "/api/v1/me/disputes",
            apply,
            Doc::new("dispute", "A citizen applies for mediation (申请调解): held by the centre of the given node (default: their household's)")
                .body(&[
                    ("type", type_code_schema()),
                    ("summary", s::note(MAX_SUMMARY_CHARS, true)),
                    ("respondent_name?", s::nullable(person_name())),
                    ("node?", s::nullable(s::node_code())),
                    ("amount_cents?", s::nullable(s::integer(0, MAX_AMOUNT_CENTS))),
                ])
                .created(),
        )
        .post(
            "/api/v1/events/{id}/dispute",
            convert,
            Doc::new("dispute", "Convert an event of the 矛盾纠纷 category into a case held by its village's centre (dispatchers of the event's centre): both link to each other, the event's clock stops, and the event closes when the case closes")
                .path("id", s::int64())
                .body(&[("type?", s::nullable(type_code_schema()))])
                .created(),
        )
        .get(
            "/api/v1/map/disputes",
            map_layer,
            Doc::new("dispute", "The dispute layer of the map: for each child of a node, its dispute measures from the counters (found, accepted, mediated, agreements, concluded, on time, followed up, honoured)")
                .query("node", s::region_code(), "region code (default: the user's scope)"),
        )
        .get(
            "/api/v1/figures/disputes",
            figures,
            Doc::new("dispute", "Dispute figures at a node from the counters (Σ/Σ): found, accepted, mediated, agreements, concluded, on time, followed up, honoured; by type, level, source and mediator")
                .query("node", s::node_code(), "region code (default: the user's scope)"),
        )
}

async fn types(State(app): State<AppState>, _user: CurrentUser) -> ApiResult<impl IntoResponse> {
    let items: Vec<Value> = shanzhi_store::dispute::types(&app.db)
        .await?
        .iter()
        .map(DisputeType::to_json)
        .collect();
    Ok(axum::Json(json!({"items": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeBody {
    code: String,
    name_zh: String,
    name_en: String,
    parent: Option<String>,
}

async fn add_type(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<TypeBody>,
) -> ApiResult<impl IntoResponse> {
    if user.actor.role != Role::Admin {
        return Err(ApiError::forbidden(
            "only administrators change the dispute types",
        ));
    }
    let code = parse_type_code(&b.code)?;
    let name_zh = shanzhi_domain::tree::parse_name(&b.name_zh)
        .map_err(|_| ApiError::invalid("name_zh", "1 to 100 characters, no control characters"))?;
    let name_en = shanzhi_domain::tree::parse_name(&b.name_en)
        .map_err(|_| ApiError::invalid("name_en", "1 to 100 characters, no control characters"))?;
    let all = shanzhi_store::dispute::types(&app.db).await?;
    if all.iter().any(|t| t.code == code) {
        return Err(ApiError::conflict(Some("code"), "this type exists already"));
    }
    if let Some(p) = &b.parent {
        if !all.iter().any(|t| &t.code == p) {
            return Err(ApiError::not_found("dispute type").with_field("parent"));
        }
    }
    let t = DisputeType {
        code,
        name_zh,
        name_en,
        parent: b.parent,
    };
    match shanzhi_store::dispute::add_type(&app.db, &t, user.user.id, app.clock.now_ms()).await {
        Ok(()) => Ok((StatusCode::CREATED, axum::Json(t.to_json()))),
        Err(StoreError::Conflict { .. }) => {
            Err(ApiError::conflict(Some("code"), "this type exists already"))
        }
        Err(e) => Err(e.into()),
    }
}

/// The node a staff read is about: `node`, or the user's own scope; 404 outside their reach.
pub(super) async fn scope_node(
    app: &AppState,
    user: &CurrentUser,
    node: Option<&str>,
) -> ApiResult<NodeCode> {
    let node = match node {
        Some(n) => NodeCode::parse(n)
            .map_err(|_| ApiError::invalid("node", "not a region or grid code"))?,
        None => user
            .actor
            .scope
            .node()
            .cloned()
            .ok_or_else(|| ApiError::forbidden("no scope"))?,
    };
    visible_node(app, user, &node).await?;
    Ok(node)
}

/// Writes a new case and answers its page (201).
async fn file(
    app: &AppState,
    user: &CurrentUser,
    new: &NewDispute,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let id = shanzhi_store::dispute::insert(&app.db, new, new.row.created_at).await?;
    app.notices.announce(&new.notifications);
    watch(app, id, new.parties.len()).await;
    Ok((
        StatusCode::CREATED,
        axum::Json(detail(app, &user.actor, id).await?),
    ))
}

/// The risk rules watching new cases (many parties, violence). The case stands whatever they
/// do; a failure is logged.
async fn watch(app: &AppState, id: i64, parties: usize) {
    let run = async {
        let row = shanzhi_store::dispute::get(&app.db, id).await?;
        crate::risk::rule::after_dispute(app, &row, u32::try_from(parties).unwrap_or(u32::MAX))
            .await
    };
    if let Err(e) = run.await {
        tracing::warn!(error = %e.message, dispute = id, "risk rules after a dispute failed");
    }
}

/// The type `code` with its parent (404 naming `field` if there is none).
async fn type_of(app: &AppState, code: &str, field: &str) -> ApiResult<DisputeType> {
    let all = shanzhi_store::dispute::types(&app.db).await?;
    all.into_iter()
        .find(|t| t.code == code)
        .ok_or_else(|| ApiError::not_found("dispute type").with_field(field))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartyBody {
    role: String,
    resident_id: Option<i64>,
    name: Option<String>,
    gender: Option<String>,
    id_number: Option<String>,
    phone: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    node: String,
    #[serde(rename = "type")]
    type_code: String,
    source: String,
    summary: String,
    amount_cents: Option<i64>,
    people_involved: Option<i64>,
    violence: Option<bool>,
    parties: Vec<PartyBody>,
}

fn summary_of(raw: &str) -> ApiResult<String> {
    Ok(shanzhi_domain::text::label(
        "summary",
        raw,
        MAX_SUMMARY_CHARS,
    )?)
}

fn check_amount(a: Option<i64>) -> ApiResult<()> {
    if a.is_some_and(|a| !(0..=MAX_AMOUNT_CENTS).contains(&a)) {
        return Err(ApiError::invalid(
            "amount_cents",
            format!("must be between 0 and {MAX_AMOUNT_CENTS}"),
        ));
    }
    Ok(())
}

/// Checks and seals the parties; answers them with the number of earlier cases of the
/// applicants (for the repeat flag).
async fn parties_of(
    app: &AppState,
    actor: &Actor,
    raw: Vec<PartyBody>,
    now: i64,
) -> ApiResult<(Vec<NewParty>, i64)> {
    if raw.is_empty() || raw.len() > MAX_PARTIES {
        return Err(ApiError::invalid(
            "parties",
            format!("give 1 to {MAX_PARTIES} parties"),
        ));
    }
    let since = now - REPEAT_DAYS * DAY_MS;
    let mut out = Vec::with_capacity(raw.len());
    let mut earlier = 0;
    for (i, p) in raw.into_iter().enumerate() {
        let field = |f: &str| format!("parties[{i}].{f}");
        let role = PartyRole::parse(&p.role).ok_or_else(|| {
            ApiError::invalid(field("role"), "must be applicant, respondent or other")
        })?;
        let address = match &p.address {
            Some(a) => shanzhi_domain::text::note(&field("address"), a, 200)?.map(|a| {
                shanzhi_store::pii::Sealed {
                    cipher: app.pii.encrypt(&a),
                    index: Vec::new(),
                    mask: mask_address(&a),
                }
            }),
            None => None,
        };
        let gender = match p.gender.as_deref() {
            None => None,
            Some(g @ ("male" | "female")) => Some(g.to_owned()),
            Some(_) => return Err(ApiError::invalid(field("gender"), "must be male or female")),
        };
        if let Some(rid) = p.resident_id {
            let subject = match shanzhi_store::visit::subject(&app.db, rid).await {
                Ok(s) => s,
                Err(StoreError::NotFound) => {
                    return Err(ApiError::not_found("resident").with_field(&field("resident_id")))
                }
                Err(e) => return Err(e.into()),
            };
            let node = NodeCode::parse(&subject.node_code)
                .map_err(|e| ApiError::internal(anyhow::anyhow!("resident {rid}: {e}")))?;
            if !actor.reaches(&node) {
                return Err(ApiError::not_found("resident").with_field(&field("resident_id")));
            }
            if role == PartyRole::Applicant {
                earlier +=
                    shanzhi_store::dispute::earlier_cases_of_resident(&app.db, rid, since).await?;
            }
            out.push(NewParty {
                role: role.as_str().to_owned(),
                resident_id: Some(rid),
                name: subject.name,
                gender,
                id_number: None,
                phone: None,
                address,
            });
            continue;
        }
        let name = parse_person_name(p.name.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::from(e).with_field(&field("name")))?;
        let id_number = match p
            .id_number
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(raw) => {
                let id = parse_identity(IdKind::ResidentId, raw, now)
                    .map_err(|e| ApiError::from(e).with_field(&field("id_number")))?;
                if role == PartyRole::Applicant {
                    earlier += shanzhi_store::dispute::earlier_cases(
                        &app.db,
                        &app.pii,
                        id.expose(),
                        since,
                    )
                    .await?;
                }
                Some(shanzhi_store::resident::seal_identity(&app.pii, &id))
            }
        };
        let phone = match p.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => {
                let ph =
                    Phone::parse(raw).map_err(|e| ApiError::from(e).with_field(&field("phone")))?;
                Some(shanzhi_store::resident::seal_phone(&app.pii, &ph))
            }
        };
        out.push(NewParty {
            role: role.as_str().to_owned(),
            resident_id: None,
            name,
            gender,
            id_number,
            phone,
            address,
        });
    }
    Ok((out, earlier))
}

fn to_centre(centre: &NodeCode, message: String) -> NewNotification {
    NewNotification::to_centre(centre.as_str(), "dispute_new", json!({}), message)
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let node = NodeCode::parse(&b.node)
        .map_err(|_| ApiError::invalid("node", "not a region or grid code"))?;
    visible_node(&app, &user, &node).await?;
    if !can_take_in(&user.actor, &node) {
        return Err(ApiError::forbidden("your role may not take cases in here"));
    }
    let centre = intake_centre(&node).ok_or_else(|| {
        ApiError::invalid(
            "node",
            "cases are held by a village, town or county centre (or a grid's village)",
        )
    })?;
    let t = type_of(&app, &b.type_code, "type").await?;
    let source = Source::parse(&b.source)
        .filter(|s| !matches!(s, Source::Event | Source::Online))
        .ok_or_else(|| ApiError::invalid("source", "not a source staff take cases in from"))?;
    let summary = summary_of(&b.summary)?;
    check_amount(b.amount_cents)?;
    if b.people_involved
        .is_some_and(|p| !(1..=MAX_PEOPLE).contains(&p))
    {
        return Err(ApiError::invalid(
            "people_involved",
            format!("must be between 1 and {MAX_PEOPLE}"),
        ));
    }
    let now = app.clock.now_ms();
    let (parties, earlier) = parties_of(&app, &user.actor, b.parties, now).await?;
    let mut row = new_row(
        &centre,
        t.code,
        source,
        summary,
        b.amount_cents,
        b.people_involved,
        b.violence.unwrap_or(false),
        parties.len(),
        earlier,
        now,
    )?;
    row.intake_user_id = Some(user.user.id);
    let new = NewDispute {
        row,
        parties,
        log: intake_log(user.user.id, "taken in (登记)"),
        notifications: vec![to_centre(&centre, "新的矛盾纠纷案件待受理".into())],
    };
    file(&app, &user, &new).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyBody {
    #[serde(rename = "type")]
    type_code: String,
    summary: String,
    respondent_name: Option<String>,
    node: Option<String>,
    amount_cents: Option<i64>,
}

async fn apply(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<ApplyBody>,
) -> ApiResult<impl IntoResponse> {
    if user.actor.role != Role::Citizen {
        return Err(ApiError::forbidden(
            "applications for mediation are made by citizens; staff take cases in",
        ));
    }
    let t = type_of(&app, &b.type_code, "type").await?;
    let summary = summary_of(&b.summary)?;
    check_amount(b.amount_cents)?;
    let node = match &b.node {
        Some(n) => NodeCode::parse(n)
            .map_err(|_| ApiError::invalid("node", "not a region or grid code"))?,
        None => home_node(&app, user.user.id).await?.ok_or_else(|| {
            ApiError::invalid(
                "node",
                "say where the dispute is: you have no household on the register",
            )
        })?,
    };
    match shanzhi_store::node::get(&app.db, &node).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(ApiError::not_found("node").with_field("node")),
        Err(e) => return Err(e.into()),
    }
    let centre = intake_centre(&node)
        .ok_or_else(|| ApiError::invalid("node", "must be a village, town, county or grid"))?;
    let mut parties = vec![NewParty {
        role: "applicant".into(),
        resident_id: None,
        name: user.user.display_name.clone(),
        gender: None,
        id_number: None,
        phone: None,
        address: None,
    }];
    if let Some(r) = b
        .respondent_name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let name =
            parse_person_name(r).map_err(|e| ApiError::from(e).with_field("respondent_name"))?;
        parties.push(NewParty {
            role: "respondent".into(),
            resident_id: None,
            name,
            gender: None,
            id_number: None,
            phone: None,
            address: None,
        });
    }
    let now = app.clock.now_ms();
    let mut row = new_row(
        &centre,
        t.code,
        Source::Online,
        summary,
        b.amount_cents,
        None,
        false,
        parties.len(),
        0,
        now,
    )?;
    row.applicant_user_id = Some(user.user.id);
    let new = NewDispute {
        row,
        parties,
        log: intake_log(user.user.id, "applied for mediation (申请调解)"),
        notifications: vec![to_centre(&centre, "群众申请调解，待受理".into())],
    };
    file(&app, &user, &new).await
}

/// The node of a citizen's own resident record, if they have one.
async fn home_node(app: &AppState, user_id: i64) -> ApiResult<Option<NodeCode>> {
    let rows = shanzhi_store::resident::of_user(&app.db, user_id).await?;
    Ok(rows.and_then(|r| NodeCode::parse(&r.node_code).ok()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    level: Option<String>,
    #[serde(rename = "type")]
    type_code: Option<String>,
    source: Option<String>,
    node: Option<String>,
    mediator: Option<i64>,
    light: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let limit = page_limit(q.limit, 50, 200)?;
    // Read by staff only, but a node that is no code is a mistake whoever sends it.
    if let Some(n) = &q.node {
        NodeCode::parse(n).map_err(|_| ApiError::invalid("node", "not a region or grid code"))?;
    }
    let mut f = Filter {
        limit,
        after: q.after,
        mediator_id: q.mediator,
        ..Filter::default()
    };
    if let Some(st) = &q.state {
        CaseState::parse(st).ok_or_else(|| ApiError::invalid("state", "unknown state"))?;
        f.state = Some(st.clone());
    }
    if let Some(l) = &q.level {
        CentreLevel::parse(l)
            .ok_or_else(|| ApiError::invalid("level", "must be village, town or county"))?;
        f.level = Some(l.clone());
    }
    if let Some(t) = &q.type_code {
        f.type_code = Some(parse_type_code(t).map_err(|e| ApiError::from(e).with_field("type"))?);
    }
    if let Some(s) = &q.source {
        Source::parse(s).ok_or_else(|| ApiError::invalid("source", "unknown source"))?;
        f.source = Some(s.clone());
    }
    if let Some(l) = &q.light {
        if !matches!(l.as_str(), "green" | "yellow" | "red") {
            return Err(ApiError::invalid("light", "must be green, yellow or red"));
        }
        f.light = Some(l.clone());
    }
    match user.actor.role {
        Role::Admin | Role::Dispatcher | Role::Leader | Role::Analyst => {
            let node = scope_node(&app, &user, q.node.as_deref()).await?;
            f.under = Some(node.path().to_owned());
        }
        Role::Mediator => f.mediator_user_id = Some(user.user.id),
        Role::GridWorker => f.intake_user_id = Some(user.user.id),
        Role::Citizen => f.applicant_user_id = Some(user.user.id),
        Role::Handler => return Err(ApiError::forbidden("departments have no part in mediation")),
    }
    Ok(axum::Json(page(&app, &user.actor, f).await?))
}

async fn mine(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    if user.actor.role != Role::Citizen {
        return Err(ApiError::forbidden(
            "this is a citizen's list; staff use /api/v1/disputes",
        ));
    }
    let f = Filter {
        applicant_user_id: Some(user.user.id),
        limit: 200,
        ..Filter::default()
    };
    Ok(axum::Json(page(&app, &user.actor, f).await?))
}

async fn page(app: &AppState, actor: &Actor, f: Filter) -> ApiResult<Value> {
    let limit = f.limit;
    let rows = shanzhi_store::dispute::list(&app.db, &f).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let applicants = shanzhi_store::dispute::applicants(&app.db, &ids).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let applicant = applicants
            .iter()
            .find(|(id, _)| *id == r.id)
            .map(|(_, n)| mask_name(n));
        let mut j = summary_json(app, r).await?;
        j["applicant"] = json!(applicant);
        let _ = actor;
        items.push(j);
    }
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok(json!({"items": items, "next_cursor": next}))
}

/// The fields every view of a case has.
async fn summary_json(app: &AppState, r: &DisputeRow) -> ApiResult<Value> {
    let node_name = match node_of(r) {
        Ok(n) => shanzhi_store::node::get(&app.db, &n)
            .await
            .ok()
            .map(|n| n.name),
        Err(_) => None,
    };
    let mediator = match r.mediator_id {
        Some(m) => shanzhi_store::mediator::get(&app.db, m)
            .await
            .ok()
            .map(|m| json!({"id": m.id, "name": m.name})),
        None => None,
    };
    Ok(json!({
        "id": r.id, "number": r.number, "summary": r.summary, "type": r.type_code, "source": r.source,
        "state": r.state, "level": r.level, "node_code": r.node_code, "node_name": node_name,
        "mediator": mediator, "amount_cents": r.amount_cents, "people_involved": r.people_involved,
        "risk": {"many_parties": r.many_parties, "violence": r.violence, "repeat": r.repeat_case},
        "accepted_at": r.accepted_at, "due_at": r.due_at, "light": r.light, "created_at": r.created_at,
        "event_id": r.event_id, "version": r.version,
    }))
}

/// The case page as `actor` may see it.
pub async fn detail(app: &AppState, actor: &Actor, id: i64) -> ApiResult<Value> {
    let (row, st) = visible(app, actor, id).await?;
    let me = involvement(&row, &st, actor);
    let full_names = sees_names(actor, &st.node, me);
    let mut out = summary_json(app, &row).await?;
    let parties: Vec<Value> = shanzhi_store::dispute::parties(&app.db, id)
        .await?
        .iter()
        .map(|p| {
            let name = if full_names { p.name.clone() } else { mask_name(&p.name) };
            json!({"id": p.id, "role": p.role, "resident_id": p.resident_id.filter(|_| full_names),
                   "name": name, "gender": p.gender, "id_mask": p.id_mask, "phone_mask": p.phone_mask,
                   "address": p.address.as_ref().filter(|_| full_names)})
        })
        .collect();
    let applicant = parties
        .iter()
        .find(|p| p["role"] == "applicant")
        .map(|p| p["name"].clone());
    let sessions = shanzhi_store::dispute::sessions(&app.db, id).await?;
    let sids: Vec<i64> = sessions.iter().map(|s| s.id).collect();
    let photos = shanzhi_store::dispute::session_photos(&app.db, &sids).await?;
    let sessions: Vec<Value> = sessions
        .iter()
        .map(|s| {
            let mine: Vec<String> = photos
                .iter()
                .filter(|(sid, _)| *sid == s.id)
                .map(|(_, h)| h.clone())
                .collect();
            s.to_json(&mine)
        })
        .collect();
    let panels: Vec<Value> = shanzhi_store::dispute::panels_of(&app.db, id)
        .await?
        .iter()
        .map(|(pid, name, at)| json!({"id": pid, "name": name, "invited_at": at}))
        .collect();
    let log = shanzhi_store::dispute::timeline(&app.db, id).await?;
    let actor_ids: Vec<i64> = log.iter().filter_map(|l| l.actor_id).collect();
    let seen = crate::person::seen(app, actor, &actor_ids, true).await?;
    let log: Vec<Value> = log
        .iter()
        .map(|l| {
            let who = l.actor_id.and_then(|a| seen.get(&a)).map(|p| json!({"id": p.id, "name": p.name}));
            let data: Value = serde_json::from_str(&l.data).unwrap_or_else(|_| json!({}));
            json!({"at": l.at, "action": l.action, "from_state": l.from_state, "to_state": l.to_state,
                   "actor": who, "note": l.note, "data": data})
        })
        .collect();
    let agreement = (row.outcome.as_deref() == Some("agreement"))
        .then(|| json!({"terms": row.outcome_text, "signed_at": row.outcome_at}));
    let outcome = row.outcome.as_ref().map(|o| {
        json!({"kind": o, "text": row.outcome_text, "referral": row.referral, "at": row.outcome_at, "on_time": row.on_time})
    });
    let follow_up = row
        .honoured
        .map(|h| json!({"honoured": h, "note": row.follow_up_note}));
    let judicial: Option<Value> = row
        .judicial
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    out["applicant"] = json!(applicant);
    out["parties"] = json!(parties);
    out["sessions"] = json!(sessions);
    out["panels"] = json!(panels);
    out["log"] = json!(log);
    out["agreement"] = json!(agreement);
    out["outcome"] = json!(outcome);
    out["follow_up"] = json!(follow_up);
    out["judicial"] = json!(judicial);
    out["reopened"] = json!(row.reopened);
    out["clocks"] = clocks_json(&row);
    out["allowed_actions"] = json!(allowed_actions(&st, actor));
    Ok(out)
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(detail(&app, &user.actor, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActBody {
    action: String,
    reason: Option<String>,
    note: Option<String>,
    mediator_id: Option<i64>,
    to_node: Option<String>,
    outcome: Option<String>,
    terms: Option<String>,
    referral: Option<String>,
    honoured: Option<bool>,
    approve: Option<bool>,
    court: Option<String>,
    number: Option<String>,
    date: Option<String>,
    panel_id: Option<i64>,
}

fn need<T>(v: Option<T>, field: &str) -> ApiResult<T> {
    v.ok_or_else(|| ApiError::invalid(field, "is required for this action"))
}

impl TryFrom<ActBody> for Action {
    type Error = ApiError;

    fn try_from(b: ActBody) -> Result<Action, ApiError> {
        let text = |v: Option<String>| v.unwrap_or_default();
        Ok(match b.action.as_str() {
            "accept" => Action::Accept,
            "decline" => Action::Decline {
                reason: text(b.reason),
            },
            "assign" => Action::Assign {
                mediator_id: need(b.mediator_id, "mediator_id")?,
            },
            "schedule_session" => Action::ScheduleSession,
            "record_outcome" => Action::RecordOutcome(match need(b.outcome, "outcome")?.as_str() {
                "agreement" => Outcome::Agreement {
                    terms: text(b.terms),
                },
                "failure" => Outcome::Failure {
                    referral: Referral::parse(&need(b.referral, "referral")?).ok_or_else(|| {
                        ApiError::invalid("referral", "must be court, arbitration or admin_review")
                    })?,
                    reason: text(b.reason),
                },
                "withdrawal" => Outcome::Withdrawal {
                    reason: text(b.reason),
                },
                _ => {
                    return Err(ApiError::invalid(
                        "outcome",
                        "must be agreement, failure or withdrawal",
                    ))
                }
            }),
            "follow_up" => Action::FollowUp {
                honoured: need(b.honoured, "honoured")?,
                note: b.note,
            },
            "close" => Action::Close,
            "transfer_up" => Action::TransferUp {
                reason: text(b.reason),
            },
            "transfer_down" => Action::TransferDown {
                to_node: NodeCode::parse(&need(b.to_node, "to_node")?)
                    .map_err(|_| ApiError::invalid("to_node", "not a region code"))?,
                reason: text(b.reason),
            },
            "request_extension" => Action::RequestExtension {
                reason: text(b.reason),
            },
            "decide_extension" => Action::DecideExtension {
                approve: need(b.approve, "approve")?,
            },
            "judicial_confirmation" => Action::JudicialConfirmation(Judicial {
                court: text(b.court),
                date: need(b.date, "date")?,
                number: text(b.number),
            }),
            "invite_panel" => Action::InvitePanel {
                panel_id: need(b.panel_id, "panel_id")?,
            },
            _ => {
                return Err(ApiError::invalid(
                    "action",
                    format!("must be one of: {}", Action::NAMES.join(" ")),
                ))
            }
        })
    }
}

async fn act(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ActBody>,
) -> ApiResult<impl IntoResponse> {
    let action = Action::try_from(b)?;
    let row = crate::dispute::act(&app, &user.actor, id, &action).await?;
    match detail(&app, &user.actor, id).await {
        Ok(v) => Ok(axum::Json(v)),
        // Transferred out of the actor's reach: the move is done, the case is another
        // centre's now; answer what it became without its page.
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            let mut v = summary_json(&app, &row).await?;
            v["allowed_actions"] = json!([]);
            v["out_of_reach"] = json!(true);
            Ok(axum::Json(v))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionBody {
    at: i64,
    place: String,
    attendees: Vec<String>,
    record: Option<String>,
    #[serde(default)]
    photos: Vec<String>,
}

fn attendees_of(raw: &[String]) -> ApiResult<Vec<String>> {
    if raw.len() > 50 {
        return Err(ApiError::invalid("attendees", "at most 50"));
    }
    raw.iter()
        .map(|a| {
            shanzhi_domain::tree::parse_name(a)
                .map_err(|_| ApiError::invalid("attendees", "each a name of 1 to 100 characters"))
        })
        .collect()
}

fn record_of(raw: Option<&str>) -> ApiResult<Option<String>> {
    Ok(match raw {
        Some(r) => shanzhi_domain::text::note("record", r, MAX_TERMS_CHARS)?,
        None => None,
    })
}

async fn add_session(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<SessionBody>,
) -> ApiResult<impl IntoResponse> {
    let place = shanzhi_domain::text::label("place", &b.place, 200)?;
    let attendees = attendees_of(&b.attendees)?;
    let record = record_of(b.record.as_deref())?;
    if b.photos.len() > 9 {
        return Err(ApiError::invalid("photos", "at most 9 photos"));
    }
    crate::event::check_uploaded(&app, &user.actor, &b.photos).await?;
    // The move first: it checks who may and in which state; the session follows.
    crate::dispute::act(&app, &user.actor, id, &Action::ScheduleSession).await?;
    let sid = shanzhi_store::dispute::add_session(
        &app.db,
        &shanzhi_store::dispute::NewSession {
            dispute_id: id,
            at: b.at,
            place,
            attendees,
            record,
            created_by: user.user.id,
            photos: b.photos,
        },
        app.clock.now_ms(),
    )
    .await?;
    let session = shanzhi_store::dispute::sessions(&app.db, id)
        .await?
        .into_iter()
        .find(|s| s.id == sid)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("session {sid} vanished")))?;
    let photos: Vec<String> = shanzhi_store::dispute::session_photos(&app.db, &[sid])
        .await?
        .into_iter()
        .map(|(_, h)| h)
        .collect();
    Ok((StatusCode::CREATED, axum::Json(session.to_json(&photos))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionPatch {
    record: Option<String>,
    attendees: Option<Vec<String>>,
    held: Option<bool>,
}

async fn change_session(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, sid)): Path<(i64, i64)>,
    Json(b): Json<SessionPatch>,
) -> ApiResult<impl IntoResponse> {
    let (row, st) = visible(&app, &user.actor, id).await?;
    // Whoever may schedule a session on an open case may write its record.
    let mut probe = st.clone();
    probe.state = CaseState::InSession;
    let open = CaseState::parse(&row.state).is_some_and(|s| s.is_open());
    if !open
        || shanzhi_domain::dispute::transition(&probe, &Action::ScheduleSession, &user.actor)
            .is_err()
    {
        return Err(ApiError::forbidden(
            "only the assigned mediator or the centre writes the sessions of an open case",
        ));
    }
    let change = shanzhi_store::dispute::SessionChange {
        record: record_of(b.record.as_deref())?,
        attendees: b.attendees.as_deref().map(attendees_of).transpose()?,
        held: b.held,
    };
    match shanzhi_store::dispute::change_session(
        &app.db,
        id,
        sid,
        &change,
        user.user.id,
        app.clock.now_ms(),
    )
    .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(ApiError::not_found("session")),
        Err(e) => return Err(e.into()),
    }
    let s = shanzhi_store::dispute::sessions(&app.db, id)
        .await?
        .into_iter()
        .find(|s| s.id == sid)
        .ok_or_else(|| ApiError::not_found("session"))?;
    let photos: Vec<String> = shanzhi_store::dispute::session_photos(&app.db, &[sid])
        .await?
        .into_iter()
        .map(|(_, h)| h)
        .collect();
    Ok(axum::Json(s.to_json(&photos)))
}

async fn suggestions(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let (row, st) = visible(&app, &user.actor, id).await?;
    if !matches!(user.actor.role, Role::Admin | Role::Dispatcher) {
        return Err(ApiError::forbidden("the centre assigns mediators"));
    }
    let t = type_of(&app, &row.type_code, "type").await?;
    let level = centre_level(&st.node)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("case {id} held off a centre")))?;
    // Candidates: those serving under the case's node, and those at its ancestors.
    let f = shanzhi_store::mediator::Filter {
        under: Some(st.node.path().to_owned()),
        at_nodes: st.node.ancestor_codes(),
        active_only: true,
        limit: 2_000,
        ..Default::default()
    };
    let pool = shanzhi_store::mediator::list(&app.db, &f).await?;
    let candidates: Vec<Candidate> = pool
        .iter()
        .filter_map(|m| {
            Some(Candidate {
                id: m.id,
                specialties: m.specialties(),
                level: CentreLevel::parse(&m.level)?,
                node: NodeCode::parse(&m.node_code).ok()?,
                load: m.load,
                rating: m.rating,
                active: m.active,
            })
        })
        .collect();
    let ranked = rank(
        &Need {
            type_code: t.code,
            type_parent: t.parent,
            level,
            node: st.node.clone(),
        },
        &candidates,
    );
    let items: Vec<Value> = ranked
        .iter()
        .take(20)
        .filter_map(|r| {
            let m = pool.iter().find(|m| m.id == r.id)?;
            Some(json!({"mediator": m.to_json(), "score": r.score, "reasons": r.reasons}))
        })
        .collect();
    Ok(axum::Json(json!({"items": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FiguresQuery {
    node: Option<String>,
}

async fn figures(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FiguresQuery>,
) -> ApiResult<impl IntoResponse> {
    if !matches!(
        user.actor.role,
        Role::Admin | Role::Dispatcher | Role::Leader | Role::Analyst
    ) {
        return Err(ApiError::forbidden(
            "figures are for centres, leaders and analysts",
        ));
    }
    let node = scope_node(&app, &user, q.node.as_deref()).await?;
    let (mut out, totals) = super::figures::tally_figures(
        &app,
        &node,
        "dispute",
        &MEASURES,
        &[
            ("dispute_type", "by_type"),
            ("dispute_level", "by_level"),
            ("dispute_source", "by_source"),
            ("dispute_mediator", "by_mediator"),
        ],
    )
    .await?;
    let get = |k: &str| totals.get(k).copied().unwrap_or(0);
    let rate = super::figures::rate;
    out["success_rate"] = rate(get("agreements"), get("concluded"));
    out["on_time_rate"] = rate(get("on_time"), get("mediated"));
    out["honoured_rate"] = rate(get("honoured"), get("followed_up"));
    Ok(axum::Json(out))
}

/// The code of the event category tree whose events are disputes (its children too).
pub const DISPUTE_CATEGORY: &str = "dispute";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConvertBody {
    #[serde(rename = "type")]
    type_code: Option<String>,
}

/// Whether the event category `id` is the dispute category or under it.
async fn is_dispute_category(app: &AppState, mut id: i64) -> ApiResult<bool> {
    for _ in 0..16 {
        let c = shanzhi_store::category::get(&app.db, id).await?;
        if c.code == DISPUTE_CATEGORY {
            return Ok(true);
        }
        match c.parent_id {
            Some(p) => id = p,
            None => return Ok(false),
        }
    }
    Ok(false)
}

async fn convert(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ConvertBody>,
) -> ApiResult<impl IntoResponse> {
    let (row, _, ev) = crate::event::visible(&app, &user.actor, id).await?;
    if !matches!(user.actor.role, Role::Admin | Role::Dispatcher) || !user.actor.reaches(&ev.centre)
    {
        return Err(ApiError::forbidden(
            "the dispatchers of the event's centre convert it",
        ));
    }
    if !is_dispute_category(&app, row.category_id).await? {
        return Err(ApiError::conflict(
            Some("category"),
            "only an event of the 矛盾纠纷 (dispute) category becomes a case",
        ));
    }
    if !matches!(row.state.as_str(), "reported" | "accepted") {
        return Err(ApiError::conflict(
            Some("state"),
            "only a new or accepted event is converted; this one is on its way already",
        ));
    }
    if shanzhi_store::dispute::of_event(&app.db, id)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(None, "this event is a case already"));
    }
    let t = type_of(&app, b.type_code.as_deref().unwrap_or("other"), "type").await?;
    let centre = intake_centre(&ev.grid)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("event {id} has no village")))?;
    let now = app.clock.now_ms();
    let reporter = match row.reporter_id {
        Some(r) => shanzhi_store::user::people(&app.db, &[r])
            .await?
            .into_iter()
            .next()
            .map(|p| p.display_name),
        None => None,
    };
    let parties = vec![NewParty {
        role: "applicant".into(),
        resident_id: None,
        name: reporter.unwrap_or_else(|| "事件反映人".into()),
        gender: None,
        id_number: None,
        phone: None,
        address: None,
    }];
    let summary = summary_of(&row.description).unwrap_or_else(|_| "由网格事件转入".into());
    let mut case = new_row(
        &centre,
        t.code,
        Source::Event,
        summary,
        None,
        None,
        false,
        parties.len(),
        0,
        now,
    )?;
    case.event_id = Some(id);
    case.intake_user_id = Some(user.user.id);
    let new = NewDispute {
        row: case,
        parties,
        log: LogEntry {
            data: json!({"event_id": id}),
            ..intake_log(user.user.id, "converted from an event (事件转矛盾纠纷)")
        },
        notifications: vec![to_centre(
            &centre,
            "网格事件转为矛盾纠纷案件，待受理".into(),
        )],
    };
    let case_id = shanzhi_store::dispute::insert(&app.db, &new, now).await?;
    watch(&app, case_id, new.parties.len()).await;
    app.notices.announce(&new.notifications);
    let number = shanzhi_store::dispute::get(&app.db, case_id).await?.number;
    crate::event::handled_elsewhere(
        &app,
        &row,
        crate::event::Elsewhere::Handled,
        "to_dispute",
        format!("转为矛盾纠纷案件 {number}，由调解结果办结"),
        json!({"dispute_id": case_id, "number": number}),
        Some(user.user.id),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(detail(&app, &user.actor, case_id).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MapQuery {
    node: Option<String>,
}

/// Path length of the children of a region path (province 2 → city 4 → county 6 → town 9 →
/// village 12); `None` below villages, where no case is held.
fn child_path_len(path: &str) -> Option<i64> {
    match path.len() {
        2 => Some(4),
        4 => Some(6),
        6 => Some(9),
        9 => Some(12),
        _ => None,
    }
}

async fn map_layer(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<MapQuery>,
) -> ApiResult<impl IntoResponse> {
    if !matches!(
        user.actor.role,
        Role::Admin | Role::Dispatcher | Role::Leader | Role::Analyst
    ) {
        return Err(ApiError::forbidden(
            "the dispute layer is for centres, leaders and analysts",
        ));
    }
    let node = scope_node(&app, &user, q.node.as_deref()).await?;
    let mut by: std::collections::BTreeMap<String, Value> = std::collections::BTreeMap::new();
    if let Some(len) = child_path_len(node.path()) {
        for (path, key, n) in
            shanzhi_store::tally::of_level(&app.db, node.path(), len, "dispute").await?
        {
            let code = NodeCode::from_path(&path)
                .map(|c| c.as_str().to_owned())
                .unwrap_or(path);
            let entry = by
                .entry(code.clone())
                .or_insert_with(|| json!({"node_code": code}));
            entry[key.as_str()] = json!(n);
        }
    }
    let items: Vec<Value> = by.into_values().collect();
    Ok(axum::Json(json!({"node": node.as_str(), "items": items})))
}
