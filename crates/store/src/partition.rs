//! Monthly partitions of the event and timeline tables on PostgreSQL (migration 0034): event ids
//! are numbered from yyyymm × 10^8 each month, and `event` / `event_log` hold one partition per
//! month of ids. The partitions of the current and the next month (China time, by the
//! database's clock) are made ahead of need; SQLite keeps one table of each.

use crate::db::Db;
use crate::StoreError;

/// Makes the partitions of this month and the next that are missing, and moves the event id
/// sequence into this month's range; answers how many partitions it made. Safe to call from
/// several servers at once (the function takes an advisory lock); a no-op on SQLite.
pub async fn ensure(db: &Db) -> Result<i64, StoreError> {
    match db {
        Db::Sqlite { .. } => Ok(0),
        Db::Postgres(pool) => {
            let made: i32 = sqlx::query_scalar("SELECT shanzhi_event_partitions(now())")
                .fetch_one(pool)
                .await?;
            Ok(made.into())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The archive of old months (`shanzhi archive`).
//
// A month leaves the database in two steps. First, in one transaction, its two partitions are
// detached and moved into the schema `shanzhi_archive`, together with copies of every row of
// another table that refers to one of its events: rows that cannot live without their event
// (photos' links, reporters, idempotency keys, callers, Open311 ids: the key is NOT NULL) are
// moved out; rows that can (a dispute, risk, visit, points award or notice converted from or
// about the event) stay with their link set to NULL, their copy keeping it. PostgreSQL refuses
// to detach a partition that a row elsewhere still refers to, which guards the step. Second,
// the schema is written to a file (`pg_dump`) and its tables dropped; months whose file could
// not be written wait in the schema for the next run. The counters behind the figures are not
// touched: they are the archived months' figures.

/// The schema a month of events waits in between the event tables and its file.
pub const ARCHIVE_SCHEMA: &str = "shanzhi_archive";

/// Order states that still need work (`State::is_open`): a month holding one stays. The
/// partial index `event_open_idx` holds exactly these.
const OPEN_STATES: &str = "'reported', 'accepted', 'dispatched', 'in_progress', 'resolved'";

/// Session advisory lock of a run of `shanzhi archive`: one at a time per database.
const ARCHIVE_LOCK: i64 = 4419;

/// A month of events as stored on PostgreSQL: the suffix of its partitions' names
/// (`event_202611`, `event_log_202611`; `legacy` for the first partition) and its ids,
/// `[first_id, end_id)` (`first_id` None: from the smallest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMonth {
    pub month: String,
    pub first_id: Option<i64>,
    pub end_id: i64,
}

impl StoredMonth {
    /// The SQL condition "`col` holds an id of this month" (the bounds are numbers).
    fn holds(&self, col: &str) -> String {
        match self.first_id {
            Some(lo) => format!("{col} >= {lo} AND {col} < {}", self.end_id),
            None => format!("{col} < {}", self.end_id),
        }
    }

    fn contains(&self, id: i64) -> bool {
        self.first_id.is_none_or(|lo| id >= lo) && id < self.end_id
    }
}

/// What an archive run found in one month and did with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthArchive {
    pub month: String,
    pub events: i64,
    /// Timeline lines.
    pub lines: i64,
    /// Orders of the month still open: the month stays.
    pub open: i64,
    /// Reports of a month that stays, merged into an order of this month: the month stays.
    pub merged_from_kept: i64,
    /// Rows of other tables moved out with the month or unlinked from it, by table.
    pub referring: std::collections::BTreeMap<String, i64>,
    pub archived: bool,
}

/// The first event id of month `yyyymm`.
pub fn month_base(yyyymm: i64) -> i64 {
    yyyymm * 100_000_000
}

/// The bounds of a partition from `pg_get_expr(relpartbound)`:
/// `FOR VALUES FROM ('20261100000000') TO ('20261200000000')`, `FROM (MINVALUE) TO (…)`.
pub fn parse_bound(expr: &str) -> Option<(Option<i64>, i64)> {
    let rest = expr.strip_prefix("FOR VALUES FROM (")?;
    let (from, rest) = rest.split_once(") TO (")?;
    let to = rest.strip_suffix(')')?;
    let number = |s: &str| s.trim_matches('\'').parse::<i64>().ok();
    let from = match from {
        "MINVALUE" => None,
        f => Some(number(f)?),
    };
    Some((from, number(to)?))
}

/// Which months stay: those with an open order, and, to a fixed point, those into whose orders
/// a report of a month that stays (or of no month looked at) was merged. `merged` holds
/// (report, the order it was merged into). Answers, per month, whether it stays and how many
/// reports of months that stay were merged into it.
pub fn months_kept(
    months: &[StoredMonth],
    open: &[i64],
    merged: &[(i64, i64)],
) -> Vec<(bool, i64)> {
    let mut kept: Vec<bool> = open.iter().map(|n| *n > 0).collect();
    loop {
        let going: Vec<&StoredMonth> = months
            .iter()
            .zip(&kept)
            .filter(|(_, k)| !**k)
            .map(|(m, _)| m)
            .collect();
        let from_kept: Vec<i64> = months
            .iter()
            .map(|m| {
                merged
                    .iter()
                    .filter(|(id, into)| {
                        m.contains(*into) && !going.iter().any(|g| g.contains(*id))
                    })
                    .count() as i64
            })
            .collect();
        let mut changed = false;
        for (k, n) in kept.iter_mut().zip(&from_kept) {
            if !*k && *n > 0 {
                *k = true;
                changed = true;
            }
        }
        if !changed {
            return kept.into_iter().zip(from_kept).collect();
        }
    }
}

/// `"name"`, quoted for SQL.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn postgres(db: &Db) -> Result<&sqlx::PgPool, StoreError> {
    match db {
        Db::Postgres(pool) => Ok(pool),
        Db::Sqlite { .. } => Err(StoreError::Other(anyhow::anyhow!(
            "months of events are archived on PostgreSQL only: a SQLite database keeps one event \
             table (copy it whole with `shanzhi backup`)"
        ))),
    }
}

/// True once the database has the archive's ledger (migration 0035).
pub async fn archive_ready(db: &Db) -> Result<bool, StoreError> {
    let pool = postgres(db)?;
    Ok(
        sqlx::query_scalar("SELECT to_regclass('event_archive') IS NOT NULL")
            .fetch_one(pool)
            .await?,
    )
}

/// Phones still kept in plain text by a release before personal-data sealing (a server seals
/// them at its start): none may go into an archive.
pub async fn plain_phones(db: &Db) -> Result<i64, StoreError> {
    let pool = postgres(db)?;
    Ok(sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM event_caller WHERE phone <> '') \
         + (SELECT COUNT(*) FROM open311_request WHERE phone IS NOT NULL AND phone <> '')",
    )
    .fetch_one(pool)
    .await?)
}

/// The first id of the month new reports are numbered in (the event id sequence's month,
/// moved on at the first quarter-hour job of a month): months from it on are still written to
/// and never archived.
pub async fn writing_month_base(db: &Db) -> Result<i64, StoreError> {
    let pool = postgres(db)?;
    let last: i64 = sqlx::query_scalar("SELECT last_value FROM event_id_seq")
        .fetch_one(pool)
        .await?;
    Ok(last / 100_000_000 * 100_000_000)
}

/// A run of `shanzhi archive` holding the database's archive lock (a session advisory lock on a
/// connection of its own, let go when it closes).
pub struct ArchiveLock(sqlx::PgConnection);

impl ArchiveLock {
    /// The lock, or None while another run holds it.
    pub async fn take(db: &Db) -> Result<Option<ArchiveLock>, StoreError> {
        let pool = postgres(db)?;
        let mut conn = pool.acquire().await?.detach();
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(ARCHIVE_LOCK)
            .fetch_one(&mut conn)
            .await?;
        Ok(got.then_some(ArchiveLock(conn)))
    }

    /// Lets the lock go.
    pub async fn release(self) {
        use sqlx::Connection;
        let _ = self.0.close().await;
    }
}

/// The months whose partitions are attached, oldest first.
async fn stored_months(conn: &mut sqlx::PgConnection) -> Result<Vec<StoredMonth>, StoreError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i \
         JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'event'::regclass",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut months = Vec::new();
    for (name, bound) in rows {
        let month = name.strip_prefix("event_").unwrap_or(&name).to_owned();
        let (first_id, end_id) = parse_bound(&bound).ok_or_else(|| {
            StoreError::Other(anyhow::anyhow!("partition {name}: unknown bounds {bound}"))
        })?;
        months.push(StoredMonth {
            month,
            first_id,
            end_id,
        });
    }
    months.sort_by_key(|m| m.end_id);
    Ok(months)
}

/// Open orders of each month, and the merges into orders of months before `before`.
async fn look(
    conn: &mut sqlx::PgConnection,
    months: &[StoredMonth],
    before: i64,
) -> Result<(Vec<i64>, Vec<(i64, i64)>), StoreError> {
    let mut open = Vec::with_capacity(months.len());
    for m in months {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {} WHERE state IN ({OPEN_STATES})",
            ident(&format!("event_{}", m.month))
        ))
        .fetch_one(&mut *conn)
        .await?;
        open.push(n);
    }
    let merged = sqlx::query_as(
        "SELECT id, merged_into FROM event WHERE merged_into IS NOT NULL AND merged_into < $1",
    )
    .bind(before)
    .fetch_all(&mut *conn)
    .await?;
    Ok((open, merged))
}

/// A table with a foreign key to `event`: its name (quoted, as the catalogue gives it), its bare
/// name, the key's column, and whether the key is NOT NULL.
type Referring = (String, String, String, bool);

/// The tables whose rows refer to an event, found in the catalogue: each must refer by one
/// column, once, so that its rows of a month have one copy, `<table>_<month>`.
async fn referring_tables(conn: &mut sqlx::PgConnection) -> Result<Vec<Referring>, StoreError> {
    let rows: Vec<(String, String, String, bool, i32)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, t.relname::text, a.attname::text, a.attnotnull, \
         cardinality(c.conkey) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
         WHERE c.contype = 'f' AND c.confrelid = 'event'::regclass AND c.conparentid = 0 \
           AND c.conrelid NOT IN ('event'::regclass, 'event_log'::regclass) ORDER BY 2",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<Referring> = Vec::new();
    for (table, name, col, not_null, columns) in rows {
        if columns != 1 || out.iter().any(|r| r.1 == name) || name.len() > 50 {
            return Err(StoreError::Other(anyhow::anyhow!(
                "{table} refers to events by several columns or keys, or its name is too long \
                 for a copy's: the archive does not know how to take its rows"
            )));
        }
        out.push((table, name, col, not_null));
    }
    Ok(out)
}

/// Moves every month of events that ends by `before` (a month's first id) out of the event
/// tables into [`ARCHIVE_SCHEMA`], in one transaction, unless it still holds an open order or a
/// report of a month that stays was merged into one of its orders. Answers what was found in
/// each month.
///
/// Locks: the referring rows are copied and removed under row locks while servers go on; then
/// `event`, `event_log` and the tables that refer to events are taken whole (waiting at most
/// 300 ms at a time, giving way and trying again up to 100 times, so that no server's request
/// is picked to fail by a deadlock), whereupon reads and writes of them wait until the commit.
/// Under that lock the months are looked at again (an order reopened or a report merged into
/// one meanwhile fails the run, changing nothing) and their partitions detached.
pub async fn archive_months(
    db: &Db,
    before: i64,
    now_ms: i64,
) -> Result<Vec<MonthArchive>, StoreError> {
    let pool = postgres(db)?;
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL lock_timeout = '10s'")
        .execute(&mut *tx)
        .await?;
    // The lock `shanzhi_event_partitions` takes: no partition is made meanwhile.
    sqlx::query("SELECT pg_advisory_xact_lock(4418)")
        .execute(&mut *tx)
        .await?;
    let months: Vec<StoredMonth> = stored_months(&mut tx)
        .await?
        .into_iter()
        .filter(|m| m.end_id <= before)
        .collect();
    let (open, merged) = look(&mut tx, &months, before).await?;
    let kept = months_kept(&months, &open, &merged);
    let mut found = Vec::new();
    for ((m, n_open), (_, from_kept)) in months.iter().zip(&open).zip(&kept) {
        let counted: (i64, i64) = sqlx::query_as(&format!(
            "SELECT (SELECT COUNT(*) FROM {}), (SELECT COUNT(*) FROM {})",
            ident(&format!("event_{}", m.month)),
            ident(&format!("event_log_{}", m.month))
        ))
        .fetch_one(&mut *tx)
        .await?;
        found.push(MonthArchive {
            month: m.month.clone(),
            events: counted.0,
            lines: counted.1,
            open: *n_open,
            merged_from_kept: *from_kept,
            ..MonthArchive::default()
        });
    }
    let going: Vec<&StoredMonth> = months
        .iter()
        .zip(&kept)
        .filter(|(_, (k, _))| !*k)
        .map(|(m, _)| m)
        .collect();
    if going.is_empty() {
        tx.commit().await?;
        return Ok(found);
    }
    let referring = referring_tables(&mut tx).await?;
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {ARCHIVE_SCHEMA}"))
        .execute(&mut *tx)
        .await?;
    // 1. The rows that refer to the months' events, while servers go on.
    for (m, f) in months.iter().zip(found.iter_mut()) {
        if !going.contains(&m) {
            continue;
        }
        for (table, name, col, not_null) in &referring {
            let copy = format!("{ARCHIVE_SCHEMA}.{}", ident(&format!("{name}_{}", m.month)));
            let holds = m.holds(&ident(col));
            sqlx::query(&format!("CREATE TABLE {copy} (LIKE {table})"))
                .execute(&mut *tx)
                .await?;
            let n = if *not_null {
                sqlx::query(&format!(
                    "WITH gone AS (DELETE FROM {table} WHERE {holds} RETURNING *) \
                     INSERT INTO {copy} SELECT * FROM gone"
                ))
                .execute(&mut *tx)
                .await?
                .rows_affected()
            } else {
                sqlx::query(&format!(
                    "INSERT INTO {copy} SELECT * FROM {table} WHERE {holds} FOR UPDATE"
                ))
                .execute(&mut *tx)
                .await?;
                sqlx::query(&format!(
                    "UPDATE {table} SET {} = NULL WHERE {holds}",
                    ident(col)
                ))
                .execute(&mut *tx)
                .await?
                .rows_affected()
            };
            f.referring.insert(name.clone(), n as i64);
        }
        // The pictures of the month's orders go into the file too; they stay in the database,
        // where another record may show the same picture (photos are kept by their hash).
        if referring.iter().any(|r| r.1 == "event_photo") {
            sqlx::query(&format!(
                "CREATE TABLE {ARCHIVE_SCHEMA}.{} AS SELECT * FROM photo \
                 WHERE hash IN (SELECT hash FROM {ARCHIVE_SCHEMA}.{})",
                ident(&format!("photo_{}", m.month)),
                ident(&format!("event_photo_{}", m.month))
            ))
            .execute(&mut *tx)
            .await?;
        }
    }
    // 2. Detaching takes the event tables and every table that refers to them whole. A server's
    // transaction may hold one of them (a report reads its idempotency key before it writes the
    // event) and want another: taken all in one statement with a short wait, and on a miss let
    // go and tried again, this run always gives way before a server's deadlock check (1 s) could
    // pick one of the server's requests to fail.
    let mut locked: Vec<&str> = vec!["event", "event_log"];
    locked.extend(referring.iter().map(|r| r.0.as_str()));
    sqlx::query("SET LOCAL lock_timeout = '300ms'")
        .execute(&mut *tx)
        .await?;
    let mut attempt = 0;
    loop {
        sqlx::query("SAVEPOINT archive_lock")
            .execute(&mut *tx)
            .await?;
        let took = sqlx::query(&format!(
            "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
            locked.join(", ")
        ))
        .execute(&mut *tx)
        .await;
        match took {
            Ok(_) => break,
            Err(sqlx::Error::Database(e))
                if attempt < 100 && matches!(e.code().as_deref(), Some("55P03" | "40P01")) =>
            {
                sqlx::query("ROLLBACK TO SAVEPOINT archive_lock")
                    .execute(&mut *tx)
                    .await?;
                attempt += 1;
                let wait = 20 + rand::random::<u64>() % 200;
                tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            }
            Err(e) => {
                return Err(StoreError::Other(anyhow::anyhow!(
                    "the event tables stayed busy ({}): nothing was archived; run it again",
                    StoreError::from(e)
                )))
            }
        }
    }
    let (open_now, merged_now) = look(&mut tx, &months, before).await?;
    if months_kept(&months, &open_now, &merged_now) != kept {
        return Err(StoreError::Other(anyhow::anyhow!(
            "an order of a month being archived was reopened, or a report merged into one, \
             while the archive ran: nothing was archived; run it again"
        )));
    }
    // PostgreSQL checks, when a partition is detached, that no row of the partitioned table
    // refers to it, the partition's own rows included: the merges of the months that go are
    // set aside and written into their copies once detached.
    let in_going: Vec<String> = going
        .iter()
        .map(|m| format!("({})", m.holds("id")))
        .collect();
    sqlx::query(&format!(
        "CREATE TEMP TABLE archive_merged ON COMMIT DROP AS SELECT id, merged_into FROM event \
         WHERE merged_into IS NOT NULL AND ({})",
        in_going.join(" OR ")
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE event SET merged_into = NULL WHERE id IN (SELECT id FROM archive_merged)")
        .execute(&mut *tx)
        .await?;
    for (m, f) in months.iter().zip(found.iter_mut()) {
        if !going.contains(&m) {
            continue;
        }
        // The timeline first (its key refers to the events), each partition's own foreign
        // keys dropped once it is on its own: the copy refers to nothing.
        for (parent, part) in [
            ("event_log", format!("event_log_{}", m.month)),
            ("event", format!("event_{}", m.month)),
        ] {
            let part_q = ident(&part);
            sqlx::query(&format!("ALTER TABLE {parent} DETACH PARTITION {part_q}"))
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    StoreError::Other(anyhow::anyhow!(
                        "{part} could not be detached ({}): a record referring to its events \
                         was written while the archive ran; nothing was archived, run it again",
                        StoreError::from(e)
                    ))
                })?;
            let keys: Vec<String> = sqlx::query_scalar(
                // A key to a partitioned table has a row per partition below its own: dropping
                // it drops them.
                "SELECT conname::text FROM pg_constraint WHERE contype = 'f' \
                 AND conrelid = $1::regclass AND conparentid = 0",
            )
            .bind(&part_q)
            .fetch_all(&mut *tx)
            .await?;
            for key in keys {
                sqlx::query(&format!(
                    "ALTER TABLE {part_q} DROP CONSTRAINT {}",
                    ident(&key)
                ))
                .execute(&mut *tx)
                .await?;
            }
            // Nor are ids drawn for it any more (the defaults name the live sequences).
            let defaults: Vec<String> = sqlx::query_scalar(
                "SELECT a.attname::text FROM pg_attrdef d JOIN pg_attribute a \
                 ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = $1::regclass",
            )
            .bind(&part_q)
            .fetch_all(&mut *tx)
            .await?;
            for col in defaults {
                sqlx::query(&format!(
                    "ALTER TABLE {part_q} ALTER COLUMN {} DROP DEFAULT",
                    ident(&col)
                ))
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(&format!("ALTER TABLE {part_q} SET SCHEMA {ARCHIVE_SCHEMA}"))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(&format!(
            "UPDATE {ARCHIVE_SCHEMA}.{} e SET merged_into = m.merged_into \
             FROM archive_merged m WHERE e.id = m.id",
            ident(&format!("event_{}", m.month))
        ))
        .execute(&mut *tx)
        .await?;
        f.archived = true;
        sqlx::query(
            "INSERT INTO event_archive (month, first_id, end_id, events, lines, referring, archived_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&m.month)
        .bind(m.first_id)
        .bind(m.end_id)
        .bind(f.events)
        .bind(f.lines)
        .bind(serde_json::to_string(&f.referring)?)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    }
    let archived: Vec<&MonthArchive> = found.iter().filter(|f| f.archived).collect();
    let months_gone: Vec<&str> = archived.iter().map(|f| f.month.as_str()).collect();
    let entry = crate::audit::AuditEntry::new(
        None,
        "event.archive",
        "event_archive",
        months_gone.join(","),
    )
    .after(serde_json::Value::Array(
        archived
            .iter()
            .map(|f| {
                serde_json::json!({"month": f.month, "events": f.events, "lines": f.lines,
                    "referring": f.referring})
            })
            .collect(),
    ));
    crate::append_audit!(tx, &entry, now_ms);
    tx.commit().await?;
    Ok(found)
}

/// The tables waiting in [`ARCHIVE_SCHEMA`] for their file, and the months they hold.
pub async fn waiting(db: &Db) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let pool = postgres(db)?;
    let tables = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = $1 ORDER BY 1",
    )
    .bind(ARCHIVE_SCHEMA)
    .fetch_all(pool)
    .await?;
    let months =
        sqlx::query_scalar("SELECT month FROM event_archive WHERE file IS NULL ORDER BY end_id")
            .fetch_all(pool)
            .await?;
    Ok((tables, months))
}

/// Records that `tables` (holding `months`) are in `file` and drops them.
pub async fn written(
    db: &Db,
    tables: &[String],
    months: &[String],
    file: &str,
    sha256: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let pool = postgres(db)?;
    let mut tx = pool.begin().await?;
    for t in tables {
        sqlx::query(&format!("DROP TABLE {ARCHIVE_SCHEMA}.{}", ident(t)))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "UPDATE event_archive SET file = $1, sha256 = $2, exported_at = $3 \
         WHERE file IS NULL AND month = ANY($4)",
    )
    .bind(file)
    .bind(sha256)
    .bind(now_ms)
    .bind(months)
    .execute(&mut *tx)
    .await?;
    let entry = crate::audit::AuditEntry::new(
        None,
        "event.archive_written",
        "event_archive",
        months.join(","),
    )
    .after(serde_json::json!({"file": file, "sha256": sha256, "tables": tables}));
    crate::append_audit!(tx, &entry, now_ms);
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partitions_bounds_are_read_from_its_definition() {
        let cases = [
            (
                "FOR VALUES FROM ('20261100000000') TO ('20261200000000')",
                Some((Some(20261100000000), 20261200000000)),
            ),
            (
                "FOR VALUES FROM (MINVALUE) TO ('20261200000000')",
                Some((None, 20261200000000)),
            ),
            ("FOR VALUES FROM (1) TO (5)", Some((Some(1), 5))),
            ("DEFAULT", None),
            ("FOR VALUES FROM ('x') TO ('5')", None),
            ("FOR VALUES FROM (MINVALUE) TO (MAXVALUE)", None),
        ];
        for (expr, want) in cases {
            assert_eq!(parse_bound(expr), want, "{expr}");
        }
    }

    fn month(m: i64) -> StoredMonth {
        StoredMonth {
            month: m.to_string(),
            first_id: Some(month_base(m)),
            end_id: month_base(if m % 100 == 12 { m + 89 } else { m + 1 }),
        }
    }

    #[test]
    fn a_month_holds_the_ids_of_its_range() {
        let m = month(202611);
        let legacy = StoredMonth {
            month: "legacy".into(),
            first_id: None,
            end_id: month_base(202611),
        };
        for (month, id, want) in [
            (&m, 20261100000001, true),
            (&m, 20261199999999, true),
            (&m, 20261200000000, false),
            (&m, 20261099999999, false),
            (&legacy, 7, true),
            (&legacy, 20261100000000, false),
        ] {
            assert_eq!(month.contains(id), want, "{} {id}", month.month);
        }
        assert_eq!(m.holds("x"), "x >= 20261100000000 AND x < 20261200000000");
        assert_eq!(legacy.holds("x"), "x < 20261100000000");
        assert_eq!(month(202612).end_id, month_base(202701));
    }

    #[test]
    fn a_month_stays_while_open_or_while_a_report_of_a_month_that_stays_was_merged_into_it() {
        let months = [month(202609), month(202610), month(202611)];
        let (sep, oct, nov) = (20260900000005, 20261000000005, 20261100000005);
        let dec = 20261200000005; // a month not looked at (still written to)
        type Case = (&'static str, [i64; 3], Vec<(i64, i64)>, Vec<(bool, i64)>);
        let cases: Vec<Case> = vec![
            ("all closed", [0, 0, 0], vec![], vec![(false, 0); 3]),
            (
                "an open order keeps its month only",
                [0, 2, 0],
                vec![],
                vec![(false, 0), (true, 0), (false, 0)],
            ),
            (
                "merges among months that go",
                [0, 0, 0],
                vec![(oct, sep), (nov, sep), (oct + 1, oct)],
                vec![(false, 0); 3],
            ),
            (
                "a report of a later month merged in keeps it",
                [0, 0, 0],
                vec![(dec, oct)],
                vec![(false, 0), (true, 1), (false, 0)],
            ),
            (
                "and a month kept keeps the month its reports were merged into",
                [0, 0, 1],
                vec![(nov, oct), (oct, sep)],
                vec![(true, 1), (true, 1), (true, 0)],
            ),
            (
                "a merge out of a month that goes into one that stays keeps nothing",
                [0, 1, 0],
                vec![(sep, oct)],
                vec![(false, 0), (true, 0), (false, 0)],
            ),
        ];
        for (name, open, merged, want) in cases {
            assert_eq!(months_kept(&months, &open, &merged), want, "{name}");
        }
    }
}
