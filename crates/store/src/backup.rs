//! What a backup and a restore ask of the database itself: a consistent copy of a live SQLite
//! file (`VACUUM INTO`), whether a database is empty, and what a copy holds. PostgreSQL's copies
//! are made by its own tools (`pg_dump`, `pg_restore`), which the binary runs.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use crate::db::{redact_url, Db};
use crate::error::StoreError;

/// What a Shanzhi database holds, told after a backup or a restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holdings {
    /// The last migration applied.
    pub schema_version: i64,
    pub events: i64,
    pub audit_rows: i64,
}

const HOLDINGS: &str =
    "SELECT (SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_migration), \
     (SELECT COUNT(*) FROM event), (SELECT COUNT(*) FROM audit)";

/// The file of a `sqlite:` URL (`None` for an in-memory database).
pub fn sqlite_file(url: &str) -> anyhow::Result<Option<PathBuf>> {
    let opts = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("bad SQLite URL {}", redact_url(url)))?;
    let file = opts.get_filename();
    if file.as_os_str().is_empty() || file.to_string_lossy().starts_with(":memory:") {
        return Ok(None);
    }
    Ok(Some(file.to_path_buf()))
}

/// Copies the SQLite database at `from` into a new file `to` as one consistent snapshot, while
/// the server may go on writing (`VACUUM INTO` reads in one transaction; WAL mode lets the
/// writer carry on). `to` must not exist. A missing `from` is an error, never a new empty
/// database; nothing is written to it.
pub async fn sqlite_copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    let opts = SqliteConnectOptions::new()
        .filename(from)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(30))
        // A copy takes seconds by nature: no "slow statement" warnings on the operator's screen.
        .disable_statement_logging();
    let mut conn = SqliteConnection::connect_with(&opts)
        .await
        .with_context(|| format!("cannot open {}", from.display()))?;
    let target = to
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", to.display()))?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&mut conn)
        .await
        .with_context(|| format!("copying {} into {}", from.display(), to.display()))?;
    conn.close().await?;
    Ok(())
}

/// Checks that the SQLite file at `path` is whole and a Shanzhi database, and tells what it
/// holds. Reads it only. `thorough`: `PRAGMA integrity_check` (every index against its table,
/// for a file from elsewhere); else `quick_check` (the pages and rows, for a copy just made by
/// `VACUUM INTO`, whose indexes were built from its rows).
pub async fn sqlite_check(path: &Path, thorough: bool) -> anyhow::Result<Holdings> {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .disable_statement_logging();
    let mut conn = SqliteConnection::connect_with(&opts)
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    let pragma = if thorough {
        "PRAGMA integrity_check"
    } else {
        "PRAGMA quick_check"
    };
    let checked: Vec<String> = sqlx::query_scalar(pragma)
        .fetch_all(&mut conn)
        .await
        .with_context(|| format!("{} is not a SQLite database", path.display()))?;
    anyhow::ensure!(
        checked == ["ok"],
        "{} is damaged: {}",
        path.display(),
        checked.join("; ")
    );
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('schema_migration', 'event', 'audit')",
    )
    .fetch_one(&mut conn)
    .await?;
    anyhow::ensure!(
        tables == 3,
        "{} is a SQLite file but not a Shanzhi database",
        path.display()
    );
    let (schema_version, events, audit_rows): (i64, i64, i64) =
        sqlx::query_as(HOLDINGS).fetch_one(&mut conn).await?;
    conn.close().await?;
    Ok(Holdings {
        schema_version,
        events,
        audit_rows,
    })
}

/// Has the database no tables of its own yet (a restore goes only into an empty one)?
pub async fn is_empty(db: &Db) -> Result<bool, StoreError> {
    let n: i64 = match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_one(read)
        .await?,
        Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()")
                .fetch_one(pool)
                .await?
        }
    };
    Ok(n == 0)
}

/// What the database at `db` holds (a Shanzhi database, migrated).
pub async fn holdings(db: &Db) -> Result<Holdings, StoreError> {
    let (schema_version, events, audit_rows): (i64, i64, i64) = with_pool!(db, pool => {
        sqlx::query_as(HOLDINGS).fetch_one(pool)
        .await?
    });
    Ok(Holdings {
        schema_version,
        events,
        audit_rows,
    })
}

/// Is there a Shanzhi database (its migrations table) at `db`?
pub async fn is_shanzhi(db: &Db) -> Result<bool, StoreError> {
    let n: i64 = match db {
        Db::Sqlite { read, .. } => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migration'",
            )
            .fetch_one(read)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migration'",
            )
            .fetch_one(pool)
            .await?
        }
    };
    Ok(n == 1)
}

/// Waits until the checks' connections to the restored copy have let go of its write-ahead log
/// (the last one to close folds it into the file and deletes it; on a busy machine that can
/// trail the pool's close), and folds it in by a connection of its own if it lingers.
pub async fn settle_wal(file: &std::path::Path) -> anyhow::Result<()> {
    use sqlx::{ConnectOptions, Connection};
    let mut wal = file.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::path::PathBuf::from(wal);
    for attempt in 0..2 {
        for _ in 0..100 {
            if !wal.exists() {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        if attempt == 0 {
            let mut c = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(file)
                .connect()
                .await?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut c)
                .await?;
            c.close().await?;
        }
    }
    Ok(())
}
