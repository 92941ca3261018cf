//! Callers of hotline reports (12345): who rang about an event and whether they want a call back.

use serde_json::json;
use shanzhi_domain::event::caller::Phone;

use crate::audit::AuditEntry;
use crate::pii::{IndexKind, Keyring};
use crate::{Db, StoreError};

/// A caller as stored (the phone in full: mask it before it leaves the server).
#[derive(Debug, Clone)]
pub struct Caller {
    pub event_id: i64,
    pub name: String,
    pub phone: Phone,
    pub callback: bool,
    pub created_by: i64,
    pub created_at: i64,
}

/// Records the caller of `event_id` and audits it (the phone masked); a retried report (same
/// idempotency key, same event) keeps the first caller.
pub async fn insert(
    db: &Db,
    keys: &Keyring,
    event_id: i64,
    name: &str,
    phone: &Phone,
    callback: bool,
    created_by: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    let sealed = keys.seal(IndexKind::Phone, phone.as_ref(), phone.masked());
    with_tx!(db, tx => {
        let inserted = sqlx::query(
            "INSERT INTO event_caller (event_id, name, phone, phone_enc, phone_idx, phone_mask, callback, created_by, created_at) \
             VALUES ($1, $2, '', $3, $7, $8, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(name)
        .bind(&sealed.cipher)
        .bind(callback)
        .bind(created_by)
        .bind(now_ms)
        .bind(&sealed.index)
        .bind(&sealed.mask)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            let entry = AuditEntry::new(Some(created_by), "event.caller", "event", event_id.to_string())
                .after(json!({"name": name, "phone": phone.masked(), "callback": callback}));
            append_audit!(tx, &entry, now_ms);
        }
    });
    Ok(())
}

/// The caller of an event, if a hotline operator took it.
pub async fn get(db: &Db, keys: &Keyring, event_id: i64) -> Result<Option<Caller>, StoreError> {
    let row: Option<(i64, String, Vec<u8>, bool, i64, i64)> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT event_id, name, phone_enc, callback, created_by, created_at FROM event_caller WHERE event_id = $1",
        )
        .bind(event_id)
        .fetch_optional(pool)
        .await?
    });
    row.map(
        |(event_id, name, phone, callback, created_by, created_at)| {
            Ok(Caller {
                event_id,
                name,
                phone: Phone::parse(&keys.decrypt(&phone)?)
                    .map_err(|e| StoreError::Other(anyhow::anyhow!("stored caller phone: {e}")))?,
                callback,
                created_by,
                created_at,
            })
        },
    )
    .transpose()
}
