//! What every handler shares: the database, the clock, the settings, the R-tree, the metrics.

use std::sync::{Arc, RwLock};

use anyhow::Context;
use shanzhi_domain::grid::{Locator, Shape};
use shanzhi_store::Db;

use crate::clock::Clock;
use crate::commit::ReportQueue;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::notification::NoticeHub;
use crate::reference::Reference;

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub locator: Arc<LocatorCell>,
    /// The map's outlines per level and zoom.
    pub map: Arc<crate::map::MapCache>,
    pub metrics: Arc<Metrics>,
    /// Reports are written in group commits through this queue.
    pub reports: Arc<ReportQueue>,
    /// Categories, clocks and the calendar, cached for the report path.
    pub reference: Arc<Reference>,
    /// Wakes the live notification streams after a move commits.
    pub notices: Arc<NoticeHub>,
    /// The keys personal data (ID numbers, phones) is sealed with.
    pub pii: shanzhi_store::pii::Keyring,
    /// The warning outbox's senders and the bell that wakes its worker.
    pub outbox: Arc<crate::warning::outbox::Outbox>,
    /// This server's claim on the timed jobs that run on one server at a time.
    pub lease: Arc<crate::startup::JobLease>,
    /// A streaming replica for the lists' and the map's reads (`replica_url`), if any.
    pub replica: Option<Arc<Replica>>,
    /// The sums of settled days' counters, kept for the figures.
    pub settled: Arc<crate::counters::Settled>,
}

/// A PostgreSQL streaming replica and how far it had replayed when last asked.
pub struct Replica {
    pub db: Db,
    /// When it was last asked and its answer (`None`: it did not answer).
    seen: std::sync::Mutex<Option<(std::time::Instant, Option<u64>)>>,
    /// A request is asking it now: the others use the last answer meanwhile.
    asking: std::sync::atomic::AtomicBool,
}

impl Replica {
    /// How long a replica's replay position is reused before asking again.
    pub const ASK_EVERY: std::time::Duration = std::time::Duration::from_millis(20);
    /// How long a replica that did not answer is left alone (reads go to the primary).
    pub const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);
    /// How long asking may take before the replica counts as not answering.
    pub const ASK_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

    pub fn new(db: Db) -> Replica {
        Replica {
            db,
            seen: std::sync::Mutex::new(None),
            asking: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// How far the replica has replayed, asked by one request at a time at most every
    /// [`Replica::ASK_EVERY`] (waiting at most [`Replica::ASK_TIMEOUT`]); `None` when it does
    /// not answer, and then not asked again for [`Replica::RETRY_AFTER`]. An older answer only
    /// sends more reads to the primary, never a session's read to a replica behind its write.
    async fn replayed(&self) -> Option<u64> {
        use std::sync::atomic::Ordering;
        let last = self.seen.lock().ok().and_then(|g| *g);
        match last {
            Some((at, Some(lsn))) if at.elapsed() < Self::ASK_EVERY => return Some(lsn),
            Some((at, None)) if at.elapsed() < Self::RETRY_AFTER => return None,
            _ => {}
        }
        if self.asking.swap(true, Ordering::SeqCst) {
            return last.and_then(|(_, lsn)| lsn);
        }
        // Cleared however this ends, also if the request is dropped while it waits.
        struct Asking<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Asking<'_> {
            fn drop(&mut self) {
                self.0.store(false, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let _asking = Asking(&self.asking);
        let now = match tokio::time::timeout(Self::ASK_TIMEOUT, self.db.wal_position()).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the replica does not answer; reading from the primary");
                None
            }
            Err(_) => {
                tracing::warn!("the replica is slow to answer; reading from the primary");
                None
            }
        };
        if let Ok(mut g) = self.seen.lock() {
            *g = Some((std::time::Instant::now(), now));
        }
        now
    }
}

impl AppState {
    /// Where `user`'s lists and map reads go: the replica when there is one, it answers, and
    /// it has replayed the user's last write (read-your-writes); else the primary.
    pub async fn reader(&self, user: &crate::http::extract::CurrentUser) -> &Db {
        let Some(replica) = &self.replica else {
            return &self.db;
        };
        match (replica.replayed().await, user.wrote_lsn) {
            (Some(at), Some(wrote)) if at >= wrote => &replica.db,
            (Some(_), None) => &replica.db,
            _ => &self.db,
        }
    }
}

/// The current R-tree and the tree version it was built from; swapped whole on rebuild.
pub struct LocatorCell {
    inner: RwLock<(i64, Arc<Locator>)>,
    rebuild: tokio::sync::Mutex<()>,
}

impl LocatorCell {
    /// An empty index at version -1 (always stale).
    pub fn new() -> LocatorCell {
        LocatorCell {
            inner: RwLock::new((-1, Arc::new(Locator::empty()))),
            rebuild: tokio::sync::Mutex::new(()),
        }
    }

    /// The index in force.
    pub fn current(&self) -> Arc<Locator> {
        self.inner
            .read()
            .map(|g| g.1.clone())
            .unwrap_or_else(|p| p.into_inner().1.clone())
    }

    fn version(&self) -> i64 {
        self.inner.read().map(|g| g.0).unwrap_or(-1)
    }

    /// Rebuilds from the database if the shared tree version moved since the last build.
    /// Returns true if it rebuilt.
    pub async fn refresh(&self, db: &Db) -> anyhow::Result<bool> {
        let _one_at_a_time = self.rebuild.lock().await;
        let version = db.tree_version().await?;
        if version == self.version() {
            return Ok(false);
        }
        let rows = shanzhi_store::node::located_shapes(db).await?;
        let locator = tokio::task::spawn_blocking(move || -> anyhow::Result<Locator> {
            let mut grids = Vec::with_capacity(rows.len());
            for (code, text) in rows {
                let v: serde_json::Value =
                    serde_json::from_str(&text).with_context(|| format!("grid {code}"))?;
                let shape =
                    Shape::from_geojson(&v).map_err(|e| anyhow::anyhow!("grid {code}: {e}"))?;
                grids.push((code, shape));
            }
            Ok(Locator::build(grids))
        })
        .await??;
        tracing::info!(grids = locator.len(), version, "rebuilt the grid index");
        if let Ok(mut g) = self.inner.write() {
            *g = (version, Arc::new(locator));
        }
        Ok(true)
    }
}

impl Default for LocatorCell {
    fn default() -> Self {
        LocatorCell::new()
    }
}
