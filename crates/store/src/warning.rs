//! Warnings to people (预警发布): the warning and its grids, the in-app notices and the outbox
//! rows written with it in one transaction, and the outbox a worker drains (claim under a
//! lease, mark sent only after the sender succeeded, back off and finally give up).

use std::collections::BTreeSet;

use serde_json::{json, Value};
use shanzhi_domain::tree::{subtree_end, NodeCode};

use crate::audit::AuditEntry;
use crate::emergency::{NewRoster, Roster};
use crate::notification::NewNotification;
use crate::{Db, StoreError};

/// A warning as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Warning {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub message: String,
    pub level: String,
    pub risk_id: Option<i64>,
    pub node_code: String,
    pub roster_id: Option<i64>,
    pub area: String,
    pub notified: i64,
    pub created_by: i64,
    pub created_at: i64,
}

const COLUMNS: &str = "id, number, title, message, level, risk_id, node_code, roster_id, area, \
     notified, created_by, created_at";

impl Warning {
    pub fn to_json(&self) -> Value {
        let area = serde_json::from_str::<Value>(&self.area).unwrap_or(Value::Null);
        json!({"id": self.id, "number": self.number, "title": self.title, "message": self.message,
            "level": self.level, "risk_id": self.risk_id, "node_code": self.node_code,
            "roster_id": self.roster_id, "area": area, "notified": self.notified,
            "created_by": self.created_by, "created_at": self.created_at})
    }
}

/// A warning to send.
#[derive(Debug, Clone)]
pub struct NewWarning {
    pub title: String,
    pub message: String,
    /// red | orange | yellow | blue.
    pub level: String,
    pub risk_id: Option<i64>,
    /// The lowest node holding every grid.
    pub node_code: String,
    /// The chosen grids (deduplicated).
    pub grids: Vec<NodeCode>,
    /// What was chosen, as JSON.
    pub area: Value,
    /// The in-app notice each recipient gets (its `user_id` is filled in per recipient).
    pub notice_kind: String,
    pub notice_params: Value,
    pub notice_message: String,
    /// The roster of the vulnerable people of the grids, opened with the warning.
    pub roster: NewRoster,
}

/// What a new warning reached.
#[derive(Debug, Clone)]
pub struct Created {
    pub warning: Warning,
    pub roster: Roster,
    pub roster_entries: i64,
    /// Users who got the in-app notice.
    pub recipients: i64,
    pub people: Vec<i64>,
    /// Outbox rows per channel: (email, sms).
    pub outbox: (i64, i64),
}

/// The people a warning reaches in the subtree `[$1, $2)`: the grid workers scoped there and
/// the citizens whose resident record (present) is there.
const RECIPIENTS: &str = "SELECT u.id FROM app_user u WHERE NOT u.disabled AND ( \
     (u.role = 'grid_worker' AND u.scope_code >= $1 AND u.scope_code < $2) \
     OR (u.role = 'citizen' AND u.id IN (SELECT r.user_id FROM resident r \
         WHERE r.status = 'present' AND r.user_id IS NOT NULL AND r.node_code >= $1 AND r.node_code < $2)))";

/// Writes a warning, its grids, a notice to each recipient, one outbox row per recipient and
/// channel they can be reached on (an e-mail address, a sealed phone), the roster and the
/// audit rows, in one transaction.
pub async fn create(
    db: &Db,
    new: &NewWarning,
    actor_id: i64,
    now_ms: i64,
    temp_number: &str,
    number_of: impl Fn(i64) -> String,
) -> Result<Created, StoreError> {
    Ok(with_tx!(db, tx => {
        let (roster, roster_entries) = crate::insert_roster!(tx, &new.roster, actor_id, now_ms);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO warning (number, title, message, level, risk_id, node_code, roster_id, area, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
            .bind(temp_number).bind(&new.title).bind(&new.message).bind(&new.level).bind(new.risk_id)
            .bind(&new.node_code).bind(roster.id).bind(new.area.to_string()).bind(actor_id).bind(now_ms)
            .fetch_one(&mut *tx).await?;
        let number = number_of(id);
        sqlx::query("UPDATE warning SET number = $1 WHERE id = $2")
            .bind(&number).bind(id).execute(&mut *tx).await?;
        let mut people = BTreeSet::new();
        for g in &new.grids {
            sqlx::query("INSERT INTO warning_node (warning_id, node_code) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id).bind(g.as_str()).execute(&mut *tx).await?;
            let path = g.path();
            let ids: Vec<i64> = sqlx::query_scalar(RECIPIENTS)
                .bind(path).bind(subtree_end(path)).fetch_all(&mut *tx).await?;
            people.extend(ids);
        }
        let mut params = new.notice_params.clone();
        params["warning_id"] = json!(id);
        params["number"] = json!(number);
        let notes: Vec<NewNotification> = people
            .iter()
            .map(|u| NewNotification::to_user(*u, &new.notice_kind, params.clone(), new.notice_message.clone()))
            .collect();
        write_notifications!(tx, None::<i64>, &notes, now_ms);
        let (mut emails, mut phones) = (0i64, 0i64);
        for u in &people {
            let (email, phone): (i64, i64) = sqlx::query_as(
                "SELECT CAST(CASE WHEN email IS NOT NULL AND email <> '' THEN 1 ELSE 0 END AS BIGINT), \
                 CAST(CASE WHEN phone_enc IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) FROM app_user WHERE id = $1")
                .bind(u).fetch_one(&mut *tx).await?;
            for (has, channel) in [(email, "email"), (phone, "sms")] {
                if has == 1 {
                    sqlx::query(
                        "INSERT INTO warning_delivery (warning_id, channel, user_id, next_attempt_at, created_at) \
                         VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING")
                        .bind(id).bind(channel).bind(u).bind(now_ms).execute(&mut *tx).await?;
                }
            }
            emails += email;
            phones += phone;
        }
        let recipients = people.len() as i64;
        sqlx::query("UPDATE warning SET notified = $1 WHERE id = $2")
            .bind(recipients).bind(id).execute(&mut *tx).await?;
        let warning: Warning = sqlx::query_as(&format!("SELECT {COLUMNS} FROM warning WHERE id = $1"))
            .bind(id).fetch_one(&mut *tx).await?;
        let grids: Vec<&str> = new.grids.iter().map(NodeCode::as_str).collect();
        let entry = AuditEntry::new(Some(actor_id), "warning.create", "warning", id.to_string())
            .after(json!({"number": number, "title": new.title, "level": new.level, "risk_id": new.risk_id,
                "grids": grids, "roster_id": roster.id, "recipients": recipients,
                "outbox": {"email": emails, "sms": phones}}));
        append_audit!(tx, &entry, now_ms);
        Created { warning, roster, roster_entries, recipients, people: people.into_iter().collect(), outbox: (emails, phones) }
    }))
}

/// One warning.
pub async fn get(db: &Db, id: i64) -> Result<Warning, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM warning WHERE id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// The grids of a warning.
pub async fn nodes(db: &Db, id: i64) -> Result<Vec<String>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_scalar("SELECT node_code FROM warning_node WHERE warning_id = $1 ORDER BY node_code")
            .bind(id).fetch_all(pool).await?
    }))
}

/// Warnings covering a grid of the subtree at `path` or one of `ancestors` (grid codes above
/// it), newest first, below `before`.
pub async fn list(
    db: &Db,
    path: &str,
    ancestors: &[String],
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Warning>, StoreError> {
    let mut marks: Vec<String> = Vec::new();
    for i in 0..ancestors.len() {
        marks.push(format!("${}", i + 5));
    }
    let above = if marks.is_empty() {
        String::new()
    } else {
        format!(" OR node_code IN ({})", marks.join(", "))
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM warning WHERE id < $3 AND id IN (SELECT warning_id FROM warning_node \
         WHERE (node_code >= $1 AND node_code < $2){above}) ORDER BY id DESC LIMIT $4"
    );
    Ok(with_pool!(db, pool => {
        let mut q = sqlx::query_as(&sql).bind(path).bind(subtree_end(path))
            .bind(before.unwrap_or(i64::MAX)).bind(limit);
        for a in ancestors {
            q = q.bind(a);
        }
        q.fetch_all(pool).await?
    }))
}

/// The newest warnings of all (the public feed).
pub async fn latest(db: &Db, limit: i64) -> Result<Vec<Warning>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM warning ORDER BY id DESC LIMIT $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(limit).fetch_all(pool).await?))
}

/// The grids holding a citizen's present resident records.
pub async fn home_nodes(db: &Db, user_id: i64) -> Result<Vec<String>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_scalar("SELECT DISTINCT node_code FROM resident WHERE user_id = $1 AND status = 'present' ORDER BY node_code")
            .bind(user_id).fetch_all(pool).await?
    }))
}

/// Outbox rows per channel and state: (channel, state, count).
pub async fn deliveries(db: &Db, id: i64) -> Result<Vec<(String, String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT channel, state, CAST(COUNT(*) AS BIGINT) FROM warning_delivery WHERE warning_id = $1 \
             GROUP BY channel, state ORDER BY channel, state")
            .bind(id).fetch_all(pool).await?
    }))
}

/// Grids (nodes with codes longer than a village's) of the subtree at `path` whose bounding
/// boxes meet `bbox` = [min_lon, min_lat, max_lon, max_lat], with their GeoJSON outlines.
pub async fn grids_in_bbox(
    db: &Db,
    path: &str,
    bbox: [f64; 4],
    limit: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT code, geometry FROM node WHERE path >= $1 AND path < $2 AND LENGTH(code) > 12 \
             AND geometry IS NOT NULL AND max_lon >= $3 AND min_lon <= $4 AND max_lat >= $5 AND min_lat <= $6 \
             ORDER BY code LIMIT $7")
            .bind(path).bind(subtree_end(path)).bind(bbox[0]).bind(bbox[2]).bind(bbox[1]).bind(bbox[3])
            .bind(limit).fetch_all(pool).await?
    }))
}

// ---- The outbox ------------------------------------------------------------------------

/// An outbox row claimed by a worker.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub warning_id: i64,
    pub channel: String,
    pub user_id: i64,
    pub attempts: i64,
}

/// Claims up to `limit` due rows of `channels` for `owner` until `lease_until`. A row is due
/// when it is pending, its next attempt has come and no live lease holds it. The same
/// statement re-checks those conditions on each row it changes, so a row is never held by two
/// workers at once (PostgreSQL also skips rows another transaction is claiming).
pub async fn claim(
    db: &Db,
    owner: &str,
    channels: &[&str],
    now_ms: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Claimed>, StoreError> {
    if channels.is_empty() {
        return Ok(Vec::new());
    }
    let c1 = channels[0];
    let c2 = channels.get(1).copied().unwrap_or(c1);
    const DUE: &str = "state = 'pending' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3) \
         AND channel IN ($4, $5)";
    let sqlite = format!(
        "UPDATE warning_delivery SET lease_owner = $1, lease_until = $2 WHERE {DUE} AND id IN \
         (SELECT id FROM warning_delivery WHERE {DUE} ORDER BY id LIMIT $6) \
         RETURNING id, warning_id, channel, user_id, attempts"
    );
    let postgres = format!(
        "UPDATE warning_delivery SET lease_owner = $1, lease_until = $2 WHERE {DUE} AND id IN \
         (SELECT id FROM warning_delivery WHERE {DUE} ORDER BY id LIMIT $6 FOR UPDATE SKIP LOCKED) \
         RETURNING id, warning_id, channel, user_id, attempts"
    );
    let mut rows: Vec<Claimed> = match db {
        Db::Sqlite { write, .. } => {
            let mut tx = write.begin_with("BEGIN IMMEDIATE").await?;
            let rows = sqlx::query_as(&sqlite)
                .bind(owner)
                .bind(lease_until)
                .bind(now_ms)
                .bind(c1)
                .bind(c2)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            rows
        }
        Db::Postgres(pool) => {
            sqlx::query_as(&postgres)
                .bind(owner)
                .bind(lease_until)
                .bind(now_ms)
                .bind(c1)
                .bind(c2)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }
    };
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// Where a claimed row goes: the user's e-mail address, or their sealed phone.
pub async fn address(
    db: &Db,
    user_id: i64,
) -> Result<(Option<String>, Option<Vec<u8>>), StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as("SELECT email, phone_enc FROM app_user WHERE id = $1")
            .bind(user_id).fetch_one(pool).await?
    }))
}

/// Marks a row sent, if `owner` still holds it and it is still pending; false otherwise.
pub async fn mark_sent(db: &Db, id: i64, owner: &str, now_ms: i64) -> Result<bool, StoreError> {
    let n = with_tx!(db, tx => {
        sqlx::query(
            "UPDATE warning_delivery SET state = 'sent', sent_at = $1, attempts = attempts + 1, \
             lease_owner = NULL, lease_until = NULL, last_error = NULL \
             WHERE id = $2 AND lease_owner = $3 AND state = 'pending'")
            .bind(now_ms).bind(id).bind(owner).execute(&mut *tx).await?.rows_affected()
    });
    Ok(n == 1)
}

/// Records a failed attempt: the row waits until `retry_at`, or is given up as failed when
/// that is None. The error must hold no personal data.
pub async fn mark_attempt_failed(
    db: &Db,
    id: i64,
    owner: &str,
    retry_at: Option<i64>,
    error: &str,
) -> Result<bool, StoreError> {
    let error: String = error.chars().take(500).collect();
    let n = with_tx!(db, tx => {
        sqlx::query(
            "UPDATE warning_delivery SET attempts = attempts + 1, \
             state = CASE WHEN $1 < 0 THEN 'failed' ELSE 'pending' END, \
             next_attempt_at = CASE WHEN $1 < 0 THEN next_attempt_at ELSE $1 END, \
             lease_owner = NULL, lease_until = NULL, last_error = $2 \
             WHERE id = $3 AND lease_owner = $4 AND state = 'pending'")
            .bind(retry_at.unwrap_or(-1)).bind(&error).bind(id).bind(owner)
            .execute(&mut *tx).await?.rows_affected()
    });
    Ok(n == 1)
}

/// Pending rows per channel across all warnings (what an unconfigured channel holds back).
pub async fn pending_by_channel(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT channel, CAST(COUNT(*) AS BIGINT) FROM warning_delivery WHERE state = 'pending' \
             GROUP BY channel ORDER BY channel")
            .fetch_all(pool).await?
    }))
}

/// Warnings sent from nodes under `path` (their lowest common node lies there): (warnings,
/// people notified in the apps, deliveries by (channel, state) → n).
pub async fn figures_under(
    db: &Db,
    path: &str,
) -> Result<(i64, i64, Vec<(String, String, i64)>), StoreError> {
    let end = subtree_end(path);
    let (n, notified): (i64, Option<i64>) = with_pool!(db, pool => sqlx::query_as(
        "SELECT COUNT(*), CAST(SUM(notified) AS BIGINT) FROM warning WHERE node_code >= $1 AND node_code < $2",
    ).bind(path).bind(&end).fetch_one(pool).await?);
    let deliveries: Vec<(String, String, i64)> = with_pool!(db, pool => sqlx::query_as(
        "SELECT d.channel, d.state, COUNT(*) FROM warning_delivery d JOIN warning w ON w.id = d.warning_id \
         WHERE w.node_code >= $1 AND w.node_code < $2 GROUP BY d.channel, d.state ORDER BY d.channel, d.state",
    ).bind(path).bind(&end).fetch_all(pool).await?);
    Ok((n, notified.unwrap_or(0), deliveries))
}
