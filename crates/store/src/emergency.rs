//! Emergency rosters (平急转换): the vulnerable residents (a tag whose `tag.vulnerable` is set)
//! of chosen grids or buildings, frozen when the roster is built, and the workers' marks on
//! each entry. Addresses are not copied into the roster: they are read from the register
//! when it is opened.

use serde_json::{json, Value};
use shanzhi_domain::tree::subtree_end;

use crate::audit::AuditEntry;
use crate::{Db, StoreError};

/// A roster as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Roster {
    pub id: i64,
    pub name: String,
    pub node_code: String,
    pub area: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

impl Roster {
    pub fn to_json(&self) -> Value {
        let area = serde_json::from_str::<Value>(&self.area).unwrap_or(Value::Null);
        json!({"id": self.id, "name": self.name, "node_code": self.node_code, "area": area,
            "created_by": self.created_by, "created_at": self.created_at})
    }
}

/// Who is on a new roster: the vulnerable residents of these nodes' subtrees, or of the
/// houses of these buildings.
#[derive(Debug, Clone)]
pub enum Choice {
    Nodes,
    Buildings(Vec<i64>),
}

/// A roster to build.
#[derive(Debug, Clone)]
pub struct NewRoster {
    pub name: String,
    /// The lowest node holding all of `nodes`.
    pub node_code: String,
    /// What was chosen, as JSON (kept for the record and the print header).
    pub area: Value,
    /// The grids (or other nodes) the roster covers.
    pub nodes: Vec<String>,
    pub choice: Choice,
}

/// Who goes on a roster: the present residents with a vulnerable tag (`$1` is the roster id).
pub const VULNERABLE: &str = "SELECT DISTINCT $1, r.id, r.node_code FROM resident r \
     JOIN resident_tag rt ON rt.resident_id = r.id JOIN tag t ON t.code = rt.tag_code \
     WHERE t.vulnerable AND r.status = 'present'";

/// Builds the roster `$new` (a `&NewRoster`) inside the open transaction `$tx` and writes its
/// audit row (purpose: its name); evaluates to `(Roster, entries)`. Shared by
/// [`create`] and the warnings, which open a roster in their own transaction.
#[macro_export]
macro_rules! insert_roster {
    ($tx:expr, $new:expr, $actor_id:expr, $now_ms:expr) => {{
        let new: &$crate::emergency::NewRoster = $new;
        let actor_id: i64 = $actor_id;
        let now_ms: i64 = $now_ms;
        let by_node = format!(
            "INSERT INTO roster_entry (roster_id, resident_id, node_code) {} \
             AND r.node_code >= $2 AND r.node_code < $3 ON CONFLICT DO NOTHING",
            $crate::emergency::VULNERABLE
        );
        let by_building = format!(
            "INSERT INTO roster_entry (roster_id, resident_id, node_code) {} \
             AND r.house_id IN (SELECT id FROM house WHERE building_id = $2) ON CONFLICT DO NOTHING",
            $crate::emergency::VULNERABLE
        );
        let roster: $crate::emergency::Roster = sqlx::query_as(
            "INSERT INTO roster (name, node_code, area, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, name, node_code, area, created_by, created_at")
            .bind(&new.name).bind(&new.node_code).bind(new.area.to_string()).bind(actor_id).bind(now_ms)
            .fetch_one(&mut *$tx).await?;
        for node in &new.nodes {
            sqlx::query("INSERT INTO roster_node (roster_id, node_code) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(roster.id).bind(node).execute(&mut *$tx).await?;
        }
        match &new.choice {
            $crate::emergency::Choice::Nodes => {
                for node in &new.nodes {
                    let path = shanzhi_domain::tree::NodeCode::parse(node)
                        .map(|c| c.path().to_owned())
                        .unwrap_or_else(|_| node.clone());
                    sqlx::query(&by_node).bind(roster.id).bind(&path)
                        .bind(shanzhi_domain::tree::subtree_end(&path))
                        .execute(&mut *$tx).await?;
                }
            }
            $crate::emergency::Choice::Buildings(ids) => {
                for b in ids {
                    sqlx::query(&by_building).bind(roster.id).bind(b).execute(&mut *$tx).await?;
                }
            }
        }
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM roster_entry WHERE roster_id = $1")
            .bind(roster.id).fetch_one(&mut *$tx).await?;
        let entry = $crate::audit::AuditEntry::new(Some(actor_id), "roster.create", "roster", roster.id.to_string())
            .after(serde_json::json!({"purpose": new.name, "name": new.name, "nodes": new.nodes, "area": new.area, "entries": n}));
        append_audit!($tx, &entry, now_ms);
        (roster, n)
    }};
}

/// Builds a roster and writes an audit row whose purpose is its name. Returns it and its
/// number of entries.
pub async fn create(
    db: &Db,
    new: &NewRoster,
    actor_id: i64,
    now_ms: i64,
) -> Result<(Roster, i64), StoreError> {
    Ok(with_tx!(db, tx => { insert_roster!(tx, new, actor_id, now_ms) }))
}

/// One roster.
pub async fn get(db: &Db, id: i64) -> Result<Roster, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as("SELECT id, name, node_code, area, created_by, created_at FROM roster WHERE id = $1")
            .bind(id).fetch_one(pool).await?
    }))
}

/// The nodes a roster covers.
pub async fn nodes(db: &Db, id: i64) -> Result<Vec<String>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_scalar("SELECT node_code FROM roster_node WHERE roster_id = $1 ORDER BY node_code")
            .bind(id).fetch_all(pool).await?
    }))
}

/// Rosters covering any node of a subtree, newest first.
pub async fn list(db: &Db, path: &str, limit: i64) -> Result<Vec<Roster>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT id, name, node_code, area, created_by, created_at FROM roster WHERE id IN \
             (SELECT roster_id FROM roster_node WHERE node_code >= $1 AND node_code < $2) ORDER BY id DESC LIMIT $3")
            .bind(path).bind(subtree_end(path)).bind(limit).fetch_all(pool).await?
    }))
}

/// Entries per state of a roster.
pub async fn progress(db: &Db, id: i64) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as("SELECT state, COUNT(*) FROM roster_entry WHERE roster_id = $1 GROUP BY state")
            .bind(id).fetch_all(pool).await?
    }))
}

/// An entry with what the register says of the person now (masked) and where they live.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub resident_id: i64,
    pub node_code: String,
    pub state: String,
    pub note: Option<String>,
    pub marked_by: Option<i64>,
    pub marked_at: Option<i64>,
    pub name: String,
    pub gender: String,
    pub birth_year: Option<i64>,
    pub phone_mask: Option<String>,
    pub household_id: Option<i64>,
    pub relation: Option<String>,
    pub building_name: Option<String>,
    pub room: Option<String>,
}

/// The entries of a roster, by node, building and room.
pub async fn entries(db: &Db, id: i64) -> Result<Vec<Entry>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT e.resident_id, e.node_code, e.state, e.note, e.marked_by, e.marked_at, r.name, r.gender, r.birth_year, \
             r.phone_mask, r.household_id, r.relation, b.name AS building_name, h.room FROM roster_entry e \
             JOIN resident r ON r.id = e.resident_id LEFT JOIN house h ON h.id = r.house_id \
             LEFT JOIN building b ON b.id = h.building_id WHERE e.roster_id = $1 \
             ORDER BY e.node_code, b.name, h.room, e.resident_id")
            .bind(id).fetch_all(pool).await?
    }))
}

/// The vulnerable tags of a roster's people: (resident id, tag code, zh name, en name).
pub async fn tags(db: &Db, id: i64) -> Result<Vec<(i64, String, String, String)>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT rt.resident_id, t.code, t.name_zh, t.name_en FROM roster_entry e \
             JOIN resident_tag rt ON rt.resident_id = e.resident_id JOIN tag t ON t.code = rt.tag_code \
             WHERE e.roster_id = $1 AND t.vulnerable ORDER BY rt.resident_id, t.code")
            .bind(id).fetch_all(pool).await?
    }))
}

/// The grid workers assigned to a roster's nodes (users whose scope is that node):
/// (node, user id, display name).
pub async fn workers(db: &Db, id: i64) -> Result<Vec<(String, i64, String)>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT u.scope_code, u.id, u.display_name FROM app_user u \
             WHERE u.role = 'grid_worker' AND NOT u.disabled \
             AND u.scope_code IN (SELECT DISTINCT node_code FROM roster_entry WHERE roster_id = $1) ORDER BY u.scope_code, u.id")
            .bind(id).fetch_all(pool).await?
    }))
}

/// The node of one entry (NotFound if the resident is not on the roster).
pub async fn entry_node(db: &Db, id: i64, resident_id: i64) -> Result<String, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_scalar("SELECT node_code FROM roster_entry WHERE roster_id = $1 AND resident_id = $2")
            .bind(id).bind(resident_id).fetch_one(pool).await?
    }))
}

/// Marks an entry.
pub async fn mark(
    db: &Db,
    id: i64,
    resident_id: i64,
    state: &str,
    note: Option<&str>,
    actor_id: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let before: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT state, note FROM roster_entry WHERE roster_id = $1 AND resident_id = $2")
            .bind(id).bind(resident_id).fetch_optional(&mut *tx).await?;
        let Some((old_state, old_note)) = before else {
            return Err(StoreError::NotFound);
        };
        sqlx::query("UPDATE roster_entry SET state = $1, note = $2, marked_by = $3, marked_at = $4 WHERE roster_id = $5 AND resident_id = $6")
            .bind(state).bind(note).bind(actor_id).bind(now_ms).bind(id).bind(resident_id).execute(&mut *tx).await?;
        let entry = AuditEntry::new(Some(actor_id), "roster.mark", "roster", id.to_string())
            .before(json!({"resident_id": resident_id, "state": old_state, "note": old_note}))
            .after(json!({"resident_id": resident_id, "state": state, "note": note}));
        append_audit!(tx, &entry, now_ms);
    });
    Ok(())
}

/// Records that someone opened a roster (its addresses are personal data).
pub async fn opened(
    db: &Db,
    id: i64,
    name: &str,
    actor_id: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let entry = AuditEntry::new(Some(actor_id), "roster.open", "roster", id.to_string())
            .after(json!({"purpose": name}));
        append_audit!(tx, &entry, now_ms);
    });
    Ok(())
}
