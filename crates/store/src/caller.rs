//! Callers of hotline reports (12345): who rang about an event and whether they want a call back.

use shanzhi_domain::event::caller::Phone;

use crate::pii::{IndexKind, Keyring, Sealed};
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

/// A caller to record, the phone sealed ([`NewCaller::seal`]).
#[derive(Debug, Clone)]
pub struct NewCaller {
    pub name: String,
    pub phone: Sealed,
    pub callback: bool,
    pub created_by: i64,
    pub created_at: i64,
}

impl NewCaller {
    /// Seals the phone with the current key.
    pub fn seal(
        keys: &Keyring,
        name: &str,
        phone: &Phone,
        callback: bool,
        created_by: i64,
        now_ms: i64,
    ) -> NewCaller {
        NewCaller {
            name: name.to_owned(),
            phone: keys.seal(IndexKind::Phone, phone.as_ref(), phone.masked()),
            callback,
            created_by,
            created_at: now_ms,
        }
    }
}

/// Writes the caller `$c` (an `&NewCaller`) of event `$event_id` and its audit row inside the
/// open transaction `$tx`, unless the event has one already (a retried report keeps the first
/// caller). The hotline's reports write it in their own transaction
/// ([`crate::event::Attached::Caller`]).
#[macro_export]
macro_rules! write_caller {
    ($tx:expr, $event_id:expr, $c:expr) => {{
        let c: &$crate::caller::NewCaller = $c;
        let event_id: i64 = $event_id;
        let inserted = sqlx::query(
            "INSERT INTO event_caller (event_id, name, phone, phone_enc, phone_idx, phone_mask, callback, created_by, created_at) \
             VALUES ($1, $2, '', $3, $7, $8, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(&c.name)
        .bind(&c.phone.cipher)
        .bind(c.callback)
        .bind(c.created_by)
        .bind(c.created_at)
        .bind(&c.phone.index)
        .bind(&c.phone.mask)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            let entry = $crate::audit::AuditEntry::new(Some(c.created_by), "event.caller", "event", event_id.to_string())
                .after(serde_json::json!({"name": c.name, "phone": c.phone.mask, "callback": c.callback}));
            $crate::append_audit!($tx, &entry, c.created_at);
        }
    }};
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
