//! Events (work orders): reports, moves with their timeline, counters, queries, the sweep.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use shanzhi_domain::event::figures::{close_bucket, Counters, COUNTER_COLUMNS};
use shanzhi_domain::tree::{subtree_end, Level, NodeCode};

use crate::audit::AuditEntry;
use crate::db::{engine_of, pow2_chunks, tuples};
use crate::{Db, Engine, StoreError};

/// An event as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub category_id: i64,
    pub grid_code: String,
    pub centre_code: String,
    pub centre_path: String,
    pub state: String,
    pub source: String,
    pub description: String,
    pub address: Option<String>,
    /// Meaningless (0) while `position_known` is false.
    pub lon: f64,
    pub lat: f64,
    /// False for an Open311 request filed by address only: `grid_code` is then its
    /// jurisdiction's region until a dispatcher sets the position.
    pub position_known: bool,
    pub reporter_id: Option<i64>,
    pub department_id: Option<i64>,
    pub priority: i64,
    pub summoned: String,
    pub returns: i64,
    pub reopened: i64,
    pub reminders: i64,
    pub escalations: i64,
    pub decision_required: bool,
    pub pending_extension: Option<i64>,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<i64>,
    pub merged_into: Option<i64>,
    pub stage_started_at: i64,
    pub due_at: Option<i64>,
    pub light: String,
    pub supervision: String,
    pub overdue_ever: bool,
    pub red_since: Option<i64>,
    pub next_check_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub version: i64,
    /// 网格接单: `waiting` or `taken` while the grid holds a new report; NULL when the centre does.
    pub grid_stage: Option<String>,
    /// The grid worker who took it (kept after it is passed on).
    pub taken_by: Option<i64>,
}

/// Every column, in [`EventRow`] order.
pub const COLUMNS: &str = "id, category_id, grid_code, centre_code, centre_path, state, source, description, address, lon, lat, position_known, \
    reporter_id, department_id, priority, summoned, returns, reopened, reminders, escalations, decision_required, pending_extension, \
    rating, rating_comment, rated_at, merged_into, stage_started_at, due_at, light, supervision, overdue_ever, red_since, next_check_at, \
    created_at, updated_at, closed_at, version, grid_stage, taken_by";

impl crate::sqlite_read::FromDirect for EventRow {
    /// A row of [`COLUMNS`].
    fn from_direct(r: &crate::sqlite_read::Row) -> Result<Self, StoreError> {
        Ok(EventRow {
            id: r.int(0)?,
            category_id: r.int(1)?,
            grid_code: r.text(2)?,
            centre_code: r.text(3)?,
            centre_path: r.text(4)?,
            state: r.text(5)?,
            source: r.text(6)?,
            description: r.text(7)?,
            address: r.opt_text(8)?,
            lon: r.real(9)?,
            lat: r.real(10)?,
            position_known: r.bool(11)?,
            reporter_id: r.opt_int(12)?,
            department_id: r.opt_int(13)?,
            priority: r.int(14)?,
            summoned: r.text(15)?,
            returns: r.int(16)?,
            reopened: r.int(17)?,
            reminders: r.int(18)?,
            escalations: r.int(19)?,
            decision_required: r.bool(20)?,
            pending_extension: r.opt_int(21)?,
            rating: r.opt_int(22)?,
            rating_comment: r.opt_text(23)?,
            rated_at: r.opt_int(24)?,
            merged_into: r.opt_int(25)?,
            stage_started_at: r.int(26)?,
            due_at: r.opt_int(27)?,
            light: r.text(28)?,
            supervision: r.text(29)?,
            overdue_ever: r.bool(30)?,
            red_since: r.opt_int(31)?,
            next_check_at: r.opt_int(32)?,
            created_at: r.int(33)?,
            updated_at: r.int(34)?,
            closed_at: r.opt_int(35)?,
            version: r.int(36)?,
            grid_stage: r.opt_text(37)?,
            taken_by: r.opt_int(38)?,
        })
    }
}

/// One line of the timeline.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LogRow {
    pub id: i64,
    pub event_id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: Option<String>,
    pub data: String,
}

/// A timeline line to write with a move.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub actor_id: Option<i64>,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: Option<String>,
    pub data: Value,
}

/// Counter deltas of a move: who they count for, and for which day.
#[derive(Debug, Clone)]
pub struct StatDelta {
    pub grid: NodeCode,
    /// yyyymmdd in China time.
    pub day: i64,
    pub category_id: i64,
    pub department_id: Option<i64>,
    pub counters: Counters,
    /// Minutes from report to close, for the histogram, when the move closed the order.
    pub close_minutes: Option<i64>,
}

/// Notices now live in [`crate::notification`]; kept here for the callers of this module.
pub use crate::notification::NewNotification;

/// Counters are kept per local day and, beside the days, per month and per year, so that a
/// year's figures are a dozen rows, not hundreds: a day's key (the `day` column of `event_stat`
/// and `event_close_hist`) is yyyymmdd, its month's −yyyymm, its year's −yyyy. A reader of a
/// range of days (positive keys) never meets the coarse rows; [`day_spans`] says which keys
/// cover a range exactly once. The keys a day's counts are also added to: its month and year.
pub fn coarse_keys(day: i64) -> [i64; 2] {
    [-(day / 100), -(day / 10_000)]
}

/// The date of a day key (yyyymmdd), if it is one in the years 1000–9999.
pub fn day_date(key: i64) -> Option<chrono::NaiveDate> {
    let (y, m, d) = (key / 10_000, (key / 100) % 100, key % 100);
    if !(1000..=9999).contains(&y) {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(
        i32::try_from(y).ok()?,
        u32::try_from(m).ok()?,
        u32::try_from(d).ok()?,
    )
}

/// Ranges of keys (see [`coarse_keys`]) that together hold days `from..=to` once each: whole
/// years by their year rows, whole months by their month rows, the rest by days. At most five
/// ranges for any span (days, months, years, months, days). A day that is not a date, or a year
/// before 1000, is read day by day.
pub fn day_spans(from: i64, to: i64) -> Vec<(i64, i64)> {
    use chrono::{Datelike, NaiveDate};
    let key = |d: NaiveDate| {
        i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
    };
    // Day keys are positive: a range reaching below them (a year written with a minus sign)
    // must not take in the month and year rows.
    let (Some(mut d), Some(end)) = (day_date(from), day_date(to)) else {
        return vec![(from.max(1), to)];
    };
    let mut out: Vec<(i64, i64)> = Vec::new();
    // Consecutive months (or years) have consecutive negative keys: one range.
    let push_coarse = |k: i64, out: &mut Vec<(i64, i64)>| match out.last_mut() {
        Some(last) if last.1 < 0 && last.0 - 1 == k => last.0 = k,
        _ => out.push((k, k)),
    };
    while d <= end {
        let (y, m) = (d.year(), d.month());
        let next_month = if m == 12 {
            NaiveDate::from_ymd_opt(y + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(y, m + 1, 1)
        };
        let Some(next_month) = next_month else {
            out.push((key(d), key(end)));
            break;
        };
        let month_end = next_month.pred_opt().unwrap_or(d);
        if d.day() == 1 && m == 1 && NaiveDate::from_ymd_opt(y, 12, 31).is_some_and(|e| e <= end) {
            push_coarse(-i64::from(y), &mut out);
            match NaiveDate::from_ymd_opt(y + 1, 1, 1) {
                Some(n) => d = n,
                None => break,
            }
        } else if d.day() == 1 && month_end <= end {
            push_coarse(-(i64::from(y) * 100 + i64::from(m)), &mut out);
            d = next_month;
        } else {
            let stop = month_end.min(end);
            out.push((key(d), key(stop)));
            d = next_month;
        }
    }
    if out.is_empty() {
        // An empty range (from after to) stays one, read as days.
        out.push((from.max(1), to));
    }
    out
}

/// `SELECT {columns} FROM {table} WHERE {filter} AND day >= a AND day <= b UNION ALL …` over
/// the [`day_spans`] of `from..=to`: each branch one indexed range. The bounds are integers
/// computed here, written into the statement.
fn over_days(columns: &str, table: &str, filter: &str, from: i64, to: i64) -> String {
    over_days_then(columns, table, filter, from, to, "")
}

/// [`over_days`] with `tail` (a `GROUP BY`, say) after each branch.
fn over_days_then(
    columns: &str,
    table: &str,
    filter: &str,
    from: i64,
    to: i64,
    tail: &str,
) -> String {
    day_spans(from, to)
        .iter()
        .map(|(a, b)| {
            format!(
                "SELECT {columns} FROM {table} WHERE {filter} AND day >= {a} AND day <= {b}{tail}"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// The counter rows a set of deltas touches, merged: every ancestor of each delta's grid, for the
/// whole, the category and the department, and the close-time histogram, each day's counts also
/// under its month and year (see [`coarse_keys`]). Merging first means a group of moves writes
/// each row once; rows come out in each table's primary-key order, so concurrent writers lock
/// rows in one order and a bulk load fills each B-tree side by side.
///
/// Kept per node path: adding a row to a node seen before copies no string.
#[derive(Debug, Default, Clone)]
pub struct StatRows {
    nodes: BTreeMap<String, NodeRows>,
}

/// One node's rows in a [`StatRows`], keyed in the order of the tables' primary keys after the
/// path: `event_stat (node_path, dim, dim_id, day)`, `event_close_hist (node_path, day, bucket)`.
#[derive(Debug, Default, Clone)]
pub struct NodeRows {
    counters: BTreeMap<(&'static str, i64, i64), Counters>,
    hist: BTreeMap<(i64, i64), i64>,
}

impl NodeRows {
    /// Adds counters to one day's row and its month's and year's (`dim` is `all`, `category`
    /// or `department`).
    pub fn add_row(&mut self, day: i64, dim: &str, dim_id: i64, c: &Counters) {
        let dim: &'static str = match dim {
            "category" => "category",
            "department" => "department",
            _ => "all",
        };
        for key in counted_under(day) {
            self.counters.entry((dim, dim_id, key)).or_default().add(c);
        }
    }

    /// Adds `n` closes to one bucket of the close-time histogram, for the day, its month and
    /// its year.
    pub fn add_hist(&mut self, day: i64, bucket: i64, n: i64) {
        for key in counted_under(day) {
            *self.hist.entry((key, bucket)).or_default() += n;
        }
    }
}

/// The keys a day's counts are kept under: the day itself, its month and its year.
fn counted_under(day: i64) -> [i64; 3] {
    let [month, year] = coarse_keys(day);
    [day, month, year]
}

impl StatRows {
    /// The rows of node `path` (the path copied only the first time).
    pub fn node(&mut self, path: &str) -> &mut NodeRows {
        if !self.nodes.contains_key(path) {
            self.nodes.insert(path.to_owned(), NodeRows::default());
        }
        self.nodes.get_mut(path).expect("inserted above")
    }

    /// Adds counters to one row (`dim` is `all`, `category` or `department`).
    pub fn add_row(&mut self, path: &str, day: i64, dim: &str, dim_id: i64, c: &Counters) {
        self.node(path).add_row(day, dim, dim_id, c);
    }

    /// Adds `n` closes to one bucket of the close-time histogram.
    pub fn add_hist(&mut self, path: &str, day: i64, bucket: i64, n: i64) {
        self.node(path).add_hist(day, bucket, n);
    }

    /// Adds many counter rows `(node_path, day, dim, dim_id, counters)` (a recount's): a node
    /// is looked up once for each run of its rows. Answers how many rows were added.
    pub fn add_rows<'a>(
        &mut self,
        rows: impl IntoIterator<Item = (&'a str, i64, &'a str, i64, &'a Counters)>,
    ) -> usize {
        let rows = rows
            .into_iter()
            .map(|(p, day, dim, id, c)| (p, (day, dim, id, c)));
        self.add_by_node(rows, |node, (day, dim, id, c)| {
            node.add_row(day, dim, id, c)
        })
    }

    /// Adds many histogram rows `(node_path, day, bucket, count)`, as [`StatRows::add_rows`].
    pub fn add_hists<'a>(
        &mut self,
        rows: impl IntoIterator<Item = (&'a str, i64, i64, i64)>,
    ) -> usize {
        let rows = rows
            .into_iter()
            .map(|(p, day, bucket, n)| (p, (day, bucket, n)));
        self.add_by_node(rows, |node, (day, bucket, n)| node.add_hist(day, bucket, n))
    }

    /// Gives each `(node_path, row)` to `add` with its node's rows, looking the node up once
    /// for each run of rows with the same path.
    fn add_by_node<'a, R>(
        &mut self,
        rows: impl Iterator<Item = (&'a str, R)>,
        mut add: impl FnMut(&mut NodeRows, R),
    ) -> usize {
        let mut node: Option<(&str, &mut NodeRows)> = None;
        let mut added = 0;
        for (path, row) in rows {
            if node.as_ref().map(|(p, _)| *p) != Some(path) {
                node = Some((path, self.node(path)));
            }
            if let Some((_, rows)) = node.as_mut() {
                add(rows, row);
            }
            added += 1;
        }
        added
    }

    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.nodes
            .values()
            .all(|n| n.counters.is_empty() && n.hist.is_empty())
    }

    /// The counter rows `(node_path, day, dim, dim_id, counters)` in `event_stat`'s key order.
    pub fn counter_rows(&self) -> impl Iterator<Item = (&str, i64, &'static str, i64, &Counters)> {
        self.nodes.iter().flat_map(|(path, node)| {
            node.counters
                .iter()
                .map(move |((dim, id, day), c)| (path.as_str(), *day, *dim, *id, c))
        })
    }

    /// The histogram rows `(node_path, day, bucket, count)` in `event_close_hist`'s key order.
    pub fn hist_rows(&self) -> impl Iterator<Item = (&str, i64, i64, i64)> {
        self.nodes.iter().flat_map(|(path, node)| {
            node.hist
                .iter()
                .map(move |((day, bucket), n)| (path.as_str(), *day, *bucket, *n))
        })
    }

    /// The earliest day (yyyymmdd) the rows write, if any: a write reaching a settled day
    /// changes the settled epoch (see [`settled`]).
    pub fn first_day(&self) -> Option<i64> {
        let days = self.counter_rows().map(|(_, day, _, _, _)| day);
        let hist = self.hist_rows().map(|(_, day, _, _)| day);
        days.chain(hist).filter(|d| *d > 0).min()
    }

    /// Adds one delta.
    pub fn add(&mut self, d: &StatDelta) {
        if d.counters.is_zero() && d.close_minutes.is_none() {
            return;
        }
        let mut dims: Vec<(&'static str, i64)> = vec![("all", 0), ("category", d.category_id)];
        if let Some(dep) = d.department_id {
            dims.push(("department", dep));
        }
        for path in d.grid.ancestor_paths() {
            let node = self.node(&path);
            if !d.counters.is_zero() {
                for (dim, dim_id) in &dims {
                    node.add_row(d.day, dim, *dim_id, &d.counters);
                }
            }
            if let Some(m) = d.close_minutes {
                node.add_hist(d.day, close_bucket(m), 1);
            }
        }
    }
}

/// `INSERT … VALUES (…), (…) ON CONFLICT DO UPDATE` adding `n` rows of counters.
fn stat_upsert_sql(engine: Engine, n: usize) -> String {
    let cols = COUNTER_COLUMNS.join(", ");
    let sets: Vec<String> = COUNTER_COLUMNS
        .iter()
        .map(|c| format!("{c} = event_stat.{c} + excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO event_stat (node_path, day, dim, dim_id, {cols}) VALUES {} \
         ON CONFLICT (node_path, dim, dim_id, day) DO UPDATE SET {}",
        tuples(engine, n, 4 + COUNTER_COLUMNS.len()),
        sets.join(", ")
    )
}

/// The histogram's multi-row upsert for `n` rows.
fn hist_upsert_sql(engine: Engine, n: usize) -> String {
    format!(
        "INSERT INTO event_close_hist (node_path, day, bucket, count) VALUES {} \
         ON CONFLICT (node_path, day, bucket) DO UPDATE SET count = event_close_hist.count + excluded.count",
        tuples(engine, n, 4)
    )
}

/// Writes merged counter rows (an `&StatRows`) inside the open transaction `$tx`, and moves the
/// settled epoch when they reach a settled day (see [`settled`]). Any other writer of
/// `event_stat` or `event_close_hist` (a migration, a maintenance command) must move it too
/// ([`unsettle`]), or servers keep sums of the days it changed.
macro_rules! write_stats {
    ($tx:expr, $rows:expr) => {{
        let rows: &StatRows = $rows;
        let engine = engine_of(&$tx);
        let counters: Vec<_> = rows.counter_rows().collect();
        for now in pow2_chunks(&counters, 64) {
            let sql = stat_upsert_sql(engine, now.len());
            let mut q = sqlx::query(&sql);
            for (path, day, dim, dim_id, c) in now {
                q = q.bind(*path).bind(*day).bind(*dim).bind(*dim_id);
                for v in c.values() {
                    q = q.bind(v);
                }
            }
            q.execute(&mut *$tx).await?;
        }
        let hist: Vec<_> = rows.hist_rows().collect();
        for now in pow2_chunks(&hist, 64) {
            let sql = hist_upsert_sql(engine, now.len());
            let mut q = sqlx::query(&sql);
            for (path, day, bucket, count) in now {
                q = q.bind(*path).bind(*day).bind(*bucket).bind(*count);
            }
            q.execute(&mut *$tx).await?;
        }
        // Always written (a row lock on PostgreSQL), so that a reader moving the settled mark
        // waits for this transaction: either its sums see these rows, or this sees its mark.
        if let Some(first) = rows.first_day() {
            sqlx::query(BUMP_IF_SETTLED)
                .bind(first)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// Adds one to the settled epoch when day `$1` is settled; writes the row either way.
const BUMP_IF_SETTLED: &str =
    "UPDATE stat_settled SET epoch = epoch + CASE WHEN through >= $1 THEN 1 ELSE 0 END WHERE id = 1";

/// The columns of `stat_journal` a delta fills, in the order [`journal_stats!`] binds them:
/// these five, then [`COUNTER_COLUMNS`].
const JOURNAL_COLUMNS: [&str; 5] = [
    "grid_code",
    "day",
    "category_id",
    "department_id",
    "close_minutes",
];

/// `INSERT INTO stat_journal …` for `n` deltas.
fn journal_insert_sql(engine: Engine, n: usize) -> String {
    format!(
        "INSERT INTO stat_journal ({}, {}) VALUES {}",
        JOURNAL_COLUMNS.join(", "),
        COUNTER_COLUMNS.join(", "),
        tuples(engine, n, JOURNAL_COLUMNS.len() + COUNTER_COLUMNS.len())
    )
}

/// Appends counter deltas (an iterator of `&StatDelta`) to `stat_journal` inside the open
/// transaction `$tx`: one row per delta at the end of one table, where adding them to the
/// counters would touch every ancestor's day, month and year rows. [`fold_stats`] adds them to
/// the counters later (about once a second, and before any read of the counters).
macro_rules! journal_stats {
    ($tx:expr, $deltas:expr) => {{
        let deltas: Vec<&StatDelta> = $deltas
            .into_iter()
            .filter(|d: &&StatDelta| !d.counters.is_zero() || d.close_minutes.is_some())
            .collect();
        let engine = engine_of(&$tx);
        for now in pow2_chunks(&deltas, 32) {
            let sql = journal_insert_sql(engine, now.len());
            let mut q = sqlx::query(&sql);
            for d in now {
                q = q
                    .bind(d.grid.as_str())
                    .bind(d.day)
                    .bind(d.category_id)
                    .bind(d.department_id)
                    .bind(d.close_minutes);
                for v in d.counters.values() {
                    q = q.bind(v);
                }
            }
            q.execute(&mut *$tx).await?;
        }
    }};
}

/// The advisory lock that makes folds on PostgreSQL take turns (several servers fold).
pub const FOLD_LOCK: i64 = 4416;

/// Deltas folded per transaction: a fold never holds the writer long, so the group commits of
/// reports go on between its parts.
const FOLD_CHUNK: i64 = 1024;

/// Adds the counter deltas waiting in `stat_journal` to the counters (`event_stat`,
/// `event_close_hist`) and deletes them; answers how many deltas it moved. Every reader of the
/// counters calls it first, so the figures include every move committed before the read; the
/// server also calls it about once a second, so the journal stays short. Each part (at most
/// [`FOLD_CHUNK`] deltas, oldest first) is one transaction, so the counters never count a
/// delta twice or lose one, whenever the process dies. Cheap when the journal is empty (one
/// indexed read). Folds take turns (SQLite's one writer; an advisory lock on PostgreSQL);
/// deltas journaled after the fold began are left to the next one.
pub async fn fold_stats(db: &Db) -> Result<usize, StoreError> {
    fold(db, true).await
}

/// The settled mark of the counters (migration 0037): `(through, epoch)`. The counters of days
/// up to `through` (yyyymmdd) change only together with `epoch`, so their sums may be kept
/// while `epoch` stays the same. Read on the caller's thread on SQLite.
pub async fn settled(db: &Db) -> Result<(i64, i64), StoreError> {
    const SQL: &str = "SELECT through, epoch FROM stat_settled WHERE id = 1";
    if let Some(direct) = db.direct() {
        let row = direct
            .row(SQL, &[])?
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("stat_settled has no row")))?;
        return Ok((row.int(0)?, row.int(1)?));
    }
    Ok(with_pool!(db, pool => sqlx::query_as(SQL).fetch_one(pool).await?))
}

/// Moves the settled mark up to `through` (never down): moves count on the day they happen, so
/// a day before today is over. Answers the mark as it then stands.
pub async fn settle(db: &Db, through: i64) -> Result<(i64, i64), StoreError> {
    with_tx!(db, tx => {
        sqlx::query("UPDATE stat_settled SET through = $1 WHERE id = 1 AND through < $1")
            .bind(through)
            .execute(&mut *tx)
            .await?;
    });
    settled(db).await
}

/// Marks every kept sum stale, for a writer of past counters that does not go through
/// [`write_stats!`] (the history writer).
pub async fn unsettle(db: &Db) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        sqlx::query("UPDATE stat_settled SET epoch = epoch + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

/// [`fold_stats`] for a server's own fold about once a second: on PostgreSQL, while another
/// server folds, it leaves the journal to that one (its next fold takes whatever is left)
/// instead of queuing behind it — with several servers, folds waiting their turn kept a
/// connection each for about a second. Readers of the counters keep calling [`fold_stats`],
/// which waits its turn, so the figures still include every committed move.
pub async fn fold_stats_behind(db: &Db) -> Result<usize, StoreError> {
    fold(db, false).await
}

async fn fold(db: &Db, wait: bool) -> Result<usize, StoreError> {
    // A replica cannot write: its counters are the primary's, as far as they were folded.
    if db.is_replica() {
        return Ok(0);
    }
    // Asked before every read of the figures: on the caller's thread on SQLite.
    const LAST: &str = "SELECT MAX(id) FROM stat_journal";
    let last: Option<i64> = match db.direct() {
        Some(direct) => match direct.row(LAST, &[])? {
            Some(row) => row.opt_int(0)?,
            None => None,
        },
        None => with_pool!(db, pool => sqlx::query_scalar(LAST).fetch_one(pool).await?),
    };
    let Some(last) = last else {
        return Ok(0);
    };
    let sql = format!(
        "DELETE FROM stat_journal WHERE id IN \
         (SELECT id FROM stat_journal WHERE id <= $1 ORDER BY id LIMIT {FOLD_CHUNK}) RETURNING {}, {}",
        JOURNAL_COLUMNS.join(", "),
        COUNTER_COLUMNS.join(", ")
    );
    let mut moved = 0;
    loop {
        let n = with_tx!(db, tx => {
            if engine_of(&tx) == Engine::Postgres {
                if wait {
                    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(FOLD_LOCK).execute(&mut *tx).await?;
                } else {
                    let mine: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
                        .bind(FOLD_LOCK)
                        .fetch_one(&mut *tx)
                        .await?;
                    if !mine {
                        // Another server is folding (nothing written here: rolled back).
                        return Ok(moved);
                    }
                }
            }
            let rows = sqlx::query(&sql).bind(last).fetch_all(&mut *tx).await?;
            let mut stats = StatRows::default();
            for r in &rows {
                use sqlx::Row;
                let code: String = r.try_get(0)?;
                let grid = NodeCode::parse(&code).map_err(|e| {
                    StoreError::Other(anyhow::anyhow!("stat_journal holds a bad grid code {code:?}: {e}"))
                })?;
                stats.add(&StatDelta {
                    grid,
                    day: r.try_get(1)?,
                    category_id: r.try_get(2)?,
                    department_id: r.try_get(3)?,
                    close_minutes: r.try_get(4)?,
                    counters: read_counters(r, JOURNAL_COLUMNS.len())?,
                });
            }
            write_stats!(tx, &stats);
            rows.len()
        });
        moved += n;
        if (n as i64) < FOLD_CHUNK {
            return Ok(moved);
        }
    }
}

/// A new report.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub row: EventRow,
    pub photos: Vec<String>,
    pub idempotency: Option<(i64, String)>,
}

/// One report of a group commit, with everything it writes besides the event row.
#[derive(Debug, Clone)]
pub struct ReportWrite {
    pub new: NewEvent,
    pub log: LogEntry,
    pub delta: StatDelta,
    /// Its `entity_id` is filled in with the new event's id.
    pub audit: AuditEntry,
    /// Written with the report, in its transaction, when the report is new.
    pub attached: Attached,
}

/// What a report brings along, written in the report's own transaction so that neither is
/// ever stored without the other: the visit a problem was found on (its `event_id` is set to
/// the new event), or the hotline caller who rang about it. A repeated report (a key used
/// before) writes nothing new: the first one's stay.
#[derive(Debug, Clone, Default)]
pub enum Attached {
    #[default]
    Nothing,
    Visit(crate::visit::NewVisit),
    Caller(crate::caller::NewCaller),
}

/// Inserts reports in one transaction (a group commit): per report, in order, its event id and
/// whether it was created (false: its idempotency key was already used, also earlier in the same
/// group). Every table gets multi-row statements, counters are merged across the group, and the
/// audit rows are chained under one head update. All or nothing: on an error nothing is written.
pub async fn insert_reports(
    db: &Db,
    batch: &[ReportWrite],
) -> Result<Vec<(i64, bool)>, StoreError> {
    const ROWS: usize = 32;
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let out = with_tx!(db, tx => {
        let engine = engine_of(&tx);
        // Keys used before this group.
        let keys: Vec<(i64, &str)> = batch
            .iter()
            .filter_map(|w| w.new.idempotency.as_ref().map(|(u, k)| (*u, k.as_str())))
            .collect();
        let mut used: HashMap<(i64, String), i64> = HashMap::new();
        for chunk in pow2_chunks(&keys, ROWS) {
            let sql = format!(
                // A join, not `(user_id, key) IN (VALUES …)`: SQLite scans the table for that.
                "SELECT i.user_id, i.key, i.event_id FROM (VALUES {}) AS v \
                 JOIN idempotency i ON i.user_id = v.column1 AND i.key = v.column2",
                tuples(engine, chunk.len(), 2)
            );
            let mut q = sqlx::query_as::<_, (i64, String, i64)>(&sql);
            for (u, k) in chunk {
                q = q.bind(*u).bind(*k);
            }
            for (u, k, id) in q.fetch_all(&mut *tx).await? {
                used.insert((u, k), id);
            }
        }
        // New reports, and repeats (of an earlier report, or of one earlier in this group).
        enum Fate {
            Old(i64),
            New,
            SameAs(usize),
        }
        let mut first: HashMap<(i64, &str), usize> = HashMap::new();
        let mut fates = Vec::with_capacity(batch.len());
        let mut fresh = Vec::with_capacity(batch.len());
        for (i, w) in batch.iter().enumerate() {
            let fate = match &w.new.idempotency {
                Some((u, k)) => {
                    if let Some(id) = used.get(&(*u, k.clone())) {
                        Fate::Old(*id)
                    } else if let Some(j) = first.get(&(*u, k.as_str())) {
                        Fate::SameAs(*j)
                    } else {
                        first.insert((*u, k.as_str()), i);
                        Fate::New
                    }
                }
                None => Fate::New,
            };
            if matches!(fate, Fate::New) {
                fresh.push(i);
            }
            fates.push(fate);
        }
        // Ids for the new ones, taken up front so that every table can be written in bulk.
        let ids: Vec<i64> = match engine {
            // The write lock is held (BEGIN IMMEDIATE): nobody else can take these.
            Engine::Sqlite => {
                let top: i64 = sqlx::query_scalar(
                    "SELECT MAX(m) FROM (SELECT COALESCE(MAX(id), 0) AS m FROM event \
                     UNION ALL SELECT seq FROM sqlite_sequence WHERE name = 'event')",
                )
                .fetch_one(&mut *tx).await?;
                (1..=fresh.len() as i64).map(|i| top + i).collect()
            }
            Engine::Postgres => {
                sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('event', 'id')) FROM generate_series(1, $1)")
                    .bind(fresh.len() as i64)
                    .fetch_all(&mut *tx).await?
            }
        };
        let mut id_of = vec![0i64; batch.len()];
        for (i, id) in fresh.iter().zip(&ids) {
            id_of[*i] = *id;
        }
        for chunk in pow2_chunks(&fresh, ROWS) {
            let sql = format!(
                "INSERT INTO event (id, category_id, grid_code, centre_code, centre_path, state, source, description, address, lon, lat, \
                 position_known, reporter_id, priority, stage_started_at, due_at, light, next_check_at, created_at, updated_at, grid_stage) VALUES {}",
                tuples(engine, chunk.len(), 21)
            );
            let mut q = sqlx::query(&sql);
            for i in chunk {
                let r = &batch[*i].new.row;
                q = q.bind(id_of[*i]).bind(r.category_id).bind(&r.grid_code).bind(&r.centre_code).bind(&r.centre_path).bind(&r.state)
                    .bind(&r.source).bind(&r.description).bind(&r.address).bind(r.lon).bind(r.lat)
                    .bind(r.position_known).bind(r.reporter_id).bind(r.priority).bind(r.stage_started_at).bind(r.due_at).bind(&r.light)
                    .bind(r.next_check_at).bind(r.created_at).bind(r.created_at).bind(&r.grid_stage);
            }
            q.execute(&mut *tx).await?;
        }
        let photos: Vec<(i64, usize, &String)> = fresh
            .iter()
            .flat_map(|i| batch[*i].new.photos.iter().enumerate().map(|(p, h)| (id_of[*i], p, h)))
            .collect();
        for chunk in pow2_chunks(&photos, ROWS) {
            let sql = format!(
                "INSERT INTO event_photo (event_id, hash, stage, position) VALUES {}",
                tuples(engine, chunk.len(), 4)
            );
            let mut q = sqlx::query(&sql);
            for (id, p, h) in chunk {
                q = q.bind(*id).bind(*h).bind("report").bind(*p as i64);
            }
            q.execute(&mut *tx).await?;
        }
        let keyed: Vec<usize> = fresh.iter().copied().filter(|i| batch[*i].new.idempotency.is_some()).collect();
        for chunk in pow2_chunks(&keyed, ROWS) {
            let sql = format!(
                "INSERT INTO idempotency (user_id, key, event_id, created_at) VALUES {}",
                tuples(engine, chunk.len(), 4)
            );
            let mut q = sqlx::query(&sql);
            for i in chunk {
                if let Some((u, k)) = &batch[*i].new.idempotency {
                    q = q.bind(*u).bind(k).bind(id_of[*i]).bind(batch[*i].new.row.created_at);
                }
            }
            q.execute(&mut *tx).await?;
        }
        for chunk in pow2_chunks(&fresh, ROWS) {
            let sql = format!(
                "INSERT INTO event_log (event_id, at, actor_id, action, from_state, to_state, note, data) VALUES {}",
                tuples(engine, chunk.len(), 8)
            );
            let mut q = sqlx::query(&sql);
            for i in chunk {
                let l = &batch[*i].log;
                q = q.bind(id_of[*i]).bind(batch[*i].new.row.created_at).bind(l.actor_id).bind(&l.action)
                    .bind(&l.from_state).bind(&l.to_state).bind(&l.note).bind(l.data.to_string());
            }
            q.execute(&mut *tx).await?;
        }
        journal_stats!(tx, fresh.iter().map(|i| &batch[*i].delta));
        let audits: Vec<AuditEntry> = fresh
            .iter()
            .map(|i| {
                let mut a = batch[*i].audit.clone();
                a.entity_id = id_of[*i].to_string();
                a
            })
            .collect();
        let at = fresh.iter().map(|i| batch[*i].new.row.created_at).max().unwrap_or(0);
        append_audits!(tx, &audits, at);
        for i in &fresh {
            match &batch[*i].attached {
                Attached::Nothing => {}
                Attached::Visit(v) => {
                    let v = crate::visit::NewVisit { event_id: Some(id_of[*i]), ..v.clone() };
                    crate::write_visit!(tx, &v);
                }
                Attached::Caller(c) => crate::write_caller!(tx, id_of[*i], c),
            }
        }
        fates
            .iter()
            .enumerate()
            .map(|(i, f)| match f {
                Fate::Old(id) => (*id, false),
                Fate::New => (id_of[i], true),
                Fate::SameAs(j) => (id_of[*j], false),
            })
            .collect::<Vec<_>>()
    });
    Ok(out)
}

/// Writes a timeline line (`&LogEntry`) inside the open transaction `$tx`: an event's, or with
/// a table and key column, another module's timeline of the same shape (dispute_log).
#[macro_export]
macro_rules! write_log {
    ($tx:expr, $id:expr, $log:expr, $now:expr) => {
        $crate::write_log!($tx, "event_log", "event_id", $id, $log, $now)
    };
    ($tx:expr, $table:literal, $key:literal, $id:expr, $log:expr, $now:expr) => {{
        let l: &$crate::event::LogEntry = $log;
        sqlx::query(concat!("INSERT INTO ", $table, " (", $key, ", at, actor_id, action, from_state, to_state, note, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
            .bind($id).bind($now).bind(l.actor_id).bind(&l.action).bind(&l.from_state).bind(&l.to_state).bind(&l.note).bind(l.data.to_string())
            .execute(&mut *$tx).await?;
    }};
}

/// Inserts many timeline lines `(owner id, &LogEntry, at)` (a slice) into `$table` (keyed by
/// `$key`, e.g. `dispute_log`/`dispute_id`) inside the open transaction `$tx` of `$db`, in
/// multi-row statements: the bulk form of [`write_log!`].
#[macro_export]
macro_rules! write_log_lines {
    ($tx:expr, $db:expr, $table:literal, $key:literal, $lines:expr) => {{
        let insert = $crate::db::Insert::new(
            $db,
            $table,
            &[
                $key,
                "at",
                "actor_id",
                "action",
                "from_state",
                "to_state",
                "note",
                "data",
            ],
            "",
        );
        let lines: &[(i64, &$crate::event::LogEntry, i64)] = $lines;
        $crate::insert_rows!($tx, &insert, lines, |q, (id, l, at)| q
            .bind(*id)
            .bind(*at)
            .bind(l.actor_id)
            .bind(&l.action)
            .bind(&l.from_state)
            .bind(&l.to_state)
            .bind(&l.note)
            .bind(l.data.to_string()));
    }};
}

/// Everything a move writes besides the event row itself.
#[derive(Debug, Clone, Default)]
pub struct MoveWrites {
    pub log: Option<LogEntry>,
    pub deltas: Vec<StatDelta>,
    pub photos: Vec<String>,
    pub notifications: Vec<NewNotification>,
    /// Reporters to link to another order (a merge): (target event, user ids).
    pub link_reporters: Option<(i64, Vec<i64>)>,
    pub audit: Option<AuditEntry>,
    /// Counter rows added as they are, besides `deltas`: when an event filed under a region
    /// gets its position, its history counted so far is added to the nodes below that region.
    pub moved_stats: StatRows,
}

/// Saves a move: the new row if nobody changed the event since `after.version - 1` was read,
/// with its timeline line, counters, photos, notifications and audit row; else `Stale`.
pub async fn save_move(
    db: &Db,
    after: &EventRow,
    writes: &MoveWrites,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE event SET centre_code = $1, centre_path = $2, state = $3, department_id = $4, summoned = $5, returns = $6, \
             reopened = $7, reminders = $8, escalations = $9, decision_required = $10, pending_extension = $11, rating = $12, \
             rating_comment = $13, rated_at = $14, merged_into = $15, stage_started_at = $16, due_at = $17, light = $18, \
             supervision = $19, overdue_ever = $20, red_since = $21, next_check_at = $22, updated_at = $23, closed_at = $24, \
             grid_code = $27, lon = $28, lat = $29, position_known = $30, grid_stage = $31, taken_by = $32, \
             version = version + 1 WHERE id = $25 AND version = $26",
        )
        .bind(&after.centre_code).bind(&after.centre_path).bind(&after.state).bind(after.department_id).bind(&after.summoned)
        .bind(after.returns).bind(after.reopened).bind(after.reminders).bind(after.escalations).bind(after.decision_required)
        .bind(after.pending_extension).bind(after.rating).bind(&after.rating_comment).bind(after.rated_at).bind(after.merged_into)
        .bind(after.stage_started_at).bind(after.due_at).bind(&after.light).bind(&after.supervision).bind(after.overdue_ever)
        .bind(after.red_since).bind(after.next_check_at).bind(now).bind(after.closed_at).bind(after.id).bind(after.version - 1)
        .bind(&after.grid_code).bind(after.lon).bind(after.lat).bind(after.position_known)
        .bind(&after.grid_stage).bind(after.taken_by)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        if let Some(log) = &writes.log {
            write_log!(tx, after.id, log, now);
        }
        journal_stats!(tx, &writes.deltas);
        if !writes.moved_stats.is_empty() {
            write_stats!(tx, &writes.moved_stats);
        }
        if !writes.photos.is_empty() {
            let base: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event_photo WHERE event_id = $1 AND stage = 'result'")
                .bind(after.id).fetch_one(&mut *tx).await?;
            for (i, h) in writes.photos.iter().enumerate() {
                sqlx::query("INSERT INTO event_photo (event_id, hash, stage, position) VALUES ($1, $2, 'result', $3)")
                    .bind(after.id).bind(h).bind(base + i as i64).execute(&mut *tx).await?;
            }
        }
        write_notifications!(tx, after.id, &writes.notifications, now);
        if let Some((target, users)) = &writes.link_reporters {
            for u in users {
                sqlx::query("INSERT INTO event_reporter (event_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(target).bind(u).execute(&mut *tx).await?;
            }
        }
        if let Some(a) = &writes.audit {
            append_audit!(tx, a, now);
        }
    });
    Ok(())
}

/// One event.
pub async fn get(db: &Db, id: i64) -> Result<EventRow, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM event WHERE id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// A line of another module's timeline of the same shape as the event's (dispute_log,
/// risk_log, ledger_log), without its key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimelineRow {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: Option<String>,
    pub data: String,
}

impl TimelineRow {
    /// As the API answers a line of a module's timeline.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"at": self.at, "actor_id": self.actor_id, "action": self.action,
            "from": self.from_state, "to": self.to_state, "note": self.note})
    }
}

/// The timeline of record `id` in a module's log table keyed by `key`, oldest first.
pub async fn timeline_of(
    db: &Db,
    table: &'static str,
    key: &'static str,
    id: i64,
) -> Result<Vec<TimelineRow>, StoreError> {
    let sql = format!(
        "SELECT id, at, actor_id, action, from_state, to_state, note, data FROM {table} WHERE {key} = $1 ORDER BY id"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_all(pool).await?))
}

/// The timeline of an event, oldest first.
pub async fn timeline(db: &Db, id: i64) -> Result<Vec<LogRow>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as("SELECT id, event_id, at, actor_id, action, from_state, to_state, note, data FROM event_log WHERE event_id = $1 ORDER BY id")
            .bind(id).fetch_all(pool).await?
    }))
}

/// Photo hashes of an event: (stage, hash), in order.
pub async fn photos(db: &Db, id: i64) -> Result<Vec<(String, String)>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as("SELECT stage, hash FROM event_photo WHERE event_id = $1 ORDER BY CASE stage WHEN 'report' THEN 0 ELSE 1 END, position").bind(id).fetch_all(pool).await?
    }))
}

/// Everyone who follows an order: its reporter and the reporters of every duplicate merged into
/// it. THE answer to "who is told of this order's progress, and which citizens may read it".
pub async fn followers(db: &Db, id: i64) -> Result<Vec<i64>, StoreError> {
    let mut users: Vec<i64> = with_pool!(db, pool => {
        sqlx::query_scalar(
            "SELECT reporter_id FROM event WHERE id = $1 AND reporter_id IS NOT NULL \
             UNION SELECT user_id FROM event_reporter WHERE event_id = $1",
        )
        .bind(id).fetch_all(pool).await?
    });
    users.sort_unstable();
    users.dedup();
    Ok(users)
}

/// The reports merged into an order, oldest first, each with its reporter's display name
/// (`None` when the reporter is unknown or has no name).
pub async fn merged_reports(
    db: &Db,
    id: i64,
) -> Result<Vec<(EventRow, Option<String>)>, StoreError> {
    let cols: Vec<String> = COLUMNS.split(", ").map(|c| format!("e.{c}")).collect();
    let sql = format!(
        "SELECT {}, u.display_name AS reporter_name FROM event e LEFT JOIN app_user u ON u.id = e.reporter_id \
         WHERE e.merged_into = $1 AND e.state = 'merged' ORDER BY e.created_at, e.id LIMIT 200",
        cols.join(", ")
    );
    #[derive(sqlx::FromRow)]
    struct Merged {
        #[sqlx(flatten)]
        row: EventRow,
        reporter_name: Option<String>,
    }
    let rows: Vec<Merged> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_all(pool).await?);
    Ok(rows.into_iter().map(|m| (m.row, m.reporter_name)).collect())
}

/// Where an inbox looks for orders that may wait on its user: each an indexed query over the
/// open orders the role can have a move on. The rules then decide which really wait.
#[derive(Debug, Clone)]
pub enum InboxScope {
    /// A dispatcher: open orders its own centre holds (by `event_centre_idx`).
    Centre(String),
    /// A department: open orders dispatched to it (by `event_department_idx`) or summoning it
    /// (by `event_summoned_idx`).
    Department(i64),
    /// A grid worker: reported and handled orders in the area (by `event_open_idx`).
    Grid(String),
    /// A citizen: their closed, unrated reports (by `event_reporter_idx`).
    Reporter(i64),
}

/// How a candidate query orders its rows, so that a capped answer keeps the most urgent ones:
/// red, yellow, then green, each by due time (none last), then oldest first.
const URGENT_FIRST: &str = "CASE light WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 ELSE 2 END, \
    CASE WHEN due_at IS NULL THEN 1 ELSE 0 END, due_at, id";

/// Candidate orders for an inbox, at most `cap`, most urgent first.
pub async fn inbox_candidates(
    db: &Db,
    scope: &InboxScope,
    cap: i64,
) -> Result<Vec<EventRow>, StoreError> {
    // The partial indexes' own predicates are repeated so that SQLite uses them.
    const OPEN: &str = "state IN ('reported', 'accepted', 'dispatched', 'in_progress', 'resolved')";
    let cap_rows = cap.max(0) as usize;
    let rows = match scope {
        InboxScope::Centre(path) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM event WHERE centre_path = $1 AND state IN ('reported', 'accepted', 'in_progress', 'resolved') \
                 ORDER BY {URGENT_FIRST} LIMIT $2"
            );
            // Not read directly: a city's or county's centre may hold thousands of open orders,
            // all sorted by urgency.
            with_pool!(db, pool => sqlx::query_as(&sql).bind(path).bind(cap).fetch_all(pool).await?)
        }
        InboxScope::Department(d) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM event WHERE id IN ( \
                   SELECT id FROM event WHERE department_id = $1 AND state IN ('dispatched', 'in_progress') \
                   UNION SELECT id FROM event WHERE state IN ('dispatched', 'in_progress') AND summoned <> '[]' AND summoned LIKE $2) \
                 ORDER BY {URGENT_FIRST} LIMIT $3"
            );
            with_pool!(db, pool => sqlx::query_as(&sql).bind(*d).bind(summoned_pattern(*d)).bind(cap).fetch_all(pool).await?)
        }
        InboxScope::Grid(path) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM event WHERE grid_code >= $1 AND grid_code < $2 AND {OPEN} \
                 AND state IN ('reported', 'resolved') ORDER BY {URGENT_FIRST} LIMIT $3"
            );
            // A grid's open orders, through the partial open-order index: read directly.
            if let Some(direct) = db.direct() {
                let binds = [
                    Bind::Text(path.clone()),
                    Bind::Text(subtree_end(path)),
                    Bind::Int(cap),
                ];
                return direct.all(&sql, &binds, cap_rows);
            }
            with_pool!(db, pool => sqlx::query_as(&sql).bind(path).bind(subtree_end(path)).bind(cap).fetch_all(pool).await?)
        }
        InboxScope::Reporter(u) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM event WHERE reporter_id = $1 AND state = 'closed' AND rating IS NULL \
                 ORDER BY {URGENT_FIRST} LIMIT $2"
            );
            with_pool!(db, pool => sqlx::query_as(&sql).bind(*u).bind(cap).fetch_all(pool).await?)
        }
    };
    Ok(rows)
}

/// Where to look for duplicates of an order.
#[derive(Debug, Clone)]
pub struct NearQuery {
    /// Path of the area searched (the dispatcher's).
    pub under: String,
    pub category_id: i64,
    /// Reported at or after (unix ms).
    pub since: i64,
    /// [west, south, east, north] around the order, WGS-84.
    pub bbox: [f64; 4],
    /// The order itself, left out.
    pub exclude: i64,
    pub limit: i64,
}

/// Orders of one category with a known position inside a box, reported since a time, that are
/// open or were closed since then (candidates for a merge), newest first. Read by the grid
/// index (`grid_code` range, then `created_at`).
pub async fn near(db: &Db, q: &NearQuery) -> Result<Vec<EventRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM event WHERE grid_code >= $1 AND grid_code < $2 AND created_at >= $3 AND category_id = $4 \
         AND position_known AND lon >= $5 AND lon <= $6 AND lat >= $7 AND lat <= $8 AND id <> $9 \
         AND (state IN ('reported', 'accepted', 'dispatched', 'in_progress', 'resolved') OR (state = 'closed' AND closed_at >= $3)) \
         ORDER BY created_at DESC LIMIT $10"
    );
    Ok(with_pool!(db, pool => {
        sqlx::query_as(&sql).bind(&q.under).bind(subtree_end(&q.under)).bind(q.since).bind(q.category_id)
            .bind(q.bbox[0]).bind(q.bbox[2]).bind(q.bbox[1]).bind(q.bbox[3]).bind(q.exclude).bind(q.limit)
            .fetch_all(pool).await?
    }))
}

/// People linked to an event as reporters of merged duplicates.
pub async fn linked_reporters(db: &Db, id: i64) -> Result<Vec<i64>, StoreError> {
    Ok(
        with_pool!(db, pool => sqlx::query_scalar("SELECT user_id FROM event_reporter WHERE event_id = $1").bind(id).fetch_all(pool).await?),
    )
}

/// Stores a photo under its hash (once) and records `user_id` as one of its uploaders.
pub async fn insert_photo(
    db: &Db,
    hash: &str,
    content_type: &str,
    bytes: &[u8],
    user_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        sqlx::query("INSERT INTO photo (hash, content_type, size, bytes, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING")
            .bind(hash).bind(content_type).bind(bytes.len() as i64).bind(bytes).bind(user_id).bind(now)
            .execute(&mut *tx).await?;
        sqlx::query("INSERT INTO photo_upload (hash, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (hash, user_id) DO NOTHING")
            .bind(hash).bind(user_id).bind(now)
            .execute(&mut *tx).await?;
    });
    Ok(())
}

/// A photo's type and bytes.
pub async fn photo(db: &Db, hash: &str) -> Result<(String, Vec<u8>), StoreError> {
    Ok(
        with_pool!(db, pool => sqlx::query_as("SELECT content_type, bytes FROM photo WHERE hash = $1").bind(hash).fetch_one(pool).await?),
    )
}

/// How many of these photo hashes `user_id` has uploaded.
pub async fn photos_uploaded_by(
    db: &Db,
    hashes: &[String],
    user_id: i64,
) -> Result<usize, StoreError> {
    let mut n = 0;
    for h in hashes {
        let found: Option<String> = with_pool!(db, pool => sqlx::query_scalar("SELECT hash FROM photo_upload WHERE hash = $1 AND user_id = $2").bind(h).bind(user_id).fetch_optional(pool).await?);
        n += usize::from(found.is_some());
    }
    Ok(n)
}

/// Most events looked at when deciding who may read a photo (a photo is attached once or a few
/// times; past this the caller must reach it through one of the first ones).
pub const MAX_PHOTO_EVENTS: i64 = 100;

/// The events a photo is attached to (at most [`MAX_PHOTO_EVENTS`], oldest first).
pub async fn photo_events(db: &Db, hash: &str) -> Result<Vec<i64>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_scalar("SELECT DISTINCT event_id FROM event_photo WHERE hash = $1 ORDER BY event_id LIMIT $2")
            .bind(hash).bind(MAX_PHOTO_EVENTS).fetch_all(pool).await?
    }))
}

/// A value bound into a dynamically built query (never spliced into the SQL text).
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Int(i64),
    Bytes(Vec<u8>),
}

/// Filters of the event list; the scope condition is added by the caller's role.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub states: Vec<String>,
    pub category_id: Option<i64>,
    pub department_id: Option<i64>,
    /// Path prefix of the grid ("4415", "441502001001").
    pub under: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub overdue: Option<bool>,
    pub text: Option<String>,
    /// Only orders held by the centre at this region path.
    pub centre: Option<String>,
    /// Only orders with an extension request waiting.
    pub pending_extension: bool,
    /// Only orders this grid worker took (网格接单).
    pub taken_by: Option<i64>,
    /// Keyset cursor: (created_at, id) of the last row seen; rows strictly older come next.
    pub before: Option<(i64, i64)>,
    pub limit: i64,
}

/// Who the list is for.
#[derive(Debug, Clone)]
pub enum ListScope {
    /// Events whose grid lies under the path.
    Under(String),
    /// Events dispatched to or summoning the department.
    Department(i64),
    /// Events the user reported (or was linked to by a merge).
    Reporter(i64),
}

pub(crate) fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Whether a list is read directly on SQLite ([`crate::sqlite_read`]), on the request's own
/// thread: a town's subtree or less, through the grid index, with no text to search. A town
/// holds a few thousand orders (≈ 700 on average in the 1 M-event province); a county's or
/// city's list may sort hundreds of thousands, and a text search or a department's list
/// (summoned by `LIKE`) may read the whole table, so those wait on sqlx's threads.
fn bounded_list(scope: &ListScope, f: &Filter) -> bool {
    const TOWN: usize = Level::Town.region_digits().unwrap();
    let deep = |p: &str| p.len() >= TOWN;
    let area = match scope {
        // Two ranges (subtrees apart: an empty list) only when SQLite may scan either.
        ListScope::Under(path) => {
            let (range, other) = subtrees(path, f.under.as_deref());
            deep(range) && other.is_none_or(deep)
        }
        ListScope::Reporter(_) => true,
        ListScope::Department(_) => false,
    };
    area && f.text.is_none()
}

/// The `grid_code` ranges of a list under `path` filtered to `under`: when one subtree holds
/// the other, only the smaller (two ranges on `grid_code` may let SQLite scan the wider one).
fn subtrees<'a>(path: &'a str, under: Option<&'a str>) -> (&'a str, Option<&'a str>) {
    match under {
        Some(u) if u.starts_with(path) => (u, None),
        Some(u) if path.starts_with(u) => (path, None),
        other => (path, other),
    }
}

/// Events matching the filter within the scope, newest first.
pub async fn list(db: &Db, scope: &ListScope, f: &Filter) -> Result<Vec<EventRow>, StoreError> {
    let mut cond: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let p = |b: Bind, binds: &mut Vec<Bind>| -> String {
        binds.push(b);
        format!("${}", binds.len())
    };
    let mut under = f.under.as_deref();
    match scope {
        ListScope::Under(path) => {
            let range;
            (range, under) = subtrees(path, under);
            let a = p(Bind::Text(range.to_owned()), &mut binds);
            let b = p(Bind::Text(subtree_end(range)), &mut binds);
            cond.push(format!("grid_code >= {a} AND grid_code < {b}"));
        }
        ListScope::Department(d) => {
            let a = p(Bind::Int(*d), &mut binds);
            let like = p(Bind::Text(summoned_pattern(*d)), &mut binds);
            cond.push(format!("(department_id = {a} OR summoned LIKE {like})"));
        }
        ListScope::Reporter(u) => {
            let a = p(Bind::Int(*u), &mut binds);
            cond.push(format!("(reporter_id = {a} OR id IN (SELECT event_id FROM event_reporter WHERE user_id = {a}))"));
        }
    }
    if !f.states.is_empty() {
        let ps: Vec<String> = f
            .states
            .iter()
            .map(|s| p(Bind::Text(s.clone()), &mut binds))
            .collect();
        cond.push(format!("state IN ({})", ps.join(", ")));
    }
    if let Some(c) = f.category_id {
        let a = p(Bind::Int(c), &mut binds);
        cond.push(format!(
            "(category_id = {a} OR category_id IN (SELECT id FROM category WHERE parent_id = {a}))"
        ));
    }
    if let Some(d) = f.department_id {
        let a = p(Bind::Int(d), &mut binds);
        cond.push(format!("department_id = {a}"));
    }
    if let Some(u) = under {
        let a = p(Bind::Text(u.to_owned()), &mut binds);
        let b = p(Bind::Text(subtree_end(u)), &mut binds);
        cond.push(format!("grid_code >= {a} AND grid_code < {b}"));
    }
    if let Some(t) = f.from_ms {
        let a = p(Bind::Int(t), &mut binds);
        cond.push(format!("created_at >= {a}"));
    }
    if let Some(t) = f.to_ms {
        let a = p(Bind::Int(t), &mut binds);
        cond.push(format!("created_at < {a}"));
    }
    match f.overdue {
        Some(true) => cond.push("light = 'red'".into()),
        Some(false) => cond.push("light <> 'red'".into()),
        None => {}
    }
    if let Some(t) = &f.text {
        let a = p(Bind::Text(format!("%{}%", escape_like(t))), &mut binds);
        cond.push(format!(
            "(description LIKE {a} ESCAPE '\\' OR address LIKE {a} ESCAPE '\\')"
        ));
    }
    if let Some(cp) = &f.centre {
        let a = p(Bind::Text(cp.clone()), &mut binds);
        cond.push(format!("centre_path = {a}"));
    }
    if f.pending_extension {
        cond.push("pending_extension IS NOT NULL".into());
    }
    if let Some(u) = f.taken_by {
        let a = p(Bind::Int(u), &mut binds);
        cond.push(format!("taken_by = {a}"));
    }
    if let Some((at, id)) = f.before {
        let a = p(Bind::Int(at), &mut binds);
        let b = p(Bind::Int(id), &mut binds);
        cond.push(format!(
            "(created_at < {a} OR (created_at = {a} AND id < {b}))"
        ));
    }
    let lim = p(Bind::Int(f.limit), &mut binds);
    let cond = cond.join(" AND ");
    const ORDER: &str = "ORDER BY created_at DESC, id DESC";
    let sql = match db.engine() {
        // SQLite sorts whole rows: the page is chosen from the keys (from the grid index alone
        // when the filters are its columns), and only the page's rows are read whole.
        Engine::Sqlite => format!(
            "SELECT {COLUMNS} FROM event WHERE id IN (SELECT id FROM event WHERE {cond} {ORDER} LIMIT {lim}) {ORDER}"
        ),
        Engine::Postgres => format!("SELECT {COLUMNS} FROM event WHERE {cond} {ORDER} LIMIT {lim}"),
    };
    if let (Some(direct), true) = (db.direct(), bounded_list(scope, f)) {
        return direct.all(&sql, &binds, f.limit.max(0) as usize);
    }
    let rows = with_pool!(db, pool => {
        bind_all!(sqlx::query_as::<_, EventRow>(&sql), &binds).fetch_all(pool).await?
    });
    Ok(rows)
}

/// Open events whose clocks need a look at `now` (the deadline sweep), oldest check first.
pub async fn due_for_check(db: &Db, now: i64, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM event WHERE next_check_at IS NOT NULL AND next_check_at <= $1 ORDER BY next_check_at LIMIT $2");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(now).bind(limit).fetch_all(pool).await?))
}

/// Summed counters of a node over days `[from_day, to_day]` for one dimension value.
pub async fn counters(
    db: &Db,
    node_path: &str,
    from_day: i64,
    to_day: i64,
    dim: &str,
    dim_id: i64,
) -> Result<Counters, StoreError> {
    fold_stats(db).await?;
    let sums: Vec<String> = COUNTER_COLUMNS
        .iter()
        .map(|c| format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT)"))
        .collect();
    let sql = format!(
        "SELECT {} FROM ({}) s",
        sums.join(", "),
        over_days(
            &COUNTER_COLUMNS.join(", "),
            "event_stat",
            "node_path = $1 AND dim = $2 AND dim_id = $3",
            from_day,
            to_day
        )
    );
    if let Some(direct) = few_days(db, from_day, to_day) {
        let binds = [
            Bind::Text(node_path.to_owned()),
            Bind::Text(dim.to_owned()),
            Bind::Int(dim_id),
        ];
        let r = direct
            .row(&sql, &binds)?
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("a sum answered no row")))?;
        return direct_counters(&r, 0);
    }
    let row = with_pool!(db, pool => {
        let r = sqlx::query(&sql).bind(node_path).bind(dim).bind(dim_id).fetch_one(pool).await?;
        read_counters(&r, 0)?
    });
    Ok(row)
}

/// The direct readers when the days `from_day..=to_day` are a few (the days since the settled
/// mark, today mostly: a few rows a value), so that the counters are read with no thread
/// hand-over per row; `None` for longer spans (read on the pool) and on PostgreSQL.
fn few_days(db: &Db, from_day: i64, to_day: i64) -> Option<&crate::sqlite_read::Readers> {
    let direct = db.direct()?;
    let (a, b) = (day_date(from_day)?, day_date(to_day)?);
    ((b - a).num_days() <= 7).then_some(direct)
}

/// [`read_counters`] of a direct row.
fn direct_counters(r: &crate::sqlite_read::Row, offset: usize) -> Result<Counters, StoreError> {
    let mut v = [0i64; 16];
    for (i, slot) in v.iter_mut().enumerate() {
        *slot = r.int(offset + i)?;
    }
    Ok(Counters::from_values(v))
}

fn read_counters<R: sqlx::Row>(r: &R, offset: usize) -> Result<Counters, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let mut v = [0i64; 16];
    for (i, slot) in v.iter_mut().enumerate() {
        *slot = r.try_get(offset + i)?;
    }
    Ok(Counters::from_values(v))
}

/// The values a node counted for a dimension (`$1` node path, `$2` dimension), as `ids`: the
/// smallest, then each next one, one probe of the key each (a loose index scan), ending in NULL.
const COUNTED_IDS: &str = "WITH RECURSIVE ids(id) AS (\
    SELECT MIN(dim_id) FROM event_stat WHERE node_path = $1 AND dim = $2 \
    UNION ALL SELECT (SELECT MIN(dim_id) FROM event_stat WHERE node_path = $1 AND dim = $2 AND dim_id > ids.id) \
    FROM ids WHERE ids.id IS NOT NULL) ";

/// Counters of a node per dimension value over days: every value with counters (every
/// category, every department), or only the values in `only`.
pub async fn counters_by(
    db: &Db,
    node_path: &str,
    from_day: i64,
    to_day: i64,
    dim: &str,
    only: Option<&[i64]>,
) -> Result<Vec<(i64, Counters)>, StoreError> {
    fold_stats(db).await?;
    if only.is_some_and(|ids| ids.is_empty()) {
        return Ok(Vec::new());
    }
    let sums: Vec<String> = COUNTER_COLUMNS
        .iter()
        .map(|c| format!("CAST(SUM({c}) AS BIGINT)"))
        .collect();
    let walk = only.is_none()
        && matches!(dim, "category" | "department")
        && Some(node_path.len()) > Level::Province.region_digits();
    // Asked-for values: one indexed range each, so the cost follows them, not every value.
    let filter = match only {
        Some(ids) => {
            let ps: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
            format!(" AND dim_id IN ({})", ps.join(", "))
        }
        // Every registered value: one indexed range of days per value (the key is node, dim,
        // value, day), not every day of every value the node ever counted. Below a province
        // the values are those the node counted (`ids`, walked from the key one value at a
        // time): a county's few departments cost a few probes, not one per department of the
        // whole register. A province counts nearly all of them, and the walk costs two probes
        // a value where the register costs one.
        None => match dim {
            "category" | "department" if walk => {
                format!(" AND dim_id IN (SELECT id FROM ids WHERE id IN (SELECT id FROM {dim}))")
            }
            "category" | "department" => format!(" AND dim_id IN (SELECT id FROM {dim})"),
            _ => String::new(),
        },
    };
    let with = if walk { COUNTED_IDS } else { "" };
    // Each span summed by value first (its rows come in value order), then the spans.
    let partial: Vec<String> = COUNTER_COLUMNS
        .iter()
        .map(|c| format!("SUM({c}) AS {c}"))
        .collect();
    let sql = format!(
        "{with}SELECT dim_id, {} FROM ({}) s GROUP BY dim_id ORDER BY dim_id",
        sums.join(", "),
        over_days_then(
            &format!("dim_id, {}", partial.join(", ")),
            "event_stat",
            &format!("node_path = $1 AND dim = $2{filter}"),
            from_day,
            to_day,
            " GROUP BY dim_id"
        )
    );
    // A few days, read directly but on a blocking thread: every registered value may be
    // probed (a province's thousand departments), which is more than a bounded read.
    if let Some(direct) = few_days(db, from_day, to_day).and(db.direct_shared()) {
        let mut binds = vec![Bind::Text(node_path.to_owned()), Bind::Text(dim.to_owned())];
        binds.extend(only.unwrap_or_default().iter().map(|id| Bind::Int(*id)));
        return tokio::task::spawn_blocking(move || {
            direct
                .rows(&sql, &binds, MAX_VALUES)?
                .iter()
                .map(|r| Ok((r.int(0)?, direct_counters(r, 1)?)))
                .collect()
        })
        .await
        .map_err(|e| StoreError::Other(e.into()))?;
    }
    let out = with_pool!(db, pool => {
        let mut q = sqlx::query(&sql).bind(node_path).bind(dim);
        for id in only.unwrap_or_default() {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = sqlx::Row::try_get(r, 0)?;
            out.push((id, read_counters(r, 1)?));
        }
        out
    });
    Ok(out)
}

/// Counters of a node per day (for trends).
pub async fn counters_by_day(
    db: &Db,
    node_path: &str,
    from_day: i64,
    to_day: i64,
    dim: &str,
    dim_id: i64,
) -> Result<Vec<(i64, Counters)>, StoreError> {
    fold_stats(db).await?;
    let cols: Vec<String> = COUNTER_COLUMNS
        .iter()
        .map(|c| format!("CAST({c} AS BIGINT)"))
        .collect();
    let sql = format!(
        "SELECT day, {} FROM event_stat WHERE node_path = $1 AND dim = $4 AND dim_id = $5 AND day >= $2 AND day <= $3 ORDER BY day",
        cols.join(", ")
    );
    let out = with_pool!(db, pool => {
        // Days only (positive keys), never the month and year rows.
        let rows = sqlx::query(&sql).bind(node_path).bind(from_day.max(1)).bind(to_day).bind(dim).bind(dim_id).fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let d: i64 = sqlx::Row::try_get(r, 0)?;
            out.push((d, read_counters(r, 1)?));
        }
        out
    });
    Ok(out)
}

/// The time-to-close histogram of a node over days, as sorted (bucket, count).
pub async fn close_histogram(
    db: &Db,
    node_path: &str,
    from_day: i64,
    to_day: i64,
) -> Result<Vec<(i64, i64)>, StoreError> {
    fold_stats(db).await?;
    let sql = format!(
        "SELECT bucket, CAST(SUM(count) AS BIGINT) FROM ({}) s GROUP BY bucket ORDER BY bucket",
        over_days(
            "bucket, count",
            "event_close_hist",
            "node_path = $1",
            from_day,
            to_day
        )
    );
    // A few days of a fixed set of buckets: a bounded read, on this thread.
    if let Some(direct) = few_days(db, from_day, to_day) {
        return direct
            .rows(&sql, &[Bind::Text(node_path.to_owned())], MAX_VALUES)?
            .iter()
            .map(|r| Ok((r.int(0)?, r.int(1)?)))
            .collect();
    }
    Ok(with_pool!(db, pool => {
        sqlx::query_as(&sql).bind(node_path).fetch_all(pool).await?
    }))
}

/// Most rows of a direct read of counters per value (categories, departments, buckets): a
/// bound the register never nears, so more is a bug, never a silent cut.
const MAX_VALUES: usize = 1_000_000;

/// Every timeline line of events under a path (for recounts in tests and audits).
pub async fn logs_under(db: &Db, path: &str) -> Result<Vec<(LogRow, EventRow)>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM event WHERE grid_code >= $1 AND grid_code < $2 ORDER BY id");
    let events: Vec<EventRow> = with_pool!(db, pool => sqlx::query_as(&sql).bind(path).bind(subtree_end(path)).fetch_all(pool).await?);
    let mut out = Vec::new();
    for e in events {
        for l in timeline(db, e.id).await? {
            out.push((l, e.clone()));
        }
    }
    Ok(out)
}

/// A random sample of closed events under a path, closed in `[from, to)`, for re-inspection.
pub async fn sample_closed(
    db: &Db,
    path: &str,
    from: i64,
    to: i64,
    n: i64,
) -> Result<Vec<EventRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM event WHERE state = 'closed' AND grid_code >= $1 AND grid_code < $2 AND closed_at >= $3 AND closed_at < $4 ORDER BY RANDOM() LIMIT $5"
    );
    Ok(
        with_pool!(db, pool => sqlx::query_as(&sql).bind(path).bind(subtree_end(path)).bind(from).bind(to).bind(n).fetch_all(pool).await?),
    )
}

/// The event a user's idempotency key already made, if any.
pub async fn idempotent(db: &Db, user_id: i64, key: &str) -> Result<Option<i64>, StoreError> {
    Ok(with_pool!(db, pool => {
        sqlx::query_scalar("SELECT event_id FROM idempotency WHERE user_id = $1 AND key = $2").bind(user_id).bind(key).fetch_optional(pool).await?
    }))
}

/// Open events under a path: (grid code, light) per event, for map colours.
/// With `department`, only the orders sent to it (or summoning it).
pub async fn open_under(
    db: &Db,
    path: &str,
    department: Option<i64>,
) -> Result<Vec<(String, String)>, StoreError> {
    let sql = format!(
        "SELECT grid_code, light FROM event WHERE grid_code >= $1 AND grid_code < $2 \
         AND state IN ('reported', 'accepted', 'dispatched', 'in_progress', 'resolved') {}",
        department_condition(department, 3)
    );
    Ok(with_pool!(db, pool => {
        let q = sqlx::query_as(&sql).bind(path).bind(subtree_end(path));
        let q = match department {
            Some(d) => q.bind(d).bind(summoned_pattern(d)),
            None => q,
        };
        q.fetch_all(pool).await?
    }))
}

/// Most rows of [`open_counts_under`]: one per node of a level, so more than a province's
/// villages would be a bug.
const MAX_OPEN_COUNT_ROWS: usize = 1_000_000;

/// Open orders under some subtrees (code prefixes, none a prefix of another) counted per node
/// of one level (the first `path_len` characters of the grid code): (path, open, of them
/// overdue). One indexed range of the partial index of open orders per subtree.
pub async fn open_counts_under(
    db: &Db,
    roots: &[&str],
    path_len: i64,
    department: Option<i64>,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    if roots.is_empty() {
        return Ok(Vec::new());
    }
    let ranges: Vec<String> = (0..roots.len())
        .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let n = 2 * roots.len() + 1;
    let sql = format!(
        "WITH r(lo, hi) AS (VALUES {}) \
         SELECT substr(e.grid_code, 1, ${n}) AS p, COUNT(*), SUM(CASE WHEN e.light = 'red' THEN 1 ELSE 0 END) \
         FROM r JOIN event e ON e.grid_code >= r.lo AND e.grid_code < r.hi \
         WHERE e.state IN ('reported', 'accepted', 'dispatched', 'in_progress', 'resolved') {} GROUP BY p",
        ranges.join(", "),
        department_condition(department, n + 1)
    );
    let ends: Vec<String> = roots.iter().map(|r| subtree_end(r)).collect();
    let len = i32::try_from(path_len).unwrap_or(i32::MAX);
    // Open orders only, through their partial index: read directly (no thread hand-over per
    // row), on a blocking thread since a province's view reads thousands of them.
    if let Some(direct) = db.direct_shared() {
        let mut binds: Vec<Bind> = Vec::with_capacity(2 * roots.len() + 3);
        for (root, end) in roots.iter().zip(&ends) {
            binds.push(Bind::Text((*root).to_owned()));
            binds.push(Bind::Text(end.clone()));
        }
        binds.push(Bind::Int(i64::from(len)));
        if let Some(d) = department {
            binds.push(Bind::Int(d));
            binds.push(Bind::Text(summoned_pattern(d)));
        }
        return tokio::task::spawn_blocking(move || {
            direct
                .rows(&sql, &binds, MAX_OPEN_COUNT_ROWS)?
                .iter()
                .map(|r| Ok((r.text(0)?, r.int(1)?, r.int(2)?)))
                .collect()
        })
        .await
        .map_err(|e| StoreError::Other(e.into()))?;
    }
    Ok(with_pool!(db, pool => {
        let mut q = sqlx::query_as(&sql);
        for (root, end) in roots.iter().zip(&ends) {
            q = q.bind(*root).bind(end.as_str());
        }
        let q = q.bind(len);
        let q = match department {
            Some(d) => q.bind(d).bind(summoned_pattern(d)),
            None => q,
        };
        q.fetch_all(pool).await?
    }))
}

/// `AND (department_id = $n OR summoned LIKE $n+1)` for a department's orders, else nothing:
/// the same rule as a department's lists ([`ListScope::Department`]).
fn department_condition(department: Option<i64>, n: usize) -> String {
    match department {
        Some(_) => format!("AND (department_id = ${n} OR summoned LIKE ${})", n + 1),
        None => String::new(),
    }
}

/// `AND category_id IN ($n, …)` for a non-empty list of categories, numbered from `n`.
fn category_condition(categories: &[i64], n: usize) -> String {
    if categories.is_empty() {
        return String::new();
    }
    let marks: Vec<String> = (0..categories.len())
        .map(|i| format!("${}", n + i))
        .collect();
    format!("AND category_id IN ({})", marks.join(", "))
}

/// The `LIKE` pattern of a department among an order's summoned ones.
fn summoned_pattern(d: i64) -> String {
    format!("%\"department_id\":{d},%")
}

/// Counters of the given nodes (by path) over days `[from_day, to_day]` for one dimension
/// value: one indexed range per node and span of days, read in statements of up to 500 nodes.
/// Nodes with no counters are left out.
pub async fn counters_of_nodes(
    db: &Db,
    paths: &[&str],
    from_day: i64,
    to_day: i64,
    dim: &str,
    dim_id: i64,
) -> Result<Vec<(String, Counters)>, StoreError> {
    fold_stats(db).await?;
    let sums: Vec<String> = COUNTER_COLUMNS
        .iter()
        .map(|c| format!("CAST(SUM({c}) AS BIGINT)"))
        .collect();
    let mut out: BTreeMap<String, Counters> = BTreeMap::new();
    for (a, b) in day_spans(from_day, to_day) {
        for chunk in paths.chunks(500) {
            let ps: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "SELECT node_path, {} FROM event_stat WHERE node_path IN ({}) AND dim = $1 AND dim_id = $2 \
                 AND day >= {a} AND day <= {b} GROUP BY node_path",
                sums.join(", "),
                ps.join(", ")
            );
            with_pool!(db, pool => {
                let mut q = sqlx::query(&sql).bind(dim).bind(dim_id);
                for p in chunk {
                    q = q.bind(*p);
                }
                for r in &q.fetch_all(pool).await? {
                    let p: String = sqlx::Row::try_get(r, 0)?;
                    out.entry(p).or_default().add(&read_counters(r, 1)?);
                }
            });
        }
    }
    Ok(out.into_iter().collect())
}

/// The orders the map shows in view: under `path`, positioned inside `bbox`, created since
/// `since` (ms), open ones only when `open_only`, of `categories` when not empty, and for a
/// department handler (`department`) only the orders sent to that department.
pub struct InView<'a> {
    pub path: &'a str,
    pub bbox: [f64; 4],
    pub open_only: bool,
    pub since: i64,
    pub categories: &'a [i64],
    pub department: Option<i64>,
}

impl InView<'_> {
    /// The `WHERE` condition: the view's values are `$1`–`$7`, the department's and the
    /// categories' come from `$first` on (the caller's own values lie between); bound in that
    /// order by `bind_view!` and `bind_view_rest!`.
    fn condition(&self, first: usize) -> String {
        let open = if self.open_only {
            "AND state IN ('reported', 'accepted', 'dispatched', 'in_progress', 'resolved')"
        } else {
            ""
        };
        let after_department = first + if self.department.is_some() { 2 } else { 0 };
        format!(
            "grid_code >= $1 AND grid_code < $2 AND lon >= $3 AND lon <= $4 AND lat >= $5 AND lat <= $6 \
             AND position_known AND created_at >= $7 {open} {} {}",
            department_condition(self.department, first),
            category_condition(self.categories, after_department),
        )
    }
}

/// Binds an [`InView`]'s `$1`–`$7`.
macro_rules! bind_view {
    ($q:expr, $v:expr) => {
        $q.bind($v.path)
            .bind(subtree_end($v.path))
            .bind($v.bbox[0])
            .bind($v.bbox[2])
            .bind($v.bbox[1])
            .bind($v.bbox[3])
            .bind($v.since)
    };
}

/// Binds an [`InView`]'s department and categories, after the caller's own values.
macro_rules! bind_view_rest {
    ($q:expr, $v:expr) => {{
        let mut q = match $v.department {
            Some(d) => $q.bind(d).bind(summoned_pattern(d)),
            None => $q,
        };
        for c in $v.categories {
            q = q.bind(*c);
        }
        q
    }};
}

/// The orders in view, newest first, at most `limit`: the map's points.
pub async fn in_bbox(db: &Db, view: &InView<'_>, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM event WHERE {} ORDER BY created_at DESC LIMIT $8",
        view.condition(9)
    );
    Ok(with_pool!(db, pool => {
        let q = bind_view!(sqlx::query_as(&sql), view).bind(limit);
        bind_view_rest!(q, view).fetch_all(pool).await?
    }))
}

/// The orders in view counted per square cell of `cell` degrees: what the map draws at zooms
/// too far out for single points. Each group sits at the mean position of its orders and
/// counts those open with a red light. At most `limit` groups, the fullest first.
pub async fn groups_in_bbox(
    db: &Db,
    view: &InView<'_>,
    cell: f64,
    limit: i64,
) -> Result<Vec<PointGroup>, StoreError> {
    // The cell a point is in, counted from the south-west corner of the world, so that every
    // index is non-negative (SQLite's CAST truncates towards zero, PostgreSQL's rounds).
    let index = |column: &str, offset: &str| match db {
        Db::Postgres(_) => format!("CAST(FLOOR(({column} + {offset}) / $9) AS BIGINT)"),
        Db::Sqlite { .. } => format!("CAST(({column} + {offset}) / $9 AS INTEGER)"),
    };
    let sql = format!(
        "SELECT COUNT(*) AS count, \
         SUM(CASE WHEN light = 'red' AND state IN ('reported', 'accepted', 'dispatched', 'in_progress', 'resolved') THEN 1 ELSE 0 END) AS red, \
         AVG(lon) AS lon, AVG(lat) AS lat FROM event WHERE {} \
         GROUP BY {}, {} ORDER BY count DESC, lon, lat LIMIT $8",
        view.condition(10),
        index("lon", "180.0"),
        index("lat", "90.0"),
    );
    Ok(with_pool!(db, pool => {
        let q = bind_view!(sqlx::query_as(&sql), view).bind(limit).bind(cell);
        bind_view_rest!(q, view).fetch_all(pool).await?
    }))
}

/// A cell's open orders on the map: how many, how many red, and where (their mean position).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PointGroup {
    pub count: i64,
    pub red: i64,
    pub lon: f64,
    pub lat: f64,
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_list_under_a_subtree_of_its_scope_reads_one_range() {
        use super::subtrees;
        let cases = [
            // (scope, under, range, second range)
            ("44", None, "44", None),
            ("44", Some("441502001"), "441502001", None),
            ("441502001", Some("44"), "441502001", None),
            ("441502001", Some("441502001"), "441502001", None),
            ("441502001", Some("441581"), "441502001", Some("441581")),
        ];
        for (path, under, range, other) in cases {
            assert_eq!(subtrees(path, under), (range, other), "{path} {under:?}");
        }
    }
    use super::{coarse_keys, day_spans};
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn day_spans_read_whole_months_and_years_from_their_rows() {
        type Case = ((i64, i64), &'static [(i64, i64)]);
        let cases: &[Case] = &[
            ((20261201, 20261201), &[(20261201, 20261201)]),
            ((20261201, 20261231), &[(-202612, -202612)]),
            ((20261202, 20261231), &[(20261202, 20261231)]),
            // The dashboard's year: days, eleven months, days.
            (
                (20251205, 20261204),
                &[
                    (20251205, 20251231),
                    (-202611, -202601),
                    (20261201, 20261204),
                ],
            ),
            ((20250101, 20261231), &[(-2026, -2025)]),
            (
                (20240215, 20260310),
                &[
                    (20240215, 20240229),
                    (-202412, -202403),
                    (-2025, -2025),
                    (-202602, -202601),
                    (20260301, 20260310),
                ],
            ),
            // An empty range stays empty; what is not a date is read by days.
            ((20261205, 20261201), &[(20261205, 20261201)]),
            ((0, 20261201), &[(1, 20261201)]),
            ((-209899, -198769), &[(1, -198769)]),
            ((-10101, 20261201), &[(1, 20261201)]),
            ((20261301, 20261302), &[(20261301, 20261302)]),
        ];
        for ((from, to), want) in cases {
            assert_eq!(day_spans(*from, *to), *want, "{from}..{to}");
        }
    }

    #[test]
    fn every_day_of_a_range_is_read_once_and_no_other() {
        let key = |d: NaiveDate| {
            i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
        };
        let start = NaiveDate::from_ymd_opt(2023, 11, 20).unwrap();
        for (a, b) in [
            (0, 0),
            (0, 11),
            (11, 42),
            (12, 400),
            (3, 800),
            (41, 41),
            (42, 72),
            (100, 500),
        ] {
            let from = start + chrono::Days::new(a);
            let to = start + chrono::Days::new(b);
            let spans = day_spans(key(from), key(to));
            assert!(spans.len() <= 5, "{spans:?}");
            let mut d = start - chrono::Days::new(40);
            while d <= start + chrono::Days::new(900) {
                let k = key(d);
                let hits = std::iter::once(k)
                    .chain(coarse_keys(k))
                    .filter(|k| spans.iter().any(|(lo, hi)| lo <= k && k <= hi))
                    .count();
                let inside = from <= d && d <= to;
                assert_eq!(hits, usize::from(inside), "{d} in {from}..{to}: {spans:?}");
                d = d.succ_opt().unwrap();
            }
        }
    }
}
