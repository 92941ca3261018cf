//! Consultations (协商议事): a village's topics, their comments, the meeting's record and the
//! outcome; each move on a timeline with its audit row.

use serde_json::{json, Value};
use shanzhi_domain::tree::subtree_end;

use crate::audit::AuditEntry;
use crate::event::LogEntry;
use crate::notification::NewNotification;
use crate::{Db, StoreError};

pub use crate::event::TimelineRow as LogRow;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Consultation {
    pub id: i64,
    pub node_code: String,
    pub title: String,
    pub body: String,
    pub state: String,
    pub opened_at: i64,
    pub created_by: i64,
    pub comments: i64,
    pub held_at: Option<i64>,
    pub place: Option<String>,
    pub attendees: Option<i64>,
    pub record: Option<String>,
    pub decision: Option<String>,
    pub outcome: Option<String>,
    pub concluded_at: Option<i64>,
    pub reason: Option<String>,
    pub version: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, node_code, title, body, state, opened_at, created_by, comments, held_at, \
     place, attendees, record, decision, outcome, concluded_at, reason, version, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Comment {
    pub id: i64,
    pub consultation_id: i64,
    pub author_id: i64,
    pub by_village: bool,
    pub text: String,
    pub at: i64,
}

/// Puts a topic to the village's residents.
pub async fn insert(
    db: &Db,
    node: &str,
    title: &str,
    body: &str,
    actor_id: i64,
    now: i64,
) -> Result<Consultation, StoreError> {
    let sql = format!(
        "INSERT INTO consultation (node_code, title, body, state, opened_at, created_by, updated_at) \
         VALUES ($1, $2, $3, 'open', $4, $5, $4) RETURNING {COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let row: Consultation = sqlx::query_as(&sql).bind(node).bind(title).bind(body).bind(now)
            .bind(actor_id).fetch_one(&mut *tx).await?;
        let log = LogEntry { actor_id: Some(actor_id), action: "open".into(), from_state: None,
            to_state: "open".into(), note: None, data: json!({}) };
        crate::write_log!(tx, "consultation_log", "consultation_id", row.id, &log, now);
        let audit = AuditEntry::new(Some(actor_id), "consultation.open", "consultation", row.id.to_string())
            .after(json!({"node": node, "title": title}));
        append_audit!(tx, &audit, now);
        row
    }))
}

/// Adds a comment if the topic is still open; counts it on the topic in the same transaction.
pub async fn comment(
    db: &Db,
    id: i64,
    author_id: i64,
    by_village: bool,
    text: &str,
    now: i64,
) -> Result<Comment, StoreError> {
    Ok(with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE consultation SET comments = comments + 1, updated_at = $1 WHERE id = $2 AND state = 'open'",
        ).bind(now).bind(id).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        let row: Comment = sqlx::query_as(
            "INSERT INTO consultation_comment (consultation_id, author_id, by_village, text, at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id, consultation_id, author_id, by_village, text, at",
        ).bind(id).bind(author_id).bind(by_village).bind(text).bind(now).fetch_one(&mut *tx).await?;
        let audit = AuditEntry::new(Some(author_id), "consultation.comment", "consultation", id.to_string())
            .after(json!({"comment_id": row.id}));
        append_audit!(tx, &audit, now);
        row
    }))
}

/// What a move on a topic writes besides its state.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub held_at: Option<i64>,
    pub place: Option<String>,
    pub attendees: Option<i64>,
    pub record: Option<String>,
    pub decision: Option<String>,
    pub outcome: Option<String>,
    pub reason: Option<String>,
}

/// Moves a topic from its state at `version` to `to`, writing `change`; commenters hear of an
/// outcome through `notes`.
#[allow(clippy::too_many_arguments)]
pub async fn moved(
    db: &Db,
    before: &Consultation,
    action: &str,
    to: &str,
    change: &Change,
    note: Option<&str>,
    actor_id: i64,
    notes: &[NewNotification],
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE consultation SET state = $1, held_at = COALESCE($2, held_at), place = COALESCE($3, place), \
             attendees = COALESCE($4, attendees), record = COALESCE($5, record), decision = COALESCE($6, decision), \
             outcome = COALESCE($7, outcome), reason = COALESCE($8, reason), \
             concluded_at = CASE WHEN $1 = 'concluded' THEN $9 ELSE concluded_at END, \
             updated_at = $9, version = version + 1 WHERE id = $10 AND version = $11 AND state = $12",
        ).bind(to).bind(change.held_at).bind(&change.place).bind(change.attendees).bind(&change.record)
        .bind(&change.decision).bind(&change.outcome).bind(&change.reason).bind(now).bind(before.id)
        .bind(before.version).bind(&before.state).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        let log = LogEntry { actor_id: Some(actor_id), action: action.into(), from_state: Some(before.state.clone()),
            to_state: to.into(), note: note.map(str::to_owned), data: json!({}) };
        crate::write_log!(tx, "consultation_log", "consultation_id", before.id, &log, now);
        write_notifications!(tx, None::<i64>, notes, now);
        let audit = AuditEntry::new(Some(actor_id), &format!("consultation.{action}"), "consultation", before.id.to_string())
            .before(json!({"state": before.state})).after(json!({"state": to}));
        append_audit!(tx, &audit, now);
    });
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<Consultation, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM consultation WHERE id = $1");
    let row: Option<Consultation> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    row.ok_or(StoreError::NotFound)
}

pub async fn timeline(db: &Db, id: i64) -> Result<Vec<LogRow>, StoreError> {
    crate::event::timeline_of(db, "consultation_log", "consultation_id", id).await
}

/// A topic's comments, oldest first.
pub async fn comments(db: &Db, id: i64) -> Result<Vec<Comment>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT id, consultation_id, author_id, by_village, text, at FROM consultation_comment \
         WHERE consultation_id = $1 ORDER BY id",
    ).bind(id).fetch_all(pool).await?))
}

/// How many comments the author left on the topic.
pub async fn comments_of(db: &Db, id: i64, author_id: i64) -> Result<i64, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM consultation_comment WHERE consultation_id = $1 AND author_id = $2",
    ).bind(id).bind(author_id).fetch_one(pool).await?))
}

/// The residents who commented on the topic (not the village's own comments).
pub async fn commenters(db: &Db, id: i64) -> Result<Vec<i64>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT DISTINCT author_id FROM consultation_comment WHERE consultation_id = $1 AND NOT by_village ORDER BY author_id",
    ).bind(id).fetch_all(pool).await?))
}

/// Which topics a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub under: String,
    /// Only these villages (a resident's).
    pub villages: Option<Vec<String>>,
    pub state: Option<String>,
    pub before: Option<i64>,
    pub limit: i64,
}

/// Topics newest first, `limit + 1` at most.
pub async fn list(db: &Db, f: &Filter) -> Result<Vec<Consultation>, StoreError> {
    let mut sql =
        format!("SELECT {COLUMNS} FROM consultation WHERE node_code >= $1 AND node_code < $2");
    let mut n = 2;
    if f.state.is_some() {
        n += 1;
        sql.push_str(&format!(" AND state = ${n}"));
    }
    if f.before.is_some() {
        n += 1;
        sql.push_str(&format!(" AND id < ${n}"));
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
        if let Some(s) = &f.state { q = q.bind(s); }
        if let Some(b) = f.before { q = q.bind(b); }
        for v in &villages { q = q.bind(v); }
        q.bind(f.limit + 1).fetch_all(pool).await?
    }))
}

/// Per village under `under`: (village, topics, open, held, concluded, comments).
pub async fn figures_by_village(
    db: &Db,
    under: &str,
) -> Result<Vec<(String, i64, i64, i64, i64, i64)>, StoreError> {
    let end = subtree_end(under);
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT node_code, CAST(SUM(CASE WHEN state <> 'withdrawn' THEN 1 ELSE 0 END) AS BIGINT), \
                CAST(SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END) AS BIGINT), \
                CAST(SUM(CASE WHEN state = 'held' THEN 1 ELSE 0 END) AS BIGINT), \
                CAST(SUM(CASE WHEN state = 'concluded' THEN 1 ELSE 0 END) AS BIGINT), \
                CAST(SUM(comments) AS BIGINT) \
         FROM consultation WHERE node_code >= $1 AND node_code < $2 GROUP BY node_code ORDER BY node_code",
    ).bind(under).bind(&end).fetch_all(pool).await?))
}

impl Consultation {
    /// As the village's residents read it.
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "node": self.node_code, "title": self.title, "body": self.body,
            "state": self.state, "opened_at": self.opened_at, "comments": self.comments,
            "meeting": self.held_at.map(|at| json!({"held_at": at, "place": self.place,
                "attendees": self.attendees, "record": self.record})),
            "decision": self.decision, "outcome": self.outcome, "concluded_at": self.concluded_at,
            "reason": self.reason, "version": self.version, "updated_at": self.updated_at})
    }
}

impl Comment {
    /// As the public reads it: the author is not named (`mine` says whether it is the reader's).
    pub fn public_json(&self, reader: i64) -> Value {
        json!({"id": self.id, "text": self.text, "at": self.at, "by_village": self.by_village,
            "mine": self.author_id == reader})
    }

    /// For staff: also who wrote it (by id).
    pub fn to_json(&self, reader: i64) -> Value {
        let mut v = self.public_json(reader);
        v["author_id"] = json!(self.author_id);
        v
    }
}
