//! Bulk writing of residents (an import, the demo's population): with their households (by
//! 户号 and relation), the buildings and houses they live in (by building name and room) and
//! their tags, in one transaction of multi-row inserts ([`Insert`]), ID numbers and phones
//! sealed before the transaction opens. The counts for figures are not kept row by row: after a
//! load [`recount`] rebuilds the base-data kinds of the tally from the tables.
//!
//! One transaction for the whole load: a failure leaves nothing written (an all-or-nothing
//! import needs no second pass), and the explicit ids the rows link by are read and used under
//! the same write lock (SQLite's `BEGIN IMMEDIATE`; a table lock on PostgreSQL).

use std::collections::{HashMap, HashSet};

use shanzhi_domain::event::caller::Phone;
use shanzhi_domain::resident::IdNumber;
use shanzhi_domain::tree::NodeCode;

use crate::audit::AuditEntry;
use crate::db::Insert;
use crate::pii::{IndexKind, Keyring, Sealed};
use crate::sqlite_load::{
    Loader, MaybeSqlite,
    Value::{Int, Text},
};
use crate::tally::{self, Tally};
use crate::{Db, StoreError};

/// The tally kinds [`recount`] rebuilds.
pub const KINDS: [&str; 6] = [
    "resident",
    "residence",
    "tag",
    "household",
    "building",
    "house",
];

/// One resident to write, with where they live and what they are tagged with.
#[derive(Debug, Clone)]
pub struct NewResident {
    pub node_code: NodeCode,
    pub name: String,
    /// male | female
    pub gender: String,
    pub birth_year: Option<i64>,
    pub id_number: Option<IdNumber>,
    pub phone: Option<Phone>,
    pub ethnicity: Option<String>,
    /// registered | floating | overseas
    pub residence: String,
    pub workplace: Option<String>,
    /// The household's number (户号): residents with the same number at the same node share
    /// one household, joining a stored one of that number.
    pub household: Option<String>,
    /// To the head: head | spouse | child | parent | grandchild | sibling | other.
    pub relation: Option<String>,
    /// The building's name at the node (a stored one of that name is reused).
    pub building: Option<String>,
    /// The room in the building (or the house number in a village).
    pub room: Option<String>,
    /// The use of a house this load creates (default self_occupied).
    pub house_use: Option<String>,
    /// Where a building this load creates stands (lon, lat).
    pub building_at: Option<(f64, f64)>,
    /// Tag codes, each in the catalogue.
    pub tags: Vec<String>,
    /// The citizen account that is this person.
    pub user_id: Option<i64>,
}

/// What a load wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub residents: usize,
    pub households: usize,
    pub buildings: usize,
    pub houses: usize,
    pub tags: usize,
}

/// A tag of the catalogue, as a load needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CatalogueTag {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub visit_days: Option<i64>,
}

/// The tag catalogue.
pub async fn catalogue(db: &Db) -> Result<Vec<CatalogueTag>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as("SELECT code, name_zh, name_en, visit_days FROM tag ORDER BY code")
            .fetch_all(pool).await?
    }))
}

/// Which of these blind indexes of ID numbers are stored already.
pub async fn stored_ids(db: &Db, indexes: &[Vec<u8>]) -> Result<HashSet<Vec<u8>>, StoreError> {
    let mut found = HashSet::new();
    let engine = db.engine();
    for chunk in crate::db::pow2_chunks(indexes, 512) {
        let sql = format!(
            "SELECT id_idx FROM resident WHERE id_idx IN {}",
            crate::db::tuples(engine, 1, chunk.len())
        );
        let rows: Vec<(Vec<u8>,)> = with_pool!(db, pool => {
            let mut q = sqlx::query_as(&sql);
            for i in chunk {
                q = q.bind(i);
            }
            q.fetch_all(pool).await?
        });
        found.extend(rows.into_iter().map(|(i,)| i));
    }
    Ok(found)
}

/// A resident with its personal data sealed (AES-GCM, blind index, mask), ready to write.
pub struct SealedResident {
    pub r: NewResident,
    id: Option<Sealed>,
    phone: Option<Sealed>,
}

impl SealedResident {
    /// Seals the resident's ID number and phone (pure CPU: callers run it off the writer).
    pub fn seal(keys: &Keyring, r: NewResident) -> SealedResident {
        SealedResident {
            id: r
                .id_number
                .as_ref()
                .map(|n| keys.seal(IndexKind::IdNumber, n.expose(), n.masked())),
            phone: r
                .phone
                .as_ref()
                .map(|p| keys.seal(IndexKind::Phone, p.as_ref(), p.masked())),
            r,
        }
    }
}

/// What a streamed load ([`write_stream`]) receives: rows, then the decision.
pub enum Load {
    /// More rows (whose ID numbers the caller has checked are new).
    Rows(Vec<SealedResident>),
    /// Everything was sent: commit, with this audit row.
    Commit(AuditEntry),
}

/// A building a load creates: id, node, name, position.
type NewBuilding = (i64, String, String, Option<(f64, f64)>);

/// The rows a load creates besides residents, with the ids they get.
#[derive(Default)]
struct Plan {
    /// Nodes whose stored buildings, houses and households are loaded.
    nodes: HashSet<String>,
    /// (node, name) → building id, stored or new.
    buildings: HashMap<(String, String), i64>,
    /// (building id, room) → house id.
    houses: HashMap<(i64, String), i64>,
    /// (node, number) → household id.
    households: HashMap<(String, String), i64>,
    /// The next id of each table.
    next: HashMap<&'static str, i64>,
    /// Counts per (node, kind, key), spread over the ancestors at the end.
    counts: HashMap<(String, &'static str, String), i64>,
    written: Written,
    /// (household, its first head in this load) for households given a head by this load.
    heads: Vec<(i64, i64)>,
    headed: HashSet<i64>,
}

impl Plan {
    fn take(&mut self, table: &'static str) -> i64 {
        let n = self.next.get_mut(table).expect("a table");
        *n += 1;
        *n
    }

    fn count(&mut self, node: &str, kind: &'static str, key: &str) {
        *self
            .counts
            .entry((node.to_owned(), kind, key.to_owned()))
            .or_default() += 1;
    }
}

/// Writes `rows` and `audit` in one transaction (the demo's population; an import streams with
/// [`write_stream`]). Tags must be in the catalogue; the counts for figures are added in the
/// same transaction.
pub async fn write(
    db: &Db,
    keys: &Keyring,
    rows: &[NewResident],
    audit: &AuditEntry,
    now_ms: i64,
) -> Result<Written, StoreError> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let send = async move {
        for chunk in rows.chunks(4096) {
            let sealed = chunk
                .iter()
                .map(|r| SealedResident::seal(keys, r.clone()))
                .collect();
            if tx.send(Load::Rows(sealed)).await.is_err() {
                return;
            }
        }
        let _ = tx.send(Load::Commit(audit.clone())).await;
    };
    let (_, written) = tokio::join!(send, write_stream(db, rx, now_ms));
    written?.ok_or_else(|| StoreError::Other(anyhow::anyhow!("the load was not committed")))
}

/// Writes the rows `rx` brings as they come, in one transaction: committed when
/// [`Load::Commit`] arrives (`Some`), rolled back when the sender goes away without it (`None`:
/// nothing was written). Buildings, houses and households are found by name and number at each
/// node (stored ones reused, missing ones created); ids are taken under the write lock
/// (SQLite's `BEGIN IMMEDIATE`, a table lock on PostgreSQL); the counts for figures are added
/// at the end, in the same transaction.
pub async fn write_stream(
    db: &Db,
    mut rx: tokio::sync::mpsc::Receiver<Load>,
    now_ms: i64,
) -> Result<Option<Written>, StoreError> {
    let visit_days: HashMap<String, Option<i64>> = catalogue(db)
        .await?
        .into_iter()
        .map(|t| (t.code, t.visit_days))
        .collect();
    let day = 86_400_000i64;
    let building_insert = Insert::new(
        db,
        "building",
        &[
            "id",
            "node_code",
            "name",
            "lon",
            "lat",
            "created_at",
            "updated_at",
        ],
        "",
    );
    let house_insert = Insert::new(
        db,
        "house",
        &[
            "id",
            "building_id",
            "node_code",
            "room",
            "use_kind",
            "created_at",
            "updated_at",
        ],
        "",
    );
    const HOUSEHOLD_COLUMNS: [&str; 6] = [
        "id",
        "node_code",
        "number",
        "house_id",
        "created_at",
        "updated_at",
    ];
    let household_insert = Insert::new(db, "household", &HOUSEHOLD_COLUMNS, "");
    const COLUMNS: [&str; 22] = [
        "id",
        "node_code",
        "household_id",
        "relation",
        "house_id",
        "name",
        "gender",
        "birth_year",
        "id_kind",
        "id_enc",
        "id_idx",
        "id_mask",
        "phone_enc",
        "phone_idx",
        "phone_mask",
        "ethnicity",
        "residence",
        "workplace",
        "status",
        "user_id",
        "created_at",
        "updated_at",
    ];
    let resident_insert = Insert::new(db, "resident", &COLUMNS, "");
    const TAG_COLUMNS: [&str; 5] = [
        "resident_id",
        "tag_code",
        "node_code",
        "since",
        "next_visit_at",
    ];
    let tag_insert = Insert::new(db, "resident_tag", &TAG_COLUMNS, " ON CONFLICT DO NOTHING");
    let written = with_tx!(db, tx => {
        if let crate::Engine::Postgres = crate::db::engine_of(&tx) {
            // Explicit ids below: no other writer may take one meanwhile.
            sqlx::query("LOCK TABLE building, house, household, resident IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx).await?;
        }
        let mut plan = Plan::default();
        for table in ["building", "house", "household", "resident"] {
            let sql = format!("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM {table}");
            let max: i64 = sqlx::query_scalar(&sql).fetch_one(&mut *tx).await?;
            plan.next.insert(table, max);
        }
        let audit = loop {
            let rows = match rx.recv().await {
                Some(Load::Rows(rows)) => rows,
                Some(Load::Commit(audit)) => break audit,
                // The sender gave up: nothing of this load is kept.
                None => return Ok(None),
            };

            // What is stored at the nodes this batch brings first.
            for r in &rows {
                let node = r.r.node_code.as_str();
                if plan.nodes.contains(node) {
                    continue;
                }
                plan.nodes.insert(node.to_owned());
                let stored: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM building WHERE node_code = $1")
                    .bind(node).fetch_all(&mut *tx).await?;
                for (id, name) in stored {
                    plan.buildings.insert((node.to_owned(), name), id);
                }
                let stored: Vec<(i64, i64, String)> = sqlx::query_as(
                    "SELECT h.id, h.building_id, h.room FROM house h JOIN building b ON b.id = h.building_id \
                     WHERE b.node_code = $1")
                    .bind(node).fetch_all(&mut *tx).await?;
                for (id, building, room) in stored {
                    plan.houses.insert((building, room), id);
                }
                let stored: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT id, number FROM household WHERE node_code = $1 AND number IS NOT NULL")
                    .bind(node).fetch_all(&mut *tx).await?;
                for (id, number) in stored {
                    plan.households.insert((node.to_owned(), number), id);
                }
            }

            // Each resident's building, house and household, creating what is missing.
            let mut new_buildings: Vec<NewBuilding> = Vec::new();
            let mut new_houses: Vec<(i64, i64, String, String, String)> = Vec::new();
            let mut new_households: Vec<(i64, String, String, Option<i64>)> = Vec::new();
            let mut links = Vec::with_capacity(rows.len());
            for s in &rows {
                let r = &s.r;
                let node = r.node_code.as_str();
                let house = match &r.building {
                    Some(name) => {
                        let key = (node.to_owned(), name.clone());
                        let building = match plan.buildings.get(&key) {
                            Some(id) => *id,
                            None => {
                                let id = plan.take("building");
                                plan.buildings.insert(key, id);
                                new_buildings.push((id, node.to_owned(), name.clone(), r.building_at));
                                plan.count(node, "building", "");
                                id
                            }
                        };
                        match &r.room {
                            Some(room) => {
                                let key = (building, room.clone());
                                Some(match plan.houses.get(&key) {
                                    Some(id) => *id,
                                    None => {
                                        let id = plan.take("house");
                                        plan.houses.insert(key, id);
                                        let use_kind = r.house_use.clone().unwrap_or_else(|| "self_occupied".into());
                                        plan.count(node, "house", &use_kind);
                                        new_houses.push((id, building, node.to_owned(), room.clone(), use_kind));
                                        id
                                    }
                                })
                            }
                            None => None,
                        }
                    }
                    None => None,
                };
                let household = match &r.household {
                    Some(number) => {
                        let key = (node.to_owned(), number.clone());
                        Some(match plan.households.get(&key) {
                            Some(id) => *id,
                            None => {
                                let id = plan.take("household");
                                plan.households.insert(key, id);
                                new_households.push((id, node.to_owned(), number.clone(), house));
                                plan.count(node, "household", "");
                                id
                            }
                        })
                    }
                    None => None,
                };
                let id = plan.take("resident");
                if let (Some(h), Some("head")) = (household, r.relation.as_deref()) {
                    if plan.headed.insert(h) {
                        plan.heads.push((h, id));
                    }
                }
                plan.count(node, "resident", "");
                plan.count(node, "residence", &r.residence);
                links.push((id, household, house));
            }

            for chunk in new_buildings.chunks(building_insert.per) {
                let sql = building_insert.sql(chunk.len());
                let mut q = sqlx::query(&sql);
                for (id, node, name, at) in chunk {
                    q = q.bind(id).bind(node).bind(name).bind(at.map(|p| p.0)).bind(at.map(|p| p.1)).bind(now_ms).bind(now_ms);
                }
                q.execute(&mut *tx).await?;
            }
            for chunk in new_houses.chunks(house_insert.per) {
                let sql = house_insert.sql(chunk.len());
                let mut q = sqlx::query(&sql);
                for (id, building, node, room, use_kind) in chunk {
                    q = q.bind(id).bind(building).bind(node).bind(room).bind(use_kind).bind(now_ms).bind(now_ms);
                }
                q.execute(&mut *tx).await?;
            }
            if let Some(conn) = MaybeSqlite::sqlite(&mut *tx) {
                let mut handle = conn.lock_handle().await?;
                let mut load = Loader::new(&mut handle, "household", &HOUSEHOLD_COLUMNS)?;
                for (id, node, number, house) in &new_households {
                    load.insert(&[Int(*id), Text(node), Text(number), (*house).into(), Int(now_ms), Int(now_ms)])?;
                }
            } else {
            for chunk in new_households.chunks(household_insert.per) {
                let sql = household_insert.sql(chunk.len());
                let mut q = sqlx::query(&sql);
                for (id, node, number, house) in chunk {
                    q = q.bind(id).bind(node).bind(number).bind(house).bind(now_ms).bind(now_ms);
                }
                q.execute(&mut *tx).await?;
            }
            }
            let both: Vec<_> = rows.iter().zip(&links).collect();
            if let Some(conn) = MaybeSqlite::sqlite(&mut *tx) {
                let mut handle = conn.lock_handle().await?;
                let mut load = Loader::new(&mut handle, "resident", &COLUMNS)?;
                for (s, (id, household, house)) in &both {
                    let r = &s.r;
                    let id_kind = if s.id.is_some() { "resident_id" } else { "other" };
                    let (idn, phone) = (s.id.as_ref(), s.phone.as_ref());
                    load.insert(&[
                        Int(*id), Text(r.node_code.as_str()), (*household).into(), r.relation.as_deref().into(), (*house).into(),
                        Text(&r.name), Text(&r.gender), r.birth_year.into(), Text(id_kind),
                        idn.map(|x| x.cipher.as_slice()).into(), idn.map(|x| x.index.as_slice()).into(), idn.map(|x| x.mask.as_str()).into(),
                        phone.map(|x| x.cipher.as_slice()).into(), phone.map(|x| x.index.as_slice()).into(), phone.map(|x| x.mask.as_str()).into(),
                        r.ethnicity.as_deref().into(), Text(&r.residence), r.workplace.as_deref().into(), Text("present"), r.user_id.into(),
                        Int(now_ms), Int(now_ms),
                    ])?;
                }
            } else {
            for chunk in both.chunks(resident_insert.per) {
                let sql = resident_insert.sql(chunk.len());
                let mut q = sqlx::query(&sql);
                for (s, (id, household, house)) in chunk {
                    let r = &s.r;
                    let id_kind = if s.id.is_some() { "resident_id" } else { "other" };
                    q = q.bind(id).bind(r.node_code.as_str()).bind(household).bind(&r.relation).bind(house)
                        .bind(&r.name).bind(&r.gender).bind(r.birth_year).bind(id_kind)
                        .bind(s.id.as_ref().map(|x| &x.cipher)).bind(s.id.as_ref().map(|x| &x.index)).bind(s.id.as_ref().map(|x| &x.mask))
                        .bind(s.phone.as_ref().map(|x| &x.cipher)).bind(s.phone.as_ref().map(|x| &x.index)).bind(s.phone.as_ref().map(|x| &x.mask))
                        .bind(&r.ethnicity).bind(&r.residence).bind(&r.workplace).bind("present").bind(r.user_id)
                        .bind(now_ms).bind(now_ms);
                }
                q.execute(&mut *tx).await?;
            }
            }
            let mut tags = Vec::new();
            for (s, (id, _, _)) in rows.iter().zip(&links) {
                for (i, code) in s.r.tags.iter().enumerate() {
                    if s.r.tags[..i].contains(code) {
                        continue;
                    }
                    let due = visit_days.get(code).copied().flatten().map(|d| now_ms + d * day);
                    tags.push((*id, code.as_str(), s.r.node_code.as_str(), due));
                }
            }
            if let Some(conn) = MaybeSqlite::sqlite(&mut *tx) {
                let mut handle = conn.lock_handle().await?;
                let mut load = Loader::new(&mut handle, "resident_tag", &TAG_COLUMNS)?;
                for (id, code, node, due) in &tags {
                    load.insert(&[Int(*id), Text(code), Text(node), Int(now_ms), (*due).into()])?;
                }
            } else {
            for chunk in tags.chunks(tag_insert.per) {
                let sql = tag_insert.sql(chunk.len());
                let mut q = sqlx::query(&sql);
                for (id, code, node, due) in chunk {
                    q = q.bind(id).bind(*code).bind(*node).bind(now_ms).bind(due);
                }
                q.execute(&mut *tx).await?;
            }
            }
            for (_, code, node, _) in &tags {
                plan.count(node, "tag", code);
            }
            plan.written.residents += rows.len();
            plan.written.households += new_households.len();
            plan.written.buildings += new_buildings.len();
            plan.written.houses += new_houses.len();
            plan.written.tags += tags.len();
            // Freeing a batch's strings is a good share of the single writer's time: another
            // thread does it.
            drop(tags);
            drop(both);
            tokio::task::spawn_blocking(move || drop(rows));
        };

        // Heads are known only now that the residents have ids (a household row is written
        // before its members, whose rows point at it); a stored household without a head takes
        // the first one this load brings.
        const HEAD: &str = "UPDATE household SET head_resident_id = ? WHERE id = ? AND head_resident_id IS NULL";
        if let Some(conn) = MaybeSqlite::sqlite(&mut *tx) {
            let mut handle = conn.lock_handle().await?;
            let mut update = Loader::prepare(&mut handle, HEAD, 2)?;
            for (household, head) in &plan.heads {
                update.insert(&[Int(*head), Int(*household)])?;
            }
        } else {
            for chunk in plan.heads.chunks(1000) {
                let values: Vec<String> = (0..chunk.len())
                    .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
                    .collect();
                let sql = format!(
                    "UPDATE household SET head_resident_id = v.head FROM (VALUES {}) AS v(id, head) \
                     WHERE household.id = v.id AND household.head_resident_id IS NULL",
                    values.join(", ")
                );
                let mut q = sqlx::query(&sql);
                for (household, head) in chunk {
                    q = q.bind(household).bind(head);
                }
                q.execute(&mut *tx).await?;
            }
        }
        if let crate::Engine::Postgres = crate::db::engine_of(&tx) {
            for table in ["building", "house", "household", "resident"] {
                // Constant table names; the sequences must follow the explicit ids just written.
                let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))");
                sqlx::query(&sql).execute(&mut *tx).await?;
            }
        }
        // The counts, per node and each ancestor: rows of the tally, as a single change would.
        let mut tally = Tally::new();
        for ((node, kind, key), n) in &plan.counts {
            let node = NodeCode::parse(node).map_err(|e| {
                StoreError::Other(anyhow::anyhow!("a node code {node}: {e}"))
            })?;
            tally.add(&node, kind, key, *n);
        }
        write_tally!(tx, &tally);
        append_audit!(tx, &audit, now_ms);
        plan.written
    });
    Ok(Some(written))
}

/// Rebuilds the base-data counts ([`KINDS`]) of every node from the tables: residents present,
/// by residence and by tag; households, buildings, houses by use.
pub async fn recount(db: &Db) -> Result<(), StoreError> {
    let queries: [(&str, &str); 6] = [
        ("resident", "SELECT node_code, '' AS k, COUNT(*) FROM resident WHERE status = 'present' GROUP BY node_code"),
        ("residence", "SELECT node_code, residence, COUNT(*) FROM resident WHERE status = 'present' GROUP BY node_code, residence"),
        ("tag", "SELECT t.node_code, t.tag_code, COUNT(*) FROM resident_tag t JOIN resident r ON r.id = t.resident_id \
                 WHERE r.status = 'present' GROUP BY t.node_code, t.tag_code"),
        ("household", "SELECT node_code, '' AS k, COUNT(*) FROM household GROUP BY node_code"),
        ("building", "SELECT node_code, '' AS k, COUNT(*) FROM building GROUP BY node_code"),
        ("house", "SELECT node_code, use_kind, COUNT(*) FROM house GROUP BY node_code, use_kind"),
    ];
    let mut t = Tally::new();
    for (kind, sql) in queries {
        let rows: Vec<(String, String, i64)> = with_pool!(db, pool => {
            sqlx::query_as(sql).fetch_all(pool).await?
        });
        for (node, key, n) in rows {
            let node = NodeCode::parse(&node).map_err(|e| {
                StoreError::Other(anyhow::anyhow!("a stored node code {node}: {e}"))
            })?;
            t.add(&node, kind, &key, n);
        }
    }
    tally::replace(db, &KINDS, &t).await
}

/// A resident as an export writes it: masks, and the sealed values for an export that may
/// reveal them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    pub id: i64,
    pub node_code: String,
    pub name: String,
    pub gender: String,
    pub birth_year: Option<i64>,
    pub id_mask: Option<String>,
    pub id_enc: Option<Vec<u8>>,
    pub phone_mask: Option<String>,
    pub phone_enc: Option<Vec<u8>>,
    pub ethnicity: Option<String>,
    pub residence: String,
    pub workplace: Option<String>,
    pub household: Option<String>,
    pub relation: Option<String>,
    pub building: Option<String>,
    pub room: Option<String>,
    /// Tag codes, filled by [`export_page`].
    #[sqlx(skip)]
    pub tags: Vec<String>,
}

/// Up to `limit` residents present in the subtree of `path` with ids above `after`, in id
/// order, each with its tags.
pub async fn export_page(
    db: &Db,
    path: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<ExportRow>, StoreError> {
    let end = shanzhi_domain::tree::subtree_end(path);
    let mut rows: Vec<ExportRow> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT r.id, r.node_code, r.name, r.gender, r.birth_year, r.id_mask, r.id_enc, \
             r.phone_mask, r.phone_enc, r.ethnicity, r.residence, r.workplace, \
             hh.number AS household, r.relation, b.name AS building, h.room \
             FROM resident r LEFT JOIN household hh ON hh.id = r.household_id \
             LEFT JOIN house h ON h.id = r.house_id LEFT JOIN building b ON b.id = h.building_id \
             WHERE r.node_code >= $1 AND r.node_code < $2 AND r.status = 'present' AND r.id > $3 \
             ORDER BY r.id LIMIT $4")
            .bind(path).bind(&end).bind(after).bind(limit).fetch_all(pool).await?
    });
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        let tags: Vec<(i64, String)> = with_pool!(db, pool => {
            sqlx::query_as(
                "SELECT resident_id, tag_code FROM resident_tag WHERE node_code >= $1 AND node_code < $2 \
                 AND resident_id >= $3 AND resident_id <= $4 ORDER BY resident_id, tag_code")
                .bind(path).bind(&end).bind(first.id).bind(last.id).fetch_all(pool).await?
        });
        let mut by_id: HashMap<i64, Vec<String>> = HashMap::new();
        for (id, code) in tags {
            by_id.entry(id).or_default().push(code);
        }
        for r in &mut rows {
            r.tags = by_id.remove(&r.id).unwrap_or_default();
        }
    }
    Ok(rows)
}

/// A tag of the catalogue to make sure of (the demo's, before the catalogue has its own seed).
#[derive(Debug, Clone, Copy)]
pub struct TagSeed {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    /// care | attention
    pub kind: &'static str,
    pub visit_days: Option<i64>,
    pub vulnerable: bool,
}

/// Adds the tags of `seeds` the catalogue does not have yet (built in).
pub async fn ensure_tags(db: &Db, seeds: &[TagSeed], now_ms: i64) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        for t in seeds {
            sqlx::query(
                "INSERT INTO tag (code, name_zh, name_en, kind, visit_days, vulnerable, builtin, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (code) DO NOTHING")
                .bind(t.code).bind(t.name_zh).bind(t.name_en).bind(t.kind).bind(t.visit_days)
                .bind(t.vulnerable).bind(true).bind(now_ms)
                .execute(&mut *tx).await?;
        }
    });
    Ok(())
}
