//! Leases on jobs that must run on one server at a time (`job_lease`, issue 18). Taking and
//! renewing are one statement, so two servers asking at once cannot both win.

use crate::db::Db;
use crate::error::StoreError;

/// Takes or renews the lease on `job` for `holder` until `until_ms`: granted when nobody holds
/// it, when `holder` already does, or when the holder's lease ran out before `now_ms`. Answers
/// whether `holder` holds it now.
pub async fn take(
    db: &Db,
    job: &str,
    holder: &str,
    now_ms: i64,
    until_ms: i64,
) -> Result<bool, StoreError> {
    let n = with_tx!(db, tx => {
        sqlx::query(
            "INSERT INTO job_lease (name, holder, until_ms, taken_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms, \
             taken_ms = CASE WHEN job_lease.holder = excluded.holder THEN job_lease.taken_ms ELSE excluded.taken_ms END \
             WHERE job_lease.holder = excluded.holder OR job_lease.until_ms < excluded.taken_ms")
            .bind(job).bind(holder).bind(until_ms).bind(now_ms)
            .execute(&mut *tx).await?.rows_affected()
    });
    Ok(n == 1)
}

/// Gives the lease up (a graceful stop), so another server takes it at its next try.
pub async fn release(db: &Db, job: &str, holder: &str) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        sqlx::query("DELETE FROM job_lease WHERE name = $1 AND holder = $2")
            .bind(job).bind(holder)
            .execute(&mut *tx).await?;
    });
    Ok(())
}

/// Who holds the lease on `job` and until when, if anyone.
pub async fn holder(db: &Db, job: &str) -> Result<Option<(String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as("SELECT holder, until_ms FROM job_lease WHERE name = $1")
            .bind(job)
            .fetch_optional(pool)
            .await?
    }))
}
