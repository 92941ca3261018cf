//! Risks and early warning over HTTP (风险研判预警): the rules that raise clues and the hours
//! each level gets, clues entered by hand, the scoped list, a record's page with its timeline,
//! progress reports and missed days, every move of its life, today's board and the figures.
//!
//! - Lists answer `{items, next_cursor}`, newest first (`?before=<next_cursor>`).
//! - Who: analysts (研判), dispatchers and administrators of the centre whose scope reaches the
//!   record's node assess, regrade, reassign and review; leaders read; handlers read and report
//!   on the records their department leads or helps with, and file clues of their own.

use std::collections::HashMap;

use super::doc::{schema as s, Doc, Routes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::risk::rule::RuleKind;
use shanzhi_domain::risk::state::{MAX_HELPERS, MAX_NOTE_CHARS};
use shanzhi_domain::risk::{is_type, Action, Level, State as RiskStateName, TYPES};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::{Role, Scope};
use shanzhi_store::event::LogEntry;
use shanzhi_store::notification::NewNotification;
use shanzhi_store::risk::{Filter, NewClue, RiskRow, RuleRow, RuleValues};
use shanzhi_store::StoreError;

use super::dispute::scope_node;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{page_limit, CurrentUser, Json, Query};
use crate::http::state::AppState;
use crate::risk::{allowed_actions, centres_of, clocks_json, day_range, reads_risks, visible};

/// Longest title of a clue.
pub const MAX_TITLE_CHARS: usize = 200;

fn types() -> Vec<&'static str> {
    TYPES.iter().map(|t| t.0).collect()
}

fn levels() -> Vec<&'static str> {
    Level::ALL.iter().map(|l| l.as_str()).collect()
}

fn states() -> Vec<&'static str> {
    RiskStateName::ALL.iter().map(|s| s.as_str()).collect()
}

/// `/api/v1/risk-rules…`, `/api/v1/risk-levels…`, `/api/v1/risks…`, `/api/v1/figures/risks`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/risk-rules",
            rules,
            Doc::new("risk", "The rules that raise risk clues (analysts, leaders, administrators)"),
        )
        .post(
            "/api/v1/risk-rules",
            add_rule,
            Doc::new("risk", "Add a rule (administrators): category_burst {category_id, min_events, days}, dispute_flags {min_parties?, violence?}, repeat_reporter {min_reports, days}, dispute_rise {type_code, days, min_cases, rise_percent?, before_spring_festival?}")
                .body(&[
                    ("name", s::name()),
                    ("kind", s::one_of(&RuleKind::NAMES)),
                    ("params", json!({"type": "object"})),
                    ("node", s::node_code()),
                    ("risk_type", s::one_of(&types())),
                    ("enabled?", s::nullable(s::boolean())),
                ])
                .created(),
        )
        .patch(
            "/api/v1/risk-rules/{id}",
            change_rule,
            Doc::new("risk", "Change, enable or disable a rule (administrators)")
                .path("id", s::int64())
                .body(&[
                    ("name?", s::nullable(s::name())),
                    ("params?", s::nullable(json!({"type": "object"}))),
                    ("risk_type?", s::nullable(s::one_of(&types()))),
                    ("enabled?", s::nullable(s::boolean())),
                ]),
        )
        .get(
            "/api/v1/risk-levels",
            deadlines,
            Doc::new("risk", "The hours each level gets to be handled (red 24 by default)"),
        )
        .patch(
            "/api/v1/risk-levels/{level}",
            set_deadline,
            Doc::new("risk", "Set a level's hours (administrators)")
                .path("level", s::one_of(&levels()))
                .body(&[("deadline_hours", s::integer(1, 24 * 366))]),
        )
        .get(
            "/api/v1/risks",
            list,
            Doc::new("risk", "Clues and risks the user may see, newest first: the centre's under its node, a department's led or helped")
                .query("state", s::one_of(&states()), "state")
                .query("level", s::one_of(&levels()), "colour level")
                .query("type", s::one_of(&types()), "risk type")
                .query("source", s::one_of(&shanzhi_domain::risk::SOURCES), "where it came from")
                .query("open", s::boolean(), "only clues and risks not closed or dismissed")
                .query("node", s::node_code(), "only under this node (centre staff)")
                .query("before", s::int64(), "page: records before this id")
                .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
        .post(
            "/api/v1/risks",
            create,
            Doc::new("risk", "Enter a clue by hand (the centre; a department's handler for its region), optionally from an event or a dispute")
                .body(&[
                    ("node", s::node_code()),
                    ("type", s::one_of(&types())),
                    ("title", s::note(MAX_TITLE_CHARS, true)),
                    ("detail?", s::nullable(s::note(MAX_NOTE_CHARS, false))),
                    ("event_id?", s::nullable(s::int64())),
                    ("dispute_id?", s::nullable(s::int64())),
                ])
                .created(),
        )
        .get(
            "/api/v1/risks/board",
            board,
            Doc::new("risk", "Today's board: open risks by level with their countdowns, and the departments that missed daily reports, ranked")
                .query("node", s::node_code(), "region code (default: the user's scope)")
                .query("days", s::integer(1, 31), "days of missed reports to rank (default 1: yesterday and today)"),
        )
        .get(
            "/api/v1/risks/{id}",
            show,
            Doc::new("risk", "A clue or risk: assessment, departments, clock, progress reports, missed days, timeline and the actions the user may take")
                .path("id", s::int64()),
        )
        .post(
            "/api/v1/risks/{id}/actions",
            act,
            Doc::new("risk", "A move of the record's life (assess, dismiss, report, regrade, reassign, finish, review)")
                .path("id", s::int64())
                .body(&[
                    ("action", s::one_of(&shanzhi_domain::risk::Action::NAMES)),
                    ("level?", s::nullable(s::one_of(&levels()))),
                    ("lead_department_id?", s::nullable(s::int64())),
                    ("helper_ids?", s::nullable(s::array_max(s::int64(), MAX_HELPERS))),
                    ("measures?", s::nullable(s::note(MAX_NOTE_CHARS, false))),
                    ("reason?", s::nullable(s::note(MAX_NOTE_CHARS, false))),
                    ("text?", s::nullable(s::note(MAX_NOTE_CHARS, false))),
                    ("summary?", s::nullable(s::note(MAX_NOTE_CHARS, false))),
                    ("approve?", s::nullable(s::boolean())),
                    ("note?", s::nullable(s::note(MAX_NOTE_CHARS, false))),
                ]),
        )
        .get(
            "/api/v1/figures/risks",
            figures,
            Doc::new("risk", "Risk figures at a node from the counters (Σ/Σ): clues, raised by rules, converted, dismissed, open, closed, closed on time; by level, type and source; warnings sent from the area, people notified and messages delivered by channel")
                .query("node", s::node_code(), "region code (default: the user's scope)"),
        )
}

fn centre_staff(role: Role) -> bool {
    matches!(role, Role::Analyst | Role::Dispatcher | Role::Admin)
}

fn rule_readers(user: &CurrentUser) -> ApiResult<()> {
    if matches!(
        user.actor.role,
        Role::Analyst | Role::Dispatcher | Role::Admin | Role::Leader
    ) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "the risk rules are for the centre, leaders and administrators",
        ))
    }
}

fn admin(user: &CurrentUser) -> ApiResult<()> {
    if user.actor.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only administrators change the risk rules and levels",
        ))
    }
}

async fn rules(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    rule_readers(&user)?;
    let items: Vec<Value> = shanzhi_store::risk::rules(&app.db)
        .await?
        .iter()
        .filter(|r| {
            NodeCode::parse(&r.node_code).is_ok_and(|n| {
                user.actor.reaches(&n) || user.actor.scope.node().is_some_and(|s| n.contains(s))
            })
        })
        .map(RuleRow::to_json)
        .collect();
    Ok(axum::Json(json!({"items": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleBody {
    name: String,
    kind: String,
    params: Value,
    node: String,
    risk_type: String,
    enabled: Option<bool>,
}

/// Checks a rule's values: the kind's parameters, the node within the administrator's scope,
/// the category or dispute type it names.
async fn rule_values(app: &AppState, user: &CurrentUser, b: RuleBody) -> ApiResult<RuleValues> {
    let name = shanzhi_domain::tree::parse_name(&b.name)
        .map_err(|_| ApiError::invalid("name", "1 to 100 characters, no control characters"))?;
    let kind = RuleKind::parse(&b.kind, &b.params)?;
    if !is_type(&b.risk_type) {
        return Err(ApiError::invalid(
            "risk_type",
            format!("one of {}", types().join(", ")),
        ));
    }
    let node = NodeCode::parse(&b.node)
        .map_err(|_| ApiError::invalid("node", "not a region or grid code"))?;
    super::node::visible_node(app, user, &node)
        .await
        .map_err(|e| e.with_field("node"))?;
    match &kind {
        RuleKind::CategoryBurst { category_id, .. } => {
            let snap = app.reference.with_category(&app.db, *category_id).await?;
            if snap.category(*category_id).is_none() {
                return Err(ApiError::not_found("category").with_field("params.category_id"));
            }
        }
        RuleKind::DisputeRise { type_code, .. } => {
            let all = shanzhi_store::dispute::types(&app.db).await?;
            if !all.iter().any(|t| &t.code == type_code) {
                return Err(ApiError::not_found("dispute type").with_field("params.type_code"));
            }
        }
        _ => {}
    }
    Ok(RuleValues {
        name,
        kind: kind.name().to_owned(),
        params: kind.params(),
        node_code: node.as_str().to_owned(),
        risk_type: b.risk_type,
        enabled: b.enabled.unwrap_or(true),
    })
}

async fn add_rule(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<RuleBody>,
) -> ApiResult<impl IntoResponse> {
    admin(&user)?;
    let values = rule_values(&app, &user, b).await?;
    let id =
        shanzhi_store::risk::add_rule(&app.db, &values, user.user.id, app.clock.now_ms()).await?;
    app.reference.invalidate();
    Ok((
        StatusCode::CREATED,
        axum::Json(shanzhi_store::risk::rule(&app.db, id).await?.to_json()),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleChange {
    name: Option<String>,
    params: Option<Value>,
    risk_type: Option<String>,
    enabled: Option<bool>,
}

async fn change_rule(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<RuleChange>,
) -> ApiResult<impl IntoResponse> {
    admin(&user)?;
    let before = match shanzhi_store::risk::rule(&app.db, id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("risk rule")),
        Err(e) => return Err(e.into()),
    };
    let node = NodeCode::parse(&before.node_code).map_err(|e| ApiError::internal(e.into()))?;
    if !user.actor.reaches(&node) {
        return Err(ApiError::not_found("risk rule"));
    }
    let body = RuleBody {
        name: b.name.unwrap_or_else(|| before.name.clone()),
        kind: before.kind.clone(),
        params: match b.params {
            Some(p) => p,
            None => {
                serde_json::from_str(&before.params).map_err(|e| ApiError::internal(e.into()))?
            }
        },
        node: before.node_code.clone(),
        risk_type: b.risk_type.unwrap_or_else(|| before.risk_type.clone()),
        enabled: Some(b.enabled.unwrap_or(before.enabled)),
    };
    let values = rule_values(&app, &user, body).await?;
    match shanzhi_store::risk::update_rule(
        &app.db,
        &before,
        &values,
        user.user.id,
        app.clock.now_ms(),
    )
    .await
    {
        Ok(()) => {}
        Err(StoreError::Stale) => {
            return Err(ApiError::conflict(
                Some("version"),
                "the rule was changed at the same moment; reload and try again",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    app.reference.invalidate();
    Ok(axum::Json(
        shanzhi_store::risk::rule(&app.db, id).await?.to_json(),
    ))
}

async fn deadlines(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    if !reads_risks(&user.actor) {
        return Err(ApiError::forbidden(
            "risks are for the centre, leaders and departments",
        ));
    }
    let items: Vec<Value> = shanzhi_store::risk::deadlines(&app.db)
        .await?
        .into_iter()
        .map(|(level, hours)| json!({"level": level, "deadline_hours": hours, "daily_report": Level::parse(&level).is_some_and(Level::needs_daily_report)}))
        .collect();
    Ok(axum::Json(json!({"items": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlineBody {
    deadline_hours: i64,
}

async fn set_deadline(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(level): Path<String>,
    Json(b): Json<DeadlineBody>,
) -> ApiResult<impl IntoResponse> {
    admin(&user)?;
    if !matches!(user.actor.scope, Scope::Node(ref n) if n.path().len() <= 2) {
        return Err(ApiError::forbidden(
            "the levels' hours are set for the whole deployment, by its top administrators",
        ));
    }
    let level = Level::parse(&level).ok_or_else(|| ApiError::not_found("risk level"))?;
    if !(1..=24 * 366).contains(&b.deadline_hours) {
        return Err(ApiError::invalid(
            "deadline_hours",
            "between 1 and 8784 hours",
        ));
    }
    shanzhi_store::risk::set_deadline(
        &app.db,
        level,
        b.deadline_hours,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    Ok(axum::Json(
        json!({"level": level.as_str(), "deadline_hours": b.deadline_hours}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    level: Option<String>,
    #[serde(rename = "type")]
    type_code: Option<String>,
    source: Option<String>,
    open: Option<bool>,
    node: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

fn one_of(field: &str, v: &Option<String>, allowed: &[&str]) -> ApiResult<()> {
    match v {
        Some(x) if !allowed.contains(&x.as_str()) => Err(ApiError::invalid(
            field,
            format!("one of {}", allowed.join(", ")),
        )),
        _ => Ok(()),
    }
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    if !reads_risks(&user.actor) {
        return Err(ApiError::forbidden(
            "risks are for the centre, leaders and departments",
        ));
    }
    let limit = page_limit(q.limit, 50, 200)?;
    one_of("state", &q.state, &states())?;
    one_of("level", &q.level, &levels())?;
    one_of("type", &q.type_code, &types())?;
    one_of("source", &q.source, &shanzhi_domain::risk::SOURCES)?;
    let mut f = Filter {
        state: q.state,
        level: q.level,
        type_code: q.type_code,
        source: q.source,
        open: q.open.unwrap_or(false),
        before: q.before,
        limit: limit + 1,
        ..Filter::default()
    };
    match (&user.actor.role, &user.actor.scope) {
        (Role::Handler, Scope::Department { id, .. }) => {
            // A department lists the risks it leads or helps with (under a node, if given).
            f.department_id = Some(*id);
            if q.node.is_some() {
                f.under = Some(
                    scope_node(&app, &user, q.node.as_deref())
                        .await?
                        .path()
                        .to_owned(),
                );
            }
        }
        _ => {
            f.under = Some(
                scope_node(&app, &user, q.node.as_deref())
                    .await?
                    .path()
                    .to_owned(),
            )
        }
    }
    let mut rows = shanzhi_store::risk::list(&app.db, &f).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let now = app.clock.now_ms();
    let items = summaries(&app, &rows, now).await?;
    let next = if more {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(axum::Json(json!({"items": items, "next_cursor": next})))
}

/// A record as the lists show it.
async fn summary_json(app: &AppState, r: &RiskRow, now: i64) -> ApiResult<Value> {
    Ok(summaries(app, std::slice::from_ref(r), now)
        .await?
        .pop()
        .unwrap_or(Value::Null))
}

/// Records as the lists show them: their departments' and nodes' names read in one query each,
/// the point from each node's bounding box (no shape is read).
async fn summaries(app: &AppState, rows: &[RiskRow], now: i64) -> ApiResult<Vec<Value>> {
    let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.lead_department_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let departments: HashMap<i64, String> = shanzhi_store::department::by_ids(&app.db, &ids)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let mut codes: Vec<&str> = rows.iter().map(|r| r.node_code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let nodes: HashMap<String, (String, Option<[f64; 2]>)> =
        shanzhi_store::node::centres(&app.db, &codes)
            .await?
            .into_iter()
            .map(|(code, name, at)| (code, (name, at)))
            .collect();
    Ok(rows
        .iter()
        .map(|r| {
            let lead = r.lead_department_id.and_then(|d| departments.get(&d));
            // Where to draw it: the middle of its node's box (the wall's risk layer).
            let (node_name, at) = match nodes.get(&r.node_code) {
                Some((name, at)) => (Some(name), *at),
                None => (None, None),
            };
            json!({
                "id": r.id, "number": r.number, "node": r.node_code, "node_name": node_name, "at": at, "type": r.type_code,
                "source": r.source, "title": r.title, "state": r.state, "level": r.level,
                "lead_department_id": r.lead_department_id, "lead_department": lead, "helper_ids": r.helpers(),
                "rule_id": r.rule_id, "event_id": r.event_id, "dispute_id": r.dispute_id,
                "clock": clocks_json(r, now), "last_report_at": r.last_report_at,
                "created_at": r.created_at, "updated_at": r.updated_at, "version": r.version,
            })
        })
        .collect())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    node: String,
    #[serde(rename = "type")]
    type_code: String,
    title: String,
    detail: Option<String>,
    event_id: Option<i64>,
    dispute_id: Option<i64>,
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let source = match (&user.actor.role, &user.actor.scope) {
        (r, _) if centre_staff(*r) => "manual",
        (Role::Handler, Scope::Department { .. }) => "department",
        _ => {
            return Err(ApiError::forbidden(
                "clues are entered by the centre and the departments",
            ))
        }
    };
    let node = NodeCode::parse(&b.node)
        .map_err(|_| ApiError::invalid("node", "not a region or grid code"))?;
    if !user.actor.reaches(&node) {
        return Err(ApiError::not_found("node").with_field("node"));
    }
    shanzhi_store::node::get(&app.db, &node)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("node").with_field("node"),
            e => e.into(),
        })?;
    if !is_type(&b.type_code) {
        return Err(ApiError::invalid(
            "type",
            format!("one of {}", types().join(", ")),
        ));
    }
    let title = shanzhi_domain::text::label("title", &b.title, MAX_TITLE_CHARS)?;
    let detail = match &b.detail {
        Some(d) => shanzhi_domain::text::note("detail", d, MAX_NOTE_CHARS)?,
        None => None,
    };
    let now = app.clock.now_ms();
    let mut source = source;
    if let Some(e) = b.event_id {
        match crate::event::visible(&app, &user.actor, e).await {
            Ok(_) => source = "event",
            Err(e) if e.status == StatusCode::NOT_FOUND => {
                return Err(ApiError::not_found("event").with_field("event_id"))
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(d) = b.dispute_id {
        match crate::dispute::visible(&app, &user.actor, d).await {
            Ok(_) => source = "dispute",
            Err(e) if e.status == StatusCode::NOT_FOUND => {
                return Err(ApiError::not_found("dispute").with_field("dispute_id"))
            }
            Err(e) => return Err(e),
        }
    }
    let mut row = RiskRow::clue(node.as_str(), &b.type_code, source, title.clone(), now);
    row.detail = detail;
    row.event_id = b.event_id;
    row.dispute_id = b.dispute_id;
    row.created_by = Some(user.user.id);
    let clue = NewClue {
        row,
        mark: None,
        log: LogEntry {
            actor_id: Some(user.user.id),
            action: "raise".into(),
            from_state: None,
            to_state: "clue".into(),
            note: None,
            data: json!({"source": source}),
        },
        notifications: centres_of(&node)
            .into_iter()
            .map(|c| {
                NewNotification::to_centre(&c, "risk_clue", json!({}), format!("风险线索：{title}"))
            })
            .collect(),
    };
    let id = shanzhi_store::risk::raise(&app.db, &clue, now)
        .await?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("a clue without a rule was not written"))
        })?;
    app.notices.announce(&clue.notifications);
    Ok((
        StatusCode::CREATED,
        axum::Json(detail_json(&app, &user, id).await?),
    ))
}

async fn detail_json(app: &AppState, user: &CurrentUser, id: i64) -> ApiResult<Value> {
    let (row, st) = visible(app, &user.actor, id).await?;
    let now = app.clock.now_ms();
    let mut v = summary_json(app, &row, now).await?;
    v["detail"] = json!(row.detail);
    v["measures"] = json!(row.measures);
    v["assessed_at"] = json!(row.assessed_at);
    v["closed_at"] = json!(row.closed_at);
    let mut helpers = Vec::new();
    for h in row.helpers() {
        let name = shanzhi_store::department::get(&app.db, h)
            .await
            .map(|d| d.name)
            .ok();
        helpers.push(json!({"id": h, "name": name}));
    }
    v["helpers"] = json!(helpers);
    v["reports"] = shanzhi_store::risk::reports(&app.db, id)
        .await?
        .into_iter()
        .map(|r| json!({"id": r.id, "department_id": r.department_id, "actor_id": r.actor_id, "day": r.day, "at": r.at, "text": r.text}))
        .collect();
    v["missed_days"] = shanzhi_store::risk::lags_of(&app.db, id)
        .await?
        .into_iter()
        .map(|(d, day)| json!({"department_id": d, "day": day}))
        .collect();
    v["timeline"] = shanzhi_store::risk::timeline(&app.db, id)
        .await?
        .into_iter()
        .map(|l| json!({
            "id": l.id, "at": l.at, "actor_id": l.actor_id, "action": l.action, "from_state": l.from_state,
            "to_state": l.to_state, "note": l.note,
            "data": serde_json::from_str::<Value>(&l.data).unwrap_or(Value::Null),
        }))
        .collect();
    v["allowed_actions"] = json!(allowed_actions(&st, &user.actor));
    Ok(v)
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(detail_json(&app, &user, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActBody {
    action: String,
    level: Option<String>,
    lead_department_id: Option<i64>,
    helper_ids: Option<Vec<i64>>,
    measures: Option<String>,
    reason: Option<String>,
    text: Option<String>,
    summary: Option<String>,
    approve: Option<bool>,
    note: Option<String>,
}

fn need<T>(v: Option<T>, field: &str) -> ApiResult<T> {
    v.ok_or_else(|| ApiError::invalid(field, "required for this action"))
}

fn level_of(v: Option<String>) -> ApiResult<Level> {
    let l = need(v, "level")?;
    Level::parse(&l)
        .ok_or_else(|| ApiError::invalid("level", format!("one of {}", levels().join(", "))))
}

impl TryFrom<ActBody> for Action {
    type Error = ApiError;

    fn try_from(b: ActBody) -> ApiResult<Action> {
        Ok(match b.action.as_str() {
            "assess" => Action::Assess {
                level: level_of(b.level)?,
                lead_department_id: need(b.lead_department_id, "lead_department_id")?,
                helper_ids: b.helper_ids.unwrap_or_default(),
                measures: need(b.measures, "measures")?,
            },
            "dismiss" => Action::Dismiss {
                reason: need(b.reason, "reason")?,
            },
            "report" => Action::Report {
                text: need(b.text, "text")?,
            },
            "regrade" => Action::Regrade {
                level: level_of(b.level)?,
                reason: need(b.reason, "reason")?,
            },
            "reassign" => Action::Reassign {
                lead_department_id: need(b.lead_department_id, "lead_department_id")?,
                helper_ids: b.helper_ids.unwrap_or_default(),
            },
            "finish" => Action::Finish {
                summary: need(b.summary, "summary")?,
            },
            "review" => Action::Review {
                approve: need(b.approve, "approve")?,
                // A blank note is no note (the schema allows an empty one).
                note: b.note.filter(|n| !n.trim().is_empty()),
            },
            _ => {
                return Err(ApiError::invalid(
                    "action",
                    format!("one of {}", Action::NAMES.join(", ")),
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
    crate::risk::act(&app, &user.actor, id, &action).await?;
    Ok(axum::Json(detail_json(&app, &user, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BoardQuery {
    node: Option<String>,
    days: Option<i64>,
}

async fn board(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BoardQuery>,
) -> ApiResult<impl IntoResponse> {
    if !matches!(
        user.actor.role,
        Role::Analyst | Role::Dispatcher | Role::Admin | Role::Leader
    ) {
        return Err(ApiError::forbidden(
            "the board is for the centre and leaders",
        ));
    }
    let days = q.days.unwrap_or(1);
    if !(1..=31).contains(&days) {
        return Err(ApiError::invalid("days", "between 1 and 31"));
    }
    let node = scope_node(&app, &user, q.node.as_deref()).await?;
    let now = app.clock.now_ms();
    // Missed days are found at the next midnight: "1 day" ranks yesterday's (and today's).
    let (from, to) = day_range(now, days + 1);
    let mut lagging = Vec::new();
    for (d, missed, risks) in shanzhi_store::risk::lag_board(&app.db, node.path(), from, to).await?
    {
        let name = shanzhi_store::department::get(&app.db, d)
            .await
            .map(|x| x.name)
            .ok();
        lagging.push(
            json!({"department_id": d, "department": name, "missed_days": missed, "risks": risks}),
        );
    }
    let open = shanzhi_store::risk::list(
        &app.db,
        &Filter {
            under: Some(node.path().to_owned()),
            open: true,
            limit: 200,
            ..Filter::default()
        },
    )
    .await?;
    let mut by_level = json!({"red": [], "orange": [], "yellow": [], "blue": [], "clue": []});
    for (r, v) in open.iter().zip(summaries(&app, &open, now).await?) {
        let key = match (&r.state[..], r.level.as_deref()) {
            ("clue", _) => "clue",
            (_, Some(l)) => l,
            _ => continue,
        };
        if let Some(a) = by_level[key].as_array_mut() {
            a.push(v);
        }
    }
    for l in ["red", "orange", "yellow", "blue"] {
        if let Some(a) = by_level[l].as_array_mut() {
            a.sort_by_key(|v| v["clock"]["due_at"].as_i64().unwrap_or(i64::MAX));
        }
    }
    Ok(axum::Json(json!({
        "node": node.as_str(), "now": now, "from_day": from, "to_day": to,
        "lagging_departments": lagging, "open": by_level,
    })))
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
    let path = node.path();
    let (mut out, totals) = super::figures::tally_figures(
        &app,
        &node,
        "risk",
        &shanzhi_domain::risk::MEASURES,
        &[
            ("risk_level", "by_level"),
            ("risk_type", "by_type"),
            ("risk_source", "by_source"),
        ],
    )
    .await?;
    let get = |k: &str| totals.get(k).copied().unwrap_or(0);
    let rate = super::figures::rate;
    out["conversion_rate"] = rate(get("converted"), get("clues"));
    out["on_time_rate"] = rate(get("closed_on_time"), get("closed"));
    // Warnings sent from the area and what became of their messages (预警发布).
    let (sent, notified, deliveries) = shanzhi_store::warning::figures_under(&app.db, path).await?;
    let mut by_channel = json!({});
    for (channel, state, n) in deliveries {
        if by_channel.get(&channel).is_none() {
            by_channel[&channel] = json!({"pending": 0, "sent": 0, "failed": 0});
        }
        by_channel[&channel][&state] = json!(n);
    }
    out["warnings"] = json!({"sent": sent, "notified": notified, "deliveries": by_channel});
    Ok(axum::Json(out))
}
