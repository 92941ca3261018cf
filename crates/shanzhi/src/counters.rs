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

/// Rows (counters or histogram buckets) kept at most; past it the kept sums start again.
const MAX_ROWS: usize = 400_000;

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
    /// drops the kept sums when the epoch moved.
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
        let mut kept = app.settled.lock();
        kept.through = kept.through.max(through);
        if kept.epoch != epoch {
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

    /// The kept sum under `key`, or `read` summed now and kept (unless the epoch moved
    /// meanwhile).
    async fn kept<T, F>(
        &self,
        key: String,
        rows: impl Fn(&T) -> usize,
        read: F,
    ) -> ApiResult<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: Future<Output = Result<T, shanzhi_store::StoreError>>,
    {
        if let Some((_, v)) = self.app.settled.lock().sums.get(&key) {
            if let Ok(v) = Arc::clone(v).downcast::<T>() {
                return Ok(v);
            }
        }
        let v = Arc::new(read.await?);
        let n = rows(&v).max(1);
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
        Ok(v)
    }

    /// Summed counters of a node over days for one dimension value.
    pub async fn counters(
        &self,
        path: &str,
        (from, to): (i64, i64),
        dim: &str,
        dim_id: i64,
    ) -> ApiResult<Counters> {
        let db = &self.app.db;
        let (settled, since) = split(self.through, from, to);
        let settled = async {
            match settled {
                Some((a, b)) => {
                    let key = format!("counters|{path}|{dim}|{dim_id}|{a}|{b}");
                    let c = self
                        .kept(key, |_| 1, store::counters(db, path, a, b, dim, dim_id))
                        .await?;
                    Ok(*c)
                }
                None => Ok::<_, ApiError>(Counters::default()),
            }
        };
        let since = async {
            match since {
                Some((a, b)) => Ok(store::counters(db, path, a, b, dim, dim_id).await?),
                None => Ok::<_, ApiError>(Counters::default()),
            }
        };
        let (mut c, d) = tokio::try_join!(settled, since)?;
        c.add(&d);
        Ok(c)
    }

    /// Counters of a node per value of a dimension (see `store::counters_by`), by value.
    pub async fn counters_by(
        &self,
        path: &str,
        (from, to): (i64, i64),
        dim: &str,
        only: Option<&[i64]>,
    ) -> ApiResult<Vec<(i64, Counters)>> {
        let db = &self.app.db;
        let (settled, since) = split(self.through, from, to);
        let settled = async {
            match settled {
                Some((a, b)) => {
                    let key = format!("by|{path}|{dim}|{only:?}|{a}|{b}");
                    let read = store::counters_by(db, path, a, b, dim, only);
                    Ok(Some(self.kept(key, Vec::len, read).await?))
                }
                None => Ok::<_, ApiError>(None),
            }
        };
        let since = async {
            match since {
                Some((a, b)) => Ok(store::counters_by(db, path, a, b, dim, only).await?),
                None => Ok::<_, ApiError>(Vec::new()),
            }
        };
        let (settled, since) = tokio::try_join!(settled, since)?;
        Ok(merged(settled.as_deref(), since, Counters::add))
    }

    /// The close-time histogram of a node over days, as sorted (bucket, count).
    pub async fn close_histogram(
        &self,
        path: &str,
        (from, to): (i64, i64),
    ) -> ApiResult<Vec<(i64, i64)>> {
        let db = &self.app.db;
        let (settled, since) = split(self.through, from, to);
        let settled = async {
            match settled {
                Some((a, b)) => {
                    let key = format!("hist|{path}|{a}|{b}");
                    let read = store::close_histogram(db, path, a, b);
                    Ok(Some(self.kept(key, Vec::len, read).await?))
                }
                None => Ok::<_, ApiError>(None),
            }
        };
        let since = async {
            match since {
                Some((a, b)) => Ok(store::close_histogram(db, path, a, b).await?),
                None => Ok::<_, ApiError>(Vec::new()),
            }
        };
        let (settled, since) = tokio::try_join!(settled, since)?;
        Ok(merged(settled.as_deref(), since, |a, b| *a += *b))
    }

    /// Counters of the given nodes over days for one dimension value, by path; nodes with no
    /// counters are left out.
    pub async fn counters_of_nodes(
        &self,
        paths: &[&str],
        (from, to): (i64, i64),
        (dim, dim_id): (&str, i64),
    ) -> ApiResult<Vec<(String, Counters)>> {
        let db = &self.app.db;
        let (settled, since) = split(self.through, from, to);
        let settled = async {
            match settled {
                Some((a, b)) => {
                    let key = format!("nodes|{}|{dim}|{dim_id}|{a}|{b}", paths.join(","));
                    let read = store::counters_of_nodes(db, paths, a, b, dim, dim_id);
                    Ok(Some(self.kept(key, Vec::len, read).await?))
                }
                None => Ok::<_, ApiError>(None),
            }
        };
        let since = async {
            match since {
                Some((a, b)) => Ok(store::counters_of_nodes(db, paths, a, b, dim, dim_id).await?),
                None => Ok::<_, ApiError>(Vec::new()),
            }
        };
        let (settled, since) = tokio::try_join!(settled, since)?;
        Ok(merged(settled.as_deref(), since, Counters::add))
    }
}

/// Days `from..=to` split at the mark `through`: the settled part and the part since.
type Span = Option<(i64, i64)>;
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
    let (y, m, d) = (day / 10_000, (day / 100) % 100, day % 100);
    chrono::NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)
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
