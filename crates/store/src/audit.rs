//! The audit log: appended inside the same transaction as the change it records.

use std::collections::HashSet;

use serde_json::Value;
use shanzhi_domain::audit::{AuditRecord, BrokenLink, ChainVerifier};
use shanzhi_domain::tree::{subtree_end, NodeCode};

use crate::{Db, StoreError};

/// A change to record: who did what to which record, with before and after.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor_id: Option<i64>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditEntry {
    /// A new entry.
    pub fn new(
        actor_id: Option<i64>,
        action: &str,
        entity: &str,
        entity_id: impl Into<String>,
    ) -> AuditEntry {
        AuditEntry {
            actor_id,
            action: action.to_owned(),
            entity: entity.to_owned(),
            entity_id: entity_id.into(),
            before: None,
            after: None,
        }
    }

    /// With the record as it was.
    pub fn before(mut self, v: Value) -> Self {
        self.before = Some(v);
        self
    }

    /// With the record as it is now.
    pub fn after(mut self, v: Value) -> Self {
        self.after = Some(v);
        self
    }
}

/// Appends `$entry` (an `&AuditEntry`) at `$now_ms` inside the open transaction `$tx`.
/// `UPDATE audit_head … RETURNING` takes the head row's lock first, so concurrent writers line up.
#[macro_export]
macro_rules! append_audit {
    ($tx:expr, $entry:expr, $now_ms:expr) => {{
        let entry: &$crate::audit::AuditEntry = $entry;
        $crate::append_audits!($tx, ::std::slice::from_ref(entry), $now_ms);
    }};
}

/// Appends several entries (an `&[AuditEntry]`), chained in order, at `$now_ms` inside the open
/// transaction `$tx`: one head update reserves their sequence numbers, the hashes are chained in
/// memory, the rows go in multi-row inserts, and the head takes the last hash (a group commit
/// writes many reports this way).
#[macro_export]
macro_rules! append_audits {
    ($tx:expr, $entries:expr, $now_ms:expr) => {{
        let entries: &[$crate::audit::AuditEntry] = $entries;
        if !entries.is_empty() {
            let engine = $crate::db::engine_of(&$tx);
            let (last, mut prev_hash): (i64, String) =
                sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
                    .bind(entries.len() as i64)
                    .fetch_one(&mut *$tx)
                    .await?;
            let first = last - entries.len() as i64 + 1;
            let mut rows = Vec::with_capacity(entries.len());
            for (i, entry) in entries.iter().enumerate() {
                let record = shanzhi_domain::audit::AuditRecord {
                    seq: first + i as i64,
                    at: $now_ms,
                    actor_id: entry.actor_id,
                    action: entry.action.clone(),
                    entity: entry.entity.clone(),
                    entity_id: entry.entity_id.clone(),
                    before: entry.before.as_ref().map(|v| v.to_string()),
                    after: entry.after.as_ref().map(|v| v.to_string()),
                    prev_hash,
                };
                let hash = record.hash();
                prev_hash = hash.clone();
                rows.push((record, hash));
            }
            for chunk in $crate::db::pow2_chunks(&rows, 64) {
                let sql = format!(
                    "INSERT INTO audit (seq, at, actor_id, action, entity, entity_id, before_json, after_json, prev_hash, hash) VALUES {}",
                    $crate::db::tuples(engine, chunk.len(), 10)
                );
                let mut q = sqlx::query(&sql);
                for (record, hash) in chunk {
                    q = q
                        .bind(record.seq)
                        .bind(record.at)
                        .bind(record.actor_id)
                        .bind(&record.action)
                        .bind(&record.entity)
                        .bind(&record.entity_id)
                        .bind(&record.before)
                        .bind(&record.after)
                        .bind(&record.prev_hash)
                        .bind(hash);
                }
                q.execute(&mut *$tx).await?;
            }
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&prev_hash).execute(&mut *$tx).await?;
        }
    }};
}

/// Records one change in a transaction of its own (for events with no other write: a login).
pub async fn record(db: &Db, entry: &AuditEntry, now_ms: i64) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        append_audit!(tx, entry, now_ms);
    });
    Ok(())
}

/// One row of the log as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    fn record(&self) -> AuditRecord {
        AuditRecord {
            seq: self.seq,
            at: self.at,
            actor_id: self.actor_id,
            action: self.action.clone(),
            entity: self.entity.clone(),
            entity_id: self.entity_id.clone(),
            before: self.before_json.clone(),
            after: self.after_json.clone(),
            prev_hash: self.prev_hash.clone(),
        }
    }
}

const COLUMNS: &str =
    "seq, at, actor_id, action, entity, entity_id, before_json, after_json, prev_hash, hash";

/// Walks the whole chain in order; returns how many rows were checked or the first broken link.
pub async fn verify(db: &Db) -> Result<Result<u64, BrokenLink>, StoreError> {
    let mut verifier = ChainVerifier::default();
    let mut after = 0i64;
    loop {
        let sql = format!("SELECT {COLUMNS} FROM audit WHERE seq > $1 ORDER BY seq LIMIT 5000");
        let rows: Vec<AuditRow> =
            with_pool!(db, pool => sqlx::query_as(&sql).bind(after).fetch_all(pool).await?);
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            if let Err(broken) = verifier.push(&row.record(), &row.hash) {
                return Ok(Err(broken));
            }
        }
        after = rows.last().map(|r| r.seq).unwrap_or(after);
    }
    // A deleted tail shows as a head that points past the last row.
    let head: (i64, String) = with_pool!(db, pool => {
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(pool).await?
    });
    if head.0 != after {
        return Ok(Err(BrokenLink {
            seq: after + 1,
            reason: format!("rows {} to {} are missing", after + 1, head.0),
        }));
    }
    Ok(Ok(verifier.checked))
}

/// Which audit rows to list; `None` fields do not filter.
#[derive(Debug, Default, Clone, Copy)]
pub struct AuditFilter<'a> {
    pub entity: Option<&'a str>,
    pub entity_id: Option<&'a str>,
    pub actor_id: Option<i64>,
    pub action: Option<&'a str>,
    /// At or after (unix ms).
    pub from: Option<i64>,
    /// Before (unix ms).
    pub to: Option<i64>,
}

/// The newest rows first, optionally for one record, with keyset paging on `seq`.
pub async fn list(
    db: &Db,
    f: &AuditFilter<'_>,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit WHERE ($1 IS NULL OR entity = $1) AND ($2 IS NULL OR entity_id = $2) \
         AND ($3 IS NULL OR actor_id = $3) AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) \
         AND ($6 IS NULL OR action = $6) AND seq < $7 ORDER BY seq DESC LIMIT $8"
    );
    let rows = with_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(f.entity)
            .bind(f.entity_id)
            .bind(f.actor_id)
            .bind(f.from)
            .bind(f.to)
            .bind(f.action)
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pool)
            .await?
    });
    Ok(rows)
}

/// The records that lie at a node of the tree (`node_code`): an audit row about one of them
/// belongs to the subtrees above that node. The entity is the table's name.
const AT_NODE: [&str; 11] = [
    "resident",
    "household",
    "correction",
    "building",
    "house",
    "place",
    "organisation",
    "visit",
    "roster",
    "dispute",
    "mediator",
];

/// Which of `rows` are about records under the tree path `root` (an event in a grid there, a
/// node, a user or a department whose scope lies there, a record of [`AT_NODE`] at a node
/// there). Rows about shared settings (categories, the calendar, Open311 clients, dispute
/// types) and bulk rows (`*`) belong to no subtree and are not kept.
pub async fn under(db: &Db, rows: &[AuditRow], root: &str) -> Result<Vec<bool>, StoreError> {
    let end = subtree_end(root);
    let ids = |entity: &str| -> Vec<i64> {
        let mut v: Vec<i64> = rows
            .iter()
            .filter(|r| r.entity == entity)
            .filter_map(|r| r.entity_id.parse().ok())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut queries: Vec<(&str, String)> = vec![
        ("event", "SELECT id FROM event WHERE id IN ({}) AND grid_code >= ? AND grid_code < ?".to_owned()),
        (
            "user",
            "SELECT u.id FROM app_user u LEFT JOIN department d ON d.id = u.department_id \
             JOIN node n ON n.code = COALESCE(u.scope_code, d.region_code) WHERE u.id IN ({}) AND n.path >= ? AND n.path < ?"
                .to_owned(),
        ),
        (
            "department",
            "SELECT d.id FROM department d JOIN node n ON n.code = d.region_code WHERE d.id IN ({}) AND n.path >= ? AND n.path < ?"
                .to_owned(),
        ),
    ];
    for table in AT_NODE {
        queries.push((
            table,
            format!(
                "SELECT id FROM {table} WHERE id IN ({{}}) AND node_code >= ? AND node_code < ?"
            ),
        ));
    }
    let mut seen: HashSet<(String, i64)> = HashSet::new();
    for (entity, sql) in &queries {
        let list = ids(entity);
        for chunk in list.chunks(500) {
            // `?` placeholders numbered for PostgreSQL by position.
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = sql
                .replacen("{}", &marks.join(", "), 1)
                .replacen('?', &format!("${}", chunk.len() + 1), 1)
                .replacen('?', &format!("${}", chunk.len() + 2), 1);
            let found: Vec<i64> = with_pool!(db, pool => {
                let mut q = sqlx::query_scalar(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.bind(root).bind(&end).fetch_all(pool).await?
            });
            seen.extend(found.into_iter().map(|id| (entity.to_string(), id)));
        }
    }
    Ok(rows
        .iter()
        .map(|r| match r.entity.as_str() {
            "node" => NodeCode::parse(&r.entity_id).is_ok_and(|c| c.path().starts_with(root)),
            e if e == "event" || e == "user" || e == "department" || AT_NODE.contains(&e) => r
                .entity_id
                .parse::<i64>()
                .is_ok_and(|id| seen.contains(&(r.entity.clone(), id))),
            _ => false,
        })
        .collect())
}
