//! Visits to residents (走访): recording one resets the due time of every tag of the person, in
//! the same transaction as its photos and its audit row; the visit log; and the links between a
//! visit and the event a problem found on it became.

use serde_json::{json, Value};
use shanzhi_domain::tree::subtree_end;

use crate::db::fetch_by_ids;
use crate::{Db, StoreError};

/// The resident a visit or a tag is about, as far as care needs to know it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subject {
    pub id: i64,
    pub node_code: String,
    pub name: String,
    pub status: String,
}

/// The resident `id`, for scoping (`NotFound` if there is none).
pub async fn subject(db: &Db, id: i64) -> Result<Subject, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT id, node_code, name, status FROM resident WHERE id = $1",
    ).bind(id).fetch_one(pool).await?))
}

/// A visit to record.
#[derive(Debug, Clone)]
pub struct NewVisit {
    pub resident_id: i64,
    pub node_code: String,
    pub user_id: i64,
    pub at: i64,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub notes: String,
    pub found: String,
    pub event_id: Option<i64>,
    pub photos: Vec<String>,
}

/// A visit as stored, with who made it and to whom.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Visit {
    pub id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub node_code: String,
    pub user_id: i64,
    pub user_name: String,
    pub at: i64,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub notes: String,
    pub found: String,
    pub event_id: Option<i64>,
}

impl Visit {
    /// For the API (photos are added by the caller).
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "resident_id": self.resident_id, "resident_name": self.resident_name,
               "node": self.node_code, "user_id": self.user_id, "user_name": self.user_name,
               "at": self.at, "lon": self.lon, "lat": self.lat, "notes": self.notes,
               "found": self.found, "event_id": self.event_id})
    }
}

const SELECT: &str =
    "SELECT v.id, v.resident_id, r.name AS resident_name, v.node_code, v.user_id, \
     u.display_name AS user_name, v.at, v.lon, v.lat, v.notes, v.found, v.event_id \
     FROM visit v JOIN resident r ON r.id = v.resident_id JOIN app_user u ON u.id = v.user_id";

/// Records a visit: its photos, the next due time of each of the person's tags (one interval
/// from the visit), and its audit row, in one transaction. Answers the new visit's id.
pub async fn insert(db: &Db, v: &NewVisit) -> Result<i64, StoreError> {
    Ok(with_tx!(db, tx => crate::write_visit!(tx, v)))
}

/// Writes the visit `$v` (an `&NewVisit`) inside the open transaction `$tx` — its photos, the
/// tags' next due times and its audit row — and evaluates to its id. [`insert`] runs it alone;
/// a report filed from a visit runs it in the report's own transaction
/// ([`crate::event::Attached::Visit`]).
#[macro_export]
macro_rules! write_visit {
    ($tx:expr, $v:expr) => {{
        let v: &$crate::visit::NewVisit = $v;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO visit (resident_id, node_code, user_id, at, lon, lat, notes, found, event_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $4) RETURNING id",
        )
        .bind(v.resident_id).bind(&v.node_code).bind(v.user_id).bind(v.at).bind(v.lon).bind(v.lat)
        .bind(&v.notes).bind(&v.found).bind(v.event_id)
        .fetch_one(&mut *$tx).await?;
        for (i, hash) in v.photos.iter().enumerate() {
            sqlx::query("INSERT INTO visit_photo (visit_id, hash, position) VALUES ($1, $2, $3)")
                .bind(id).bind(hash).bind(i as i64).execute(&mut *$tx).await?;
        }
        let tags: Vec<(String, Option<i64>)> = sqlx::query_as(
            "SELECT rt.tag_code, t.visit_days FROM resident_tag rt JOIN tag t ON t.code = rt.tag_code \
             WHERE rt.resident_id = $1",
        ).bind(v.resident_id).fetch_all(&mut *$tx).await?;
        for (code, days) in &tags {
            sqlx::query("UPDATE resident_tag SET next_visit_at = $1 WHERE resident_id = $2 AND tag_code = $3")
                .bind(shanzhi_domain::tag::next_visit_at(v.at, *days)).bind(v.resident_id).bind(code)
                .execute(&mut *$tx).await?;
        }
        let entry = $crate::audit::AuditEntry::new(Some(v.user_id), "visit.create", "visit", id.to_string()).after(serde_json::json!({
            "resident_id": v.resident_id, "node": v.node_code, "at": v.at, "found": v.found,
            "notes": v.notes, "event_id": v.event_id, "photos": v.photos,
            "position": v.lon.is_some(),
        }));
        $crate::append_audit!($tx, &entry, v.at);
        id
    }};
}

/// One visit.
pub async fn get(db: &Db, id: i64) -> Result<Visit, StoreError> {
    let sql = format!("{SELECT} WHERE v.id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// Which visits to list.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Only visits at nodes under this path (`None`: wherever, for one resident's log).
    pub path: Option<String>,
    /// Only visits to this resident.
    pub resident_id: Option<i64>,
    /// Keyset cursor: only visits with a smaller id (older).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// Visits matching the filter, newest first.
pub async fn list(db: &Db, f: &Filter) -> Result<Vec<Visit>, StoreError> {
    let sql = format!(
        "{SELECT} WHERE ($1 IS NULL OR (v.node_code >= $1 AND v.node_code < $2)) AND ($3 IS NULL OR v.resident_id = $3) \
         AND ($4 IS NULL OR v.id < $4) ORDER BY v.id DESC LIMIT $5"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql)
        .bind(&f.path).bind(f.path.as_deref().map(subtree_end)).bind(f.resident_id).bind(f.before_id).bind(f.limit)
        .fetch_all(pool).await?))
}

/// The photo hashes of some visits: (visit id, hash), in order.
pub async fn photos(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String)>, StoreError> {
    fetch_by_ids(db, ids, 500, |list| {
        format!("SELECT visit_id, hash FROM visit_photo WHERE visit_id IN ({list}) ORDER BY visit_id, position")
    })
    .await
}

/// The visit an event was reported from, if any: (visit id, resident id).
pub async fn of_event(db: &Db, event_id: i64) -> Result<Option<(i64, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT id, resident_id FROM visit WHERE event_id = $1 ORDER BY id LIMIT 1",
    ).bind(event_id).fetch_optional(pool).await?))
}

/// The node codes of the visits a photo is attached to (a few at most).
pub async fn photo_nodes(db: &Db, hash: &str) -> Result<Vec<String>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT DISTINCT v.node_code FROM visit_photo p JOIN visit v ON v.id = p.visit_id \
         WHERE p.hash = $1 ORDER BY v.node_code LIMIT 20",
    ).bind(hash).fetch_all(pool).await?))
}
