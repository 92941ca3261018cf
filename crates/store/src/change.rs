//! Changes other servers made to what every server keeps in memory (the grid index, the
//! reference data), heard on PostgreSQL's `LISTEN shanzhi_change` (migration 0032's triggers
//! send them when a change commits). SQLite has no such channel: servers on one file poll.

use sqlx::postgres::PgListener;

use crate::db::Db;
use crate::error::StoreError;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The tree's version moved: the grid index and the map's outlines are stale.
    Tree,
    /// Categories, their clocks, the calendar or the risk rules changed.
    Reference,
    /// The connection was lost and changes may have been missed (the next call reconnects):
    /// treat everything as changed.
    Missed,
}

/// A listening connection, taken from the pool and held for as long as the listener lives (one
/// of the server's `max_connections`).
pub struct Listener {
    inner: PgListener,
}

/// Starts listening; `None` on SQLite.
pub async fn listen(db: &Db) -> Result<Option<Listener>, StoreError> {
    let Db::Postgres(pool) = db else {
        return Ok(None);
    };
    let mut inner = PgListener::connect_with(pool).await?;
    inner.listen("shanzhi_change").await?;
    Ok(Some(Listener { inner }))
}

impl Listener {
    /// The next change (payloads it does not know are skipped).
    pub async fn next(&mut self) -> Result<Change, StoreError> {
        loop {
            match self.inner.try_recv().await? {
                None => return Ok(Change::Missed),
                Some(n) => match n.payload() {
                    "tree" => return Ok(Change::Tree),
                    "reference" => return Ok(Change::Reference),
                    _ => {}
                },
            }
        }
    }
}
