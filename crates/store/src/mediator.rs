//! The mediator pool (调解员库) and expert panels (专家库): who mediates, their specialties and
//! level, their load (open cases held, counted from the cases) and record.

use serde_json::{json, Value};
use shanzhi_domain::tree::subtree_end;

use crate::audit::AuditEntry;
use crate::event::Bind;
use crate::{Db, StoreError};

/// A mediator with their load and record.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MediatorRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub specialties: String,
    pub organisation: Option<String>,
    pub level: String,
    pub node_code: String,
    pub dialects: String,
    pub rating: f64,
    pub user_id: Option<i64>,
    pub active: bool,
    pub version: i64,
    /// Open cases held.
    pub load: i64,
    /// Cases with an outcome (agreement or failure) and those with an agreement.
    pub concluded: i64,
    pub agreed: i64,
}

fn list_of(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

impl MediatorRow {
    /// The specialties (type codes).
    pub fn specialties(&self) -> Vec<String> {
        list_of(&self.specialties)
    }

    /// Agreements / concluded, `None` before any.
    pub fn success_rate(&self) -> Option<f64> {
        (self.concluded > 0).then(|| self.agreed as f64 / self.concluded as f64)
    }

    /// For the API.
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "kind": self.kind, "specialties": self.specialties(),
               "organisation": self.organisation, "level": self.level, "node_code": self.node_code,
               "dialects": list_of(&self.dialects), "load": self.load, "rating": self.rating,
               "success_rate": self.success_rate(), "user_id": self.user_id, "active": self.active,
               "version": self.version})
    }
}

const SELECT: &str = "SELECT m.id, m.name, m.kind, m.specialties, m.organisation, m.level, m.node_code, m.dialects, \
    m.rating, m.user_id, m.active, m.version, \
    (SELECT COUNT(*) FROM dispute d WHERE d.mediator_id = m.id AND d.state IN ('assigned', 'in_session')) AS load, \
    (SELECT COUNT(*) FROM dispute d WHERE d.mediator_id = m.id AND d.outcome IN ('agreement', 'failure')) AS concluded, \
    (SELECT COUNT(*) FROM dispute d WHERE d.mediator_id = m.id AND d.outcome = 'agreement') AS agreed \
    FROM mediator m";

/// A mediator to add or the new values of one.
#[derive(Debug, Clone)]
pub struct MediatorInput {
    pub name: String,
    pub kind: String,
    pub specialties: Vec<String>,
    pub organisation: Option<String>,
    pub level: String,
    pub node_code: String,
    pub dialects: Vec<String>,
    pub rating: f64,
    pub user_id: Option<i64>,
    pub active: bool,
}

impl MediatorInput {
    fn to_json(&self) -> Value {
        json!({"name": self.name, "kind": self.kind, "specialties": self.specialties,
               "organisation": self.organisation, "level": self.level, "node": self.node_code,
               "dialects": self.dialects, "rating": self.rating, "user_id": self.user_id, "active": self.active})
    }
}

/// Adds a mediator (audited). Answers the id.
pub async fn insert(db: &Db, m: &MediatorInput, actor: i64, now: i64) -> Result<i64, StoreError> {
    Ok(with_tx!(db, tx => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO mediator (name, kind, specialties, organisation, level, node_code, dialects, rating, user_id, active, \
             version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) RETURNING id",
        )
        .bind(&m.name).bind(&m.kind).bind(json!(m.specialties).to_string()).bind(&m.organisation).bind(&m.level)
        .bind(&m.node_code).bind(json!(m.dialects).to_string()).bind(m.rating).bind(m.user_id).bind(m.active).bind(now)
        .fetch_one(&mut *tx).await?;
        let entry = AuditEntry::new(Some(actor), "mediator.create", "mediator", id.to_string()).after(m.to_json());
        append_audit!(tx, &entry, now);
        id
    }))
}

/// Replaces a mediator's values if its version is still `version` (else `Stale`), audited.
pub async fn update(
    db: &Db,
    id: i64,
    version: i64,
    m: &MediatorInput,
    actor: i64,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE mediator SET name = $1, kind = $2, specialties = $3, organisation = $4, level = $5, node_code = $6, \
             dialects = $7, rating = $8, user_id = $9, active = $10, version = version + 1, updated_at = $11 \
             WHERE id = $12 AND version = $13",
        )
        .bind(&m.name).bind(&m.kind).bind(json!(m.specialties).to_string()).bind(&m.organisation).bind(&m.level)
        .bind(&m.node_code).bind(json!(m.dialects).to_string()).bind(m.rating).bind(m.user_id).bind(m.active).bind(now)
        .bind(id).bind(version)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        let entry = AuditEntry::new(Some(actor), "mediator.update", "mediator", id.to_string()).after(m.to_json());
        append_audit!(tx, &entry, now);
    });
    Ok(())
}

/// One mediator.
pub async fn get(db: &Db, id: i64) -> Result<MediatorRow, StoreError> {
    let sql = format!("{SELECT} WHERE m.id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// The mediator whose account is `user_id`, if any.
pub async fn of_user(db: &Db, user_id: i64) -> Result<Option<MediatorRow>, StoreError> {
    let sql = format!("{SELECT} WHERE m.user_id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(user_id).fetch_optional(pool).await?))
}

/// Which mediators to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Serving at nodes under this path.
    pub under: Option<String>,
    /// Or serving at one of these nodes exactly (the ancestors of a case's node).
    pub at_nodes: Vec<String>,
    pub specialty: Option<String>,
    pub level: Option<String>,
    /// Name prefix.
    pub q: Option<String>,
    pub active_only: bool,
    pub after: Option<i64>,
    pub limit: i64,
}

/// Mediators matching the filter, by id.
pub async fn list(db: &Db, f: &Filter) -> Result<Vec<MediatorRow>, StoreError> {
    let mut cond: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let mut p = |b: Bind| -> String {
        binds.push(b);
        format!("${}", binds.len())
    };
    let mut reach: Vec<String> = Vec::new();
    if let Some(u) = &f.under {
        let (a, b) = (p(Bind::Text(u.clone())), p(Bind::Text(subtree_end(u))));
        reach.push(format!("(m.node_code >= {a} AND m.node_code < {b})"));
    }
    for n in &f.at_nodes {
        let a = p(Bind::Text(n.clone()));
        reach.push(format!("m.node_code = {a}"));
    }
    if !reach.is_empty() {
        cond.push(format!("({})", reach.join(" OR ")));
    }
    if let Some(s) = &f.specialty {
        // specialties is a JSON array of plain codes: match the quoted code.
        let a = p(Bind::Text(format!("%\"{s}\"%")));
        cond.push(format!("m.specialties LIKE {a}"));
    }
    if let Some(l) = &f.level {
        let a = p(Bind::Text(l.clone()));
        cond.push(format!("m.level = {a}"));
    }
    if let Some(q) = &f.q {
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let a = p(Bind::Text(format!("{escaped}%")));
        cond.push(format!("m.name LIKE {a} ESCAPE '\\'"));
    }
    if f.active_only {
        cond.push("m.active = TRUE".into());
    }
    if let Some(after) = f.after {
        let a = p(Bind::Int(after));
        cond.push(format!("m.id > {a}"));
    }
    let lim = p(Bind::Int(f.limit));
    let cond = if cond.is_empty() {
        "TRUE".to_owned()
    } else {
        cond.join(" AND ")
    };
    let sql = format!("{SELECT} WHERE {cond} ORDER BY m.id LIMIT {lim}");
    Ok(
        with_pool!(db, pool => bind_all!(sqlx::query_as::<_, MediatorRow>(&sql), &binds).fetch_all(pool).await?),
    )
}

/// A panel with its members' ids.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PanelRow {
    pub id: i64,
    pub name: String,
    pub node_code: String,
    pub specialties: String,
}

impl PanelRow {
    /// For the API, with its members.
    pub fn to_json(&self, members: &[MediatorRow]) -> Value {
        let members: Vec<Value> = members
            .iter()
            .map(|m| json!({"id": m.id, "name": m.name, "kind": m.kind}))
            .collect();
        json!({"id": self.id, "name": self.name, "node_code": self.node_code,
               "specialties": list_of(&self.specialties), "members": members})
    }
}

/// Adds a panel with its members (audited). Answers the id.
pub async fn insert_panel(
    db: &Db,
    name: &str,
    node_code: &str,
    specialties: &[String],
    members: &[i64],
    actor: i64,
    now: i64,
) -> Result<i64, StoreError> {
    Ok(with_tx!(db, tx => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO panel (name, node_code, specialties, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name).bind(node_code).bind(json!(specialties).to_string()).bind(now)
        .fetch_one(&mut *tx).await?;
        for m in members {
            sqlx::query("INSERT INTO panel_member (panel_id, mediator_id) VALUES ($1, $2)")
                .bind(id).bind(*m).execute(&mut *tx).await?;
        }
        let entry = AuditEntry::new(Some(actor), "panel.create", "panel", id.to_string())
            .after(json!({"name": name, "node": node_code, "specialties": specialties, "members": members}));
        append_audit!(tx, &entry, now);
        id
    }))
}

/// One panel.
pub async fn panel(db: &Db, id: i64) -> Result<PanelRow, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT id, name, node_code, specialties FROM panel WHERE id = $1",
    ).bind(id).fetch_one(pool).await?))
}

/// The members of a panel.
pub async fn panel_members(db: &Db, id: i64) -> Result<Vec<MediatorRow>, StoreError> {
    let sql = format!("{SELECT} WHERE m.id IN (SELECT mediator_id FROM panel_member WHERE panel_id = $1) ORDER BY m.id");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_all(pool).await?))
}

/// Panels serving under `under` or at one of `at_nodes`, by id.
pub async fn panels(
    db: &Db,
    under: Option<&str>,
    at_nodes: &[String],
    limit: i64,
) -> Result<Vec<PanelRow>, StoreError> {
    let mut cond: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let mut p = |b: Bind| -> String {
        binds.push(b);
        format!("${}", binds.len())
    };
    if let Some(u) = under {
        let (a, b) = (p(Bind::Text(u.to_owned())), p(Bind::Text(subtree_end(u))));
        cond.push(format!("(node_code >= {a} AND node_code < {b})"));
    }
    for n in at_nodes {
        let a = p(Bind::Text(n.clone()));
        cond.push(format!("node_code = {a}"));
    }
    let lim = p(Bind::Int(limit));
    let cond = if cond.is_empty() {
        "FALSE".to_owned()
    } else {
        cond.join(" OR ")
    };
    let sql = format!(
        "SELECT id, name, node_code, specialties FROM panel WHERE {cond} ORDER BY id LIMIT {lim}"
    );
    Ok(
        with_pool!(db, pool => bind_all!(sqlx::query_as::<_, PanelRow>(&sql), &binds).fetch_all(pool).await?),
    )
}
