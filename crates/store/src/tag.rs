//! The tag catalogue (关爱/关注对象) and the tags on residents: tagging and untagging keep the
//! `tag` tally and the audit log in the same transaction; the visits-due list and counts read
//! `resident_tag.next_visit_at` (time-bound, so queried, not tallied).

use serde_json::{json, Value};
use shanzhi_domain::tag::next_visit_at;
use shanzhi_domain::tree::{subtree_end, NodeCode};

use crate::audit::AuditEntry;
use crate::db::fetch_by_ids;
use crate::tally::Tally;
use crate::{Db, StoreError};

/// The tally kind of tags on residents (key: the tag code).
pub const TALLY_KIND: &str = "tag";

/// A tag of the catalogue.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Tag {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
    pub visit_days: Option<i64>,
    pub vulnerable: bool,
    pub builtin: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Tag {
    /// For the API and the audit log.
    pub fn to_json(&self) -> Value {
        json!({"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en, "kind": self.kind,
               "visit_days": self.visit_days, "vulnerable": self.vulnerable, "builtin": self.builtin,
               "version": self.version, "created_at": self.created_at, "updated_at": self.updated_at})
    }
}

const COLS: &str =
    "code, name_zh, name_en, kind, visit_days, vulnerable, builtin, version, created_at, updated_at";

/// The whole catalogue, builtin tags first.
pub async fn list(db: &Db) -> Result<Vec<Tag>, StoreError> {
    let sql = format!("SELECT {COLS} FROM tag ORDER BY builtin DESC, code");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?))
}

/// One tag.
pub async fn get(db: &Db, code: &str) -> Result<Tag, StoreError> {
    let sql = format!("SELECT {COLS} FROM tag WHERE code = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(code).fetch_one(pool).await?))
}

/// Adds a tag of the administrators' own (not builtin), audited.
pub async fn insert(db: &Db, t: &Tag, actor_id: i64, now_ms: i64) -> Result<Tag, StoreError> {
    let sql = format!(
        "INSERT INTO tag (code, name_zh, name_en, kind, visit_days, vulnerable, builtin, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {COLS}"
    );
    Ok(with_tx!(db, tx => {
        let tag: Tag = sqlx::query_as(&sql)
            .bind(&t.code).bind(&t.name_zh).bind(&t.name_en).bind(&t.kind).bind(t.visit_days)
            .bind(t.vulnerable).bind(false).bind(now_ms)
            .fetch_one(&mut *tx).await?;
        let entry = AuditEntry::new(Some(actor_id), "tag.create", "tag", &tag.code).after(tag.to_json());
        append_audit!(tx, &entry, now_ms);
        tag
    }))
}

/// Saves a changed tag if its version is still `before.version` (else `Stale`), audited.
/// Existing people keep their due times; the new interval applies from their next visit.
pub async fn update(
    db: &Db,
    before: &Tag,
    after: &Tag,
    actor_id: i64,
    now_ms: i64,
) -> Result<Tag, StoreError> {
    let sql = format!(
        "UPDATE tag SET name_zh = $1, name_en = $2, kind = $3, visit_days = $4, vulnerable = $5, \
         version = version + 1, updated_at = $6 WHERE code = $7 AND version = $8 RETURNING {COLS}"
    );
    Ok(with_tx!(db, tx => {
        let tag: Option<Tag> = sqlx::query_as(&sql)
            .bind(&after.name_zh).bind(&after.name_en).bind(&after.kind).bind(after.visit_days)
            .bind(after.vulnerable).bind(now_ms).bind(&before.code).bind(before.version)
            .fetch_optional(&mut *tx).await?;
        let Some(tag) = tag else { return Err(StoreError::Stale) };
        let entry = AuditEntry::new(Some(actor_id), "tag.update", "tag", &tag.code)
            .before(before.to_json()).after(tag.to_json());
        append_audit!(tx, &entry, now_ms);
        tag
    }))
}

/// A tag on one resident.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResidentTag {
    pub resident_id: i64,
    pub tag_code: String,
    pub node_code: String,
    pub since: i64,
    pub next_visit_at: Option<i64>,
}

impl ResidentTag {
    /// For the API and the audit log.
    pub fn to_json(&self) -> Value {
        json!({"resident_id": self.resident_id, "tag": self.tag_code, "node": self.node_code,
               "since": self.since, "next_visit_at": self.next_visit_at})
    }
}

/// Puts `tag` on a resident at `node` (their node): the first visit falls due one interval
/// from now. Counted (tally `tag`) and audited in the same transaction. Answers `None` when
/// the resident already has the tag (nothing changes).
pub async fn put_on(
    db: &Db,
    resident_id: i64,
    node: &NodeCode,
    tag: &Tag,
    actor_id: i64,
    now_ms: i64,
) -> Result<Option<ResidentTag>, StoreError> {
    let row = ResidentTag {
        resident_id,
        tag_code: tag.code.clone(),
        node_code: node.as_str().to_owned(),
        since: now_ms,
        next_visit_at: next_visit_at(now_ms, tag.visit_days),
    };
    let mut tally = Tally::new();
    tally.add(node, TALLY_KIND, &tag.code, 1);
    Ok(with_tx!(db, tx => {
        let done = sqlx::query(
            "INSERT INTO resident_tag (resident_id, tag_code, node_code, since, next_visit_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (resident_id, tag_code) DO NOTHING",
        )
        .bind(resident_id).bind(&row.tag_code).bind(&row.node_code).bind(now_ms).bind(row.next_visit_at)
        .execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            None
        } else {
            write_tally!(tx, &tally);
            let entry = AuditEntry::new(Some(actor_id), "resident.tag", "resident", resident_id.to_string())
                .after(row.to_json());
            append_audit!(tx, &entry, now_ms);
            Some(row)
        }
    }))
}

/// Takes `tag` off a resident, uncounted and audited; `None` (nothing changes) if they did not
/// have it.
pub async fn take_off(
    db: &Db,
    resident_id: i64,
    tag_code: &str,
    actor_id: i64,
    now_ms: i64,
) -> Result<Option<ResidentTag>, StoreError> {
    Ok(with_tx!(db, tx => {
        let row: Option<ResidentTag> = sqlx::query_as(
            "DELETE FROM resident_tag WHERE resident_id = $1 AND tag_code = $2 \
             RETURNING resident_id, tag_code, node_code, since, next_visit_at",
        )
        .bind(resident_id).bind(tag_code).fetch_optional(&mut *tx).await?;
        let Some(row) = row else { return Ok(None) };
        let node = NodeCode::parse(&row.node_code).map_err(|e| StoreError::Other(anyhow::anyhow!("{e}")))?;
        let mut tally = Tally::new();
        tally.add(&node, TALLY_KIND, tag_code, -1);
        write_tally!(tx, &tally);
        let entry = AuditEntry::new(Some(actor_id), "resident.untag", "resident", resident_id.to_string())
            .before(row.to_json());
        append_audit!(tx, &entry, now_ms);
        Some(row)
    }))
}

/// The tags of one resident.
pub async fn of_resident(db: &Db, resident_id: i64) -> Result<Vec<ResidentTag>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT resident_id, tag_code, node_code, since, next_visit_at FROM resident_tag \
         WHERE resident_id = $1 ORDER BY tag_code",
    ).bind(resident_id).fetch_all(pool).await?))
}

/// The tags of several residents (for lists), by resident.
pub async fn of_residents(db: &Db, ids: &[i64]) -> Result<Vec<ResidentTag>, StoreError> {
    fetch_by_ids(db, ids, 500, |list| {
        format!(
            "SELECT resident_id, tag_code, node_code, since, next_visit_at FROM resident_tag \
             WHERE resident_id IN ({list}) ORDER BY resident_id, tag_code"
        )
    })
    .await
}

/// A person with a visit due.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Due {
    pub resident_id: i64,
    pub name: String,
    pub node_code: String,
    /// The earliest due time of their tags (the tag with the shortest interval decides).
    pub due_at: i64,
}

/// People under `path` (present ones) with a visit due by `until_ms`, overdue first, then the
/// soonest; at most `limit`.
pub async fn due(db: &Db, path: &str, until_ms: i64, limit: i64) -> Result<Vec<Due>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT rt.resident_id, r.name, r.node_code, MIN(rt.next_visit_at) AS due_at \
         FROM resident_tag rt JOIN resident r ON r.id = rt.resident_id \
         WHERE rt.node_code >= $1 AND rt.node_code < $2 AND rt.next_visit_at <= $3 \
         AND r.status = 'present' \
         GROUP BY rt.resident_id, r.name, r.node_code ORDER BY due_at, rt.resident_id LIMIT $4",
    ).bind(path).bind(subtree_end(path)).bind(until_ms).bind(limit).fetch_all(pool).await?))
}

/// Tags needing visits under `path`, by the first `prefix_len` characters of their node code
/// of people still living there (the node itself, or its children when `prefix_len` is the
/// children's path length):
/// (prefix, on schedule, overdue at `now_ms`).
pub async fn schedule_counts(
    db: &Db,
    path: &str,
    prefix_len: i64,
    now_ms: i64,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT SUBSTR(rt.node_code, 1, CAST($3 AS INTEGER)) AS prefix, \
         SUM(CASE WHEN rt.next_visit_at >= $4 THEN 1 ELSE 0 END) AS on_schedule, \
         SUM(CASE WHEN rt.next_visit_at < $4 THEN 1 ELSE 0 END) AS overdue \
         FROM resident_tag rt JOIN resident r ON r.id = rt.resident_id \
         WHERE rt.node_code >= $1 AND rt.node_code < $2 AND rt.next_visit_at IS NOT NULL \
         AND r.status = 'present' \
         GROUP BY SUBSTR(rt.node_code, 1, CAST($3 AS INTEGER)) ORDER BY prefix",
    ).bind(path).bind(subtree_end(path)).bind(prefix_len).bind(now_ms).fetch_all(pool).await?))
}
