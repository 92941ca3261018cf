//! Households (户): create, change (number, house, head), members joining and leaving under
//! the domain's rules (exactly one head), the `household` tally, audited.

use serde_json::{json, Value};
use shanzhi_domain::household::{can_join, can_leave, Relation};
use shanzhi_domain::tree::{subtree_end, NodeCode};
use shanzhi_domain::DomainError;

use crate::audit::AuditEntry;
use crate::resident::{ResidentRow, COLUMNS as RESIDENT_COLUMNS};
use crate::tally::Tally;
use crate::{Db, StoreError};

const COLUMNS: &str =
    "id, node_code, number, house_id, head_resident_id, version, created_at, updated_at";

/// A household as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HouseholdRow {
    pub id: i64,
    pub node_code: String,
    pub number: Option<String>,
    pub house_id: Option<i64>,
    pub head_resident_id: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl HouseholdRow {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "node": self.node_code, "number": self.number, "house_id": self.house_id,
            "head_resident_id": self.head_resident_id, "version": self.version,
            "created_at": self.created_at, "updated_at": self.updated_at,
        })
    }

    /// The node as a checked code (stored codes are valid).
    pub fn node(&self) -> Result<NodeCode, StoreError> {
        NodeCode::parse(&self.node_code)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("stored node code: {e}")))
    }
}

/// Loads a household inside the open transaction `$tx`, checking its version: `NotFound`,
/// `Stale` if it moved on.
macro_rules! locked {
    ($tx:expr, $id:expr, $version:expr) => {{
        let sql = format!("SELECT {COLUMNS} FROM household WHERE id = $1");
        let row: Option<HouseholdRow> = sqlx::query_as(&sql)
            .bind($id)
            .fetch_optional(&mut *$tx)
            .await?;
        let row = row.ok_or(StoreError::NotFound)?;
        let version: Option<i64> = $version;
        if version.is_some_and(|v| v != row.version) {
            return Err(StoreError::Stale);
        }
        row
    }};
}

/// Creates a household at `node`, counted in the tally.
pub async fn insert(
    db: &Db,
    node: &NodeCode,
    number: Option<&str>,
    house_id: Option<i64>,
    actor_id: Option<i64>,
    now: i64,
) -> Result<HouseholdRow, StoreError> {
    let mut t = Tally::new();
    t.add(node, "household", "", 1);
    Ok(with_tx!(db, tx => {
        let sql = format!("INSERT INTO household (node_code, number, house_id, version, created_at, updated_at) \
            VALUES ($1, $2, $3, 1, $4, $4) RETURNING {COLUMNS}");
        let row: HouseholdRow = sqlx::query_as(&sql).bind(node.as_str()).bind(number).bind(house_id).bind(now)
            .fetch_one(&mut *tx).await?;
        write_tally!(tx, &t);
        let entry = AuditEntry::new(actor_id, "household.create", "household", row.id.to_string()).after(row.to_json());
        append_audit!(tx, &entry, now);
        row
    }))
}

/// One household.
pub async fn get(db: &Db, id: i64) -> Result<Option<HouseholdRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM household WHERE id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
}

/// Households of a subtree (`under`: a node path), by id after the cursor.
pub async fn list(
    db: &Db,
    under: &str,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<HouseholdRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM household WHERE node_code >= $1 AND node_code < $2 AND id > $3 ORDER BY id LIMIT $4"
    );
    Ok(
        with_pool!(db, pool => sqlx::query_as(&sql).bind(under).bind(subtree_end(under))
        .bind(after.unwrap_or(i64::MIN)).bind(limit).fetch_all(pool).await?),
    )
}

/// Changes the number and the house (`Some(None)` clears it), optimistic on `version`.
pub async fn update(
    db: &Db,
    id: i64,
    version: Option<i64>,
    number: Option<Option<String>>,
    house_id: Option<Option<i64>>,
    actor_id: Option<i64>,
    now: i64,
) -> Result<HouseholdRow, StoreError> {
    Ok(with_tx!(db, tx => {
        let before = locked!(tx, id, version);
        let number = number.unwrap_or_else(|| before.number.clone());
        let house = house_id.unwrap_or(before.house_id);
        let sql = format!("UPDATE household SET number = $1, house_id = $2, version = version + 1, updated_at = $3 WHERE id = $4 RETURNING {COLUMNS}");
        let after: HouseholdRow = sqlx::query_as(&sql).bind(&number).bind(house).bind(now).bind(id).fetch_one(&mut *tx).await?;
        let entry = AuditEntry::new(actor_id, "household.update", "household", id.to_string())
            .before(before.to_json()).after(after.to_json());
        append_audit!(tx, &entry, now);
        after
    }))
}

fn relations(rows: &[(Option<String>,)]) -> Vec<Relation> {
    rows.iter()
        .filter_map(|(r,)| r.as_deref().and_then(|r| Relation::parse(r).ok()))
        .collect()
}

/// What a membership change could not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The domain's rules said no.
    Rule(DomainError),
    /// The resident is not at the household's node.
    OtherNode,
    /// The resident is in another household already.
    Elsewhere,
    /// The resident is not a member.
    NotMember,
}

/// Adds a resident to a household with `relation` (a head becomes the household's head).
pub async fn add_member(
    db: &Db,
    id: i64,
    resident_id: i64,
    relation: Relation,
    actor_id: Option<i64>,
    now: i64,
) -> Result<Result<ResidentRow, Refusal>, StoreError> {
    Ok(with_tx!(db, tx => {
        let hh = locked!(tx, id, None);
        let sql = format!("SELECT {RESIDENT_COLUMNS} FROM resident WHERE id = $1");
        let r: Option<ResidentRow> = sqlx::query_as(&sql).bind(resident_id).fetch_optional(&mut *tx).await?;
        let r = r.ok_or(StoreError::NotFound)?;
        if r.node_code != hh.node_code {
            return Ok(Err(Refusal::OtherNode));
        }
        if r.household_id.is_some() {
            return Ok(Err(Refusal::Elsewhere));
        }
        let rows: Vec<(Option<String>,)> = sqlx::query_as("SELECT relation FROM resident WHERE household_id = $1")
            .bind(id).fetch_all(&mut *tx).await?;
        if let Err(e) = can_join(&relations(&rows), relation) {
            return Ok(Err(Refusal::Rule(e)));
        }
        let sql = format!("UPDATE resident SET household_id = $1, relation = $2, version = version + 1, updated_at = $3 WHERE id = $4 RETURNING {RESIDENT_COLUMNS}");
        let after: ResidentRow = sqlx::query_as(&sql).bind(id).bind(relation.as_str()).bind(now).bind(resident_id).fetch_one(&mut *tx).await?;
        if relation == Relation::Head {
            sqlx::query("UPDATE household SET head_resident_id = $1, version = version + 1, updated_at = $2 WHERE id = $3")
                .bind(resident_id).bind(now).bind(id).execute(&mut *tx).await?;
        }
        let entry = AuditEntry::new(actor_id, "household.add_member", "household", id.to_string())
            .after(json!({"resident_id": resident_id, "relation": relation.as_str()}));
        append_audit!(tx, &entry, now);
        Ok(after)
    }))
}

/// Takes a resident out of a household (the head leaves last).
pub async fn remove_member(
    db: &Db,
    id: i64,
    resident_id: i64,
    actor_id: Option<i64>,
    now: i64,
) -> Result<Result<(), Refusal>, StoreError> {
    Ok(with_tx!(db, tx => {
        locked!(tx, id, None);
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as("SELECT id, relation FROM resident WHERE household_id = $1")
            .bind(id).fetch_all(&mut *tx).await?;
        let Some((_, relation)) = rows.iter().find(|(r, _)| *r == resident_id) else {
            return Ok(Err(Refusal::NotMember));
        };
        let all: Vec<(Option<String>,)> = rows.iter().map(|(_, r)| (r.clone(),)).collect();
        let rel = relation.as_deref().and_then(|r| Relation::parse(r).ok()).unwrap_or(Relation::Other);
        if let Err(e) = can_leave(&relations(&all), rel) {
            return Ok(Err(Refusal::Rule(e)));
        }
        sqlx::query("UPDATE resident SET household_id = NULL, relation = NULL, version = version + 1, updated_at = $1 WHERE id = $2")
            .bind(now).bind(resident_id).execute(&mut *tx).await?;
        if rel == Relation::Head {
            sqlx::query("UPDATE household SET head_resident_id = NULL, version = version + 1, updated_at = $1 WHERE id = $2")
                .bind(now).bind(id).execute(&mut *tx).await?;
        }
        let entry = AuditEntry::new(actor_id, "household.remove_member", "household", id.to_string())
            .before(json!({"resident_id": resident_id, "relation": rel.as_str()}));
        append_audit!(tx, &entry, now);
        Ok(())
    }))
}

/// Makes a member the head; the former head takes `former` as their relation.
pub async fn set_head(
    db: &Db,
    id: i64,
    resident_id: i64,
    former: Relation,
    actor_id: Option<i64>,
    now: i64,
) -> Result<Result<HouseholdRow, Refusal>, StoreError> {
    Ok(with_tx!(db, tx => {
        let before = locked!(tx, id, None);
        let member: Option<i64> = sqlx::query_scalar("SELECT id FROM resident WHERE id = $1 AND household_id = $2")
            .bind(resident_id).bind(id).fetch_optional(&mut *tx).await?;
        if member.is_none() {
            return Ok(Err(Refusal::NotMember));
        }
        if former == Relation::Head {
            return Ok(Err(Refusal::Rule(DomainError::invalid("former_relation", "the former head takes another relation"))));
        }
        sqlx::query("UPDATE resident SET relation = $1, version = version + 1, updated_at = $2 WHERE household_id = $3 AND relation = 'head' AND id <> $4")
            .bind(former.as_str()).bind(now).bind(id).bind(resident_id).execute(&mut *tx).await?;
        sqlx::query("UPDATE resident SET relation = 'head', version = version + 1, updated_at = $1 WHERE id = $2")
            .bind(now).bind(resident_id).execute(&mut *tx).await?;
        let sql = format!("UPDATE household SET head_resident_id = $1, version = version + 1, updated_at = $2 WHERE id = $3 RETURNING {COLUMNS}");
        let after: HouseholdRow = sqlx::query_as(&sql).bind(resident_id).bind(now).bind(id).fetch_one(&mut *tx).await?;
        let entry = AuditEntry::new(actor_id, "household.set_head", "household", id.to_string())
            .before(json!({"head_resident_id": before.head_resident_id}))
            .after(json!({"head_resident_id": resident_id, "former_relation": former.as_str()}));
        append_audit!(tx, &entry, now);
        Ok(after)
    }))
}
