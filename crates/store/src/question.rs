//! Villagers' questions on the books and the notices (我要监督): asked, answered, supervised at
//! the town when unanswered past due; each move on a timeline with its audit row.

use serde_json::{json, Value};
use shanzhi_domain::tree::subtree_end;

use crate::audit::AuditEntry;
use crate::event::LogEntry;
use crate::notification::NewNotification;
use crate::{Db, StoreError};

pub use crate::event::TimelineRow as LogRow;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Question {
    pub id: i64,
    pub node_code: String,
    pub subject: String,
    pub subject_id: i64,
    pub asked_by: i64,
    pub text: String,
    pub state: String,
    pub asked_at: i64,
    pub due_at: i64,
    pub supervised_at: Option<i64>,
    pub answer: Option<String>,
    pub answered_by: Option<i64>,
    pub answered_at: Option<i64>,
    pub next_check_at: Option<i64>,
    pub version: i64,
}

const COLUMNS: &str =
    "id, node_code, subject, subject_id, asked_by, text, state, asked_at, due_at, \
                       supervised_at, answer, answered_by, answered_at, next_check_at, version";

/// What a new question holds.
#[derive(Debug, Clone)]
pub struct Asked<'a> {
    pub node: &'a str,
    pub subject: &'a str,
    pub subject_id: i64,
    pub text: &'a str,
    pub due_at: i64,
}

/// Records a question; the village's centre hears of it.
pub async fn insert(
    db: &Db,
    q: &Asked<'_>,
    asker: i64,
    note: &NewNotification,
    now: i64,
) -> Result<Question, StoreError> {
    let sql = format!(
        "INSERT INTO question (node_code, subject, subject_id, asked_by, text, state, asked_at, due_at, next_check_at) \
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $7) RETURNING {COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let row: Question = sqlx::query_as(&sql).bind(q.node).bind(q.subject).bind(q.subject_id)
            .bind(asker).bind(q.text).bind(now).bind(q.due_at).fetch_one(&mut *tx).await?;
        let log = LogEntry { actor_id: Some(asker), action: "ask".into(), from_state: None,
            to_state: "open".into(), note: None, data: json!({"due_at": q.due_at}) };
        crate::write_log!(tx, "question_log", "question_id", row.id, &log, now);
        write_notifications!(tx, None::<i64>, std::slice::from_ref(note), now);
        let audit = AuditEntry::new(Some(asker), "question.ask", "question", row.id.to_string())
            .after(json!({"subject": q.subject, "subject_id": q.subject_id}));
        append_audit!(tx, &audit, now);
        row
    }))
}

/// Saves the answer if the question is still open at `version`; the asker hears of it.
#[allow(clippy::too_many_arguments)]
pub async fn answer(
    db: &Db,
    before: &Question,
    text: &str,
    late: bool,
    actor_id: i64,
    note: &NewNotification,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE question SET state = 'answered', answer = $1, answered_by = $2, answered_at = $3, \
             next_check_at = NULL, version = version + 1 WHERE id = $4 AND version = $5 AND state = 'open'",
        ).bind(text).bind(actor_id).bind(now).bind(before.id).bind(before.version)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        let log = LogEntry { actor_id: Some(actor_id), action: "answer".into(), from_state: Some("open".into()),
            to_state: "answered".into(), note: None, data: json!({"late": late}) };
        crate::write_log!(tx, "question_log", "question_id", before.id, &log, now);
        write_notifications!(tx, None::<i64>, std::slice::from_ref(note), now);
        let audit = AuditEntry::new(Some(actor_id), "question.answer", "question", before.id.to_string())
            .after(json!({"late": late}));
        append_audit!(tx, &audit, now);
    });
    Ok(())
}

/// Raises supervision on an unanswered question past due (the sweep), once: the town's centre
/// and the village's hear of it.
pub async fn supervise(
    db: &Db,
    before: &Question,
    notes: &[NewNotification],
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE question SET supervised_at = $1, next_check_at = NULL, version = version + 1 \
             WHERE id = $2 AND version = $3 AND state = 'open' AND supervised_at IS NULL",
        ).bind(now).bind(before.id).bind(before.version).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        let log = LogEntry { actor_id: None, action: "supervise".into(), from_state: Some("open".into()),
            to_state: "open".into(), note: Some("unanswered past due: supervision at the town (督办)".into()),
            data: json!({"due_at": before.due_at}) };
        crate::write_log!(tx, "question_log", "question_id", before.id, &log, now);
        write_notifications!(tx, None::<i64>, notes, now);
        let audit = AuditEntry::new(None, "question.supervise", "question", before.id.to_string())
            .after(json!({"due_at": before.due_at}));
        append_audit!(tx, &audit, now);
    });
    Ok(())
}

/// How many of the asker's questions wait for an answer.
pub async fn open_of(db: &Db, asker: i64) -> Result<i64, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM question WHERE asked_by = $1 AND state = 'open'",
    ).bind(asker).fetch_one(pool).await?))
}

/// Open questions whose check is due by `now`, oldest first.
pub async fn due_for_check(db: &Db, now: i64, limit: i64) -> Result<Vec<Question>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM question WHERE next_check_at IS NOT NULL AND next_check_at <= $1 \
         ORDER BY next_check_at LIMIT $2"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(now).bind(limit).fetch_all(pool).await?))
}

pub async fn get(db: &Db, id: i64) -> Result<Question, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM question WHERE id = $1");
    let row: Option<Question> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    row.ok_or(StoreError::NotFound)
}

pub async fn timeline(db: &Db, id: i64) -> Result<Vec<LogRow>, StoreError> {
    crate::event::timeline_of(db, "question_log", "question_id", id).await
}

/// Which questions a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub under: String,
    pub villages: Option<Vec<String>>,
    /// What they are about: a kind of subject, and one subject's id (none: all of the kind).
    pub subject: Option<(String, Option<i64>)>,
    pub state: Option<String>,
    /// Only those supervised (past due unanswered, or answered after supervision).
    pub supervised: Option<bool>,
    pub before: Option<i64>,
    pub limit: i64,
}

/// Questions newest first, `limit + 1` at most.
pub async fn list(db: &Db, f: &Filter) -> Result<Vec<Question>, StoreError> {
    let mut sql =
        format!("SELECT {COLUMNS} FROM question WHERE node_code >= $1 AND node_code < $2");
    let mut n = 2;
    let mut next = |sql: &mut String, cond: &str| {
        n += 1;
        sql.push_str(&cond.replace('?', &format!("${n}")));
    };
    if let Some((_, id)) = &f.subject {
        next(&mut sql, " AND subject = ?");
        if id.is_some() {
            next(&mut sql, " AND subject_id = ?");
        }
    }
    if f.state.is_some() {
        next(&mut sql, " AND state = ?");
    }
    match f.supervised {
        Some(true) => sql.push_str(" AND supervised_at IS NOT NULL"),
        Some(false) => sql.push_str(" AND supervised_at IS NULL"),
        None => {}
    }
    if f.before.is_some() {
        next(&mut sql, " AND id < ?");
    }
    let villages = f.villages.clone().unwrap_or_default();
    if f.villages.is_some() {
        sql.push_str(&crate::db::and_in("node_code", &mut n, villages.len()));
    }
    n += 1;
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${n}"));
    let end = subtree_end(&f.under);
    Ok(with_pool!(db, pool => {
        let mut q = sqlx::query_as(&sql).bind(&f.under).bind(&end);
        if let Some((s, id)) = &f.subject {
            q = q.bind(s);
            if let Some(id) = id {
                q = q.bind(id);
            }
        }
        if let Some(s) = &f.state { q = q.bind(s); }
        if let Some(b) = f.before { q = q.bind(b); }
        for v in &villages { q = q.bind(v); }
        q.bind(f.limit + 1).fetch_all(pool).await?
    }))
}

impl Question {
    /// As the public reads it: the asker is not named (`mine` says whether it is the reader's).
    pub fn public_json(&self, reader: Option<i64>) -> Value {
        json!({"id": self.id, "node": self.node_code, "subject": self.subject, "subject_id": self.subject_id,
            "text": self.text, "state": self.state, "asked_at": self.asked_at, "due_at": self.due_at,
            "supervised": self.supervised_at.is_some(), "answer": self.answer, "answered_at": self.answered_at,
            "on_time": self.answered_at.map(|a| a <= self.due_at),
            "mine": reader == Some(self.asked_by)})
    }

    /// For staff: also who asked (by id) and answered, and the version.
    pub fn to_json(&self) -> Value {
        let mut v = self.public_json(None);
        v["asked_by"] = json!(self.asked_by);
        v["answered_by"] = json!(self.answered_by);
        v["supervised_at"] = json!(self.supervised_at);
        v["version"] = json!(self.version);
        v.as_object_mut().map(|o| o.remove("mine"));
        v
    }
}

/// Per village under `under`: (village, asked, answered, answered on time, open, supervised).
pub async fn figures_by_village(
    db: &Db,
    under: &str,
) -> Result<Vec<(String, i64, i64, i64, i64, i64)>, StoreError> {
    let end = subtree_end(under);
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT node_code, CAST(COUNT(*) AS BIGINT), \
                CAST(SUM(CASE WHEN state = 'answered' THEN 1 ELSE 0 END) AS BIGINT), \
                CAST(SUM(CASE WHEN state = 'answered' AND answered_at <= due_at THEN 1 ELSE 0 END) AS BIGINT), \
                CAST(SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END) AS BIGINT), \
                CAST(SUM(CASE WHEN supervised_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) \
         FROM question WHERE node_code >= $1 AND node_code < $2 GROUP BY node_code ORDER BY node_code",
    ).bind(under).bind(&end).fetch_all(pool).await?))
}
