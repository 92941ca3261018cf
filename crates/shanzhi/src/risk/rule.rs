//! The rules that raise clues, evaluated incrementally after each write they watch (a report,
//! a dispute taken in) from the counters and small indexed ranges, and in the sweep (bursts a
//! failed evaluation missed, rises that depend on the date). A rule's clue carries its window;
//! the store writes it only if the last clue of the same rule and subject covered an earlier,
//! non-overlapping window, so evaluating twice never raises twice.

use chrono::Duration;
use serde_json::json;
use shanzhi_domain::calendar::{local_date, local_ms};
use shanzhi_domain::risk::rule::{
    before_spring_festival, dispute_hits, rise_hits, window, RuleKind,
};
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::dispute::DisputeRow;
use shanzhi_store::event::{EventRow, LogEntry};
use shanzhi_store::notification::NewNotification;
use shanzhi_store::risk::{Mark, NewClue, RiskRow, RuleRow};

use super::centres_of;
use crate::calendar::day_number;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::reference::Snapshot;

const DAY_MS: i64 = 86_400_000;

/// An enabled rule with its parsed kind and the node it watches.
struct Live<'a> {
    row: &'a RuleRow,
    kind: RuleKind,
    node: NodeCode,
}

fn live(snap: &Snapshot) -> Vec<Live<'_>> {
    snap.risk_rules
        .iter()
        .filter(|r| r.enabled)
        .filter_map(|row| {
            let params = serde_json::from_str(&row.params).ok()?;
            Some(Live {
                row,
                kind: RuleKind::parse(&row.kind, &params).ok()?,
                node: NodeCode::parse(&row.node_code).ok()?,
            })
        })
        .collect()
}

/// A category and every category below it.
fn with_children(snap: &Snapshot, id: i64) -> Vec<i64> {
    let mut out = vec![id];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(
            snap.categories()
                .filter(|c| c.parent_id == Some(parent))
                .map(|c| c.id),
        );
        i += 1;
    }
    out
}

/// Raises one clue of a rule (nothing when its window overlaps the last one); answers the id.
async fn raise(
    app: &AppState,
    rule: &RuleRow,
    node: &NodeCode,
    subject: String,
    days: u32,
    title: String,
    detail: String,
    link: (Option<i64>, Option<i64>),
    now: i64,
) -> Result<Option<i64>, ApiError> {
    let (start, end) = window(local_date(now), days);
    let mut row = RiskRow::clue(node.as_str(), &rule.risk_type, "rule", title.clone(), now);
    row.detail = Some(detail);
    row.rule_id = Some(rule.id);
    (row.event_id, row.dispute_id) = link;
    let notifications = centres_of(node)
        .into_iter()
        .map(|c| {
            NewNotification::to_centre(
                &c,
                "risk_clue",
                json!({"rule_id": rule.id}),
                format!("风险线索（{}）：{title}", rule.name),
            )
        })
        .collect();
    let clue = NewClue {
        row,
        mark: Some(Mark {
            rule_id: rule.id,
            subject,
            window_start: day_number(start),
            window_end: day_number(end),
        }),
        log: LogEntry {
            actor_id: None,
            action: "raise".into(),
            from_state: None,
            to_state: "clue".into(),
            note: Some(format!("rule #{} {}", rule.id, rule.name)),
            data: json!({"rule_id": rule.id, "window": [day_number(start), day_number(end)]}),
        },
        notifications,
    };
    let id = shanzhi_store::risk::raise(&app.db, &clue, now).await?;
    if id.is_some() {
        app.notices.announce(&clue.notifications);
    }
    Ok(id)
}

/// After a new report: bursts of its category in its grid, and its reporter's repeat reports.
pub async fn after_report(app: &AppState, ev: &EventRow) -> Result<usize, ApiError> {
    let snap = app.reference.get(&app.db).await?;
    let rules = live(&snap);
    if rules.is_empty() {
        return Ok(0);
    }
    let Ok(grid) = NodeCode::parse(&ev.grid_code) else {
        return Ok(0);
    };
    let now = ev.created_at;
    let mut raised = 0;
    for r in rules.iter().filter(|r| r.node.contains(&grid)) {
        match &r.kind {
            RuleKind::CategoryBurst {
                category_id,
                min_events,
                days,
            } => {
                let cats = with_children(&snap, *category_id);
                if !cats.contains(&ev.category_id) || !grid.is_grid() {
                    continue;
                }
                let (from, to) = window(local_date(now), *days);
                let n = shanzhi_store::risk::grid_category_count(
                    &app.db,
                    grid.as_str(),
                    &cats,
                    day_number(from),
                    day_number(to),
                )
                .await?;
                if n >= i64::from(*min_events) {
                    let cat = snap.category(*category_id).map_or("", |c| c.name.as_str());
                    raised += burst(app, r.row, &grid, cat, n, *days, Some(ev.id), now).await?;
                }
            }
            RuleKind::RepeatReporter { min_reports, days } => {
                let (Some(user), "citizen") = (ev.reporter_id, ev.source.as_str()) else {
                    continue;
                };
                let n = shanzhi_store::risk::reports_by(
                    &app.db,
                    user,
                    now - i64::from(*days) * DAY_MS,
                    i64::from(*min_reports),
                )
                .await?;
                if n >= i64::from(*min_reports) {
                    raised += repeat(app, r.row, user, n, *days, ev.id, &grid, now).await?;
                }
            }
            _ => {}
        }
    }
    Ok(raised)
}

/// A clue for a citizen who reported `n` times in `days` days, the latest report `event_id`.
#[allow(clippy::too_many_arguments)]
async fn repeat(
    app: &AppState,
    rule: &RuleRow,
    user: i64,
    n: i64,
    days: u32,
    event_id: i64,
    grid: &NodeCode,
    now: i64,
) -> Result<usize, ApiError> {
    let title = format!("同一群众{days}天内反映问题{n}次以上（重复反映）");
    let detail = format!("最近一次反映：事件 #{event_id}，网格 {}", grid.as_str());
    let id = raise(
        app,
        rule,
        grid,
        format!("user:{user}"),
        days,
        title,
        detail,
        (Some(event_id), None),
        now,
    )
    .await?;
    Ok(usize::from(id.is_some()))
}

#[allow(clippy::too_many_arguments)]
async fn burst(
    app: &AppState,
    rule: &RuleRow,
    grid: &NodeCode,
    category: &str,
    n: i64,
    days: u32,
    event_id: Option<i64>,
    now: i64,
) -> Result<usize, ApiError> {
    let name = shanzhi_store::node::get(&app.db, grid)
        .await
        .map(|n| n.name)
        .unwrap_or_else(|_| grid.as_str().to_owned());
    let title = format!("{name}{days}天内{category}类事件{n}件");
    let detail = format!("规则“{}”：同一网格{days}天内同类事件达到阈值", rule.name);
    let id = raise(
        app,
        rule,
        grid,
        format!("grid:{}", grid.as_str()),
        days,
        title,
        detail,
        (event_id, None),
        now,
    )
    .await?;
    Ok(usize::from(id.is_some()))
}

/// After a dispute is taken in: its parties and violence flag.
pub async fn after_dispute(
    app: &AppState,
    d: &DisputeRow,
    parties: u32,
) -> Result<usize, ApiError> {
    let snap = app.reference.get(&app.db).await?;
    let Ok(node) = NodeCode::parse(&d.node_code) else {
        return Ok(0);
    };
    let mut raised = 0;
    for r in live(&snap).iter().filter(|r| r.node.contains(&node)) {
        let RuleKind::DisputeFlags {
            min_parties,
            violence,
        } = r.kind
        else {
            continue;
        };
        if !dispute_hits(min_parties, violence, parties, d.violence) {
            continue;
        }
        let why = match (
            d.violence && violence,
            min_parties > 0 && parties >= min_parties,
        ) {
            (true, true) => format!("{parties}方当事人，有暴力倾向"),
            (true, false) => "有暴力倾向".to_owned(),
            _ => format!("{parties}方当事人"),
        };
        let title = format!("矛盾纠纷 {}：{why}", d.number);
        let detail = d.summary.chars().take(200).collect();
        // One clue per case, ever: the window is the day it was taken in, the subject the case.
        let id = raise(
            app,
            r.row,
            &node,
            format!("dispute:{}", d.id),
            1,
            title,
            detail,
            (None, Some(d.id)),
            d.created_at,
        )
        .await?;
        raised += usize::from(id.is_some());
    }
    Ok(raised)
}

/// The rules' part of the sweep at `now`: bursts from the counters over each rule's subtree,
/// citizens' repeat reports whose latest report lies in it, and rising dispute types. Answers
/// the clues raised.
pub async fn sweep(app: &AppState, now: i64) -> Result<usize, ApiError> {
    let snap = app.reference.get(&app.db).await?;
    let today = local_date(now);
    let mut raised = 0;
    for r in live(&snap) {
        match &r.kind {
            RuleKind::CategoryBurst {
                category_id,
                min_events,
                days,
            } => {
                let cats = with_children(&snap, *category_id);
                let (from, to) = window(today, *days);
                let hits = shanzhi_store::risk::grids_over(
                    &app.db,
                    r.node.path(),
                    &cats,
                    day_number(from),
                    day_number(to),
                    i64::from(*min_events),
                )
                .await?;
                let cat = snap.category(*category_id).map_or("", |c| c.name.as_str());
                for (grid, n) in hits {
                    let Ok(grid) = NodeCode::parse(&grid) else {
                        continue;
                    };
                    raised += burst(app, r.row, &grid, cat, n, *days, None, now).await?;
                }
            }
            RuleKind::RepeatReporter { min_reports, days } => {
                let since = now - i64::from(*days) * DAY_MS;
                let who =
                    shanzhi_store::risk::repeat_reporters(&app.db, since, i64::from(*min_reports))
                        .await?;
                for (user, n, last) in who {
                    let ev = match shanzhi_store::event::get(&app.db, last).await {
                        Ok(ev) => ev,
                        Err(shanzhi_store::StoreError::NotFound) => continue,
                        Err(e) => return Err(e.into()),
                    };
                    let Ok(grid) = NodeCode::parse(&ev.grid_code) else {
                        continue;
                    };
                    if r.node.contains(&grid) {
                        raised += repeat(app, r.row, user, n, *days, last, &grid, now).await?;
                    }
                }
            }
            RuleKind::DisputeRise {
                type_code,
                days,
                min_cases,
                rise_percent,
                before_spring_festival: sf,
            } => {
                if sf.is_some_and(|d| !before_spring_festival(today, d)) {
                    continue;
                }
                let start = local_ms(today - Duration::days(i64::from(*days) - 1), 0);
                let span = local_ms(today + Duration::days(1), 0) - start;
                let path = r.node.path();
                let now_n = shanzhi_store::risk::disputes_of_type(
                    &app.db,
                    path,
                    type_code,
                    start,
                    start + span,
                )
                .await?;
                let before_n = shanzhi_store::risk::disputes_of_type(
                    &app.db,
                    path,
                    type_code,
                    start - span,
                    start,
                )
                .await?;
                if rise_hits(now_n as u64, before_n as u64, *min_cases, *rise_percent) {
                    let title = format!(
                        "{}类矛盾纠纷{days}天内{now_n}件，前期{before_n}件，呈上升趋势",
                        type_code
                    );
                    let detail = format!("规则“{}”", r.row.name);
                    let id = raise(
                        app,
                        r.row,
                        &r.node,
                        format!("node:{}", r.node.as_str()),
                        *days,
                        title,
                        detail,
                        (None, None),
                        now,
                    )
                    .await?;
                    raised += usize::from(id.is_some());
                }
            }
            _ => {}
        }
    }
    Ok(raised)
}
