//! Regions and grids: one tree in one table.

use serde_json::{json, Value};
use shanzhi_domain::grid::Shape;
use shanzhi_domain::tree::{subtree_end, Level, NodeCode};

use crate::audit::AuditEntry;
use crate::{Db, StoreError};

/// A region or grid as stored.
#[derive(Debug, Clone)]
pub struct Node {
    pub code: NodeCode,
    pub parent: Option<NodeCode>,
    pub level: Level,
    pub name: String,
    pub shape: Option<Shape>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Node {
    /// The node as JSON for the API and the audit log (geometry as GeoJSON).
    pub fn to_json(&self, with_geometry: bool) -> Value {
        let mut v = json!({
            "code": self.code,
            "path": self.code.path(),
            "parent": self.parent,
            "level": self.level,
            "kind": if self.level.is_grid() { "grid" } else { "region" },
            "name": self.name,
            "version": self.version,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        });
        if with_geometry {
            v["geometry"] = self
                .shape
                .as_ref()
                .map(Shape::to_geojson)
                .unwrap_or(Value::Null);
        }
        v
    }
}

/// A node to insert.
#[derive(Debug, Clone)]
pub struct NewNode {
    pub code: NodeCode,
    pub parent: Option<NodeCode>,
    pub level: Level,
    pub name: String,
    pub shape: Option<Shape>,
}

/// The fields an update may change; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct NodeChange {
    pub name: Option<String>,
    pub shape: Option<Shape>,
}

#[derive(sqlx::FromRow)]
struct NodeRow {
    code: String,
    parent_code: Option<String>,
    level: String,
    name: String,
    geometry: Option<String>,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl crate::sqlite_read::FromDirect for NodeRow {
    fn from_direct(r: &crate::sqlite_read::Row) -> Result<Self, StoreError> {
        Ok(NodeRow {
            code: r.text(0)?,
            parent_code: r.opt_text(1)?,
            level: r.text(2)?,
            name: r.text(3)?,
            geometry: r.opt_text(4)?,
            version: r.int(5)?,
            created_at: r.int(6)?,
            updated_at: r.int(7)?,
        })
    }
}

impl NodeRow {
    fn into_node(self) -> Result<Node, StoreError> {
        let bad = |what: &str| {
            StoreError::Other(anyhow::anyhow!(
                "stored node {} has a bad {what}",
                self.code
            ))
        };
        let shape = match &self.geometry {
            Some(g) => {
                let v: Value = serde_json::from_str(g)?;
                Some(Shape::from_geojson(&v).map_err(|_| bad("geometry"))?)
            }
            None => None,
        };
        Ok(Node {
            code: NodeCode::parse(&self.code).map_err(|_| bad("code"))?,
            parent: match &self.parent_code {
                Some(p) => Some(NodeCode::parse(p).map_err(|_| bad("parent"))?),
                None => None,
            },
            level: Level::parse(&self.level).map_err(|_| bad("level"))?,
            name: self.name,
            shape,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "code, parent_code, level, name, geometry, version, created_at, updated_at";
const COLUMNS_NO_GEOMETRY: &str =
    "code, parent_code, level, name, NULL AS geometry, version, created_at, updated_at";

/// Inserts nodes (parents before children) in one transaction with one audit row: either all
/// of them are written or none.
pub async fn insert_all(
    db: &Db,
    nodes: &[NewNode],
    audit: &AuditEntry,
    now_ms: i64,
) -> Result<(), StoreError> {
    apply(db, nodes, &[], audit, now_ms).await
}

/// Inserts `nodes` (parents before children) and changes `updates` (name, shape; the version
/// goes up) in one transaction with one audit row: all of it is written or none.
pub async fn apply(
    db: &Db,
    nodes: &[NewNode],
    updates: &[(NodeCode, NodeChange)],
    audit: &AuditEntry,
    now_ms: i64,
) -> Result<(), StoreError> {
    write(db, nodes, updates, None, audit, now_ms).await
}

/// [`apply`], with the updated rows required to be at `expected_version` (else `Stale`).
async fn write(
    db: &Db,
    nodes: &[NewNode],
    updates: &[(NodeCode, NodeChange)],
    expected_version: Option<i64>,
    audit: &AuditEntry,
    now_ms: i64,
) -> Result<(), StoreError> {
    // The point index and the map's outlines are rebuilt when the version moves: shapes matter
    // to both, names to the map.
    let shapes_change = nodes.iter().any(|n| n.shape.is_some())
        || updates
            .iter()
            .any(|(_, c)| c.shape.is_some() || c.name.is_some());
    with_tx!(db, tx => {
        for n in nodes {
            let bbox = n.shape.as_ref().map(Shape::bbox);
            sqlx::query(
                "INSERT INTO node (code, path, parent_code, level, name, geometry, min_lon, min_lat, max_lon, max_lat, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
            )
            .bind(n.code.as_str())
            .bind(n.code.path())
            .bind(n.parent.as_ref().map(NodeCode::as_str))
            .bind(n.level.as_str())
            .bind(&n.name)
            .bind(n.shape.as_ref().map(|s| s.to_geojson().to_string()))
            .bind(bbox.map(|b| b[0]))
            .bind(bbox.map(|b| b[1]))
            .bind(bbox.map(|b| b[2]))
            .bind(bbox.map(|b| b[3]))
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        for (code, change) in updates {
            let bbox = change.shape.as_ref().map(Shape::bbox);
            let done = sqlx::query(
                "UPDATE node SET name = COALESCE($1, name), geometry = COALESCE($2, geometry), \
                 min_lon = COALESCE($3, min_lon), min_lat = COALESCE($4, min_lat), \
                 max_lon = COALESCE($5, max_lon), max_lat = COALESCE($6, max_lat), \
                 version = version + 1, updated_at = $7 WHERE code = $8 AND version = COALESCE($9, version)",
            )
            .bind(change.name.as_deref())
            .bind(change.shape.as_ref().map(|s| s.to_geojson().to_string()))
            .bind(bbox.map(|b| b[0]))
            .bind(bbox.map(|b| b[1]))
            .bind(bbox.map(|b| b[2]))
            .bind(bbox.map(|b| b[3]))
            .bind(now_ms)
            .bind(code.as_str())
            .bind(expected_version)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Stale);
            }
        }
        if shapes_change {
            sqlx::query("UPDATE meta SET value = value + 1 WHERE key = 'tree_version'").execute(&mut *tx).await?;
        }
        append_audit!(tx, audit, now_ms);
    });
    Ok(())
}

pub async fn get(db: &Db, code: &NodeCode) -> Result<Node, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM node WHERE code = $1");
    let row: NodeRow =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(code.as_str()).fetch_one(pool).await?);
    row.into_node()
}

/// The node `code` without its outline (`shape` is `None`): for callers that need its name
/// and level only, such as the figures, which would otherwise read and parse a county's
/// outline (tens of KB) on every request. One primary-key probe, read directly on SQLite.
pub async fn head(db: &Db, code: &NodeCode) -> Result<Node, StoreError> {
    let sql = format!("SELECT {COLUMNS_NO_GEOMETRY} FROM node WHERE code = $1");
    if let Some(direct) = db.direct() {
        return direct
            .one::<NodeRow>(&sql, &[crate::event::Bind::Text(code.as_str().to_owned())])?
            .ok_or(StoreError::NotFound)?
            .into_node();
    }
    let row: NodeRow =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(code.as_str()).fetch_one(pool).await?);
    row.into_node()
}

/// Levels of the given codes that exist (for checking parents of a new node).
pub async fn levels_of(db: &Db, codes: &[&str]) -> Result<Vec<(String, Level)>, StoreError> {
    let mut out = Vec::new();
    for c in codes {
        let row: Option<(String, String)> = with_pool!(db, pool => {
            sqlx::query_as("SELECT code, level FROM node WHERE code = $1").bind(*c).fetch_optional(pool).await?
        });
        if let Some((code, level)) = row {
            out.push((
                code,
                Level::parse(&level).map_err(|e| StoreError::Other(anyhow::anyhow!("{e}")))?,
            ));
        }
    }
    Ok(out)
}

/// The node `code` and its direct children, with geometry (for import checks).
pub async fn with_children(db: &Db, code: &str) -> Result<Vec<Node>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM node WHERE code = $1 OR parent_code = $1");
    let rows: Vec<NodeRow> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(code).fetch_all(pool).await?);
    rows.into_iter().map(NodeRow::into_node).collect()
}

/// Direct children, ordered by code.
pub async fn children(
    db: &Db,
    code: &NodeCode,
    with_geometry: bool,
) -> Result<Vec<Node>, StoreError> {
    let cols = if with_geometry {
        COLUMNS
    } else {
        COLUMNS_NO_GEOMETRY
    };
    let sql = format!("SELECT {cols} FROM node WHERE parent_code = $1 ORDER BY code");
    let rows: Vec<NodeRow> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(code.as_str()).fetch_all(pool).await?);
    rows.into_iter().map(NodeRow::into_node).collect()
}

/// The subtree under `root` (root included) in path order, `limit` at a time after `after_path`.
pub async fn subtree(
    db: &Db,
    root: &NodeCode,
    after_path: Option<&str>,
    limit: i64,
    with_geometry: bool,
) -> Result<Vec<Node>, StoreError> {
    let cols = if with_geometry {
        COLUMNS
    } else {
        COLUMNS_NO_GEOMETRY
    };
    let sql = format!("SELECT {cols} FROM node WHERE path >= $1 AND path < $2 AND path > $3 ORDER BY path LIMIT $4");
    let prefix = root.path();
    let rows: Vec<NodeRow> = with_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(prefix)
            .bind(subtree_end(prefix))
            .bind(after_path.unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(NodeRow::into_node).collect()
}

/// Changes a node's name or shape if its version is still `expected_version` (when given);
/// records before and after in the audit log.
pub async fn update(
    db: &Db,
    code: &NodeCode,
    change: &NodeChange,
    expected_version: Option<i64>,
    actor_id: i64,
    now_ms: i64,
) -> Result<Node, StoreError> {
    let before = get(db, code).await?;
    if expected_version.is_some_and(|v| v != before.version) {
        return Err(StoreError::Stale);
    }
    let mut after = before.clone();
    if let Some(n) = &change.name {
        after.name = n.clone();
    }
    if let Some(s) = &change.shape {
        after.shape = Some(s.clone());
    }
    after.version = before.version + 1;
    after.updated_at = now_ms;
    let entry = AuditEntry::new(Some(actor_id), "node.update", "node", code.as_str())
        .before(before.to_json(change.shape.is_some()))
        .after(after.to_json(change.shape.is_some()));
    let updates = [(code.clone(), change.clone())];
    write(db, &[], &updates, Some(before.version), &entry, now_ms).await?;
    Ok(after)
}

/// Every node that has a shape, regions and grids, as `(path, GeoJSON text)`: the point index
/// answers with the deepest (longest path) that holds a point.
pub async fn located_shapes(db: &Db) -> Result<Vec<(String, String)>, StoreError> {
    let sql = "SELECT path, geometry FROM node WHERE geometry IS NOT NULL";
    Ok(with_pool!(db, pool => sqlx::query_as(sql).fetch_all(pool).await?))
}

/// One level's outlined nodes (paths of `path_len` characters), in path order, without their
/// outlines: what the map keeps in memory to find the shapes in view.
pub async fn outline_index(db: &Db, path_len: i64) -> Result<Vec<OutlineEntry>, StoreError> {
    let sql = "SELECT path, code, name, level, min_lon, min_lat, max_lon, max_lat FROM node \
               WHERE LENGTH(path) = $1 AND geometry IS NOT NULL ORDER BY path";
    type Row = (String, String, String, String, f64, f64, f64, f64);
    let rows: Vec<Row> =
        with_pool!(db, pool => sqlx::query_as(sql).bind(path_len).fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .map(|(path, code, name, level, a, b, c, d)| OutlineEntry {
            path,
            code,
            name,
            level,
            bbox: [a, b, c, d],
        })
        .collect())
}

/// A node of [`outline_index`].
#[derive(Debug, Clone)]
pub struct OutlineEntry {
    pub path: String,
    pub code: String,
    pub name: String,
    pub level: String,
    /// min_lon, min_lat, max_lon, max_lat.
    pub bbox: [f64; 4],
}

/// The outlines (GeoJSON text) of the nodes with the given codes, in no order.
pub async fn outlines(db: &Db, codes: &[&str]) -> Result<Vec<(String, String)>, StoreError> {
    crate::db::fetch_by_keys(db, &owned(codes), 500, |ps| {
        format!("SELECT code, geometry FROM node WHERE code IN ({ps}) AND geometry IS NOT NULL")
    })
    .await
}

/// Codes as owned strings, for [`crate::db::fetch_by_keys`].
fn owned(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|c| (*c).to_owned()).collect()
}

/// Names of the nodes with the given paths (for ancestor chains), in path order.
pub async fn by_paths(db: &Db, paths: &[String]) -> Result<Vec<Node>, StoreError> {
    let mut out = Vec::with_capacity(paths.len());
    let sql = format!("SELECT {COLUMNS_NO_GEOMETRY} FROM node WHERE path = $1");
    for p in paths {
        let row: Option<NodeRow> =
            with_pool!(db, pool => sqlx::query_as(&sql).bind(p).fetch_optional(pool).await?);
        if let Some(r) = row {
            out.push(r.into_node()?);
        }
    }
    Ok(out)
}

/// Number of nodes under `root` (root included), by level.
pub async fn count_by_level(db: &Db, root: &NodeCode) -> Result<Vec<(String, i64)>, StoreError> {
    let prefix = root.path();
    let sql = "SELECT level, COUNT(*) FROM node WHERE path >= $1 AND path < $2 GROUP BY level";
    Ok(with_pool!(db, pool => {
        sqlx::query_as(sql).bind(prefix).bind(subtree_end(prefix)).fetch_all(pool).await?
    }))
}

/// The top of the tree: nodes with no parent.
pub async fn roots(db: &Db) -> Result<Vec<Node>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS_NO_GEOMETRY} FROM node WHERE parent_code IS NULL ORDER BY code");
    let rows: Vec<NodeRow> = with_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
    rows.into_iter().map(NodeRow::into_node).collect()
}

/// The stored nodes among `codes`, with their shapes.
pub async fn by_codes(db: &Db, codes: &[&str]) -> Result<Vec<Node>, StoreError> {
    let rows: Vec<NodeRow> = crate::db::fetch_by_keys(db, &owned(codes), 500, |ps| {
        format!("SELECT {COLUMNS} FROM node WHERE code IN ({ps})")
    })
    .await?;
    rows.into_iter().map(NodeRow::into_node).collect()
}

/// Display names and roles of the staff scoped exactly to a node (a grid's workers).
pub async fn staff(db: &Db, code: &NodeCode) -> Result<Vec<(String, String)>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as("SELECT display_name, role FROM app_user WHERE scope_code = $1 AND NOT disabled ORDER BY id LIMIT 20")
            .bind(code.as_str()).fetch_all(pool).await?
    }))
}

/// The ancestors of `code` that are stored (not the node itself), with their outlines, top
/// down: what an export must carry so that a fresh database accepts its root.
pub async fn ancestors(db: &Db, code: &NodeCode) -> Result<Vec<Node>, StoreError> {
    let mut paths = code.ancestor_paths();
    paths.pop();
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=paths.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM node WHERE path IN ({}) ORDER BY path",
        placeholders.join(", ")
    );
    let rows: Vec<NodeRow> = with_pool!(db, pool => {
        let mut q = sqlx::query_as(&sql);
        for p in &paths {
            q = q.bind(p.as_str());
        }
        q.fetch_all(pool).await?
    });
    rows.into_iter().map(NodeRow::into_node).collect()
}

/// Nodes under `root` (root included) whose name contains `text`, shallowest first, at most
/// `limit`: the place search of the hotline form and the area pickers.
pub async fn search(
    db: &Db,
    root: &NodeCode,
    text: &str,
    limit: i64,
) -> Result<Vec<Node>, StoreError> {
    // The text is a bound LIKE pattern with its wildcards escaped, never SQL.
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '\\' | '%' | '_' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let sql = format!(
        "SELECT {COLUMNS_NO_GEOMETRY} FROM node WHERE path >= $1 AND path < $2 AND name LIKE $3 ESCAPE '\\' \
         ORDER BY length(path), path LIMIT $4"
    );
    let prefix = root.path();
    let rows: Vec<NodeRow> = with_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(prefix)
            .bind(subtree_end(prefix))
            .bind(format!("%{escaped}%"))
            .bind(limit)
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(NodeRow::into_node).collect()
}

/// (code, name, parent code) of the given nodes, without their shapes: for naming places in
/// lists and exports.
pub async fn names(
    db: &Db,
    codes: &[&str],
) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
    Ok(labels(db, codes)
        .await?
        .into_iter()
        .map(|l| (l.0, l.1, l.2))
        .collect())
}

/// (code, name, the middle of its bounding box if it has a shape) of the given nodes, without
/// reading their shapes: where a list draws a record of the node on a map.
pub async fn centres(
    db: &Db,
    codes: &[&str],
) -> Result<Vec<(String, String, Option<[f64; 2]>)>, StoreError> {
    Ok(labels(db, codes)
        .await?
        .into_iter()
        .map(|(code, name, _, x0, y0, x1, y1)| {
            let at = match (x0, y0, x1, y1) {
                (Some(x0), Some(y0), Some(x1), Some(y1)) => {
                    Some([(x0 + x1) / 2.0, (y0 + y1) / 2.0])
                }
                _ => None,
            };
            (code, name, at)
        })
        .collect())
}

type Label = (
    String,
    String,
    Option<String>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

/// The columns of a [`Label`], in its order.
const LABEL: &str = "code, name, parent_code, min_lon, min_lat, max_lon, max_lat";

struct LabelRow(Label);

impl crate::sqlite_read::FromDirect for LabelRow {
    fn from_direct(r: &crate::sqlite_read::Row) -> Result<Self, StoreError> {
        Ok(LabelRow((
            r.text(0)?,
            r.text(1)?,
            r.opt_text(2)?,
            r.opt_real(3)?,
            r.opt_real(4)?,
            r.opt_real(5)?,
            r.opt_real(6)?,
        )))
    }
}

/// Code, name, parent and bounding box of the given nodes, 500 codes a query.
async fn labels(db: &Db, codes: &[&str]) -> Result<Vec<Label>, StoreError> {
    // Asked for every page of a list (its grids' names): one index probe a code, directly.
    if let Some(direct) = db.direct() {
        let sql =
            format!("SELECT {LABEL} FROM node WHERE code IN (SELECT value FROM json_each($1))");
        let rows: Vec<LabelRow> = direct.by_keys(&sql, codes)?;
        return Ok(rows.into_iter().map(|r| r.0).collect());
    }
    crate::db::fetch_by_keys(db, &owned(codes), 500, |ps| {
        format!("SELECT {LABEL} FROM node WHERE code IN ({ps})")
    })
    .await
}
