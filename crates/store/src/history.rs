//! Bulk writing of a generated history (the demo's year of events): events with explicit ids,
//! their timelines, and the counters recounted from them, in large multi-row transactions.

use serde_json::json;
use shanzhi_domain::event::figures::{Counters, COUNTER_COLUMNS};

use crate::audit::AuditEntry;
use crate::db::{Insert, WRITER_CACHE_KIB};
use crate::event::{EventRow, LogEntry, StatRows};
use crate::sqlite_load::{
    Loader, MaybeSqlite,
    Value::{self, Int, Real, Text},
};
use crate::{Db, StoreError};

/// The writer's page cache while a history loads, in KiB (see [`set_indexes_aside`]).
const LOAD_CACHE_KIB: i64 = 1_048_576;
/// Rows written per transaction.
const ROWS_PER_TRANSACTION: usize = 5_000;

/// A history's counters, ready to write: the day rows recounted from its timelines and, merged
/// beside them, the month and year rows (see [`crate::event::coarse_keys`]), in each table's
/// primary-key order so that they go into its B-tree side by side. Made off the writer (the demo
/// makes it on the thread that generates the history).
#[derive(Debug, Default)]
pub struct HistoryCounters {
    rows: StatRows,
    /// How many day rows of each table were given (the load's audit row counts those).
    day_rows: (usize, usize),
}

impl HistoryCounters {
    /// Merges the day rows `stats` `(node_path, day, dim, dim_id, counters)` and `hist`
    /// `(node_path, day, bucket, count)`, with their months and years. Rows of one node should
    /// come together (a recount yields them so); a node coming back later is merged all the same.
    pub fn new<'a>(
        stats: impl IntoIterator<Item = (&'a str, i64, &'a str, i64, &'a Counters)>,
        hist: impl IntoIterator<Item = (&'a str, i64, i64, i64)>,
    ) -> Self {
        let mut rows = StatRows::default();
        let day_stats = rows.add_rows(stats);
        let day_hist = rows.add_hists(hist);
        HistoryCounters {
            rows,
            day_rows: (day_stats, day_hist),
        }
    }
}

/// Writes a whole generated history into a database whose `event` ids are still free:
/// `events` keep their ids (so `merged_into` may point at earlier ones); timeline lines
/// (`(index into events, line, at)`) are numbered after any existing ones in the order given,
/// which should be time order; the `counters` are added to any counters already there.
/// One audit row ("demo.history") records the whole load, stamped with the history's latest
/// instant. On PostgreSQL the id sequences are moved past the explicit ids.
///
/// Rows go in 5,000 to a transaction: a failure part-way leaves the earlier transactions
/// written (the demo builds into a fresh database, and rebuilds it on the next run).
pub async fn insert_history(
    db: &Db,
    events: &[EventRow],
    logs: &[(usize, LogEntry, i64)],
    counters: &HistoryCounters,
) -> Result<(), StoreError> {
    // Check before writing anything, so a bad call leaves the database untouched.
    if let Some((i, _, _)) = logs.iter().find(|(i, _, _)| *i >= events.len()) {
        return Err(StoreError::Other(anyhow::anyhow!(
            "a timeline line names event #{i}, which is not in the history"
        )));
    }
    let started = std::time::Instant::now();
    // Past days' counters change: kept sums are dropped before (and again after) the load.
    crate::event::unsettle(db).await?;
    insert_events(db, events).await?;
    let events_s = started.elapsed().as_secs_f64();
    insert_logs(db, events, logs).await?;
    let logs_s = started.elapsed().as_secs_f64() - events_s;
    let stats: Vec<_> = counters.rows.counter_rows().collect();
    let hist: Vec<_> = counters.rows.hist_rows().collect();
    insert_stats(db, &stats).await?;
    insert_hist(db, &hist).await?;
    // Past days' counters changed: sums a server kept of them are stale.
    crate::event::unsettle(db).await?;
    // Where a large load spends its time (`RUST_LOG=shanzhi_store::history=debug`).
    tracing::debug!(
        events_s,
        logs_s,
        counters_s = started.elapsed().as_secs_f64() - events_s - logs_s,
        stat_rows = stats.len(),
        hist_rows = hist.len(),
        "wrote a part of the history"
    );
    follow_ids(db, "event").await?;
    follow_ids(db, "event_log").await?;
    let latest = logs
        .iter()
        .map(|(_, _, at)| *at)
        .chain(events.iter().map(|e| e.updated_at))
        .max()
        .unwrap_or(0);
    let (stat_rows, hist_rows) = counters.day_rows;
    audit_load(db, "event", json!({
        "events": events.len(), "lines": logs.len(), "stat_rows": stat_rows, "hist_rows": hist_rows,
    }), latest).await
}

/// Secondary indexes a bulk load has set aside: made again, each by one sort of its table, by
/// [`restore_indexes`].
#[must_use = "the indexes set aside must be made again with restore_indexes"]
pub struct IndexesAside(Vec<(String, String)>);

/// The tables a generated history writes: their secondary indexes are set aside for a large
/// load (see [`set_indexes_aside`]).
pub const HISTORY_TABLES: [&str; 4] = ["event", "event_log", "event_stat", "event_close_hist"];

/// On SQLite, drops the secondary, non-unique indexes of `tables` before a bulk load, so that
/// each row goes into its table's own B-tree only; [`restore_indexes`] makes them again after
/// the load from their stored definitions. Unique indexes and primary keys stay (the load's
/// upserts and its checks need them). The writer's page cache grows to 1 GiB meanwhile: the
/// counters' upserts of each part land all over tables that grow part by part, and reading
/// those pages back from the operating system's cache is most of their cost (city, 600,000
/// events: the counters of the last part 14.5 → 11 s, bench/NOTES.md). On PostgreSQL nothing
/// is set aside (its indexes on the partitioned event tables are made per partition).
///
/// Only for a database nobody else uses while it loads (the demo's build): a reader in the
/// meantime would scan where it used to seek.
pub async fn set_indexes_aside(db: &Db, tables: &[&str]) -> Result<IndexesAside, StoreError> {
    let Db::Sqlite { write: pool, .. } = db else {
        return Ok(IndexesAside(Vec::new()));
    };
    let mut aside = Vec::new();
    sqlx::query(&format!("PRAGMA cache_size = -{LOAD_CACHE_KIB}"))
        .execute(pool)
        .await?;
    let mut tx = pool.begin().await?;
    for table in tables {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? \
             AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
        )
        .bind(*table)
        .fetch_all(&mut *tx)
        .await?;
        for (name, sql) in rows {
            // Names read from the catalogue.
            sqlx::query(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
                .execute(&mut *tx)
                .await?;
            aside.push((name, sql));
        }
    }
    tx.commit().await?;
    Ok(IndexesAside(aside))
}

/// Makes again the indexes [`set_indexes_aside`] dropped, in one transaction, and gives the
/// writer back its usual page cache.
pub async fn restore_indexes(db: &Db, aside: IndexesAside) -> Result<(), StoreError> {
    let Db::Sqlite { write: pool, .. } = db else {
        return Ok(());
    };
    let started = std::time::Instant::now();
    if !aside.0.is_empty() {
        let mut tx = pool.begin().await?;
        for (_, sql) in &aside.0 {
            // The definitions the catalogue held.
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    sqlx::query(&format!("PRAGMA cache_size = -{WRITER_CACHE_KIB}"))
        .execute(pool)
        .await?;
    tracing::debug!(
        indexes = aside.0.len(),
        seconds = started.elapsed().as_secs_f64(),
        "made the indexes set aside for the load again"
    );
    Ok(())
}

/// The largest id stored in `table` (0 when empty): a bulk load numbers its rows after it.
pub(crate) async fn largest_id(db: &Db, table: &'static str) -> Result<i64, StoreError> {
    // A constant table name.
    let sql = format!("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM {table}");
    Ok(with_pool!(db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await?))
}

/// On PostgreSQL, moves `table`'s id sequence past the explicit ids a bulk load wrote, never
/// back (event ids are numbered from the month's range, above the history's own).
pub(crate) async fn follow_ids(db: &Db, table: &'static str) -> Result<(), StoreError> {
    if let Db::Postgres(pool) = db {
        // A constant table name.
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), \
             pg_sequence_last_value(pg_get_serial_sequence('{table}', 'id')::regclass)))"
        );
        sqlx::query(&sql).execute(pool).await?;
    }
    Ok(())
}

/// The one audit row of a generated history's load (`demo.history` on `entity` `*`), stamped
/// with the history's latest instant.
pub(crate) async fn audit_load(
    db: &Db,
    entity: &str,
    what: serde_json::Value,
    latest: i64,
) -> Result<(), StoreError> {
    let audit = AuditEntry::new(None, "demo.history", entity, "*").after(what);
    with_tx!(db, tx => {
        append_audit!(tx, &audit, latest);
    });
    Ok(())
}

async fn insert_events(db: &Db, events: &[EventRow]) -> Result<(), StoreError> {
    let columns: Vec<&str> = crate::event::COLUMNS.split(',').map(str::trim).collect();
    let insert = Insert::new(db, "event", &columns, "");
    for batch in events.chunks(ROWS_PER_TRANSACTION) {
        with_tx!(db, tx => {
            if let Some(conn) = MaybeSqlite::sqlite(&mut *tx) {
                let mut handle = conn.lock_handle().await?;
                let mut load = Loader::new(&mut handle, "event", &columns)?;
                for r in batch {
                    load.insert(&[
                        Int(r.id), Int(r.category_id), Text(&r.grid_code), Text(&r.centre_code), Text(&r.centre_path),
                        Text(&r.state), Text(&r.source), Text(&r.description), r.address.as_deref().into(), Real(r.lon), Real(r.lat),
                        r.position_known.into(), r.reporter_id.into(), r.department_id.into(), Int(r.priority), Text(&r.summoned), Int(r.returns),
                        Int(r.reopened), Int(r.reminders), Int(r.escalations), r.decision_required.into(), r.pending_extension.into(),
                        r.rating.into(), r.rating_comment.as_deref().into(), r.rated_at.into(), r.merged_into.into(), Int(r.stage_started_at),
                        r.due_at.into(), Text(&r.light), Text(&r.supervision), r.overdue_ever.into(), r.red_since.into(),
                        r.next_check_at.into(), Int(r.created_at), Int(r.updated_at), r.closed_at.into(), Int(r.version),
                        r.grid_stage.as_deref().into(), r.taken_by.into(),
                    ])?;
                }
            } else {
            insert_rows!(tx, &insert, batch, |q, r| q.bind(r.id).bind(r.category_id).bind(&r.grid_code).bind(&r.centre_code).bind(&r.centre_path)
                    .bind(&r.state).bind(&r.source).bind(&r.description).bind(&r.address).bind(r.lon).bind(r.lat)
                    .bind(r.position_known).bind(r.reporter_id).bind(r.department_id).bind(r.priority).bind(&r.summoned).bind(r.returns)
                    .bind(r.reopened).bind(r.reminders).bind(r.escalations).bind(r.decision_required).bind(r.pending_extension)
                    .bind(r.rating).bind(&r.rating_comment).bind(r.rated_at).bind(r.merged_into).bind(r.stage_started_at)
                    .bind(r.due_at).bind(&r.light).bind(&r.supervision).bind(r.overdue_ever).bind(r.red_since)
                    .bind(r.next_check_at).bind(r.created_at).bind(r.updated_at).bind(r.closed_at).bind(r.version)
                    .bind(&r.grid_stage).bind(r.taken_by));
            }
        });
    }
    Ok(())
}

async fn insert_logs(
    db: &Db,
    events: &[EventRow],
    logs: &[(usize, LogEntry, i64)],
) -> Result<(), StoreError> {
    const COLUMNS: [&str; 9] = [
        "id",
        "event_id",
        "at",
        "actor_id",
        "action",
        "from_state",
        "to_state",
        "note",
        "data",
    ];
    let base = largest_id(db, "event_log").await?;
    let event_id = |i: usize| -> Result<i64, StoreError> {
        events.get(i).map(|e| e.id).ok_or_else(|| {
            StoreError::Other(anyhow::anyhow!(
                "timeline line for event #{i}, which is not in the history"
            ))
        })
    };
    let insert = Insert::new(db, "event_log", &COLUMNS, "");
    let mut next_id = base;
    for batch in logs.chunks(ROWS_PER_TRANSACTION) {
        with_tx!(db, tx => {
            if let Some(conn) = MaybeSqlite::sqlite(&mut *tx) {
                let mut handle = conn.lock_handle().await?;
                let mut load = Loader::new(&mut handle, "event_log", &COLUMNS)?;
                for (i, l, at) in batch {
                    next_id += 1;
                    let data = l.data.to_string();
                    load.insert(&[
                        Int(next_id), Int(event_id(*i)?), Int(*at), l.actor_id.into(), Text(&l.action),
                        l.from_state.as_deref().into(), Text(&l.to_state), l.note.as_deref().into(), Text(&data),
                    ])?;
                }
            } else {
            insert_rows!(tx, &insert, batch, |q, (i, l, at)| {
                next_id += 1;
                q = q.bind(next_id).bind(event_id(*i)?).bind(*at).bind(l.actor_id).bind(&l.action).bind(&l.from_state)
                    .bind(&l.to_state).bind(&l.note).bind(l.data.to_string());
                q
            });
            }
        });
    }
    Ok(())
}

async fn insert_stats(
    db: &Db,
    stats: &[(&str, i64, &str, i64, &Counters)],
) -> Result<(), StoreError> {
    let mut columns: Vec<&str> = vec!["node_path", "day", "dim", "dim_id"];
    columns.extend(COUNTER_COLUMNS);
    let sets: Vec<String> = COUNTER_COLUMNS
        .iter()
        .map(|c| format!("{c} = event_stat.{c} + excluded.{c}"))
        .collect();
    let suffix = format!(
        " ON CONFLICT (node_path, dim, dim_id, day) DO UPDATE SET {}",
        sets.join(", ")
    );
    let insert = Insert::new(db, "event_stat", &columns, &suffix);
    let one = format!(
        "INSERT INTO event_stat ({}) VALUES ({}){suffix}",
        columns.join(", "),
        vec!["?"; columns.len()].join(", ")
    );
    for batch in stats.chunks(ROWS_PER_TRANSACTION) {
        with_tx!(db, tx => {
            if let Some(conn) = MaybeSqlite::sqlite(&mut *tx) {
                let mut handle = conn.lock_handle().await?;
                let mut load = Loader::prepare(&mut handle, &one, columns.len())?;
                let mut row: Vec<Value<'_>> = Vec::with_capacity(columns.len());
                for (path, day, dim, dim_id, c) in batch {
                    row.clear();
                    row.extend([Text(path), Int(*day), Text(dim), Int(*dim_id)]);
                    row.extend(c.values().into_iter().map(Int));
                    load.insert(&row)?;
                }
            } else {
            insert_rows!(tx, &insert, batch, |q, (path, day, dim, dim_id, c)| {
                q = q.bind(path).bind(*day).bind(dim).bind(*dim_id);
                for v in c.values() {
                    q = q.bind(v);
                }
                q
            });
            }
        });
    }
    Ok(())
}

async fn insert_hist(db: &Db, hist: &[(&str, i64, i64, i64)]) -> Result<(), StoreError> {
    const COLUMNS: [&str; 4] = ["node_path", "day", "bucket", "count"];
    let suffix = " ON CONFLICT (node_path, day, bucket) DO UPDATE SET count = event_close_hist.count + excluded.count";
    let insert = Insert::new(db, "event_close_hist", &COLUMNS, suffix);
    let one = format!(
        "INSERT INTO event_close_hist ({}) VALUES (?, ?, ?, ?){suffix}",
        COLUMNS.join(", ")
    );
    for batch in hist.chunks(ROWS_PER_TRANSACTION) {
        with_tx!(db, tx => {
            if let Some(conn) = MaybeSqlite::sqlite(&mut *tx) {
                let mut handle = conn.lock_handle().await?;
                let mut load = Loader::prepare(&mut handle, &one, COLUMNS.len())?;
                for (path, day, bucket, count) in batch {
                    load.insert(&[Text(path), Int(*day), Int(*bucket), Int(*count)])?;
                }
            } else {
            insert_rows!(tx, &insert, batch, |q, (path, day, bucket, count)| q.bind(path).bind(*day).bind(*bucket).bind(*count));
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use shanzhi_domain::event::figures::Counters;

    use super::HistoryCounters;
    use crate::db::{insert_sql, rows_per_statement};
    use crate::Engine;

    fn reported(n: i64) -> Counters {
        Counters {
            reported: n,
            ..Counters::default()
        }
    }

    #[test]
    fn history_counters_add_months_and_years_in_key_order() {
        let stats = [
            ("a.b", 20_260_302, "category", 7, reported(2)),
            ("a", 20_260_301, "all", 0, reported(1)),
            ("a", 20_260_302, "all", 0, reported(4)),
            ("a", 20_251_231, "all", 0, reported(8)),
            // A node coming back after another's rows is merged with its first run.
            ("a.b", 20_260_302, "category", 7, reported(16)),
        ];
        let hist = [("a", 20_260_302, 3, 5), ("a", 20_260_301, 3, 6)];
        let c = HistoryCounters::new(
            stats
                .iter()
                .map(|(p, day, dim, id, c)| (*p, *day, *dim, *id, c)),
            hist,
        );
        assert_eq!(c.day_rows, (5, 2));
        let keys: Vec<(&str, &str, i64, i64, i64)> = c
            .rows
            .counter_rows()
            .map(|(p, day, dim, id, c)| (p, dim, id, day, c.reported))
            .collect();
        // Per (node, dim, id): months, then years (negative keys, in number order), then days.
        assert_eq!(
            keys,
            [
                ("a", "all", 0, -202603, 5),
                ("a", "all", 0, -202512, 8),
                ("a", "all", 0, -2026, 5),
                ("a", "all", 0, -2025, 8),
                ("a", "all", 0, 20_251_231, 8),
                ("a", "all", 0, 20_260_301, 1),
                ("a", "all", 0, 20_260_302, 4),
                ("a.b", "category", 7, -202603, 18),
                ("a.b", "category", 7, -2026, 18),
                ("a.b", "category", 7, 20_260_302, 18),
            ]
        );
        let hist: Vec<(&str, i64, i64, i64)> = c.rows.hist_rows().collect();
        assert_eq!(
            hist,
            [
                ("a", -202603, 3, 11),
                ("a", -2026, 3, 11),
                ("a", 20_260_301, 3, 6),
                ("a", 20_260_302, 3, 5),
            ]
        );
    }

    #[test]
    fn placeholders_number_every_value_once() {
        let sql = insert_sql(
            "t",
            &["a", "b"],
            2,
            " ON CONFLICT DO NOTHING",
            Engine::Postgres,
        );
        assert_eq!(
            sql,
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
        let sql = insert_sql("t", &["a", "b"], 2, "", Engine::Sqlite);
        assert_eq!(sql, "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)");
        assert_eq!(rows_per_statement(36), 27);
        assert_eq!(rows_per_statement(0), 1000);
    }
}
