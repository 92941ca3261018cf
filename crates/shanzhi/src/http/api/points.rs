//! The village points system (积分制): `/api/v1/points/…` and the citizen's `/api/v1/me/points`.
//!
//! The village's staff (staff whose area holds the village, not departments, nor leaders who
//! change nothing) and its committee (村委会, a duty) publish the rules, keep the shop
//! (积分超市) and award points to the village's residents by a rule. A resident (a citizen
//! registered in the village) reads the rules, the shop and the ranking (names masked), their
//! own balance and history, and redeems. Points of a `report_confirmed` rule are never given by
//! hand: the sweep of [`crate::points`] gives them, once, when a resident's report is closed
//! as real.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::ledger::Duty;
use shanzhi_domain::points::{self as rules, Refusal, RuleKind};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::person::mask_name;
use shanzhi_domain::user::Role;
use shanzhi_store::points::{Item, Rule};
use shanzhi_store::StoreError;

use super::doc::{schema as s, Doc, Routes};
use super::village::{duties, holding, home_villages, reads, village};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json, Query};
use crate::http::state::AppState;

/// Most rows of a ranking.
const MAX_RANKING: i64 = 100;

fn rule_body(with_node: bool) -> Vec<(&'static str, Value)> {
    let mut b = vec![
        ("name", s::label(rules::MAX_NAME)),
        // ±1 to MAX_POINTS: never 0.
        ("points", {
            let mut v = s::integer(-rules::MAX_POINTS, rules::MAX_POINTS);
            v["not"] = serde_json::json!({"enum": [0]});
            v
        }),
    ];
    if with_node {
        b.insert(0, ("node", s::node_code()));
        b.push(("kind", s::one_of(&RuleKind::ALL.map(RuleKind::as_str))));
    } else {
        b.push(("active", s::boolean()));
    }
    b
}

fn item_body(with_node: bool) -> Vec<(&'static str, Value)> {
    let mut b = vec![
        ("name", s::label(rules::MAX_NAME)),
        ("price", s::integer(1, rules::MAX_PRICE)),
    ];
    if with_node {
        b.insert(0, ("node", s::node_code()));
        b.push(("stock", s::integer(0, rules::MAX_STOCK)));
    } else {
        b.push((
            "restock?",
            s::nullable(s::integer(-rules::MAX_STOCK, rules::MAX_STOCK)),
        ));
        b.push(("active", s::boolean()));
    }
    b
}

/// `/api/v1/points/…`, `/api/v1/me/points`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/points/rules",
            list_rules,
            Doc::new("points", "A village's points rules (its staff, and the residents)")
                .query_required("node", s::node_code(), "the village"),
        )
        .post(
            "/api/v1/points/rules",
            create_rule,
            Doc::new("points", "Publish a rule (the village's staff or committee): points given or taken, by hand or for a confirmed report")
                .body(&rule_body(true))
                .created(),
        )
        .put(
            "/api/v1/points/rules/{id}",
            update_rule,
            Doc::new("points", "Change a rule's name and points, or withdraw it (active false)")
                .path("id", s::int64())
                .body(&rule_body(false)),
        )
        .post(
            "/api/v1/points/awards",
            create_award,
            Doc::new("points", "Award a resident of the village points by a manual rule, with a note and evidence photos")
                .body(&[
                    ("node", s::node_code()),
                    ("user_id", s::int64()),
                    ("rule_id", s::int64()),
                    ("note", s::text(1, rules::MAX_NOTE)),
                    ("evidence?", s::nullable(s::array_max(s::photo_hash(), rules::MAX_EVIDENCE))),
                ])
                .created(),
        )
        .get(
            "/api/v1/points/awards",
            list_awards,
            Doc::new("points", "A village's awards, newest first (its staff)")
                .query_required("node", s::node_code(), "the village")
                .query("user_id", s::int64(), "one resident's")
                .query("before", s::int64(), "awards with a smaller id (the next page)")
                .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
        .get(
            "/api/v1/points/residents",
            residents,
            Doc::new("points", "The village's residents with an account, and their balance: whom points are awarded to (its staff)")
                .query_required("node", s::node_code(), "the village"),
        )
        .get(
            "/api/v1/points/ranking",
            ranking,
            Doc::new("points", "A village's residents by balance (names masked for the residents)")
                .query_required("node", s::node_code(), "the village")
                .query("limit", s::integer(1, MAX_RANKING), "how many (default 20)"),
        )
        .get(
            "/api/v1/points/items",
            list_items,
            Doc::new("points", "A village's points shop (积分超市): items, price in points, stock")
                .query_required("node", s::node_code(), "the village"),
        )
        .post(
            "/api/v1/points/items",
            create_item,
            Doc::new("points", "Put an item in the village's shop (its staff or committee)")
                .body(&item_body(true))
                .created(),
        )
        .put(
            "/api/v1/points/items/{id}",
            update_item,
            Doc::new("points", "Change an item: name, price, restock (added to the stock), offered or not")
                .path("id", s::int64())
                .body(&item_body(false)),
        )
        .post(
            "/api/v1/points/redemptions",
            redeem,
            Doc::new("points", "Redeem points for an item of the shop (a resident of its village)")
                .body(&[("item_id", s::int64()), ("quantity", s::integer(1, rules::MAX_QUANTITY))])
                .created(),
        )
        .get(
            "/api/v1/points/redemptions",
            list_redemptions,
            Doc::new("points", "A village's redemptions, newest first (its staff)")
                .query_required("node", s::node_code(), "the village")
                .query("limit", s::integer(1, 200), "how many (default 50)"),
        )
        .get(
            "/api/v1/me/points",
            mine,
            Doc::new("points", "The citizen's balance in each village they live in, and their history (我的积分)"),
        )
}

// ---- who may --------------------------------------------------------------------------------

/// Who a user is to a village's points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seat {
    /// Staff whose area holds it or its committee: manages.
    Manager,
    /// Other staff who read it (leaders, other duties).
    Reader,
    /// A citizen registered in it.
    Resident,
    None,
}

async fn seat(app: &AppState, user: &CurrentUser, node: &NodeCode) -> ApiResult<Seat> {
    if user.actor.role == Role::Citizen {
        let homes = home_villages(app, user.user.id).await?;
        return Ok(if homes.iter().any(|h| h == node.as_str()) {
            Seat::Resident
        } else {
            Seat::None
        });
    }
    let held = duties(app, user).await?;
    let staff = !matches!(
        user.actor.role,
        Role::Citizen | Role::Handler | Role::Leader
    ) && user.actor.reaches(node);
    if staff || holding(&held, node, Duty::Committee) == Duty::Committee {
        return Ok(Seat::Manager);
    }
    Ok(if reads(user, &held, node) {
        Seat::Reader
    } else {
        Seat::None
    })
}

const NOT_YOURS: &str =
    "outside your area: the points of a village are for its staff and residents";
const MANAGE: &str = "only the village's staff or committee manage its points";

/// The village of `raw` if the user may read its points (staff or residents).
async fn readable(app: &AppState, user: &CurrentUser, raw: &str) -> ApiResult<(NodeCode, Seat)> {
    let node = village(raw, "node")?;
    match seat(app, user, &node).await? {
        Seat::None => Err(ApiError::forbidden(NOT_YOURS)),
        s => Ok((node, s)),
    }
}

/// The village of `raw` if the user manages it.
async fn managed(app: &AppState, user: &CurrentUser, raw: &str) -> ApiResult<NodeCode> {
    let node = village(raw, "node")?;
    match seat(app, user, &node).await? {
        Seat::Manager => Ok(node),
        Seat::Reader | Seat::Resident => Err(ApiError::forbidden(MANAGE)),
        Seat::None => Err(ApiError::forbidden(NOT_YOURS)),
    }
}

/// The village of a stored rule or item if the user manages it: staff who do not read it are
/// told it does not exist, readers that it is not theirs to change.
async fn managed_record(
    app: &AppState,
    user: &CurrentUser,
    code: &str,
    what: &'static str,
) -> ApiResult<NodeCode> {
    let node = NodeCode::parse(code).map_err(|e| ApiError::internal(e.into()))?;
    match seat(app, user, &node).await? {
        Seat::Manager => Ok(node),
        Seat::Reader => Err(ApiError::forbidden(MANAGE)),
        Seat::Resident | Seat::None => Err(ApiError::not_found(what)),
    }
}

/// May the user read an evidence photo attached to awards of these (village, resident) pairs?
/// The village's staff, and the resident awarded.
pub(crate) async fn reads_evidence_of(
    app: &AppState,
    user: &CurrentUser,
    awards: &[(String, i64)],
) -> ApiResult<bool> {
    if awards.iter().any(|(_, resident)| *resident == user.user.id) {
        return Ok(true);
    }
    if user.actor.role == Role::Citizen {
        return Ok(false);
    }
    for (v, _) in awards {
        if let Ok(node) = NodeCode::parse(v) {
            if matches!(seat(app, user, &node).await?, Seat::Manager | Seat::Reader) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn staff_only(seat: Seat) -> ApiResult<()> {
    match seat {
        Seat::Manager | Seat::Reader => Ok(()),
        _ => Err(ApiError::forbidden(
            "the village's awards are read by its staff; residents read theirs under /api/v1/me/points",
        )),
    }
}

// ---- rules ----------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeQuery {
    node: String,
}

async fn list_rules(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<NodeQuery>,
) -> ApiResult<impl IntoResponse> {
    let (node, seat) = readable(&app, &user, &q.node).await?;
    let items: Vec<Value> = shanzhi_store::points::rules(&app.db, node.as_str())
        .await?
        .iter()
        .filter(|r| r.active || seat != Seat::Resident)
        .map(Rule::to_json)
        .collect();
    Ok(axum::Json(json!({"node": node.as_str(), "items": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleBody {
    node: Option<String>,
    name: String,
    points: i64,
    kind: Option<String>,
    active: Option<bool>,
}

async fn create_rule(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<RuleBody>,
) -> ApiResult<impl IntoResponse> {
    let raw = b
        .node
        .as_deref()
        .ok_or_else(|| ApiError::invalid("node", "the village"))?;
    let node = managed(&app, &user, raw).await?;
    if b.active.is_some() {
        return Err(ApiError::invalid("active", "a new rule is in force"));
    }
    let r = rules::rule(&b.name, b.points, b.kind.as_deref().unwrap_or("manual"))?;
    if r.kind == RuleKind::ReportConfirmed
        && shanzhi_store::points::report_rule(&app.db, node.as_str())
            .await?
            .is_some()
    {
        return Err(ApiError::conflict(
            Some("kind"),
            "the village has a rule for confirmed reports already: change that one",
        ));
    }
    let rule = shanzhi_store::points::insert_rule(
        &app.db,
        node.as_str(),
        &r.name,
        r.points,
        r.kind.as_str(),
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(rule.to_json())))
}

async fn update_rule(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<RuleBody>,
) -> ApiResult<impl IntoResponse> {
    let before = match shanzhi_store::points::get_rule(&app.db, id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("rule")),
        Err(e) => return Err(e.into()),
    };
    let node = managed_record(&app, &user, &before.node_code, "rule").await?;
    if b.node.is_some() {
        return Err(ApiError::invalid("node", "a rule stays in its village"));
    }
    if b.kind.as_deref().is_some_and(|k| k != before.kind) {
        return Err(ApiError::invalid(
            "kind",
            "a rule keeps its kind: withdraw it and publish another",
        ));
    }
    let active = b
        .active
        .ok_or_else(|| ApiError::invalid("active", "is missing"))?;
    let kind = RuleKind::parse(&before.kind).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "rule {id} has an unknown kind {:?}",
            before.kind
        ))
    })?;
    // What the stored kind forbids is a conflict with the rule as it stands, about its points.
    let r = rules::rule_change(&b.name, b.points, kind).map_err(|e| match e {
        shanzhi_domain::DomainError::Refused { why } => ApiError::conflict(Some("points"), why),
        e => e.into(),
    })?;
    if r.kind == RuleKind::ReportConfirmed && active && !before.active {
        if let Some(other) = shanzhi_store::points::report_rule(&app.db, node.as_str()).await? {
            if other.id != before.id {
                return Err(ApiError::conflict(
                    Some("kind"),
                    "the village has a rule for confirmed reports already: change that one",
                ));
            }
        }
    }
    let rule = shanzhi_store::points::update_rule(
        &app.db,
        &before,
        &r.name,
        r.points,
        active,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    Ok(axum::Json(rule.to_json()))
}

// ---- awards ---------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AwardBody {
    node: String,
    user_id: i64,
    rule_id: i64,
    note: String,
    evidence: Option<Vec<String>>,
}

async fn create_award(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<AwardBody>,
) -> ApiResult<impl IntoResponse> {
    let node = managed(&app, &user, &b.node).await?;
    let rule = match shanzhi_store::points::get_rule(&app.db, b.rule_id).await {
        Ok(r) if r.node_code == node.as_str() => r,
        // Another village's rule does not exist for this one.
        Ok(_) | Err(StoreError::NotFound) => return Err(ApiError::not_found("rule")),
        Err(e) => return Err(e.into()),
    };
    if !rule.active {
        return Err(ApiError::invalid("rule_id", "the rule was withdrawn"));
    }
    if rule.kind != RuleKind::Manual.as_str() {
        return Err(ApiError::invalid(
            "rule_id",
            "points for a confirmed report are given by themselves, once the report is closed",
        ));
    }
    let a = rules::award(&b.note, b.evidence.as_deref().unwrap_or(&[]))?;
    // The resident: a citizen registered in the village.
    let resident = match shanzhi_store::user::get(&app.db, b.user_id).await {
        Ok(u) if u.role == "citizen" => home_villages(&app, u.id)
            .await?
            .iter()
            .any(|v| v == node.as_str()),
        Ok(_) | Err(StoreError::NotFound) => false,
        Err(e) => return Err(e.into()),
    };
    if !resident {
        return Err(ApiError::invalid(
            "user_id",
            "not a resident of this village (a citizen registered in it)",
        ));
    }
    if !a.evidence.is_empty()
        && shanzhi_store::event::photos_uploaded_by(&app.db, &a.evidence, user.user.id).await?
            != a.evidence.len()
    {
        return Err(ApiError::invalid(
            "evidence",
            "upload the photos first (POST /api/v1/photos)",
        ));
    }
    let evidence = a.evidence.clone();
    let written = shanzhi_store::points::award(
        &app.db,
        &shanzhi_store::points::NewAward {
            node_code: node.as_str().to_owned(),
            user_id: b.user_id,
            rule_id: rule.id,
            points: rule.points,
            note: a.note,
            evidence: a.evidence,
            awarded_by: Some(user.user.id),
            source_event_id: None,
        },
        app.clock.now_ms(),
    )
    .await?
    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a manual award was not written")))?;
    let mut v = written.to_json();
    v["evidence"] = evidence_json(&evidence);
    v["rule_name"] = json!(rule.name);
    v["balance"] = json!(shanzhi_store::points::balance(&app.db, node.as_str(), b.user_id).await?);
    Ok((StatusCode::CREATED, axum::Json(v)))
}

fn evidence_json(hashes: &[String]) -> Value {
    json!(hashes
        .iter()
        .map(|h| json!({"hash": h, "url": format!("/api/v1/photos/{h}")}))
        .collect::<Vec<_>>())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AwardsQuery {
    node: String,
    user_id: Option<i64>,
    before: Option<i64>,
    limit: Option<i64>,
}

/// Names of users and rules, for lists.
async fn user_names(app: &AppState, ids: &[i64]) -> ApiResult<HashMap<i64, String>> {
    Ok(shanzhi_store::user::people(&app.db, ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect())
}

async fn rule_names(app: &AppState, node: &str) -> ApiResult<HashMap<i64, String>> {
    Ok(shanzhi_store::points::rules(&app.db, node)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect())
}

async fn list_awards(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AwardsQuery>,
) -> ApiResult<impl IntoResponse> {
    let (node, seat) = readable(&app, &user, &q.node).await?;
    staff_only(seat)?;
    let limit = super::base::limit(q.limit, 50, 200)?;
    let mut rows =
        shanzhi_store::points::awards(&app.db, Some(node.as_str()), q.user_id, q.before, limit)
            .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let mut ids: Vec<i64> = rows.iter().map(|a| a.user_id).collect();
    ids.extend(rows.iter().filter_map(|a| a.awarded_by));
    let names = user_names(&app, &ids).await?;
    let rule_names = rule_names(&app, node.as_str()).await?;
    let award_ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
    let mut evidence: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, hash) in shanzhi_store::points::evidence_of(&app.db, &award_ids).await? {
        evidence.entry(id).or_default().push(hash);
    }
    let items: Vec<Value> = rows
        .iter()
        .map(|a| {
            let mut v = a.to_json();
            v["evidence"] = evidence_json(evidence.get(&a.id).map_or(&[][..], Vec::as_slice));
            v["user_name"] = json!(names.get(&a.user_id));
            v["awarded_by_name"] = json!(a.awarded_by.and_then(|b| names.get(&b)));
            v["rule_name"] = json!(rule_names.get(&a.rule_id));
            v
        })
        .collect();
    let next = if more {
        rows.last().map(|a| a.id)
    } else {
        None
    };
    Ok(axum::Json(json!({"items": items, "next_cursor": next})))
}

async fn residents(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<NodeQuery>,
) -> ApiResult<impl IntoResponse> {
    let (node, seat) = readable(&app, &user, &q.node).await?;
    staff_only(seat)?;
    let items: Vec<Value> =
        shanzhi_store::points::residents(&app.db, node.as_str(), node.path(), 1000)
            .await?
            .into_iter()
            .map(|(id, name, balance)| json!({"user_id": id, "name": name, "balance": balance}))
            .collect();
    Ok(axum::Json(json!({"node": node.as_str(), "items": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RankingQuery {
    node: String,
    limit: Option<i64>,
}

async fn ranking(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<RankingQuery>,
) -> ApiResult<impl IntoResponse> {
    let (node, seat) = readable(&app, &user, &q.node).await?;
    let limit = super::base::limit(q.limit, 20, MAX_RANKING)?;
    let rows = shanzhi_store::points::ranking(&app.db, node.as_str(), limit).await?;
    let mut rank = 0;
    let mut last = None;
    let items: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, (id, name, balance))| {
            // Equal balances share a rank (1, 2, 2, 4).
            if last != Some(*balance) {
                rank = i + 1;
                last = Some(*balance);
            }
            if seat == Seat::Resident {
                json!({"rank": rank, "name": mask_name(name), "balance": balance, "me": *id == user.user.id})
            } else {
                json!({"rank": rank, "user_id": id, "name": name, "balance": balance})
            }
        })
        .collect();
    Ok(axum::Json(json!({"node": node.as_str(), "items": items})))
}

// ---- the shop -------------------------------------------------------------------------------

async fn list_items(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<NodeQuery>,
) -> ApiResult<impl IntoResponse> {
    let (node, seat) = readable(&app, &user, &q.node).await?;
    let items: Vec<Value> =
        shanzhi_store::points::items(&app.db, node.as_str(), seat == Seat::Resident)
            .await?
            .iter()
            .map(Item::to_json)
            .collect();
    let mut out = json!({"node": node.as_str(), "items": items});
    if seat == Seat::Resident {
        out["balance"] =
            json!(shanzhi_store::points::balance(&app.db, node.as_str(), user.user.id).await?);
    }
    Ok(axum::Json(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemBody {
    node: Option<String>,
    name: String,
    price: i64,
    stock: Option<i64>,
    restock: Option<i64>,
    active: Option<bool>,
}

async fn create_item(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<ItemBody>,
) -> ApiResult<impl IntoResponse> {
    let raw = b
        .node
        .as_deref()
        .ok_or_else(|| ApiError::invalid("node", "the village"))?;
    let node = managed(&app, &user, raw).await?;
    if b.restock.is_some() || b.active.is_some() {
        return Err(ApiError::invalid(
            if b.restock.is_some() {
                "restock"
            } else {
                "active"
            },
            "a new item gives its stock",
        ));
    }
    let stock = b
        .stock
        .ok_or_else(|| ApiError::invalid("stock", "is missing"))?;
    let i = rules::item(&b.name, b.price, stock)?;
    let item = shanzhi_store::points::insert_item(
        &app.db,
        node.as_str(),
        &i.name,
        i.price,
        i.stock,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(item.to_json())))
}

async fn update_item(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ItemBody>,
) -> ApiResult<impl IntoResponse> {
    let before = match shanzhi_store::points::get_item(&app.db, id).await {
        Ok(i) => i,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("item")),
        Err(e) => return Err(e.into()),
    };
    managed_record(&app, &user, &before.node_code, "item").await?;
    if b.node.is_some() {
        return Err(ApiError::invalid("node", "an item stays in its village"));
    }
    if b.stock.is_some() {
        return Err(ApiError::invalid(
            "stock",
            "give restock: what is added to the stock (negative: a count correction)",
        ));
    }
    let active = b
        .active
        .ok_or_else(|| ApiError::invalid("active", "is missing"))?;
    let restock = b.restock.unwrap_or(0);
    if !(-rules::MAX_STOCK..=rules::MAX_STOCK).contains(&restock) {
        return Err(ApiError::invalid(
            "restock",
            format!(
                "must be between {} and {}",
                -rules::MAX_STOCK,
                rules::MAX_STOCK
            ),
        ));
    }
    // The stock after the change depends on the stock now: past the top it is a conflict with
    // the item's state, as below zero is (the store checks both again).
    if before.stock + restock > rules::MAX_STOCK {
        return Err(ApiError::conflict(
            Some("restock"),
            format!("the stock is at most {}", rules::MAX_STOCK),
        ));
    }
    let i = rules::item(
        &b.name,
        b.price,
        (before.stock + restock).clamp(0, rules::MAX_STOCK),
    )?;
    let item = shanzhi_store::points::update_item(
        &app.db,
        &before,
        &i.name,
        i.price,
        restock,
        active,
        user.user.id,
        app.clock.now_ms(),
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict { .. } => {
            ApiError::conflict(Some("restock"), "the stock cannot go below zero")
        }
        e => e.into(),
    })?;
    Ok(axum::Json(item.to_json()))
}

// ---- redemptions ----------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedeemBody {
    item_id: i64,
    quantity: i64,
}

fn refused(r: Refusal) -> ApiError {
    match r {
        Refusal::Quantity => ApiError::invalid(r.field(), r.message()),
        _ => ApiError::conflict(Some(r.field()), r.message()),
    }
}

async fn redeem(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<RedeemBody>,
) -> ApiResult<impl IntoResponse> {
    if user.actor.role != Role::Citizen {
        return Err(ApiError::forbidden(
            "residents redeem their points; staff keep the shop",
        ));
    }
    let item = match shanzhi_store::points::get_item(&app.db, b.item_id).await {
        Ok(i) => i,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("item")),
        Err(e) => return Err(e.into()),
    };
    let homes = home_villages(&app, user.user.id).await?;
    if !homes.contains(&item.node_code) {
        return Err(ApiError::not_found("item"));
    }
    let check = |item: &Item, balance: i64| {
        rules::redeem(balance, item.price, item.stock, item.active, b.quantity)
    };
    let balance = shanzhi_store::points::balance(&app.db, &item.node_code, user.user.id).await?;
    check(&item, balance).map_err(refused)?;
    let now = app.clock.now_ms();
    match shanzhi_store::points::redeem(&app.db, item.id, user.user.id, b.quantity, now).await {
        Ok(r) => {
            let mut v = r.to_json();
            v["item_name"] = json!(item.name);
            v["balance"] = json!(
                shanzhi_store::points::balance(&app.db, &item.node_code, user.user.id).await?
            );
            Ok((StatusCode::CREATED, axum::Json(v)))
        }
        // Someone else redeemed meanwhile: say which, as things are now.
        Err(StoreError::Conflict { constraint }) => {
            let item = shanzhi_store::points::get_item(&app.db, item.id).await?;
            let balance =
                shanzhi_store::points::balance(&app.db, &item.node_code, user.user.id).await?;
            Err(match check(&item, balance) {
                Err(r) => refused(r),
                Ok(_) => ApiError::conflict(
                    Some(if constraint == shanzhi_store::points::SHORT_BALANCE {
                        "balance"
                    } else {
                        "stock"
                    }),
                    "the record was changed by someone else; reload and try again",
                ),
            })
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedemptionsQuery {
    node: String,
    limit: Option<i64>,
}

async fn list_redemptions(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<RedemptionsQuery>,
) -> ApiResult<impl IntoResponse> {
    let (node, seat) = readable(&app, &user, &q.node).await?;
    staff_only(seat)?;
    let limit = super::base::limit(q.limit, 50, 200)?;
    let rows =
        shanzhi_store::points::redemptions(&app.db, Some(node.as_str()), None, limit).await?;
    let ids: Vec<i64> = rows.iter().map(|(r, _)| r.user_id).collect();
    let names = user_names(&app, &ids).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|(r, item)| {
            let mut v = r.to_json();
            v["item_name"] = json!(item);
            v["user_name"] = json!(names.get(&r.user_id));
            v
        })
        .collect();
    Ok(axum::Json(json!({"node": node.as_str(), "items": items})))
}

// ---- the resident's own ---------------------------------------------------------------------

async fn mine(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    if user.actor.role != Role::Citizen {
        return Err(ApiError::forbidden(
            "these are a resident's own points; staff read /api/v1/points/awards",
        ));
    }
    let homes = home_villages(&app, user.user.id).await?;
    let names = super::names::node_names(&app, homes.iter().map(String::as_str)).await?;
    let mut villages = Vec::with_capacity(homes.len());
    let mut rule_name: HashMap<i64, String> = HashMap::new();
    for v in &homes {
        villages.push(json!({"node": v, "name": names.get(v),
            "balance": shanzhi_store::points::balance(&app.db, v, user.user.id).await?}));
        rule_name.extend(rule_names(&app, v).await?);
    }
    // Only what happened in the villages the citizen lives in now.
    let mut history: Vec<(i64, Value)> = Vec::new();
    for a in shanzhi_store::points::awards(&app.db, None, Some(user.user.id), None, 100).await? {
        if homes.contains(&a.node_code) {
            history.push((
                a.awarded_at,
                json!({"kind": "award", "id": a.id, "node": a.node_code, "points": a.points, "note": a.note,
                    "rule_name": rule_name.get(&a.rule_id), "automatic": a.awarded_by.is_none(), "at": a.awarded_at}),
            ));
        }
    }
    for (r, item) in
        shanzhi_store::points::redemptions(&app.db, None, Some(user.user.id), 100).await?
    {
        if homes.contains(&r.node_code) {
            history.push((
                r.redeemed_at,
                json!({"kind": "redemption", "id": r.id, "node": r.node_code, "points": -r.points,
                    "item_name": item, "quantity": r.quantity, "at": r.redeemed_at}),
            ));
        }
    }
    history.sort_by_key(|h| std::cmp::Reverse(h.0));
    history.truncate(100);
    Ok(axum::Json(json!({
        "villages": villages,
        "history": history.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    })))
}
