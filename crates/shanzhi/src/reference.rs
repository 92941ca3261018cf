//! Reference data every report reads — categories, their per-level clocks, the working-time
//! calendar and the risk rules — held in memory so that filing a report costs no reads. This
//! process drops the snapshot at once when it changes any of them. Another server's change: on
//! PostgreSQL it is heard at once (`LISTEN shanzhi_change`, see `startup::listen`), and a
//! snapshot is then trusted for [`NOTIFIED_TTL`] as a safety net; on SQLite (or while the
//! listening connection is down) a snapshot lives for [`TTL`], the bound on seeing it. A
//! category id the snapshot does not know reloads it once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use shanzhi_domain::calendar::WorkCalendar;
use shanzhi_store::category::Category;
use shanzhi_store::Db;

use crate::http::error::ApiError;

/// How long a snapshot is trusted without change notices.
pub const TTL: Duration = Duration::from_secs(2);
/// How long a snapshot is trusted while change notices arrive.
pub const NOTIFIED_TTL: Duration = Duration::from_secs(300);

/// One consistent read of the reference data.
pub struct Snapshot {
    categories: HashMap<i64, Category>,
    clocks: HashMap<(i64, String), (i64, i64, i64)>,
    /// The calendar in force: the administrators' one, or China's default.
    pub calendar: WorkCalendar,
    /// The rules that raise risk clues (evaluated after each report).
    pub risk_rules: Vec<shanzhi_store::risk::RuleRow>,
}

impl Snapshot {
    /// A category by id.
    pub fn category(&self, id: i64) -> Option<&Category> {
        self.categories.get(&id)
    }

    /// Every category.
    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }

    /// A category's (accept, handle, verify) minutes at a centre level: the override, or its own.
    pub fn clocks(&self, c: &Category, level: &str) -> (i64, i64, i64) {
        self.clocks
            .get(&(c.id, level.to_owned()))
            .copied()
            .unwrap_or((c.accept_minutes, c.handle_minutes, c.verify_minutes))
    }
}

/// The cache.
#[derive(Default)]
pub struct Reference {
    inner: RwLock<Option<(Instant, Arc<Snapshot>)>>,
    /// Bumped by every invalidation, so a reload that began before it is not kept.
    generation: AtomicU64,
    /// Are other servers' changes heard (PostgreSQL's notices, connection up)?
    notified: AtomicBool,
}

impl Reference {
    /// The current snapshot, reloaded when older than the TTL.
    pub async fn get(&self, db: &Db) -> Result<Arc<Snapshot>, ApiError> {
        if let Some((at, snap)) = self.inner.read().ok().and_then(|g| g.clone()) {
            if at.elapsed() < self.ttl() {
                return Ok(snap);
            }
        }
        self.reload(db).await
    }

    /// A snapshot that knows category `id` if the database does (reloads once on a miss).
    pub async fn with_category(&self, db: &Db, id: i64) -> Result<Arc<Snapshot>, ApiError> {
        let snap = self.get(db).await?;
        if snap.category(id).is_some() {
            return Ok(snap);
        }
        self.reload(db).await
    }

    /// Says whether other servers' changes are heard; while they are not, snapshots expire
    /// after [`TTL`].
    pub fn set_notified(&self, on: bool) {
        self.notified.store(on, Ordering::SeqCst);
    }

    /// Are other servers' changes heard?
    pub fn notified(&self) -> bool {
        self.notified.load(Ordering::SeqCst)
    }

    fn ttl(&self) -> Duration {
        if self.notified() {
            NOTIFIED_TTL
        } else {
            TTL
        }
    }

    /// Forgets the snapshot (after this process or another changed reference data).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut g) = self.inner.write() {
            *g = None;
        }
    }

    async fn reload(&self, db: &Db) -> Result<Arc<Snapshot>, ApiError> {
        let at = Instant::now();
        let generation = self.generation.load(Ordering::SeqCst);
        let categories = shanzhi_store::category::list(db).await?;
        let clocks = shanzhi_store::category::all_level_clocks(db).await?;
        let calendar = match shanzhi_store::category::calendar(db).await? {
            Some(body) => {
                let v: Value =
                    serde_json::from_str(&body).map_err(|e| ApiError::internal(e.into()))?;
                WorkCalendar::from_json(&v)
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("stored calendar: {e}")))?
            }
            None => WorkCalendar::china_default(),
        };
        let snap = Arc::new(Snapshot {
            categories: categories.into_iter().map(|c| (c.id, c)).collect(),
            clocks: clocks.into_iter().map(|(c, l, m)| ((c, l), m)).collect(),
            calendar,
            risk_rules: shanzhi_store::risk::rules(db).await?,
        });
        if let Ok(mut g) = self.inner.write() {
            if self.generation.load(Ordering::SeqCst) == generation {
                *g = Some((at, snap.clone()));
            }
        }
        Ok(snap)
    }
}
