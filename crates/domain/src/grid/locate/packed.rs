//! Grid shapes packed for point tests: each grid's code, rings and points in one run of words, and
//! the exact point-in-shape test of `geo::Intersects` over them.
//!
//! A lookup that tests a grid then touches one contiguous run of memory (usually two cache lines)
//! instead of a `MultiPolygon`'s nested vectors and a `String`'s separate heap buffer.

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, MultiPolygon};

/// Every grid as one run of `u64` words, found by its offset (its id):
///
/// 1. header: code length in bytes (low 32 bits) | number of rings (high 32 bits);
/// 2. the code's bytes, eight per word, little-endian, zero-padded;
/// 3. one word per ring: point count (low 32 bits) | 1 << 32 for an interior ring (a hole of
///    the polygon whose exterior ring came last before it);
/// 4. the rings' points, each as the bits of x then y, rings closed (first point = last).
pub(super) struct PackedGrids {
    words: Vec<u64>,
}

/// Where a point lies relative to one ring.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RingPos {
    Outside,
    OnBoundary,
    Inside,
}

const HOLE: u64 = 1 << 32;

impl PackedGrids {
    pub(super) fn new() -> PackedGrids {
        PackedGrids { words: Vec::new() }
    }

    /// Appends a grid and returns its id (the offset of its header word).
    pub(super) fn push(&mut self, code: &str, shape: &MultiPolygon<f64>) -> u32 {
        let id = self.words.len();
        let rings: Vec<(&geo::LineString<f64>, bool)> = shape
            .0
            .iter()
            .flat_map(|p| {
                std::iter::once((p.exterior(), false))
                    .chain(p.interiors().iter().map(|r| (r, true)))
            })
            .collect();
        self.words
            .push(code.len() as u64 | (rings.len() as u64) << 32);
        self.words.extend(code.as_bytes().chunks(8).map(|chunk| {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            u64::from_le_bytes(b)
        }));
        for (ring, hole) in &rings {
            self.words
                .push(ring.0.len() as u64 | if *hole { HOLE } else { 0 });
        }
        for (ring, _) in &rings {
            for c in &ring.0 {
                self.words.push(c.x.to_bits());
                self.words.push(c.y.to_bits());
            }
        }
        assert!(
            self.words.len() < (1 << 31),
            "too many grid points to index"
        );
        id as u32
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.words.shrink_to_fit();
    }

    pub(super) fn memory_bytes(&self) -> usize {
        self.words.capacity() * std::mem::size_of::<u64>()
    }

    /// The grid's code.
    pub(super) fn code(&self, id: u32) -> String {
        let id = id as usize;
        let len = (self.words[id] & 0xffff_ffff) as usize;
        let mut bytes = Vec::with_capacity(len.next_multiple_of(8));
        for w in &self.words[id + 1..id + 1 + len.div_ceil(8)] {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        bytes.truncate(len);
        // Stored from a `&str`, so always UTF-8; the lossy path only keeps this panic-free.
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// The grid's rings in order, each as `(is_hole, [x0, y0, x1, y1, …])`.
    pub(super) fn rings(&self, id: u32) -> impl Iterator<Item = (bool, &[u64])> {
        let id = id as usize;
        let header = self.words[id];
        let code_words = ((header & 0xffff_ffff) as usize).div_ceil(8);
        let count = (header >> 32) as usize;
        let descs = &self.words[id + 1 + code_words..id + 1 + code_words + count];
        let mut at = id + 1 + code_words + count;
        descs.iter().map(move |&d| {
            let n = 2 * (d & 0xffff_ffff) as usize;
            let ring = &self.words[at..at + n];
            at += n;
            (d & HOLE != 0, ring)
        })
    }

    /// True when the grid's closed shape holds `(x, y)`: exactly what `MultiPolygon::intersects`
    /// answers for the point, boundary included.
    #[inline]
    pub(super) fn contains(&self, id: u32, x: f64, y: f64) -> bool {
        // Per polygon, as geo's `Polygon::intersects`: outside the exterior → no; on it → yes;
        // inside it → yes unless strictly inside a hole (on a hole's ring → yes).
        let mut inside = false;
        for (hole, ring) in self.rings(id) {
            if !hole {
                if inside {
                    return true;
                }
                match ring_position(ring, x, y) {
                    RingPos::OnBoundary => return true,
                    RingPos::Inside => inside = true,
                    RingPos::Outside => {}
                }
            } else if inside {
                match ring_position(ring, x, y) {
                    RingPos::Outside => {}
                    RingPos::OnBoundary => return true,
                    RingPos::Inside => inside = false,
                }
            }
        }
        inside
    }
}

/// Position of `(x, y)` relative to a ring (`[x0, y0, x1, y1, …]` as bits): geo's
/// `coord_pos_relative_to_ring` step by step (winding number with an on-boundary short cut), so
/// every answer matches it bit for bit.
#[inline]
fn ring_position(ring: &[u64], x: f64, y: f64) -> RingPos {
    let mut points = ring
        .chunks_exact(2)
        .map(|c| [f64::from_bits(c[0]), f64::from_bits(c[1])]);
    let Some(mut s) = points.next() else {
        return RingPos::Outside;
    };
    if ring.len() == 2 {
        return if s[0] == x && s[1] == y {
            RingPos::OnBoundary
        } else {
            RingPos::Outside
        };
    }
    let mut winding = 0i32;
    for e in points {
        if s[1] <= y {
            if e[1] >= y {
                let o = orient(s, e, x, y);
                if o == Orientation::CounterClockwise && e[1] != y {
                    winding += 1;
                } else if o == Orientation::Collinear && between(x, s[0], e[0]) {
                    return RingPos::OnBoundary;
                }
            }
        } else if e[1] <= y {
            let o = orient(s, e, x, y);
            if o == Orientation::Clockwise {
                winding -= 1;
            } else if o == Orientation::Collinear && between(x, s[0], e[0]) {
                return RingPos::OnBoundary;
            }
        }
        s = e;
    }
    if winding == 0 {
        RingPos::Outside
    } else {
        RingPos::Inside
    }
}

/// `value` lies between the two bounds, in either order, ends included (as geo's helper).
#[inline]
fn between(value: f64, a: f64, b: f64) -> bool {
    if a < b {
        value >= a && value <= b
    } else {
        value >= b && value <= a
    }
}

/// Orientation of `(x, y)` relative to the directed line `s → e`: the robust crate's fast
/// floating-point filter inlined (same arithmetic, same error bound), falling back to geo's
/// robust kernel only when the filter cannot decide — so the result is always the exact one.
#[inline]
fn orient(s: [f64; 2], e: [f64; 2], x: f64, y: f64) -> Orientation {
    let detleft = (s[0] - x) * (e[1] - y);
    let detright = (s[1] - y) * (e[0] - x);
    let det = detleft - detright;
    const THETA: f64 = 3.3306690621773722e-16;
    let errbound = THETA * (detleft + detright).abs();
    if det >= errbound || -det >= errbound {
        if det > 0.0 {
            Orientation::CounterClockwise
        } else if det < 0.0 {
            Orientation::Clockwise
        } else {
            Orientation::Collinear
        }
    } else {
        RobustKernel::orient2d(
            Coord { x: s[0], y: s[1] },
            Coord { x: e[0], y: e[1] },
            Coord { x, y },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Intersects, LineString, Point, Polygon};

    fn ring(points: &[(f64, f64)]) -> LineString<f64> {
        points.iter().map(|&(x, y)| Coord { x, y }).collect()
    }

    #[test]
    fn codes_of_any_length_come_back_whole() {
        let square = MultiPolygon(vec![Polygon::new(
            ring(&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]),
            vec![],
        )]);
        let mut packed = PackedGrids::new();
        let codes = [
            "",
            "4",
            "44150200",
            "441502001001001",
            "441502001001001001",
            "网格一",
        ];
        let ids: Vec<u32> = codes.iter().map(|c| packed.push(c, &square)).collect();
        for (id, code) in ids.iter().zip(codes) {
            assert_eq!(packed.code(*id), code);
            assert!(packed.contains(*id, 0.5, 0.25));
        }
    }

    #[test]
    fn the_point_test_agrees_with_geo_on_a_polygon_with_a_hole_and_an_island() {
        let shape = MultiPolygon(vec![
            Polygon::new(
                ring(&[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0)]),
                vec![ring(&[(1.0, 1.0), (3.0, 1.0), (2.0, 3.0), (1.0, 1.0)])],
            ),
            Polygon::new(
                ring(&[(5.0, 0.0), (6.0, 0.0), (5.5, 1.0), (5.0, 0.0)]),
                vec![],
            ),
        ]);
        let mut packed = PackedGrids::new();
        let id = packed.push("g", &shape);
        for i in -2..=28 {
            for j in -2..=18 {
                let (x, y) = (i as f64 * 0.25, j as f64 * 0.25);
                let want = shape.intersects(&Point::new(x, y));
                assert_eq!(packed.contains(id, x, y), want, "at ({x}, {y})");
            }
        }
    }
}
