//! Notifications (通知): notices to a user, a department's people or a centre's dispatchers,
//! written in the transaction of the move that causes them, with read state per user.

use serde_json::Value;

use crate::{Db, StoreError};

/// A notice to deliver. Exactly one of `user_id`, `department_id`, `centre_code` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub user_id: Option<i64>,
    pub department_id: Option<i64>,
    /// The region code of a centre: its dispatchers get the notice.
    pub centre_code: Option<String>,
    /// Stable kind the clients translate (`remind`, `report_accepted`, …).
    pub kind: String,
    /// What the kind's text needs (a department's name, a reason…), as JSON.
    pub params: Value,
    /// A Chinese fallback text, for clients that do not know the kind.
    pub message: String,
}

impl NewNotification {
    fn new(kind: &str, params: Value, message: String) -> NewNotification {
        NewNotification {
            user_id: None,
            department_id: None,
            centre_code: None,
            kind: kind.to_owned(),
            params,
            message,
        }
    }

    /// A notice to one person.
    pub fn to_user(user_id: i64, kind: &str, params: Value, message: String) -> NewNotification {
        NewNotification {
            user_id: Some(user_id),
            ..NewNotification::new(kind, params, message)
        }
    }

    /// A notice to every person of a department.
    pub fn to_department(
        department_id: i64,
        kind: &str,
        params: Value,
        message: String,
    ) -> NewNotification {
        NewNotification {
            department_id: Some(department_id),
            ..NewNotification::new(kind, params, message)
        }
    }

    /// A notice to the dispatchers of the centre at `centre_code`.
    pub fn to_centre(
        centre_code: &str,
        kind: &str,
        params: Value,
        message: String,
    ) -> NewNotification {
        NewNotification {
            centre_code: Some(centre_code.to_owned()),
            ..NewNotification::new(kind, params, message)
        }
    }
}

/// Who reads: a user, with the department and the centre whose notices reach them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub user_id: i64,
    pub department_id: Option<i64>,
    /// Region code of the centre, for dispatchers.
    pub centre_code: Option<String>,
}

/// A notice as a reader sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub event_id: Option<i64>,
    pub kind: String,
    pub params: String,
    pub message: String,
    pub created_at: i64,
    pub read: bool,
}

/// Inserts `$notes` (a `&[NewNotification]`) about event `$event_id` inside the open
/// transaction `$tx`.
#[macro_export]
macro_rules! write_notifications {
    ($tx:expr, $event_id:expr, $notes:expr, $now:expr) => {{
        let notes: &[$crate::notification::NewNotification] = $notes;
        for n in notes {
            sqlx::query(
                "INSERT INTO notification (user_id, department_id, centre_code, event_id, kind, params, message, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(n.user_id).bind(n.department_id).bind(&n.centre_code).bind($event_id).bind(&n.kind)
            .bind(n.params.to_string()).bind(&n.message).bind($now)
            .execute(&mut *$tx).await?;
        }
    }};
}

/// The notices addressed to reader `$1` (department `$2`, centre `$3`), as SQL over `n`.
const ADDRESSED: &str = "(n.user_id = $1 OR n.department_id = $2 OR n.centre_code = $3)";

/// The reader's notices, newest first; `before` is the id of the last one seen.
pub async fn list(
    db: &Db,
    reader: &Reader,
    before: Option<i64>,
    unread_only: bool,
    limit: i64,
) -> Result<Vec<NotificationRow>, StoreError> {
    let unread = if unread_only {
        "AND r.user_id IS NULL"
    } else {
        ""
    };
    let sql = format!(
        "SELECT n.id, n.event_id, n.kind, n.params, n.message, n.created_at, r.user_id IS NOT NULL AS read \
         FROM notification n LEFT JOIN notification_read r ON r.notification_id = n.id AND r.user_id = $1 \
         WHERE {ADDRESSED} AND n.id < $4 {unread} ORDER BY n.id DESC LIMIT $5"
    );
    Ok(with_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(reader.user_id).bind(reader.department_id).bind(&reader.centre_code)
            .bind(before.unwrap_or(i64::MAX)).bind(limit)
            .fetch_all(pool).await?
    }))
}

/// The reader's notices with an id above `after`, oldest first (what a live stream sends next).
pub async fn since(
    db: &Db,
    reader: &Reader,
    after: i64,
    limit: i64,
) -> Result<Vec<NotificationRow>, StoreError> {
    let sql = format!(
        "SELECT n.id, n.event_id, n.kind, n.params, n.message, n.created_at, r.user_id IS NOT NULL AS read \
         FROM notification n LEFT JOIN notification_read r ON r.notification_id = n.id AND r.user_id = $1 \
         WHERE {ADDRESSED} AND n.id > $4 ORDER BY n.id LIMIT $5"
    );
    Ok(with_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(reader.user_id).bind(reader.department_id).bind(&reader.centre_code)
            .bind(after).bind(limit)
            .fetch_all(pool).await?
    }))
}

/// The id of the reader's newest notice (0 if none).
pub async fn last_id(db: &Db, reader: &Reader) -> Result<i64, StoreError> {
    let sql = format!(
        "SELECT CAST(COALESCE(MAX(n.id), 0) AS BIGINT) FROM notification n WHERE {ADDRESSED}"
    );
    Ok(with_pool!(db, pool => {
        sqlx::query_scalar(&sql)
            .bind(reader.user_id).bind(reader.department_id).bind(&reader.centre_code)
            .fetch_one(pool).await?
    }))
}

/// How many of the reader's notices they have not read.
pub async fn unread_count(db: &Db, reader: &Reader) -> Result<i64, StoreError> {
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM notification n WHERE {ADDRESSED} \
         AND NOT EXISTS (SELECT 1 FROM notification_read r WHERE r.notification_id = n.id AND r.user_id = $1)"
    );
    Ok(with_pool!(db, pool => {
        sqlx::query_scalar(&sql)
            .bind(reader.user_id).bind(reader.department_id).bind(&reader.centre_code)
            .fetch_one(pool).await?
    }))
}

/// Marks one notice read for the reader; `NotFound` if it is not addressed to them.
pub async fn mark_read(db: &Db, reader: &Reader, id: i64, now: i64) -> Result<(), StoreError> {
    let check = format!("SELECT n.id FROM notification n WHERE n.id = $4 AND {ADDRESSED}");
    with_tx!(db, tx => {
        let found: Option<i64> = sqlx::query_scalar(&check)
            .bind(reader.user_id).bind(reader.department_id).bind(&reader.centre_code).bind(id)
            .fetch_optional(&mut *tx).await?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query("INSERT INTO notification_read (user_id, notification_id, read_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(reader.user_id).bind(id).bind(now)
            .execute(&mut *tx).await?;
    });
    Ok(())
}

/// Marks every notice of the reader read; returns how many were unread.
pub async fn mark_all_read(db: &Db, reader: &Reader, now: i64) -> Result<u64, StoreError> {
    let sql = format!(
        "INSERT INTO notification_read (user_id, notification_id, read_at) \
         SELECT $1, n.id, $4 FROM notification n WHERE {ADDRESSED} \
         AND NOT EXISTS (SELECT 1 FROM notification_read r WHERE r.notification_id = n.id AND r.user_id = $1) \
         ON CONFLICT DO NOTHING"
    );
    let n = with_tx!(db, tx => {
        sqlx::query(&sql)
            .bind(reader.user_id).bind(reader.department_id).bind(&reader.centre_code).bind(now)
            .execute(&mut *tx).await?.rows_affected()
    });
    Ok(n)
}
