//! Users: accounts, their role and scope, and login bookkeeping.

use serde_json::{json, Value};
use shanzhi_domain::tree::{subtree_end, NodeCode};
use shanzhi_domain::user::{Role, Username};

use crate::audit::AuditEntry;
use crate::pii::{IndexKind, Keyring};
use crate::{Db, StoreError};
use shanzhi_domain::user::person::mask_phone;

/// A user as stored (the password hash stays in the store).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub scope_code: Option<String>,
    pub department_id: Option<i64>,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl UserRow {
    /// For the API and the audit log; never includes the password hash.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "scope": self.scope_code,
            "department_id": self.department_id,
            "disabled": self.disabled,
            "locked_until": self.locked_until,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub scope: Option<NodeCode>,
    pub department_id: Option<i64>,
}

const COLUMNS: &str = "id, username, display_name, role, scope_code, department_id, failed_logins, locked_until, disabled, created_at, updated_at";

/// Creates a user and records it (without the hash) in the audit log.
pub async fn insert(
    db: &Db,
    u: &NewUser,
    actor_id: Option<i64>,
    now_ms: i64,
) -> Result<UserRow, StoreError> {
    let sql = format!(
        "INSERT INTO app_user (username, display_name, password_hash, role, scope_code, department_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {COLUMNS}"
    );
    let row = with_tx!(db, tx => {
        let row: UserRow = sqlx::query_as(&sql)
            .bind(u.username.as_str())
            .bind(&u.display_name)
            .bind(&u.password_hash)
            .bind(u.role.as_str())
            .bind(u.scope.as_ref().map(NodeCode::as_str))
            .bind(u.department_id)
            .bind(now_ms)
            .fetch_one(&mut *tx)
            .await?;
        let entry = AuditEntry::new(actor_id, "user.create", "user", row.id.to_string()).after(row.to_json());
        append_audit!(tx, &entry, now_ms);
        row
    });
    Ok(row)
}

/// Inserts many users in one transaction with one audit row (the demo's staff roster).
pub async fn insert_many(db: &Db, users: &[NewUser], now_ms: i64) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        for u in users {
            sqlx::query(
                "INSERT INTO app_user (username, display_name, password_hash, role, scope_code, department_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(u.username.as_str())
            .bind(&u.display_name)
            .bind(&u.password_hash)
            .bind(u.role.as_str())
            .bind(u.scope.as_ref().map(NodeCode::as_str))
            .bind(u.department_id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        let entry = AuditEntry::new(None, "user.bulk_create", "user", "*").after(json!({"count": users.len()}));
        append_audit!(tx, &entry, now_ms);
    });
    Ok(())
}

/// One user by id.
pub async fn get(db: &Db, id: i64) -> Result<UserRow, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM app_user WHERE id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// A user and their password hash, by login name (for logging in).
pub async fn for_login(
    db: &Db,
    username: &Username,
) -> Result<Option<(UserRow, String)>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM app_user WHERE username = $1");
    let row: Option<UserRow> = with_pool!(db, pool => sqlx::query_as(&sql).bind(username.as_str()).fetch_optional(pool).await?);
    let Some(row) = row else { return Ok(None) };
    let hash: String = with_pool!(db, pool => {
        sqlx::query_scalar("SELECT password_hash FROM app_user WHERE id = $1").bind(row.id).fetch_one(pool).await?
    });
    Ok(Some((row, hash)))
}

/// Users whose scope lies under `root` (or whose department does), ordered by id, paged by id.
pub async fn list_under(
    db: &Db,
    root: &NodeCode,
    after_id: i64,
    limit: i64,
) -> Result<Vec<UserRow>, StoreError> {
    let prefix = root.path();
    let sql = format!(
        "SELECT {} FROM app_user u LEFT JOIN department d ON d.id = u.department_id \
         LEFT JOIN node n ON n.code = COALESCE(u.scope_code, d.region_code) \
         WHERE u.id > $1 AND n.path >= $2 AND n.path < $3 ORDER BY u.id LIMIT $4",
        COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(with_pool!(db, pool => {
        sqlx::query_as(&sql).bind(after_id).bind(prefix).bind(subtree_end(prefix)).bind(limit).fetch_all(pool).await?
    }))
}

/// Changes of a user an administrator may make.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub disabled: Option<bool>,
    pub unlock: bool,
}

/// Applies a change and records before/after.
pub async fn update(
    db: &Db,
    id: i64,
    change: &UserChange,
    actor_id: i64,
    now_ms: i64,
) -> Result<UserRow, StoreError> {
    let before = get(db, id).await?;
    let sql = format!(
        "UPDATE app_user SET display_name = COALESCE($1, display_name), password_hash = COALESCE($2, password_hash), \
         disabled = COALESCE($3, disabled), failed_logins = CASE WHEN $4 THEN 0 ELSE failed_logins END, \
         locked_until = CASE WHEN $4 THEN NULL ELSE locked_until END, updated_at = $5 WHERE id = $6 RETURNING {COLUMNS}"
    );
    let after = with_tx!(db, tx => {
        let after: UserRow = sqlx::query_as(&sql)
            .bind(&change.display_name)
            .bind(&change.password_hash)
            .bind(change.disabled)
            .bind(change.unlock)
            .bind(now_ms)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if change.password_hash.is_some() || change.disabled == Some(true) {
            sqlx::query("DELETE FROM session WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        }
        let mut after_json = after.to_json();
        if change.password_hash.is_some() {
            after_json["password"] = json!("changed");
        }
        let entry = AuditEntry::new(Some(actor_id), "user.update", "user", id.to_string()).before(before.to_json()).after(after_json);
        append_audit!(tx, &entry, now_ms);
        after
    });
    Ok(after)
}

/// A person as others see them: name, role and unit (a department, else the scope's region).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonRow {
    pub id: i64,
    pub display_name: String,
    pub role: String,
    pub scope_code: Option<String>,
    pub department_id: Option<i64>,
    pub department_name: Option<String>,
    /// The region code the department belongs to.
    pub department_region: Option<String>,
    /// The name of the scope's region or grid.
    pub scope_name: Option<String>,
}

/// The people with these ids (unknown ids are left out), in one query per 100 ids.
pub async fn people(db: &Db, ids: &[i64]) -> Result<Vec<PersonRow>, StoreError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    crate::db::fetch_by_ids(db, &ids, 100, |list| {
        format!(
            "SELECT u.id, u.display_name, u.role, u.scope_code, u.department_id, d.name AS department_name, \
             d.region_code AS department_region, n.name AS scope_name \
             FROM app_user u LEFT JOIN department d ON d.id = u.department_id LEFT JOIN node n ON n.code = u.scope_code \
             WHERE u.id IN ({list}) ORDER BY u.id"
        )
    })
    .await
}

/// A user's call-back phone, opened (personal data: for an audited reveal only).
pub async fn phone(db: &Db, keys: &Keyring, id: i64) -> Result<Option<String>, StoreError> {
    let p: Option<Option<Vec<u8>>> = with_pool!(db, pool => {
        sqlx::query_scalar("SELECT phone_enc FROM app_user WHERE id = $1").bind(id).fetch_optional(pool).await?
    });
    p.flatten().map(|blob| keys.decrypt(&blob)).transpose()
}

/// A user's call-back phone masked (138****5678), as every answer shows it.
pub async fn phone_mask(db: &Db, id: i64) -> Result<Option<String>, StoreError> {
    let p: Option<Option<String>> = with_pool!(db, pool => {
        sqlx::query_scalar("SELECT phone_mask FROM app_user WHERE id = $1").bind(id).fetch_optional(pool).await?
    });
    Ok(p.flatten())
}

/// Sets or clears a user's phone (`phone`: the parsed digits), sealed; the audit row holds it
/// masked before and after.
/// Sets or clears the user's e-mail address for warnings; the audit row holds it masked.
pub async fn set_email(
    db: &Db,
    id: i64,
    email: Option<(&str, &str)>,
    actor_id: Option<i64>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let (address, mask) = email.unzip();
    with_tx!(db, tx => {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM app_user WHERE id = $1")
            .bind(id).fetch_optional(&mut *tx).await?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE app_user SET email = $1, updated_at = $2 WHERE id = $3")
            .bind(address).bind(now_ms).bind(id).execute(&mut *tx).await?;
        let entry = AuditEntry::new(actor_id, "user.email", "user", id.to_string())
            .after(json!({"email": mask}));
        append_audit!(tx, &entry, now_ms);
    });
    Ok(())
}

/// The user's own ways to be reached: (masked phone, e-mail address).
pub async fn contact(db: &Db, id: i64) -> Result<(Option<String>, Option<String>), StoreError> {
    let row: Option<(Option<String>, Option<String>)> = with_pool!(db, pool =>
        sqlx::query_as("SELECT phone_mask, email FROM app_user WHERE id = $1")
            .bind(id).fetch_optional(pool).await?);
    row.ok_or(StoreError::NotFound)
}

pub async fn set_phone(
    db: &Db,
    keys: &Keyring,
    id: i64,
    phone: Option<&str>,
    actor_id: Option<i64>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let sealed = phone.map(|p| keys.seal(IndexKind::Phone, p, mask_phone(p)));
    let (cipher, index, mask) = match &sealed {
        Some(s) => (Some(&s.cipher), Some(&s.index), Some(&s.mask)),
        None => (None, None, None),
    };
    with_tx!(db, tx => {
        let before: Option<Option<String>> = sqlx::query_scalar("SELECT phone_mask FROM app_user WHERE id = $1")
            .bind(id).fetch_optional(&mut *tx).await?;
        let Some(before) = before else {
            return Err(StoreError::NotFound);
        };
        sqlx::query("UPDATE app_user SET phone_enc = $1, phone_idx = $2, phone_mask = $3, phone = NULL, updated_at = $4 WHERE id = $5")
            .bind(cipher).bind(index).bind(mask).bind(now_ms).bind(id).execute(&mut *tx).await?;
        let entry = AuditEntry::new(actor_id, "user.phone", "user", id.to_string())
            .before(json!({"phone": before}))
            .after(json!({"phone": mask}));
        append_audit!(tx, &entry, now_ms);
    });
    Ok(())
}
