//! The village ledger (三资台账): duties, entries with their lines and invoice images, the
//! timeline, posting into the per-month sums, and closed months. A posting writes the sums in
//! the entry's own transaction, so a balance always equals the sum of the posted lines
//! ([`recount`] says so in the tests).

use serde_json::{json, Value};
use shanzhi_domain::tree::subtree_end;

use crate::audit::AuditEntry;
use crate::event::LogEntry;
use crate::{Db, StoreError};

pub use crate::event::TimelineRow as LogRow;

/// Takes the village-month's row of `ledger_seq` for the rest of the transaction: postings into
/// a month and its close wait for each other (PostgreSQL holds the row lock; SQLite has one
/// writer at a time anyway).
macro_rules! lock_month {
    ($tx:expr, $node:expr, $month:expr) => {{
        sqlx::query(
            "INSERT INTO ledger_seq (node_code, month, n) VALUES ($1, $2, 0) \
             ON CONFLICT (node_code, month) DO UPDATE SET n = ledger_seq.n",
        )
        .bind($node)
        .bind($month)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// The duties (岗位) a user holds: (node code, duty).
pub async fn duties_of(db: &Db, user_id: i64) -> Result<Vec<(String, String)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT node_code, duty FROM ledger_duty WHERE user_id = $1 ORDER BY node_code, duty",
    ).bind(user_id).fetch_all(pool).await?))
}

/// Replaces a user's duties, with an audit row.
pub async fn set_duties(
    db: &Db,
    user_id: i64,
    duties: &[(String, String)],
    actor_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let before: Vec<(String, String)> = sqlx::query_as("SELECT node_code, duty FROM ledger_duty WHERE user_id = $1 ORDER BY node_code, duty")
            .bind(user_id).fetch_all(&mut *tx).await?;
        sqlx::query("DELETE FROM ledger_duty WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        for (node, duty) in duties {
            sqlx::query("INSERT INTO ledger_duty (user_id, node_code, duty, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(user_id).bind(node).bind(duty).bind(now).execute(&mut *tx).await?;
        }
        let entry = AuditEntry::new(Some(actor_id), "user.ledger_duties", "user", user_id.to_string())
            .before(json!(before))
            .after(json!(duties));
        append_audit!(tx, &entry, now);
    });
    Ok(())
}

/// An entry as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub node_code: String,
    pub number: String,
    pub kind: String,
    pub entry_date: String,
    pub month: i64,
    pub summary: String,
    pub counterparty: Option<String>,
    pub private_party: bool,
    pub total_fen: i64,
    pub state: String,
    pub created_by: i64,
    pub posted_at: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, node_code, number, kind, entry_date, month, summary, counterparty, private_party, \
     total_fen, state, created_by, posted_at, version, created_at, updated_at";

/// A line as stored: (account code, side, fen).
pub type LineRow = (String, String, i64);

/// What an entry holds, to create it or to replace a draft's.
#[derive(Debug, Clone)]
pub struct Values {
    pub kind: String,
    pub entry_date: String,
    pub month: i64,
    pub summary: String,
    pub counterparty: Option<String>,
    pub private_party: bool,
    pub lines: Vec<LineRow>,
    pub invoices: Vec<String>,
    pub total_fen: i64,
}

macro_rules! write_parts {
    ($tx:expr, $id:expr, $v:expr) => {{
        sqlx::query("DELETE FROM ledger_line WHERE entry_id = $1").bind($id).execute(&mut *$tx).await?;
        sqlx::query("DELETE FROM ledger_invoice WHERE entry_id = $1").bind($id).execute(&mut *$tx).await?;
        for (i, (account, side, fen)) in $v.lines.iter().enumerate() {
            sqlx::query("INSERT INTO ledger_line (entry_id, position, account_code, side, fen) VALUES ($1, $2, $3, $4, $5)")
                .bind($id).bind(i as i64).bind(account).bind(side).bind(fen).execute(&mut *$tx).await?;
        }
        for (i, hash) in $v.invoices.iter().enumerate() {
            sqlx::query("INSERT INTO ledger_invoice (entry_id, hash, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind($id).bind(hash).bind(i as i64).execute(&mut *$tx).await?;
        }
    }};
}

/// Creates a draft entry of village `node`, numbered 记-<month>-<n> within the village's month.
pub async fn insert(
    db: &Db,
    node: &str,
    v: &Values,
    log: &LogEntry,
    actor_id: i64,
    now: i64,
) -> Result<Entry, StoreError> {
    let sql = format!(
        "INSERT INTO ledger_entry (node_code, number, kind, entry_date, month, summary, counterparty, private_party, total_fen, state, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'draft', $10, $11, $11) RETURNING {COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let n: i64 = sqlx::query_scalar(
            "INSERT INTO ledger_seq (node_code, month, n) VALUES ($1, $2, 1) \
             ON CONFLICT (node_code, month) DO UPDATE SET n = ledger_seq.n + 1 RETURNING n",
        ).bind(node).bind(v.month).fetch_one(&mut *tx).await?;
        let number = format!("记-{}-{}-{n:04}", node, &v.entry_date[..7]);
        let e: Entry = sqlx::query_as(&sql)
            .bind(node).bind(&number).bind(&v.kind).bind(&v.entry_date).bind(v.month).bind(&v.summary)
            .bind(&v.counterparty).bind(v.private_party).bind(v.total_fen).bind(actor_id).bind(now)
            .fetch_one(&mut *tx).await?;
        write_parts!(tx, e.id, v);
        crate::write_log!(tx, "ledger_log", "entry_id", e.id, log, now);
        let audit = AuditEntry::new(Some(actor_id), "ledger.create", "ledger_entry", e.id.to_string())
            .after(json!({"number": e.number, "kind": e.kind, "total_fen": e.total_fen}));
        append_audit!(tx, &audit, now);
        e
    }))
}

/// Replaces what a draft or returned entry holds, if nobody changed it since `version`.
pub async fn replace(
    db: &Db,
    id: i64,
    version: i64,
    v: &Values,
    log: &LogEntry,
    actor_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE ledger_entry SET kind = $1, entry_date = $2, month = $3, summary = $4, counterparty = $5, private_party = $6, \
             total_fen = $7, updated_at = $8, version = version + 1 \
             WHERE id = $9 AND version = $10 AND state IN ('draft', 'returned')",
        )
        .bind(&v.kind).bind(&v.entry_date).bind(v.month).bind(&v.summary).bind(&v.counterparty).bind(v.private_party)
        .bind(v.total_fen).bind(now).bind(id).bind(version)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        write_parts!(tx, id, v);
        crate::write_log!(tx, "ledger_log", "entry_id", id, log, now);
        let audit = AuditEntry::new(Some(actor_id), "ledger.update", "ledger_entry", id.to_string())
            .after(json!({"kind": v.kind, "total_fen": v.total_fen}));
        append_audit!(tx, &audit, now);
    });
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<Entry, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM ledger_entry WHERE id = $1");
    let row: Option<Entry> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    row.ok_or(StoreError::NotFound)
}

pub async fn lines(db: &Db, id: i64) -> Result<Vec<LineRow>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT account_code, side, fen FROM ledger_line WHERE entry_id = $1 ORDER BY position",
    ).bind(id).fetch_all(pool).await?))
}

pub async fn invoices(db: &Db, id: i64) -> Result<Vec<String>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT hash FROM ledger_invoice WHERE entry_id = $1 ORDER BY position",
    ).bind(id).fetch_all(pool).await?))
}

/// How many invoice images each of the entries holds: (entry, count); entries without none.
pub async fn invoice_counts(db: &Db, ids: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
    crate::db::fetch_by_ids(db, ids, 500, |list| {
        format!("SELECT entry_id, CAST(COUNT(*) AS BIGINT) FROM ledger_invoice WHERE entry_id IN ({list}) GROUP BY entry_id")
    })
    .await
}

/// The villages whose entries hold the invoice image `hash`.
pub async fn invoice_nodes(db: &Db, hash: &str) -> Result<Vec<String>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT DISTINCT e.node_code FROM ledger_invoice i JOIN ledger_entry e ON e.id = i.entry_id WHERE i.hash = $1 LIMIT 100",
    ).bind(hash).fetch_all(pool).await?))
}

pub async fn timeline(db: &Db, id: i64) -> Result<Vec<LogRow>, StoreError> {
    crate::event::timeline_of(db, "ledger_log", "entry_id", id).await
}

/// Is the month closed for the village?
pub async fn is_closed(db: &Db, node: &str, month: i64) -> Result<bool, StoreError> {
    let found: Option<i64> = with_pool!(db, pool => sqlx::query_scalar(
        "SELECT month FROM ledger_close WHERE node_code = $1 AND month = $2",
    ).bind(node).bind(month).fetch_optional(pool).await?);
    Ok(found.is_some())
}

/// Moves an entry to `to` if nobody changed it since it was read; a posting adds its lines to
/// the month's sums in the same transaction, and is refused (Conflict) if the month was closed
/// meanwhile.
pub async fn save_move(
    db: &Db,
    before: &Entry,
    to: &str,
    post: bool,
    log: &LogEntry,
    audit: &AuditEntry,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE ledger_entry SET state = $1, posted_at = $2, updated_at = $3, version = version + 1 WHERE id = $4 AND version = $5",
        )
        .bind(to).bind(post.then_some(now)).bind(now).bind(before.id).bind(before.version)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        if post {
            lock_month!(tx, &before.node_code, before.month);
            let closed: Option<i64> = sqlx::query_scalar("SELECT month FROM ledger_close WHERE node_code = $1 AND month = $2")
                .bind(&before.node_code).bind(before.month).fetch_optional(&mut *tx).await?;
            if closed.is_some() {
                return Err(StoreError::Conflict { constraint: "ledger_close".into() });
            }
            let lines: Vec<LineRow> = sqlx::query_as("SELECT account_code, side, fen FROM ledger_line WHERE entry_id = $1 ORDER BY position")
                .bind(before.id).fetch_all(&mut *tx).await?;
            for (account, side, fen) in &lines {
                let (d, c) = if side == "debit" { (*fen, 0) } else { (0, *fen) };
                sqlx::query(
                    "INSERT INTO ledger_sum (node_code, account_code, month, debit_fen, credit_fen) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (node_code, account_code, month) DO UPDATE SET debit_fen = ledger_sum.debit_fen + $4, credit_fen = ledger_sum.credit_fen + $5",
                )
                .bind(&before.node_code).bind(account).bind(before.month).bind(d).bind(c)
                .execute(&mut *tx).await?;
            }
        }
        crate::write_log!(tx, "ledger_log", "entry_id", before.id, log, now);
        append_audit!(tx, audit, now);
    });
    Ok(())
}

/// Closes a village's month (月结): refused (Conflict `ledger_waiting`) while approved entries
/// of the month wait for the review, and (Conflict `ledger_close`) when it is closed already —
/// both checked under the month's lock, so a posting cannot slip in between.
pub async fn close(
    db: &Db,
    node: &str,
    month: i64,
    actor_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        lock_month!(tx, node, month);
        let waiting: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM ledger_entry WHERE node_code = $1 AND month = $2 AND state = 'approved' LIMIT 1",
        ).bind(node).bind(month).fetch_optional(&mut *tx).await?;
        if waiting.is_some() {
            return Err(StoreError::Conflict { constraint: "ledger_waiting".into() });
        }
        let done = sqlx::query(
            "INSERT INTO ledger_close (node_code, month, closed_by, closed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        ).bind(node).bind(month).bind(actor_id).bind(now).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict { constraint: "ledger_close".into() });
        }
        let audit = AuditEntry::new(Some(actor_id), "ledger.close", "node", node.to_owned())
            .after(json!({"month": month}));
        append_audit!(tx, &audit, now);
    });
    Ok(())
}

/// The earliest month of a village with live entries (not voided) that is not closed.
pub async fn first_open_month(db: &Db, node: &str) -> Result<Option<i64>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT MIN(e.month) FROM ledger_entry e WHERE e.node_code = $1 AND e.state <> 'voided' \
         AND NOT EXISTS (SELECT 1 FROM ledger_close c WHERE c.node_code = e.node_code AND c.month = e.month)",
    ).bind(node).fetch_one(pool).await?))
}

/// The closed months of a village, latest first.
pub async fn closed_months(db: &Db, node: &str) -> Result<Vec<i64>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT month FROM ledger_close WHERE node_code = $1 ORDER BY month DESC LIMIT 120",
    ).bind(node).fetch_all(pool).await?))
}

/// Which entries a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Villages under this path (a village's own path: that village).
    pub under: String,
    pub state: Option<String>,
    pub month: Option<i64>,
    /// Only these villages (a citizen's), besides `under`.
    pub villages: Option<Vec<String>>,
    /// Ids below this one (newest first).
    pub before: Option<i64>,
    pub limit: i64,
}

/// Entries newest first, `limit + 1` at most (one more says more follow).
pub async fn list(db: &Db, f: &Filter) -> Result<Vec<Entry>, StoreError> {
    let mut sql =
        format!("SELECT {COLUMNS} FROM ledger_entry WHERE node_code >= $1 AND node_code < $2");
    let mut n = 2;
    let mut next = |sql: &mut String, cond: &str| {
        n += 1;
        sql.push_str(&cond.replace('?', &format!("${n}")));
    };
    if f.state.is_some() {
        next(&mut sql, " AND state = ?");
    }
    if f.month.is_some() {
        next(&mut sql, " AND month = ?");
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
        if let Some(s) = &f.state {
            q = q.bind(s);
        }
        if let Some(m) = f.month {
            q = q.bind(m);
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

/// The posted sums of a village's accounts up to and including `month`: (account, debits,
/// credits).
pub async fn sums_to(
    db: &Db,
    node: &str,
    month: i64,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT account_code, CAST(SUM(debit_fen) AS BIGINT), CAST(SUM(credit_fen) AS BIGINT) FROM ledger_sum \
         WHERE node_code = $1 AND month <= $2 GROUP BY account_code ORDER BY account_code",
    ).bind(node).bind(month).fetch_all(pool).await?))
}

/// The posted sums of a village's accounts over the months `from..=to`.
pub async fn sums_between(
    db: &Db,
    node: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT account_code, CAST(SUM(debit_fen) AS BIGINT), CAST(SUM(credit_fen) AS BIGINT) FROM ledger_sum \
         WHERE node_code = $1 AND month >= $2 AND month <= $3 GROUP BY account_code ORDER BY account_code",
    ).bind(node).bind(from).bind(to).fetch_all(pool).await?))
}

/// The same sums recounted from the posted entries' lines (tests and checks).
pub async fn recount(
    db: &Db,
    node: &str,
    month: i64,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT l.account_code, \
                CAST(SUM(CASE WHEN l.side = 'debit' THEN l.fen ELSE 0 END) AS BIGINT), \
                CAST(SUM(CASE WHEN l.side = 'credit' THEN l.fen ELSE 0 END) AS BIGINT) \
         FROM ledger_line l JOIN ledger_entry e ON e.id = l.entry_id \
         WHERE e.node_code = $1 AND e.state = 'posted' AND e.month <= $2 \
         GROUP BY l.account_code ORDER BY l.account_code",
    ).bind(node).bind(month).fetch_all(pool).await?))
}

impl Entry {
    /// For staff: everything but the lines, invoices and timeline (added by the caller).
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "node": self.node_code, "number": self.number, "kind": self.kind,
            "date": self.entry_date, "summary": self.summary, "counterparty": self.counterparty,
            "private_party": self.private_party, "total_fen": self.total_fen,
            "amount": shanzhi_domain::ledger::yuan(self.total_fen), "state": self.state,
            "created_by": self.created_by, "posted_at": self.posted_at, "version": self.version,
            "created_at": self.created_at, "updated_at": self.updated_at})
    }
}

/// The villages that keep books (a committee sits there), and who sits on each committee.
pub async fn committees(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT node_code, user_id FROM ledger_duty WHERE duty = 'committee' ORDER BY node_code, user_id",
    ).fetch_all(pool).await?))
}

/// The number of a live entry (not voided) other than `except` that holds invoice image `hash`.
pub async fn invoice_in_use(
    db: &Db,
    hash: &str,
    except: Option<i64>,
) -> Result<Option<String>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT e.number FROM ledger_invoice i JOIN ledger_entry e ON e.id = i.entry_id \
         WHERE i.hash = $1 AND e.state <> 'voided' AND e.id <> $2 LIMIT 1",
    ).bind(hash).bind(except.unwrap_or(0)).fetch_optional(pool).await?))
}

/// Per village under `under`: (village, entries posted, expenses posted, of them with an
/// invoice image, entries waiting for the committee or the town).
pub async fn figures_by_village(
    db: &Db,
    under: &str,
) -> Result<Vec<(String, i64, i64, i64, i64)>, StoreError> {
    let end = subtree_end(under);
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT e.node_code, \
            CAST(SUM(CASE WHEN e.state = 'posted' THEN 1 ELSE 0 END) AS BIGINT), \
            CAST(SUM(CASE WHEN e.state = 'posted' AND e.kind = 'expense' THEN 1 ELSE 0 END) AS BIGINT), \
            CAST(SUM(CASE WHEN e.state = 'posted' AND e.kind = 'expense' \
                 AND EXISTS (SELECT 1 FROM ledger_invoice i WHERE i.entry_id = e.id) THEN 1 ELSE 0 END) AS BIGINT), \
            CAST(SUM(CASE WHEN e.state IN ('submitted', 'approved') THEN 1 ELSE 0 END) AS BIGINT) \
         FROM ledger_entry e WHERE e.node_code >= $1 AND e.node_code < $2 GROUP BY e.node_code ORDER BY e.node_code",
    ).bind(under).bind(&end).fetch_all(pool).await?))
}
