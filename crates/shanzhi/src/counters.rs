//! The figures' counters summed over days, with the sums of settled days kept in memory
//! (issue 17).
//!
//! Moves count on the day they happen, so the counters of a day before today no longer change.
//! Whatever still writes one (a delta folded late, an order located after the fact, the
//! history writer) changes the database's settled epoch in the same transaction
//! (`shanzhi_store::event::settled`), and the sums kept under an older epoch are dropped. A
//! range of days is read as its settled part, summed once and kept, plus the days since,
//! always read from the counters. A dashboard's year is then one day of counters per request.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use shanzhi_domain::event::figures::Counters;
use shanzhi_store::event as store;

use crate::http::error::{ApiError, ApiResult};
use crate::http::state::AppState;

/// Rows (counters or histogram buckets, ≈ 150 bytes each) kept at most; past it the kept sums
/// start again.
const MAX_ROWS: usize = 200_000;

/// A kept sum's size in rows, for [`MAX_ROWS`].
trait Rows {
    fn rows(&self) -> usize;
}

impl Rows for Counters {
    fn rows(&self) -> usize {
        1
    }
}

impl<K, V> Rows for Vec<(K, V)> {
    fn rows(&self) -> usize {
        self.len()
    }
}

/// The sums of settled days this server keeps.
#[derive(Default)]
pub struct Settled {
    inner: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    /// The settled mark as this server last moved it (yyyymmdd).
    through: i64,
    /// The database's settled epoch the sums below were read under.
    epoch: i64,
    sums: HashMap<String, (usize, Arc<dyn Any + Send + Sync>)>,
    rows: usize,
}

impl Settled {
    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One answer's reads of the counters: the settled mark is read once, before any sum.
pub struct Sums<'a> {
    app: &'a AppState,
    /// Days up to this one are read from the kept sums.
    through: i64,
    epoch: i64,
}

impl<'a> Sums<'a> {
    /// Folds the journal, moves the settled mark to yesterday (once a day) or reads it, and
    /// drops the kept sums when the epoch moved on.
    pub async fn read(app: &'a AppState) -> ApiResult<Sums<'a>> {
        let today = shanzhi_domain::calendar::local_date(app.clock.now_ms());
        let yesterday = crate::calendar::day_number(today.pred_opt().unwrap_or(today));
        // Deltas journaled so far are folded first: one of a settled day moves the epoch.
        store::fold_stats(&app.db).await?;
        let moved = app.settled.lock().through;
        let (through, epoch) = if yesterday > moved {
            store::settle(&app.db, yesterday).await?
        } else {
            store::settled(&app.db).await?
        };
        if through > yesterday && moved <= yesterday {
            tracing::warn!(
                through,
                yesterday,
                "the figures' settled mark is ahead of this server's clock: a server's clock \
                 runs ahead, and writes of today's counters drop the kept sums until it is today"
            );
        }
        let mut kept = app.settled.lock();
        kept.through = kept.through.max(through);
        // Only forwards: a request that read the epoch before a write must not bring back
        // sums read under it.
        if epoch > kept.epoch {
            kept.sums.clear();
            kept.rows = 0;
            kept.epoch = epoch;
        }
        Ok(Sums {
            app,
            // A mark moved further by a server whose clock runs ahead is settled all the
            // same; ours is the day before our today.
            through: through.min(yesterday),
            epoch,
        })
    }

    /// The application the sums are read for.
    pub fn app(&self) -> &'a AppState {
        self.app
    }

    /// Days `days` summed by `read`: the settled part kept under `key` (or read now and kept,
    /// unless the epoch moved meanwhile), the days since read always, merged by `merge`.
    async fn summed<T, R, Fut>(
        &self,
        key: impl FnOnce(i64, i64) -> String,
        (from, to): (i64, i64),
        read: R,
        merge: impl FnOnce(Option<&T>, T) -> T,
    ) -> ApiResult<T>
    where
        T: Rows + Default + Send + Sync + 'static,
        R: Fn(i64, i64) -> Fut,
        Fut: Future<Output = Result<T, shanzhi_store::StoreError>>,
    {
        let (settled, since) = split(self.through, from, to);
        let settled = async {
            let Some((a, b)) = settled else {
                return Ok::<_, ApiError>(None);
            };
            let key = key(a, b);
            {
                let kept = self.app.settled.lock();
                if kept.epoch == self.epoch {
                    if let Some((_, v)) = kept.sums.get(&key) {
                        if let Ok(v) = Arc::clone(v).downcast::<T>() {
                            return Ok(Some(v));
                        }
                    }
                }
            }
            let v = Arc::new(read(a, b).await?);
            // The key counts too: a long list of paths may sum to nothing.
            let n = 1 + v.rows() + key.len() / 64;
            let mut kept = self.app.settled.lock();
            if kept.epoch == self.epoch {
                if kept.rows + n > MAX_ROWS {
                    kept.sums.clear();
                    kept.rows = 0;
                }
                kept.rows += n;
                if let Some((old, _)) = kept.sums.insert(key, (n, v.clone())) {
                    kept.rows -= old;
                }
            }
            Ok(Some(v))
        };
        let since = async {
            match since {
                Some((a, b)) => Ok::<_, ApiError>(read(a, b).await?),
                None => Ok(T::default()),
            }
        };
        let (settled, since) = tokio::try_join!(settled, since)?;
        Ok(merge(settled.as_deref(), since))
    }

    /// Summed counters of a node over days for one dimension value.
    pub async fn counters(
        &self,
        path: &str,
        days: (i64, i64),
        dim: &str,
        dim_id: i64,
    ) -> ApiResult<Counters> {
        let db = &self.app.db;
        self.summed(
            |a, b| format!("counters|{path}|{dim}|{dim_id}|{a}|{b}"),
            days,
            |a, b| store::counters(db, path, a, b, dim, dim_id),
            |kept, mut since| {
                since.add(&kept.copied().unwrap_or_default());
                since
            },
        )
        .await
    }

    /// Counters of a node per value of a dimension (see `store::counters_by`), by value.
    pub async fn counters_by(
        &self,
        path: &str,
        days: (i64, i64),
        dim: &str,
        only: Option<&[i64]>,
    ) -> ApiResult<Vec<(i64, Counters)>> {
        let db = &self.app.db;
        self.summed(
            |a, b| format!("by|{path}|{dim}|{only:?}|{a}|{b}"),
            days,
            |a, b| store::counters_by(db, path, a, b, dim, only),
            |kept, since| merged(kept, since, Counters::add),
        )
        .await
    }

    /// The close-time histogram of a node over days, as sorted (bucket, count).
    pub async fn close_histogram(
        &self,
        path: &str,
        days: (i64, i64),
    ) -> ApiResult<Vec<(i64, i64)>> {
        let db = &self.app.db;
        self.summed(
            |a, b| format!("hist|{path}|{a}|{b}"),
            days,
            |a, b| store::close_histogram(db, path, a, b),
            |kept, since| merged(kept, since, |a, b| *a += *b),
        )
        .await
    }

    /// Counters of the given nodes over days for one dimension value, by path; nodes with no
    /// counters are left out.
    pub async fn counters_of_nodes(
        &self,
        paths: &[&str],
        days: (i64, i64),
        (dim, dim_id): (&str, i64),
    ) -> ApiResult<Vec<(String, Counters)>> {
        let db = &self.app.db;
        self.summed(
            |a, b| format!("nodes|{}|{dim}|{dim_id}|{a}|{b}", paths.join(",")),
            days,
            |a, b| store::counters_of_nodes(db, paths, a, b, dim, dim_id),
            |kept, since| merged(kept, since, Counters::add),
        )
        .await
    }
}

/// A span of days `(from, to)`, if any.
type Span = Option<(i64, i64)>;

/// Days `from..=to` split at the mark `through`: the settled part and the part since.
fn split(through: i64, from: i64, to: i64) -> (Span, Span) {
    if from > to {
        return (None, None);
    }
    let settled = (from <= through).then(|| (from, to.min(through)));
    let since = (to > through).then(|| (from.max(day_after(through)), to));
    (settled, since)
}

/// The day key after `day` (yyyymmdd); a key that is not a date is followed by the next number.
fn day_after(day: i64) -> i64 {
    shanzhi_store::event::day_date(day)
        .and_then(|d| d.succ_opt())
        .map_or(day + 1, crate::calendar::day_number)
}

/// Two sorted lists of sums by key, added key by key.
fn merged<K: Ord + Clone, V: Clone>(
    kept: Option<&Vec<(K, V)>>,
    since: Vec<(K, V)>,
    add: impl Fn(&mut V, &V),
) -> Vec<(K, V)> {
    let Some(kept) = kept else {
        return since;
    };
    if since.is_empty() {
        return kept.clone();
    }
    let mut out: BTreeMap<K, V> = kept.iter().cloned().collect();
    for (k, v) in since {
        match out.get_mut(&k) {
            Some(o) => add(o, &v),
            None => {
                out.insert(k, v);
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_after_crosses_months_and_years() {
        let cases = [
            (20261206, 20261207),
            (20261130, 20261201),
            (20261231, 20270101),
            (20280228, 20280229),
            (0, 1),
        ];
        for (day, next) in cases {
            assert_eq!(day_after(day), next, "{day}");
        }
    }

    #[test]
    fn a_range_splits_at_the_settled_mark() {
        type Case = ((i64, i64, i64), (Span, Span));
        let cases: &[Case] = &[
            // A year up to today, yesterday settled.
            (
                (20261205, 20251206, 20261206),
                (Some((20251206, 20261205)), Some((20261206, 20261206))),
            ),
            // All settled.
            (
                (20261205, 20261101, 20261130),
                (Some((20261101, 20261130)), None),
            ),
            // Nothing settled yet.
            (
                (20261205, 20261206, 20261210),
                (None, Some((20261206, 20261210))),
            ),
            // The mark at a month's end.
            (
                (20261130, 20261101, 20261202),
                (Some((20261101, 20261130)), Some((20261201, 20261202))),
            ),
            // An empty range.
            ((20261205, 20261210, 20261201), (None, None)),
        ];
        for ((through, from, to), want) in cases {
            assert_eq!(split(*through, *from, *to), *want, "{through} {from}..{to}");
        }
    }

    #[test]
    fn merged_adds_equal_keys_and_keeps_the_order() {
        let kept = vec![(1, 10), (3, 30)];
        let since = vec![(2, 2), (3, 3), (4, 4)];
        assert_eq!(
            merged(Some(&kept), since, |a, b| *a += *b),
            vec![(1, 10), (2, 2), (3, 33), (4, 4)]
        );
        assert_eq!(merged(None, vec![(5, 1)], |a, b| *a += *b), vec![(5, 1)]);
        assert_eq!(merged(Some(&kept), Vec::new(), |a, b| *a += *b), kept);
    }
}
