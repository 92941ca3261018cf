//! The people's map's shapes, kept in memory: each level's outlined nodes with their boxes (to
//! find what is in view without reading an outline), and each outline simplified for a zoom as
//! GeoJSON text, made the first time it is asked for. Everything is dropped when the tree's
//! version moves (any node written: shapes and names), which every request checks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use geo::{MultiPolygon, Polygon, Simplify};
use shanzhi_domain::grid::polygon::geojson_rounded;
use shanzhi_domain::grid::Shape;
use shanzhi_store::node::OutlineEntry;
use shanzhi_store::Db;

/// At most this much outline text is kept; past it the outlines start again from empty (the
/// level indexes stay). The province's grids at one zoom take ≈ 30–60 MB.
const OUTLINE_BUDGET: usize = 160 << 20;

/// Deepest zoom that changes an outline: finer than this, a pixel is below the data's precision.
const MAX_ZOOM: u8 = 22;

/// The shapes in view: the level's index and, per shown node, its position in it and its
/// simplified outline.
pub struct InView {
    pub index: Arc<Vec<OutlineEntry>>,
    pub shown: Vec<(usize, Arc<str>)>,
    /// More nodes were in view than the limit allowed.
    pub truncated: bool,
}

#[derive(Default)]
struct Inner {
    version: i64,
    levels: HashMap<i64, Arc<Vec<OutlineEntry>>>,
    /// zoom → code → outline.
    outlines: HashMap<u8, HashMap<String, Arc<str>>>,
    bytes: usize,
}

impl Inner {
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
}

impl MapCache {
    pub fn new() -> MapCache {
        MapCache::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
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
        // Read after the version: an index is never older than the version it is kept under.
        let version = db.tree_version().await?;
        let cached = {
            let mut g = self.lock();
            g.at(version);
            g.levels
                .get(&path_len)
                .filter(|_| g.version == version)
                .cloned()
        };
        let index = match cached {
            Some(i) => i,
            None => {
                let i = Arc::new(shanzhi_store::node::outline_index(db, path_len).await?);
                let mut g = self.lock();
                if g.version == version {
                    g.levels.insert(path_len, i.clone());
                }
                i
            }
        };
        let start = index.partition_point(|e| e.path.as_str() < root_path);
        let mut hits: Vec<usize> = Vec::new();
        let mut truncated = false;
        for (i, e) in index[start..].iter().enumerate() {
            if !e.path.starts_with(root_path) {
                break;
            }
            let b = e.bbox;
            if b[2] >= bbox[0] && b[0] <= bbox[2] && b[3] >= bbox[1] && b[1] <= bbox[3] {
                if hits.len() == limit {
                    truncated = true;
                    break;
                }
                hits.push(start + i);
            }
        }
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
