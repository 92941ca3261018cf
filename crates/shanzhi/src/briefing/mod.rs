//! Briefings (早晚报): the figures of a centre's morning or evening briefing, computed for its
//! fixed period ([`shanzhi_domain::briefing`]), archived once per node, kind and day, written
//! by the schedule (the housekeeping loop) and on demand (the API, `shanzhi briefing`).
//!
//! Sections, each figure with its change against the previous briefing of the same node and
//! kind (its stored figures; `null` when there is none):
//! - new events by category, by child area, and the hotspots (the grids with most events);
//! - open orders past their deadline at the period's end (a snapshot as of writing);
//! - new clues (records entered or raised), risks assessed (new risks) and regraded;
//! - dispute cases taken in, by type;
//! - departments found lagging (a missed daily report on a red or orange risk, 督办);
//! - warnings sent, by level.
//!
//! Why rows and not the counters: `event_stat` counts by local day, and a briefing covers half
//! a day across midnight. The period's events are read through `event_created_idx` (a half day
//! of reports), grouped in SQL; the other sections read small, time-bounded ranges.
//!
//! A briefing never holds personal data: risks appear by number, level and type (their titles
//! may name people), departments and areas by name, no reporter, party or phone.

pub mod chart;
pub mod docx;

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};
use shanzhi_domain::briefing::{Kind, Period, Times};
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::briefing::{BriefingRow, NewBriefing};

use crate::calendar::day_number;
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// Grids listed as hotspots.
pub const HOTSPOTS: usize = 10;

/// The configured times (checked when the settings were loaded).
pub fn times(app: &AppState) -> Times {
    Times::parse(&app.config.briefing_times).unwrap_or_default()
}

/// Writes the briefing of `node` for `period` unless it is archived already: `(row, true)`
/// when this call wrote it. `by`: the user who asked (None: the schedule).
pub async fn generate(
    app: &AppState,
    node: &NodeCode,
    period: &Period,
    by: Option<i64>,
) -> Result<(BriefingRow, bool), ApiError> {
    let day = day_number(period.day);
    let kind = period.kind.as_str();
    if shanzhi_store::briefing::exists(&app.db, node.as_str(), kind, day).await? {
        let row = shanzhi_store::briefing::find(&app.db, node.as_str(), kind, day).await?;
        return Ok((row, false));
    }
    let previous = shanzhi_store::briefing::previous(&app.db, node.as_str(), kind, day).await?;
    let now = app.clock.now_ms();
    let figures = figures(app, node, period, previous.as_ref(), now).await?;
    let new = NewBriefing {
        node_code: node.as_str().to_owned(),
        kind: kind.to_owned(),
        day,
        from_ms: period.from_ms,
        to_ms: period.to_ms,
        figures,
        created_by: by,
    };
    Ok(shanzhi_store::briefing::insert(&app.db, &new, now).await?)
}

/// The nodes the schedule writes briefings for: the configured ones, else every county and
/// town.
pub async fn scheduled_nodes(app: &AppState) -> Result<Vec<NodeCode>, ApiError> {
    let codes = if app.config.briefing_nodes.is_empty() {
        shanzhi_store::briefing::nodes_of_levels(&app.db, &["county", "town"]).await?
    } else {
        app.config.briefing_nodes.clone()
    };
    Ok(codes
        .iter()
        .filter_map(|c| NodeCode::parse(c).ok())
        .collect())
}

/// The schedule's step at `now`: writes the latest briefing due (morning or evening) for
/// every scheduled node that lacks it. Answers how many it wrote. Run by every server about
/// once a minute; the unique (node, kind, day) key makes a race write each briefing once.
pub async fn sweep(app: &AppState, now: i64) -> Result<usize, ApiError> {
    let period = times(app).latest(now, None);
    let day = day_number(period.day);
    let mut written = 0;
    for node in scheduled_nodes(app).await? {
        if shanzhi_store::briefing::exists(&app.db, node.as_str(), period.kind.as_str(), day)
            .await?
        {
            continue;
        }
        match shanzhi_store::node::get(&app.db, &node).await {
            Ok(_) => {}
            Err(shanzhi_store::StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        }
        if generate(app, &node, &period, None).await?.1 {
            written += 1;
        }
    }
    Ok(written)
}

/// A figure with its change against the previous briefing's (`null` without one).
fn figure(n: i64, before: Option<i64>) -> Value {
    json!({"n": n, "change": before.map(|b| n - b)})
}

/// The previous briefing's value of `totals.<key>.n` (0 when it had no such figure).
fn total_before(prev: Option<&Value>, key: &str) -> Option<i64> {
    prev.map(|p| p["totals"][key]["n"].as_i64().unwrap_or(0))
}

/// Adds `change` to each item of a section against the same item (by `key`) in the previous
/// briefing's section; an item it lacked had 0.
fn with_changes(mut items: Vec<Value>, prev: Option<&Value>, section: &str, key: &str) -> Value {
    let before: Option<HashMap<String, i64>> = prev.map(|p| {
        p[section]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|i| (i[key].to_string(), i["n"].as_i64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default()
    });
    for item in &mut items {
        let n = item["n"].as_i64().unwrap_or(0);
        item["change"] = match &before {
            Some(b) => json!(n - b.get(&item[key].to_string()).copied().unwrap_or(0)),
            None => Value::Null,
        };
    }
    Value::Array(items)
}

/// Sorted by `n` (largest first), then by `key`'s text.
fn ranked(mut items: Vec<Value>, key: &str) -> Vec<Value> {
    items.sort_by(|a, b| {
        b["n"]
            .as_i64()
            .cmp(&a["n"].as_i64())
            .then_with(|| a[key].to_string().cmp(&b[key].to_string()))
    });
    items
}

/// The child of `node` a grid lies in (by code prefix), if any.
fn child_of<'a>(
    children: &'a [(String, String, String)],
    grid: &str,
) -> Option<&'a (String, String, String)> {
    children
        .iter()
        .find(|(_, path, _)| grid.starts_with(path.as_str()))
}

/// The figures of `node`'s briefing for `period`, compared with `prev` (the last one of the
/// same kind). `now`: when it is written.
pub async fn figures(
    app: &AppState,
    node: &NodeCode,
    period: &Period,
    prev: Option<&BriefingRow>,
    now: i64,
) -> Result<Value, ApiError> {
    let db = &app.db;
    let path = node.path();
    let (from, to) = (period.from_ms, period.to_ms);
    let prev_figures: Option<Value> = prev.and_then(|p| serde_json::from_str(&p.figures).ok());
    let pv = prev_figures.as_ref();
    let this = shanzhi_store::node::get(db, node).await?;
    // Children (code, path, name): the areas events are counted by.
    let children: Vec<(String, String, String)> = shanzhi_store::node::children(db, node, false)
        .await?
        .into_iter()
        .map(|c| (c.code.as_str().to_owned(), c.code.path().to_owned(), c.name))
        .collect();
    let categories: HashMap<i64, (String, String)> = shanzhi_store::category::list(db)
        .await?
        .into_iter()
        .map(|c| (c.id, (c.code, c.name)))
        .collect();

    // Events of the period by category, area and grid.
    let events = shanzhi_store::briefing::events_in(db, path, from, to).await?;
    let mut by_category: BTreeMap<i64, i64> = BTreeMap::new();
    let mut by_area: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_grid: BTreeMap<String, i64> = BTreeMap::new();
    let mut total = 0;
    for (cat, grid, n) in &events {
        total += n;
        *by_category.entry(*cat).or_default() += n;
        if let Some((code, _, _)) = child_of(&children, grid) {
            *by_area.entry(code.clone()).or_default() += n;
        }
        *by_grid.entry(grid.clone()).or_default() += n;
    }
    let category_items: Vec<Value> = by_category
        .iter()
        .map(|(id, n)| {
            let (code, name) = categories.get(id).cloned().unwrap_or_default();
            json!({"id": id, "code": code, "name": name, "n": n})
        })
        .collect();
    let area_name = |code: &str| {
        children
            .iter()
            .find(|(c, _, _)| c == code)
            .map(|(_, _, n)| n.clone())
            .unwrap_or_default()
    };
    let area_items: Vec<Value> = by_area
        .iter()
        .map(|(code, n)| json!({"code": code, "name": area_name(code), "n": n}))
        .collect();
    let mut grids: Vec<(String, i64)> = by_grid.into_iter().collect();
    grids.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    grids.truncate(HOTSPOTS);
    let grid_codes: Vec<&str> = grids.iter().map(|(c, _)| c.as_str()).collect();
    let names: HashMap<String, String> = shanzhi_store::node::names(db, &grid_codes)
        .await?
        .into_iter()
        .map(|(c, n, _)| (c, n))
        .collect();
    let hotspots: Vec<Value> = grids
        .iter()
        .map(|(code, n)| {
            let area = child_of(&children, code).map(|(_, _, name)| name.clone());
            json!({"code": code, "name": names.get(code).cloned().unwrap_or_default(), "area": area, "n": n})
        })
        .collect();

    // Open orders past their deadline at the period's end.
    let overdue = shanzhi_store::briefing::overdue(db, path, to).await?;
    let mut overdue_area: BTreeMap<String, i64> = BTreeMap::new();
    let mut overdue_total = 0;
    for (_, grid, n) in &overdue {
        overdue_total += n;
        if let Some((code, _, _)) = child_of(&children, grid) {
            *overdue_area.entry(code.clone()).or_default() += n;
        }
    }
    let overdue_items: Vec<Value> = overdue_area
        .iter()
        .map(|(code, n)| json!({"code": code, "name": area_name(code), "n": n}))
        .collect();

    // Risks: new clues and records, and gradings.
    let type_name = |code: &str| {
        shanzhi_domain::risk::TYPES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, zh, en)| (zh.to_string(), en.to_string()))
            .unwrap_or_default()
    };
    let created = shanzhi_store::briefing::risks_created(db, path, from, to).await?;
    let new_risks: Vec<Value> = created
        .iter()
        .map(|r| {
            let (zh, en) = type_name(&r.type_code);
            json!({"id": r.id, "number": r.number, "node": r.node_code, "state": r.state,
                   "level": r.level, "type": r.type_code, "type_name": zh, "type_name_en": en,
                   "source": r.source})
        })
        .collect();
    let gradings = shanzhi_store::briefing::risk_gradings(db, path, from, to).await?;
    let mut graded_levels: BTreeMap<String, i64> = BTreeMap::new();
    let graded: Vec<Value> = gradings
        .iter()
        .map(|(r, action, data)| {
            let d: Value = serde_json::from_str(data).unwrap_or(Value::Null);
            let level = d["level"].as_str().unwrap_or("").to_owned();
            *graded_levels.entry(level.clone()).or_default() += 1;
            let (zh, en) = type_name(&r.type_code);
            json!({"id": r.id, "number": r.number, "node": r.node_code, "action": action,
                   "from_level": d["from_level"], "level": level, "type": r.type_code,
                   "type_name": zh, "type_name_en": en})
        })
        .collect();
    let graded_items: Vec<Value> = shanzhi_domain::risk::Level::ALL
        .iter()
        .map(|l| json!({"level": l.as_str(), "n": graded_levels.get(l.as_str()).copied().unwrap_or(0)}))
        .collect();
    // Every record starts as a clue; the assessment makes it a risk; a regrade changes its level.
    let clues_new = created.len() as i64;
    let assessed = gradings.iter().filter(|g| g.1 == "assess").count() as i64;
    let regraded = gradings.iter().filter(|g| g.1 == "regrade").count() as i64;

    // Disputes taken in.
    let disputes = shanzhi_store::briefing::disputes_in(db, path, from, to).await?;
    let dispute_total: i64 = disputes.iter().map(|d| d.3).sum();
    let dispute_items: Vec<Value> = disputes
        .iter()
        .map(|(code, zh, en, n)| json!({"code": code, "name": zh, "name_en": en, "n": n}))
        .collect();

    // Lagging departments.
    let lagging = shanzhi_store::briefing::lagging(db, path, from, to).await?;
    let missed: i64 = lagging.iter().map(|l| l.2).sum();
    let lagging_items: Vec<Value> = lagging
        .iter()
        .map(|(id, name, days, risks)| json!({"department_id": id, "name": name, "n": days, "risks": risks}))
        .collect();

    // Warnings sent.
    let warnings = shanzhi_store::briefing::warnings_in(db, path, from, to).await?;
    let warning_total: i64 = warnings.iter().map(|w| w.1).sum();
    let warning_items: Vec<Value> = warnings
        .iter()
        .map(|(level, n)| json!({"level": level, "n": n}))
        .collect();

    let totals = json!({
        "events": figure(total, total_before(pv, "events")),
        "overdue": figure(overdue_total, total_before(pv, "overdue")),
        "clues_new": figure(clues_new, total_before(pv, "clues_new")),
        "risks_new": figure(assessed, total_before(pv, "risks_new")),
        "risks_regraded": figure(regraded, total_before(pv, "risks_regraded")),
        "disputes": figure(dispute_total, total_before(pv, "disputes")),
        "lagging_departments": figure(lagging.len() as i64, total_before(pv, "lagging_departments")),
        "missed_reports": figure(missed, total_before(pv, "missed_reports")),
        "warnings": figure(warning_total, total_before(pv, "warnings")),
    });
    Ok(json!({
        "node": {"code": this.code.as_str(), "name": this.name, "level": this.level.as_str()},
        "kind": period.kind.as_str(),
        "day": day_number(period.day),
        "from": from,
        "to": to,
        "generated_at": now,
        "previous": prev.map(|p| json!({"id": p.id, "day": p.day})),
        "totals": totals,
        "events_by_category": with_changes(ranked(category_items, "code"), pv, "events_by_category", "id"),
        "events_by_area": with_changes(ranked(area_items, "code"), pv, "events_by_area", "code"),
        "hotspots": with_changes(hotspots, pv, "hotspots", "code"),
        "overdue_by_area": with_changes(ranked(overdue_items, "code"), pv, "overdue_by_area", "code"),
        "clues": new_risks,
        "risks_graded": graded,
        "risks_graded_by_level": with_changes(graded_items, pv, "risks_graded_by_level", "level"),
        "disputes_by_type": with_changes(dispute_items, pv, "disputes_by_type", "code"),
        "lagging": with_changes(lagging_items, pv, "lagging", "department_id"),
        "warnings_by_level": with_changes(warning_items, pv, "warnings_by_level", "level"),
    }))
}

/// The briefing as the API answers it: the row with its figures.
pub fn to_json(row: &BriefingRow) -> Value {
    let figures: Value = serde_json::from_str(&row.figures).unwrap_or(Value::Null);
    json!({"id": row.id, "node_code": row.node_code, "kind": row.kind, "day": row.day,
           "from": row.from_ms, "to": row.to_ms, "created_at": row.created_at,
           "created_by": row.created_by, "scheduled": row.created_by.is_none(),
           "figures": figures})
}

/// A line of the archive list (no figures but the totals).
pub fn summary_json(row: &BriefingRow) -> Value {
    let figures: Value = serde_json::from_str(&row.figures).unwrap_or(Value::Null);
    json!({"id": row.id, "node_code": row.node_code, "node_name": figures["node"]["name"],
           "kind": row.kind, "day": row.day, "from": row.from_ms, "to": row.to_ms,
           "created_at": row.created_at, "scheduled": row.created_by.is_none(),
           "totals": figures["totals"]})
}

/// `Kind` from an optional API word.
pub fn kind_of(s: Option<&str>) -> Result<Option<Kind>, ApiError> {
    s.map(Kind::parse).transpose().map_err(ApiError::from)
}

/// A moment as the API and the CLI take it: RFC 3339 (`2026-09-09T08:00:00+08:00`) or
/// `YYYY-MM-DD HH:MM` in China time.
pub fn parse_at(s: &str) -> Result<i64, ApiError> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    let bad = || ApiError::invalid("at", "RFC 3339 or YYYY-MM-DD HH:MM (China time)");
    let (date, time) = s.split_once(' ').ok_or_else(bad)?;
    let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad())?;
    let time = chrono::NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| bad())?;
    let minute = chrono::Timelike::hour(&time) * 60 + chrono::Timelike::minute(&time);
    Ok(shanzhi_domain::calendar::local_ms(date, minute))
}

/// The briefing a request names: the latest of `kind` (or of either) due at `at` (default
/// now), which must not be in the future — a briefing covers a period that has ended.
pub fn period_at(app: &AppState, at: Option<&str>, kind: Option<&str>) -> Result<Period, ApiError> {
    let now = app.clock.now_ms();
    let at = match at {
        Some(s) => parse_at(s)?,
        None => now,
    };
    if at > now {
        return Err(ApiError::invalid(
            "at",
            "in the future: a briefing covers a period that has ended",
        ));
    }
    let kind = kind_of(kind)?;
    Ok(times(app).latest(at, kind))
}
