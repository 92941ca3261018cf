//! Legislative-opinion collection (立法意见征集): drafts with their numbered articles, the
//! residents' opinions, and the collector's marks; each move on the draft's timeline with its
//! audit row.

use serde_json::{json, Value};
use shanzhi_domain::tree::subtree_end;

use crate::audit::AuditEntry;
use crate::event::LogEntry;
use crate::notification::NewNotification;
use crate::{Db, StoreError};

pub use crate::event::TimelineRow as LogRow;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Draft {
    pub id: i64,
    pub node_code: String,
    pub title: String,
    pub issuer: String,
    pub summary: Option<String>,
    pub articles: i64,
    pub closes_at: i64,
    pub state: String,
    pub created_by: i64,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub done_at: Option<i64>,
    pub version: i64,
}

const DRAFT_COLUMNS: &str = "id, node_code, title, issuer, summary, articles, closes_at, state, \
     created_by, opened_at, closed_at, done_at, version";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Opinion {
    pub id: i64,
    pub draft_id: i64,
    pub article: i64,
    pub author_id: i64,
    pub node_code: String,
    pub text: String,
    pub verdict: String,
    pub reason: Option<String>,
    pub marked_by: Option<i64>,
    pub marked_at: Option<i64>,
    pub given_at: i64,
    pub version: i64,
}

const OPINION_COLUMNS: &str =
    "id, draft_id, article, author_id, node_code, text, verdict, reason, \
     marked_by, marked_at, given_at, version";

/// What a new draft holds (checked by the domain).
#[derive(Debug, Clone)]
pub struct NewDraft<'a> {
    pub node: &'a str,
    pub title: &'a str,
    pub issuer: &'a str,
    pub summary: Option<&'a str>,
    pub articles: &'a [String],
    pub closes_at: i64,
}

/// Puts a draft out for opinions, with its articles numbered from 1.
pub async fn insert(
    db: &Db,
    d: &NewDraft<'_>,
    actor_id: i64,
    now: i64,
) -> Result<Draft, StoreError> {
    let sql = format!(
        "INSERT INTO draft_law (node_code, title, issuer, summary, articles, closes_at, state, created_by, opened_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8) RETURNING {DRAFT_COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let row: Draft = sqlx::query_as(&sql).bind(d.node).bind(d.title).bind(d.issuer).bind(d.summary)
            .bind(d.articles.len() as i64).bind(d.closes_at).bind(actor_id).bind(now)
            .fetch_one(&mut *tx).await?;
        for (i, text) in d.articles.iter().enumerate() {
            sqlx::query("INSERT INTO draft_article (draft_id, number, text) VALUES ($1, $2, $3)")
                .bind(row.id).bind(i as i64 + 1).bind(text).execute(&mut *tx).await?;
        }
        let log = LogEntry { actor_id: Some(actor_id), action: "open".into(), from_state: None,
            to_state: "open".into(), note: None, data: json!({"articles": d.articles.len(), "closes_at": d.closes_at}) };
        crate::write_log!(tx, "draft_law_log", "draft_id", row.id, &log, now);
        let audit = AuditEntry::new(Some(actor_id), "draft.open", "draft", row.id.to_string())
            .after(json!({"node": d.node, "title": d.title, "articles": d.articles.len()}));
        append_audit!(tx, &audit, now);
        row
    }))
}

/// Records an opinion if the draft is still open and its collection not over at `now`.
pub async fn give(
    db: &Db,
    draft: &Draft,
    article: i64,
    author_id: i64,
    village: &str,
    text: &str,
    now: i64,
) -> Result<Opinion, StoreError> {
    let sql = format!(
        "INSERT INTO opinion (draft_id, article, author_id, node_code, text, verdict, given_at) \
         SELECT $1, $2, $3, $4, $5, 'received', $6 WHERE EXISTS \
           (SELECT 1 FROM draft_law WHERE id = $1 AND state = 'open' AND closes_at > $6) \
         RETURNING {OPINION_COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let row: Option<Opinion> = sqlx::query_as(&sql).bind(draft.id).bind(article).bind(author_id)
            .bind(village).bind(text).bind(now).fetch_optional(&mut *tx).await?;
        let Some(row) = row else { return Err(StoreError::Stale) };
        let audit = AuditEntry::new(Some(author_id), "opinion.give", "draft", draft.id.to_string())
            .after(json!({"opinion_id": row.id, "article": article}));
        append_audit!(tx, &audit, now);
        row
    }))
}

/// Moves the draft from its state at `version` to `to` (close, finish).
pub async fn moved(
    db: &Db,
    before: &Draft,
    action: &str,
    to: &str,
    actor_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE draft_law SET state = $1, closed_at = CASE WHEN $1 = 'closed' THEN $2 ELSE closed_at END, \
             done_at = CASE WHEN $1 = 'done' THEN $2 ELSE done_at END, version = version + 1 \
             WHERE id = $3 AND version = $4 AND state = $5",
        ).bind(to).bind(now).bind(before.id).bind(before.version).bind(&before.state)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        if to == "done" {
            // Finished only with every opinion marked (checked again inside the transaction).
            let left: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM opinion WHERE draft_id = $1 AND verdict = 'received'",
            ).bind(before.id).fetch_one(&mut *tx).await?;
            if left > 0 {
                return Err(StoreError::Stale);
            }
        }
        let log = LogEntry { actor_id: Some(actor_id), action: action.into(), from_state: Some(before.state.clone()),
            to_state: to.into(), note: None, data: json!({}) };
        crate::write_log!(tx, "draft_law_log", "draft_id", before.id, &log, now);
        let audit = AuditEntry::new(Some(actor_id), &format!("draft.{action}"), "draft", before.id.to_string())
            .before(json!({"state": before.state})).after(json!({"state": to}));
        append_audit!(tx, &audit, now);
    });
    Ok(())
}

/// Marks an opinion (at its `version`) while its draft is closed; its author hears of it.
#[allow(clippy::too_many_arguments)]
pub async fn mark(
    db: &Db,
    before: &Opinion,
    verdict: &str,
    reason: &str,
    actor_id: i64,
    note: &NewNotification,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE opinion SET verdict = $1, reason = $2, marked_by = $3, marked_at = $4, version = version + 1 \
             WHERE id = $5 AND version = $6 AND EXISTS (SELECT 1 FROM draft_law WHERE id = $7 AND state = 'closed')",
        ).bind(verdict).bind(reason).bind(actor_id).bind(now).bind(before.id).bind(before.version)
        .bind(before.draft_id).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        let log = LogEntry { actor_id: Some(actor_id), action: "mark".into(), from_state: Some("closed".into()),
            to_state: "closed".into(), note: Some(reason.to_owned()),
            data: json!({"opinion_id": before.id, "article": before.article, "from": before.verdict, "verdict": verdict}) };
        crate::write_log!(tx, "draft_law_log", "draft_id", before.draft_id, &log, now);
        write_notifications!(tx, None::<i64>, std::slice::from_ref(note), now);
        let audit = AuditEntry::new(Some(actor_id), "opinion.mark", "draft", before.draft_id.to_string())
            .before(json!({"opinion_id": before.id, "verdict": before.verdict}))
            .after(json!({"opinion_id": before.id, "verdict": verdict}));
        append_audit!(tx, &audit, now);
    });
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<Draft, StoreError> {
    let sql = format!("SELECT {DRAFT_COLUMNS} FROM draft_law WHERE id = $1");
    let row: Option<Draft> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    row.ok_or(StoreError::NotFound)
}

pub async fn opinion(db: &Db, id: i64) -> Result<Opinion, StoreError> {
    let sql = format!("SELECT {OPINION_COLUMNS} FROM opinion WHERE id = $1");
    let row: Option<Opinion> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    row.ok_or(StoreError::NotFound)
}

/// The draft's articles: (number, text), in order.
pub async fn articles(db: &Db, id: i64) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT number, text FROM draft_article WHERE draft_id = $1 ORDER BY number",
    ).bind(id).fetch_all(pool).await?))
}

/// The draft's opinions, by article then in the order given (`author`: only theirs).
pub async fn opinions(db: &Db, id: i64, author: Option<i64>) -> Result<Vec<Opinion>, StoreError> {
    let sql = format!(
        "SELECT {OPINION_COLUMNS} FROM opinion WHERE draft_id = $1 AND ($2 IS NULL OR author_id = $2) \
         ORDER BY article, id"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).bind(author).fetch_all(pool).await?))
}

/// How many opinions the author gave on the draft.
pub async fn opinions_of(db: &Db, id: i64, author_id: i64) -> Result<i64, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM opinion WHERE draft_id = $1 AND author_id = $2",
    ).bind(id).bind(author_id).fetch_one(pool).await?))
}

/// The draft's opinions per article: (article, received, adopted, not adopted).
pub async fn tally(db: &Db, id: i64) -> Result<Vec<(i64, i64, i64, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT article, CAST(COUNT(*) AS BIGINT), \
                CAST(SUM(CASE WHEN verdict = 'adopted' THEN 1 ELSE 0 END) AS BIGINT), \
                CAST(SUM(CASE WHEN verdict = 'not_adopted' THEN 1 ELSE 0 END) AS BIGINT) \
         FROM opinion WHERE draft_id = $1 GROUP BY article ORDER BY article",
    ).bind(id).fetch_all(pool).await?))
}

pub async fn timeline(db: &Db, id: i64) -> Result<Vec<LogRow>, StoreError> {
    crate::event::timeline_of(db, "draft_law_log", "draft_id", id).await
}

/// Which drafts a list shows: those put out at `under` or below it, or (for a resident) at the
/// nodes above their villages.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub under: String,
    /// Only drafts put out at one of these nodes (a resident's villages and the areas above).
    pub nodes: Option<Vec<String>>,
    pub state: Option<String>,
    pub before: Option<i64>,
    pub limit: i64,
}

/// Drafts newest first, `limit + 1` at most.
pub async fn list(db: &Db, f: &Filter) -> Result<Vec<Draft>, StoreError> {
    let mut sql =
        format!("SELECT {DRAFT_COLUMNS} FROM draft_law WHERE node_code >= $1 AND node_code < $2");
    let mut n = 2;
    if f.state.is_some() {
        n += 1;
        sql.push_str(&format!(" AND state = ${n}"));
    }
    if f.before.is_some() {
        n += 1;
        sql.push_str(&format!(" AND id < ${n}"));
    }
    let nodes = f.nodes.clone().unwrap_or_default();
    if f.nodes.is_some() {
        sql.push_str(&crate::db::and_in("node_code", &mut n, nodes.len()));
    }
    n += 1;
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${n}"));
    let end = subtree_end(&f.under);
    Ok(with_pool!(db, pool => {
        let mut q = sqlx::query_as(&sql).bind(&f.under).bind(&end);
        if let Some(s) = &f.state { q = q.bind(s); }
        if let Some(b) = f.before { q = q.bind(b); }
        for v in &nodes { q = q.bind(v); }
        q.bind(f.limit + 1).fetch_all(pool).await?
    }))
}

/// Opinions per author's village under `under`: (village, received, adopted, not adopted).
pub async fn figures_by_village(
    db: &Db,
    under: &str,
) -> Result<Vec<(String, i64, i64, i64)>, StoreError> {
    let end = subtree_end(under);
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT node_code, CAST(COUNT(*) AS BIGINT), \
                CAST(SUM(CASE WHEN verdict = 'adopted' THEN 1 ELSE 0 END) AS BIGINT), \
                CAST(SUM(CASE WHEN verdict = 'not_adopted' THEN 1 ELSE 0 END) AS BIGINT) \
         FROM opinion WHERE node_code >= $1 AND node_code < $2 GROUP BY node_code ORDER BY node_code",
    ).bind(under).bind(&end).fetch_all(pool).await?))
}

impl Draft {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "node": self.node_code, "title": self.title, "issuer": self.issuer,
            "summary": self.summary, "articles": self.articles, "closes_at": self.closes_at,
            "state": self.state, "opened_at": self.opened_at, "closed_at": self.closed_at,
            "done_at": self.done_at, "version": self.version})
    }
}

impl Opinion {
    /// As its author reads it.
    pub fn public_json(&self) -> Value {
        json!({"id": self.id, "draft_id": self.draft_id, "article": self.article, "text": self.text,
            "verdict": self.verdict, "reason": self.reason, "given_at": self.given_at,
            "marked_at": self.marked_at})
    }

    /// For the collector: also the author (by id) and village, and the version.
    pub fn to_json(&self) -> Value {
        let mut v = self.public_json();
        v["author_id"] = json!(self.author_id);
        v["node"] = json!(self.node_code);
        v["marked_by"] = json!(self.marked_by);
        v["version"] = json!(self.version);
        v
    }
}
