//! Places (场所) and their safety checks, with their counts (tally kind place <kind>) and the
//! time-bound figure "places with overdue safety checks", answered from the
//! (node_code, next_check_at) index rather than kept as a count.

use serde_json::{json, Value};
use shanzhi_domain::tree::{subtree_end, NodeCode};

use crate::audit::AuditEntry;
use crate::house::{bind_within, Within, WITHIN};
use crate::tally::Tally;
use crate::{Db, StoreError};

/// A place as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Place {
    pub id: i64,
    pub node_code: String,
    pub kind: String,
    pub name: String,
    pub address: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub building_id: Option<i64>,
    pub licence_no: Option<String>,
    pub licence_expires: Option<String>,
    pub next_check_at: i64,
    pub last_check_at: Option<i64>,
    pub last_result: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Place {
    /// For the API and the audit log; `now` decides `overdue`.
    pub fn to_json(&self, now: i64) -> Value {
        json!({"id": self.id, "node_code": self.node_code, "kind": self.kind, "name": self.name,
            "address": self.address, "lon": self.lon, "lat": self.lat, "building_id": self.building_id,
            "licence_no": self.licence_no, "licence_expires": self.licence_expires,
            "next_check_at": self.next_check_at, "last_check_at": self.last_check_at,
            "last_result": self.last_result,
            "overdue": shanzhi_domain::place::is_overdue(self.next_check_at, now),
            "version": self.version, "created_at": self.created_at, "updated_at": self.updated_at})
    }
}

/// A place to create or the new values of one.
#[derive(Debug, Clone)]
pub struct PlaceInput {
    pub node_code: NodeCode,
    pub kind: String,
    pub name: String,
    pub address: Option<String>,
    pub point: Option<(f64, f64)>,
    pub building_id: Option<i64>,
    pub licence_no: Option<String>,
    pub licence_expires: Option<String>,
}

const COLUMNS: &str =
    "id, node_code, kind, name, address, lon, lat, building_id, licence_no, licence_expires, \
     next_check_at, last_check_at, last_result, version, created_at, updated_at";

/// Creates a place, first due for a check at `next_check_at`.
pub async fn insert(
    db: &Db,
    p: &PlaceInput,
    next_check_at: i64,
    actor_id: i64,
    now_ms: i64,
) -> Result<Place, StoreError> {
    let sql = format!(
        "INSERT INTO place (node_code, kind, name, address, lon, lat, building_id, licence_no, licence_expires, next_check_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING {COLUMNS}"
    );
    let mut t = Tally::new();
    t.add(&p.node_code, "place", &p.kind, 1);
    Ok(with_tx!(db, tx => {
        let row: Place = sqlx::query_as(&sql)
            .bind(p.node_code.as_str()).bind(&p.kind).bind(&p.name).bind(&p.address)
            .bind(p.point.map(|x| x.0)).bind(p.point.map(|x| x.1)).bind(p.building_id)
            .bind(&p.licence_no).bind(&p.licence_expires).bind(next_check_at).bind(now_ms)
            .fetch_one(&mut *tx).await?;
        write_tally!(tx, &t);
        let entry = AuditEntry::new(Some(actor_id), "place.create", "place", row.id.to_string()).after(row.to_json(now_ms));
        append_audit!(tx, &entry, now_ms);
        row
    }))
}

/// Changes a place; its next check stays as its checks set it unless `next_check_at` is given
/// (a change of kind reschedules it).
pub async fn update(
    db: &Db,
    before: &Place,
    p: &PlaceInput,
    next_check_at: i64,
    actor_id: i64,
    now_ms: i64,
) -> Result<Place, StoreError> {
    let sql = format!(
        "UPDATE place SET node_code = $1, kind = $2, name = $3, address = $4, lon = $5, lat = $6, building_id = $7, \
         licence_no = $8, licence_expires = $9, next_check_at = $10, updated_at = $11, version = version + 1 \
         WHERE id = $12 RETURNING {COLUMNS}"
    );
    let mut t = Tally::new();
    if let Ok(old) = NodeCode::parse(&before.node_code) {
        t.add(&old, "place", &before.kind, -1);
    }
    t.add(&p.node_code, "place", &p.kind, 1);
    Ok(with_tx!(db, tx => {
        let row: Place = sqlx::query_as(&sql)
            .bind(p.node_code.as_str()).bind(&p.kind).bind(&p.name).bind(&p.address)
            .bind(p.point.map(|x| x.0)).bind(p.point.map(|x| x.1)).bind(p.building_id)
            .bind(&p.licence_no).bind(&p.licence_expires).bind(next_check_at).bind(now_ms).bind(before.id)
            .fetch_one(&mut *tx).await?;
        write_tally!(tx, &t);
        let entry = AuditEntry::new(Some(actor_id), "place.update", "place", row.id.to_string())
            .before(before.to_json(now_ms)).after(row.to_json(now_ms));
        append_audit!(tx, &entry, now_ms);
        row
    }))
}

/// One place.
pub async fn get(db: &Db, id: i64) -> Result<Place, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM place WHERE id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// Filters of a places list beyond the subtree and the box.
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    pub kind: Option<&'a str>,
    /// Only places whose next check was due before this instant (overdue at it).
    pub overdue_at: Option<i64>,
}

/// Places of a subtree (and box), by id.
pub async fn list(db: &Db, w: &Within<'_>, f: &Filter<'_>) -> Result<Vec<Place>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM place WHERE {WITHIN} AND ($8 IS NULL OR kind = $8) \
         AND ($9 IS NULL OR next_check_at < $9) ORDER BY id LIMIT $10"
    );
    Ok(with_pool!(db, pool => {
        bind_within!(sqlx::query_as(&sql), w).bind(f.kind).bind(f.overdue_at).bind(w.limit).fetch_all(pool).await?
    }))
}

/// A safety check as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Check {
    pub id: i64,
    pub place_id: i64,
    pub at: i64,
    pub result: String,
    pub note: Option<String>,
    pub actor_id: Option<i64>,
}

impl Check {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "place_id": self.place_id, "at": self.at, "result": self.result,
            "note": self.note, "actor_id": self.actor_id})
    }
}

/// Records a check and moves the place's next check to `next_check_at`.
pub async fn add_check(
    db: &Db,
    place_id: i64,
    result: &str,
    note: Option<&str>,
    next_check_at: i64,
    actor_id: i64,
    now_ms: i64,
) -> Result<Check, StoreError> {
    Ok(with_tx!(db, tx => {
        let check: Check = sqlx::query_as(
            "INSERT INTO place_check (place_id, at, result, note, actor_id) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, place_id, at, result, note, actor_id")
            .bind(place_id).bind(now_ms).bind(result).bind(note).bind(actor_id)
            .fetch_one(&mut *tx).await?;
        sqlx::query("UPDATE place SET next_check_at = $1, last_check_at = $2, last_result = $3, updated_at = $2, version = version + 1 WHERE id = $4")
            .bind(next_check_at).bind(now_ms).bind(result).bind(place_id).execute(&mut *tx).await?;
        let entry = AuditEntry::new(Some(actor_id), "place.check", "place", place_id.to_string())
            .after(json!({"check": check.to_json(), "next_check_at": next_check_at}));
        append_audit!(tx, &entry, now_ms);
        check
    }))
}

/// The checks of a place, newest first.
pub async fn checks(db: &Db, place_id: i64, limit: i64) -> Result<Vec<Check>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as("SELECT id, place_id, at, result, note, actor_id FROM place_check WHERE place_id = $1 ORDER BY at DESC, id DESC LIMIT $2")
            .bind(place_id).bind(limit).fetch_all(pool).await?
    }))
}

/// Places with overdue safety checks at `now` under the node of `path`: the total, and per
/// child node (the paths of `child_path_len` characters under it, only those with any).
pub async fn overdue_counts(
    db: &Db,
    path: &str,
    child_path_len: i64,
    now: i64,
) -> Result<(i64, Vec<(String, i64)>), StoreError> {
    let rows: Vec<(String, i64)> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT SUBSTR(node_code, 1, $3) AS child, COUNT(*) FROM place \
             WHERE node_code >= $1 AND node_code < $2 AND next_check_at < $4 \
             GROUP BY 1 ORDER BY 1")
            .bind(path).bind(subtree_end(path)).bind(child_path_len as i32).bind(now).fetch_all(pool).await?
    });
    let total = rows.iter().map(|r| r.1).sum();
    // A place filed at the node itself (or at a region code's zero padding) has no child: it
    // counts in the total only.
    let children = rows
        .into_iter()
        .filter(|(c, _)| {
            c.len() as i64 == child_path_len
                && c.get(path.len()..)
                    .is_some_and(|seg| seg.bytes().any(|b| b != b'0'))
        })
        .collect();
    Ok((total, children))
}

/// A place of a bulk load (the demo, an import): with its licence and the state of its checks.
#[derive(Debug, Clone)]
pub struct NewPlace {
    pub node_code: String,
    pub kind: String,
    pub name: String,
    pub address: Option<String>,
    pub point: Option<(f64, f64)>,
    pub licence_no: Option<String>,
    pub licence_expires: Option<String>,
    pub next_check_at: i64,
    /// The last check: when and with what result.
    pub last_check: Option<(i64, String)>,
}

/// What a bulk load does with the counts of places.
pub enum Counts<'a> {
    /// Replaced whole (the demo, on a database with no other places).
    Replace,
    /// Added to, with the import's audit row.
    Add(&'a AuditEntry),
}

/// Writes many places in multi-row inserts in one transaction, one check row for each last
/// check, and their counts (tally kind place).
pub async fn insert_many(
    db: &Db,
    places: &[NewPlace],
    counts: Counts<'_>,
    now_ms: i64,
) -> Result<(), StoreError> {
    const COLS: usize = 13;
    let mut t = Tally::new();
    for p in places {
        if let Ok(c) = NodeCode::parse(&p.node_code) {
            t.add(&c, "place", &p.kind, 1);
        }
    }
    with_tx!(db, tx => {
        let engine = crate::db::engine_of(&tx);
        let before: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM place").fetch_one(&mut *tx).await?;
        for chunk in crate::db::pow2_chunks(places, 256) {
            let sql = format!(
                "INSERT INTO place (node_code, kind, name, address, lon, lat, licence_no, licence_expires, next_check_at, last_check_at, last_result, created_at, updated_at) VALUES {}",
                crate::db::tuples(engine, chunk.len(), COLS)
            );
            let mut q = sqlx::query(&sql);
            for p in chunk {
                q = q.bind(&p.node_code).bind(&p.kind).bind(&p.name).bind(&p.address)
                    .bind(p.point.map(|x| x.0)).bind(p.point.map(|x| x.1))
                    .bind(&p.licence_no).bind(&p.licence_expires).bind(p.next_check_at)
                    .bind(p.last_check.as_ref().map(|c| c.0)).bind(p.last_check.as_ref().map(|c| c.1.clone()))
                    .bind(now_ms).bind(now_ms);
            }
            q.execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO place_check (place_id, at, result) SELECT id, last_check_at, last_result FROM place \
                     WHERE id > $1 AND last_check_at IS NOT NULL")
            .bind(before).execute(&mut *tx).await?;
        if let Counts::Replace = counts {
            sqlx::query("DELETE FROM tally WHERE kind = 'place'").execute(&mut *tx).await?;
        }
        // The tally before the audit head, as every transaction takes them (see `write_tally`).
        write_tally!(tx, &t);
        if let Counts::Add(entry) = counts {
            append_audit!(tx, entry, now_ms);
        }
    });
    Ok(())
}

/// The names of the places registered at each of `nodes` (an import refuses a place twice).
pub async fn names_at(db: &Db, nodes: &[String]) -> Result<Vec<(String, String)>, StoreError> {
    let mut out = Vec::new();
    for chunk in nodes.chunks(500) {
        let marks = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT node_code, name FROM place WHERE node_code IN ({marks})");
        let rows: Vec<(String, String)> = with_pool!(db, pool => {
            let mut q = sqlx::query_as(&sql);
            for c in chunk {
                q = q.bind(c.as_str());
            }
            q.fetch_all(pool).await?
        });
        out.extend(rows);
    }
    Ok(out)
}
