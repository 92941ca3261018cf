//! Risks and early warning (风险研判预警): rules, clues and risks (one record: a clue until the
//! joint assessment grades it), progress reports, missed daily reports, and the timeline. Every
//! change of a record is one transaction: the row (optimistic on `version`), its timeline line,
//! its counters (the tally moves by new − old measures, see
//! [`shanzhi_domain::risk::measures`]), notifications, a report or missed days, and the audit
//! row. A rule's clue is written only if the rule's mark for the subject moves to a window that
//! does not overlap the last one, in the same transaction, so one window raises one clue.

use serde_json::{json, Value};
use shanzhi_domain::risk::{measures, Facts, Level, State};
use shanzhi_domain::tree::{subtree_end, NodeCode};

use crate::audit::AuditEntry;
use crate::db::Insert;
use crate::event::{Bind, LogEntry};
use crate::notification::NewNotification;
use crate::tally::Tally;
use crate::{Db, StoreError};

/// The time to handle each level, in hours: (level, hours), most urgent first.
pub async fn deadlines(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT level, deadline_hours FROM risk_level_setting \
         ORDER BY CASE level WHEN 'red' THEN 0 WHEN 'orange' THEN 1 WHEN 'yellow' THEN 2 ELSE 3 END",
    ).fetch_all(pool).await?))
}

/// Sets the time to handle `level`.
pub async fn set_deadline(
    db: &Db,
    level: Level,
    hours: i64,
    actor: i64,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let before: i64 = sqlx::query_scalar("SELECT deadline_hours FROM risk_level_setting WHERE level = $1")
            .bind(level.as_str()).fetch_one(&mut *tx).await?;
        sqlx::query("UPDATE risk_level_setting SET deadline_hours = $1, updated_at = $2 WHERE level = $3")
            .bind(hours).bind(now).bind(level.as_str()).execute(&mut *tx).await?;
        let entry = AuditEntry::new(Some(actor), "risk_level.update", "risk_level", level.as_str().to_owned())
            .before(json!({"deadline_hours": before})).after(json!({"deadline_hours": hours}));
        append_audit!(tx, &entry, now);
    });
    Ok(())
}

/// A rule as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RuleRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub params: String,
    pub node_code: String,
    pub risk_type: String,
    pub enabled: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const RULE_COLUMNS: &str =
    "id, name, kind, params, node_code, risk_type, enabled, version, created_at, updated_at";

impl RuleRow {
    /// For the API.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "kind": self.kind,
            "params": serde_json::from_str::<Value>(&self.params).unwrap_or(Value::Null),
            "node_code": self.node_code, "risk_type": self.risk_type, "enabled": self.enabled,
            "version": self.version, "created_at": self.created_at, "updated_at": self.updated_at,
        })
    }
}

/// Every rule, by id.
pub async fn rules(db: &Db) -> Result<Vec<RuleRow>, StoreError> {
    let sql = format!("SELECT {RULE_COLUMNS} FROM risk_rule ORDER BY id");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?))
}

/// One rule (`NotFound` if none).
pub async fn rule(db: &Db, id: i64) -> Result<RuleRow, StoreError> {
    let sql = format!("SELECT {RULE_COLUMNS} FROM risk_rule WHERE id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// A rule to add or the new values of one.
#[derive(Debug, Clone)]
pub struct RuleValues {
    pub name: String,
    pub kind: String,
    pub params: Value,
    pub node_code: String,
    pub risk_type: String,
    pub enabled: bool,
}

impl RuleValues {
    fn to_json(&self) -> Value {
        json!({"name": self.name, "kind": self.kind, "params": self.params, "node_code": self.node_code,
               "risk_type": self.risk_type, "enabled": self.enabled})
    }
}

/// Adds a rule; answers its id.
pub async fn add_rule(db: &Db, r: &RuleValues, actor: i64, now: i64) -> Result<i64, StoreError> {
    Ok(with_tx!(db, tx => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO risk_rule (name, kind, params, node_code, risk_type, enabled, version, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $8) RETURNING id",
        )
        .bind(&r.name).bind(&r.kind).bind(r.params.to_string()).bind(&r.node_code).bind(&r.risk_type)
        .bind(r.enabled).bind(actor).bind(now)
        .fetch_one(&mut *tx).await?;
        let entry = AuditEntry::new(Some(actor), "risk_rule.create", "risk_rule", id.to_string()).after(r.to_json());
        append_audit!(tx, &entry, now);
        id
    }))
}

/// Changes a rule read at `version` (`Stale` if someone changed it since).
pub async fn update_rule(
    db: &Db,
    before: &RuleRow,
    r: &RuleValues,
    actor: i64,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE risk_rule SET name = $1, kind = $2, params = $3, node_code = $4, risk_type = $5, enabled = $6, \
             version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9",
        )
        .bind(&r.name).bind(&r.kind).bind(r.params.to_string()).bind(&r.node_code).bind(&r.risk_type)
        .bind(r.enabled).bind(now).bind(before.id).bind(before.version)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        let entry = AuditEntry::new(Some(actor), "risk_rule.update", "risk_rule", before.id.to_string())
            .before(before.to_json()).after(r.to_json());
        append_audit!(tx, &entry, now);
    });
    Ok(())
}

/// A clue or a risk as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RiskRow {
    pub id: i64,
    pub number: String,
    pub node_code: String,
    pub type_code: String,
    pub source: String,
    pub title: String,
    pub detail: Option<String>,
    pub rule_id: Option<i64>,
    pub event_id: Option<i64>,
    pub dispute_id: Option<i64>,
    pub state: String,
    pub level: Option<String>,
    pub lead_department_id: Option<i64>,
    pub helper_ids: String,
    pub measures: Option<String>,
    pub assessed_at: Option<i64>,
    pub started_at: Option<i64>,
    pub due_at: Option<i64>,
    pub light: String,
    pub next_check_at: Option<i64>,
    pub report_checked_day: Option<i64>,
    pub last_report_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub on_time: Option<bool>,
    pub closed_at: Option<i64>,
    pub version: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, number, node_code, type_code, source, title, detail, rule_id, event_id, dispute_id, state, level, \
    lead_department_id, helper_ids, measures, assessed_at, started_at, due_at, light, next_check_at, report_checked_day, \
    last_report_at, finished_at, on_time, closed_at, version, created_by, created_at, updated_at";

impl RiskRow {
    /// A new clue's row (id and number are set on insert).
    pub fn clue(
        node_code: &str,
        type_code: &str,
        source: &str,
        title: String,
        now: i64,
    ) -> RiskRow {
        RiskRow {
            id: 0,
            number: String::new(),
            node_code: node_code.to_owned(),
            type_code: type_code.to_owned(),
            source: source.to_owned(),
            title,
            detail: None,
            rule_id: None,
            event_id: None,
            dispute_id: None,
            state: State::Clue.as_str().to_owned(),
            level: None,
            lead_department_id: None,
            helper_ids: "[]".into(),
            measures: None,
            assessed_at: None,
            started_at: None,
            due_at: None,
            light: "green".into(),
            next_check_at: None,
            report_checked_day: None,
            last_report_at: None,
            finished_at: None,
            on_time: None,
            closed_at: None,
            version: 1,
            created_by: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// The helper departments.
    pub fn helpers(&self) -> Vec<i64> {
        serde_json::from_str(&self.helper_ids).unwrap_or_default()
    }

    fn bad(&self, what: &str) -> StoreError {
        StoreError::Other(anyhow::anyhow!("risk {}: bad {what}", self.id))
    }

    fn facts(&self) -> Result<Facts, StoreError> {
        Ok(Facts {
            state: State::parse(&self.state).ok_or_else(|| self.bad("state"))?,
            level: match &self.level {
                Some(l) => Some(Level::parse(l).ok_or_else(|| self.bad("level"))?),
                None => None,
            },
            on_time: self.on_time,
            rule_raised: self.rule_id.is_some(),
        })
    }

    /// Adds `sign` × this record's measures to `t`, at its node, by level, type and source.
    pub fn count(&self, t: &mut Tally, sign: i64) -> Result<(), StoreError> {
        let node = NodeCode::parse(&self.node_code).map_err(|_| self.bad("node"))?;
        let facts = self.facts()?;
        for m in measures(&facts) {
            t.add(&node, "risk", m, sign);
            if let Some(l) = facts.level {
                t.add(&node, "risk_level", &format!("{}|{m}", l.as_str()), sign);
            }
            t.add(&node, "risk_type", &format!("{}|{m}", self.type_code), sign);
            t.add(&node, "risk_source", &format!("{}|{m}", self.source), sign);
        }
        Ok(())
    }
}

/// The window a rule's clue covers, for the rule's mark: (rule, subject, first day, last day),
/// days as yyyymmdd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub rule_id: i64,
    pub subject: String,
    pub window_start: i64,
    pub window_end: i64,
}

/// A clue to raise.
#[derive(Debug, Clone)]
pub struct NewClue {
    pub row: RiskRow,
    /// Raised by a rule: written only if the rule's last window for the subject ended before
    /// this one starts.
    pub mark: Option<Mark>,
    pub log: LogEntry,
    pub notifications: Vec<NewNotification>,
}

/// Raises a clue; answers its id, or `None` when a rule already raised one for an overlapping
/// window of the same subject.
pub async fn raise(db: &Db, c: &NewClue, now: i64) -> Result<Option<i64>, StoreError> {
    if let Some(m) = &c.mark {
        // A rule that keeps firing (a burst, a citizen who reports again and again) finds its
        // clue raised on almost every call: a read answers those without queueing for the
        // writer. The write below checks again, so two raises at once still make one clue.
        let last: Option<i64> = with_pool!(db, pool => sqlx::query_scalar(
            "SELECT window_end FROM risk_rule_mark WHERE rule_id = $1 AND subject = $2",
        )
        .bind(m.rule_id).bind(&m.subject).fetch_optional(pool).await?);
        if last.is_some_and(|end| end >= m.window_start) {
            return Ok(None);
        }
    }
    Ok(with_tx!(db, tx => {
        let fresh = match &c.mark {
            None => true,
            Some(m) => sqlx::query(
                "INSERT INTO risk_rule_mark (rule_id, subject, window_start, window_end) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (rule_id, subject) DO UPDATE SET window_start = excluded.window_start, \
                 window_end = excluded.window_end WHERE risk_rule_mark.window_end < excluded.window_start",
            )
            .bind(m.rule_id).bind(&m.subject).bind(m.window_start).bind(m.window_end)
            .execute(&mut *tx).await?.rows_affected() == 1,
        };
        if !fresh {
            None
        } else {
            let r = &c.row;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO risk (number, node_code, type_code, source, title, detail, rule_id, event_id, dispute_id, state, \
                 helper_ids, light, version, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '[]', 'green', 1, $11, $12, $12) RETURNING id",
            )
            .bind(format!("pending-{now}-{}", r.title.len())).bind(&r.node_code).bind(&r.type_code).bind(&r.source)
            .bind(&r.title).bind(&r.detail).bind(r.rule_id).bind(r.event_id).bind(r.dispute_id).bind(&r.state)
            .bind(r.created_by).bind(now)
            .fetch_one(&mut *tx).await?;
            let number = number_of(id, now);
            sqlx::query("UPDATE risk SET number = $1 WHERE id = $2").bind(&number).bind(id).execute(&mut *tx).await?;
            crate::write_log!(tx, "risk_log", "risk_id", id, &c.log, now);
            let mut t = Tally::new();
            let stored = RiskRow { id, number: number.clone(), ..r.clone() };
            stored.count(&mut t, 1)?;
            write_tally!(tx, &t);
            let notifications: Vec<NewNotification> = c.notifications.iter().cloned().map(|mut n| {
                if let Value::Object(m) = &mut n.params {
                    m.insert("risk_id".into(), json!(id));
                    m.insert("number".into(), json!(number));
                }
                n
            }).collect();
            write_notifications!(tx, r.event_id, &notifications, now);
            let entry = AuditEntry::new(c.log.actor_id, "risk.create", "risk", id.to_string()).after(json!({
                "number": number, "node": r.node_code, "type": r.type_code, "source": r.source, "title": r.title,
                "rule_id": r.rule_id, "event_id": r.event_id, "dispute_id": r.dispute_id,
                "window": c.mark.as_ref().map(|m| json!({"subject": m.subject, "from": m.window_start, "to": m.window_end})),
            }));
            append_audit!(tx, &entry, now);
            Some(id)
        }
    }))
}

/// The record number: the year (UTC+8) and the id, `FX2026-000123` (风险).
fn number_of(id: i64, now: i64) -> String {
    let year = shanzhi_domain::calendar::local_date(now).format("%Y");
    format!("FX{year}-{id:06}")
}

/// One record (`NotFound` if none).
pub async fn get(db: &Db, id: i64) -> Result<RiskRow, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM risk WHERE id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// A progress report to store with a move.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub department_id: Option<i64>,
    pub actor_id: i64,
    pub day: i64,
    pub text: String,
}

/// Everything a move writes besides the record's row.
#[derive(Debug, Clone, Default)]
pub struct MoveWrites {
    pub log: Option<LogEntry>,
    pub notifications: Vec<NewNotification>,
    pub audit: Option<AuditEntry>,
    pub report: Option<NewReport>,
    /// Missed daily reports found by the sweep: (department, day).
    pub lags: Vec<(i64, i64)>,
}

/// Saves a move: `after` if nobody changed the record since `before` was read (else `Stale`),
/// with the timeline line, the counters moved by (after − before), notifications, a progress
/// report, missed days, and the audit row.
pub async fn save_move(
    db: &Db,
    before: &RiskRow,
    after: &RiskRow,
    writes: &MoveWrites,
    now: i64,
) -> Result<(), StoreError> {
    let mut t = Tally::new();
    before.count(&mut t, -1)?;
    after.count(&mut t, 1)?;
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE risk SET state = $1, level = $2, lead_department_id = $3, helper_ids = $4, measures = $5, assessed_at = $6, \
             started_at = $7, due_at = $8, light = $9, next_check_at = $10, report_checked_day = $11, last_report_at = $12, \
             finished_at = $13, on_time = $14, closed_at = $15, updated_at = $16, version = version + 1 \
             WHERE id = $17 AND version = $18",
        )
        .bind(&after.state).bind(&after.level).bind(after.lead_department_id).bind(&after.helper_ids).bind(&after.measures)
        .bind(after.assessed_at).bind(after.started_at).bind(after.due_at).bind(&after.light).bind(after.next_check_at)
        .bind(after.report_checked_day).bind(after.last_report_at).bind(after.finished_at).bind(after.on_time)
        .bind(after.closed_at).bind(now).bind(after.id).bind(before.version)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        if let Some(log) = &writes.log {
            crate::write_log!(tx, "risk_log", "risk_id", after.id, log, now);
        }
        write_tally!(tx, &t);
        write_notifications!(tx, after.event_id, &writes.notifications, now);
        if let Some(r) = &writes.report {
            sqlx::query("INSERT INTO risk_report (risk_id, department_id, actor_id, day, at, text) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(after.id).bind(r.department_id).bind(r.actor_id).bind(r.day).bind(now).bind(&r.text)
                .execute(&mut *tx).await?;
        }
        for (department, day) in &writes.lags {
            sqlx::query("INSERT INTO risk_lag (risk_id, department_id, day, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(after.id).bind(department).bind(day).bind(now).execute(&mut *tx).await?;
        }
        if let Some(a) = &writes.audit {
            append_audit!(tx, a, now);
        }
    });
    Ok(())
}

/// A record of a generated history (the demo's year), walked in memory: its row as it stands
/// at the end (id and number are given here), its timeline lines, progress reports and missed
/// days `(department, day)`, each with the instant it was written.
#[derive(Debug, Clone)]
pub struct HistoryRisk {
    pub row: RiskRow,
    pub log: Vec<(LogEntry, i64)>,
    pub reports: Vec<(NewReport, i64)>,
    pub lags: Vec<((i64, i64), i64)>,
}

/// Records written per transaction by [`insert_history`].
const HISTORY_RECORDS_PER_TRANSACTION: usize = 2_000;

/// Writes a generated history of records in multi-row inserts, with the counters of their
/// final rows (the tally a record moved through [`raise`] and [`save_move`] ends with) and one
/// audit row (`demo.history`, entity `risk`) for the whole load. Ids follow the largest one
/// stored, in the order given; numbers are made from them as [`raise`] makes them. Answers
/// the ids.
///
/// Records go in 2,000 to a transaction: a failure part-way leaves the earlier ones written
/// (the demo builds into a fresh database, and rebuilds it on the next run).
pub async fn insert_history(db: &Db, records: &[HistoryRisk]) -> Result<Vec<i64>, StoreError> {
    let columns: Vec<&str> = COLUMNS.split(',').map(str::trim).collect();
    const REPORT: [&str; 6] = ["risk_id", "department_id", "actor_id", "day", "at", "text"];
    const LAG: [&str; 4] = ["risk_id", "department_id", "day", "at"];
    let base = crate::history::largest_id(db, "risk").await?;
    let rows: Vec<RiskRow> = records
        .iter()
        .zip(base + 1..)
        .map(|(c, id)| RiskRow {
            id,
            number: number_of(id, c.row.created_at),
            ..c.row.clone()
        })
        .collect();
    let record_insert = Insert::new(db, "risk", &columns, "");
    let report_insert = Insert::new(db, "risk_report", &REPORT, "");
    let lag_insert = Insert::new(db, "risk_lag", &LAG, " ON CONFLICT DO NOTHING");
    for (batch, rows) in records
        .chunks(HISTORY_RECORDS_PER_TRANSACTION)
        .zip(rows.chunks(HISTORY_RECORDS_PER_TRANSACTION))
    {
        let lines: Vec<(i64, &LogEntry, i64)> = batch
            .iter()
            .zip(rows)
            .flat_map(|(c, r)| c.log.iter().map(move |(l, at)| (r.id, l, *at)))
            .collect();
        let reports: Vec<(i64, &NewReport, i64)> = batch
            .iter()
            .zip(rows)
            .flat_map(|(c, r)| c.reports.iter().map(move |(p, at)| (r.id, p, *at)))
            .collect();
        let lags: Vec<(i64, (i64, i64), i64)> = batch
            .iter()
            .zip(rows)
            .flat_map(|(c, r)| c.lags.iter().map(move |(l, at)| (r.id, *l, *at)))
            .collect();
        let mut t = Tally::new();
        for r in rows {
            r.count(&mut t, 1)?;
        }
        with_tx!(db, tx => {
            insert_rows!(tx, &record_insert, rows, |q, r| q
                .bind(r.id).bind(&r.number).bind(&r.node_code).bind(&r.type_code).bind(&r.source).bind(&r.title)
                .bind(&r.detail).bind(r.rule_id).bind(r.event_id).bind(r.dispute_id).bind(&r.state).bind(&r.level)
                .bind(r.lead_department_id).bind(&r.helper_ids).bind(&r.measures).bind(r.assessed_at).bind(r.started_at)
                .bind(r.due_at).bind(&r.light).bind(r.next_check_at).bind(r.report_checked_day).bind(r.last_report_at)
                .bind(r.finished_at).bind(r.on_time).bind(r.closed_at).bind(r.version).bind(r.created_by)
                .bind(r.created_at).bind(r.updated_at));
            crate::write_log_lines!(tx, db, "risk_log", "risk_id", &lines);
            insert_rows!(tx, &report_insert, reports, |q, (id, p, at)| q
                .bind(*id).bind(p.department_id).bind(p.actor_id).bind(p.day).bind(*at).bind(&p.text));
            insert_rows!(tx, &lag_insert, lags, |q, (id, (department, day), at)| q
                .bind(*id).bind(*department).bind(*day).bind(*at));
            write_tally!(tx, &t);
        });
    }
    crate::history::follow_ids(db, "risk").await?;
    let lines: usize = records.iter().map(|c| c.log.len()).sum();
    let latest = records
        .iter()
        .flat_map(|c| c.log.iter().map(|(_, at)| *at))
        .max()
        .unwrap_or(0);
    crate::history::audit_load(
        db,
        "risk",
        json!({"records": records.len(), "lines": lines}),
        latest,
    )
    .await?;
    Ok(rows.iter().map(|r| r.id).collect())
}

/// A timeline line as stored.
pub use crate::event::TimelineRow as LogRow;

/// The timeline of a record, oldest first.
pub async fn timeline(db: &Db, id: i64) -> Result<Vec<LogRow>, StoreError> {
    crate::event::timeline_of(db, "risk_log", "risk_id", id).await
}

/// A progress report as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub id: i64,
    pub department_id: Option<i64>,
    pub actor_id: i64,
    pub day: i64,
    pub at: i64,
    pub text: String,
}

/// The progress reports of a record, oldest first.
pub async fn reports(db: &Db, id: i64) -> Result<Vec<ReportRow>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT id, department_id, actor_id, day, at, text FROM risk_report WHERE risk_id = $1 ORDER BY id",
    ).bind(id).fetch_all(pool).await?))
}

/// Did `department` report on the record on `day`?
pub async fn reported_on(db: &Db, id: i64, department: i64, day: i64) -> Result<bool, StoreError> {
    let n: i64 = with_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM risk_report WHERE risk_id = $1 AND day = $2 AND department_id = $3",
    ).bind(id).bind(day).bind(department).fetch_one(pool).await?);
    Ok(n > 0)
}

/// The days a record's departments missed their report: (department, day), newest first.
pub async fn lags_of(db: &Db, id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT department_id, day FROM risk_lag WHERE risk_id = $1 ORDER BY day DESC, department_id",
    ).bind(id).fetch_all(pool).await?))
}

/// Which records to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Records under this node path.
    pub under: Option<String>,
    /// Or (a handler): records whose lead or helpers include this department.
    pub department_id: Option<i64>,
    pub state: Option<String>,
    pub level: Option<String>,
    pub type_code: Option<String>,
    pub source: Option<String>,
    /// Open ones only (clue, active, review).
    pub open: bool,
    /// Ids below this one (pages go newest first).
    pub before: Option<i64>,
    pub limit: i64,
}

/// Records matching the filter, newest first.
pub async fn list(db: &Db, f: &Filter) -> Result<Vec<RiskRow>, StoreError> {
    let mut cond: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let mut p = |b: Bind| -> String {
        binds.push(b);
        format!("${}", binds.len())
    };
    if let Some(u) = &f.under {
        let (a, b) = (p(Bind::Text(u.clone())), p(Bind::Text(subtree_end(u))));
        cond.push(format!("node_code >= {a} AND node_code < {b}"));
    }
    if let Some(d) = f.department_id {
        let a = p(Bind::Int(d));
        let pattern = p(Bind::Text(format!("%,{d},%")));
        cond.push(format!(
            "(lead_department_id = {a} OR (',' || replace(replace(replace(helper_ids, '[', ''), ']', ''), ' ', '') || ',') LIKE {pattern})"
        ));
    }
    for (col, v) in [
        ("state", &f.state),
        ("level", &f.level),
        ("type_code", &f.type_code),
        ("source", &f.source),
    ] {
        if let Some(v) = v {
            let a = p(Bind::Text(v.clone()));
            cond.push(format!("{col} = {a}"));
        }
    }
    if f.open {
        cond.push("state IN ('clue', 'active', 'review')".into());
    }
    if let Some(before) = f.before {
        let a = p(Bind::Int(before));
        cond.push(format!("id < {a}"));
    }
    let lim = p(Bind::Int(f.limit));
    let cond = if cond.is_empty() {
        "TRUE".to_owned()
    } else {
        cond.join(" AND ")
    };
    let sql = format!("SELECT {COLUMNS} FROM risk WHERE {cond} ORDER BY id DESC LIMIT {lim}");
    Ok(
        with_pool!(db, pool => bind_all!(sqlx::query_as::<_, RiskRow>(&sql), &binds).fetch_all(pool).await?),
    )
}

/// Records whose clock or daily report the sweep must look at by `now`.
pub async fn due_for_check(db: &Db, now: i64, limit: i64) -> Result<Vec<RiskRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM risk WHERE next_check_at IS NOT NULL AND next_check_at <= $1 ORDER BY next_check_at LIMIT $2"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(now).bind(limit).fetch_all(pool).await?))
}

/// The counts of every record under `path`, computed from the rows (a recount of the counters,
/// for checks and tests).
pub async fn recount(db: &Db, path: &str) -> Result<Tally, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM risk WHERE node_code >= $1 AND node_code < $2");
    let rows: Vec<RiskRow> = with_pool!(db, pool => sqlx::query_as(&sql)
        .bind(path).bind(subtree_end(path)).fetch_all(pool).await?);
    let mut t = Tally::new();
    for r in &rows {
        r.count(&mut t, 1)?;
    }
    Ok(t)
}

/// Missed daily reports per department on days `from..=to` (yyyymmdd) of records under `path`:
/// (department id, missed days, records), most missed first.
pub async fn lag_board(
    db: &Db,
    path: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT l.department_id, COUNT(*) AS days, COUNT(DISTINCT l.risk_id) AS risks FROM risk_lag l \
         JOIN risk r ON r.id = l.risk_id \
         WHERE l.day >= $1 AND l.day <= $2 AND r.node_code >= $3 AND r.node_code < $4 \
         GROUP BY l.department_id ORDER BY days DESC, risks DESC, l.department_id LIMIT 100",
    ).bind(from).bind(to).bind(path).bind(subtree_end(path)).fetch_all(pool).await?))
}

/// `dim_id IN (…)` of whole numbers only (category ids).
fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "NULL".into();
    }
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Events of some categories (a category and its children) reported in one grid on days
/// `from..=to` (yyyymmdd), from the counters (indexed ranges of `event_stat`) and the deltas
/// not yet folded into them (`stat_journal`, the grid and the grids below it), read in one
/// statement so that a fold running meanwhile is seen whole or not at all. Not a fold: the
/// rules ask this after every report, and a fold per report would undo the batching.
pub async fn grid_category_count(
    db: &Db,
    grid: &str,
    category_ids: &[i64],
    from: i64,
    to: i64,
) -> Result<i64, StoreError> {
    let ids = id_list(category_ids);
    let sql = format!(
        "SELECT CAST(SUM(n) AS BIGINT) FROM (\
         SELECT reported AS n FROM event_stat WHERE node_path = $1 AND dim = 'category' \
         AND dim_id IN ({ids}) AND day >= $2 AND day <= $3 \
         UNION ALL SELECT reported AS n FROM stat_journal WHERE grid_code >= $1 AND grid_code < $4 \
         AND day >= $2 AND day <= $3 AND category_id IN ({ids})) s"
    );
    let n: Option<i64> = with_pool!(db, pool => sqlx::query_scalar(&sql)
        .bind(grid).bind(from).bind(to).bind(subtree_end(grid)).fetch_one(pool).await?);
    Ok(n.unwrap_or(0))
}

/// Grids under `path` with at least `min` events of some categories on days `from..=to`, from
/// the counters: (grid code, events).
pub async fn grids_over(
    db: &Db,
    path: &str,
    category_ids: &[i64],
    from: i64,
    to: i64,
    min: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    crate::event::fold_stats(db).await?;
    let sql = format!(
        "SELECT node_path, CAST(SUM(reported) AS BIGINT) AS n FROM event_stat \
         WHERE node_path >= $1 AND node_path < $2 AND length(node_path) > 12 AND dim = 'category' AND dim_id IN ({}) \
         AND day >= $3 AND day <= $4 GROUP BY node_path HAVING SUM(reported) >= $5 ORDER BY node_path LIMIT 1000",
        id_list(category_ids)
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql)
        .bind(path).bind(subtree_end(path)).bind(from).bind(to).bind(min).fetch_all(pool).await?))
}

/// Reports by one person since `since` (ms), counting at most `cap`.
pub async fn reports_by(db: &Db, user_id: i64, since: i64, cap: i64) -> Result<i64, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM event WHERE reporter_id = $1 AND created_at >= $2 LIMIT $3) x",
    ).bind(user_id).bind(since).bind(cap).fetch_one(pool).await?))
}

/// Citizens with at least `min` reports since `since` (ms): (user, reports, their latest
/// report). Reads the window's events by their time (`event_created_idx`).
pub async fn repeat_reporters(
    db: &Db,
    since: i64,
    min: i64,
) -> Result<Vec<(i64, i64, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT reporter_id, CAST(COUNT(*) AS BIGINT), MAX(id) FROM event \
         WHERE created_at >= $1 AND source = 'citizen' AND reporter_id IS NOT NULL \
         GROUP BY reporter_id HAVING COUNT(*) >= $2 ORDER BY reporter_id",
    ).bind(since).bind(min).fetch_all(pool).await?))
}

/// Disputes of one type taken in under `path` in `[from, to)` (ms).
pub async fn disputes_of_type(
    db: &Db,
    path: &str,
    type_code: &str,
    from: i64,
    to: i64,
) -> Result<i64, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM dispute WHERE type_code = $1 AND created_at >= $2 AND created_at < $3 \
         AND node_code >= $4 AND node_code < $5",
    ).bind(type_code).bind(from).bind(to).bind(path).bind(subtree_end(path)).fetch_one(pool).await?))
}
