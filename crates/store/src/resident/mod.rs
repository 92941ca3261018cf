//! Residents (实有人口): insert, change, move out, exact search through the blind indexes,
//! scoped lists. Every write keeps the tally (kinds `resident`, `residence`, and `tag` for the
//! resident's tags) and the audit log in the same transaction. Rows carry masks only: the
//! sealed values leave this module through [`reveal`] alone, which writes its audit row.

pub mod bulk;

use serde_json::{json, Value};
use shanzhi_domain::resident::record::{Identity, Residence, Resident, Status};
use shanzhi_domain::tree::{subtree_end, NodeCode};
use shanzhi_domain::user::person::Phone;

use crate::audit::AuditEntry;
use crate::event::Bind;
use crate::pii::{IndexKind, Keyring};
use crate::tally::Tally;
use crate::{Db, StoreError};

/// The columns of [`ResidentRow`]: masks, never the sealed values.
pub const COLUMNS: &str = "id, node_code, household_id, relation, house_id, name, gender, birth_year, \
     id_kind, id_mask, phone_mask, ethnicity, residence, workplace, status, user_id, version, created_at, updated_at";

/// A resident as stored, personal data masked.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResidentRow {
    pub id: i64,
    pub node_code: String,
    pub household_id: Option<i64>,
    pub relation: Option<String>,
    pub house_id: Option<i64>,
    pub name: String,
    pub gender: String,
    pub birth_year: Option<i64>,
    pub id_kind: String,
    pub id_mask: Option<String>,
    pub phone_mask: Option<String>,
    pub ethnicity: Option<String>,
    pub residence: String,
    pub workplace: Option<String>,
    pub status: String,
    pub user_id: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ResidentRow {
    /// The record as answers show it: the ID number and phone masked.
    /// (Keys of [`FIELDS`].)
    pub fn to_json(&self) -> Value {
        let values = [
            json!(self.id),
            json!(self.node_code),
            json!(self.household_id),
            json!(self.relation),
            json!(self.house_id),
            json!(self.name),
            json!(self.gender),
            json!(self.birth_year),
            json!(self.id_kind),
            json!(self.id_mask),
            json!(self.phone_mask),
            json!(self.ethnicity),
            json!(self.residence),
            json!(self.workplace),
            json!(self.status),
            json!(self.user_id),
            json!(self.version),
            json!(self.created_at),
            json!(self.updated_at),
        ];
        Value::Object(
            FIELDS
                .iter()
                .map(|(k, _)| k.to_string())
                .zip(values)
                .collect(),
        )
    }

    /// The node as a checked code (stored codes are valid).
    pub fn node(&self) -> Result<NodeCode, StoreError> {
        NodeCode::parse(&self.node_code)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("stored node code: {e}")))
    }

    /// Whether the resident counts in the figures (present).
    pub fn counted(&self) -> bool {
        self.status == Status::Present.as_str()
    }
}

/// Where a new resident belongs.
#[derive(Debug, Clone)]
pub struct Placement {
    pub node: NodeCode,
    pub house_id: Option<i64>,
    pub user_id: Option<i64>,
}

/// The tally deltas of a counted resident at `node`, times `sign`, with their tags.
pub fn count(t: &mut Tally, node: &NodeCode, residence: &str, tags: &[String], sign: i64) {
    t.add(node, "resident", "", sign);
    t.add(node, "residence", residence, sign);
    for tag in tags {
        t.add(node, "tag", tag, sign);
    }
}

/// The audit view of a record: masks only.
pub fn audit_view(r: &ResidentRow) -> Value {
    let mut v = r.to_json();
    if let Some(o) = v.as_object_mut() {
        o.remove("created_at");
        o.remove("updated_at");
    }
    v
}

/// Seals an identity number (same blind index kind for every document kind: one number, one
/// person).
pub fn seal_identity(keys: &Keyring, id: &Identity) -> crate::pii::Sealed {
    keys.seal(IndexKind::IdNumber, id.expose(), id.masked())
}

/// Seals a phone.
pub fn seal_phone(keys: &Keyring, p: &Phone) -> crate::pii::Sealed {
    keys.seal(IndexKind::Phone, p.expose(), p.masked())
}

/// Inserts a checked resident, counted in the tally, audited. A duplicate identity number is
/// `Conflict { constraint }` naming `id_idx` (see [`holder_of`] for whose it is).
pub async fn insert(
    db: &Db,
    keys: &Keyring,
    r: &Resident,
    at: &Placement,
    actor_id: Option<i64>,
    now: i64,
) -> Result<ResidentRow, StoreError> {
    let id = r.identity.as_ref().map(|i| seal_identity(keys, i));
    let phone = r.phone.as_ref().map(|p| seal_phone(keys, p));
    let mut t = Tally::new();
    count(&mut t, &at.node, r.residence.as_str(), &[], 1);
    let row = with_tx!(db, tx => {
        let sql = format!(
            "INSERT INTO resident (node_code, house_id, name, gender, birth_year, id_kind, id_enc, id_idx, id_mask, \
             phone_enc, phone_idx, phone_mask, ethnicity, residence, workplace, status, user_id, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'present', $16, 1, $17, $17) RETURNING {COLUMNS}"
        );
        let row: ResidentRow = sqlx::query_as(&sql)
            .bind(at.node.as_str()).bind(at.house_id).bind(&r.name).bind(r.gender.as_str())
            .bind(r.birth_year.map(i64::from)).bind(r.id_kind.as_str())
            .bind(id.as_ref().map(|s| s.cipher.clone())).bind(id.as_ref().map(|s| s.index.clone())).bind(id.as_ref().map(|s| s.mask.clone()))
            .bind(phone.as_ref().map(|s| s.cipher.clone())).bind(phone.as_ref().map(|s| s.index.clone())).bind(phone.as_ref().map(|s| s.mask.clone()))
            .bind(r.ethnicity).bind(r.residence.as_str()).bind(&r.workplace).bind(at.user_id).bind(now)
            .fetch_one(&mut *tx).await?;
        write_tally!(tx, &t);
        let entry = AuditEntry::new(actor_id, "resident.create", "resident", row.id.to_string()).after(audit_view(&row));
        append_audit!(tx, &entry, now);
        row
    });
    Ok(row)
}

/// One resident by id.
pub async fn get(db: &Db, id: i64) -> Result<Option<ResidentRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM resident WHERE id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
}

/// The resident who holds this identity number (exact, through the blind index), if any.
pub async fn holder_of(
    db: &Db,
    keys: &Keyring,
    number: &str,
) -> Result<Option<ResidentRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM resident WHERE id_idx = $1");
    let idx = keys.index(IndexKind::IdNumber, number);
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(idx).fetch_optional(pool).await?))
}

/// The residents of a house (occupants), masked, present ones first.
pub async fn by_house(db: &Db, house_id: i64) -> Result<Vec<ResidentRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM resident WHERE house_id = $1 ORDER BY status <> 'present', id LIMIT 500"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(house_id).fetch_all(pool).await?))
}

/// The members of a household, head first.
pub async fn by_household(db: &Db, household_id: i64) -> Result<Vec<ResidentRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM resident WHERE household_id = $1 ORDER BY relation <> 'head', id LIMIT 500"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(household_id).fetch_all(pool).await?))
}

/// The resident record of a citizen account.
pub async fn of_user(db: &Db, user_id: i64) -> Result<Option<ResidentRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM resident WHERE user_id = $1 ORDER BY id LIMIT 1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(user_id).fetch_optional(pool).await?))
}

/// The tag codes of a resident.
pub async fn tags(db: &Db, id: i64) -> Result<Vec<String>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT tag_code FROM resident_tag WHERE resident_id = $1 ORDER BY tag_code")
        .bind(id).fetch_all(pool).await?))
}

/// Filters of the resident list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The path of the subtree (`NodeCode::path`).
    pub under: String,
    /// Names beginning with this.
    pub name_prefix: Option<String>,
    /// Exact identity number (searched through the blind index).
    pub id_number: Option<String>,
    /// Exact phone (through the blind index).
    pub phone: Option<String>,
    pub residence: Option<Residence>,
    pub gender: Option<String>,
    pub tag: Option<String>,
    /// Birth years, inclusive.
    pub born_from: Option<i32>,
    pub born_to: Option<i32>,
    pub status: Option<Status>,
    pub household_id: Option<i64>,
    /// Keyset cursor: the last id seen; larger ids come next.
    pub after: Option<i64>,
    pub limit: i64,
}

/// Is `path` the code of a grid that has no nodes under it?
async fn is_leaf_grid(db: &Db, path: &str) -> Result<bool, StoreError> {
    if path.len() <= shanzhi_domain::tree::REGION_CODE_LEN {
        return Ok(false);
    }
    let sql = "SELECT COUNT(*) FROM (SELECT 1 FROM node WHERE parent_code = $1 LIMIT 1) c";
    if let Some(direct) = db.direct() {
        let row = direct.row(sql, &[Bind::Text(path.to_owned())])?;
        return Ok(row.map(|r| r.int(0)).transpose()? == Some(0));
    }
    let children: i64 = with_pool!(db, pool => {
        sqlx::query_scalar(sql)
            .bind(path)
            .fetch_one(pool)
            .await?
    });
    Ok(children == 0)
}

/// The keys of a resident as answers show it and the column each comes from: masks, never the
/// sealed values. [`ResidentRow::to_json`] and the database-built items of [`list`] both follow
/// it.
pub const FIELDS: [(&str, &str); 19] = [
    ("id", "id"),
    ("node", "node_code"),
    ("household_id", "household_id"),
    ("relation", "relation"),
    ("house_id", "house_id"),
    ("name", "name"),
    ("gender", "gender"),
    ("birth_year", "birth_year"),
    ("id_kind", "id_kind"),
    ("id_number", "id_mask"),
    ("phone", "phone_mask"),
    ("ethnicity", "ethnicity"),
    ("residence", "residence"),
    ("workplace", "workplace"),
    ("status", "status"),
    ("user_id", "user_id"),
    ("version", "version"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
];

/// One page of residents as the API answers it.
#[derive(Debug, Clone)]
pub struct Page {
    /// A JSON array of the residents (keys of [`FIELDS`]), built by the database.
    pub items: String,
    /// The last id of this page when more follow.
    pub next_cursor: Option<i64>,
}

/// Residents of a subtree matching the filter, by id, `f.limit` to a page.
///
/// The database writes the page as one JSON value: through sqlx's SQLite driver each row of a
/// result crosses from the connection's thread to the request's one at a time, and on two
/// cores those hand-overs (≈ 30 thread switches a page of 50) cost more than the page itself
/// (measured in `bench/run`).
pub async fn list(db: &Db, keys: &Keyring, f: &Filter) -> Result<Page, StoreError> {
    let mut cond: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let p = |b: Bind, binds: &mut Vec<Bind>| -> String {
        binds.push(b);
        format!("${}", binds.len())
    };
    let a = p(Bind::Text(f.under.clone()), &mut binds);
    let b = p(Bind::Text(subtree_end(&f.under)), &mut binds);
    // A grid with no grids under it holds its residents at its own code: equality lets the
    // (node_code, id) index hand them over in order, a page at a time, where a range of codes
    // has every resident of the grid read and sorted for each page.
    let leaf = is_leaf_grid(db, &f.under).await?;
    if leaf {
        cond.push(format!("r.node_code = {a}"));
    } else {
        cond.push(format!("r.node_code >= {a} AND r.node_code < {b}"));
    }
    let mut from = "resident r";
    let mut tag_join = false;
    if let Some(n) = &f.name_prefix {
        // The same on both engines (PostgreSQL's LIKE is case-sensitive, SQLite's is not for
        // ASCII) and a plain comparison on the index entry rather than a pattern match. The
        // length is a count, not text from the client.
        let a = p(Bind::Text(n.clone()), &mut binds);
        cond.push(format!("substr(r.name, 1, {}) = {a}", n.chars().count()));
    }
    if let Some(n) = &f.id_number {
        let a = p(Bind::Bytes(keys.index(IndexKind::IdNumber, n)), &mut binds);
        cond.push(format!("r.id_idx = {a}"));
    }
    if let Some(n) = &f.phone {
        let a = p(Bind::Bytes(keys.index(IndexKind::Phone, n)), &mut binds);
        cond.push(format!("r.phone_idx = {a}"));
    }
    if let Some(r) = f.residence {
        let a = p(Bind::Text(r.as_str().to_owned()), &mut binds);
        cond.push(format!("r.residence = {a}"));
    }
    if let Some(g) = &f.gender {
        let a = p(Bind::Text(g.clone()), &mut binds);
        cond.push(format!("r.gender = {a}"));
    }
    if let Some(t) = &f.tag {
        // The tags of the subtree only (resident_tag's (node_code, tag_code, resident_id)
        // index): a tag of the whole register would be read whole for every page of one grid.
        // A grid's tagged residents come from that index in id order, a page at a time.
        let c = p(Bind::Text(t.clone()), &mut binds);
        if leaf {
            from = "resident_tag t JOIN resident r ON r.id = t.resident_id";
            tag_join = true;
            cond.push(format!("t.node_code = {a} AND t.tag_code = {c}"));
        } else {
            cond.push(format!(
                "r.id IN (SELECT resident_id FROM resident_tag WHERE node_code >= {a} AND node_code < {b} AND tag_code = {c})"
            ));
        }
    }
    if let Some(y) = f.born_from {
        let a = p(Bind::Int(i64::from(y)), &mut binds);
        cond.push(format!("r.birth_year >= {a}"));
    }
    if let Some(y) = f.born_to {
        let a = p(Bind::Int(i64::from(y)), &mut binds);
        cond.push(format!("r.birth_year <= {a}"));
    }
    if let Some(s) = f.status {
        let a = p(Bind::Text(s.as_str().to_owned()), &mut binds);
        cond.push(format!("r.status = {a}"));
    }
    if let Some(h) = f.household_id {
        let a = p(Bind::Int(h), &mut binds);
        cond.push(format!("r.household_id = {a}"));
    }
    if let Some(after) = f.after {
        let a = p(Bind::Int(after), &mut binds);
        cond.push(format!("r.id > {a}"));
    }
    // The page's columns: those the answer's keys come from.
    let columns: Vec<String> = FIELDS.iter().map(|(_, c)| format!("r.{c}")).collect();
    let columns = columns.join(", ");
    let order = if tag_join { "t.resident_id" } else { "r.id" };
    let cond = cond.join(" AND ");
    // A grid's page is read in index order and bounded: directly on SQLite, one more row than
    // a page telling whether another follows, written as JSON on the way out. A subtree's page
    // may sort the whole subtree, so it waits on sqlx's own thread instead.
    if let (Some(direct), true) = (db.direct(), leaf) {
        let more = p(Bind::Int(f.limit + 1), &mut binds);
        let sql =
            format!("SELECT {columns} FROM {from} WHERE {cond} ORDER BY {order} LIMIT {more}");
        let keys: Vec<&str> = FIELDS.iter().map(|(k, _)| *k).collect();
        let page = direct.json_page(&sql, &binds, &keys, f.limit as usize)?;
        return Ok(Page {
            items: page.json,
            next_cursor: if page.more { page.last } else { None },
        });
    }
    let lim = p(Bind::Int(f.limit), &mut binds);
    let pairs: Vec<String> = FIELDS.iter().map(|(k, c)| format!("'{k}', {c}")).collect();
    let items = match db.engine() {
        crate::Engine::Sqlite => format!(
            "json_group_array(json_object({}) ORDER BY id)",
            pairs.join(", ")
        ),
        crate::Engine::Postgres => format!(
            "COALESCE(json_agg(json_build_object({}) ORDER BY id), '[]'::json)::TEXT",
            pairs.join(", ")
        ),
    };
    // Whether more follow: the first match past the page's last, read from the same index
    // (no counting, no numbering of the rows).
    let sql = format!(
        "SELECT items, last, EXISTS (SELECT 1 FROM {from} WHERE {cond} AND {order} > last) \
         FROM (SELECT {items} AS items, MAX(id) AS last \
               FROM (SELECT {columns} FROM {from} WHERE {cond} ORDER BY {order} LIMIT {lim}) w) p"
    );
    let (items, last, more): (String, Option<i64>, bool) =
        with_pool!(db, pool => bind_all!(sqlx::query_as(&sql), &binds).fetch_one(pool).await?);
    Ok(Page {
        items,
        next_cursor: if more { last } else { None },
    })
}

/// A change to a resident; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub name: Option<String>,
    /// A new identity (its kind, gender and birth year come with it).
    pub identity: Option<Identity>,
    pub gender: Option<String>,
    pub birth_year: Option<i32>,
    /// `Some(None)` clears the phone.
    pub phone: Option<Option<Phone>>,
    pub ethnicity: Option<Option<&'static str>>,
    pub residence: Option<Residence>,
    pub workplace: Option<Option<String>>,
    pub house_id: Option<Option<i64>>,
    pub node: Option<NodeCode>,
    /// The citizen account that is this person (`Some(None)` unlinks it).
    pub user_id: Option<Option<i64>>,
}

impl Change {
    /// Whether it changes anything at all.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.identity.is_none()
            && self.gender.is_none()
            && self.birth_year.is_none()
            && self.phone.is_none()
            && self.ethnicity.is_none()
            && self.residence.is_none()
            && self.workplace.is_none()
            && self.house_id.is_none()
            && self.node.is_none()
            && self.user_id.is_none()
    }
}

/// Loads a resident for change inside `$tx`, checking its version: `Stale` if it moved on.
#[macro_export]
macro_rules! load_resident {
    ($tx:expr, $id:expr, $version:expr) => {{
        let sql = format!(
            "SELECT {} FROM resident WHERE id = $1",
            $crate::resident::COLUMNS
        );
        let row: Option<$crate::resident::ResidentRow> = sqlx::query_as(&sql)
            .bind($id)
            .fetch_optional(&mut *$tx)
            .await?;
        let Some(row) = row else {
            return Err($crate::StoreError::NotFound);
        };
        if let Some(v) = $version {
            if row.version != v {
                return Err($crate::StoreError::Stale);
            }
        }
        row
    }};
}

/// A value to set, typed even when NULL (PostgreSQL wants a NULL's type to match the column).
pub enum Val {
    Text(Option<String>),
    Int(Option<i64>),
    Bytes(Option<Vec<u8>>),
}

/// Applies a resident [`Change`] inside the open transaction `$tx` (of [`with_tx!`]): checks the
/// version, writes the columns (sealed values prepared by the caller), moves the tags' node,
/// moves the tally when the node or residence of a counted resident changes, and appends the
/// audit row `$action`. Evaluates to the changed [`ResidentRow`]. Shared by [`update`] and the
/// accepted corrections, which must change the record in their own transaction.
#[macro_export]
macro_rules! apply_resident_change {
    ($tx:expr, $id:expr, $version:expr, $c:expr, $sealed_id:expr, $sealed_phone:expr, $action:expr, $actor_id:expr, $now:expr) => {{
        let before = $crate::load_resident!($tx, $id, $version);
        let tags: Vec<String> =
            sqlx::query_scalar("SELECT tag_code FROM resident_tag WHERE resident_id = $1")
                .bind($id)
                .fetch_all(&mut *$tx)
                .await?;
        let mut sets: Vec<String> = Vec::new();
        let mut vals: Vec<$crate::resident::Val> = Vec::new();
        let mut set = |col: &str, v: $crate::resident::Val| {
            vals.push(v);
            sets.push(format!("{col} = ${}", vals.len()));
        };
        if let Some(n) = &$c.name {
            set("name", $crate::resident::Val::Text(Some(n.clone())));
        }
        if let (Some(i), Some(s)) = (&$c.identity, &$sealed_id) {
            set(
                "id_kind",
                $crate::resident::Val::Text(Some(i.kind().as_str().to_owned())),
            );
            set(
                "id_enc",
                $crate::resident::Val::Bytes(Some(s.cipher.clone())),
            );
            set(
                "id_idx",
                $crate::resident::Val::Bytes(Some(s.index.clone())),
            );
            set("id_mask", $crate::resident::Val::Text(Some(s.mask.clone())));
        }
        if let Some(g) = &$c.gender {
            set("gender", $crate::resident::Val::Text(Some(g.clone())));
        }
        if let Some(y) = $c.birth_year {
            set("birth_year", $crate::resident::Val::Int(Some(i64::from(y))));
        }
        if let Some(p) = &$sealed_phone {
            set(
                "phone_enc",
                $crate::resident::Val::Bytes(p.as_ref().map(|s| s.cipher.clone())),
            );
            set(
                "phone_idx",
                $crate::resident::Val::Bytes(p.as_ref().map(|s| s.index.clone())),
            );
            set(
                "phone_mask",
                $crate::resident::Val::Text(p.as_ref().map(|s| s.mask.clone())),
            );
        }
        if let Some(e) = &$c.ethnicity {
            set(
                "ethnicity",
                $crate::resident::Val::Text(e.map(str::to_owned)),
            );
        }
        if let Some(r) = $c.residence {
            set(
                "residence",
                $crate::resident::Val::Text(Some(r.as_str().to_owned())),
            );
        }
        if let Some(w) = &$c.workplace {
            set("workplace", $crate::resident::Val::Text(w.clone()));
        }
        if let Some(h) = $c.house_id {
            set("house_id", $crate::resident::Val::Int(h));
        }
        if let Some(u) = $c.user_id {
            set("user_id", $crate::resident::Val::Int(u));
        }
        if let Some(n) = &$c.node {
            set(
                "node_code",
                $crate::resident::Val::Text(Some(n.as_str().to_owned())),
            );
        }
        set("updated_at", $crate::resident::Val::Int(Some($now)));
        vals.push($crate::resident::Val::Int(Some($id)));
        let sql = format!(
            "UPDATE resident SET {}, version = version + 1 WHERE id = ${} RETURNING {}",
            sets.join(", "),
            vals.len(),
            $crate::resident::COLUMNS
        );
        let after: $crate::resident::ResidentRow = {
            let mut q = sqlx::query_as::<_, $crate::resident::ResidentRow>(&sql);
            for v in &vals {
                q = match v {
                    $crate::resident::Val::Text(s) => q.bind(s.clone()),
                    $crate::resident::Val::Int(i) => q.bind(*i),
                    $crate::resident::Val::Bytes(b) => q.bind(b.clone()),
                };
            }
            q.fetch_one(&mut *$tx).await?
        };
        if let Some(n) = &$c.node {
            sqlx::query("UPDATE resident_tag SET node_code = $1 WHERE resident_id = $2")
                .bind(n.as_str())
                .bind($id)
                .execute(&mut *$tx)
                .await?;
        }
        if before.counted()
            && (before.node_code != after.node_code || before.residence != after.residence)
        {
            let mut t = $crate::tally::Tally::new();
            $crate::resident::count(&mut t, &before.node()?, &before.residence, &tags, -1);
            $crate::resident::count(&mut t, &after.node()?, &after.residence, &tags, 1);
            $crate::write_tally!($tx, &t);
        }
        let entry = $crate::audit::AuditEntry::new($actor_id, $action, "resident", $id.to_string())
            .before($crate::resident::audit_view(&before))
            .after($crate::resident::audit_view(&after));
        $crate::append_audit!($tx, &entry, $now);
        after
    }};
}

/// Applies a change (optimistic on `version` when given), moving the tally when the node or
/// the residence of a counted resident changes; audited as `action`.
#[allow(clippy::too_many_arguments)]
pub async fn update(
    db: &Db,
    keys: &Keyring,
    id: i64,
    version: Option<i64>,
    c: &Change,
    action: &str,
    actor_id: Option<i64>,
    now: i64,
) -> Result<ResidentRow, StoreError> {
    let (sealed_id, sealed_phone) = seal_change(keys, c);
    let row = with_tx!(db, tx => {
        apply_resident_change!(tx, id, version, c, sealed_id, sealed_phone, action, actor_id, now)
    });
    Ok(row)
}

/// The sealed identity and phone of a change, for [`apply_resident_change!`].
#[allow(clippy::type_complexity)]
pub fn seal_change(
    keys: &Keyring,
    c: &Change,
) -> (
    Option<crate::pii::Sealed>,
    Option<Option<crate::pii::Sealed>>,
) {
    (
        c.identity.as_ref().map(|i| seal_identity(keys, i)),
        c.phone
            .as_ref()
            .map(|p| p.as_ref().map(|p| seal_phone(keys, p))),
    )
}

/// Moves a resident to another status (move out, death, return), as the domain allows; the
/// tally follows (a resident who is no longer present leaves the counts with their tags).
/// `Ok(Err(why))` when the move is not allowed.
pub async fn set_status(
    db: &Db,
    id: i64,
    version: Option<i64>,
    to: Status,
    note: &str,
    actor_id: Option<i64>,
    now: i64,
) -> Result<Result<ResidentRow, String>, StoreError> {
    let row = with_tx!(db, tx => {
        let before = load_resident!(tx, id, version);
        let from = Status::parse(&before.status).map_err(|e| StoreError::Other(anyhow::anyhow!("stored status: {e}")))?;
        if !from.can_become(to) {
            return Ok(Err(format!("a resident who is {from} cannot become {to}")));
        }
        let sql = format!("UPDATE resident SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3 RETURNING {COLUMNS}");
        let after: ResidentRow = sqlx::query_as(&sql).bind(to.as_str()).bind(now).bind(id).fetch_one(&mut *tx).await?;
        let tags: Vec<String> = sqlx::query_scalar("SELECT tag_code FROM resident_tag WHERE resident_id = $1")
            .bind(id).fetch_all(&mut *tx).await?;
        let sign = match (from.counted(), to.counted()) {
            (true, false) => -1,
            (false, true) => 1,
            _ => 0,
        };
        let mut t = Tally::new();
        count(&mut t, &before.node()?, &before.residence, &tags, sign);
        write_tally!(tx, &t);
        let entry = AuditEntry::new(actor_id, "resident.status", "resident", id.to_string())
            .before(json!({"status": before.status}))
            .after(json!({"status": after.status, "note": note}));
        append_audit!(tx, &entry, now);
        Ok(after)
    });
    Ok(row)
}

/// Which sealed field a reveal opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    IdNumber,
    Phone,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::IdNumber => "id_number",
            Field::Phone => "phone",
        }
    }
}

/// Opens one sealed field of a resident for `actor_id` with a stated `purpose`, writing the
/// audit row `resident.reveal` (field and purpose, never the value) in the same transaction.
/// `None` when the field is empty (nothing is revealed, nothing audited).
pub async fn reveal(
    db: &Db,
    keys: &Keyring,
    id: i64,
    field: Field,
    purpose: &str,
    actor_id: i64,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let sql = match field {
        Field::IdNumber => "SELECT id_enc FROM resident WHERE id = $1",
        Field::Phone => "SELECT phone_enc FROM resident WHERE id = $1",
    };
    let value = with_tx!(db, tx => {
        let blob: Option<Option<Vec<u8>>> = sqlx::query_scalar(sql).bind(id).fetch_optional(&mut *tx).await?;
        let Some(blob) = blob.ok_or(StoreError::NotFound)? else {
            return Ok(None);
        };
        let value = keys.decrypt(&blob)?;
        let entry = AuditEntry::new(Some(actor_id), "resident.reveal", "resident", id.to_string())
            .after(json!({"field": field.as_str(), "purpose": purpose}));
        append_audit!(tx, &entry, now);
        value
    });
    Ok(Some(value))
}
