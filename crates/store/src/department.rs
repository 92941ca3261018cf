//! Departments (职能部门): who handles what, at which level of the tree.

use serde_json::{json, Value};
use shanzhi_domain::tree::{subtree_end, NodeCode};

use crate::audit::AuditEntry;
use crate::{Db, StoreError};

/// A department as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Department {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub region_code: String,
    pub created_at: i64,
}

impl crate::sqlite_read::FromDirect for Department {
    fn from_direct(r: &crate::sqlite_read::Row) -> Result<Self, StoreError> {
        Ok(Department {
            id: r.int(0)?,
            code: r.text(1)?,
            name: r.text(2)?,
            region_code: r.text(3)?,
            created_at: r.int(4)?,
        })
    }
}

impl Department {
    /// For the API and the audit log.
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "code": self.code, "name": self.name, "region": self.region_code, "created_at": self.created_at})
    }
}

/// Creates a department and records it.
pub async fn insert(
    db: &Db,
    code: &str,
    name: &str,
    region: &NodeCode,
    actor_id: Option<i64>,
    now_ms: i64,
) -> Result<Department, StoreError> {
    let dep = with_tx!(db, tx => {
        let dep: Department = sqlx::query_as(
            "INSERT INTO department (code, name, region_code, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, code, name, region_code, created_at",
        )
        .bind(code)
        .bind(name)
        .bind(region.as_str())
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        let entry = AuditEntry::new(actor_id, "department.create", "department", dep.id.to_string()).after(dep.to_json());
        append_audit!(tx, &entry, now_ms);
        dep
    });
    Ok(dep)
}

/// The columns a [`Department`] is read from, in its fields' order.
const COLUMNS: &str = "id, code, name, region_code, created_at";

/// One department.
pub async fn get(db: &Db, id: i64) -> Result<Department, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM department WHERE id = $1");
    // Asked on every request of a department's handler (their scope): one probe, directly.
    if let Some(direct) = db.direct() {
        return direct
            .one(&sql, &[crate::event::Bind::Int(id)])?
            .ok_or(StoreError::NotFound);
    }
    Ok(with_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(id)
            .fetch_one(pool)
            .await?
    }))
}

/// The departments with these ids (unknown ids are left out), in id order.
pub async fn by_ids(db: &Db, ids: &[i64]) -> Result<Vec<Department>, StoreError> {
    // Asked for every page of a list (its departments' names): directly on SQLite.
    if let Some(direct) = db.direct() {
        let sql = format!(
            "SELECT {COLUMNS} FROM department WHERE id IN (SELECT value FROM json_each($1)) ORDER BY id"
        );
        return direct.by_keys(&sql, ids);
    }
    crate::db::fetch_by_ids(db, ids, 500, |list| {
        format!("SELECT {COLUMNS} FROM department WHERE id IN ({list}) ORDER BY id")
    })
    .await
}

/// Departments whose region lies under `root`, or that sit above it on its chain (a county's
/// departments serve the villages below, so a village dispatcher must see them).
pub async fn list_for(db: &Db, root: &NodeCode) -> Result<Vec<Department>, StoreError> {
    let prefix = root.path();
    let chain: Vec<String> = root
        .ancestor_paths()
        .iter()
        .filter_map(|p| NodeCode::from_path(p).ok())
        .map(|c| c.as_str().to_owned())
        .collect();
    let mut rows: Vec<Department> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT d.id, d.code, d.name, d.region_code, d.created_at FROM department d JOIN node n ON n.code = d.region_code \
             WHERE n.path >= $1 AND n.path < $2 ORDER BY d.region_code, d.code",
        )
        .bind(prefix)
        .bind(subtree_end(prefix))
        .fetch_all(pool)
        .await?
    });
    for c in chain.iter().filter(|c| c.as_str() != root.as_str()) {
        let above: Vec<Department> = with_pool!(db, pool => {
            sqlx::query_as("SELECT id, code, name, region_code, created_at FROM department WHERE region_code = $1 ORDER BY code")
                .bind(c)
                .fetch_all(pool)
                .await?
        });
        rows.extend(above);
    }
    Ok(rows)
}

/// Departments based at `node` or at a region above it: the ones a centre at this node and
/// those above dispatch to (the dashboard ranks these; deeper ones rank on their own region's).
pub async fn based_on_chain(db: &Db, node: &NodeCode) -> Result<Vec<Department>, StoreError> {
    let mut out = Vec::new();
    for c in node
        .ancestor_paths()
        .iter()
        .filter_map(|p| NodeCode::from_path(p).ok())
    {
        let here: Vec<Department> = with_pool!(db, pool => {
            sqlx::query_as("SELECT id, code, name, region_code, created_at FROM department WHERE region_code = $1 ORDER BY code")
                .bind(c.as_str())
                .fetch_all(pool)
                .await?
        });
        out.extend(here);
    }
    Ok(out)
}

/// A department by its code.
pub async fn by_code(db: &Db, code: &str) -> Result<Option<Department>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as("SELECT id, code, name, region_code, created_at FROM department WHERE code = $1").bind(code).fetch_optional(pool).await?
    }))
}
