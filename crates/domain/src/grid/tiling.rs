//! Tiling a polygon into Voronoi cells: the demo's synthetic boundaries.
//!
//! Each cell is the parent clipped by the bisecting half-planes of its seed against every other
//! seed, so the cells of one parent tile it with no gap and no overlap (up to rounding). A convex
//! parent is clipped directly and every cell of it is convex ([`split`]). Any other parent — a
//! real county's coast, islands, enclaves — is tiled by [`split_shape`]: the Voronoi cells of its
//! bounding box, each intersected with the parent (geo's `BooleanOps`), so cells follow the real
//! outline and may be non-convex or in several parts (an island goes to the nearest seed).

use geo::{
    Area, BooleanOps, BoundingRect, Centroid, Coord, InteriorPoint, Intersects, LineString,
    MultiPolygon, Point, Polygon,
};
use rand::Rng;

/// A point in the plane (longitude, latitude).
pub type Pt = (f64, f64);

/// Clips a convex polygon (open ring, any orientation) to the half-plane `a·p <= c`.
fn clip(poly: &[Pt], a: Pt, c: f64) -> Vec<Pt> {
    let mut out = Vec::with_capacity(poly.len() + 1);
    let side = |p: Pt| a.0 * p.0 + a.1 * p.1 - c;
    for i in 0..poly.len() {
        let p = poly[i];
        let q = poly[(i + 1) % poly.len()];
        let (sp, sq) = (side(p), side(q));
        if sp <= 0.0 {
            out.push(p);
        }
        if (sp < 0.0 && sq > 0.0) || (sp > 0.0 && sq < 0.0) {
            let t = sp / (sp - sq);
            out.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
        }
    }
    out
}

/// The Voronoi cells of `seeds` inside the convex polygon `parent` (open ring), one per seed in
/// seed order. A cell can be empty only if its seed lies outside the parent.
pub fn voronoi_cells(parent: &[Pt], seeds: &[Pt]) -> Vec<Vec<Pt>> {
    seeds
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let mut cell = parent.to_vec();
            for (j, &t) in seeds.iter().enumerate() {
                if i == j || cell.is_empty() {
                    continue;
                }
                // |p - s|² <= |p - t|²  ⇔  2(t - s)·p <= |t|² - |s|²
                let a = (2.0 * (t.0 - s.0), 2.0 * (t.1 - s.1));
                let c = (t.0 * t.0 + t.1 * t.1) - (s.0 * s.0 + s.1 * s.1);
                cell = clip(&cell, a, c);
            }
            cell
        })
        .collect()
}

/// Area-weighted centroid of a simple polygon (open ring).
pub fn centroid(poly: &[Pt]) -> Pt {
    let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for i in 0..poly.len() {
        let (p, q) = (poly[i], poly[(i + 1) % poly.len()]);
        let cross = p.0 * q.1 - q.0 * p.1;
        a += cross;
        cx += (p.0 + q.0) * cross;
        cy += (p.1 + q.1) * cross;
    }
    if a.abs() < 1e-18 {
        let n = poly.len().max(1) as f64;
        return (
            poly.iter().map(|p| p.0).sum::<f64>() / n,
            poly.iter().map(|p| p.1).sum::<f64>() / n,
        );
    }
    (cx / (3.0 * a), cy / (3.0 * a))
}

/// Absolute area of a simple polygon (open ring), in square degrees.
pub fn area(poly: &[Pt]) -> f64 {
    let mut a = 0.0;
    for i in 0..poly.len() {
        let (p, q) = (poly[i], poly[(i + 1) % poly.len()]);
        a += p.0 * q.1 - q.0 * p.1;
    }
    a.abs() / 2.0
}

/// True if `p` lies strictly inside the convex polygon `poly` (open ring, any orientation).
pub fn convex_contains(poly: &[Pt], p: Pt) -> bool {
    let mut sign = 0.0f64;
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
        let cross = (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
        if cross == 0.0 {
            return false;
        }
        if sign == 0.0 {
            sign = cross.signum();
        } else if sign != cross.signum() {
            return false;
        }
    }
    true
}

/// Splits the convex polygon `parent` into `n` convex cells of similar size: random seeds,
/// relaxed twice towards their cells' centroids (Lloyd) so the cells look like city blocks rather
/// than shards. Deterministic for a given `rng` state.
pub fn split(parent: &[Pt], n: usize, rng: &mut impl Rng) -> Vec<Vec<Pt>> {
    if n == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![parent.to_vec()];
    }
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in parent {
        x0 = x0.min(p.0);
        y0 = y0.min(p.1);
        x1 = x1.max(p.0);
        y1 = y1.max(p.1);
    }
    let mut seeds = Vec::with_capacity(n);
    let mut tries = 0;
    while seeds.len() < n {
        let p = (rng.gen_range(x0..x1), rng.gen_range(y0..y1));
        tries += 1;
        if convex_contains(parent, p) || tries > 10_000 * n {
            seeds.push(if tries > 10_000 * n {
                centroid(parent)
            } else {
                p
            });
        }
    }
    let mut cells = voronoi_cells(parent, &seeds);
    for _ in 0..2 {
        for (s, cell) in seeds.iter_mut().zip(&cells) {
            if cell.len() >= 3 {
                *s = centroid(cell);
            }
        }
        cells = voronoi_cells(parent, &seeds);
    }
    cells
}

/// Splits any valid (multi)polygon `parent` into `n` cells of similar size that tile it: seeds
/// drawn inside the parent, relaxed twice towards their cells' centroids (Lloyd; a centroid that
/// falls outside a non-convex parent keeps the previous seed), then the Voronoi cells clipped to
/// the parent. A single convex parent takes the exact convex path of [`split`]. Every cell holds
/// its seed, which lies inside the parent, so no cell is empty. Deterministic for a given `rng`.
pub fn split_shape(
    parent: &MultiPolygon<f64>,
    n: usize,
    rng: &mut impl Rng,
) -> Vec<MultiPolygon<f64>> {
    if n == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![parent.clone()];
    }
    if let Some(ring) = convex_ring(parent) {
        return split(&ring, n, rng)
            .into_iter()
            .map(|cell| MultiPolygon(vec![polygon(&cell)]))
            .collect();
    }
    let Some(bbox) = parent.bounding_rect() else {
        return Vec::new();
    };
    // The box a little larger than the parent, so no edge of a cell runs along the parent's.
    let pad = 1e-6 + 1e-3 * bbox.width().max(bbox.height());
    let (x0, y0) = (bbox.min().x - pad, bbox.min().y - pad);
    let (x1, y1) = (bbox.max().x + pad, bbox.max().y + pad);
    let frame = vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1)];
    let inside = |p: Pt| parent.intersects(&Point::new(p.0, p.1));
    let mut seeds = Vec::with_capacity(n);
    let mut tries = 0;
    while seeds.len() < n {
        let p = (
            rng.gen_range(bbox.min().x..bbox.max().x),
            rng.gen_range(bbox.min().y..bbox.max().y),
        );
        tries += 1;
        if inside(p) {
            seeds.push(p);
        } else if tries > 10_000 * n {
            // A parent that fills almost none of its box: a point inside it, nudged apart from
            // the other fallbacks, rather than an endless loop.
            let c = parent.interior_point().map_or((x0, y0), |c| (c.x(), c.y()));
            seeds.push((c.0 + seeds.len() as f64 * 1e-9, c.1));
        }
    }
    let clip_all = |seeds: &[Pt]| -> Vec<MultiPolygon<f64>> {
        voronoi_cells(&frame, seeds)
            .iter()
            .map(|cell| {
                if cell.len() < 3 {
                    MultiPolygon(Vec::new())
                } else {
                    polygon(cell).intersection(parent)
                }
            })
            .collect()
    };
    let mut cells = clip_all(&seeds);
    for _ in 0..2 {
        for (s, cell) in seeds.iter_mut().zip(&cells) {
            if let Some(c) = cell.centroid() {
                if inside((c.x(), c.y())) {
                    *s = (c.x(), c.y());
                }
            }
        }
        cells = clip_all(&seeds);
    }
    cells
}

/// The exterior of `mp` as an open ring when `mp` is one convex polygon without holes.
fn convex_ring(mp: &MultiPolygon<f64>) -> Option<Vec<Pt>> {
    let [poly] = mp.0.as_slice() else {
        return None;
    };
    if !poly.interiors().is_empty() {
        return None;
    }
    let mut ring: Vec<Pt> = poly.exterior().0.iter().map(|c| (c.x, c.y)).collect();
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    if ring.len() < 3 {
        return None;
    }
    let mut sign = 0.0f64;
    for i in 0..ring.len() {
        let (a, b, c) = (
            ring[i],
            ring[(i + 1) % ring.len()],
            ring[(i + 2) % ring.len()],
        );
        let cross = (b.0 - a.0) * (c.1 - b.1) - (b.1 - a.1) * (c.0 - b.0);
        if cross == 0.0 {
            continue;
        }
        if sign == 0.0 {
            sign = cross.signum();
        } else if sign != cross.signum() {
            return None;
        }
    }
    (sign != 0.0 && poly.unsigned_area() > 0.0).then_some(ring)
}

/// A polygon from an open ring.
fn polygon(ring: &[Pt]) -> Polygon<f64> {
    let mut coords: Vec<Coord<f64>> = ring.iter().map(|&(x, y)| Coord { x, y }).collect();
    if let Some(&first) = coords.first() {
        coords.push(first);
    }
    Polygon::new(LineString(coords), vec![])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn cells_tile_the_parent_without_gap_or_overlap() {
        let parent = vec![(0.0, 0.0), (1.0, 0.0), (1.2, 0.7), (0.5, 1.1), (-0.1, 0.6)];
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let cells = split(&parent, 25, &mut rng);
        assert_eq!(cells.len(), 25);
        let total: f64 = cells.iter().map(|c| area(c)).sum();
        assert!(
            (total - area(&parent)).abs() < 1e-9,
            "areas add up: {total} vs {}",
            area(&parent)
        );
        // Each centroid lies in exactly one cell: no overlaps.
        for c in &cells {
            let p = centroid(c);
            let holders = cells.iter().filter(|d| convex_contains(d, p)).count();
            assert_eq!(holders, 1);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_cells() {
        let parent = vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
        let a = split(&parent, 9, &mut rand::rngs::StdRng::seed_from_u64(1));
        let b = split(&parent, 9, &mut rand::rngs::StdRng::seed_from_u64(1));
        assert_eq!(a, b);
    }

    /// A non-convex parent in two parts: an L-shaped mainland with a hole, and an island.
    fn coast() -> MultiPolygon<f64> {
        let l = Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (2.0, 0.0),
                (2.0, 1.0),
                (1.0, 1.0),
                (1.0, 2.0),
                (0.0, 2.0),
                (0.0, 0.0),
            ]),
            vec![LineString::from(vec![
                (0.2, 0.2),
                (0.4, 0.2),
                (0.4, 0.4),
                (0.2, 0.4),
                (0.2, 0.2),
            ])],
        );
        let island = Polygon::new(
            LineString::from(vec![(3.0, 3.0), (3.1, 3.0), (3.1, 3.1), (3.0, 3.0)]),
            vec![],
        );
        MultiPolygon(vec![l, island])
    }

    #[test]
    fn cells_of_a_non_convex_parent_with_a_hole_and_an_island_tile_it() {
        let parent = coast();
        let cells = split_shape(&parent, 12, &mut rand::rngs::StdRng::seed_from_u64(5));
        assert_eq!(cells.len(), 12);
        // Up to the overlay's snapping of coordinates (about 1e-9 of the box).
        let eps = 1e-8 * parent.unsigned_area();
        let total: f64 = cells.iter().map(|c| c.unsigned_area()).sum();
        assert!((total - parent.unsigned_area()).abs() < eps, "{total}");
        for (i, c) in cells.iter().enumerate() {
            assert!(c.unsigned_area() > 0.0, "cell {i} is empty");
            let outside = c.difference(&parent).unsigned_area();
            assert!(outside < eps, "cell {i} leaves the parent by {outside}");
            for d in &cells[i + 1..] {
                assert!(c.intersection(d).unsigned_area() < eps);
            }
        }
        // The island belongs to one cell, and no cell covers the hole.
        let island = Point::new(3.05, 3.02);
        assert_eq!(cells.iter().filter(|c| c.intersects(&island)).count(), 1);
        let hole = Point::new(0.3, 0.3);
        assert!(!cells.iter().any(|c| c.intersects(&hole)));
    }

    #[test]
    fn a_convex_parent_takes_the_convex_path() {
        let square = MultiPolygon(vec![polygon(&[
            (0.0, 0.0),
            (1.0, 0.0),
            (1.0, 1.0),
            (0.0, 1.0),
        ])]);
        let a = split_shape(&square, 5, &mut rand::rngs::StdRng::seed_from_u64(2));
        let b = split(
            &[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)],
            5,
            &mut rand::rngs::StdRng::seed_from_u64(2),
        );
        assert_eq!(a.len(), 5);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, &MultiPolygon(vec![polygon(y)]));
        }
        assert!(convex_ring(&coast()).is_none());
    }
}
