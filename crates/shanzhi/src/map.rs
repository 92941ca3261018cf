//! The people's map's shapes, kept in memory: each level's outlined nodes with their boxes (to
//! find what is in view without reading an outline), built at start and when the tree moves;
//! each outline simplified for a zoom as GeoJSON text, made the first time it is asked for;
//! and whole answers, as JSON text and gzip, keyed on everything they are written from (the
//! shapes shown, their figures). All of that is dropped when the tree's version moves (a node
//! written with a shape, a shape or a name changed), which every request for shapes checks.
//!
//! Besides, while the database's data version stays (nothing committed; SQLite only), what was
//! counted at it: the figures of the shapes in view, and the open orders grouped in cells (the
//! events' answers far out, which depend on no shape). A newer data version drops them.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context;
use bytes::Bytes;
use geo::{MultiPolygon, Polygon, Simplify};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde_json::json;
use shanzhi_domain::grid::polygon::geojson_rounded;
use shanzhi_domain::grid::Shape;
use shanzhi_store::node::OutlineEntry;
use shanzhi_store::Db;

/// At most this much outline text is kept; past it the outlines start again from empty (the
/// level indexes stay). The province's grids at one zoom take ≈ 30–60 MB.
const OUTLINE_BUDGET: usize = 160 << 20;

/// At most this much answer text (JSON and gzip) is kept; past it the answers start again
/// from empty. A whole city's villages are ≈ 1.4 MB of JSON and 0.3 MB of gzip.
const ANSWER_BUDGET: usize = 64 << 20;

/// Deepest zoom that changes an outline: finer than this, a pixel is below the data's precision.
const MAX_ZOOM: u8 = 22;

/// A subtree with more nodes of the level than this finds those in view through the boxes'
/// R-tree; a smaller one is read straight through (a few thousand box tests).
const SCAN_AT_MOST: usize = 4096;

/// One level's outlined nodes in path order, and an R-tree of their boxes (each box's
/// position in that order).
pub struct LevelIndex {
    entries: Vec<OutlineEntry>,
    boxes: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

impl LevelIndex {
    fn new(entries: Vec<OutlineEntry>) -> LevelIndex {
        // A box that is not four finite numbers meets no view (the scan's test says so too).
        let boxes = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.bbox.iter().all(|c| c.is_finite()))
            .map(|(i, e)| {
                let b = e.bbox;
                GeomWithData::new(Rectangle::from_corners([b[0], b[1]], [b[2], b[3]]), i)
            })
            .collect();
        LevelIndex {
            entries,
            boxes: RTree::bulk_load(boxes),
        }
    }

    /// The positions of the nodes under `root_path` whose boxes meet `bbox`, in path order.
    fn meeting(&self, root_path: &str, bbox: [f64; 4]) -> Vec<usize> {
        let e = &self.entries;
        let start = e.partition_point(|n| n.path.as_str() < root_path);
        let end = start + e[start..].partition_point(|n| n.path.starts_with(root_path));
        let meets =
            |b: [f64; 4]| b[2] >= bbox[0] && b[0] <= bbox[2] && b[3] >= bbox[1] && b[1] <= bbox[3];
        if end - start <= SCAN_AT_MOST {
            return (start..end).filter(|&i| meets(e[i].bbox)).collect();
        }
        let view = AABB::from_corners([bbox[0], bbox[1]], [bbox[2], bbox[3]]);
        let mut hits: Vec<usize> = self
            .boxes
            .locate_in_envelope_intersecting(&view)
            .map(|g| g.data)
            .filter(|&i| (start..end).contains(&i) && meets(e[i].bbox))
            .collect();
        hits.sort_unstable();
        hits
    }
}

impl std::ops::Deref for LevelIndex {
    type Target = [OutlineEntry];

    fn deref(&self) -> &[OutlineEntry] {
        &self.entries
    }
}

/// The shapes in view: the level's index and, per shown node, its position in it and its
/// simplified outline.
pub struct InView {
    /// The tree's version the shapes were read at, and the zoom their outlines are for.
    pub version: i64,
    pub zoom: u8,
    pub index: Arc<LevelIndex>,
    pub shown: Vec<(usize, Arc<str>)>,
    /// More nodes were in view than the limit allowed.
    pub truncated: bool,
}

#[derive(Default)]
struct Inner {
    version: i64,
    levels: HashMap<i64, Arc<LevelIndex>>,
    /// zoom → code → outline.
    outlines: HashMap<u8, HashMap<String, Arc<str>>>,
    bytes: usize,
    /// Each answer with the bytes it was counted at.
    answers: HashMap<AnswerKey, (Arc<Answer>, usize)>,
    answer_bytes: usize,
    /// What was counted at the data version `data_at` (older counts are of no use): the
    /// figures of shapes, and the events' grouped answers.
    figures: HashMap<FiguresKey, Arc<Vec<Option<f64>>>>,
    groups: HashMap<GroupsKey, Arc<Answer>>,
    data_at: i64,
    data_bytes: usize,
    /// [`MapCache::warm`] built everything for this tree version.
    warmed: Option<i64>,
}

/// At most about this much is kept of what was counted at one data version (figures with their
/// keys, grouped answers); past it, start again. A city's villages are ≈ 6,000 shapes,
/// ≈ 150 KB of figures; the events grouped over a province at zoom 8, ≈ 100 KB.
const DATA_BUDGET: usize = 16 << 20;

/// What a map answer's figures are counted from, all of it: while the database's data
/// version ([`Db::data_version`]) stays, the same key counts the same figures.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FiguresKey {
    /// The data version read before counting.
    pub data: i64,
    pub version: i64,
    pub path_len: i64,
    pub figure: String,
    /// A department handler's figures are their department's.
    pub department: Option<i64>,
    /// The days counted (first, last), for the figures over a window; (0, 0) for a stock.
    pub days: (i64, i64),
    /// The shapes shown, as positions in the level's index, in order.
    pub shown: Vec<usize>,
}

/// What an answer of the map's events grouped in cells is counted from, all of it: while the
/// database's data version stays, the same key has the same text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupsKey {
    /// The data version read before counting.
    pub data: i64,
    /// The user's area (its path).
    pub root: String,
    /// The box (made of whole cells) and the cell's side, as the bits of their `f64`s.
    pub bbox: [u64; 4],
    pub cell: u64,
    pub open_only: bool,
    /// The first moment counted (ms).
    pub since: i64,
    pub categories: Vec<i64>,
    /// A department handler's events are their department's.
    pub department: Option<i64>,
}

/// What a map answer is written from, all of it: the same key, the same text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnswerKey {
    pub version: i64,
    /// The level (its nodes' path length) and the zoom of the outlines.
    pub path_len: i64,
    pub zoom: u8,
    pub figure: String,
    pub truncated: bool,
    /// The shapes shown, as positions in the level's index, in order.
    pub shown: Vec<usize>,
    /// Each shown shape's figure, as the bits of its `f64`.
    pub values: Vec<Option<u64>>,
}

impl InView {
    /// The answer's text (a GeoJSON feature collection, each shape with its figure from
    /// `values`, in order), written around the outlines kept ready as GeoJSON text.
    pub fn answer_json(&self, figure: &str, values: &[Option<f64>]) -> String {
        let mut body = String::with_capacity(
            64 + self.shown.iter().map(|(_, o)| o.len() + 160).sum::<usize>(),
        );
        body.push_str(r#"{"type":"FeatureCollection","figure":"#);
        body.push_str(&json!(figure).to_string());
        body.push_str(r#","truncated":"#);
        body.push_str(if self.truncated { "true" } else { "false" });
        body.push_str(r#","features":["#);
        for (k, ((i, outline), v)) in self.shown.iter().zip(values).enumerate() {
            let n = &self.index[*i];
            if k > 0 {
                body.push(',');
            }
            body.push_str(r#"{"type":"Feature","properties":"#);
            body.push_str(
                &json!({"code": n.code, "name": n.name, "level": n.level, "value": v}).to_string(),
            );
            body.push_str(r#","geometry":"#);
            body.push_str(outline);
            body.push('}');
        }
        body.push_str("]}");
        body
    }
}

/// A whole answer: its JSON text, and the text gzipped (made the first time a client asks).
pub struct Answer {
    json: Bytes,
    gzip: OnceLock<Bytes>,
}

impl Answer {
    pub fn new(json: String) -> Answer {
        Answer {
            json: Bytes::from(json),
            gzip: OnceLock::new(),
        }
    }

    pub fn json(&self) -> Bytes {
        self.json.clone()
    }

    /// The text gzipped at the fastest level, as the server's compression layer would.
    pub fn gzip(&self) -> Bytes {
        self.gzip
            .get_or_init(|| {
                let mut z = flate2::write::GzEncoder::new(
                    Vec::with_capacity(self.json.len() / 4),
                    flate2::Compression::fast(),
                );
                z.write_all(&self.json).expect("writing to a Vec");
                Bytes::from(z.finish().expect("writing to a Vec"))
            })
            .clone()
    }

    fn bytes(&self) -> usize {
        self.json.len() + self.gzip.get().map_or(0, |z| z.len())
    }
}

impl Inner {
    /// Makes room for `bytes` counted at the data version `data`: whether to keep them. A
    /// newer data version forgets what was counted at the older one; counts of an older one
    /// than kept are not kept; past the budget, everything counted is forgotten.
    fn room_at(&mut self, data: i64, bytes: usize) -> bool {
        if data < self.data_at || bytes > DATA_BUDGET {
            return false;
        }
        if data > self.data_at || self.data_bytes + bytes > DATA_BUDGET {
            self.figures.clear();
            self.groups.clear();
            self.data_bytes = 0;
            self.data_at = data;
        }
        true
    }

    /// Forgets everything built from an older tree. Never goes back: a request that read the
    /// version before a write leaves the newer cache alone (and keeps nothing of its own).
    fn at(&mut self, version: i64) {
        if version > self.version {
            *self = Inner {
                version,
                ..Inner::default()
            };
        }
    }
}

/// See the module documentation.
#[derive(Default)]
pub struct MapCache {
    inner: Mutex<Inner>,
    reused: AtomicU64,
    figures_reused: AtomicU64,
    groups_reused: AtomicU64,
    /// A [`MapCache::warm`] is running.
    warming: AtomicBool,
    /// A [`MapCache::warm`] was asked for since the running one last read the tree's version.
    warm_again: AtomicBool,
}

impl MapCache {
    pub fn new() -> MapCache {
        MapCache::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The answer kept for `key`, if any (a key of an older tree version finds nothing).
    pub fn answer(&self, key: &AnswerKey) -> Option<Arc<Answer>> {
        let g = self.lock();
        if g.version != key.version {
            return None;
        }
        let a = g.answers.get(key).map(|(a, _)| a.clone());
        if a.is_some() {
            self.reused.fetch_add(1, Ordering::Relaxed);
        }
        a
    }

    /// The figures kept for `key`, if any: only at the newest data version seen.
    pub fn figures(&self, key: &FiguresKey) -> Option<Arc<Vec<Option<f64>>>> {
        let g = self.lock();
        if g.version != key.version || g.data_at != key.data {
            return None;
        }
        let f = g.figures.get(key).cloned();
        if f.is_some() {
            self.figures_reused.fetch_add(1, Ordering::Relaxed);
        }
        f
    }

    /// The levels whose indexes are kept (their path lengths, sorted) and the tree version
    /// they are of.
    pub fn levels_kept(&self) -> (i64, Vec<i64>) {
        let g = self.lock();
        let mut lens: Vec<i64> = g.levels.keys().copied().collect();
        lens.sort_unstable();
        (g.version, lens)
    }

    /// How many outlines are kept simplified for `zoom` (of the tree version kept).
    pub fn outlines_kept(&self, zoom: u8) -> usize {
        self.lock().outlines.get(&zoom).map_or(0, |m| m.len())
    }

    /// How many times figures were served from the kept ones since the start.
    pub fn figures_reused(&self) -> u64 {
        self.figures_reused.load(Ordering::Relaxed)
    }

    /// Keeps figures counted after reading the data version `key.data` (see `Inner::room_at`),
    /// not if the tree has moved on since `key.version`.
    pub fn keep_figures(&self, key: FiguresKey, figures: Arc<Vec<Option<f64>>>) {
        let mut g = self.lock();
        g.at(key.version);
        if g.version != key.version {
            return;
        }
        let bytes = 128
            + key.figure.len()
            + key.shown.len() * std::mem::size_of::<usize>()
            + figures.len() * std::mem::size_of::<Option<f64>>();
        if g.room_at(key.data, bytes) && g.figures.insert(key, figures).is_none() {
            g.data_bytes += bytes;
        }
    }

    /// The events' grouped answer kept for `key`, if any: only at the newest data version seen.
    pub fn groups(&self, key: &GroupsKey) -> Option<Arc<Answer>> {
        let g = self.lock();
        if g.data_at != key.data {
            return None;
        }
        let a = g.groups.get(key).cloned();
        if a.is_some() {
            self.groups_reused.fetch_add(1, Ordering::Relaxed);
        }
        a
    }

    /// How many grouped answers of events were served from the kept ones since the start.
    pub fn groups_reused(&self) -> u64 {
        self.groups_reused.load(Ordering::Relaxed)
    }

    /// Keeps an answer of events grouped in cells counted after reading the data version
    /// `key.data`, as [`MapCache::keep_figures`] keeps figures. Its size is counted with its
    /// gzip if made (the caller makes it first when its client asked); a gzip made later is not
    /// counted, so what is kept stays under twice the budget.
    pub fn keep_groups(&self, key: GroupsKey, answer: Arc<Answer>) {
        let mut g = self.lock();
        let bytes = 128 + key.categories.len() * 8 + answer.bytes();
        if g.room_at(key.data, bytes) && g.groups.insert(key, answer).is_none() {
            g.data_bytes += bytes;
        }
    }

    /// How many answers were served from the kept ones since the start.
    pub fn reused(&self) -> u64 {
        self.reused.load(Ordering::Relaxed)
    }

    /// Keeps `answer` under `key` (not if the tree has moved on since its version, nor when
    /// one is kept there already: two requests that missed at once made the same text). Its
    /// size is counted with its gzip if made (the caller makes it first when its client asked);
    /// a gzip made later is not counted, so what is kept stays under twice the budget.
    pub fn keep(&self, key: AnswerKey, answer: Arc<Answer>) {
        let mut g = self.lock();
        g.at(key.version);
        if g.version != key.version {
            return;
        }
        let bytes = answer.bytes();
        if bytes > ANSWER_BUDGET || g.answers.contains_key(&key) {
            return;
        }
        if g.answer_bytes + bytes > ANSWER_BUDGET {
            g.answers.clear();
            g.answer_bytes = 0;
        }
        g.answers.insert(key, (answer, bytes));
        g.answer_bytes += bytes;
    }

    /// Builds the index of each level in `path_lens` that is not built yet for the tree as it
    /// is now, then each outline of the levels in `outlines` (path length, first and last
    /// zoom) simplified for those zooms: at start and after the tree changed, so that no one
    /// waits for the first index of a level (the province's grids: ≈ 120,000 boxes read and
    /// put in an R-tree) nor for a far-out view's first outlines. Costs a read of the tree's
    /// version when all were built for it. One at a time: a call while another runs returns
    /// at once, and the running one goes round again (the tree may have moved after it read
    /// the version).
    pub async fn warm(
        &self,
        db: &Db,
        path_lens: &[i64],
        outlines: &[(i64, u8, u8)],
    ) -> anyhow::Result<()> {
        /// Lets the next call run however this one ends.
        struct Done<'a>(&'a AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::SeqCst);
            }
        }
        // Asked before trying: whoever runs sees it, this call's runner or the one running.
        self.warm_again.store(true, Ordering::SeqCst);
        loop {
            if self.warming.swap(true, Ordering::SeqCst) {
                return Ok(());
            }
            let done = Done(&self.warming);
            while self.warm_again.swap(false, Ordering::SeqCst) {
                let version = db.tree_version().await?;
                if self.lock().warmed == Some(version) {
                    continue;
                }
                let started = std::time::Instant::now();
                for &len in path_lens {
                    self.level(db, version, len).await?;
                }
                for &(len, first, last) in outlines {
                    for zoom in first..=last {
                        self.in_view(db, "", len, [-180.0, -90.0, 180.0, 90.0], zoom, usize::MAX)
                            .await?;
                    }
                }
                {
                    let mut g = self.lock();
                    if g.version == version {
                        g.warmed = Some(version);
                    }
                }
                tracing::info!(
                    tree_version = version,
                    ms = started.elapsed().as_millis() as u64,
                    outline_bytes = self.lock().bytes,
                    "the map's levels and far-out outlines are ready"
                );
            }
            drop(done);
            // Asked between the last round and letting go: run it, unless another call took it.
            if !self.warm_again.load(Ordering::SeqCst) {
                return Ok(());
            }
        }
    }

    /// The index of one level at the tree's `version` (read by the caller before this): the
    /// one kept, or read and kept. An index is never older than the version it is kept under.
    async fn level(&self, db: &Db, version: i64, path_len: i64) -> anyhow::Result<Arc<LevelIndex>> {
        let cached = {
            let mut g = self.lock();
            g.at(version);
            g.levels
                .get(&path_len)
                .filter(|_| g.version == version)
                .cloned()
        };
        if let Some(i) = cached {
            return Ok(i);
        }
        let entries = shanzhi_store::node::outline_index(db, path_len).await?;
        let i = Arc::new(tokio::task::spawn_blocking(move || LevelIndex::new(entries)).await?);
        let mut g = self.lock();
        if g.version == version {
            g.levels.insert(path_len, i.clone());
        }
        Ok(i)
    }

    /// The nodes of one level (paths of `path_len` characters) under `root_path` whose boxes meet
    /// `bbox`, in path order, at most `limit`, with their outlines simplified for `zoom`.
    pub async fn in_view(
        &self,
        db: &Db,
        root_path: &str,
        path_len: i64,
        bbox: [f64; 4],
        zoom: u8,
        limit: usize,
    ) -> anyhow::Result<InView> {
        let zoom = zoom.min(MAX_ZOOM);
        let version = db.tree_version().await?;
        let index = self.level(db, version, path_len).await?;
        let mut hits = index.meeting(root_path, bbox);
        let truncated = hits.len() > limit;
        hits.truncate(limit);
        // The outlines made before, and the codes still to make.
        let mut shown: Vec<(usize, Option<Arc<str>>)> = Vec::with_capacity(hits.len());
        let mut missing: Vec<&str> = Vec::new();
        {
            let g = self.lock();
            // Outlines kept for another version than the one read are not used.
            let made = g.outlines.get(&zoom).filter(|_| g.version == version);
            for &i in &hits {
                let o = made.and_then(|m| m.get(&index[i].code)).cloned();
                if o.is_none() {
                    missing.push(&index[i].code);
                }
                shown.push((i, o));
            }
        }
        if !missing.is_empty() {
            let rows = shanzhi_store::node::outlines(db, &missing).await?;
            let made =
                tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<(String, Arc<str>)>> {
                    rows.into_iter()
                        .map(|(code, text)| {
                            let v: serde_json::Value = serde_json::from_str(&text)
                                .with_context(|| format!("node {code}"))?;
                            let shape = Shape::from_geojson(&v)
                                .map_err(|e| anyhow::anyhow!("node {code}: {e}"))?;
                            let outline: Arc<str> = simplified(&shape, zoom).to_string().into();
                            Ok((code, outline))
                        })
                        .collect()
                })
                .await??;
            let made: HashMap<String, Arc<str>> = made.into_iter().collect();
            for (i, o) in shown.iter_mut() {
                if o.is_none() {
                    *o = made.get(&index[*i].code).cloned();
                }
            }
            let mut g = self.lock();
            if g.version == version {
                let bytes: usize = made.values().map(|o| o.len()).sum();
                if g.bytes + bytes > OUTLINE_BUDGET {
                    g.outlines.clear();
                    g.bytes = 0;
                }
                g.bytes += bytes;
                g.outlines.entry(zoom).or_default().extend(made);
            }
        }
        Ok(InView {
            version,
            zoom,
            index,
            // A node whose outline went between the two reads is left out.
            shown: shown
                .into_iter()
                .filter_map(|(i, o)| o.map(|o| (i, o)))
                .collect(),
            truncated,
        })
    }
}

/// `shape` simplified to a pixel at `zoom`, its coordinates rounded to a tenth of one.
pub fn simplified(shape: &Shape, zoom: u8) -> serde_json::Value {
    // One screen pixel at this zoom, in degrees: finer detail cannot be seen.
    let tolerance = 360.0 / (256.0 * 2f64.powi(i32::from(zoom.min(MAX_ZOOM))));
    // Digits down to a tenth of a pixel: more cannot be drawn.
    let decimals = (-(tolerance / 10.0).log10()).ceil().clamp(3.0, 7.0) as u8;
    // Each part simplified on its own; a part that would collapse keeps its full outline. No
    // validity check: the outline is for drawing, and checking a large one costs O(n²).
    let parts: Vec<Polygon<f64>> = shape
        .geometry()
        .0
        .iter()
        .map(|p| {
            let s = p.simplify(tolerance);
            if s.exterior().0.len() >= 4 {
                s
            } else {
                p.clone()
            }
        })
        .collect();
    geojson_rounded(&MultiPolygon(parts), decimals)
}

#[cfg(test)]
mod tests {
    use shanzhi_store::node::OutlineEntry;

    use std::sync::Arc;

    use super::{Answer, AnswerKey, LevelIndex, MapCache, ANSWER_BUDGET, SCAN_AT_MOST};

    /// Grids on a 100 × 100 lattice of 0.01° cells, ten towns of ten rows each; and the same
    /// lattice again under another city ("4402"), on the same ground.
    fn lattice() -> LevelIndex {
        let mut entries = Vec::new();
        for city in ["44010", "44020"] {
            for row in 0..100 {
                for col in 0..100 {
                    let path = format!("{city}{:02}{:02}{:03}", row / 10, row % 10, col);
                    let (lon, lat) = (113.0 + col as f64 * 0.01, 23.0 + row as f64 * 0.01);
                    entries.push(OutlineEntry {
                        code: path.clone(),
                        path,
                        name: String::new(),
                        level: "grid".into(),
                        bbox: [lon, lat, lon + 0.01, lat + 0.01],
                    });
                }
            }
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        LevelIndex::new(entries)
    }

    #[test]
    fn the_rtree_finds_what_a_scan_finds_in_path_order() {
        let index = lattice();
        assert!(index.len() > SCAN_AT_MOST);
        let scan = |root: &str, b: [f64; 4]| -> Vec<usize> {
            (0..index.len())
                .filter(|&i| {
                    let e = index[i].bbox;
                    index[i].path.starts_with(root)
                        && e[2] >= b[0]
                        && e[0] <= b[2]
                        && e[3] >= b[1]
                        && e[1] <= b[3]
                })
                .collect()
        };
        let cases: [(&str, [f64; 4], usize); 7] = [
            // The whole root (R-tree), a box inside, a box touching one cell's corner.
            ("4401", [113.0, 23.0, 114.0, 24.0], 10_000),
            ("4401", [113.105, 23.105, 113.125, 23.115], 6),
            ("4401", [112.0, 22.0, 113.0, 23.0], 1),
            // A root of ten rows (a scan), the same box.
            ("4401003", [113.105, 23.105, 113.125, 23.115], 0),
            ("4401001", [113.105, 23.105, 113.125, 23.115], 6),
            // The other city on the same ground: its own grids only.
            ("4402", [113.0, 23.0, 114.0, 24.0], 10_000),
            // Nothing under the root.
            ("4403", [113.0, 23.0, 114.0, 24.0], 0),
        ];
        for (root, b, n) in cases {
            let got = index.meeting(root, b);
            assert_eq!(got, scan(root, b), "{root} {b:?}");
            assert_eq!(got.len(), n, "{root} {b:?}");
        }
        assert!(index.meeting("4401", [120.0, 30.0, 121.0, 31.0]).is_empty());
        assert!(index
            .meeting("4401", [113.2, 23.2, 113.3, 23.3])
            .iter()
            .all(|&i| index[i].path.starts_with("4401")));
    }

    fn key(version: i64, values: &[f64]) -> AnswerKey {
        AnswerKey {
            version,
            path_len: 15,
            zoom: 14,
            figure: "open".into(),
            truncated: false,
            shown: (0..values.len()).collect(),
            values: values.iter().map(|v| Some(v.to_bits())).collect(),
        }
    }

    #[test]
    fn a_kept_answer_is_found_by_its_whole_key_at_its_tree_version() {
        let cache = MapCache::new();
        let a = Arc::new(Answer::new("{\"a\":1}".into()));
        cache.keep(key(1, &[1.0, 0.0]), a.clone());
        let found = cache.answer(&key(1, &[1.0, 0.0])).unwrap();
        assert!(Arc::ptr_eq(&found, &a));
        assert_eq!(cache.reused(), 1);
        // Another figure: not found.
        assert!(cache.answer(&key(1, &[2.0, 0.0])).is_none());
        // Two requests that missed at once: the first kept stays.
        cache.keep(key(1, &[1.0, 0.0]), Arc::new(Answer::new("{}".into())));
        assert!(Arc::ptr_eq(
            &cache.answer(&key(1, &[1.0, 0.0])).unwrap(),
            &a
        ));
        // A newer tree drops it; a late keep of the older tree keeps nothing.
        assert!(cache.answer(&key(2, &[1.0, 0.0])).is_none());
        cache.keep(key(2, &[1.0, 0.0]), Arc::new(Answer::new("{}".into())));
        assert!(cache.answer(&key(1, &[1.0, 0.0])).is_none());
        cache.keep(key(1, &[3.0]), Arc::new(Answer::new("{}".into())));
        assert!(cache.answer(&key(1, &[3.0])).is_none());
        assert_eq!(cache.reused(), 2);
    }

    #[test]
    fn kept_answers_start_again_past_the_budget() {
        let cache = MapCache::new();
        let half = || Arc::new(Answer::new("x".repeat(ANSWER_BUDGET / 2)));
        cache.keep(key(1, &[1.0]), half());
        cache.keep(key(1, &[2.0]), half());
        assert!(cache.answer(&key(1, &[1.0])).is_some());
        assert!(cache.answer(&key(1, &[2.0])).is_some());
        cache.keep(key(1, &[3.0]), half());
        assert!(cache.answer(&key(1, &[1.0])).is_none());
        assert!(cache.answer(&key(1, &[2.0])).is_none());
        assert!(cache.answer(&key(1, &[3.0])).is_some());
        // One answer larger than the budget is not kept at all.
        cache.keep(
            key(1, &[4.0]),
            Arc::new(Answer::new("x".repeat(ANSWER_BUDGET + 1))),
        );
        assert!(cache.answer(&key(1, &[4.0])).is_none());
        assert!(cache.answer(&key(1, &[3.0])).is_some());
    }

    #[test]
    fn an_answer_gzips_to_its_text() {
        let a = Answer::new("{\"features\":[]}".repeat(100));
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&a.gzip()[..]), &mut text)
            .unwrap();
        assert_eq!(text.as_bytes(), &a.json()[..]);
        assert!(a.gzip().len() < a.json().len());
    }
}
