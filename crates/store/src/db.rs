//! Connecting to either engine, running migrations, and the macros that write a query once.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::StoreError;

/// The SQLite writer's page cache, in KiB (each reader has 16 MiB): a bulk load gives it more
/// for its own time (`history::set_indexes_aside`).
pub(crate) const WRITER_CACHE_KIB: i64 = 65_536;

/// A pool on one of the two engines.
#[derive(Clone)]
pub enum Db {
    /// SQLite: readers share `read`; every write transaction queues for the one connection of
    /// `write` (SQLite has one writer anyway: a queue in the pool is fairer and cheaper than
    /// sleeping on the busy timeout). The writer commits with `synchronous=FULL`. `direct`
    /// reads a file's short, bounded questions on the caller's thread
    /// ([`crate::sqlite_read`]); `None` for an in-memory database.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
        direct: Option<std::sync::Arc<crate::sqlite_read::Readers>>,
    },
    Postgres(PgPool),
}

/// Which engine a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The engine a URL's scheme selects.
    pub fn of_url(url: &str) -> anyhow::Result<Engine> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Engine::Postgres)
        } else {
            anyhow::bail!("database URL must start with sqlite:// or postgres://")
        }
    }
}

/// Runs `$body` with `$pool` bound to the engine's pool. The body is compiled once per engine,
/// so the same SQL text is checked against each driver's types.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite { read: $pool, .. } => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` inside a write transaction bound to `$tx` and commits it; an early `?` return
/// drops the transaction, which rolls it back. On SQLite the transaction is `BEGIN IMMEDIATE`:
/// it takes the write lock up front (waiting on the busy timeout) instead of failing on upgrade.
#[macro_export]
macro_rules! with_tx {
    ($db:expr, $tx:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite { write: pool, .. } => {
                let mut $tx = pool
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err($crate::StoreError::from)?;
                let out = $body;
                $tx.commit().await.map_err($crate::StoreError::from)?;
                out
            }
            $crate::db::Db::Postgres(pool) => {
                let mut $tx = pool.begin().await.map_err($crate::StoreError::from)?;
                let out = $body;
                $tx.commit().await.map_err($crate::StoreError::from)?;
                out
            }
        }
    };
}

/// Binds each [`crate::event::Bind`] of `$binds` (an iterator of `&Bind`) to the query `$q`,
/// in order: for queries whose conditions are built from filters.
#[macro_export]
macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                $crate::event::Bind::Text(s) => q.bind(s.clone()),
                $crate::event::Bind::Int(i) => q.bind(*i),
                $crate::event::Bind::Bytes(v) => q.bind(v.clone()),
            };
        }
        q
    }};
}

/// The engine behind an open transaction (for SQL text that must differ, such as placeholders).
pub fn engine_of<DB: sqlx::Database>(_: &sqlx::Transaction<'_, DB>) -> Engine {
    if DB::NAME == <sqlx::Sqlite as sqlx::Database>::NAME {
        Engine::Sqlite
    } else {
        Engine::Postgres
    }
}

/// The rows `sql_of(placeholders)` selects for each of `ids`, bound `per` at a time (keep it
/// well under both engines' limits on parameters; 500 is safe): `sql_of` gets `$1, $2, …` for
/// an `IN (…)` list. Rows come chunk by chunk, each in the order its query gives.
pub async fn fetch_by_ids<T>(
    db: &Db,
    ids: &[i64],
    per: usize,
    sql_of: impl Fn(&str) -> String,
) -> Result<Vec<T>, StoreError>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    fetch_by_keys(db, ids, per, sql_of).await
}

/// [`fetch_by_ids`] for keys of any type both engines bind and own (`String` codes, paths).
pub async fn fetch_by_keys<K, T>(
    db: &Db,
    keys: &[K],
    per: usize,
    sql_of: impl Fn(&str) -> String,
) -> Result<Vec<T>, StoreError>
where
    K: Sync
        + sqlx::Type<sqlx::Sqlite>
        + sqlx::Type<sqlx::Postgres>
        + for<'q> sqlx::Encode<'q, sqlx::Sqlite>
        + for<'q> sqlx::Encode<'q, sqlx::Postgres>,
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(per) {
        let ps: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = sql_of(&ps.join(", "));
        let rows: Vec<T> = with_pool!(db, pool => {
            let mut q = sqlx::query_as(&sql);
            for key in chunk {
                q = q.bind(key);
            }
            q.fetch_all(pool).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// Bound parameters per statement, kept well under both engines' limits (SQLite 32,766,
/// PostgreSQL 65,535) while long enough that a statement carries many rows.
pub const PARAMS_PER_STATEMENT: usize = 1_000;

/// `INSERT INTO table (columns) VALUES (…), (…)` for `rows` rows, then `suffix`, with the
/// engine's placeholders ([`tuples`]: `?` on SQLite, where `$N` binds quadratically — a city's
/// 357,000 counter rows took 13 s with `$N`, 3 s with `?`). The text is made of constants and
/// placeholders only: every value is bound.
pub fn insert_sql(
    table: &str,
    columns: &[&str],
    rows: usize,
    suffix: &str,
    engine: Engine,
) -> String {
    format!(
        "INSERT INTO {table} ({}) VALUES {}{suffix}",
        columns.join(", "),
        tuples(engine, rows, columns.len())
    )
}

/// Rows per statement for a table of `columns` columns.
pub fn rows_per_statement(columns: usize) -> usize {
    (PARAMS_PER_STATEMENT / columns.max(1)).max(1)
}

/// Inserts the rows of the slice `$rows` inside the open transaction `$tx` with the multi-row
/// statements of `$insert` (an [`Insert`]), binding each row with `|query, row| query.bind(…)`.
#[macro_export]
macro_rules! insert_rows {
    ($tx:expr, $insert:expr, $rows:expr, |$q:ident, $r:pat_param| $bind:expr) => {{
        let insert: &$crate::db::Insert<'_> = $insert;
        for chunk in $rows.chunks(insert.per) {
            let sql = insert.sql(chunk.len());
            let mut $q = sqlx::query(&sql);
            for $r in chunk {
                $q = $bind;
            }
            $q.execute(&mut *$tx).await?;
        }
    }};
}

/// The statements of one table: the one for a full chunk is built once and reused.
pub struct Insert<'a> {
    table: &'a str,
    columns: &'a [&'a str],
    suffix: &'a str,
    engine: Engine,
    pub per: usize,
    full: String,
}

impl<'a> Insert<'a> {
    pub fn new(db: &Db, table: &'a str, columns: &'a [&'a str], suffix: &'a str) -> Self {
        let engine = db.engine();
        let per = rows_per_statement(columns.len());
        Insert {
            table,
            columns,
            suffix,
            engine,
            per,
            full: insert_sql(table, columns, per, suffix, engine),
        }
    }

    /// The statement for `rows` rows (the shorter last chunk gets its own).
    pub fn sql(&self, rows: usize) -> std::borrow::Cow<'_, str> {
        if rows == self.per {
            std::borrow::Cow::Borrowed(&self.full)
        } else {
            std::borrow::Cow::Owned(insert_sql(
                self.table,
                self.columns,
                rows,
                self.suffix,
                self.engine,
            ))
        }
    }
}

/// `(…), (…)`: `rows` value tuples of `cols` placeholders each, numbered from `$1` on
/// PostgreSQL and anonymous `?` on SQLite. SQLite reads `$N` as a *name* and finds each one by
/// a scan of all names, which makes binding a long multi-row statement quadratic.
pub fn tuples(engine: Engine, rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            match engine {
                Engine::Sqlite => out.push('?'),
                Engine::Postgres => {
                    out.push('$');
                    out.push_str(&(r * cols + c + 1).to_string());
                }
            }
        }
        out.push(')');
    }
    out
}

/// Splits `items` into runs whose lengths are powers of two of at most `max` (a power of two):
/// multi-row statements then come in a handful of shapes, which stay in the prepared-statement
/// cache instead of being compiled afresh for every odd length.
pub fn pow2_chunks<T>(items: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = if rest.len() >= max {
            max
        } else {
            1 << (usize::BITS - 1 - rest.len().leading_zeros())
        };
        let (now, later) = rest.split_at(n);
        rest = later;
        Some(now)
    })
}

/// The URL with any password replaced by `***`, for logs and `Debug`.
const REPLICA_APP: &str = "shanzhi-replica";

/// A PostgreSQL WAL position written `X/Y` (hex halves) as one number.
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (hi, lo) = text.trim().split_once('/')?;
    Some((u64::from_str_radix(hi, 16).ok()? << 32) | u64::from_str_radix(lo, 16).ok()?)
}

pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((creds, host)) = rest.rsplit_once('@') {
            let user = creds.split(':').next().unwrap_or("");
            return format!("{scheme}://{user}:***@{host}");
        }
    }
    url.to_owned()
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Db::Sqlite { .. } => f.write_str("Db::Sqlite"),
            Db::Postgres(_) => f.write_str("Db::Postgres"),
        }
    }
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "0001_spine",
        include_str!("../migrations/sqlite/0001_spine.sql"),
    ),
    (
        2,
        "0002_event",
        include_str!("../migrations/sqlite/0002_event.sql"),
    ),
    (
        3,
        "0003_open311",
        include_str!("../migrations/sqlite/0003_open311.sql"),
    ),
    (
        4,
        "0004_open_index",
        include_str!("../migrations/sqlite/0004_open_index.sql"),
    ),
    (
        5,
        "0005_login_throttle",
        include_str!("../migrations/sqlite/0005_login_throttle.sql"),
    ),
    (
        6,
        "0006_open311_position",
        include_str!("../migrations/sqlite/0006_open311_position.sql"),
    ),
    (
        7,
        "0007_photo_upload",
        include_str!("../migrations/sqlite/0007_photo_upload.sql"),
    ),
    (
        8,
        "0008_grid_first",
        include_str!("../migrations/sqlite/0008_grid_first.sql"),
    ),
    (
        9,
        "0009_notice_people",
        include_str!("../migrations/sqlite/0009_notice_people.sql"),
    ),
    (
        10,
        "0010_event_caller",
        include_str!("../migrations/sqlite/0010_event_caller.sql"),
    ),
    (
        11,
        "0011_audit_actor",
        include_str!("../migrations/sqlite/0011_audit_actor.sql"),
    ),
    (
        12,
        "0012_pii_sealed",
        include_str!("../migrations/sqlite/0012_pii_sealed.sql"),
    ),
    (
        13,
        "0013_resident",
        include_str!("../migrations/sqlite/0013_resident.sql"),
    ),
    (
        14,
        "0014_correction",
        include_str!("../migrations/sqlite/0014_correction.sql"),
    ),
    (
        15,
        "0015_place",
        include_str!("../migrations/sqlite/0015_place.sql"),
    ),
    (
        16,
        "0016_care",
        include_str!("../migrations/sqlite/0016_care.sql"),
    ),
    (
        17,
        "0017_dispute",
        include_str!("../migrations/sqlite/0017_dispute.sql"),
    ),
    (
        18,
        "0018_resident_idx",
        include_str!("../migrations/sqlite/0018_resident_idx.sql"),
    ),
    (
        19,
        "0019_risk",
        include_str!("../migrations/sqlite/0019_risk.sql"),
    ),
    (
        20,
        "0020_warning",
        include_str!("../migrations/sqlite/0020_warning.sql"),
    ),
    (
        21,
        "0021_briefing",
        include_str!("../migrations/sqlite/0021_briefing.sql"),
    ),
    (
        22,
        "0022_ledger",
        include_str!("../migrations/sqlite/0022_ledger.sql"),
    ),
    (
        23,
        "0023_public_affairs",
        include_str!("../migrations/sqlite/0023_public_affairs.sql"),
    ),
    (
        25,
        "0025_points",
        include_str!("../migrations/sqlite/0025_points.sql"),
    ),
    (
        26,
        "0026_contract",
        include_str!("../migrations/sqlite/0026_contract.sql"),
    ),
    (
        27,
        "0027_participation",
        include_str!("../migrations/sqlite/0027_participation.sql"),
    ),
    (
        28,
        "0028_coarse_counters",
        include_str!("../migrations/sqlite/0028_coarse_counters.sql"),
    ),
    (
        29,
        "0029_stat_journal",
        include_str!("../migrations/sqlite/0029_stat_journal.sql"),
    ),
    (
        30,
        "0030_stat_clustered",
        include_str!("../migrations/sqlite/0030_stat_clustered.sql"),
    ),
    (
        31,
        "0031_job_lease",
        include_str!("../migrations/sqlite/0031_job_lease.sql"),
    ),
    (
        32,
        "0032_change_notify",
        include_str!("../migrations/sqlite/0032_change_notify.sql"),
    ),
    (
        33,
        "0033_session_write",
        include_str!("../migrations/sqlite/0033_session_write.sql"),
    ),
    (
        34,
        "0034_event_partitions",
        include_str!("../migrations/sqlite/0034_event_partitions.sql"),
    ),
    (
        35,
        "0035_event_archive",
        include_str!("../migrations/sqlite/0035_event_archive.sql"),
    ),
    (
        36,
        "0036_event_grid_list",
        include_str!("../migrations/sqlite/0036_event_grid_list.sql"),
    ),
    (
        37,
        "0037_stat_settled",
        include_str!("../migrations/sqlite/0037_stat_settled.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "0001_spine",
        include_str!("../migrations/postgres/0001_spine.sql"),
    ),
    (
        2,
        "0002_event",
        include_str!("../migrations/postgres/0002_event.sql"),
    ),
    (
        3,
        "0003_open311",
        include_str!("../migrations/postgres/0003_open311.sql"),
    ),
    (
        4,
        "0004_open_index",
        include_str!("../migrations/postgres/0004_open_index.sql"),
    ),
    (
        5,
        "0005_login_throttle",
        include_str!("../migrations/postgres/0005_login_throttle.sql"),
    ),
    (
        6,
        "0006_open311_position",
        include_str!("../migrations/postgres/0006_open311_position.sql"),
    ),
    (
        7,
        "0007_photo_upload",
        include_str!("../migrations/postgres/0007_photo_upload.sql"),
    ),
    (
        8,
        "0008_grid_first",
        include_str!("../migrations/postgres/0008_grid_first.sql"),
    ),
    (
        9,
        "0009_notice_people",
        include_str!("../migrations/postgres/0009_notice_people.sql"),
    ),
    (
        10,
        "0010_event_caller",
        include_str!("../migrations/postgres/0010_event_caller.sql"),
    ),
    (
        11,
        "0011_audit_actor",
        include_str!("../migrations/postgres/0011_audit_actor.sql"),
    ),
    (
        12,
        "0012_pii_sealed",
        include_str!("../migrations/postgres/0012_pii_sealed.sql"),
    ),
    (
        13,
        "0013_resident",
        include_str!("../migrations/postgres/0013_resident.sql"),
    ),
    (
        14,
        "0014_correction",
        include_str!("../migrations/postgres/0014_correction.sql"),
    ),
    (
        15,
        "0015_place",
        include_str!("../migrations/postgres/0015_place.sql"),
    ),
    (
        16,
        "0016_care",
        include_str!("../migrations/postgres/0016_care.sql"),
    ),
    (
        17,
        "0017_dispute",
        include_str!("../migrations/postgres/0017_dispute.sql"),
    ),
    (
        18,
        "0018_resident_idx",
        include_str!("../migrations/postgres/0018_resident_idx.sql"),
    ),
    (
        19,
        "0019_risk",
        include_str!("../migrations/postgres/0019_risk.sql"),
    ),
    (
        20,
        "0020_warning",
        include_str!("../migrations/postgres/0020_warning.sql"),
    ),
    (
        21,
        "0021_briefing",
        include_str!("../migrations/postgres/0021_briefing.sql"),
    ),
    (
        22,
        "0022_ledger",
        include_str!("../migrations/postgres/0022_ledger.sql"),
    ),
    (
        23,
        "0023_public_affairs",
        include_str!("../migrations/postgres/0023_public_affairs.sql"),
    ),
    (
        25,
        "0025_points",
        include_str!("../migrations/postgres/0025_points.sql"),
    ),
    (
        26,
        "0026_contract",
        include_str!("../migrations/postgres/0026_contract.sql"),
    ),
    (
        27,
        "0027_participation",
        include_str!("../migrations/postgres/0027_participation.sql"),
    ),
    (
        28,
        "0028_coarse_counters",
        include_str!("../migrations/postgres/0028_coarse_counters.sql"),
    ),
    (
        29,
        "0029_stat_journal",
        include_str!("../migrations/postgres/0029_stat_journal.sql"),
    ),
    (
        30,
        "0030_stat_clustered",
        include_str!("../migrations/postgres/0030_stat_clustered.sql"),
    ),
    (
        31,
        "0031_job_lease",
        include_str!("../migrations/postgres/0031_job_lease.sql"),
    ),
    (
        32,
        "0032_change_notify",
        include_str!("../migrations/postgres/0032_change_notify.sql"),
    ),
    (
        33,
        "0033_session_write",
        include_str!("../migrations/postgres/0033_session_write.sql"),
    ),
    (
        34,
        "0034_event_partitions",
        include_str!("../migrations/postgres/0034_event_partitions.sql"),
    ),
    (
        35,
        "0035_event_archive",
        include_str!("../migrations/postgres/0035_event_archive.sql"),
    ),
    (
        36,
        "0036_event_grid_list",
        include_str!("../migrations/postgres/0036_event_grid_list.sql"),
    ),
    (
        37,
        "0037_stat_settled",
        include_str!("../migrations/postgres/0037_stat_settled.sql"),
    ),
];

impl Db {
    /// Connects to the database the URL names. SQLite files are created if missing and opened
    /// in WAL mode with foreign keys on and a busy timeout.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        Self::open(url, max_connections, SqliteSynchronous::Full).await
    }

    /// Connects to a PostgreSQL streaming replica for reads (issue 18): its sessions are
    /// read-only and named `shanzhi-replica`, which [`Db::is_replica`] checks.
    pub async fn connect_replica(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        anyhow::ensure!(
            Engine::of_url(url)? == Engine::Postgres,
            "a replica is a PostgreSQL server: {}",
            redact_url(url)
        );
        let opts = PgConnectOptions::from_str(url)
            .with_context(|| format!("bad PostgreSQL URL {}", redact_url(url)))?
            .application_name(REPLICA_APP)
            .options([("default_transaction_read_only", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(opts);
        Ok(Db::Postgres(pool))
    }

    /// Is this a replica's pool ([`Db::connect_replica`])? Nothing may be written through it.
    pub fn is_replica(&self) -> bool {
        match self {
            Db::Postgres(pool) => {
                pool.connect_options().get_application_name() == Some(REPLICA_APP)
            }
            Db::Sqlite { .. } => false,
        }
    }

    /// How far a replica has replayed the primary's WAL (`pg_last_wal_replay_lsn`), or the
    /// primary's own position (`pg_current_wal_insert_lsn`: everything committed so far, also
    /// with asynchronous commits); `None` on SQLite.
    pub async fn wal_position(&self) -> Result<Option<u64>, StoreError> {
        let Db::Postgres(pool) = self else {
            return Ok(None);
        };
        let sql = if self.is_replica() {
            "SELECT pg_last_wal_replay_lsn()::text"
        } else {
            "SELECT pg_current_wal_insert_lsn()::text"
        };
        let text: Option<String> = sqlx::query_scalar(sql).fetch_one(pool).await?;
        Ok(text.as_deref().and_then(parse_lsn))
    }

    /// Connects for building a database that is thrown away if the build stops part-way (the
    /// demo, rebuilt from nothing on every run): on SQLite the writer does not wait for the
    /// disk at each commit (`synchronous=OFF`), so the thousands of small transactions the
    /// live code paths make while the demo writes its cases cost no fsync each. Close it when
    /// the build is done and serve through [`Db::connect`]. PostgreSQL is opened as usual.
    pub async fn connect_for_build(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        Self::open(url, max_connections, SqliteSynchronous::Off).await
    }

    async fn open(
        url: &str,
        max_connections: u32,
        writer_sync: SqliteSynchronous,
    ) -> anyhow::Result<Db> {
        match Engine::of_url(url)? {
            Engine::Sqlite => {
                let opts = SqliteConnectOptions::from_str(url)
                    .with_context(|| format!("bad SQLite URL {}", redact_url(url)))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .pragma("temp_store", "memory");
                // The writer first: it creates the file and switches it to WAL. FULL: a commit
                // is on disk (WAL fsynced) before it returns, so an acknowledged write survives
                // a power cut, not only a crash. Group commits keep that affordable.
                // No ping before each acquire: a dead file handle fails the statement anyway,
                // and the ping is a round trip to the connection's thread on every write.
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(60))
                    .connect_with(
                        opts.clone()
                            .synchronous(writer_sync)
                            .statement_cache_capacity(400)
                            .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
                            // The server copies the WAL into the file in the background
                            // (`Db::checkpoint`, about once a second), off the commit path. Under
                            // steady writes that copy never catches up with the last frame, so
                            // the WAL starts over only after the writer checkpoints itself: when
                            // it outgrows 1 GiB. Each of those stalls every commit behind it; at
                            // 64 MiB they came twice a second under a surge of reports (1 GiB:
                            // ≈ 15 % more reports a second, half the bytes written per report,
                            // bench/NOTES.md). When it starts over the file is cut back to
                            // 64 MiB, so a quiet server does not keep a 1 GiB WAL on disk.
                            .pragma("wal_autocheckpoint", "262144")
                            .pragma("journal_size_limit", "67108864"),
                    )
                    .await
                    .with_context(|| format!("cannot open {}", redact_url(url)))?;
                let read = SqlitePoolOptions::new()
                    .max_connections(max_connections.max(2))
                    .test_before_acquire(false)
                    // 16 MiB of page cache per reader (64 MiB for the writer): the page cache is
                    // per connection, and the operating system caches the file for all of them.
                    .connect_with(
                        opts.synchronous(SqliteSynchronous::Normal)
                            .pragma("cache_size", "-16384"),
                    )
                    .await
                    .with_context(|| format!("cannot open {}", redact_url(url)))?;
                let direct =
                    crate::sqlite_read::Readers::open(read.connect_options().get_filename())
                        .with_context(|| format!("cannot open {}", redact_url(url)))?
                        .map(std::sync::Arc::new);
                Ok(Db::Sqlite {
                    read,
                    write,
                    direct,
                })
            }
            Engine::Postgres => {
                let opts = PgConnectOptions::from_str(url)
                    .with_context(|| format!("bad PostgreSQL URL {}", redact_url(url)))?;
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(opts)
                    .await
                    .with_context(|| format!("cannot connect to {}", redact_url(url)))?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    /// The direct readers of a SQLite file ([`crate::sqlite_read`]), for short bounded reads;
    /// `None` on PostgreSQL and for an in-memory SQLite database.
    pub fn direct(&self) -> Option<&crate::sqlite_read::Readers> {
        match self {
            Db::Sqlite { direct, .. } => direct.as_deref(),
            Db::Postgres(_) => None,
        }
    }

    /// A number that stays the same while nothing is committed to the database
    /// ([`crate::sqlite_read::Readers::data_version`]), for keeping what was read until the
    /// data moves; `None` where there is no such number (PostgreSQL, an in-memory SQLite) or
    /// none now (another caller is reading it).
    pub fn data_version(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .direct()
            .map(|d| d.data_version())
            .transpose()?
            .flatten())
    }

    /// [`Db::direct`], shared: for a direct read in `spawn_blocking`.
    pub fn direct_shared(&self) -> Option<std::sync::Arc<crate::sqlite_read::Readers>> {
        match self {
            Db::Sqlite { direct, .. } => direct.clone(),
            Db::Postgres(_) => None,
        }
    }

    /// Which engine this is.
    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite { .. } => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies the migrations not yet applied, each in its own transaction, and returns their
    /// names. On PostgreSQL an advisory lock keeps two starting servers from racing.
    pub async fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut applied = Vec::new();
        match self {
            Db::Sqlite { write: pool, .. } => {
                let mut conn = pool.acquire().await?;
                sqlx::raw_sql(
                    "CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                )
                .execute(&mut *conn)
                .await?;
                for (version, name, sql) in SQLITE_MIGRATIONS {
                    // IMMEDIATE: a server still running beside (a rolling upgrade) cannot write between
                    // this check and the migration, which would end it with SQLITE_BUSY.
                    let mut tx =
                        sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
                    let done: Option<i64> = sqlx::query_scalar(
                        "SELECT version FROM schema_migration WHERE version = $1",
                    )
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if done.is_some() {
                        continue;
                    }
                    sqlx::raw_sql(sql)
                        .execute(&mut *tx)
                        .await
                        .with_context(|| format!("migration {name}"))?;
                    sqlx::query("INSERT INTO schema_migration (version, name, applied_at) VALUES ($1, $2, $3)")
                        .bind(version)
                        .bind(name)
                        .bind(chrono::Utc::now().timestamp_millis())
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    applied.push(name.to_string());
                }
            }
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                sqlx::query("SELECT pg_advisory_lock(4415)")
                    .execute(&mut *conn)
                    .await?;
                let result: anyhow::Result<()> = async {
                    sqlx::raw_sql(
                        "CREATE TABLE IF NOT EXISTS schema_migration (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                    )
                    .execute(&mut *conn)
                    .await?;
                    for (version, name, sql) in POSTGRES_MIGRATIONS {
                        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                        let done: Option<i64> =
                            sqlx::query_scalar("SELECT version FROM schema_migration WHERE version = $1")
                                .bind(version)
                                .fetch_optional(&mut *tx)
                                .await?;
                        if done.is_some() {
                            continue;
                        }
                        sqlx::raw_sql(sql).execute(&mut *tx).await.with_context(|| format!("migration {name}"))?;
                        sqlx::query("INSERT INTO schema_migration (version, name, applied_at) VALUES ($1, $2, $3)")
                            .bind(version)
                            .bind(name)
                            .bind(chrono::Utc::now().timestamp_millis())
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        applied.push(name.to_string());
                    }
                    Ok(())
                }
                .await;
                sqlx::query("SELECT pg_advisory_unlock(4415)")
                    .execute(&mut *conn)
                    .await?;
                result?;
            }
        }
        Ok(applied)
    }

    /// Copies what the WAL holds into the SQLite file as far as no reader still needs it
    /// (`PRAGMA wal_checkpoint(PASSIVE)`, on a reader connection: it neither waits for nor
    /// blocks the writer), so that the writer's commits do not pay for checkpoints. Nothing on
    /// PostgreSQL, which checkpoints itself.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if let Db::Sqlite { read, .. } = self {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(read)
                .await?;
        }
        Ok(())
    }

    /// A cheap round trip, for the health check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT CAST(1 AS BIGINT)").fetch_one(pool).await?;
        });
        Ok(())
    }

    /// The shared tree version: bumped whenever a node is written with a shape, or a node's
    /// shape or name changes (`node::write`): what the point index and the map's outlines are
    /// built from. A node written without a shape is on neither and moves nothing.
    pub async fn tree_version(&self) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT value FROM meta WHERE key = 'tree_version'";
        // One primary-key probe, asked by every map request: read directly.
        if let Some(direct) = self.direct() {
            return direct
                .row(SQL, &[])?
                .ok_or_else(|| StoreError::Other(anyhow::anyhow!("no tree_version in meta")))?
                .int(0);
        }
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>(SQL).fetch_one(pool).await?
        }))
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        match self {
            Db::Sqlite {
                read,
                write,
                direct,
            } => {
                if let Some(d) = direct {
                    d.close();
                }
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wal_positions_compare_as_numbers() {
        assert_eq!(parse_lsn("0/16B3748"), Some(0x16B3748));
        assert_eq!(parse_lsn("1/0"), Some(1 << 32));
        assert!(parse_lsn("1/0") > parse_lsn("0/FFFFFFFF"));
        assert_eq!(parse_lsn("nonsense"), None);
    }

    #[test]
    fn pow2_chunks_cover_everything_in_power_of_two_runs() {
        let v: Vec<u32> = (0..45).collect();
        let lens: Vec<usize> = pow2_chunks(&v, 16).map(|c| c.len()).collect();
        assert_eq!(lens, vec![16, 16, 8, 4, 1]);
        let back: Vec<u32> = pow2_chunks(&v, 16).flatten().copied().collect();
        assert_eq!(back, v);
        assert_eq!(pow2_chunks::<u32>(&[], 16).count(), 0);
    }

    #[test]
    fn tuples_number_postgres_placeholders_and_leave_sqlite_ones_anonymous() {
        assert_eq!(tuples(Engine::Postgres, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(tuples(Engine::Sqlite, 2, 3), "(?, ?, ?), (?, ?, ?)");
    }

    #[test]
    fn database_passwords_never_reach_logs() {
        let r = redact_url("postgres://shanzhi:s3cret@127.0.0.1:5432/shanzhi");
        assert!(!r.contains("s3cret"));
        assert_eq!(r, "postgres://shanzhi:***@127.0.0.1:5432/shanzhi");
        assert_eq!(redact_url("sqlite://shanzhi.db"), "sqlite://shanzhi.db");
    }

    /// What in a migration would break a server of the previous release still running on the
    /// schema (a rolling upgrade): the first such clause of `sql`, or `None`.
    ///
    /// A migration that rebuilds a table under the same name (as 0034 partitions `event`) says
    /// so on a line `-- Keeps the previous release working: <how>`; the rolling-upgrade test
    /// (`tests/api/upgrade.rs`) then runs the previous binary on it.
    fn breaks_the_previous_release(sql: &str) -> Option<&'static str> {
        if sql
            .lines()
            .any(|l| l.starts_with("-- Keeps the previous release working: "))
        {
            return None;
        }
        let text: String = sql
            .lines()
            .map(|l| l.split("--").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase();
        for statement in text.split(';') {
            let words: Vec<&str> = statement.split_whitespace().collect();
            let has = |phrase: &[&str]| words.windows(phrase.len()).any(|w| w == phrase);
            if has(&["DROP", "TABLE"]) {
                return Some("DROP TABLE");
            }
            if has(&["DROP", "COLUMN"]) {
                return Some("DROP COLUMN");
            }
            if words.contains(&"RENAME") {
                return Some("RENAME");
            }
            if has(&["SET", "NOT", "NULL"]) {
                return Some("SET NOT NULL");
            }
            if has(&["ALTER", "COLUMN"]) && words.contains(&"TYPE") {
                return Some("ALTER COLUMN … TYPE");
            }
            if has(&["ADD", "COLUMN"]) && has(&["NOT", "NULL"]) && !words.contains(&"DEFAULT") {
                return Some("ADD COLUMN … NOT NULL without a default");
            }
        }
        None
    }

    #[test]
    fn what_breaks_the_previous_release_is_named() {
        let cases: &[(&str, Option<&str>)] = &[
            ("CREATE TABLE job_lease (name TEXT PRIMARY KEY);", None),
            ("ALTER TABLE session ADD COLUMN wrote_lsn TEXT;", None),
            (
                "ALTER TABLE event ADD COLUMN n BIGINT NOT NULL DEFAULT 0;",
                None,
            ),
            ("-- we never DROP TABLE here\nSELECT 1;", None),
            ("DROP TRIGGER IF EXISTS t ON category;", None),
            ("CREATE INDEX event_due ON event (due_at);", None),
            (
                "-- Keeps the previous release working: same name, same columns.\nALTER TABLE event RENAME TO event_legacy;",
                None,
            ),
            ("drop table event_old;", Some("DROP TABLE")),
            ("ALTER TABLE event DROP COLUMN light;", Some("DROP COLUMN")),
            (
                "ALTER TABLE event RENAME COLUMN light TO lamp;",
                Some("RENAME"),
            ),
            ("ALTER TABLE event RENAME TO incident;", Some("RENAME")),
            (
                "ALTER TABLE event ALTER COLUMN priority SET NOT NULL;",
                Some("SET NOT NULL"),
            ),
            (
                "ALTER TABLE event ALTER COLUMN priority TYPE INTEGER;",
                Some("ALTER COLUMN … TYPE"),
            ),
            (
                "SELECT 1;\nALTER TABLE event\n  ADD COLUMN n BIGINT NOT NULL;",
                Some("ADD COLUMN … NOT NULL without a default"),
            ),
        ];
        for (sql, want) in cases {
            assert_eq!(breaks_the_previous_release(sql), *want, "{sql}");
        }
    }

    #[test]
    fn migrations_after_the_previous_release_keep_its_schema_usable() {
        let release = include_str!("../../../packaging/previous-release");
        let last: i64 = release
            .lines()
            .find_map(|l| l.strip_prefix("migration = "))
            .and_then(|v| v.trim().parse().ok())
            .expect("packaging/previous-release names its last migration");
        assert!(
            SQLITE_MIGRATIONS.iter().any(|(v, _, _)| *v == last),
            "the previous release's migration {last} is not one of ours"
        );
        for (version, name, sql) in SQLITE_MIGRATIONS.iter().chain(POSTGRES_MIGRATIONS) {
            if *version > last {
                if let Some(what) = breaks_the_previous_release(sql) {
                    panic!(
                        "migration {name} ({what}) would break the previous release's servers \
                         during a rolling upgrade: add beside the old, and remove the old a \
                         release later"
                    );
                }
            }
        }
    }

    #[test]
    fn migrations_come_in_pairs() {
        let names = |m: &[(i64, &str, &str)]| {
            m.iter()
                .map(|(v, n, _)| (*v, n.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(SQLITE_MIGRATIONS), names(POSTGRES_MIGRATIONS));
        let on_disk = |dir: &str| {
            let mut v: Vec<String> =
                std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                    .unwrap()
                    .map(|e| {
                        e.unwrap()
                            .file_name()
                            .to_string_lossy()
                            .trim_end_matches(".sql")
                            .to_owned()
                    })
                    .collect();
            v.sort();
            v
        };
        assert_eq!(on_disk("sqlite"), on_disk("postgres"));
        assert_eq!(
            on_disk("sqlite"),
            names(SQLITE_MIGRATIONS)
                .into_iter()
                .map(|(_, n)| n)
                .collect::<Vec<_>>()
        );
    }
}

/// ` AND {column} IN ($k, …)` for `count` values bound after placeholder `*n` (which it
/// advances past them); ` AND {column} IN (NULL)`, true of no row, when there are none.
pub fn and_in(column: &str, n: &mut usize, count: usize) -> String {
    let marks: Vec<String> = (0..count)
        .map(|_| {
            *n += 1;
            format!("${n}")
        })
        .collect();
    let list = if marks.is_empty() {
        "NULL".to_owned()
    } else {
        marks.join(", ")
    };
    format!(" AND {column} IN ({list})")
}
