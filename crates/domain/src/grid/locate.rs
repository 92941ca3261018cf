//! Point location: which deepest grid contains a point, from an in-memory R-tree of grid shapes.

use geo::{Coord, Intersects, MultiPolygon, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::polygon::{LonLat, Shape};

type Entry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// An immutable index of grid shapes. Rebuild a new one when grids change and swap it in.
pub struct Locator {
    tree: RTree<Entry>,
    codes: Vec<String>,
    shapes: Vec<MultiPolygon<f64>>,
}

/// The answer to "where is this point": the deepest grid's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Code of the deepest grid containing the point.
    pub code: String,
}

impl Locator {
    /// Builds the index from `(code, shape)` pairs in one bulk load.
    pub fn build(grids: impl IntoIterator<Item = (String, Shape)>) -> Locator {
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
        Locator {
            tree: RTree::bulk_load(entries),
            codes,
            shapes,
        }
    }

    /// An index with no grids.
    pub fn empty() -> Locator {
        Locator::build(Vec::new())
    }

    /// Number of grids indexed.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// True when no grid is indexed.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The deepest grid whose shape contains the point (a point on a shared edge goes to the
    /// grid with the smaller code, so the answer is deterministic), or None outside every grid.
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

    fn square(x: f64, y: f64, s: f64) -> Shape {
        Shape::from_ring(vec![(x, y), (x + s, y), (x + s, y + s), (x, y + s), (x, y)]).unwrap()
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
}
