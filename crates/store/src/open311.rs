//! Open311 GeoReport v2: registered clients, what a service request carries besides its event
//! (the client, the submitter's contact fields, attributes), and the queries of the read side
//! (requests, the updates feed, public media). Only events filed through Open311 are listed.

use std::fmt;

use serde_json::{json, Value};
use shanzhi_domain::tree::subtree_end;

use crate::audit::AuditEntry;
use crate::event::Bind;
use crate::pii::{IndexKind, Keyring};
use crate::{Db, StoreError};
use shanzhi_domain::user::person::mask_phone;

/// A registered client as stored (its key hash stays in the store).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Client {
    pub id: i64,
    pub name: String,
    /// The citizen-role service account its reports are filed as.
    pub user_id: i64,
    /// POSTs a minute allowed per api_key.
    pub rate_per_minute: i64,
    pub disabled: bool,
    pub created_at: i64,
}

impl Client {
    /// For the audit log (never the key or its hash).
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "user_id": self.user_id, "rate_per_minute": self.rate_per_minute, "disabled": self.disabled})
    }
}

/// A client to register.
#[derive(Clone)]
pub struct NewClient {
    pub name: String,
    /// Hex SHA-256 of the api_key.
    pub key_hash: String,
    pub user_id: i64,
    pub rate_per_minute: i64,
}

impl fmt::Debug for NewClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewClient")
            .field("name", &self.name)
            .field("key_hash", &"***")
            .field("user_id", &self.user_id)
            .field("rate_per_minute", &self.rate_per_minute)
            .finish()
    }
}

const CLIENT_COLUMNS: &str = "id, name, user_id, rate_per_minute, disabled, created_at";

/// Registers a client and records it (without the key) in the audit log.
pub async fn insert_client(
    db: &Db,
    c: &NewClient,
    actor_id: Option<i64>,
    now_ms: i64,
) -> Result<Client, StoreError> {
    let sql = format!(
        "INSERT INTO open311_client (name, key_hash, user_id, rate_per_minute, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING {CLIENT_COLUMNS}"
    );
    let row = with_tx!(db, tx => {
        let row: Client = sqlx::query_as(&sql)
            .bind(&c.name).bind(&c.key_hash).bind(c.user_id).bind(c.rate_per_minute).bind(now_ms)
            .fetch_one(&mut *tx).await?;
        let entry = AuditEntry::new(actor_id, "open311.client.create", "open311_client", row.id.to_string()).after(row.to_json());
        append_audit!(tx, &entry, now_ms);
        row
    });
    Ok(row)
}

/// The client an api_key hash belongs to, if any.
pub async fn client_by_key_hash(db: &Db, key_hash: &str) -> Result<Option<Client>, StoreError> {
    let sql = format!("SELECT {CLIENT_COLUMNS} FROM open311_client WHERE key_hash = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(key_hash).fetch_optional(pool).await?))
}

/// The submitter's contact fields of a service request: personal data. `Debug` shows only
/// which fields are present, so they cannot reach a log line by accident.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
}

impl Contact {
    /// Names of the fields that are present (what the audit log records instead of the values).
    pub fn present(&self) -> Vec<&'static str> {
        let fields = [
            ("email", &self.email),
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
            ("phone", &self.phone),
            ("device_id", &self.device_id),
            ("account_id", &self.account_id),
        ];
        fields
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| *k)
            .collect()
    }
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Contact {{ present: {:?} }}", self.present())
    }
}

/// What a service request carries besides its event.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub event_id: i64,
    pub client_id: i64,
    pub contact: Contact,
    pub address_id: Option<String>,
    pub media_url: Option<String>,
    /// `{code: value | [values]}`.
    pub attributes: Value,
}

/// Records the Open311 side of a filed event, once: a retry finds the row and writes nothing.
/// Returns whether this call wrote it. The audit row names the contact fields, not their values.
pub async fn record_request(
    db: &Db,
    keys: &Keyring,
    r: &NewRequest,
    actor_id: Option<i64>,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let c = &r.contact;
    // The phone is sealed (the plain column stays empty); the other fields as before.
    let phone = c
        .phone
        .as_deref()
        .map(|p| keys.seal(IndexKind::Phone, p.trim(), mask_phone(p.trim())));
    let written = with_tx!(db, tx => {
        let done = sqlx::query(
            "INSERT INTO open311_request (event_id, client_id, email, first_name, last_name, phone_enc, phone_idx, phone_mask, device_id, account_id, address_id, media_url, attributes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $13, $14, $7, $8, $9, $10, $11, $12) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(r.event_id).bind(r.client_id).bind(&c.email).bind(&c.first_name).bind(&c.last_name).bind(phone.as_ref().map(|p| &p.cipher))
        .bind(&c.device_id).bind(&c.account_id).bind(&r.address_id).bind(&r.media_url).bind(r.attributes.to_string()).bind(now_ms)
        .bind(phone.as_ref().map(|p| &p.index)).bind(phone.as_ref().map(|p| &p.mask))
        .execute(&mut *tx).await?;
        let written = done.rows_affected() == 1;
        if written {
            let codes: Vec<&String> = r.attributes.as_object().map(|m| m.keys().collect()).unwrap_or_default();
            let entry = AuditEntry::new(actor_id, "open311.request", "event", r.event_id.to_string())
                .after(json!({"client_id": r.client_id, "contact_fields": c.present(), "attributes": codes, "media_url": r.media_url.is_some()}));
            append_audit!(tx, &entry, now_ms);
        }
        written
    });
    Ok(written)
}

/// The contact fields of a request, unmasked. Callers that show them to anyone must record the
/// read in the audit log.
pub async fn contact(
    db: &Db,
    keys: &Keyring,
    event_id: i64,
) -> Result<Option<Contact>, StoreError> {
    type Row = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<Vec<u8>>,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = with_pool!(db, pool => {
        sqlx::query_as("SELECT email, first_name, last_name, phone_enc, device_id, account_id FROM open311_request WHERE event_id = $1")
            .bind(event_id).fetch_optional(pool).await?
    });
    row.map(
        |(email, first_name, last_name, phone, device_id, account_id)| {
            Ok(Contact {
                email,
                first_name,
                last_name,
                phone: phone.map(|b| keys.decrypt(&b)).transpose()?,
                device_id,
                account_id,
            })
        },
    )
    .transpose()
}

/// The service attributes a request was filed with, as JSON.
pub async fn attributes(db: &Db, event_id: i64) -> Result<Option<Value>, StoreError> {
    let text: Option<String> = with_pool!(db, pool => sqlx::query_scalar("SELECT attributes FROM open311_request WHERE event_id = $1").bind(event_id).fetch_optional(pool).await?);
    Ok(match text {
        Some(t) => Some(serde_json::from_str(&t)?),
        None => None,
    })
}

/// A service request as the Open311 read side shows it: the event, its category, who holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub id: i64,
    pub service_code: String,
    pub service_name: String,
    pub state: String,
    pub description: String,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub lon: f64,
    pub lat: f64,
    /// False while a request filed by address only waits for a dispatcher to place it.
    pub position_known: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub due_at: Option<i64>,
    /// Name of the department the order is dispatched to.
    pub department: Option<String>,
    /// Name of the region whose centre holds the order.
    pub centre_name: Option<String>,
    /// The client's own media link.
    pub media_url: Option<String>,
    /// Hash of the first photo sent with the report.
    pub photo: Option<String>,
    /// The note of the latest change of state (a rejection's reason, a result).
    pub status_note: Option<String>,
    /// The service attributes sent with it, as JSON `{code: value | [values]}`.
    pub attributes: String,
}

/// Which requests to list. Empty lists mean "any".
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub ids: Vec<i64>,
    pub service_codes: Vec<String>,
    pub states: Vec<String>,
    /// Requested at or after (unix ms).
    pub from_ms: Option<i64>,
    /// Requested at or before (unix ms).
    pub to_ms: Option<i64>,
    /// Path prefix of the grid (the jurisdiction).
    pub under: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// Requests filed through Open311 that match, newest first.
pub async fn requests(db: &Db, f: &RequestFilter) -> Result<Vec<RequestRow>, StoreError> {
    let mut cond: Vec<String> = vec!["1 = 1".into()];
    let mut binds: Vec<Bind> = Vec::new();
    let p = |b: Bind, binds: &mut Vec<Bind>| -> String {
        binds.push(b);
        format!("${}", binds.len())
    };
    if !f.ids.is_empty() {
        let ps: Vec<String> = f.ids.iter().map(|i| p(Bind::Int(*i), &mut binds)).collect();
        cond.push(format!("e.id IN ({})", ps.join(", ")));
    }
    if !f.service_codes.is_empty() {
        let ps: Vec<String> = f
            .service_codes
            .iter()
            .map(|c| p(Bind::Text(c.clone()), &mut binds))
            .collect();
        cond.push(format!("c.code IN ({})", ps.join(", ")));
    }
    if !f.states.is_empty() {
        let ps: Vec<String> = f
            .states
            .iter()
            .map(|s| p(Bind::Text(s.clone()), &mut binds))
            .collect();
        cond.push(format!("e.state IN ({})", ps.join(", ")));
    }
    if let Some(t) = f.from_ms {
        cond.push(format!("e.created_at >= {}", p(Bind::Int(t), &mut binds)));
    }
    if let Some(t) = f.to_ms {
        cond.push(format!("e.created_at <= {}", p(Bind::Int(t), &mut binds)));
    }
    if let Some(u) = &f.under {
        let a = p(Bind::Text(u.clone()), &mut binds);
        let b = p(Bind::Text(subtree_end(u)), &mut binds);
        cond.push(format!("e.grid_code >= {a} AND e.grid_code < {b}"));
    }
    let lim = p(Bind::Int(f.limit), &mut binds);
    let off = p(Bind::Int(f.offset), &mut binds);
    let sql = format!(
        "SELECT e.id, c.code AS service_code, c.name AS service_name, e.state, e.description, e.address, r.address_id, e.lon, e.lat, e.position_known, \
         e.created_at, e.updated_at, e.closed_at, e.due_at, d.name AS department, n.name AS centre_name, r.media_url, \
         (SELECT p.hash FROM event_photo p WHERE p.event_id = e.id AND p.stage = 'report' ORDER BY p.position LIMIT 1) AS photo, \
         (SELECT l.note FROM event_log l WHERE l.event_id = e.id AND l.note IS NOT NULL \
            AND (l.from_state IS NULL OR l.from_state <> l.to_state) ORDER BY l.id DESC LIMIT 1) AS status_note, r.attributes \
         FROM open311_request r JOIN event e ON e.id = r.event_id JOIN category c ON c.id = e.category_id \
         LEFT JOIN department d ON d.id = e.department_id LEFT JOIN node n ON n.code = e.centre_code \
         WHERE {} ORDER BY e.created_at DESC, e.id DESC LIMIT {lim} OFFSET {off}",
        cond.join(" AND ")
    );
    let rows = with_pool!(db, pool => {
        bind_all!(sqlx::query_as::<_, RequestRow>(&sql), &binds).fetch_all(pool).await?
    });
    Ok(rows)
}

/// A change of state of a request, for the updates feed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UpdateRow {
    /// The timeline line's id.
    pub id: i64,
    pub event_id: i64,
    pub at: i64,
    pub action: String,
    pub to_state: String,
    pub note: Option<String>,
    /// The line's data (JSON), e.g. the department of a dispatch.
    pub data: String,
}

/// Changes of state of requests filed through Open311 in `[from_ms, to_ms]`, oldest first.
pub async fn updates(
    db: &Db,
    from_ms: i64,
    to_ms: i64,
    under: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<UpdateRow>, StoreError> {
    let (lo, hi) = match under {
        Some(u) => (u.to_owned(), subtree_end(u)),
        // Every grid code sorts between "" and "~".
        None => (String::new(), "~".to_owned()),
    };
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT l.id, l.event_id, l.at, l.action, l.to_state, l.note, l.data FROM event_log l \
             JOIN open311_request r ON r.event_id = l.event_id JOIN event e ON e.id = l.event_id \
             WHERE l.at >= $1 AND l.at <= $2 AND (l.from_state IS NULL OR l.from_state <> l.to_state) \
             AND e.grid_code >= $3 AND e.grid_code < $4 ORDER BY l.at, l.id LIMIT $5 OFFSET $6",
        )
        .bind(from_ms).bind(to_ms).bind(lo).bind(hi).bind(limit).bind(offset)
        .fetch_all(pool).await?
    }))
}

/// A photo sent with an Open311 request (type and bytes); other photos are not public.
pub async fn media(db: &Db, hash: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT p.content_type, p.bytes FROM photo p WHERE p.hash = $1 AND EXISTS (SELECT 1 FROM event_photo ep \
             JOIN open311_request r ON r.event_id = ep.event_id WHERE ep.hash = p.hash AND ep.stage = 'report')",
        )
        .bind(hash).fetch_optional(pool).await?
    }))
}

/// When the list of services (categories) last changed, for discovery's changeset.
pub async fn services_changed_at(db: &Db) -> Result<Option<i64>, StoreError> {
    Ok(
        with_pool!(db, pool => sqlx::query_scalar("SELECT MAX(updated_at) FROM category").fetch_one(pool).await?),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_fields_never_reach_debug_output() {
        let c = Contact {
            email: Some("someone@example.org".into()),
            phone: Some("13800000000".into()),
            ..Contact::default()
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("someone") && !shown.contains("13800000000"),
            "{shown}"
        );
        assert!(shown.contains("email") && shown.contains("phone"));
        let n = NewClient {
            name: "app".into(),
            key_hash: "abcdef".into(),
            user_id: 1,
            rate_per_minute: 60,
        };
        assert!(!format!("{n:?}").contains("abcdef"));
    }
}
