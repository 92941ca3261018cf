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
// (photos, reporters, idempotency keys, callers, Open311 ids: the key is NOT NULL) are moved
// out; rows that can (a dispute, risk, visit, points award or notice converted from or about
// the event) stay with their link set to NULL, their copy keeping it. PostgreSQL refuses to
// detach a partition that a row elsewhere still refers to, which guards the step. Second, the
// schema is written to a file (`pg_dump`) and its tables dropped; a month whose file could not
// be written waits in the schema for the next run. The counters behind the figures are not
// touched: they are the archived months' figures.

/// The schema a month of events waits in between the event tables and its file.
pub const ARCHIVE_SCHEMA: &str = "shanzhi_archive";

/// Order states that still need work: a month holding one stays.
const OPEN_STATES: &str = "'reported', 'accepted', 'dispatched', 'in_progress', 'resolved'";

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

fn postgres(db: &Db) -> Result<&sqlx::PgPool, StoreError> {
    match db {
        Db::Postgres(pool) => Ok(pool),
        Db::Sqlite { .. } => Err(StoreError::Other(anyhow::anyhow!(
            "months of events are archived on PostgreSQL only: a SQLite database keeps one event \
             table (copy it whole with `shanzhi backup`)"
        ))),
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

/// Moves every month of events that ends by `before` (a month's first id) out of the event
/// tables into [`ARCHIVE_SCHEMA`], in one transaction, unless it still holds an open order or a
/// report of a month that stays was merged into one of its orders. Answers what was found in
/// each month. Waits at most ten seconds for the tables' locks; while it runs, writes to the
/// months it looks at wait, and the detaching holds the event tables for a moment at its end.
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
    let mut found = Vec::new();
    for m in &months {
        let (event, log) = (
            format!("event_{}", m.month),
            format!("event_log_{}", m.month),
        );
        // Writes to the month wait from here on (reads go on).
        sqlx::query(&format!(
            "LOCK TABLE \"{event}\", \"{log}\" IN EXCLUSIVE MODE"
        ))
        .execute(&mut *tx)
        .await?;
        let (events, open): (i64, i64) = sqlx::query_as(&format!(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE state IN ({OPEN_STATES})) FROM \"{event}\""
        ))
        .fetch_one(&mut *tx)
        .await?;
        let lines: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{log}\""))
            .fetch_one(&mut *tx)
            .await?;
        found.push(MonthArchive {
            month: m.month.clone(),
            events,
            lines,
            open,
            ..MonthArchive::default()
        });
    }
    // A report merged into an order of an archived month goes with it or keeps it: the months
    // that go must not be referred to by one that stays.
    let merged: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, merged_into FROM event WHERE merged_into IS NOT NULL AND merged_into < $1",
    )
    .bind(before)
    .fetch_all(&mut *tx)
    .await?;
    let mut kept: Vec<bool> = found.iter().map(|f| f.open > 0).collect();
    loop {
        let going: Vec<&StoredMonth> = months
            .iter()
            .zip(&kept)
            .filter(|(_, k)| !**k)
            .map(|(m, _)| m)
            .collect();
        let mut changed = false;
        for ((m, f), k) in months.iter().zip(found.iter_mut()).zip(kept.iter_mut()) {
            f.merged_from_kept = merged
                .iter()
                .filter(|(id, into)| m.contains(*into) && !going.iter().any(|g| g.contains(*id)))
                .count() as i64;
            if !*k && f.merged_from_kept > 0 {
                *k = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // The tables whose rows refer to an event, and whether such a row can live without it.
    let referring: Vec<(String, String, String, bool)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, t.relname::text, a.attname::text, a.attnotnull \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
         WHERE c.contype = 'f' AND c.confrelid = 'event'::regclass AND c.conparentid = 0 \
           AND c.conrelid NOT IN ('event'::regclass, 'event_log'::regclass) ORDER BY 2",
    )
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {ARCHIVE_SCHEMA}"))
        .execute(&mut *tx)
        .await?;
    // PostgreSQL checks, when a partition is detached, that no row of the partitioned table
    // refers to it, the partition's own rows included: the merges among the months that go
    // are set aside and written into their copies once detached.
    let going: Vec<&StoredMonth> = months
        .iter()
        .zip(&kept)
        .filter(|(_, k)| !**k)
        .map(|(m, _)| m)
        .collect();
    if !going.is_empty() {
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
        sqlx::query(
            "UPDATE event SET merged_into = NULL WHERE id IN (SELECT id FROM archive_merged)",
        )
        .execute(&mut *tx)
        .await?;
    }
    for ((m, f), _) in months
        .iter()
        .zip(found.iter_mut())
        .zip(&kept)
        .filter(|(_, k)| !**k)
    {
        for (table, name, col, not_null) in &referring {
            let holds = m.holds(&format!("\"{col}\""));
            sqlx::query(&format!(
                "CREATE TABLE {ARCHIVE_SCHEMA}.\"{name}_{month}\" AS SELECT * FROM {table} WHERE {holds}",
                month = m.month
            ))
            .execute(&mut *tx)
            .await?;
            let changed = if *not_null {
                format!("DELETE FROM {table} WHERE {holds}")
            } else {
                format!("UPDATE {table} SET \"{col}\" = NULL WHERE {holds}")
            };
            let n = sqlx::query(&changed)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            f.referring.insert(name.clone(), n as i64);
        }
        // The pictures of the month's orders go into the file too; they stay in the database,
        // where another record may show the same picture (photos are kept by their hash).
        if referring
            .iter()
            .any(|(_, name, _, _)| name == "event_photo")
        {
            sqlx::query(&format!(
                "CREATE TABLE {ARCHIVE_SCHEMA}.\"photo_{month}\" AS SELECT * FROM photo \
                 WHERE hash IN (SELECT hash FROM {ARCHIVE_SCHEMA}.\"event_photo_{month}\")",
                month = m.month
            ))
            .execute(&mut *tx)
            .await?;
        }
        // The timeline first (its key refers to the events), each partition's own foreign
        // keys dropped once it is on its own: the copy refers to nothing.
        for (parent, part) in [
            ("event_log", format!("event_log_{}", m.month)),
            ("event", format!("event_{}", m.month)),
        ] {
            sqlx::query(&format!("ALTER TABLE {parent} DETACH PARTITION \"{part}\""))
                .execute(&mut *tx)
                .await?;
            let keys: Vec<String> = sqlx::query_scalar(
                // A key to a partitioned table has a row per partition below its own: dropping
                // it drops them.
                "SELECT conname::text FROM pg_constraint WHERE contype = 'f' AND conrelid = $1::regclass AND conparentid = 0",
            )
            .bind(format!("\"{part}\""))
            .fetch_all(&mut *tx)
            .await?;
            for key in keys {
                sqlx::query(&format!("ALTER TABLE \"{part}\" DROP CONSTRAINT \"{key}\""))
                    .execute(&mut *tx)
                    .await?;
            }
            // Nor are ids drawn for it any more (the defaults name the live sequences).
            let defaults: Vec<String> = sqlx::query_scalar(
                "SELECT a.attname::text FROM pg_attrdef d JOIN pg_attribute a \
                 ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = $1::regclass",
            )
            .bind(format!("\"{part}\""))
            .fetch_all(&mut *tx)
            .await?;
            for col in defaults {
                sqlx::query(&format!(
                    "ALTER TABLE \"{part}\" ALTER COLUMN \"{col}\" DROP DEFAULT"
                ))
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(&format!(
                "ALTER TABLE \"{part}\" SET SCHEMA {ARCHIVE_SCHEMA}"
            ))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(&format!(
            "UPDATE {ARCHIVE_SCHEMA}.\"event_{}\" e SET merged_into = m.merged_into \
             FROM archive_merged m WHERE e.id = m.id",
            m.month
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
    if !archived.is_empty() {
        let months: Vec<&str> = archived.iter().map(|f| f.month.as_str()).collect();
        let entry = crate::audit::AuditEntry::new(
            None,
            "event.archive",
            "event_archive",
            months.join(","),
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
    }
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
        sqlx::query(&format!("DROP TABLE {ARCHIVE_SCHEMA}.\"{t}\""))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "UPDATE event_archive SET file = $1, sha256 = $2, exported_at = $3 WHERE month = ANY($4)",
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

    #[test]
    fn a_month_holds_the_ids_of_its_range() {
        let m = StoredMonth {
            month: "202611".into(),
            first_id: Some(month_base(202611)),
            end_id: month_base(202612),
        };
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
    }
}
