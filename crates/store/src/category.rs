//! Categories of events: the tree, default department, clocks, priority, on-the-spot rule.

use serde_json::{json, Value};

use crate::audit::AuditEntry;
use crate::{Db, StoreError};

/// A category as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Category {
    pub id: i64,
    pub code: String,
    pub parent_id: Option<i64>,
    pub name: String,
    pub department_kind: Option<String>,
    pub accept_minutes: i64,
    pub handle_minutes: i64,
    pub verify_minutes: i64,
    pub priority: i64,
    pub on_spot: bool,
    pub escalate_after_minutes: Option<i64>,
    pub active: bool,
    /// 网格接单: reports go to the grid first (where the jurisdiction runs the rule too).
    pub grid_first: bool,
}

impl crate::sqlite_read::FromDirect for Category {
    /// A row of [`COLUMNS`].
    fn from_direct(r: &crate::sqlite_read::Row) -> Result<Self, StoreError> {
        Ok(Category {
            id: r.int(0)?,
            code: r.text(1)?,
            parent_id: r.opt_int(2)?,
            name: r.text(3)?,
            department_kind: r.opt_text(4)?,
            accept_minutes: r.int(5)?,
            handle_minutes: r.int(6)?,
            verify_minutes: r.int(7)?,
            priority: r.int(8)?,
            on_spot: r.bool(9)?,
            escalate_after_minutes: r.opt_int(10)?,
            active: r.bool(11)?,
            grid_first: r.bool(12)?,
        })
    }
}

impl Category {
    /// For the API and the audit log.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "code": self.code, "parent_id": self.parent_id, "name": self.name,
            "department_kind": self.department_kind, "accept_minutes": self.accept_minutes,
            "handle_minutes": self.handle_minutes, "verify_minutes": self.verify_minutes,
            "priority": self.priority, "on_spot": self.on_spot,
            "escalate_after_minutes": self.escalate_after_minutes, "active": self.active,
            "grid_first": self.grid_first,
        })
    }
}

/// A category to create or the new values of one.
#[derive(Debug, Clone)]
pub struct CategoryInput {
    pub code: String,
    pub parent_id: Option<i64>,
    pub name: String,
    pub department_kind: Option<String>,
    pub accept_minutes: i64,
    pub handle_minutes: i64,
    pub verify_minutes: i64,
    pub priority: i64,
    pub on_spot: bool,
    pub escalate_after_minutes: Option<i64>,
    pub active: bool,
    pub grid_first: bool,
}

const COLUMNS: &str = "id, code, parent_id, name, department_kind, accept_minutes, handle_minutes, verify_minutes, priority, on_spot, escalate_after_minutes, active, grid_first";

/// Creates a category.
pub async fn insert(
    db: &Db,
    c: &CategoryInput,
    actor_id: Option<i64>,
    now_ms: i64,
) -> Result<Category, StoreError> {
    let sql = format!(
        "INSERT INTO category (code, parent_id, name, department_kind, accept_minutes, handle_minutes, verify_minutes, priority, on_spot, escalate_after_minutes, active, created_at, updated_at, grid_first) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) RETURNING {COLUMNS}"
    );
    let row = with_tx!(db, tx => {
        let row: Category = sqlx::query_as(&sql)
            .bind(&c.code).bind(c.parent_id).bind(&c.name).bind(&c.department_kind)
            .bind(c.accept_minutes).bind(c.handle_minutes).bind(c.verify_minutes)
            .bind(c.priority).bind(c.on_spot).bind(c.escalate_after_minutes).bind(c.active).bind(now_ms).bind(c.grid_first)
            .fetch_one(&mut *tx).await?;
        let entry = AuditEntry::new(actor_id, "category.create", "category", row.id.to_string()).after(row.to_json());
        append_audit!(tx, &entry, now_ms);
        row
    });
    Ok(row)
}

/// Changes a category.
pub async fn update(
    db: &Db,
    id: i64,
    c: &CategoryInput,
    actor_id: i64,
    now_ms: i64,
) -> Result<Category, StoreError> {
    let before = get(db, id).await?;
    let sql = format!(
        "UPDATE category SET code = $1, parent_id = $2, name = $3, department_kind = $4, accept_minutes = $5, handle_minutes = $6, \
         verify_minutes = $7, priority = $8, on_spot = $9, escalate_after_minutes = $10, active = $11, updated_at = $12, grid_first = $14 WHERE id = $13 RETURNING {COLUMNS}"
    );
    let row = with_tx!(db, tx => {
        let row: Category = sqlx::query_as(&sql)
            .bind(&c.code).bind(c.parent_id).bind(&c.name).bind(&c.department_kind)
            .bind(c.accept_minutes).bind(c.handle_minutes).bind(c.verify_minutes)
            .bind(c.priority).bind(c.on_spot).bind(c.escalate_after_minutes).bind(c.active).bind(now_ms).bind(id).bind(c.grid_first)
            .fetch_one(&mut *tx).await?;
        let entry = AuditEntry::new(Some(actor_id), "category.update", "category", id.to_string()).before(before.to_json()).after(row.to_json());
        append_audit!(tx, &entry, now_ms);
        row
    });
    Ok(row)
}

/// One category.
pub async fn get(db: &Db, id: i64) -> Result<Category, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM category WHERE id = $1");
    // Asked per order by the inbox and every move: one probe, directly on SQLite.
    if let Some(direct) = db.direct() {
        return direct
            .one(&sql, &[crate::event::Bind::Int(id)])?
            .ok_or(StoreError::NotFound);
    }
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// All categories, parents first.
pub async fn list(db: &Db) -> Result<Vec<Category>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM category ORDER BY COALESCE(parent_id, id), parent_id IS NOT NULL, id");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?))
}

/// The clocks for a category at a centre level: the per-level override if any.
pub async fn clocks(db: &Db, c: &Category, level: &str) -> Result<(i64, i64, i64), StoreError> {
    let o: Option<(i64, i64, i64)> = with_pool!(db, pool => {
        sqlx::query_as("SELECT accept_minutes, handle_minutes, verify_minutes FROM category_deadline WHERE category_id = $1 AND level = $2")
            .bind(c.id).bind(level).fetch_optional(pool).await?
    });
    Ok(o.unwrap_or((c.accept_minutes, c.handle_minutes, c.verify_minutes)))
}

/// Sets (or replaces) a per-level override of a category's clocks.
pub async fn set_level_clocks(
    db: &Db,
    category_id: i64,
    level: &str,
    clocks: (i64, i64, i64),
    actor_id: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        sqlx::query("DELETE FROM category_deadline WHERE category_id = $1 AND level = $2").bind(category_id).bind(level).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO category_deadline (category_id, level, accept_minutes, handle_minutes, verify_minutes) VALUES ($1, $2, $3, $4, $5)")
            .bind(category_id).bind(level).bind(clocks.0).bind(clocks.1).bind(clocks.2).execute(&mut *tx).await?;
        let entry = AuditEntry::new(Some(actor_id), "category.level_clocks", "category", category_id.to_string())
            .after(json!({"level": level, "accept_minutes": clocks.0, "handle_minutes": clocks.1, "verify_minutes": clocks.2}));
        append_audit!(tx, &entry, now_ms);
    });
    Ok(())
}

/// The stored working-time calendar, if an administrator set one.
pub async fn calendar(db: &Db) -> Result<Option<String>, StoreError> {
    Ok(
        with_pool!(db, pool => sqlx::query_scalar("SELECT body FROM calendar WHERE id = 1").fetch_optional(pool).await?),
    )
}

/// Replaces the working-time calendar.
pub async fn set_calendar(
    db: &Db,
    body: &Value,
    actor_id: Option<i64>,
    now_ms: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        sqlx::query("DELETE FROM calendar WHERE id = 1").execute(&mut *tx).await?;
        sqlx::query("INSERT INTO calendar (id, body, updated_at) VALUES (1, $1, $2)").bind(body.to_string()).bind(now_ms).execute(&mut *tx).await?;
        let entry = AuditEntry::new(actor_id, "calendar.update", "calendar", "1").after(body.clone());
        append_audit!(tx, &entry, now_ms);
    });
    Ok(())
}

/// Every per-level clock override: (category id, level, (accept, handle, verify) minutes).
pub async fn all_level_clocks(db: &Db) -> Result<Vec<(i64, String, (i64, i64, i64))>, StoreError> {
    let rows: Vec<(i64, String, i64, i64, i64)> = with_pool!(db, pool => {
        sqlx::query_as("SELECT category_id, level, accept_minutes, handle_minutes, verify_minutes FROM category_deadline")
            .fetch_all(pool)
            .await?
    });
    Ok(rows
        .into_iter()
        .map(|(c, l, a, h, v)| (c, l, (a, h, v)))
        .collect())
}
