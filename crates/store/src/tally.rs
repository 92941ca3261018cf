//! Counts for figures (Σ/Σ) of any module: `n` per node path, kind and key, kept for a node and
//! every ancestor (like the event counters), so a node's figure is one row and the figures of
//! its children one range. Writers collect deltas in a [`Tally`] and add them in the same
//! transaction as the change ([`write_tally!`]); a bulk load rebuilds whole kinds ([`replace`]).

use std::collections::BTreeMap;

use shanzhi_domain::tree::{subtree_end, NodeCode};

use crate::db::{tuples, Engine};
use crate::{Db, StoreError};

/// Deltas to add, merged by (node path, kind, key).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub rows: BTreeMap<(String, String, String), i64>,
}

impl Tally {
    pub fn new() -> Tally {
        Tally::default()
    }

    /// Adds `delta` to (kind, key) at `node` and each of its ancestors.
    pub fn add(&mut self, node: &NodeCode, kind: &str, key: &str, delta: i64) {
        if delta == 0 {
            return;
        }
        for path in node.ancestor_paths() {
            *self
                .rows
                .entry((path, kind.to_owned(), key.to_owned()))
                .or_default() += delta;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.values().all(|n| *n == 0)
    }
}

/// `INSERT … ON CONFLICT DO UPDATE` adding `n` rows.
pub fn upsert_sql(engine: Engine, n: usize) -> String {
    format!(
        "INSERT INTO tally (node_path, kind, key, n) VALUES {} \
         ON CONFLICT (node_path, kind, key) DO UPDATE SET n = tally.n + excluded.n",
        tuples(engine, n, 4)
    )
}

/// Adds a `&Tally` inside the open transaction `$tx` (of [`with_tx!`]).
///
/// Write it before the transaction's audit row: every transaction then takes the tally's rows
/// (in key order) before the audit head, and two of them never wait on each other. A building
/// import that took the audit head first deadlocked with a building added by hand on
/// PostgreSQL, which answered one of them with a 500.
#[macro_export]
macro_rules! write_tally {
    ($tx:expr, $tally:expr) => {{
        let tally: &$crate::tally::Tally = $tally;
        let engine = $crate::db::engine_of(&$tx);
        let rows: Vec<_> = tally.rows.iter().filter(|(_, n)| **n != 0).collect();
        for now in $crate::db::pow2_chunks(&rows, 128) {
            let sql = $crate::tally::upsert_sql(engine, now.len());
            let mut q = sqlx::query(&sql);
            for ((path, kind, key), n) in now {
                q = q.bind(path).bind(kind).bind(key).bind(**n);
            }
            q.execute(&mut *$tx).await?;
        }
    }};
}

/// Adds a tally in a transaction of its own.
pub async fn add(db: &Db, tally: &Tally) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        write_tally!(tx, tally);
    });
    Ok(())
}

/// The counts of `kind` at one node (`path`: its path), by key.
pub async fn at(db: &Db, path: &str, kind: &str) -> Result<BTreeMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = with_pool!(db, pool => {
        sqlx::query_as("SELECT key, n FROM tally WHERE node_path = $1 AND kind = $2")
            .bind(path).bind(kind).fetch_all(pool).await?
    });
    Ok(rows.into_iter().collect())
}

/// The counts of `kind` at every node of one level under `path` (nodes whose paths have
/// `path_len` characters): (node path, key, n).
pub async fn of_level(
    db: &Db,
    path: &str,
    path_len: i64,
    kind: &str,
) -> Result<Vec<(String, String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT node_path, key, n FROM tally WHERE node_path >= $1 AND node_path < $2 \
             AND LENGTH(node_path) = $3 AND kind = $4 ORDER BY node_path, key",
        )
        .bind(path).bind(subtree_end(path)).bind(path_len).bind(kind).fetch_all(pool).await?
    }))
}

/// Replaces every count of `kinds` with `tally` (after a bulk load that computed the counts
/// once), in one transaction.
pub async fn replace(db: &Db, kinds: &[&str], tally: &Tally) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        for kind in kinds {
            sqlx::query("DELETE FROM tally WHERE kind = $1").bind(*kind).execute(&mut *tx).await?;
        }
        write_tally!(tx, tally);
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_reaches_the_node_and_every_ancestor() {
        let grid = NodeCode::parse("441502001001001").unwrap();
        let mut t = Tally::new();
        t.add(&grid, "resident", "", 2);
        t.add(&grid, "resident", "", -1);
        let paths: Vec<&str> = t.rows.keys().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "44",
                "4415",
                "441502",
                "441502001",
                "441502001001",
                "441502001001001"
            ]
        );
        assert!(t.rows.values().all(|n| *n == 1));
    }
}
