//! Buildings (楼栋) and houses (房屋) of the base data, with their counts (tally kinds
//! building '' and house <use>), their import in one transaction, and the occupants of a house
//! read from the resident table (masked fields only: the resident module owns the rest).

use serde_json::{json, Value};
use shanzhi_domain::tree::{subtree_end, NodeCode};

use crate::audit::AuditEntry;
use crate::tally::Tally;
use crate::{Db, StoreError};

/// A building as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Building {
    pub id: i64,
    pub node_code: String,
    pub name: String,
    pub address: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub footprint: Option<String>,
    pub floors: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Building {
    /// For the API and the audit log (a building's address is not a person's).
    pub fn to_json(&self) -> Value {
        let footprint = self
            .footprint
            .as_deref()
            .and_then(|f| serde_json::from_str::<Value>(f).ok());
        json!({"id": self.id, "node_code": self.node_code, "name": self.name, "address": self.address,
            "lon": self.lon, "lat": self.lat, "footprint": footprint, "floors": self.floors,
            "version": self.version, "created_at": self.created_at, "updated_at": self.updated_at})
    }
}

/// A building to create or the new values of one.
#[derive(Debug, Clone)]
pub struct BuildingInput {
    pub node_code: NodeCode,
    pub name: String,
    pub address: Option<String>,
    pub point: Option<(f64, f64)>,
    /// GeoJSON text of a checked shape.
    pub footprint: Option<String>,
    pub floors: Option<i64>,
}

const BUILDING_COLUMNS: &str =
    "id, node_code, name, address, lon, lat, footprint, floors, version, created_at, updated_at";

/// Creates a building.
pub async fn insert_building(
    db: &Db,
    b: &BuildingInput,
    actor_id: i64,
    now_ms: i64,
) -> Result<Building, StoreError> {
    let sql = format!(
        "INSERT INTO building (node_code, name, address, lon, lat, footprint, floors, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {BUILDING_COLUMNS}"
    );
    let mut t = Tally::new();
    t.add(&b.node_code, "building", "", 1);
    Ok(with_tx!(db, tx => {
        let row: Building = sqlx::query_as(&sql)
            .bind(b.node_code.as_str()).bind(&b.name).bind(&b.address)
            .bind(b.point.map(|p| p.0)).bind(b.point.map(|p| p.1)).bind(&b.footprint).bind(b.floors).bind(now_ms)
            .fetch_one(&mut *tx).await?;
        write_tally!(tx, &t);
        let entry = AuditEntry::new(Some(actor_id), "building.create", "building", row.id.to_string()).after(row.to_json());
        append_audit!(tx, &entry, now_ms);
        row
    }))
}

/// Changes a building (moving it to another node moves its count).
pub async fn update_building(
    db: &Db,
    before: &Building,
    b: &BuildingInput,
    actor_id: i64,
    now_ms: i64,
) -> Result<Building, StoreError> {
    let sql = format!(
        "UPDATE building SET node_code = $1, name = $2, address = $3, lon = $4, lat = $5, footprint = $6, floors = $7, \
         updated_at = $8, version = version + 1 WHERE id = $9 RETURNING {BUILDING_COLUMNS}"
    );
    let mut t = Tally::new();
    if before.node_code != b.node_code.as_str() {
        if let Ok(old) = NodeCode::parse(&before.node_code) {
            t.add(&old, "building", "", -1);
        }
        t.add(&b.node_code, "building", "", 1);
    }
    Ok(with_tx!(db, tx => {
        let row: Building = sqlx::query_as(&sql)
            .bind(b.node_code.as_str()).bind(&b.name).bind(&b.address)
            .bind(b.point.map(|p| p.0)).bind(b.point.map(|p| p.1)).bind(&b.footprint).bind(b.floors).bind(now_ms).bind(before.id)
            .fetch_one(&mut *tx).await?;
        write_tally!(tx, &t);
        let entry = AuditEntry::new(Some(actor_id), "building.update", "building", row.id.to_string())
            .before(before.to_json()).after(row.to_json());
        append_audit!(tx, &entry, now_ms);
        row
    }))
}

/// One building.
pub async fn building(db: &Db, id: i64) -> Result<Building, StoreError> {
    let sql = format!("SELECT {BUILDING_COLUMNS} FROM building WHERE id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// What to list: a subtree, optionally only the points inside a bounding box.
#[derive(Debug, Clone)]
pub struct Within<'a> {
    /// The subtree's path.
    pub path: &'a str,
    /// [west, south, east, north].
    pub bbox: Option<[f64; 4]>,
    /// Ids above this one (paging).
    pub after: i64,
    pub limit: i64,
}

/// The `WHERE` of a listing over a subtree and an optional box; binds $1..$7.
pub(crate) const WITHIN: &str = "node_code >= $1 AND node_code < $2 AND id > $3 \
     AND ($4 IS NULL OR (lon >= $4 AND lat >= $5 AND lon <= $6 AND lat <= $7))";

/// Binds [`WITHIN`]'s parameters.
macro_rules! bind_within {
    ($q:expr, $w:expr) => {{
        let w: &$crate::house::Within = $w;
        let b = w.bbox;
        $q.bind(w.path)
            .bind(subtree_end(w.path))
            .bind(w.after)
            .bind(b.map(|b| b[0]))
            .bind(b.map(|b| b[1]))
            .bind(b.map(|b| b[2]))
            .bind(b.map(|b| b[3]))
    }};
}
pub(crate) use bind_within;

/// Buildings of a subtree (and box), by id.
pub async fn buildings(db: &Db, w: &Within<'_>) -> Result<Vec<Building>, StoreError> {
    let sql =
        format!("SELECT {BUILDING_COLUMNS} FROM building WHERE {WITHIN} ORDER BY id LIMIT $8");
    Ok(
        with_pool!(db, pool => bind_within!(sqlx::query_as(&sql), w).bind(w.limit).fetch_all(pool).await?),
    )
}

/// A house as stored, with its building's name and its owner's name when the owner is a resident.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct House {
    pub id: i64,
    pub building_id: Option<i64>,
    pub node_code: String,
    pub room: String,
    pub use_kind: String,
    pub area: Option<f64>,
    pub owner_resident_id: Option<i64>,
    pub owner_name: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub building_name: Option<String>,
    pub owner_resident_name: Option<String>,
}

impl House {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "building_id": self.building_id, "building_name": self.building_name,
            "node_code": self.node_code, "room": self.room, "use": self.use_kind, "area": self.area,
            "owner_resident_id": self.owner_resident_id,
            "owner_name": self.owner_name.clone().or_else(|| self.owner_resident_name.clone()),
            "version": self.version, "created_at": self.created_at, "updated_at": self.updated_at})
    }
}

/// A house to create or the new values of one.
#[derive(Debug, Clone)]
pub struct HouseInput {
    pub building_id: Option<i64>,
    pub node_code: NodeCode,
    pub room: String,
    pub use_kind: String,
    pub area: Option<f64>,
    pub owner_resident_id: Option<i64>,
    pub owner_name: Option<String>,
}

const HOUSE_SELECT: &str = "SELECT h.id, h.building_id, h.node_code, h.room, h.use_kind, h.area, h.owner_resident_id, \
     h.owner_name, h.version, h.created_at, h.updated_at, b.name AS building_name, r.name AS owner_resident_name \
     FROM house h LEFT JOIN building b ON b.id = h.building_id LEFT JOIN resident r ON r.id = h.owner_resident_id";

/// Creates a house.
pub async fn insert_house(
    db: &Db,
    h: &HouseInput,
    actor_id: i64,
    now_ms: i64,
) -> Result<House, StoreError> {
    let mut t = Tally::new();
    t.add(&h.node_code, "house", &h.use_kind, 1);
    let id: i64 = with_tx!(db, tx => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO house (building_id, node_code, room, use_kind, area, owner_resident_id, owner_name, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id")
            .bind(h.building_id).bind(h.node_code.as_str()).bind(&h.room).bind(&h.use_kind).bind(h.area)
            .bind(h.owner_resident_id).bind(&h.owner_name).bind(now_ms)
            .fetch_one(&mut *tx).await?;
        write_tally!(tx, &t);
        let entry = AuditEntry::new(Some(actor_id), "house.create", "house", id.to_string()).after(input_json(h));
        append_audit!(tx, &entry, now_ms);
        id
    });
    house(db, id).await
}

fn input_json(h: &HouseInput) -> Value {
    json!({"building_id": h.building_id, "node_code": h.node_code.as_str(), "room": h.room, "use": h.use_kind,
        "area": h.area, "owner_resident_id": h.owner_resident_id, "owner_name": h.owner_name})
}

/// Changes a house (its count moves with its use and node).
pub async fn update_house(
    db: &Db,
    before: &House,
    h: &HouseInput,
    actor_id: i64,
    now_ms: i64,
) -> Result<House, StoreError> {
    let mut t = Tally::new();
    if let Ok(old) = NodeCode::parse(&before.node_code) {
        t.add(&old, "house", &before.use_kind, -1);
    }
    t.add(&h.node_code, "house", &h.use_kind, 1);
    // A delta that cancels out (same node, same use) is skipped by write_tally!.
    with_tx!(db, tx => {
        sqlx::query(
            "UPDATE house SET building_id = $1, node_code = $2, room = $3, use_kind = $4, area = $5, owner_resident_id = $6, \
             owner_name = $7, updated_at = $8, version = version + 1 WHERE id = $9")
            .bind(h.building_id).bind(h.node_code.as_str()).bind(&h.room).bind(&h.use_kind).bind(h.area)
            .bind(h.owner_resident_id).bind(&h.owner_name).bind(now_ms).bind(before.id)
            .execute(&mut *tx).await?;
        write_tally!(tx, &t);
        let entry = AuditEntry::new(Some(actor_id), "house.update", "house", before.id.to_string())
            .before(before.to_json()).after(input_json(h));
        append_audit!(tx, &entry, now_ms);
    });
    house(db, before.id).await
}

/// One house.
pub async fn house(db: &Db, id: i64) -> Result<House, StoreError> {
    let sql = format!("{HOUSE_SELECT} WHERE h.id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// The houses of a building, by room.
pub async fn houses_of(db: &Db, building_id: i64) -> Result<Vec<House>, StoreError> {
    let sql = format!("{HOUSE_SELECT} WHERE h.building_id = $1 ORDER BY h.room, h.id");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(building_id).fetch_all(pool).await?))
}

/// Someone living in a house, as a house card shows them: masked personal data only.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Occupant {
    pub id: i64,
    pub house_id: Option<i64>,
    pub name: String,
    pub gender: String,
    pub birth_year: Option<i64>,
    pub id_mask: Option<String>,
    pub phone_mask: Option<String>,
    pub household_id: Option<i64>,
    pub relation: Option<String>,
    pub residence: String,
}

impl Occupant {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "house_id": self.house_id, "name": self.name, "gender": self.gender,
            "birth_year": self.birth_year, "id_number": self.id_mask, "phone": self.phone_mask,
            "household_id": self.household_id, "relation": self.relation, "residence": self.residence})
    }
}

const OCCUPANT_COLUMNS: &str = "r.id, r.house_id, r.name, r.gender, r.birth_year, r.id_mask, r.phone_mask, r.household_id, r.relation, r.residence";

/// The present residents of a house (`resident.house_id`).
pub async fn occupants(db: &Db, house_id: i64) -> Result<Vec<Occupant>, StoreError> {
    let sql = format!(
        "SELECT {OCCUPANT_COLUMNS} FROM resident r WHERE r.house_id = $1 AND r.status = 'present' ORDER BY r.household_id, r.id"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(house_id).fetch_all(pool).await?))
}

/// The present residents of every house of a building.
pub async fn occupants_of_building(db: &Db, building_id: i64) -> Result<Vec<Occupant>, StoreError> {
    let sql = format!(
        "SELECT {OCCUPANT_COLUMNS} FROM resident r JOIN house h ON h.id = r.house_id \
         WHERE h.building_id = $1 AND r.status = 'present' ORDER BY r.house_id, r.household_id, r.id"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(building_id).fetch_all(pool).await?))
}

/// The node of a resident (to check that an owner or a member is in the caller's reach).
pub async fn resident_node(db: &Db, resident_id: i64) -> Result<String, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_scalar("SELECT node_code FROM resident WHERE id = $1").bind(resident_id).fetch_one(pool).await?
    }))
}

/// The buildings registered at each of `nodes`, by id (an import reuses a building by its
/// grid and name).
pub async fn buildings_at(db: &Db, nodes: &[String]) -> Result<Vec<Building>, StoreError> {
    let mut out = Vec::new();
    for chunk in nodes.chunks(500) {
        let marks = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {BUILDING_COLUMNS} FROM building WHERE node_code IN ({marks}) ORDER BY id"
        );
        let rows: Vec<Building> = with_pool!(db, pool => {
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

/// The (building id, room) of every house of `building_ids` (an import refuses a room twice).
pub async fn rooms_of(db: &Db, building_ids: &[i64]) -> Result<Vec<(i64, String)>, StoreError> {
    crate::db::fetch_by_ids(db, building_ids, 500, |list| {
        format!("SELECT building_id, room FROM house WHERE building_id IN ({list})")
    })
    .await
}

/// A house an import adds to a building: filed at the building's node.
#[derive(Debug, Clone)]
pub struct NewHouse {
    pub room: String,
    pub use_kind: String,
    pub area: Option<f64>,
    pub owner_name: Option<String>,
}

/// A building of an import: one registered already (`stored`, its id) or one to create from
/// `building`, with the houses the import adds to it.
#[derive(Debug, Clone)]
pub struct ImportedBuilding {
    pub stored: Option<i64>,
    pub building: BuildingInput,
    pub houses: Vec<NewHouse>,
}

/// What an import of buildings and houses created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Imported {
    pub buildings: usize,
    pub houses: usize,
}

/// Writes the buildings an import creates and the houses it adds (to those and to stored
/// ones) in multi-row inserts in one transaction, with their counts (tally kinds building ''
/// and house <use>, as [`insert_building`] and [`insert_house`] keep them) and the import's
/// audit row. The new buildings' ids are read back by (node, name), which the caller keeps
/// unique among them.
pub async fn import_many(
    db: &Db,
    buildings: &[ImportedBuilding],
    audit: &AuditEntry,
    now_ms: i64,
) -> Result<Imported, StoreError> {
    const BUILDING_COLS: usize = 8;
    const HOUSE_COLS: usize = 8;
    let mut t = Tally::new();
    let mut done = Imported::default();
    for b in buildings {
        if b.stored.is_none() {
            t.add(&b.building.node_code, "building", "", 1);
            done.buildings += 1;
        }
        for h in &b.houses {
            t.add(&b.building.node_code, "house", &h.use_kind, 1);
            done.houses += 1;
        }
    }
    let new: Vec<&BuildingInput> = buildings
        .iter()
        .filter(|b| b.stored.is_none())
        .map(|b| &b.building)
        .collect();
    with_tx!(db, tx => {
        let engine = crate::db::engine_of(&tx);
        let mut ids: std::collections::HashMap<(String, String), i64> = std::collections::HashMap::new();
        for chunk in crate::db::pow2_chunks(&new, 256) {
            let sql = format!(
                "INSERT INTO building (node_code, name, address, lon, lat, floors, created_at, updated_at) VALUES {} \
                 RETURNING id, node_code, name",
                crate::db::tuples(engine, chunk.len(), BUILDING_COLS)
            );
            let mut q = sqlx::query_as(&sql);
            for b in chunk {
                q = q.bind(b.node_code.as_str()).bind(&b.name).bind(&b.address)
                    .bind(b.point.map(|p| p.0)).bind(b.point.map(|p| p.1)).bind(b.floors)
                    .bind(now_ms).bind(now_ms);
            }
            let rows: Vec<(i64, String, String)> = q.fetch_all(&mut *tx).await?;
            ids.extend(rows.into_iter().map(|(id, node, name)| ((node, name), id)));
        }
        let mut houses: Vec<(i64, &str, &NewHouse)> = Vec::with_capacity(done.houses);
        for b in buildings {
            let id = match b.stored {
                Some(id) => id,
                None => *ids
                    .get(&(b.building.node_code.as_str().to_owned(), b.building.name.clone()))
                    .ok_or_else(|| StoreError::Other(anyhow::anyhow!("a new building's id was not returned")))?,
            };
            houses.extend(b.houses.iter().map(|h| (id, b.building.node_code.as_str(), h)));
        }
        for chunk in crate::db::pow2_chunks(&houses, 256) {
            let sql = format!(
                "INSERT INTO house (building_id, node_code, room, use_kind, area, owner_name, created_at, updated_at) VALUES {}",
                crate::db::tuples(engine, chunk.len(), HOUSE_COLS)
            );
            let mut q = sqlx::query(&sql);
            for (id, node, h) in chunk {
                q = q.bind(*id).bind(*node).bind(&h.room).bind(&h.use_kind).bind(h.area)
                    .bind(&h.owner_name).bind(now_ms).bind(now_ms);
            }
            q.execute(&mut *tx).await?;
        }
        // The tally before the audit head, as every transaction takes them (see `write_tally`).
        write_tally!(tx, &t);
        append_audit!(tx, audit, now_ms);
    });
    Ok(done)
}
