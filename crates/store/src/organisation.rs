//! Organisations (enterprises, social organisations, party branches) with their members, and
//! the officials assigned to a grid.

use serde_json::{json, Value};
use shanzhi_domain::tree::{subtree_end, NodeCode};

use crate::audit::AuditEntry;
use crate::{Db, StoreError};

/// An organisation as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Organisation {
    pub id: i64,
    pub node_code: String,
    pub kind: String,
    pub name: String,
    pub address: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Organisation {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "node_code": self.node_code, "kind": self.kind, "name": self.name,
            "address": self.address, "version": self.version, "created_at": self.created_at,
            "updated_at": self.updated_at})
    }
}

/// An organisation to create or the new values of one.
#[derive(Debug, Clone)]
pub struct OrganisationInput {
    pub node_code: NodeCode,
    pub kind: String,
    pub name: String,
    pub address: Option<String>,
}

const COLUMNS: &str = "id, node_code, kind, name, address, version, created_at, updated_at";

/// Creates an organisation (a second party branch at a node is a conflict on
/// `organisation_branch_key`).
pub async fn insert(
    db: &Db,
    o: &OrganisationInput,
    actor_id: i64,
    now_ms: i64,
) -> Result<Organisation, StoreError> {
    let sql = format!(
        "INSERT INTO organisation (node_code, kind, name, address, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING {COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let row: Organisation = sqlx::query_as(&sql)
            .bind(o.node_code.as_str()).bind(&o.kind).bind(&o.name).bind(&o.address).bind(now_ms)
            .fetch_one(&mut *tx).await?;
        let entry = AuditEntry::new(Some(actor_id), "organisation.create", "organisation", row.id.to_string()).after(row.to_json());
        append_audit!(tx, &entry, now_ms);
        row
    }))
}

/// Changes an organisation.
pub async fn update(
    db: &Db,
    before: &Organisation,
    o: &OrganisationInput,
    actor_id: i64,
    now_ms: i64,
) -> Result<Organisation, StoreError> {
    let sql = format!(
        "UPDATE organisation SET node_code = $1, kind = $2, name = $3, address = $4, updated_at = $5, version = version + 1 \
         WHERE id = $6 RETURNING {COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let row: Organisation = sqlx::query_as(&sql)
            .bind(o.node_code.as_str()).bind(&o.kind).bind(&o.name).bind(&o.address).bind(now_ms).bind(before.id)
            .fetch_one(&mut *tx).await?;
        let entry = AuditEntry::new(Some(actor_id), "organisation.update", "organisation", row.id.to_string())
            .before(before.to_json()).after(row.to_json());
        append_audit!(tx, &entry, now_ms);
        row
    }))
}

/// One organisation.
pub async fn get(db: &Db, id: i64) -> Result<Organisation, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM organisation WHERE id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// The organisations of a subtree, optionally of one kind, by id.
pub async fn list(
    db: &Db,
    path: &str,
    kind: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<Organisation>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organisation WHERE node_code >= $1 AND node_code < $2 AND id > $3 \
         AND ($4 IS NULL OR kind = $4) ORDER BY id LIMIT $5"
    );
    Ok(with_pool!(db, pool => {
        sqlx::query_as(&sql).bind(path).bind(subtree_end(path)).bind(after).bind(kind).bind(limit).fetch_all(pool).await?
    }))
}

/// The party branch of a node, if it has one.
pub async fn branch_of(db: &Db, node_code: &str) -> Result<Option<Organisation>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organisation WHERE node_code = $1 AND kind = 'party_branch'"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(node_code).fetch_optional(pool).await?))
}

/// A member as stored, with the resident's name when the member is a resident.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Member {
    pub id: i64,
    pub organisation_id: i64,
    pub resident_id: Option<i64>,
    pub name: Option<String>,
    pub role: String,
    pub created_at: i64,
}

impl Member {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "organisation_id": self.organisation_id, "resident_id": self.resident_id,
            "name": self.name, "role": self.role, "created_at": self.created_at})
    }
}

const MEMBER_SELECT: &str = "SELECT m.id, m.organisation_id, m.resident_id, COALESCE(m.name, r.name) AS name, m.role, m.created_at \
     FROM organisation_member m LEFT JOIN resident r ON r.id = m.resident_id";

/// The members of an organisation, secretary first.
pub async fn members(db: &Db, organisation_id: i64) -> Result<Vec<Member>, StoreError> {
    let sql = format!(
        "{MEMBER_SELECT} WHERE m.organisation_id = $1 \
         ORDER BY CASE m.role WHEN 'secretary' THEN 0 WHEN 'deputy' THEN 1 ELSE 2 END, m.id"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(organisation_id).fetch_all(pool).await?))
}

/// Adds a member (a second secretary is a conflict on `organisation_secretary_key`).
pub async fn add_member(
    db: &Db,
    organisation_id: i64,
    resident_id: Option<i64>,
    name: Option<&str>,
    role: &str,
    actor_id: i64,
    now_ms: i64,
) -> Result<Member, StoreError> {
    let id: i64 = with_tx!(db, tx => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO organisation_member (organisation_id, resident_id, name, role, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(organisation_id).bind(resident_id).bind(name).bind(role).bind(now_ms)
            .fetch_one(&mut *tx).await?;
        let entry = AuditEntry::new(Some(actor_id), "organisation.member_add", "organisation", organisation_id.to_string())
            .after(json!({"member_id": id, "resident_id": resident_id, "name": name, "role": role}));
        append_audit!(tx, &entry, now_ms);
        id
    });
    let sql = format!("{MEMBER_SELECT} WHERE m.id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// Removes a member of an organisation (NotFound if it is not one of its members).
pub async fn remove_member(
    db: &Db,
    organisation_id: i64,
    member_id: i64,
    actor_id: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let gone: Option<(Option<i64>, Option<String>, String)> = sqlx::query_as(
            "DELETE FROM organisation_member WHERE id = $1 AND organisation_id = $2 RETURNING resident_id, name, role")
            .bind(member_id).bind(organisation_id).fetch_optional(&mut *tx).await?;
        let Some((resident_id, name, role)) = gone else {
            return Err(StoreError::NotFound);
        };
        let entry = AuditEntry::new(Some(actor_id), "organisation.member_remove", "organisation", organisation_id.to_string())
            .before(json!({"member_id": member_id, "resident_id": resident_id, "name": name, "role": role}));
        append_audit!(tx, &entry, now_ms);
    });
    Ok(())
}

/// An official assigned to a node.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Official {
    pub node_code: String,
    pub user_id: i64,
    pub display_name: String,
    pub role: String,
    pub duty: String,
    pub created_at: i64,
}

impl Official {
    pub fn to_json(&self) -> Value {
        json!({"node_code": self.node_code, "user_id": self.user_id, "display_name": self.display_name,
            "role": self.role, "duty": self.duty, "created_at": self.created_at})
    }
}

/// The officials assigned to a node.
pub async fn officials(db: &Db, node_code: &str) -> Result<Vec<Official>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT o.node_code, o.user_id, u.display_name, u.role, o.duty, o.created_at FROM grid_official o \
             JOIN app_user u ON u.id = o.user_id WHERE o.node_code = $1 ORDER BY o.created_at, o.user_id")
            .bind(node_code).fetch_all(pool).await?
    }))
}

/// Assigns an official to a node with a duty (or changes the duty).
pub async fn set_official(
    db: &Db,
    node_code: &str,
    user_id: i64,
    duty: &str,
    actor_id: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        sqlx::query("INSERT INTO grid_official (node_code, user_id, duty, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (node_code, user_id) DO UPDATE SET duty = excluded.duty")
            .bind(node_code).bind(user_id).bind(duty).bind(now_ms).execute(&mut *tx).await?;
        let entry = AuditEntry::new(Some(actor_id), "grid_official.set", "node", node_code)
            .after(json!({"user_id": user_id, "duty": duty}));
        append_audit!(tx, &entry, now_ms);
    });
    Ok(())
}

/// Removes an official from a node (NotFound if not assigned).
pub async fn remove_official(
    db: &Db,
    node_code: &str,
    user_id: i64,
    actor_id: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let n = sqlx::query("DELETE FROM grid_official WHERE node_code = $1 AND user_id = $2")
            .bind(node_code).bind(user_id).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let entry = AuditEntry::new(Some(actor_id), "grid_official.remove", "node", node_code)
            .before(json!({"user_id": user_id}));
        append_audit!(tx, &entry, now_ms);
    });
    Ok(())
}

/// A party branch of a bulk load (the demo), with its members: (name, role).
#[derive(Debug, Clone)]
pub struct NewBranch {
    pub node_code: String,
    pub name: String,
    pub members: Vec<(String, String)>,
}

/// Writes party branches with their members, and makes the dispatchers of each grid's parent
/// node its officials with `duty` (the demo's 包联干部), in one transaction.
pub async fn insert_branches(
    db: &Db,
    branches: &[NewBranch],
    under: &str,
    duty: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        for b in branches {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO organisation (node_code, kind, name, created_at, updated_at) VALUES ($1, 'party_branch', $2, $3, $3) RETURNING id")
                .bind(&b.node_code).bind(&b.name).bind(now_ms).fetch_one(&mut *tx).await?;
            for (name, role) in &b.members {
                sqlx::query("INSERT INTO organisation_member (organisation_id, name, role, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(id).bind(name).bind(role).bind(now_ms).execute(&mut *tx).await?;
            }
        }
        sqlx::query(
            "INSERT INTO grid_official (node_code, user_id, duty, created_at) \
             SELECT n.code, u.id, $1, $2 FROM node n JOIN app_user u ON u.scope_code = n.parent_code AND u.role = 'dispatcher' \
             WHERE n.code >= $3 AND n.code < $4 AND LENGTH(n.code) > 12 ON CONFLICT DO NOTHING")
            .bind(duty).bind(now_ms).bind(under).bind(subtree_end(under)).execute(&mut *tx).await?;
    });
    Ok(())
}

/// Writes the organisations of an import in multi-row inserts, with the import's audit row, in
/// one transaction.
pub async fn import_many(
    db: &Db,
    organisations: &[OrganisationInput],
    audit: &AuditEntry,
    now_ms: i64,
) -> Result<(), StoreError> {
    const COLS: usize = 6;
    with_tx!(db, tx => {
        let engine = crate::db::engine_of(&tx);
        for chunk in crate::db::pow2_chunks(organisations, 256) {
            let sql = format!(
                "INSERT INTO organisation (node_code, kind, name, address, created_at, updated_at) VALUES {}",
                crate::db::tuples(engine, chunk.len(), COLS)
            );
            let mut q = sqlx::query(&sql);
            for o in chunk {
                q = q.bind(o.node_code.as_str()).bind(&o.kind).bind(&o.name).bind(&o.address)
                    .bind(now_ms).bind(now_ms);
            }
            q.execute(&mut *tx).await?;
        }
        append_audit!(tx, audit, now_ms);
    });
    Ok(())
}

/// The (node, name) of the organisations registered at each of `nodes`, and the nodes among
/// them that have a party branch.
pub async fn names_at(
    db: &Db,
    nodes: &[String],
) -> Result<(Vec<(String, String)>, Vec<String>), StoreError> {
    let mut names = Vec::new();
    let mut branches = Vec::new();
    for chunk in nodes.chunks(500) {
        let marks = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql =
            format!("SELECT node_code, name, kind FROM organisation WHERE node_code IN ({marks})");
        let rows: Vec<(String, String, String)> = with_pool!(db, pool => {
            let mut q = sqlx::query_as(&sql);
            for c in chunk {
                q = q.bind(c.as_str());
            }
            q.fetch_all(pool).await?
        });
        for (node, name, kind) in rows {
            if kind == "party_branch" {
                branches.push(node.clone());
            }
            names.push((node, name));
        }
    }
    Ok((names, branches))
}
