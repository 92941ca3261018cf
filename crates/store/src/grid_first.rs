//! 网格接单 settings per jurisdiction: a region or grid switches the grid-first rule on or off
//! for its subtree; the nearest setting up the tree wins.

use shanzhi_domain::tree::NodeCode;

use crate::audit::AuditEntry;
use crate::{Db, StoreError};

/// The setting nearest above (or at) a node: `None` when no node up the tree has one.
pub async fn nearest(db: &Db, node: &NodeCode) -> Result<Option<bool>, StoreError> {
    let codes = node.ancestor_codes();
    let ps: Vec<String> = (1..=codes.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT node_code, enabled FROM grid_first_setting WHERE node_code IN ({})",
        ps.join(", ")
    );
    let found: Vec<(String, bool)> = with_pool!(db, pool => {
        let mut q = sqlx::query_as(&sql);
        for c in &codes {
            q = q.bind(c);
        }
        q.fetch_all(pool).await?
    });
    // The deepest node's code is the longest path; codes of one line never tie.
    Ok(found
        .into_iter()
        .filter_map(|(c, on)| Some((NodeCode::parse(&c).ok()?.path().len(), on)))
        .max_by_key(|(depth, _)| *depth)
        .map(|(_, on)| on))
}

/// Every setting at or below a node: (code, enabled, updated_at), by code.
pub async fn under(db: &Db, node: &NodeCode) -> Result<Vec<(String, bool, i64)>, StoreError> {
    let path = node.path();
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT node_code, enabled, updated_at FROM grid_first_setting WHERE node_code >= $1 AND node_code < $2 ORDER BY node_code",
        )
        .bind(path).bind(shanzhi_domain::tree::subtree_end(path)).fetch_all(pool).await?
    }))
}

/// Sets (or, with `None`, removes) the setting of a node, with an audit row.
pub async fn set(
    db: &Db,
    node: &NodeCode,
    enabled: Option<bool>,
    actor_id: Option<i64>,
    now_ms: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let before: Option<bool> = sqlx::query_scalar("SELECT enabled FROM grid_first_setting WHERE node_code = $1")
            .bind(node.as_str()).fetch_optional(&mut *tx).await?;
        match enabled {
            Some(on) => {
                sqlx::query(
                    "INSERT INTO grid_first_setting (node_code, enabled, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (node_code) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
                )
                .bind(node.as_str()).bind(on).bind(now_ms).execute(&mut *tx).await?;
            }
            None => {
                sqlx::query("DELETE FROM grid_first_setting WHERE node_code = $1")
                    .bind(node.as_str()).execute(&mut *tx).await?;
            }
        }
        let entry = AuditEntry::new(actor_id, "grid_first.set", "node", node.as_str().to_owned())
            .before(serde_json::json!({"grid_first": before}))
            .after(serde_json::json!({"grid_first": enabled}));
        append_audit!(tx, &entry, now_ms);
    });
    Ok(())
}
