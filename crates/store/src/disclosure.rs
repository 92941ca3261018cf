//! Public notices of a village (四务公开): the notice, its moves on a timeline, audit rows.

use serde_json::{json, Value};
use shanzhi_domain::tree::subtree_end;

use crate::audit::AuditEntry;
use crate::event::LogEntry;
use crate::{Db, StoreError};

pub use crate::event::TimelineRow as LogRow;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Disclosure {
    pub id: i64,
    pub node_code: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub state: String,
    pub pinned: bool,
    pub published_at: Option<i64>,
    pub created_by: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, node_code, kind, title, body, state, pinned, published_at, created_by, \
                       version, created_at, updated_at";

/// Writes a draft notice of village `node`.
pub async fn insert(
    db: &Db,
    node: &str,
    kind: &str,
    title: &str,
    body: &str,
    actor_id: i64,
    now: i64,
) -> Result<Disclosure, StoreError> {
    let sql = format!(
        "INSERT INTO disclosure (node_code, kind, title, body, state, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'draft', $5, $6, $6) RETURNING {COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let d: Disclosure = sqlx::query_as(&sql).bind(node).bind(kind).bind(title).bind(body)
            .bind(actor_id).bind(now).fetch_one(&mut *tx).await?;
        let log = LogEntry { actor_id: Some(actor_id), action: "create".into(), from_state: None,
            to_state: "draft".into(), note: None, data: json!({}) };
        crate::write_log!(tx, "disclosure_log", "disclosure_id", d.id, &log, now);
        let audit = AuditEntry::new(Some(actor_id), "disclosure.create", "disclosure", d.id.to_string())
            .after(json!({"node": node, "kind": kind, "title": title}));
        append_audit!(tx, &audit, now);
        d
    }))
}

/// Changes the words of a notice not yet published (a draft or a withdrawn one) if nobody
/// changed it since `version`.
#[allow(clippy::too_many_arguments)]
pub async fn replace(
    db: &Db,
    before: &Disclosure,
    version: i64,
    kind: &str,
    title: &str,
    body: &str,
    actor_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE disclosure SET kind = $1, title = $2, body = $3, updated_at = $4, version = version + 1 \
             WHERE id = $5 AND version = $6 AND state <> 'published'",
        ).bind(kind).bind(title).bind(body).bind(now).bind(before.id).bind(version)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        let log = LogEntry { actor_id: Some(actor_id), action: "update".into(), from_state: Some(before.state.clone()),
            to_state: before.state.clone(), note: None, data: json!({}) };
        crate::write_log!(tx, "disclosure_log", "disclosure_id", before.id, &log, now);
        let audit = AuditEntry::new(Some(actor_id), "disclosure.update", "disclosure", before.id.to_string())
            .before(json!({"kind": before.kind, "title": before.title}))
            .after(json!({"kind": kind, "title": title}));
        append_audit!(tx, &audit, now);
    });
    Ok(())
}

/// Moves a notice (publish, withdraw, pin, unpin) if nobody changed it since it was read.
pub async fn save_move(
    db: &Db,
    before: &Disclosure,
    to: &str,
    pinned: bool,
    log: &LogEntry,
    audit: &AuditEntry,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let published = (to == "published" && before.state != "published").then_some(now);
        let done = sqlx::query(
            "UPDATE disclosure SET state = $1, pinned = $2, published_at = COALESCE($3, published_at), \
             updated_at = $4, version = version + 1 WHERE id = $5 AND version = $6",
        ).bind(to).bind(pinned).bind(published).bind(now).bind(before.id).bind(before.version)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        crate::write_log!(tx, "disclosure_log", "disclosure_id", before.id, log, now);
        append_audit!(tx, audit, now);
    });
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<Disclosure, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM disclosure WHERE id = $1");
    let row: Option<Disclosure> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    row.ok_or(StoreError::NotFound)
}

pub async fn timeline(db: &Db, id: i64) -> Result<Vec<LogRow>, StoreError> {
    crate::event::timeline_of(db, "disclosure_log", "disclosure_id", id).await
}

/// Which notices a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Villages under this path.
    pub under: String,
    /// Only these villages (a citizen's), besides `under`.
    pub villages: Option<Vec<String>>,
    pub state: Option<String>,
    pub kind: Option<String>,
    /// Pinned first, then newest (the portal's first page); else newest first by id.
    pub pinned_first: bool,
    /// Only pinned (true) or unpinned (false) notices: the portal's later pages are unpinned.
    pub pinned: Option<bool>,
    pub before: Option<i64>,
    pub limit: i64,
}

/// Notices newest first (`limit + 1` at most: one more says more follow). With `pinned_first`
/// the pinned ones come first and paging is by id within each group (the portal reads the
/// first page; pinned notices are few).
pub async fn list(db: &Db, f: &Filter) -> Result<Vec<Disclosure>, StoreError> {
    let mut sql =
        format!("SELECT {COLUMNS} FROM disclosure WHERE node_code >= $1 AND node_code < $2");
    let mut n = 2;
    let mut next = |sql: &mut String, cond: &str| {
        n += 1;
        sql.push_str(&cond.replace('?', &format!("${n}")));
    };
    if f.state.is_some() {
        next(&mut sql, " AND state = ?");
    }
    if f.kind.is_some() {
        next(&mut sql, " AND kind = ?");
    }
    if f.before.is_some() {
        next(&mut sql, " AND id < ?");
    }
    match f.pinned {
        Some(true) => sql.push_str(" AND pinned = TRUE"),
        Some(false) => sql.push_str(" AND pinned = FALSE"),
        None => {}
    }
    let villages = f.villages.clone().unwrap_or_default();
    if f.villages.is_some() {
        sql.push_str(&crate::db::and_in("node_code", &mut n, villages.len()));
    }
    n += 1;
    sql.push_str(&format!(
        " ORDER BY {}id DESC LIMIT ${n}",
        if f.pinned_first { "pinned DESC, " } else { "" }
    ));
    let end = subtree_end(&f.under);
    Ok(with_pool!(db, pool => {
        let mut q = sqlx::query_as(&sql).bind(&f.under).bind(&end);
        if let Some(s) = &f.state { q = q.bind(s); }
        if let Some(k) = &f.kind { q = q.bind(k); }
        if let Some(b) = f.before { q = q.bind(b); }
        for v in &villages { q = q.bind(v); }
        q.bind(f.limit + 1).fetch_all(pool).await?
    }))
}

impl Disclosure {
    /// For staff; the public gets [`Disclosure::public_json`].
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "node": self.node_code, "kind": self.kind, "title": self.title,
            "body": self.body, "state": self.state, "pinned": self.pinned,
            "published_at": self.published_at, "created_by": self.created_by,
            "version": self.version, "created_at": self.created_at, "updated_at": self.updated_at})
    }

    pub fn public_json(&self) -> Value {
        json!({"id": self.id, "node": self.node_code, "kind": self.kind, "title": self.title,
            "body": self.body, "pinned": self.pinned, "published_at": self.published_at})
    }
}

/// Per village under `under`: (village, notices published now, of them pinned).
pub async fn figures_by_village(
    db: &Db,
    under: &str,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    let end = subtree_end(under);
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT node_code, CAST(COUNT(*) AS BIGINT), CAST(SUM(CASE WHEN pinned THEN 1 ELSE 0 END) AS BIGINT) \
         FROM disclosure WHERE node_code >= $1 AND node_code < $2 AND state = 'published' \
         GROUP BY node_code ORDER BY node_code",
    ).bind(under).bind(&end).fetch_all(pool).await?))
}
