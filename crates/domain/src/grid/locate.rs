//! Point location: which deepest grid contains a point.
//!
//! [`Locator`] answers from a uniform raster of cells laid over all grids: each cell lists, in
//! answer order, the grids that may contain a point of it, and most cells lie wholly inside one
//! grid and answer without any polygon test. The polygon test itself runs over flat coordinate
//! arrays and reproduces `geo::Intersects` exactly (same winding rule, same robust orientation
//! predicate), so boundary points count as inside just as they do for [`ReferenceLocator`], the
//! straightforward R-tree index kept as the oracle for tests and benchmarks.

mod packed;
mod raster;

use geo::{Coord, Intersects, MultiPolygon, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::polygon::{LonLat, Shape};
use packed::PackedGrids;
use raster::CellIndex;

/// Cells per grid the raster aims for: about 8×8 cells per grid, so most cells of a grid lie
/// wholly inside it (measured on the province demo: see `crates/domain/benches/locate.rs`).
const CELLS_PER_GRID: usize = 64;
/// Upper bound on the raster's cells (8 bytes each): 64 MiB. The province demo's 116,906 grids
/// take 7.5 million cells, 57 MiB, plus 18 MiB of packed shapes.
const MAX_CELLS: usize = 1 << 23;

/// An immutable index of grid shapes. Rebuild a new one when grids change and swap it in.
pub struct Locator {
    len: usize,
    grids: PackedGrids,
    cells: CellIndex,
}

/// The answer to "where is this point": the deepest grid's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Code of the deepest grid containing the point.
    pub code: String,
}

impl Locator {
    /// Builds the index from `(code, shape)` pairs.
    pub fn build(grids: impl IntoIterator<Item = (String, Shape)>) -> Locator {
        Locator::build_with_density(grids, CELLS_PER_GRID)
    }

    /// Builds the index with about `cells_per_grid` raster cells per grid (tests and tuning).
    fn build_with_density(
        grids: impl IntoIterator<Item = (String, Shape)>,
        cells_per_grid: usize,
    ) -> Locator {
        let mut input: Vec<(String, Shape)> = grids.into_iter().collect();
        // Answer order: deepest (longest code) first, then by code. The first grid of a cell's
        // list that holds the point is the answer.
        input.sort_by(|(a, _), (b, _)| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        let mut grids = PackedGrids::new();
        let ids: Vec<u32> = input
            .iter()
            .map(|(code, shape)| grids.push(code, shape.geometry()))
            .collect();
        grids.shrink_to_fit();
        let target = ids.len().saturating_mul(cells_per_grid).clamp(1, MAX_CELLS);
        let cells = CellIndex::build(&grids, &ids, target);
        Locator {
            len: ids.len(),
            grids,
            cells,
        }
    }

    /// An index with no grids.
    pub fn empty() -> Locator {
        Locator::build(Vec::new())
    }

    /// Number of grids indexed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no grid is indexed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes held by the index (codes, coordinates and raster), for capacity planning.
    pub fn memory_bytes(&self) -> usize {
        self.grids.memory_bytes() + self.cells.memory_bytes()
    }

    /// The deepest grid whose shape contains the point (a point on a shared edge goes to the
    /// grid with the smaller code, so the answer is deterministic), or None outside every grid.
    pub fn locate(&self, at: LonLat) -> Option<Located> {
        self.find(at.lon(), at.lat()).map(|id| Located {
            code: self.grids.code(id),
        })
    }

    /// Id of the grid that answers for `(x, y)`.
    #[inline]
    fn find(&self, x: f64, y: f64) -> Option<u32> {
        self.cells.find(x, y, |id| self.grids.contains(id, x, y))
    }
}

/// The straightforward index: an R-tree of bounding boxes, then `geo::Intersects` on each
/// candidate. Slower than [`Locator`], with the same answers; kept as the oracle that tests and
/// benchmarks compare it with.
pub struct ReferenceLocator {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
    codes: Vec<String>,
    shapes: Vec<MultiPolygon<f64>>,
}

impl ReferenceLocator {
    /// Builds the R-tree from `(code, shape)` pairs in one bulk load.
    pub fn build(grids: impl IntoIterator<Item = (String, Shape)>) -> ReferenceLocator {
        let mut codes = Vec::new();
        let mut shapes = Vec::new();
        let mut entries = Vec::new();
        for (i, (code, shape)) in grids.into_iter().enumerate() {
            let [x0, y0, x1, y1] = shape.bbox();
            entries.push(GeomWithData::new(
                Rectangle::from_corners([x0, y0], [x1, y1]),
                i as u32,
            ));
            codes.push(code);
            shapes.push(shape.geometry().clone());
        }
        ReferenceLocator {
            tree: RTree::bulk_load(entries),
            codes,
            shapes,
        }
    }

    /// Same contract as [`Locator::locate`].
    pub fn locate(&self, at: LonLat) -> Option<Located> {
        let p = Point(Coord {
            x: at.lon(),
            y: at.lat(),
        });
        let mut best: Option<usize> = None;
        for e in self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_point([at.lon(), at.lat()]))
        {
            let i = e.data as usize;
            if !self.shapes[i].intersects(&p) {
                continue;
            }
            best = match best {
                None => Some(i),
                Some(b) => {
                    let (cb, ci) = (&self.codes[b], &self.codes[i]);
                    if ci.len() > cb.len() || (ci.len() == cb.len() && ci < cb) {
                        Some(i)
                    } else {
                        Some(b)
                    }
                }
            };
        }
        best.map(|i| Located {
            code: self.codes[i].clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::tiling::{self, Pt};
    use geo::{LineString, Polygon};
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    fn square(x: f64, y: f64, s: f64) -> Shape {
        Shape::from_ring(vec![(x, y), (x + s, y), (x + s, y + s), (x, y + s), (x, y)]).unwrap()
    }

    fn ring(points: &[Pt]) -> LineString<f64> {
        points.iter().map(|&(x, y)| Coord { x, y }).collect()
    }

    /// A demo-like area: a parent split into `n` Voronoi grids of 15-digit codes, every fifth one
    /// split again into 18-digit grids that overlap it and must win where they hold the point.
    fn tiled(seed: u64, n: usize) -> Vec<(String, Shape)> {
        let parent = [
            (113.0, 22.0),
            (113.6, 21.9),
            (113.8, 22.4),
            (113.3, 22.7),
            (112.9, 22.4),
        ];
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut out = Vec::new();
        for (k, cell) in tiling::split(&parent, n, &mut rng).iter().enumerate() {
            let code = format!("441502001{k:06}");
            let Ok(shape) = Shape::from_ring(cell.clone()) else {
                continue;
            };
            out.push((code.clone(), shape));
            if k % 5 == 0 {
                for (m, sub) in tiling::split(cell, 3, &mut rng).iter().enumerate() {
                    if let Ok(shape) = Shape::from_ring(sub.clone()) {
                        out.push((format!("{code}{m:03}"), shape));
                    }
                }
            }
        }
        out
    }

    /// Points that stress the boundary rules: every vertex, points along every edge (on shared
    /// edges up to rounding), random points over and just beyond the grids' bounding box.
    fn probe_points(grids: &[(String, Shape)], random: usize, seed: u64) -> Vec<LonLat> {
        let mut pts = Vec::new();
        let mut all = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for (_, s) in grids {
            let b = s.bbox();
            all = [
                all[0].min(b[0]),
                all[1].min(b[1]),
                all[2].max(b[2]),
                all[3].max(b[3]),
            ];
            for poly in &s.geometry().0 {
                for r in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    for w in r.0.windows(2) {
                        let (a, b) = (w[0], w[1]);
                        pts.push((a.x, a.y));
                        for t in [0.5, 0.25, 1.0 / 3.0] {
                            pts.push((a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)));
                        }
                    }
                }
            }
        }
        let mut rng = SmallRng::seed_from_u64(seed);
        let (dx, dy) = ((all[2] - all[0]) * 0.05, (all[3] - all[1]) * 0.05);
        for _ in 0..random {
            pts.push((
                rng.gen_range(all[0] - dx..all[2] + dx),
                rng.gen_range(all[1] - dy..all[3] + dy),
            ));
        }
        pts.into_iter()
            .map(|(x, y)| LonLat::parse(x, y).unwrap())
            .collect()
    }

    /// Asserts that the raster index, at several densities, answers as the reference does.
    fn assert_matches_reference(grids: &[(String, Shape)], points: &[LonLat]) {
        let reference = ReferenceLocator::build(grids.to_vec());
        let expected: Vec<Option<Located>> = points.iter().map(|&p| reference.locate(p)).collect();
        assert!(expected.iter().any(Option::is_some));
        for density in [1, 7, CELLS_PER_GRID, 1000] {
            let loc = Locator::build_with_density(grids.to_vec(), density);
            assert_eq!(loc.len(), grids.len());
            for (p, want) in points.iter().zip(&expected) {
                assert_eq!(&loc.locate(*p), want, "at {p:?}, {density} cells per grid");
            }
        }
    }

    #[test]
    fn finds_the_square_that_holds_the_point_and_nothing_outside() {
        let loc = Locator::build(vec![
            ("441502001001001".to_owned(), square(115.0, 22.0, 1.0)),
            ("441502001001002".to_owned(), square(116.0, 22.0, 1.0)),
        ]);
        let at = |x, y| loc.locate(LonLat::parse(x, y).unwrap()).map(|l| l.code);
        assert_eq!(at(115.5, 22.5).as_deref(), Some("441502001001001"));
        assert_eq!(at(116.5, 22.5).as_deref(), Some("441502001001002"));
        assert_eq!(
            at(116.0, 22.5).as_deref(),
            Some("441502001001001"),
            "shared edge goes to the smaller code"
        );
        assert_eq!(at(118.0, 22.5), None);
    }

    #[test]
    fn prefers_the_deepest_grid() {
        let loc = Locator::build(vec![
            ("441502001001001".to_owned(), square(115.0, 22.0, 1.0)),
            ("441502001001001001".to_owned(), square(115.2, 22.2, 0.2)),
        ]);
        let l = loc.locate(LonLat::parse(115.3, 22.3).unwrap()).unwrap();
        assert_eq!(l.code, "441502001001001001");
        let l = loc.locate(LonLat::parse(115.8, 22.8).unwrap()).unwrap();
        assert_eq!(l.code, "441502001001001");
    }

    #[test]
    fn regions_under_grids_answer_where_no_grid_is_and_children_sticking_out_still_win() {
        // Paths as keys: a county (6 digits) and its village (12) that lies partly outside it
        // (real outlines simplified apart do, by a sliver); a grid inside the village. Where the
        // county's edge crosses the village, the village must still answer.
        let county = square(115.0, 22.0, 1.0);
        let village = square(115.6, 22.2, 0.6);
        let shapes = vec![
            ("441502".to_owned(), county),
            ("441502001001".to_owned(), village),
            ("441502001001001".to_owned(), square(115.62, 22.22, 0.05)),
        ];
        let mut points = probe_points(&shapes, 20_000, 4);
        for k in 0..=200 {
            // Along the county's east edge, where the village crosses it.
            points.push(LonLat::parse(115.99 + k as f64 * 1e-4, 22.3 + k as f64 * 2e-3).unwrap());
        }
        assert_matches_reference(&shapes, &points);
        let loc = Locator::build(shapes);
        let at = |x, y| loc.locate(LonLat::parse(x, y).unwrap()).map(|l| l.code);
        assert_eq!(at(115.5, 22.5).as_deref(), Some("441502"));
        assert_eq!(at(115.999, 22.5).as_deref(), Some("441502001001"));
        assert_eq!(at(115.63, 22.23).as_deref(), Some("441502001001001"));
        assert_eq!(at(116.1, 22.5).as_deref(), Some("441502001001"));
    }

    #[test]
    fn an_empty_locator_finds_nothing() {
        let loc = Locator::empty();
        assert!(loc.is_empty());
        assert_eq!(loc.locate(LonLat::parse(115.0, 22.0).unwrap()), None);
    }

    #[test]
    fn a_voronoi_tiling_locates_as_the_reference_does() {
        for seed in [1, 2] {
            let grids = tiled(seed, 120);
            let points = probe_points(&grids, 20_000, seed);
            assert_matches_reference(&grids, &points);
        }
    }

    #[test]
    fn a_square_lattice_locates_edges_and_corners_as_the_reference_does() {
        // Edges on round coordinates fall on cell lines of the raster at many densities; every
        // lattice point and edge midpoint is shared by two to four grids of the same depth.
        let mut grids = Vec::new();
        for i in 0..8 {
            for j in 0..6 {
                let code = format!("4415020010{i:02}{j:03}");
                grids.push((
                    code,
                    square(114.0 + i as f64 * 0.25, 22.0 + j as f64 * 0.25, 0.25),
                ));
            }
        }
        grids.push(("441502001099001001".to_owned(), square(114.25, 22.25, 0.5)));
        let mut points = probe_points(&grids, 5_000, 9);
        for i in 0..=32 {
            for j in 0..=24 {
                let (x, y) = (114.0 + i as f64 / 16.0, 22.0 + j as f64 / 16.0);
                points.push(LonLat::parse(x, y).unwrap());
            }
        }
        assert_matches_reference(&grids, &points);
    }

    #[test]
    fn holes_and_multipolygons_locate_as_the_reference_does() {
        let outer = ring(&[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0)]);
        let hole = ring(&[(1.0, 1.0), (3.0, 1.0), (3.0, 3.0), (1.0, 3.0), (1.0, 1.0)]);
        let island = ring(&[(5.0, 0.0), (6.0, 0.0), (6.0, 1.0), (5.0, 1.0), (5.0, 0.0)]);
        let ring_with_island = MultiPolygon(vec![
            Polygon::new(outer, vec![hole]),
            Polygon::new(island, vec![]),
        ]);
        let grids = vec![
            // Sorts after the grid in its hole, so the hole's edge goes to the inner grid.
            (
                "441502001001009".to_owned(),
                Shape::new(ring_with_island).unwrap(),
            ),
            ("441502001001002".to_owned(), square(1.5, 1.5, 1.0)),
            ("441502001001003".to_owned(), square(1.0, 1.0, 0.5)),
        ];
        let points = probe_points(&grids, 20_000, 4);
        assert_matches_reference(&grids, &points);

        let loc = Locator::build(grids);
        let at = |x, y| loc.locate(LonLat::parse(x, y).unwrap()).map(|l| l.code);
        assert_eq!(at(0.5, 0.5).as_deref(), Some("441502001001009"));
        assert_eq!(at(2.9, 1.1), None, "inside the hole, outside the squares");
        assert_eq!(
            at(3.0, 2.0).as_deref(),
            Some("441502001001009"),
            "hole edge"
        );
        assert_eq!(
            at(1.0, 1.2).as_deref(),
            Some("441502001001003"),
            "shared edge"
        );
        assert_eq!(at(5.5, 0.5).as_deref(), Some("441502001001009"), "island");
        assert_eq!(at(4.5, 0.5), None, "between the parts");
    }

    #[test]
    fn most_points_of_a_fine_tiling_need_no_polygon_test() {
        let grids = tiled(3, 400);
        let loc = Locator::build(grids.clone());
        let (mut untested, mut found) = (0, 0);
        for p in probe_points(&grids, 10_000, 5).iter().rev().take(10_000) {
            let tests = std::cell::Cell::new(0);
            let got = loc.cells.find(p.lon(), p.lat(), |id| {
                tests.set(tests.get() + 1);
                loc.grids.contains(id, p.lon(), p.lat())
            });
            if got.is_some() {
                found += 1;
                untested += usize::from(tests.get() == 0);
            }
        }
        assert!(
            untested * 2 > found,
            "only {untested} of {found} points answered without a polygon test"
        );
    }
}
