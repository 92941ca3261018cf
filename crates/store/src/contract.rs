//! The register of collective contracts (集体经济合同) and their clean-up (一清三规范): contracts
//! per village with their attachment photos, the flags the register raises on them with a
//! clean-up status each, and the timeline.
//!
//! The flags are the domain's ([`shanzhi_domain::contract::flags`]) and are recomputed in the
//! transaction of every write, for the written contract and for its peers (the village's
//! contracts of the same kind and unit, whose median price the write may move). A flag that no
//! longer applies is closed; one that applies and is not open is raised. [`recheck`] does the
//! same for the contracts the passing of the days has expired.

use chrono::NaiveDate;
use serde_json::{json, Value};
use shanzhi_domain::contract::{self as rules, ContractKind, Flag, Limits, Terms};
use shanzhi_domain::tree::subtree_end;

use crate::audit::AuditEntry;
use crate::event::LogEntry;
use crate::{Db, StoreError};

pub use crate::event::TimelineRow as LogRow;

/// A contract as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Contract {
    pub id: i64,
    pub node_code: String,
    pub number: String,
    pub kind: String,
    pub asset_name: String,
    pub location: Option<String>,
    pub area_centi: i64,
    pub unit: String,
    pub counterparty: String,
    pub private_party: bool,
    pub start_date: String,
    pub end_date: String,
    pub yearly_fen: i64,
    pub payment_terms: Option<String>,
    pub meeting_date: Option<String>,
    pub meeting_ref: Option<String>,
    pub terminated: bool,
    pub created_by: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, node_code, number, kind, asset_name, location, area_centi, unit, \
     counterparty, private_party, start_date, end_date, yearly_fen, payment_terms, meeting_date, \
     meeting_ref, terminated, created_by, version, created_at, updated_at";

/// What a contract holds, to create it or to replace it.
#[derive(Debug, Clone)]
pub struct Values {
    pub number: String,
    pub kind: String,
    pub asset_name: String,
    pub location: Option<String>,
    pub area_centi: i64,
    pub unit: String,
    pub counterparty: String,
    pub private_party: bool,
    pub start_date: String,
    pub end_date: String,
    pub yearly_fen: i64,
    pub payment_terms: Option<String>,
    pub meeting_date: Option<String>,
    pub meeting_ref: Option<String>,
    pub terminated: bool,
    pub photos: Vec<String>,
}

/// A flag as stored, with its clean-up.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FlagRow {
    pub id: i64,
    pub contract_id: i64,
    pub flag: String,
    pub status: String,
    pub note: Option<String>,
    pub status_by: Option<i64>,
    pub status_at: Option<i64>,
    pub raised_at: i64,
    pub closed_at: Option<i64>,
    pub is_current: bool,
}

const FLAG_COLUMNS: &str =
    "id, contract_id, flag, status, note, status_by, status_at, raised_at, closed_at, is_current";

/// What the flags of one contract read: (id, kind, start, end, yearly fen, area, meeting date,
/// terminated).
type GroupRow = (i64, String, String, String, i64, i64, Option<String>, bool);

/// The flags each contract of a group should carry on `today`: (contract id, flags).
fn due_flags(group: &[GroupRow], today: NaiveDate, limits: &Limits) -> Vec<(i64, Vec<Flag>)> {
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let price = |r: &GroupRow| rules::unit_price(r.4, r.5);
    group
        .iter()
        .filter_map(|r| {
            let (Some(kind), Some(start), Some(end), Some(p)) =
                (ContractKind::parse(&r.1), day(&r.2), day(&r.3), price(r))
            else {
                return None;
            };
            let peers: Vec<i64> = group
                .iter()
                .filter(|o| o.0 != r.0 && !o.7)
                .filter_map(price)
                .collect();
            let terms = Terms {
                kind,
                start,
                end,
                yearly_fen_per_unit: p,
                meeting_approved: r.6.is_some(),
                terminated: r.7,
            };
            Some((r.0, rules::flags(&terms, today, &peers, limits)))
        })
        .collect()
}

/// Brings the flags of the village's contracts of a kind and unit in line with the rules, inside
/// the open transaction `$tx`: closes those that no longer apply, raises those that do, each
/// with a line on its contract's timeline. Evaluates to the number of flags changed.
macro_rules! recompute {
    ($tx:expr, $node:expr, $kind:expr, $unit:expr, $today:expr, $limits:expr, $actor:expr, $now:expr) => {{
        let group: Vec<GroupRow> = sqlx::query_as(
            "SELECT id, kind, start_date, end_date, yearly_fen, area_centi, meeting_date, terminated \
             FROM contract WHERE node_code = $1 AND kind = $2 AND unit = $3 ORDER BY id",
        )
        .bind($node).bind($kind).bind($unit).fetch_all(&mut *$tx).await?;
        let mut changed = 0usize;
        for (id, due) in due_flags(&group, $today, $limits) {
            let open: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, flag FROM contract_flag WHERE contract_id = $1 AND closed_at IS NULL",
            ).bind(id).fetch_all(&mut *$tx).await?;
            for (row, flag) in &open {
                if due.iter().any(|f| f.as_str() == flag) {
                    continue;
                }
                sqlx::query("UPDATE contract_flag SET closed_at = $1, status = 'cleaned', status_at = $1 WHERE id = $2")
                    .bind($now).bind(row).execute(&mut *$tx).await?;
                let log = LogEntry { actor_id: $actor, action: "flag_closed".into(), from_state: None,
                    to_state: "cleaned".into(), note: None, data: json!({"flag": flag}) };
                crate::write_log!($tx, "contract_log", "contract_id", id, &log, $now);
                changed += 1;
            }
            for f in &due {
                if open.iter().any(|(_, o)| o == f.as_str()) {
                    continue;
                }
                sqlx::query("UPDATE contract_flag SET is_current = FALSE WHERE contract_id = $1 AND flag = $2")
                    .bind(id).bind(f.as_str()).execute(&mut *$tx).await?;
                sqlx::query(
                    "INSERT INTO contract_flag (contract_id, node_code, flag, status, raised_at, is_current) \
                     VALUES ($1, $2, $3, 'open', $4, TRUE)",
                )
                .bind(id).bind($node).bind(f.as_str()).bind($now).execute(&mut *$tx).await?;
                let log = LogEntry { actor_id: $actor, action: "flag_raised".into(), from_state: None,
                    to_state: "open".into(), note: None, data: json!({"flag": f.as_str()}) };
                crate::write_log!($tx, "contract_log", "contract_id", id, &log, $now);
                changed += 1;
            }
        }
        changed
    }};
}

/// Takes the village's row of `contract_village` inside the open transaction `$tx`: until it
/// commits, other writes to the village's register wait (PostgreSQL's row lock; SQLite's write
/// transactions are one at a time anyway).
macro_rules! lock_village {
    ($tx:expr, $node:expr) => {{
        sqlx::query(
            "INSERT INTO contract_village (node_code, writes) VALUES ($1, 1) \
             ON CONFLICT (node_code) DO UPDATE SET writes = contract_village.writes + 1",
        )
        .bind($node)
        .execute(&mut *$tx)
        .await?;
    }};
}

macro_rules! write_photos {
    ($tx:expr, $id:expr, $v:expr) => {{
        sqlx::query("DELETE FROM contract_photo WHERE contract_id = $1").bind($id).execute(&mut *$tx).await?;
        for (i, hash) in $v.photos.iter().enumerate() {
            sqlx::query("INSERT INTO contract_photo (contract_id, hash, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind($id).bind(hash).bind(i as i64).execute(&mut *$tx).await?;
        }
    }};
}

fn summary_json(v: &Values) -> Value {
    json!({"number": v.number, "kind": v.kind, "asset_name": v.asset_name, "area_centi": v.area_centi,
        "unit": v.unit, "start": v.start_date, "end": v.end_date, "yearly_fen": v.yearly_fen,
        "meeting_date": v.meeting_date, "terminated": v.terminated})
}

/// Registers a contract of village `node` and recomputes the flags of its group; a number the
/// village has already is a Conflict.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    db: &Db,
    node: &str,
    v: &Values,
    log: &LogEntry,
    actor_id: i64,
    now: i64,
    today: NaiveDate,
    limits: &Limits,
) -> Result<Contract, StoreError> {
    let sql = format!(
        "INSERT INTO contract (node_code, number, kind, asset_name, location, area_centi, unit, counterparty, private_party, \
         start_date, end_date, yearly_fen, payment_terms, meeting_date, meeting_ref, terminated, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING {COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        lock_village!(tx, node);
        let c: Contract = sqlx::query_as(&sql)
            .bind(node).bind(&v.number).bind(&v.kind).bind(&v.asset_name).bind(&v.location).bind(v.area_centi)
            .bind(&v.unit).bind(&v.counterparty).bind(v.private_party).bind(&v.start_date).bind(&v.end_date)
            .bind(v.yearly_fen).bind(&v.payment_terms).bind(&v.meeting_date).bind(&v.meeting_ref).bind(v.terminated)
            .bind(actor_id).bind(now)
            .fetch_one(&mut *tx).await?;
        write_photos!(tx, c.id, v);
        crate::write_log!(tx, "contract_log", "contract_id", c.id, log, now);
        recompute!(tx, node, &v.kind, &v.unit, today, limits, Some(actor_id), now);
        let audit = AuditEntry::new(Some(actor_id), "contract.create", "contract", c.id.to_string())
            .after(summary_json(v));
        append_audit!(tx, &audit, now);
        c
    }))
}

/// Replaces what a contract holds if nobody changed it since `version`, and recomputes the flags
/// of its group (and of the group it left, if its kind or unit changed).
#[allow(clippy::too_many_arguments)]
pub async fn replace(
    db: &Db,
    before: &Contract,
    version: i64,
    v: &Values,
    log: &LogEntry,
    actor_id: i64,
    now: i64,
    today: NaiveDate,
    limits: &Limits,
) -> Result<(), StoreError> {
    let node = before.node_code.as_str();
    with_tx!(db, tx => {
        lock_village!(tx, node);
        let done = sqlx::query(
            "UPDATE contract SET number = $1, kind = $2, asset_name = $3, location = $4, area_centi = $5, unit = $6, \
             counterparty = $7, private_party = $8, start_date = $9, end_date = $10, yearly_fen = $11, payment_terms = $12, \
             meeting_date = $13, meeting_ref = $14, terminated = $15, updated_at = $16, version = version + 1 \
             WHERE id = $17 AND version = $18",
        )
        .bind(&v.number).bind(&v.kind).bind(&v.asset_name).bind(&v.location).bind(v.area_centi).bind(&v.unit)
        .bind(&v.counterparty).bind(v.private_party).bind(&v.start_date).bind(&v.end_date).bind(v.yearly_fen)
        .bind(&v.payment_terms).bind(&v.meeting_date).bind(&v.meeting_ref).bind(v.terminated).bind(now)
        .bind(before.id).bind(version)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        write_photos!(tx, before.id, v);
        crate::write_log!(tx, "contract_log", "contract_id", before.id, log, now);
        recompute!(tx, node, &v.kind, &v.unit, today, limits, Some(actor_id), now);
        if before.kind != v.kind || before.unit != v.unit {
            recompute!(tx, node, &before.kind, &before.unit, today, limits, Some(actor_id), now);
        }
        let audit = AuditEntry::new(Some(actor_id), "contract.update", "contract", before.id.to_string())
            .before(json!({"number": before.number, "kind": before.kind, "area_centi": before.area_centi,
                "unit": before.unit, "start": before.start_date, "end": before.end_date,
                "yearly_fen": before.yearly_fen, "meeting_date": before.meeting_date, "terminated": before.terminated}))
            .after(summary_json(v));
        append_audit!(tx, &audit, now);
    });
    Ok(())
}

/// Recomputes the flags of every village's contracts that the days may have changed: the groups
/// holding a contract in force whose term ended before `today` and that carries no open
/// `expired` flag, or one that carries it and is no longer expired (the clock moved back, or an
/// edit raced the day). Answers how many flags changed.
pub async fn recheck(
    db: &Db,
    today: NaiveDate,
    limits: &Limits,
    now: i64,
) -> Result<usize, StoreError> {
    let day = today.format("%Y-%m-%d").to_string();
    let groups: Vec<(String, String, String)> = with_pool!(db, pool => sqlx::query_as(
        "SELECT DISTINCT c.node_code, c.kind, c.unit FROM contract c \
         WHERE (c.terminated = FALSE AND c.end_date < $1 AND NOT EXISTS (SELECT 1 FROM contract_flag f \
                 WHERE f.contract_id = c.id AND f.flag = 'expired' AND f.closed_at IS NULL)) \
            OR ((c.terminated = TRUE OR c.end_date >= $1) AND EXISTS (SELECT 1 FROM contract_flag f \
                 WHERE f.contract_id = c.id AND f.flag = 'expired' AND f.closed_at IS NULL)) \
         ORDER BY c.node_code, c.kind, c.unit LIMIT 1000",
    ).bind(&day).fetch_all(pool).await?);
    let mut changed = 0;
    for (node, kind, unit) in groups {
        changed += with_tx!(db, tx => {
            lock_village!(tx, &node);
            recompute!(tx, &node, &kind, &unit, today, limits, None::<i64>, now)
        });
    }
    Ok(changed)
}

pub async fn get(db: &Db, id: i64) -> Result<Contract, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM contract WHERE id = $1");
    let row: Option<Contract> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    row.ok_or(StoreError::NotFound)
}

pub async fn photos(db: &Db, id: i64) -> Result<Vec<String>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT hash FROM contract_photo WHERE contract_id = $1 ORDER BY position",
    ).bind(id).fetch_all(pool).await?))
}

/// The villages whose contracts hold the photo `hash`.
pub async fn photo_nodes(db: &Db, hash: &str) -> Result<Vec<String>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT DISTINCT c.node_code FROM contract_photo p JOIN contract c ON c.id = p.contract_id WHERE p.hash = $1 LIMIT 100",
    ).bind(hash).fetch_all(pool).await?))
}

/// Every flag row of a contract, open and closed, oldest first.
pub async fn flag_history(db: &Db, id: i64) -> Result<Vec<FlagRow>, StoreError> {
    let sql =
        format!("SELECT {FLAG_COLUMNS} FROM contract_flag WHERE contract_id = $1 ORDER BY id");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_all(pool).await?))
}

/// The current flag rows of these contracts (the open ones and the last closed of each flag).
pub async fn current_flags(db: &Db, ids: &[i64]) -> Result<Vec<FlagRow>, StoreError> {
    crate::db::fetch_by_ids(db, ids, 500, |list| {
        format!("SELECT {FLAG_COLUMNS} FROM contract_flag WHERE contract_id IN ({list}) AND is_current = TRUE ORDER BY contract_id, flag")
    })
    .await
}

/// The open flag `flag` of contract `id`.
pub async fn open_flag(db: &Db, id: i64, flag: &str) -> Result<FlagRow, StoreError> {
    let sql = format!(
        "SELECT {FLAG_COLUMNS} FROM contract_flag WHERE contract_id = $1 AND flag = $2 AND closed_at IS NULL"
    );
    let row: Option<FlagRow> = with_pool!(db, pool => sqlx::query_as(&sql).bind(id).bind(flag).fetch_optional(pool).await?);
    row.ok_or(StoreError::NotFound)
}

/// Moves an open flag's clean-up from where it was read to `to`, with its note; Stale if it
/// moved or closed meanwhile.
pub async fn set_cleanup(
    db: &Db,
    before: &FlagRow,
    to: &str,
    note: Option<&str>,
    actor_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE contract_flag SET status = $1, note = $2, status_by = $3, status_at = $4 \
             WHERE id = $5 AND status = $6 AND closed_at IS NULL",
        )
        .bind(to).bind(note).bind(actor_id).bind(now).bind(before.id).bind(&before.status)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        let log = LogEntry { actor_id: Some(actor_id), action: "cleanup".into(), from_state: Some(before.status.clone()),
            to_state: to.to_owned(), note: note.map(str::to_owned), data: json!({"flag": before.flag}) };
        crate::write_log!(tx, "contract_log", "contract_id", before.contract_id, &log, now);
        let audit = AuditEntry::new(Some(actor_id), "contract.cleanup", "contract", before.contract_id.to_string())
            .before(json!({"flag": before.flag, "status": before.status}))
            .after(json!({"flag": before.flag, "status": to, "note": note}));
        append_audit!(tx, &audit, now);
    });
    Ok(())
}

pub async fn timeline(db: &Db, id: i64) -> Result<Vec<LogRow>, StoreError> {
    crate::event::timeline_of(db, "contract_log", "contract_id", id).await
}

/// Which contracts a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Villages under this path (a village's own path: that village).
    pub under: String,
    pub kind: Option<String>,
    /// Contracts whose current row of this flag (any flag if none)…
    pub flag: Option<String>,
    /// …has this clean-up status (open, if only a flag is given).
    pub status: Option<String>,
    /// Only these villages (a citizen's), besides `under`.
    pub villages: Option<Vec<String>>,
    /// Ids below this one (newest first).
    pub before: Option<i64>,
    pub limit: i64,
}

/// Contracts newest first, `limit + 1` at most (one more says more follow).
pub async fn list(db: &Db, f: &Filter) -> Result<Vec<Contract>, StoreError> {
    let mut sql =
        format!("SELECT {COLUMNS} FROM contract WHERE node_code >= $1 AND node_code < $2");
    let mut n = 2;
    let mut next = |sql: &mut String, cond: &str| {
        n += 1;
        sql.push_str(&cond.replace('?', &format!("${n}")));
    };
    if f.kind.is_some() {
        next(&mut sql, " AND kind = ?");
    }
    if f.flag.is_some() || f.status.is_some() {
        sql.push_str(" AND EXISTS (SELECT 1 FROM contract_flag f WHERE f.contract_id = contract.id AND f.is_current = TRUE");
        if f.flag.is_some() {
            next(&mut sql, " AND f.flag = ?");
        }
        match &f.status {
            Some(_) => next(&mut sql, " AND f.status = ?"),
            None => sql.push_str(" AND f.closed_at IS NULL"),
        }
        sql.push(')');
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
        if let Some(k) = &f.kind {
            q = q.bind(k);
        }
        if let Some(x) = &f.flag {
            q = q.bind(x);
        }
        if let Some(s) = &f.status {
            q = q.bind(s);
        }
        if let Some(b) = f.before {
            q = q.bind(b);
        }
        for v in &villages {
            q = q.bind(v);
        }
        q.bind(f.limit + 1).fetch_all(pool).await?
    }))
}

/// The clean-up under a path: (flag, status, contracts) of the current flag rows, and the
/// numbers of contracts and of contracts with an open flag.
pub async fn summary(
    db: &Db,
    under: &str,
) -> Result<(Vec<(String, String, i64)>, i64, i64), StoreError> {
    let end = subtree_end(under);
    Ok(with_pool!(db, pool => {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT flag, status, CAST(COUNT(*) AS BIGINT) FROM contract_flag \
             WHERE node_code >= $1 AND node_code < $2 AND is_current = TRUE GROUP BY flag, status ORDER BY flag, status",
        ).bind(under).bind(&end).fetch_all(pool).await?;
        let (total, flagged): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM contract_flag f \
                 WHERE f.contract_id = c.id AND f.closed_at IS NULL) THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM contract c WHERE c.node_code >= $1 AND c.node_code < $2",
        ).bind(under).bind(&end).fetch_one(pool).await?;
        (rows, total, flagged)
    }))
}

impl Contract {
    /// Everything but the flags, photos and timeline (added by the caller).
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "node": self.node_code, "number": self.number, "kind": self.kind,
            "asset_name": self.asset_name, "location": self.location, "area": area_text(self.area_centi),
            "area_centi": self.area_centi, "unit": self.unit, "counterparty": self.counterparty,
            "private_party": self.private_party, "start": self.start_date, "end": self.end_date,
            "yearly_fen": self.yearly_fen, "yearly_price": shanzhi_domain::ledger::yuan(self.yearly_fen),
            "unit_price_fen": rules::unit_price(self.yearly_fen, self.area_centi),
            "payment_terms": self.payment_terms, "meeting_date": self.meeting_date,
            "meeting_ref": self.meeting_ref, "terminated": self.terminated, "created_by": self.created_by,
            "version": self.version, "created_at": self.created_at, "updated_at": self.updated_at})
    }
}

/// Hundredths of a unit as a decimal: 1250 → "12.5", 300 → "3".
pub fn area_text(centi: i64) -> String {
    let (w, f) = (centi / 100, centi % 100);
    match f {
        0 => w.to_string(),
        f if f % 10 == 0 => format!("{w}.{}", f / 10),
        f => format!("{w}.{f:02}"),
    }
}

impl FlagRow {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "flag": self.flag, "status": self.status, "note": self.note,
            "status_by": self.status_by, "status_at": self.status_at, "raised_at": self.raised_at,
            "closed_at": self.closed_at, "open": self.closed_at.is_none(), "current": self.is_current})
    }
}

/// Per village under `under`: (village, contracts, flags open, rectifying, cleaned) — the
/// current flag rows.
pub async fn figures_by_village(
    db: &Db,
    under: &str,
) -> Result<Vec<(String, i64, i64, i64, i64)>, StoreError> {
    let end = subtree_end(under);
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT c.node_code, CAST(COUNT(DISTINCT c.id) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN f.status = 'open' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN f.status = 'rectifying' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN f.status = 'cleaned' THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM contract c LEFT JOIN contract_flag f ON f.contract_id = c.id AND f.is_current = TRUE \
         WHERE c.node_code >= $1 AND c.node_code < $2 GROUP BY c.node_code ORDER BY c.node_code",
    ).bind(under).bind(&end).fetch_all(pool).await?))
}
