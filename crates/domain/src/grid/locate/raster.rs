//! A uniform raster of cells over all grids: for each cell, the grids that may hold a point of
//! it, in answer order, and — for most cells — the one grid that holds all of it.
//!
//! Built by rasterising every grid's edges conservatively (each cell widened by [`MARGIN`]) and
//! filling the cells between them even-odd along each row's centre line. A cell that no edge of
//! a grid comes near lies wholly inside or wholly outside that grid, so the centre decides.

use super::packed::PackedGrids;

/// Build-time marker: no grid / end of a linked list.
const EMPTY: u32 = u32::MAX;
/// Cell entry: nothing (more) to try.
const NONE: u32 = u32::MAX;
/// Cell entry flag: the rest is the id of a grid that holds the whole cell, so it answers without
/// a test. In a list header: the list's last grid is such a grid.
const SURE: u32 = 1 << 31;
/// First cell entry: the second is an offset into the lists.
const LIST: u32 = SURE - 1;
/// Safety margin, in cells, by which every cell is widened while rasterising edges: far larger
/// than the rounding of the coordinate transform, so a point that rounds into a neighbouring
/// cell still gets a list that covers it.
const MARGIN: f64 = 1e-6;

/// A uniform raster over the bounding box of all grids. Each cell holds two 32-bit entries, tried
/// in order: [`NONE`] (no grid), `SURE | id` (that grid holds the whole widened cell: the answer),
/// or a grid id to test. Longer lists (under a tenth of the cells) live in `lists`: the cell holds
/// [`LIST`] and an offset to a header (count, plus [`SURE`] when the last grid holds the whole
/// cell) followed by the grid ids. A grid comes before another in a cell only when it comes
/// before it in answer order, so the first that holds the point is the answer.
pub(super) struct CellIndex {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    /// Cells per degree along x and y.
    sx: f64,
    sy: f64,
    nx: usize,
    ny: usize,
    cells: Vec<u64>,
    lists: Vec<u32>,
}

impl CellIndex {
    pub(super) fn memory_bytes(&self) -> usize {
        self.cells.capacity() * std::mem::size_of::<u64>()
            + self.lists.capacity() * std::mem::size_of::<u32>()
    }

    /// The first grid, in answer order, that holds `(x, y)` according to `holds` (called only for
    /// grids whose boundary comes near the point's cell).
    #[inline]
    pub(super) fn find(&self, x: f64, y: f64, holds: impl Fn(u32) -> bool) -> Option<u32> {
        // Outside the bounding box of every grid (or NaN): nothing can hold the point.
        if !(x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1) {
            return None;
        }
        // `as usize` saturates; the differences are non-negative here.
        let i = (((x - self.x0) * self.sx) as usize).min(self.nx - 1);
        let j = (((y - self.y0) * self.sy) as usize).min(self.ny - 1);
        let v = self.cells[j * self.nx + i];
        let (first, second) = (v as u32, (v >> 32) as u32);
        if first == LIST {
            return self.find_in_list(second as usize, holds);
        }
        for e in [first, second] {
            if e == NONE {
                return None;
            }
            if e & SURE != 0 {
                return Some(e & !SURE);
            }
            if holds(e) {
                return Some(e);
            }
        }
        None
    }

    fn find_in_list(&self, at: usize, holds: impl Fn(u32) -> bool) -> Option<u32> {
        let header = self.lists[at];
        let n = (header & !SURE) as usize;
        let ids = &self.lists[at + 1..at + 1 + n];
        if header & SURE != 0 {
            let (sure, test) = ids.split_last()?;
            test.iter().copied().find(|&id| holds(id)).or(Some(*sure))
        } else {
            ids.iter().copied().find(|&id| holds(id))
        }
    }

    /// Rasterises the grids `ids` (in answer order) into about `target` cells.
    pub(super) fn build(grids: &PackedGrids, ids: &[u32], target: usize) -> CellIndex {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        let mut ring = Vec::new();
        for &id in ids {
            for (_, r) in grids.rings(id) {
                for p in points(r, &mut ring) {
                    x0 = x0.min(p[0]);
                    y0 = y0.min(p[1]);
                    x1 = x1.max(p[0]);
                    y1 = y1.max(p[1]);
                }
            }
        }
        if !(x1 > x0 && y1 > y0) {
            // No grid, or nothing with an extent: one cell listing every grid to test.
            let mut lists = vec![ids.len() as u32];
            lists.extend_from_slice(ids);
            let cell = if ids.is_empty() {
                u64::MAX
            } else {
                LIST as u64
            };
            return CellIndex {
                x0,
                y0,
                x1,
                y1,
                sx: 0.0,
                sy: 0.0,
                nx: 1,
                ny: 1,
                cells: vec![cell],
                lists,
            };
        }
        let (w, h) = (x1 - x0, y1 - y0);
        let nx = ((target as f64 * w / h).sqrt().ceil() as usize).clamp(1, target);
        let ny = target.div_ceil(nx).max(1);
        let (sx, sy) = (nx as f64 / w, ny as f64 / h);
        let count = nx * ny;

        // `sure[c]`: id of the grid that holds the whole cell, or EMPTY. `head[c]`: the
        // cell's list of grids whose boundary crosses it, linked through `links` (newest first).
        let mut sure = vec![EMPTY; count];
        let mut head = vec![EMPTY; count];
        let mut links: Vec<(u32, u32)> = Vec::new();
        // `stamp[c] == rank + 1`: the current grid's boundary crosses cell c.
        let mut stamp = vec![0u32; count];
        let mut crossed: Vec<usize> = Vec::new();
        let mut crossings: Vec<(usize, f64)> = Vec::new();
        let floor_in = |v: f64, n: usize| (v.floor().max(0.0) as usize).min(n - 1);

        for (rank, &id) in ids.iter().enumerate() {
            let tag = rank as u32 + 1;
            crossed.clear();
            crossings.clear();
            for (_, r) in grids.rings(id) {
                for wnd in points(r, &mut ring).windows(2) {
                    let (ua, va) = ((wnd[0][0] - x0) * sx, (wnd[0][1] - y0) * sy);
                    let (ub, vb) = ((wnd[1][0] - x0) * sx, (wnd[1][1] - y0) * sy);
                    let (ulo, uhi) = (ua.min(ub), ua.max(ub));
                    let (vlo, vhi) = (va.min(vb), va.max(vb));
                    // Every cell the edge comes within MARGIN of.
                    for j in floor_in(vlo - MARGIN, ny)..=floor_in(vhi + MARGIN, ny) {
                        let blo = (j as f64 - MARGIN).max(vlo);
                        let bhi = (j as f64 + 1.0 + MARGIN).min(vhi);
                        if blo > bhi {
                            continue;
                        }
                        let (umin, umax) = if va == vb {
                            (ulo, uhi)
                        } else {
                            let k = (ub - ua) / (vb - va);
                            let (p, q) = (ua + (blo - va) * k, ua + (bhi - va) * k);
                            (p.min(q).max(ulo), p.max(q).min(uhi))
                        };
                        for i in floor_in(umin - MARGIN, nx)..=floor_in(umax + MARGIN, nx) {
                            let c = j * nx + i;
                            if stamp[c] != tag {
                                stamp[c] = tag;
                                crossed.push(c);
                            }
                        }
                    }
                    // Where the edge crosses the centre lines of rows (half-open in v, so a
                    // vertex on a centre line counts once): the even-odd fill below.
                    if va != vb {
                        let first = (vlo - 0.5).ceil().max(0.0) as usize;
                        let mut j = first;
                        while j < ny && (j as f64 + 0.5) <= vhi {
                            let vc = j as f64 + 0.5;
                            if (va <= vc) != (vb <= vc) {
                                crossings.push((j, ua + (vc - va) * (ub - ua) / (vb - va)));
                            }
                            j += 1;
                        }
                    }
                }
            }
            for &c in &crossed {
                if sure[c] == EMPTY {
                    links.push((id, head[c]));
                    head[c] = (links.len() - 1) as u32;
                }
            }
            // Cells whose centre lies inside the grid and that no edge comes near lie wholly
            // inside it (the widened cell is one piece of the plane cut by the rings).
            crossings.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            for pair in crossings
                .chunk_by(|a, b| a.0 == b.0)
                .flat_map(|row| row.chunks_exact(2))
            {
                let (j, ua, ub) = (pair[0].0, pair[0].1, pair[1].1);
                let lo = (ua - 0.5).ceil().max(0.0) as usize;
                let hi = (ub - 0.5).floor();
                if hi < 0.0 {
                    continue;
                }
                for i in lo..=(hi as usize).min(nx - 1) {
                    let c = j * nx + i;
                    if stamp[c] != tag && sure[c] == EMPTY {
                        sure[c] = id;
                    }
                }
            }
        }
        drop(stamp);

        // Pack each cell's entries: those of grids whose boundary crosses it (in answer order),
        // then the grid that holds it whole, if any.
        let mut cells = Vec::with_capacity(count);
        let mut lists = Vec::new();
        let mut test = Vec::new();
        for (c, &whole) in sure.iter().enumerate() {
            test.clear();
            let mut l = head[c];
            while l != EMPTY {
                let (id, next) = links[l as usize];
                test.push(id);
                l = next;
            }
            test.reverse();
            let whole = (whole != EMPTY).then_some(whole | SURE);
            let entries = match (test.as_slice(), whole) {
                ([], None) => Some((NONE, NONE)),
                ([], Some(s)) => Some((s, NONE)),
                ([a], None) => Some((*a, NONE)),
                ([a], Some(s)) => Some((*a, s)),
                ([a, b], None) => Some((*a, *b)),
                _ => None,
            };
            let (first, second) = entries.unwrap_or_else(|| {
                let at = lists.len() as u32;
                let n = test.len() as u32 + u32::from(whole.is_some());
                lists.push(if whole.is_some() { n | SURE } else { n });
                lists.extend_from_slice(&test);
                lists.extend(whole.map(|s| s & !SURE));
                (LIST, at)
            });
            cells.push(u64::from(first) | u64::from(second) << 32);
        }
        drop((sure, head, links));
        assert!(lists.len() < SURE as usize, "cell lists overflow");
        lists.shrink_to_fit();
        CellIndex {
            x0,
            y0,
            x1,
            y1,
            sx,
            sy,
            nx,
            ny,
            cells,
            lists,
        }
    }
}

/// The points of a packed ring, decoded into `buf`.
fn points<'a>(ring: &[u64], buf: &'a mut Vec<[f64; 2]>) -> &'a [[f64; 2]] {
    buf.clear();
    buf.extend(
        ring.chunks_exact(2)
            .map(|c| [f64::from_bits(c[0]), f64::from_bits(c[1])]),
    );
    buf
}
