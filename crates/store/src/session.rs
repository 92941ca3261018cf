//! Sessions: stored in the database (as token hashes) so that any server instance accepts them.

use crate::event::Bind;
use crate::user::UserRow;
use crate::{Db, StoreError};

/// Creates a session for `user_id`; `token_hash` is the SHA-256 of the token the client holds.
pub async fn insert(
    db: &Db,
    token_hash: &str,
    user_id: i64,
    csrf_token: &str,
    now_ms: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    with_pool!(db, pool => {
        sqlx::query("INSERT INTO session (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(user_id)
            .bind(csrf_token)
            .bind(now_ms)
            .bind(expires_at)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// A live session as a request sees it.
#[derive(Debug, Clone)]
pub struct Found {
    pub user: UserRow,
    pub csrf_token: String,
    /// The primary's WAL position after this session's last write (PostgreSQL with a replica).
    pub wrote_lsn: Option<String>,
}

/// The live session's user and CSRF token, if the token is known, unexpired, and the user enabled.
pub async fn find(db: &Db, token_hash: &str, now_ms: i64) -> Result<Option<Found>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        csrf_token: String,
        wrote_lsn: Option<String>,
    }
    let sql = "SELECT u.id, u.username, u.display_name, u.role, u.scope_code, u.department_id, u.failed_logins, \
               u.locked_until, u.disabled, u.created_at, u.updated_at, s.csrf_token, s.wrote_lsn \
               FROM session s JOIN app_user u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled";
    // Asked on every request: a direct read on SQLite (one index probe).
    if let Some(direct) = db.direct() {
        let binds = [Bind::Text(token_hash.to_owned()), Bind::Int(now_ms)];
        let Some(r) = direct.row(sql, &binds)? else {
            return Ok(None);
        };
        let user = UserRow {
            id: r.int(0)?,
            username: r.text(1)?,
            display_name: r.text(2)?,
            role: r.text(3)?,
            scope_code: r.opt_text(4)?,
            department_id: r.opt_int(5)?,
            failed_logins: r.int(6)?,
            locked_until: r.opt_int(7)?,
            disabled: r.bool(8)?,
            created_at: r.int(9)?,
            updated_at: r.int(10)?,
        };
        return Ok(Some(Found {
            user,
            csrf_token: r.text(11)?,
            wrote_lsn: r.opt_text(12)?,
        }));
    }
    let row: Option<Row> = with_pool!(db, pool => sqlx::query_as(sql).bind(token_hash).bind(now_ms).fetch_optional(pool).await?);
    Ok(row.map(|r| Found {
        user: r.user,
        csrf_token: r.csrf_token,
        wrote_lsn: r.wrote_lsn,
    }))
}

/// Notes the primary's WAL position after a write of this session, so its reads wait for a
/// replica to catch up (read-your-writes). The insert position, not the write position: with
/// `synchronous_commit = off` a commit can still sit in the WAL buffers, behind the write
/// position, and a replica that replayed up to that would not have it. PostgreSQL only.
pub async fn mark_write(db: &Db, token_hash: &str) -> Result<(), StoreError> {
    if let Db::Postgres(pool) = db {
        sqlx::query("UPDATE session SET wrote_lsn = pg_current_wal_insert_lsn()::text WHERE token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Ends a session.
pub async fn delete(db: &Db, token_hash: &str) -> Result<(), StoreError> {
    with_pool!(db, pool => {
        sqlx::query("DELETE FROM session WHERE token_hash = $1").bind(token_hash).execute(pool).await?;
    });
    Ok(())
}

/// Removes expired sessions; returns how many.
pub async fn purge_expired(db: &Db, now_ms: i64) -> Result<u64, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query("DELETE FROM session WHERE expires_at <= $1").bind(now_ms).execute(pool).await?.rows_affected()
    }))
}
