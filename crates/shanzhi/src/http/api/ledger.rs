//! The village ledger (三资台账): `/api/v1/ledger/…`, the citizen's `/api/v1/me/ledger` and the
//! duties of `/api/v1/users/{id}/duties`.
//!
//! Who does what is a duty (岗位) an administrator gives a user, not a role: the village's
//! treasurer (报账员) enters and submits entries, the village committee (村委会) approves them,
//! the town's agency (三资代理中心) reviews them into the books and closes months. Staff whose
//! area holds the village read its books; a citizen reads the posted entries of the villages they
//! are registered in, a private person's name masked. An expense is never approved or posted
//! without an invoice image, whichever route tries (the domain's rule).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::ledger::chart::{self, CHART};
use shanzhi_domain::ledger::state::{EntryState, Refusal};
use shanzhi_domain::ledger::{
    check_lines, month_index, parse_yuan, Action, Duty, Kind, Line, Side, State as EntryStateName,
};
use shanzhi_domain::tree::{Level, NaturalLevel, NodeCode};
use shanzhi_domain::user::person::mask_name;
use shanzhi_domain::user::Role;
use shanzhi_store::audit::AuditEntry;
use shanzhi_store::event::LogEntry;
use shanzhi_store::ledger::{Entry, Filter, Values};
use shanzhi_store::StoreError;

use super::doc::{schema as s, Doc, Routes};
use super::village::{duties, holding, home_villages, list_root, reads, village};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json, Query};
use crate::http::state::AppState;

/// Longest summary (摘要) and counterparty.
const MAX_SUMMARY: usize = 200;
const MAX_PARTY: usize = 100;
/// Most invoice images on one entry.
const MAX_INVOICES: usize = 20;
/// Most duties one user holds.
const MAX_DUTIES: usize = 50;

const AMOUNT: &str = r"^[0-9]{1,12}(\.[0-9]{1,2})?$";
const MONTH: &str = r"^[0-9]{4}-(0[1-9]|1[0-2])$";
const DUTIES: [&str; 3] = ["treasurer", "committee", "town_agency"];

fn line_schema() -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["account", "side", "amount"],
    "properties": {
        "account": s::one_of(&CHART.map(|a| a.code)),
        "side": s::one_of(&["debit", "credit"]),
        "amount": s::pattern(AMOUNT),
    }})
}

fn entry_body(with_node: bool) -> Vec<(&'static str, Value)> {
    let mut b = vec![
        ("kind", s::one_of(&Kind::ALL.map(Kind::as_str))),
        ("date", s::date()),
        ("summary", s::text(1, MAX_SUMMARY)),
        ("counterparty?", s::nullable(s::note(MAX_PARTY, false))),
        ("private_party?", s::nullable(s::boolean())),
        (
            "lines",
            json!({"type": "array", "items": line_schema(), "minItems": 2, "maxItems": shanzhi_domain::ledger::MAX_LINES}),
        ),
        (
            "invoices?",
            s::nullable(s::array_max(s::photo_hash(), MAX_INVOICES)),
        ),
    ];
    if with_node {
        b.insert(0, ("node", s::node_code()));
    } else {
        b.push(("version", s::int64()));
    }
    b
}

/// `/api/v1/ledger/…`, `/api/v1/me/ledger`, `/api/v1/users/{id}/duties`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/ledger/accounts",
            accounts,
            Doc::new("ledger", "The chart of accounts the books post to (the 2023 rules' level-one accounts)"),
        )
        .get(
            "/api/v1/ledger/entries",
            list,
            Doc::new("ledger", "Entries of the villages of an area, newest first")
                .query("node", s::node_code(), "a village, or an area whose villages are listed (default: the user's area)")
                .query("state", s::one_of(&EntryStateName::ALL.map(EntryStateName::as_str)), "one state")
                .query("month", s::pattern(MONTH), "entries dated in this month, YYYY-MM")
                .query("before", s::int64(), "entries with a smaller id (the next page)")
                .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
        .post(
            "/api/v1/ledger/entries",
            create,
            Doc::new("ledger", "Enter an entry (the village's treasurer): balanced debit and credit lines, invoice images")
                .body(&entry_body(true))
                .created(),
        )
        .get(
            "/api/v1/ledger/entries/{id}",
            show,
            Doc::new("ledger", "An entry with its lines, invoice images and timeline").path("id", s::int64()),
        )
        .put(
            "/api/v1/ledger/entries/{id}",
            replace,
            Doc::new("ledger", "Change a draft or returned entry (the treasurer)")
                .path("id", s::int64())
                .body(&entry_body(false)),
        )
        .post(
            "/api/v1/ledger/entries/{id}/actions",
            act,
            Doc::new("ledger", "Submit, approve (committee), review into the books (town agency) or void an entry")
                .path("id", s::int64())
                .body(&[
                    ("action", s::one_of(&Action::NAMES)),
                    ("approve?", s::nullable(s::boolean())),
                    ("note?", s::nullable(s::note(500, false))),
                    ("version", s::int64()),
                ]),
        )
        .get(
            "/api/v1/ledger/balances",
            balances,
            Doc::new("ledger", "A village's account balances at the end of a month, from the posted entries")
                .query_required("node", s::node_code(), "the village")
                .query("month", s::pattern(MONTH), "YYYY-MM (default: this month)"),
        )
        .get(
            "/api/v1/ledger/statements",
            statements,
            Doc::new("ledger", "A village's monthly statements: the balance sheet (资产负债表) and the income and distribution statement (收益及收益分配表)")
                .query_required("node", s::node_code(), "the village")
                .query("month", s::pattern(MONTH), "the month, YYYY-MM (default: this month)"),
        )
        .get(
            "/api/v1/ledger/statements/export.xlsx",
            statements_xlsx,
            Doc::new("ledger", "The same monthly statements as an Excel workbook, one sheet each")
                .query_required("node", s::node_code(), "the village")
                .query("month", s::pattern(MONTH), "the month, YYYY-MM (default: this month)")
                .produces(super::export::XLSX),
        )
        .post(
            "/api/v1/ledger/closes",
            close,
            Doc::new("ledger", "Close a village's month (月结; the town's agency): nothing more is posted into it")
                .body(&[("node", s::node_code()), ("month", s::pattern(MONTH))])
                .created(),
        )
        .get(
            "/api/v1/me/ledger",
            mine,
            Doc::new("ledger", "The posted entries of the villages the citizen is registered in (我要看帐)")
                .query("before", s::int64(), "entries with a smaller id (the next page)")
                .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
        .get(
            "/api/v1/users/{id}/duties",
            duties_of,
            Doc::new("user", "A user's duties for the village books (administrators over them, and the user)")
                .path("id", s::int64()),
        )
        .put(
            "/api/v1/users/{id}/duties",
            set_duties,
            Doc::new("user", "Set a user's duties for the village books: treasurer or committee of a village, the agency of a town (administrators)")
                .path("id", s::int64())
                .body(&[(
                    "duties",
                    json!({"type": "array", "maxItems": MAX_DUTIES, "items": {"type": "object", "additionalProperties": false,
                        "required": ["node", "duty"], "properties": {"node": s::node_code(), "duty": s::one_of(&DUTIES)}}}),
                )]),
        )
}

// ---- input ----------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineBody {
    account: String,
    side: String,
    amount: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryBody {
    node: Option<String>,
    kind: String,
    date: String,
    summary: String,
    counterparty: Option<String>,
    private_party: Option<bool>,
    lines: Vec<LineBody>,
    invoices: Option<Vec<String>>,
    version: Option<i64>,
}

fn parse_month(raw: &str, field: &str) -> ApiResult<i64> {
    let bad = || ApiError::invalid(field, "a month as YYYY-MM");
    let (y, m) = raw.split_once('-').ok_or_else(bad)?;
    let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if raw.len() != 7 || !(1..=12).contains(&m) || !(0..=9999).contains(&y) {
        return Err(bad());
    }
    Ok(month_index(y, m))
}

fn month_text(m: i64) -> String {
    format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
}

/// Checks an entry's body into what the store writes; the invoices must be the user's uploads.
/// What a body asks an entry to hold, checked; `entry` is the entry it replaces (its invoice
/// images stay attachable whoever uploaded them).
async fn values(
    app: &AppState,
    user: &CurrentUser,
    b: &EntryBody,
    entry: Option<&Entry>,
) -> ApiResult<Values> {
    let kind = Kind::parse(&b.kind)
        .ok_or_else(|| ApiError::invalid("kind", "income, expense or transfer"))?;
    let date = chrono::NaiveDate::parse_from_str(&b.date, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid("date", "a day as YYYY-MM-DD"))?;
    use chrono::Datelike;
    let today = shanzhi_domain::calendar::local_date(app.clock.now_ms());
    if date > today || date.year() < 2000 {
        return Err(ApiError::invalid(
            "date",
            "an entry is dated between 2000-01-01 and today",
        ));
    }
    let summary = shanzhi_domain::text::label("summary", &b.summary, MAX_SUMMARY)?;
    let counterparty = match b.counterparty.as_deref() {
        Some(c) => shanzhi_domain::text::note("counterparty", c, MAX_PARTY)?,
        None => None,
    };
    let mut lines = Vec::with_capacity(b.lines.len());
    for (i, l) in b.lines.iter().enumerate() {
        let side = Side::parse(&l.side)
            .ok_or_else(|| ApiError::invalid(format!("lines[{i}].side"), "debit or credit"))?;
        let fen = parse_yuan(&format!("lines[{i}].amount"), &l.amount)?;
        lines.push(Line {
            account: l.account.trim().to_owned(),
            side,
            fen,
        });
    }
    // Postings go to the chart's level-one accounts (sub-accounts come with the chart page).
    let total = check_lines(&lines, |c| c.len() == 3 && chart::top(c).is_some())?;
    // Spending is an expense whatever it is called, so that the invoice rule cannot be
    // sidestepped by the kind: a debit to a cost or expenditure account needs kind expense.
    if kind != Kind::Expense {
        if let Some(i) = lines.iter().position(|l| {
            l.side == Side::Debit
                && chart::top(&l.account).is_some_and(|a| {
                    matches!(
                        a.category,
                        chart::Category::Expenditure | chart::Category::Cost
                    )
                })
        }) {
            return Err(ApiError::invalid(
                format!("lines[{i}].account"),
                "a debit to a cost or expenditure account is an expense: give the entry kind expense",
            ));
        }
    }
    let invoices: Vec<String> = b
        .invoices
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    if invoices.len() > MAX_INVOICES {
        return Err(ApiError::invalid(
            "invoices",
            format!("at most {MAX_INVOICES} images"),
        ));
    }
    let kept = match entry {
        Some(e) => shanzhi_store::ledger::invoices(&app.db, e.id).await?,
        None => Vec::new(),
    };
    for (i, h) in invoices.iter().enumerate() {
        if h.len() != 64 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(ApiError::invalid(
                format!("invoices[{i}]"),
                "a photo's hash",
            ));
        }
        if kept.contains(h) {
            continue;
        }
        // One invoice backs one entry: the same image on a second entry would pay twice.
        if let Some(number) =
            shanzhi_store::ledger::invoice_in_use(&app.db, h, entry.map(|e| e.id)).await?
        {
            return Err(ApiError::invalid(
                format!("invoices[{i}]"),
                format!("this invoice image is attached to entry {number} already"),
            ));
        }
        if shanzhi_store::event::photos_uploaded_by(&app.db, std::slice::from_ref(h), user.user.id)
            .await?
            != 1
        {
            return Err(ApiError::invalid(
                format!("invoices[{i}]"),
                "upload the image first (POST /api/v1/photos)",
            ));
        }
    }
    let mut seen = invoices.clone();
    seen.sort();
    seen.dedup();
    if seen.len() != invoices.len() {
        return Err(ApiError::invalid("invoices", "an image is attached once"));
    }
    Ok(Values {
        kind: kind.as_str().to_owned(),
        entry_date: date.format("%Y-%m-%d").to_string(),
        month: month_index(date.year(), date.month()),
        summary,
        counterparty,
        // A counterparty is masked in public unless it is said to be no private person.
        private_party: b.private_party.unwrap_or(true),
        lines: lines
            .into_iter()
            .map(|l| (l.account, l.side.as_str().to_owned(), l.fen))
            .collect(),
        invoices,
        total_fen: total,
    })
}

fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::Forbidden(why) => ApiError::forbidden(why),
        Refusal::Conflict(why) => ApiError::conflict(Some("state"), why),
        Refusal::Invalid { field, reason } => ApiError::invalid(field, reason),
    }
}

async fn open_month(app: &AppState, node: &NodeCode, month: i64) -> ApiResult<()> {
    if shanzhi_store::ledger::is_closed(&app.db, node.as_str(), month).await? {
        return Err(ApiError::conflict(
            Some("date"),
            format!(
                "{} is closed: date the entry in an open month",
                month_text(month)
            ),
        ));
    }
    Ok(())
}

fn log(
    user: &CurrentUser,
    action: &str,
    from: Option<&str>,
    to: &str,
    note: Option<String>,
) -> LogEntry {
    LogEntry {
        actor_id: Some(user.user.id),
        action: action.to_owned(),
        from_state: from.map(str::to_owned),
        to_state: to.to_owned(),
        note,
        data: json!({}),
    }
}

// ---- handlers -------------------------------------------------------------------------------

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<EntryBody>,
) -> ApiResult<impl IntoResponse> {
    let node = village(
        b.node
            .as_deref()
            .ok_or_else(|| ApiError::invalid("node", "the village"))?,
        "node",
    )?;
    let held = duties(&app, &user).await?;
    if holding(&held, &node, Duty::Treasurer) != Duty::Treasurer {
        return Err(ApiError::forbidden(
            "only the village's treasurer enters its entries",
        ));
    }
    if b.version.is_some() {
        return Err(ApiError::invalid("version", "a new entry has no version"));
    }
    let v = values(&app, &user, &b, None).await?;
    open_month(&app, &node, v.month).await?;
    let e = shanzhi_store::ledger::insert(
        &app.db,
        node.as_str(),
        &v,
        &log(&user, "create", None, "draft", None),
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(detail(&app, &e, true).await?),
    ))
}

async fn replace(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<EntryBody>,
) -> ApiResult<impl IntoResponse> {
    let e = readable_entry(&app, &user, id).await?;
    let node = NodeCode::parse(&e.node_code).map_err(|e| ApiError::internal(e.into()))?;
    let held = duties(&app, &user).await?;
    if holding(&held, &node, Duty::Treasurer) != Duty::Treasurer {
        return Err(ApiError::forbidden(
            "only the village's treasurer changes its entries",
        ));
    }
    if b.node.is_some() {
        return Err(ApiError::invalid("node", "an entry stays in its village"));
    }
    let version = b
        .version
        .ok_or_else(|| ApiError::invalid("version", "the version read"))?;
    let state = EntryStateName::parse(&e.state).unwrap_or(EntryStateName::Posted);
    if !state.editable() {
        return Err(ApiError::conflict(
            Some("state"),
            format!("an entry that is {} cannot be changed", e.state),
        ));
    }
    let v = values(&app, &user, &b, Some(&e)).await?;
    open_month(&app, &node, v.month).await?;
    shanzhi_store::ledger::replace(
        &app.db,
        id,
        version,
        &v,
        &log(&user, "update", Some(&e.state), &e.state, None),
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    let e = shanzhi_store::ledger::get(&app.db, id).await?;
    Ok(axum::Json(detail(&app, &e, true).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActBody {
    action: String,
    approve: Option<bool>,
    note: Option<String>,
    version: i64,
}

async fn act(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ActBody>,
) -> ApiResult<impl IntoResponse> {
    let e = readable_entry(&app, &user, id).await?;
    let action = match b.action.as_str() {
        "submit" => Action::Submit,
        "approve" => Action::Approve {
            approve: b.approve.unwrap_or(true),
            note: b.note.clone(),
        },
        "review" => Action::Review {
            approve: b.approve.unwrap_or(true),
            note: b.note.clone(),
        },
        "void" => Action::Void {
            reason: b.note.clone().unwrap_or_default(),
        },
        _ => {
            return Err(ApiError::invalid(
                "action",
                "submit, approve, review or void",
            ))
        }
    };
    if b.version != e.version {
        return Err(ApiError::conflict(
            Some("version"),
            "the entry was changed by someone else; reload and try again",
        ));
    }
    let node = NodeCode::parse(&e.node_code).map_err(|e| ApiError::internal(e.into()))?;
    let held = duties(&app, &user).await?;
    let needed = match action {
        Action::Submit | Action::Void { .. } => Duty::Treasurer,
        Action::Approve { .. } => Duty::Committee,
        Action::Review { .. } => Duty::TownAgency,
    };
    let facts = EntryState {
        state: EntryStateName::parse(&e.state).unwrap_or(EntryStateName::Posted),
        kind: Kind::parse(&e.kind).unwrap_or(Kind::Transfer),
        invoices: shanzhi_store::ledger::invoices(&app.db, id).await?.len() as u32,
        month_closed: shanzhi_store::ledger::is_closed(&app.db, &e.node_code, e.month).await?,
        by_creator: e.created_by == user.user.id,
    };
    let t = shanzhi_domain::ledger::transition(&facts, &action, holding(&held, &node, needed))
        .map_err(refusal)?;
    let now = app.clock.now_ms();
    let audit = AuditEntry::new(
        Some(user.user.id),
        &format!("ledger.{}", action.name()),
        "ledger_entry",
        id.to_string(),
    )
    .before(json!({"state": e.state}))
    .after(json!({"state": t.to.as_str(), "note": t.note}));
    match shanzhi_store::ledger::save_move(
        &app.db,
        &e,
        t.to.as_str(),
        t.post,
        &log(
            &user,
            action.name(),
            Some(&e.state),
            t.to.as_str(),
            t.note.clone(),
        ),
        &audit,
        now,
    )
    .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict { constraint }) if constraint == "ledger_close" => {
            return Err(ApiError::conflict(
                Some("state"),
                "the entry's month was closed meanwhile: send it back to be re-dated",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let e = shanzhi_store::ledger::get(&app.db, id).await?;
    Ok(axum::Json(detail(&app, &e, true).await?))
}

/// The entry if the user may read it; else 404.
async fn readable_entry(app: &AppState, user: &CurrentUser, id: i64) -> ApiResult<Entry> {
    let e = match shanzhi_store::ledger::get(&app.db, id).await {
        Ok(e) => e,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("entry")),
        Err(e) => return Err(e.into()),
    };
    let node = NodeCode::parse(&e.node_code).map_err(|e| ApiError::internal(e.into()))?;
    if !reads(user, &duties(app, user).await?, &node) {
        return Err(ApiError::not_found("entry"));
    }
    Ok(e)
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let e = readable_entry(&app, &user, id).await?;
    Ok(axum::Json(detail(&app, &e, true).await?))
}

/// An entry with its lines (account names), invoices and, for staff, its timeline.
async fn detail(app: &AppState, e: &Entry, staff: bool) -> ApiResult<Value> {
    let mut v = if staff { e.to_json() } else { public_json(e) };
    let lines = shanzhi_store::ledger::lines(&app.db, e.id).await?;
    v["lines"] = json!(lines
        .iter()
        .map(|(code, side, fen)| json!({"account": code, "account_name": chart::top(code).map(|a| a.name),
            "side": side, "amount": shanzhi_domain::ledger::yuan(*fen), "fen": fen}))
        .collect::<Vec<_>>());
    if staff {
        let invoices = shanzhi_store::ledger::invoices(&app.db, e.id).await?;
        v["invoices"] = json!(invoices
            .iter()
            .map(|h| json!({"hash": h, "url": format!("/api/v1/photos/{h}")}))
            .collect::<Vec<_>>());
        v["timeline"] = json!(shanzhi_store::ledger::timeline(&app.db, e.id)
            .await?
            .iter()
            .map(|l| l.to_json())
            .collect::<Vec<_>>());
    } else {
        v["invoices"] = json!(shanzhi_store::ledger::invoices(&app.db, e.id).await?.len());
    }
    Ok(v)
}

/// What a villager reads of a posted entry: a private person's name masked.
fn public_json(e: &Entry) -> Value {
    let party = e.counterparty.as_deref().map(|c| {
        if e.private_party {
            mask_name(c)
        } else {
            c.to_owned()
        }
    });
    json!({"id": e.id, "node": e.node_code, "number": e.number, "kind": e.kind, "date": e.entry_date,
        "summary": e.summary, "counterparty": party, "amount": shanzhi_domain::ledger::yuan(e.total_fen),
        "total_fen": e.total_fen, "posted_at": e.posted_at})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    state: Option<String>,
    month: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let held = duties(&app, &user).await?;
    let root = list_root(
        &user,
        &held,
        q.node.as_deref(),
        "the village books are read by staff of an area; citizens read theirs under /api/v1/me/ledger",
    )?;
    let state = match q.state.as_deref() {
        Some(s) => Some(
            EntryStateName::parse(s)
                .ok_or_else(|| ApiError::invalid("state", "one of the entry states"))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let limit = super::base::limit(q.limit, 50, 200)?;
    let f = Filter {
        under: root.path().to_owned(),
        state,
        month: q
            .month
            .as_deref()
            .map(|m| parse_month(m, "month"))
            .transpose()?,
        villages: None,
        before: q.before,
        limit,
    };
    page(&app, f, true).await
}

async fn page(app: &AppState, f: Filter, staff: bool) -> ApiResult<axum::Json<Value>> {
    let limit = f.limit;
    let mut rows = shanzhi_store::ledger::list(&app.db, &f).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let names = super::names::node_names(app, rows.iter().map(|r| r.node_code.as_str())).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let invoices: HashMap<i64, i64> = shanzhi_store::ledger::invoice_counts(&app.db, &ids)
        .await?
        .into_iter()
        .collect();
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = if staff { r.to_json() } else { public_json(r) };
            v["node_name"] = json!(names.get(&r.node_code));
            v["invoices"] = json!(invoices.get(&r.id).copied().unwrap_or(0));
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
            "these are a villager's public books; staff read /api/v1/ledger/entries",
        ));
    }
    let villages = home_villages(&app, user.user.id).await?;
    let f = Filter {
        under: String::new(),
        state: Some("posted".to_owned()),
        month: None,
        villages: Some(villages),
        before: q.before,
        limit: super::base::limit(q.limit, 50, 200)?,
    };
    page(&app, f, false).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BalanceQuery {
    node: String,
    month: Option<String>,
}

async fn balances(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BalanceQuery>,
) -> ApiResult<impl IntoResponse> {
    let node = village(&q.node, "node")?;
    if !reads(&user, &duties(&app, &user).await?, &node) {
        return Err(ApiError::not_found("village"));
    }
    let month = match q.month.as_deref() {
        Some(m) => parse_month(m, "month")?,
        None => {
            use chrono::Datelike;
            let d = shanzhi_domain::calendar::local_date(app.clock.now_ms());
            month_index(d.year(), d.month())
        }
    };
    let sums = shanzhi_store::ledger::sums_to(&app.db, node.as_str(), month).await?;
    let by_code: HashMap<&str, (i64, i64)> = sums
        .iter()
        .map(|(c, d, k)| (c.as_str(), (*d, *k)))
        .collect();
    let accounts: Vec<Value> = CHART
        .iter()
        .filter_map(|a| {
            let (d, c) = *by_code.get(a.code)?;
            let bal = shanzhi_domain::ledger::balance(a.normal, d, c);
            Some(json!({"account": a.code, "name": a.name, "category": a.category.as_str(), "normal": a.normal.as_str(),
                "debit_fen": d, "credit_fen": c, "balance_fen": bal, "balance": shanzhi_domain::ledger::yuan(bal)}))
        })
        .collect();
    let (d, c) = sums
        .iter()
        .fold((0i64, 0i64), |(d, c), s| (d + s.1, c + s.2));
    Ok(axum::Json(
        json!({"node": node.as_str(), "month": month_text(month), "accounts": accounts,
        "debit_fen": d, "credit_fen": c, "balanced": d == c,
        "closed_months": shanzhi_store::ledger::closed_months(&app.db, node.as_str()).await?.into_iter().map(month_text).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatementQuery {
    node: String,
    month: Option<String>,
}

async fn statements(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<StatementQuery>,
) -> ApiResult<axum::response::Response> {
    monthly(app, user, q, false).await
}

async fn statements_xlsx(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<StatementQuery>,
) -> ApiResult<axum::response::Response> {
    monthly(app, user, q, true).await
}

/// The monthly statements of `q.node`, as JSON or as a workbook.
async fn monthly(
    app: AppState,
    user: CurrentUser,
    q: StatementQuery,
    xlsx: bool,
) -> ApiResult<axum::response::Response> {
    use shanzhi_domain::ledger::statement::{balance_sheet, income_statement, Line};
    let node = village(&q.node, "node")?;
    if !reads(&user, &duties(&app, &user).await?, &node) {
        return Err(ApiError::not_found("village"));
    }
    let month = match q.month.as_deref() {
        Some(m) => parse_month(m, "month")?,
        None => {
            use chrono::Datelike;
            let d = shanzhi_domain::calendar::local_date(app.clock.now_ms());
            month_index(d.year(), d.month())
        }
    };
    let year_start = month - month.rem_euclid(12);
    let db = &app.db;
    let v = node.as_str();
    let (start, end, in_month, in_year) = (
        shanzhi_store::ledger::sums_to(db, v, year_start - 1).await?,
        shanzhi_store::ledger::sums_to(db, v, month).await?,
        shanzhi_store::ledger::sums_between(db, v, month, month).await?,
        shanzhi_store::ledger::sums_between(db, v, year_start, month).await?,
    );
    let sheet = balance_sheet(&start, &end);
    let income = income_statement(&in_month, &in_year);
    let name = shanzhi_store::node::get(db, &node)
        .await
        .map(|n| n.name)
        .unwrap_or_default();
    if xlsx {
        use super::export::{download, workbook, Cell, Sheet};
        let y = |fen: i64| Cell::Number(fen as f64 / 100.0);
        let row = |l: &Line| {
            vec![
                Cell::Text(l.code.to_owned()),
                Cell::Text(l.name.to_owned()),
                y(l.first),
                y(l.second),
            ]
        };
        let total = |label: &str, (a, b): (i64, i64)| {
            vec![Cell::Empty, Cell::Text(label.to_owned()), y(a), y(b)]
        };
        let mut rows = Vec::new();
        rows.push(vec![Cell::Text("资产".into())]);
        rows.extend(sheet.assets.iter().map(row));
        rows.push(total("资产合计", sheet.total_assets));
        rows.push(vec![Cell::Text("负债".into())]);
        rows.extend(sheet.liabilities.iter().map(row));
        rows.push(vec![Cell::Text("所有者权益".into())]);
        rows.extend(sheet.equity.iter().map(row));
        rows.push(total("未结转收益", sheet.unallocated));
        rows.push(total("负债和所有者权益合计", sheet.total_claims));
        let mut rows2 = Vec::new();
        rows2.push(vec![Cell::Text("收入".into())]);
        rows2.extend(income.income.iter().map(row));
        rows2.push(vec![Cell::Text("支出".into())]);
        rows2.extend(income.expenditure.iter().map(row));
        rows2.push(total("本年收益", income.net));
        rows2.push(total("收益分配", income.distributed));
        let title = format!("{name}（{}）{}", v, month_text(month));
        let bytes = workbook(&[
            Sheet {
                name: "资产负债表",
                headers: &["科目编码", "项目", "年初数（元）", "期末数（元）"],
                rows,
                note: Some(title.clone()),
            },
            Sheet {
                name: "收益及收益分配表",
                headers: &["科目编码", "项目", "本月数（元）", "本年累计数（元）"],
                rows: rows2,
                note: Some(title),
            },
        ])?;
        return Ok(download(
            bytes,
            &format!("statements-{v}-{}.xlsx", month_text(month)),
            &format!("{name}会计报表-{}.xlsx", month_text(month)),
        ));
    }
    let lines = |ls: &[Line]| -> Vec<Value> {
        ls.iter().map(|l| json!({"account": l.code, "name": l.name, "first_fen": l.first, "second_fen": l.second})).collect()
    };
    Ok(axum::Json(json!({
        "node": v, "name": name, "month": month_text(month),
        "balance_sheet": {"columns": ["year_start", "month_end"], "assets": lines(&sheet.assets),
            "liabilities": lines(&sheet.liabilities), "equity": lines(&sheet.equity),
            "unallocated_fen": [sheet.unallocated.0, sheet.unallocated.1],
            "total_assets_fen": [sheet.total_assets.0, sheet.total_assets.1],
            "total_claims_fen": [sheet.total_claims.0, sheet.total_claims.1],
            "balanced": sheet.total_assets == sheet.total_claims},
        "income_statement": {"columns": ["month", "year_to_date"], "income": lines(&income.income),
            "expenditure": lines(&income.expenditure), "net_fen": [income.net.0, income.net.1],
            "distributed_fen": [income.distributed.0, income.distributed.1]},
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    node: String,
    month: String,
}

async fn close(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CloseBody>,
) -> ApiResult<impl IntoResponse> {
    let node = village(&b.node, "node")?;
    let month = parse_month(&b.month, "month")?;
    let held = duties(&app, &user).await?;
    if holding(&held, &node, Duty::TownAgency) != Duty::TownAgency {
        return Err(ApiError::forbidden(
            "only the town's agency closes a village's month",
        ));
    }
    // Months close once they are over, and in order.
    let today = shanzhi_domain::calendar::local_date(app.clock.now_ms());
    use chrono::Datelike;
    if month >= month_index(today.year(), today.month()) {
        return Err(ApiError::invalid(
            "month",
            "a month is closed once it is over",
        ));
    }
    if let Some(first) = shanzhi_store::ledger::first_open_month(&app.db, node.as_str()).await? {
        if first < month {
            return Err(ApiError::conflict(
                Some("month"),
                format!(
                    "{} is not closed yet: months close in order",
                    month_text(first)
                ),
            ));
        }
    }
    // Entries on their way into the month must be posted or sent back first (checked again
    // under the month's lock by the store).
    shanzhi_store::ledger::close(
        &app.db,
        node.as_str(),
        month,
        user.user.id,
        app.clock.now_ms(),
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict { constraint } if constraint == "ledger_waiting" => {
            ApiError::conflict(
                Some("month"),
                "approved entries of the month wait for the review: post or send them back first",
            )
        }
        StoreError::Conflict { constraint } if constraint == "ledger_close" => {
            ApiError::conflict(Some("month"), "the month is already closed")
        }
        e => e.into(),
    })?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"node": node.as_str(), "month": month_text(month)})),
    ))
}

async fn accounts(_user: CurrentUser) -> ApiResult<impl IntoResponse> {
    let items: Vec<Value> = CHART
        .iter()
        .map(|a| json!({"code": a.code, "name": a.name, "category": a.category.as_str(), "normal": a.normal.as_str()}))
        .collect();
    Ok(axum::Json(json!({"items": items})))
}

// ---- duties ---------------------------------------------------------------------------------

async fn duties_of(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let target = super::user::managed_user(&app, &user, id).await?;
    if target.id != user.user.id && user.actor.role != Role::Admin {
        return Err(ApiError::not_found("user"));
    }
    let items: Vec<Value> = shanzhi_store::ledger::duties_of(&app.db, id)
        .await?
        .into_iter()
        .map(|(n, d)| json!({"node": n, "duty": d}))
        .collect();
    Ok(axum::Json(json!({"id": id, "duties": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DutyBody {
    node: String,
    duty: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DutiesBody {
    duties: Vec<DutyBody>,
}

async fn set_duties(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<DutiesBody>,
) -> ApiResult<impl IntoResponse> {
    if user.actor.role != Role::Admin {
        return Err(ApiError::forbidden("administrators give duties"));
    }
    let target = super::user::managed_user(&app, &user, id).await?;
    if target.role == "citizen" {
        return Err(ApiError::invalid(
            "duties",
            "citizens hold no duties for the books",
        ));
    }
    if b.duties.len() > MAX_DUTIES {
        return Err(ApiError::invalid("duties", format!("at most {MAX_DUTIES}")));
    }
    let mut out = Vec::with_capacity(b.duties.len());
    for (i, d) in b.duties.iter().enumerate() {
        let field = format!("duties[{i}].node");
        let node =
            NodeCode::parse(&d.node).map_err(|_| ApiError::invalid(&field, "not a region code"))?;
        let want = match d.duty.as_str() {
            "treasurer" | "committee" => Level::Village,
            "town_agency" => Level::Town,
            _ => {
                return Err(ApiError::invalid(
                    format!("duties[{i}].duty"),
                    "treasurer, committee or town_agency",
                ))
            }
        };
        if node.natural_level() != NaturalLevel::Region(want) {
            return Err(ApiError::invalid(
                &field,
                format!("a {} duty is held at a {}", d.duty, want.as_str()),
            ));
        }
        if !user.actor.reaches(&node) {
            return Err(ApiError::invalid(&field, "outside your area"));
        }
        match shanzhi_store::node::get(&app.db, &node).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => return Err(ApiError::invalid(&field, "no such region")),
            Err(e) => return Err(e.into()),
        }
        out.push((node.as_str().to_owned(), d.duty.clone()));
    }
    out.sort();
    out.dedup();
    // Separation of duties (不相容岗位相分离): the one who enters an entry is not the one who
    // approves it, nor the one who reviews it for the town.
    for (v, d) in out.iter().filter(|(_, d)| d != "town_agency") {
        let village = NodeCode::parse(v).map_err(|e| ApiError::internal(e.into()))?;
        let clash = out.iter().find(|(n, other)| {
            other != d
                && (n == v
                    || (other == "town_agency"
                        && NodeCode::parse(n).is_ok_and(|t| t.contains(&village))))
        });
        if let Some((n, other)) = clash {
            return Err(ApiError::invalid(
                "duties",
                format!(
                    "one person cannot be both {d} of {v} and {other} of {n} (不相容岗位相分离)"
                ),
            ));
        }
    }
    shanzhi_store::ledger::set_duties(&app.db, id, &out, user.user.id, app.clock.now_ms()).await?;
    let items: Vec<Value> = out
        .into_iter()
        .map(|(n, d)| json!({"node": n, "duty": d}))
        .collect();
    Ok(axum::Json(json!({"id": id, "duties": items})))
}
