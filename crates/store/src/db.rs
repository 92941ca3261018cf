//! Connecting to either engine, running migrations, and the macros that write a query once.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::StoreError;

/// A pool on one of the two engines.
#[derive(Clone)]
pub enum Db {
    Sqlite(SqlitePool),
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
            $crate::db::Db::Sqlite($pool) => $body,
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
            $crate::db::Db::Sqlite(pool) => {
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

/// The URL with any password replaced by `***`, for logs and `Debug`.
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
            Db::Sqlite(_) => f.write_str("Db::Sqlite"),
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
];

impl Db {
    /// Connects to the database the URL names. SQLite files are created if missing and opened
    /// in WAL mode with foreign keys on and a busy timeout.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        match Engine::of_url(url)? {
            Engine::Sqlite => {
                let opts = SqliteConnectOptions::from_str(url)
                    .with_context(|| format!("bad SQLite URL {}", redact_url(url)))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .pragma("cache_size", "-65536")
                    .pragma("temp_store", "memory");
                let pool = SqlitePoolOptions::new()
                    .max_connections(max_connections.max(2))
                    .connect_with(opts)
                    .await
                    .with_context(|| format!("cannot open {}", redact_url(url)))?;
                Ok(Db::Sqlite(pool))
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

    /// Which engine this is.
    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies the migrations not yet applied, each in its own transaction, and returns their
    /// names. On PostgreSQL an advisory lock keeps two starting servers from racing.
    pub async fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut applied = Vec::new();
        match self {
            Db::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                sqlx::raw_sql(
                    "CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                )
                .execute(&mut *conn)
                .await?;
                for (version, name, sql) in SQLITE_MIGRATIONS {
                    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
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

    /// A cheap round trip, for the health check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT CAST(1 AS BIGINT)").fetch_one(pool).await?;
        });
        Ok(())
    }

    /// The shared tree version: bumped on every change to regions or grids.
    pub async fn tree_version(&self) -> Result<i64, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT value FROM meta WHERE key = 'tree_version'").fetch_one(pool).await?
        }))
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_never_reach_logs() {
        let r = redact_url("postgres://shanzhi:s3cret@127.0.0.1:5432/shanzhi");
        assert!(!r.contains("s3cret"));
        assert_eq!(r, "postgres://shanzhi:***@127.0.0.1:5432/shanzhi");
        assert_eq!(redact_url("sqlite://shanzhi.db"), "sqlite://shanzhi.db");
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
