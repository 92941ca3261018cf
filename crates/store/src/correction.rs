//! Corrections (更正申请): a citizen asks for a change to a record of their own household; the
//! grid workers of its node are told and decide. Accepting applies the change to the record in
//! the same transaction (through [`apply_resident_change!`]), audited; the citizen is told. A
//! value that is personal data (phone, ID number) is sealed and shown masked.

use serde_json::{json, Value};
use shanzhi_domain::tree::{subtree_end, NodeCode};

use crate::audit::AuditEntry;
use crate::notification::NewNotification;
use crate::pii::Keyring;
use crate::resident::{seal_change, Change, ResidentRow};
use crate::{Db, StoreError};

const COLUMNS: &str =
    "id, resident_id, household_id, node_code, requester_id, field, value, value_mask, \
     note, state, decided_by, decision_note, created_at, decided_at";

/// A correction as stored (a sealed value only by its mask).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CorrectionRow {
    pub id: i64,
    pub resident_id: i64,
    pub household_id: Option<i64>,
    pub node_code: String,
    pub requester_id: i64,
    pub field: String,
    pub value: Option<String>,
    pub value_mask: Option<String>,
    pub note: String,
    pub state: String,
    pub decided_by: Option<i64>,
    pub decision_note: Option<String>,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

impl CorrectionRow {
    /// As answers show it: a sealed value masked.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "resident_id": self.resident_id, "household_id": self.household_id,
            "node": self.node_code, "requester_id": self.requester_id, "field": self.field,
            "value": self.value.clone().or_else(|| self.value_mask.clone()),
            "note": self.note, "state": self.state, "decided_by": self.decided_by,
            "decision_note": self.decision_note, "created_at": self.created_at, "decided_at": self.decided_at,
        })
    }

    /// The node as a checked code.
    pub fn node(&self) -> Result<NodeCode, StoreError> {
        NodeCode::parse(&self.node_code)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("stored node code: {e}")))
    }
}

/// The value asked for: plain, or personal data to seal (its `Debug` shows the mask only).
#[derive(Clone)]
pub enum Asked {
    Plain(String),
    /// The value and its mask.
    Sealed {
        value: String,
        mask: String,
    },
}

impl std::fmt::Debug for Asked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Asked::Plain(v) => write!(f, "Plain({v:?})"),
            Asked::Sealed { mask, .. } => write!(f, "Sealed({mask})"),
        }
    }
}

/// Files a correction about `resident` by `requester`, with the notices to its grid workers,
/// audited (a sealed value by its mask).
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    db: &Db,
    keys: &Keyring,
    resident: &ResidentRow,
    requester: i64,
    field: &str,
    asked: &Asked,
    note: &str,
    notices: impl Fn(i64) -> Vec<NewNotification>,
    now: i64,
) -> Result<(CorrectionRow, Vec<NewNotification>), StoreError> {
    let (plain, enc, mask) = match asked {
        Asked::Plain(v) => (Some(v.clone()), None, None),
        Asked::Sealed { value, mask } => (None, Some(keys.encrypt(value)), Some(mask.clone())),
    };
    Ok(with_tx!(db, tx => {
        let sql = format!("INSERT INTO correction (resident_id, household_id, node_code, requester_id, field, value, value_enc, value_mask, note, state, created_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10) RETURNING {COLUMNS}");
        let row: CorrectionRow = sqlx::query_as(&sql)
            .bind(resident.id).bind(resident.household_id).bind(&resident.node_code).bind(requester)
            .bind(field).bind(&plain).bind(&enc).bind(&mask).bind(note).bind(now)
            .fetch_one(&mut *tx).await?;
        let notes = notices(row.id);
        write_notifications!(tx, Option::<i64>::None, &notes, now);
        let entry = AuditEntry::new(Some(requester), "correction.create", "correction", row.id.to_string()).after(row.to_json());
        append_audit!(tx, &entry, now);
        (row, notes)
    }))
}

/// One correction.
pub async fn get(db: &Db, id: i64) -> Result<Option<CorrectionRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM correction WHERE id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
}

/// The sealed value of a correction, opened (for applying it).
pub async fn sealed_value(db: &Db, keys: &Keyring, id: i64) -> Result<Option<String>, StoreError> {
    let blob: Option<Option<Vec<u8>>> = with_pool!(db, pool => sqlx::query_scalar(
        "SELECT value_enc FROM correction WHERE id = $1").bind(id).fetch_optional(pool).await?);
    blob.flatten().map(|b| keys.decrypt(&b)).transpose()
}

/// Corrections of a subtree (`under`: a node path), optionally in one state, newest first.
pub async fn list(
    db: &Db,
    under: &str,
    state: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<CorrectionRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM correction WHERE node_code >= $1 AND node_code < $2 \
         AND ($3 IS NULL OR state = $3) AND id < $4 ORDER BY id DESC LIMIT $5"
    );
    Ok(
        with_pool!(db, pool => sqlx::query_as(&sql).bind(under).bind(subtree_end(under))
        .bind(state).bind(before.unwrap_or(i64::MAX)).bind(limit).fetch_all(pool).await?),
    )
}

/// The corrections a citizen asked for, newest first.
pub async fn of_requester(db: &Db, user_id: i64) -> Result<Vec<CorrectionRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM correction WHERE requester_id = $1 ORDER BY id DESC LIMIT 50"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await?))
}

/// Decides a pending correction: `change` (when accepting) is applied to the resident in the
/// same transaction; the requester's notice is written. `Ok(None)` when it was decided already.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    db: &Db,
    keys: &Keyring,
    id: i64,
    change: Option<&Change>,
    note: &str,
    decider: i64,
    notice: &NewNotification,
    now: i64,
) -> Result<Option<CorrectionRow>, StoreError> {
    let state = if change.is_some() {
        "accepted"
    } else {
        "rejected"
    };
    let (sealed_id, sealed_phone) = match change {
        Some(c) => seal_change(keys, c),
        None => (None, None),
    };
    Ok(with_tx!(db, tx => {
        let sql = format!("UPDATE correction SET state = $1, decided_by = $2, decision_note = $3, decided_at = $4 \
            WHERE id = $5 AND state = 'pending' RETURNING {COLUMNS}");
        let row: Option<CorrectionRow> = sqlx::query_as(&sql).bind(state).bind(decider).bind(note).bind(now).bind(id)
            .fetch_optional(&mut *tx).await?;
        let Some(row) = row else { return Ok(None) };
        if let Some(c) = change {
            let resident_id = row.resident_id;
            crate::apply_resident_change!(tx, resident_id, Option::<i64>::None, c, sealed_id, sealed_phone, "resident.correct", Some(decider), now);
        }
        write_notifications!(tx, Option::<i64>::None, std::slice::from_ref(notice), now);
        let entry = AuditEntry::new(Some(decider), "correction.decide", "correction", id.to_string())
            .after(json!({"state": state, "note": note}));
        append_audit!(tx, &entry, now);
        Some(row)
    }))
}

/// The grid workers whose area holds `node` (their grid or an ancestor of it), for notices.
pub async fn grid_workers_over(db: &Db, node: &NodeCode) -> Result<Vec<i64>, StoreError> {
    let codes = node.ancestor_codes();
    let marks: Vec<String> = (0..codes.len()).map(|i| format!("${}", i + 1)).collect();
    let sql = format!(
        "SELECT id FROM app_user WHERE role = 'grid_worker' AND NOT disabled AND scope_code IN ({}) ORDER BY id",
        marks.join(", ")
    );
    Ok(with_pool!(db, pool => {
        let mut q = sqlx::query_scalar(&sql);
        for c in &codes {
            q = q.bind(c.clone());
        }
        q.fetch_all(pool).await?
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_debugs_as_its_mask() {
        let a = Asked::Sealed {
            value: "13900000001".into(),
            mask: "139****0001".into(),
        };
        assert_eq!(format!("{a:?}"), "Sealed(139****0001)");
    }
}
