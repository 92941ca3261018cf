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
