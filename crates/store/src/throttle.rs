//! Login throttling: the failure counters of `login_throttle`, read and written under the row's
//! lock so that parallel attempts are counted one after another (the rule is
//! `shanzhi_domain::user::throttle`).

use shanzhi_domain::user::throttle::{gate, Gate, KeyState};

use crate::{Db, StoreError};

/// Passes an attempt through the gates of `keys` (key, failures allowed before waiting) in one
/// transaction: each key's row is locked (PostgreSQL: the upsert takes the row lock; SQLite: the
/// transaction holds the single write lock), decided by the domain rule and written back. If any
/// key says wait, nothing is counted and the longest wait is returned.
pub async fn enter(
    db: &Db,
    keys: &[(String, i64)],
    now_ms: i64,
) -> Result<Option<i64>, StoreError> {
    let out = with_tx!(db, tx => {
        let mut next = Vec::with_capacity(keys.len());
        let mut wait: Option<i64> = None;
        for (key, free) in keys {
            let (failures, blocked_until, updated_at): (i64, i64, i64) = sqlx::query_as(
                "INSERT INTO login_throttle (key, failures, blocked_until, updated_at) VALUES ($1, 0, 0, 0) \
                 ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING failures, blocked_until, updated_at",
            )
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
            match gate(KeyState { failures, blocked_until, updated_at }, *free, now_ms) {
                Gate::Check(s) => next.push((key, s)),
                Gate::Wait(secs) => wait = Some(wait.map_or(secs, |w: i64| w.max(secs))),
            }
        }
        if wait.is_none() {
            for (key, s) in &next {
                sqlx::query("UPDATE login_throttle SET failures = $1, blocked_until = $2, updated_at = $3 WHERE key = $4")
                    .bind(s.failures)
                    .bind(s.blocked_until)
                    .bind(s.updated_at)
                    .bind(*key)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        wait
    });
    Ok(out)
}

/// After a good login: forgets the account key's failures, and takes back the attempt counted
/// on each shared key (`(key, failures allowed)`), so that an office of many users behind one
/// address is never made to wait by its own good logins.
pub async fn succeeded(
    db: &Db,
    account_key: &str,
    shared: &[(String, i64)],
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        sqlx::query("DELETE FROM login_throttle WHERE key = $1").bind(account_key).execute(&mut *tx).await?;
        for (key, free) in shared {
            sqlx::query(
                "UPDATE login_throttle SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END, \
                 blocked_until = CASE WHEN failures - 1 < $2 THEN 0 ELSE blocked_until END WHERE key = $1",
            )
            .bind(key)
            .bind(*free)
            .execute(&mut *tx)
            .await?;
        }
    });
    Ok(())
}

/// Forgets the failures of every key that starts with `prefix`.
pub async fn clear_prefix(db: &Db, prefix: &str) -> Result<u64, StoreError> {
    let end = format!("{prefix}\u{10FFFF}");
    Ok(with_pool!(db, pool => {
        sqlx::query("DELETE FROM login_throttle WHERE key >= $1 AND key < $2").bind(prefix).bind(&end).execute(pool).await?.rows_affected()
    }))
}

/// Drops keys with no attempt since `before_ms`.
pub async fn purge(db: &Db, before_ms: i64) -> Result<u64, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query("DELETE FROM login_throttle WHERE updated_at < $1 AND blocked_until < $1").bind(before_ms).execute(pool).await?.rows_affected()
    }))
}
