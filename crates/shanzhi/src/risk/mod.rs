//! Risks as the application runs them: load, ask the domain, run the level's clock, save in
//! one transaction; the sweep (lights, overdue supervision, and the daily report each red and
//! orange risk owes on every working day — 日清日结, 事不过夜); and the rules that raise clues
//! ([`rule`]).

pub mod rule;

use chrono::{Duration, NaiveDate};
use serde_json::{json, Value};
use shanzhi_domain::calendar::{local_date, local_ms, WorkCalendar};
use shanzhi_domain::risk::{transition, Action, Level, RiskState, State, Transition};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::{Actor, Role, Scope};
use shanzhi_store::audit::AuditEntry;
use shanzhi_store::event::LogEntry;
use shanzhi_store::notification::NewNotification;
use shanzhi_store::risk::{MoveWrites, NewReport, RiskRow};
use shanzhi_store::StoreError;

use crate::calendar::{day_number, day_of, YELLOW_SHARE};
use crate::event::refusal;
use crate::http::error::ApiError;
use crate::http::state::AppState;

const HOUR_MS: i64 = 3_600_000;
/// Most past days one sweep looks back over for missed daily reports.
pub const MAX_LAG_DAYS: i64 = 31;

fn bad(row: &RiskRow, what: &str) -> ApiError {
    ApiError::internal(anyhow::anyhow!("risk {} has a bad {what}", row.id))
}

/// The domain's view of a stored record.
pub fn state_of(row: &RiskRow) -> Result<RiskState, ApiError> {
    Ok(RiskState {
        id: row.id,
        state: State::parse(&row.state).ok_or_else(|| bad(row, "state"))?,
        node: NodeCode::parse(&row.node_code).map_err(|_| bad(row, "node"))?,
        level: match &row.level {
            Some(l) => Some(Level::parse(l).ok_or_else(|| bad(row, "level"))?),
            None => None,
        },
        lead_department_id: row.lead_department_id,
        helper_ids: row.helpers(),
    })
}

/// May the actor read this record? The centre and leaders whose scope reaches its node, and
/// handlers of its lead or helper departments.
pub fn can_view(st: &RiskState, actor: &Actor) -> bool {
    match (&actor.role, &actor.scope) {
        (Role::Analyst | Role::Dispatcher | Role::Admin | Role::Leader, _) => {
            actor.reaches(&st.node)
        }
        (Role::Handler, Scope::Department { id, .. }) => {
            st.lead_department_id == Some(*id) || st.helper_ids.contains(id)
        }
        _ => false,
    }
}

/// May the actor read risks at all (lists, board, figures)?
pub fn reads_risks(actor: &Actor) -> bool {
    matches!(
        actor.role,
        Role::Analyst | Role::Dispatcher | Role::Admin | Role::Leader | Role::Handler
    )
}

/// A record the actor may see (404 otherwise, as if it did not exist).
pub async fn visible(
    app: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<(RiskRow, RiskState), ApiError> {
    let row = match shanzhi_store::risk::get(&app.db, id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("risk")),
        Err(e) => return Err(e.into()),
    };
    let st = state_of(&row)?;
    // A department's handler also follows the clues they entered themselves.
    let own = actor.role == Role::Handler && row.created_by == Some(actor.user_id);
    if !can_view(&st, actor) && !own {
        return Err(ApiError::not_found("risk"));
    }
    Ok((row, st))
}

/// The centres told of a new clue: the town's and the county's governance centres above (or
/// at) its node.
pub fn centres_of(node: &NodeCode) -> Vec<String> {
    node.ancestor_paths()
        .into_iter()
        .filter(|p| p.len() == 6 || p.len() == 9)
        .filter_map(|p| NodeCode::from_path(&p).ok())
        .map(|c| c.as_str().to_owned())
        .collect()
}

/// The hours to handle each level (the administrators' settings).
pub async fn deadline_hours(app: &AppState, level: Level) -> Result<i64, ApiError> {
    let all = shanzhi_store::risk::deadlines(&app.db).await?;
    Ok(all
        .into_iter()
        .find(|(l, _)| l == level.as_str())
        .map(|(_, h)| h)
        .unwrap_or_else(|| level.default_deadline_hours()))
}

/// The light of a clock in natural time (risks do not wait for working hours): red once due,
/// yellow in the last fifth.
pub fn light_at(start: i64, due: i64, now: i64) -> &'static str {
    if now >= due {
        "red"
    } else if now >= yellow_at(start, due) {
        "yellow"
    } else {
        "green"
    }
}

fn yellow_at(start: i64, due: i64) -> i64 {
    due - ((due - start) as f64 * YELLOW_SHARE) as i64
}

/// The next instant the sweep must look at an active record: its next light change, and (red
/// and orange) the next local midnight, when yesterday's report is checked.
fn next_check(row: &RiskRow, now: i64) -> Option<i64> {
    if row.state != State::Active.as_str() {
        return None;
    }
    let mut next: Option<i64> = None;
    let mut at = |t: i64| next = Some(next.map_or(t, |n: i64| n.min(t)));
    if let (Some(start), Some(due)) = (row.started_at, row.due_at) {
        match light_at(start, due, now) {
            "green" => at(yellow_at(start, due)),
            "yellow" => at(due),
            _ => {}
        }
    }
    if row
        .level
        .as_deref()
        .and_then(Level::parse)
        .is_some_and(Level::needs_daily_report)
    {
        let tomorrow = local_date(now) + Duration::days(1);
        at(local_ms(tomorrow, 1));
    }
    next.map(|t| t.max(now + 1_000))
}

fn log(
    actor_id: Option<i64>,
    action: &str,
    from: &RiskRow,
    to: &RiskRow,
    note: Option<String>,
    data: Value,
) -> LogEntry {
    LogEntry {
        actor_id,
        action: action.to_owned(),
        from_state: Some(from.state.clone()),
        to_state: to.state.clone(),
        note,
        data,
    }
}

/// The new row and its writes for a transition (also the demo's, walking a year of records).
pub(crate) fn apply(
    row: &RiskRow,
    action: &Action,
    t: &Transition,
    actor: &Actor,
    hours: Option<i64>,
    now: i64,
) -> (RiskRow, MoveWrites) {
    let mut a = row.clone();
    if let Some(s) = t.to {
        a.state = s.as_str().to_owned();
    }
    if let Some(l) = t.level {
        a.level = Some(l.as_str().to_owned());
    }
    if let Some(d) = t.lead_department_id {
        a.lead_department_id = Some(d);
    }
    if let Some(h) = &t.helper_ids {
        a.helper_ids = json!(h).to_string();
    }
    if let Some(m) = &t.measures {
        a.measures = Some(m.clone());
    }
    let today = day_of(now);
    if matches!(action, Action::Assess { .. }) {
        a.assessed_at = Some(now);
    }
    if t.start_clock {
        let hours = hours.unwrap_or(24);
        a.started_at = Some(now);
        a.due_at = Some(now + hours * HOUR_MS);
        a.light = "green".into();
        // The day of the assessment (or of a new level) counts as reported.
        a.report_checked_day = Some(a.report_checked_day.map_or(today, |d| d.max(today)));
    }
    if t.stop_clock {
        a.finished_at = Some(now);
        a.on_time = Some(a.due_at.is_none_or(|due| now <= due));
    }
    match (action, t.to) {
        (_, Some(State::Closed | State::Dismissed)) => a.closed_at = Some(now),
        (Action::Review { approve: false, .. }, Some(State::Active)) => {
            a.finished_at = None;
            a.on_time = None;
            if let (Some(start), Some(due)) = (a.started_at, a.due_at) {
                a.light = light_at(start, due, now).to_owned();
            }
        }
        _ => {}
    }
    let mut writes = MoveWrites::default();
    if let Some(text) = &t.report {
        a.last_report_at = Some(now);
        writes.report = Some(NewReport {
            department_id: match actor.scope {
                Scope::Department { id, .. } => Some(id),
                _ => None,
            },
            actor_id: actor.user_id,
            day: today,
            text: text.clone(),
        });
    }
    a.next_check_at = next_check(&a, now);
    let data = json!({
        "level": t.level.map(Level::as_str),
        "from_level": if t.level.is_some() { json!(row.level) } else { Value::Null },
        "lead_department_id": t.lead_department_id,
        "helper_ids": t.helper_ids,
        "due_at": if t.start_clock { json!(a.due_at) } else { Value::Null },
    });
    let note = t
        .note
        .clone()
        .or_else(|| t.report.clone())
        .or_else(|| t.measures.clone());
    writes.log = Some(log(Some(actor.user_id), action.name(), row, &a, note, data));
    writes.audit = Some(
        AuditEntry::new(Some(actor.user_id), &format!("risk.{}", action.name()), "risk", row.id.to_string())
            .before(json!({"state": row.state, "level": row.level, "lead_department_id": row.lead_department_id}))
            .after(json!({"state": a.state, "level": a.level, "lead_department_id": a.lead_department_id,
                          "helper_ids": a.helpers(), "due_at": a.due_at})),
    );
    (a, writes)
}

/// Checks the departments a move names exist (404 naming the field otherwise).
async fn check_departments(app: &AppState, action: &Action) -> Result<(), ApiError> {
    let (lead, helpers) = match action {
        Action::Assess {
            lead_department_id,
            helper_ids,
            ..
        }
        | Action::Reassign {
            lead_department_id,
            helper_ids,
        } => (*lead_department_id, helper_ids.as_slice()),
        _ => return Ok(()),
    };
    for (id, field) in std::iter::once((lead, "lead_department_id"))
        .chain(helpers.iter().map(|h| (*h, "helper_ids")))
    {
        match shanzhi_store::department::get(&app.db, id).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(ApiError::not_found("department").with_field(field))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Makes a move on a record: the domain decides, the clock runs, everything is saved at once;
/// the departments named hear of it.
pub async fn act(
    app: &AppState,
    actor: &Actor,
    id: i64,
    action: &Action,
) -> Result<RiskRow, ApiError> {
    let (row, st) = visible(app, actor, id).await?;
    let t = transition(&st, action, actor).map_err(refusal)?;
    check_departments(app, action).await?;
    let now = app.clock.now_ms();
    let hours = match t.level.or(st.level) {
        Some(l) if t.start_clock => Some(deadline_hours(app, l).await?),
        _ => None,
    };
    let (after, mut writes) = apply(&row, action, &t, actor, hours, now);
    let params = json!({"risk_id": row.id, "number": row.number, "level": after.level, "action": action.name()});
    match action {
        Action::Assess { .. } | Action::Reassign { .. } | Action::Regrade { .. } => {
            let level = after
                .level
                .as_deref()
                .and_then(Level::parse)
                .map_or("", Level::zh);
            let mut told: Vec<i64> = after.lead_department_id.into_iter().collect();
            told.extend(after.helpers());
            for d in told {
                writes.notifications.push(NewNotification::to_department(
                    d,
                    "risk_assigned",
                    params.clone(),
                    format!(
                        "{level}风险 {}：{}，请按要求处置并每日报告进展",
                        row.number, row.title
                    ),
                ));
            }
        }
        Action::Finish { .. } => {
            for c in centres_of(&st.node) {
                writes.notifications.push(NewNotification::to_centre(
                    &c,
                    "risk_review",
                    params.clone(),
                    format!("风险 {} 已处置完毕，待评估销号", row.number),
                ));
            }
        }
        Action::Review { approve: false, .. } => {
            if let Some(d) = after.lead_department_id {
                writes.notifications.push(NewNotification::to_department(
                    d,
                    "risk_returned",
                    params.clone(),
                    format!("风险 {} 评估未通过，请继续处置", row.number),
                ));
            }
        }
        _ => {}
    }
    save(app, &row, &after, &writes, now).await?;
    Ok(shanzhi_store::risk::get(&app.db, id).await?)
}

async fn save(
    app: &AppState,
    before: &RiskRow,
    after: &RiskRow,
    writes: &MoveWrites,
    now: i64,
) -> Result<(), ApiError> {
    match shanzhi_store::risk::save_move(&app.db, before, after, writes, now).await {
        Ok(()) => {
            app.notices.announce(&writes.notifications);
            Ok(())
        }
        Err(StoreError::Stale) => Err(ApiError::conflict(
            Some("version"),
            "the risk was changed by someone else at the same moment; reload and try again",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The actions this actor could take on the record now (for clients to show the buttons).
pub fn allowed_actions(st: &RiskState, actor: &Actor) -> Vec<&'static str> {
    let other = if st.level == Some(Level::Blue) {
        Level::Red
    } else {
        Level::Blue
    };
    let lead = st.lead_department_id.unwrap_or(-1);
    let probes = [
        Action::Assess {
            level: Level::Red,
            lead_department_id: -2,
            helper_ids: vec![],
            measures: "x".into(),
        },
        Action::Dismiss { reason: "x".into() },
        Action::Report { text: "x".into() },
        Action::Regrade {
            level: other,
            reason: "x".into(),
        },
        Action::Reassign {
            lead_department_id: lead,
            helper_ids: vec![],
        },
        Action::Finish {
            summary: "x".into(),
        },
        Action::Review {
            approve: true,
            note: None,
        },
    ];
    probes
        .iter()
        .filter(|a| transition(st, a, actor).is_ok())
        .map(Action::name)
        .collect()
}

/// What the sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sweep {
    pub checked: usize,
    pub yellow: usize,
    pub red: usize,
    /// Missed daily reports found (department-days).
    pub lagging: usize,
}

/// The risks' sweep at `now`: lights (yellow: a reminder to the lead department; red: overdue
/// supervision to it and the centres), and each red or orange risk's daily report for every
/// working day since the last check (a missed one is a 督办 to the lead department and a row
/// on the daily board).
pub async fn sweep(app: &AppState, now: i64) -> Result<Sweep, ApiError> {
    crate::calendar::sweep(app, now).await
}

impl crate::calendar::Sweeper for Sweep {
    type Row = RiskRow;

    async fn due(app: &AppState, now: i64) -> Result<Vec<RiskRow>, ApiError> {
        Ok(shanzhi_store::risk::due_for_check(&app.db, now, 500).await?)
    }

    async fn check(
        &mut self,
        app: &AppState,
        cal: &WorkCalendar,
        now: i64,
        row: RiskRow,
    ) -> Result<(), ApiError> {
        sweep_one(app, cal, &row, now, self).await
    }

    fn checked(&mut self) -> &mut usize {
        &mut self.checked
    }
}

/// The days after `checked` (yyyymmdd) up to yesterday, at most [`MAX_LAG_DAYS`].
fn days_to_check(checked: Option<i64>, now: i64) -> Vec<NaiveDate> {
    let yesterday = local_date(now) - Duration::days(1);
    let first = checked
        .and_then(|d| NaiveDate::parse_from_str(&d.to_string(), "%Y%m%d").ok())
        .map(|d| d + Duration::days(1))
        .unwrap_or(yesterday)
        .max(yesterday - Duration::days(MAX_LAG_DAYS - 1));
    first.iter_days().take_while(|d| *d <= yesterday).collect()
}

async fn sweep_one(
    app: &AppState,
    cal: &WorkCalendar,
    row: &RiskRow,
    now: i64,
    out: &mut Sweep,
) -> Result<(), ApiError> {
    let mut a = row.clone();
    let mut writes = MoveWrites::default();
    let params = json!({"risk_id": row.id, "number": row.number, "level": row.level});
    let mut notes: Vec<String> = Vec::new();
    if row.state == State::Active.as_str() {
        if let (Some(start), Some(due)) = (row.started_at, row.due_at) {
            let light = light_at(start, due, now);
            if light != row.light {
                a.light = light.to_owned();
                let (kind, message) = match light {
                    "yellow" => {
                        out.yellow += 1;
                        (
                            "risk_due_soon",
                            format!("风险 {} 即将到期，请抓紧处置", row.number),
                        )
                    }
                    "red" => {
                        out.red += 1;
                        (
                            "risk_overdue",
                            format!("督办：风险 {} 已超过处置时限", row.number),
                        )
                    }
                    _ => ("", String::new()),
                };
                if !kind.is_empty() {
                    notes.push(format!("light {light}"));
                    if let Some(d) = row.lead_department_id {
                        writes.notifications.push(NewNotification::to_department(
                            d,
                            kind,
                            params.clone(),
                            message.clone(),
                        ));
                    }
                    if light == "red" {
                        let node = NodeCode::parse(&row.node_code).map_err(|_| bad(row, "node"))?;
                        for c in centres_of(&node) {
                            writes.notifications.push(NewNotification::to_centre(
                                &c,
                                kind,
                                params.clone(),
                                message.clone(),
                            ));
                        }
                    }
                }
            }
        }
        let daily = row
            .level
            .as_deref()
            .and_then(Level::parse)
            .is_some_and(Level::needs_daily_report);
        let days = days_to_check(row.report_checked_day, now);
        if let (true, Some(lead)) = (daily, row.lead_department_id) {
            for d in &days {
                if !cal.is_working_day(*d) {
                    continue;
                }
                let day = day_number(*d);
                if !shanzhi_store::risk::reported_on(&app.db, row.id, lead, day).await? {
                    writes.lags.push((lead, day));
                    out.lagging += 1;
                    writes.notifications.push(NewNotification::to_department(
                        lead,
                        "risk_lag",
                        json!({"risk_id": row.id, "number": row.number, "level": row.level, "day": day}),
                        format!("督办：风险 {} {} 未报送处置进展（日清日结）", row.number, d.format("%Y-%m-%d")),
                    ));
                }
            }
        }
        if let Some(last) = days.last() {
            a.report_checked_day = Some(day_number(*last).max(row.report_checked_day.unwrap_or(0)));
        }
    }
    a.next_check_at = next_check(&a, now);
    if !writes.lags.is_empty() {
        notes.push(format!(
            "no progress report on {}",
            writes
                .lags
                .iter()
                .map(|(_, d)| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !notes.is_empty() {
        writes.log = Some(log(
            None,
            "supervise",
            row,
            &a,
            Some(notes.join("; ")),
            json!({
                "light": a.light, "lagging_days": writes.lags.iter().map(|(_, d)| *d).collect::<Vec<_>>(),
            }),
        ));
        writes.audit = Some(
            AuditEntry::new(None, "risk.supervise", "risk", row.id.to_string())
                .before(json!({"light": row.light}))
                .after(json!({"light": a.light, "lagging_days": writes.lags.iter().map(|(_, d)| *d).collect::<Vec<_>>()})),
        );
    }
    save(app, row, &a, &writes, now).await
}

/// The clock fields of a record for the API.
pub fn clocks_json(row: &RiskRow, now: i64) -> Value {
    json!({
        "started_at": row.started_at, "due_at": row.due_at, "light": row.light,
        "remaining_ms": row.due_at.filter(|_| row.state == State::Active.as_str()).map(|d| d - now),
        "finished_at": row.finished_at, "on_time": row.on_time,
    })
}

/// Today's board's date range helper: yyyymmdd of `days` back from `now`'s day, and today.
pub fn day_range(now: i64, days: i64) -> (i64, i64) {
    let today = local_date(now);
    (
        day_number(today - Duration::days(days - 1)),
        day_number(today),
    )
}
