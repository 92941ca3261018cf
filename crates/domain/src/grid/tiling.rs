//! Tiling a convex polygon into Voronoi cells: the demo city's synthetic boundaries.
//!
//! Each cell is the parent clipped by the bisecting half-planes of its seed against every other
//! seed, so the cells of one parent tile it with no gap and no overlap (up to rounding), and every
//! cell of a convex parent is convex — which keeps the recursion (city → county → … → grid) simple.

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
}
