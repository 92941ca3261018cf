//! Polygons: parsed from GeoJSON once, checked for validity, written back as GeoJSON.

use geo::line_intersection::LineIntersection;
use geo::sweep::Cross;
use geo::{
    Area, BoundingRect, Contains, Coord, Intersections, Line, LineString, MultiPolygon, Point,
    Polygon,
};
use serde_json::{json, Value};

use super::crs::Crs;
use crate::DomainError;

/// Most vertices a shape may have (all rings together). A county's coastline at full resolution
/// (1:10,000 survey data, islands included) runs to tens of thousands; the checks are
/// O(n log n), so the bound is about memory and request size, not time.
pub const MAX_VERTICES: usize = 250_000;

/// A longitude/latitude pair in degrees, checked for range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LonLat {
    lon: f64,
    lat: f64,
}

impl LonLat {
    /// Checks that the longitude lies in [-180, 180] and the latitude in [-90, 90].
    pub fn parse(lon: f64, lat: f64) -> Result<LonLat, DomainError> {
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(DomainError::invalid(
                "lon",
                "longitude must be a number between -180 and 180",
            ));
        }
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(DomainError::invalid(
                "lat",
                "latitude must be a number between -90 and 90",
            ));
        }
        Ok(LonLat { lon, lat })
    }

    /// Longitude in degrees.
    pub fn lon(self) -> f64 {
        self.lon
    }

    /// Latitude in degrees.
    pub fn lat(self) -> f64 {
        self.lat
    }
}

/// A valid (multi)polygon of a region or grid, in WGS-84 degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape(MultiPolygon<f64>);

impl Shape {
    /// Parses a GeoJSON geometry object of type Polygon or MultiPolygon and checks it: closed rings
    /// of at least four positions, coordinates in range, no self-intersection, a positive area.
    pub fn from_geojson(v: &Value) -> Result<Shape, DomainError> {
        Shape::from_geojson_in(v, Crs::Wgs84)
    }

    /// Parses a geometry whose positions are in `crs`, converting them to WGS-84 and rounding
    /// them to 1e-7 degrees (what is stored) before any check, so that the shape checked is the
    /// shape kept. Repeated consecutive positions are dropped.
    pub fn from_geojson_in(v: &Value, crs: Crs) -> Result<Shape, DomainError> {
        let field = "geometry";
        let obj = v
            .as_object()
            .ok_or_else(|| DomainError::invalid(field, "must be a GeoJSON geometry object"))?;
        let kind = obj.get("type").and_then(Value::as_str).unwrap_or("");
        let coords = obj
            .get("coordinates")
            .ok_or_else(|| DomainError::invalid(field, "has no coordinates"))?;
        let mut vertices = 0usize;
        let polygons = match kind {
            "Polygon" => vec![parse_polygon(coords, crs, &mut vertices)?],
            "MultiPolygon" => {
                let arr = coords.as_array().ok_or_else(|| {
                    DomainError::invalid(field, "MultiPolygon coordinates must be an array")
                })?;
                if arr.is_empty() {
                    return Err(DomainError::invalid(field, "MultiPolygon has no polygons"));
                }
                arr.iter()
                    .map(|p| parse_polygon(p, crs, &mut vertices))
                    .collect::<Result<Vec<_>, _>>()?
            }
            other => {
                return Err(DomainError::invalid(
                    field,
                    format!("must be a Polygon or MultiPolygon, not '{other}'"),
                ))
            }
        };
        Shape::new(MultiPolygon(polygons))
    }

    /// Wraps a multipolygon after checking it.
    pub fn new(mp: MultiPolygon<f64>) -> Result<Shape, DomainError> {
        check_valid(&mp)?;
        if mp.unsigned_area() <= 0.0 {
            return Err(DomainError::invalid("geometry", "polygon has no area"));
        }
        Ok(Shape(mp))
    }

    /// Builds a shape from one exterior ring (open or closed), checking it.
    pub fn from_ring(ring: Vec<(f64, f64)>) -> Result<Shape, DomainError> {
        let ls: LineString<f64> = ring.into_iter().map(|(x, y)| Coord { x, y }).collect();
        Shape::new(MultiPolygon(vec![Polygon::new(ls, vec![])]))
    }

    /// The geometry as a GeoJSON MultiPolygon (or Polygon when it has one part).
    pub fn to_geojson(&self) -> Value {
        self.to_geojson_rounded(7)
    }

    /// As GeoJSON with coordinates rounded to `decimals` places (at most 7, about 1 cm): a
    /// map at low zoom needs far fewer digits, and digits are most of an outline's bytes.
    pub fn to_geojson_rounded(&self, decimals: u8) -> Value {
        geojson_rounded(&self.0, decimals)
    }

    /// The underlying geometry.
    pub fn geometry(&self) -> &MultiPolygon<f64> {
        &self.0
    }

    /// Bounding box `[min_lon, min_lat, max_lon, max_lat]`.
    pub fn bbox(&self) -> [f64; 4] {
        match self.0.bounding_rect() {
            Some(r) => [r.min().x, r.min().y, r.max().x, r.max().y],
            None => [0.0; 4],
        }
    }

    /// Bounding box of the largest parts that together make 99% of the area: what a map should
    /// frame (a coastal city's far islets would otherwise make it mostly sea).
    pub fn main_bbox(&self) -> [f64; 4] {
        let mut parts: Vec<(f64, &Polygon<f64>)> =
            self.0 .0.iter().map(|p| (p.unsigned_area(), p)).collect();
        parts.sort_by(|a, b| b.0.total_cmp(&a.0));
        let total: f64 = parts.iter().map(|p| p.0).sum();
        let mut sum = 0.0;
        let mut kept = Vec::new();
        for (a, p) in parts {
            kept.push(p.clone());
            sum += a;
            if sum >= 0.99 * total {
                break;
            }
        }
        match MultiPolygon(kept).bounding_rect() {
            Some(r) => [r.min().x, r.min().y, r.max().x, r.max().y],
            None => self.bbox(),
        }
    }

    /// Planar area in square degrees (only for comparing shapes with each other).
    pub fn area(&self) -> f64 {
        self.0.unsigned_area()
    }
}

/// A (multi)polygon as GeoJSON, coordinates rounded to `decimals` places (at most 7), without
/// any validity check: for drawing shapes derived from valid ones (simplified outlines).
pub fn geojson_rounded(mp: &MultiPolygon<f64>, decimals: u8) -> Value {
    let scale = 10f64.powi(i32::from(decimals.min(7)));
    let round = |v: f64| (v * scale).round() / scale;
    let ring = |ls: &LineString<f64>| -> Value {
        Value::Array(
            ls.0.iter()
                .map(|c| json!([round(c.x), round(c.y)]))
                .collect(),
        )
    };
    let poly = |p: &Polygon<f64>| -> Value {
        let mut rings = vec![ring(p.exterior())];
        rings.extend(p.interiors().iter().map(ring));
        Value::Array(rings)
    };
    if mp.0.len() == 1 {
        json!({"type": "Polygon", "coordinates": poly(&mp.0[0])})
    } else {
        json!({"type": "MultiPolygon", "coordinates": mp.0.iter().map(poly).collect::<Vec<_>>()})
    }
}

/// Rounds to 1e-7 degrees (about a centimetre): more digits are noise on a map.
pub fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

fn parse_polygon(v: &Value, crs: Crs, vertices: &mut usize) -> Result<Polygon<f64>, DomainError> {
    let rings = v.as_array().ok_or_else(|| {
        DomainError::invalid("geometry", "polygon coordinates must be an array of rings")
    })?;
    if rings.is_empty() {
        return Err(DomainError::invalid("geometry", "polygon has no rings"));
    }
    let mut parsed = Vec::with_capacity(rings.len());
    for ring in rings {
        parsed.push(parse_ring(ring, crs, vertices)?);
    }
    let exterior = parsed.remove(0);
    Ok(Polygon::new(exterior, parsed))
}

fn parse_ring(v: &Value, crs: Crs, vertices: &mut usize) -> Result<LineString<f64>, DomainError> {
    let positions = v
        .as_array()
        .ok_or_else(|| DomainError::invalid("geometry", "a ring must be an array of positions"))?;
    if positions.len() < 4 {
        return Err(DomainError::invalid(
            "geometry",
            "a ring needs at least four positions",
        ));
    }
    *vertices += positions.len();
    if *vertices > MAX_VERTICES {
        return Err(DomainError::invalid(
            "geometry",
            format!(
                "more than {MAX_VERTICES} vertices in one shape: simplify it first (e.g. \
                 mapshaper -simplify keep-shapes, or QGIS Simplify with a 1 m tolerance)"
            ),
        ));
    }
    let mut coords = Vec::with_capacity(positions.len());
    for p in positions {
        let pair = p.as_array().filter(|a| a.len() == 2 || a.len() == 3);
        let (lon, lat) = match pair.map(|a| (a[0].as_f64(), a[1].as_f64())) {
            Some((Some(lon), Some(lat))) => (lon, lat),
            _ => {
                return Err(DomainError::invalid(
                    "geometry",
                    "a position must be [longitude, latitude]",
                ))
            }
        };
        let ll = LonLat::parse(lon, lat).map_err(|_| {
            DomainError::invalid(
                "geometry",
                format!("position [{lon}, {lat}] is out of range"),
            )
        })?;
        coords.push((ll.lon(), ll.lat()));
    }
    if coords.first() != coords.last() {
        let (lon, lat) = coords[0];
        return Err(DomainError::invalid(
            "geometry",
            format!("a ring must be closed (first position = last position); the ring starting at ({lon}, {lat}) is open"),
        ));
    }
    let mut ring: Vec<Coord<f64>> = Vec::with_capacity(coords.len());
    for (lon, lat) in coords {
        let (x, y) = crs.to_wgs84(lon, lat);
        let c = Coord {
            x: round7(x),
            y: round7(y),
        };
        if ring.last() != Some(&c) {
            ring.push(c);
        }
    }
    if ring.len() < 4 {
        let c = ring[0];
        return Err(DomainError::invalid(
            "geometry",
            format!(
                "the ring at ({}, {}) has fewer than three distinct positions",
                c.x, c.y
            ),
        ));
    }
    Ok(LineString(ring))
}

/// One edge of a shape, with where it belongs, for the sweep that finds crossings.
#[derive(Clone, Debug)]
struct Edge {
    line: Line<f64>,
    part: usize,
    ring: usize,
    index: usize,
    ring_edges: usize,
}

impl Cross for Edge {
    type Scalar = f64;
    fn line(&self) -> Line<f64> {
        self.line
    }
}

fn at(c: Coord<f64>) -> String {
    format!("({}, {})", round7(c.x), round7(c.y))
}

/// The OGC validity rules, checked in O(n log n) with a sweep over all edges (geo's own check
/// compares every edge with every other, hours for a coastline): rings do not cross or touch
/// themselves, rings of a polygon and parts of a multipolygon meet at most at single points,
/// holes lie inside their exterior, parts do not lie inside one another. An error names the
/// position where the rule breaks.
fn check_valid(mp: &MultiPolygon<f64>) -> Result<(), DomainError> {
    let invalid = |m: String| Err(DomainError::invalid("geometry", m));
    let mut edges = Vec::new();
    for (part, poly) in mp.0.iter().enumerate() {
        for (ring, ls) in std::iter::once(poly.exterior())
            .chain(poly.interiors())
            .enumerate()
        {
            let n = ls.0.len().saturating_sub(1);
            if n < 3 || ls.0.first() != ls.0.last() {
                return invalid(
                    "a ring needs at least three distinct positions and must be closed".into(),
                );
            }
            if let Some(c) = ls.0.iter().find(|c| !c.x.is_finite() || !c.y.is_finite()) {
                return invalid(format!("a position is not a number near {}", at(*c)));
            }
            for (index, line) in ls.lines().enumerate() {
                edges.push(Edge {
                    line,
                    part,
                    ring,
                    index,
                    ring_edges: n,
                });
            }
        }
    }
    for (a, b, x) in Intersections::from_iter(edges) {
        let same_ring = a.part == b.part && a.ring == b.ring;
        let adjacent = same_ring && {
            let (i, j) = (a.index.min(b.index), a.index.max(b.index));
            j == i + 1 || (i == 0 && j == a.ring_edges - 1)
        };
        match x {
            LineIntersection::SinglePoint { intersection, .. } if adjacent => {
                // Neighbours meet at their shared vertex; anything else is a spike.
                let shared = [a.line.start, a.line.end]
                    .into_iter()
                    .any(|c| c == b.line.start || c == b.line.end);
                if !shared {
                    return invalid(format!("self-intersection at {}", at(intersection)));
                }
            }
            LineIntersection::Collinear { intersection } if adjacent => {
                return invalid(format!(
                    "the ring doubles back on itself at {}",
                    at(intersection.start)
                ));
            }
            LineIntersection::SinglePoint { intersection, .. } if same_ring => {
                return invalid(format!("self-intersection at {}", at(intersection)));
            }
            LineIntersection::Collinear { intersection } if same_ring => {
                return invalid(format!(
                    "self-intersection: the ring runs over itself at {}",
                    at(intersection.start)
                ));
            }
            LineIntersection::SinglePoint {
                is_proper: false, ..
            } => {} // rings or parts touching at one point are allowed
            LineIntersection::SinglePoint { intersection, .. }
            | LineIntersection::Collinear {
                intersection:
                    Line {
                        start: intersection,
                        ..
                    },
            } => {
                let what = if a.part == b.part {
                    "a hole crosses or shares an edge with its polygon's other rings"
                } else {
                    "two polygons of the MultiPolygon cross or share an edge (merge them)"
                };
                return invalid(format!("{what} at {}", at(intersection)));
            }
        }
    }
    // With no crossings left, a hole is inside its exterior if any of its vertices is.
    for poly in &mp.0 {
        let outer = Polygon::new(poly.exterior().clone(), vec![]);
        for hole in poly.interiors() {
            if !hole.0.iter().any(|c| outer.contains(&Point(*c))) {
                return invalid(format!(
                    "a hole lies outside its polygon's exterior near {}",
                    at(hole.0[0])
                ));
            }
        }
    }
    // Parts must not lie inside one another (one inside another's hole is fine).
    let boxes: Vec<_> = mp.0.iter().map(|p| p.bounding_rect()).collect();
    for (i, a) in mp.0.iter().enumerate() {
        for (j, b) in mp.0.iter().enumerate() {
            let (Some(ba), Some(bb)) = (boxes[i], boxes[j]) else {
                continue;
            };
            if i == j
                || bb.min().x < ba.min().x
                || bb.min().y < ba.min().y
                || bb.max().x > ba.max().x
                || bb.max().y > ba.max().y
            {
                continue;
            }
            if let Some(c) = b.exterior().0.iter().find(|c| a.contains(&Point(**c))) {
                return invalid(format!(
                    "two polygons of the MultiPolygon overlap at {}",
                    at(*c)
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, s: f64) -> Value {
        json!({"type": "Polygon", "coordinates": [[[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]]})
    }

    #[test]
    fn a_square_round_trips_through_geojson() {
        let shape = Shape::from_geojson(&square(115.0, 22.8, 0.01)).unwrap();
        let again = Shape::from_geojson(&shape.to_geojson()).unwrap();
        for (a, b) in shape.bbox().iter().zip(again.bbox()) {
            assert!((a - b).abs() < 1e-9);
        }
        assert!((shape.area() - 0.0001).abs() < 1e-12);
    }

    #[test]
    fn a_bow_tie_is_refused_naming_where_it_crosses() {
        let bow =
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]});
        let err = Shape::from_geojson(&bow).unwrap_err();
        assert!(
            err.to_string().contains("self-intersection at (0.5, 0.5)"),
            "{err}"
        );
    }

    #[test]
    fn holes_islands_and_touching_rings_follow_the_ogc_rules() {
        let ok = |v: Value| {
            Shape::from_geojson(&v)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        // A square with a hole, and an island far away: valid.
        assert_eq!(
            ok(json!({"type": "MultiPolygon", "coordinates": [
            [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [1, 2], [2, 2], [2, 1], [1, 1]]],
            [[[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]]]]})),
            Ok(())
        );
        // An island inside the hole: valid too.
        assert_eq!(
            ok(json!({"type": "MultiPolygon", "coordinates": [
            [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [1, 3], [3, 3], [3, 1], [1, 1]]],
            [[[1.5, 1.5], [2.5, 1.5], [2.5, 2.5], [1.5, 2.5], [1.5, 1.5]]]]})),
            Ok(())
        );
        // Repeated positions are dropped, not taken for a crossing.
        assert_eq!(
            ok(json!({"type": "Polygon", "coordinates":
            [[[0, 0], [1, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]})),
            Ok(())
        );
        // Two parts overlapping, a part inside another, a hole outside, a spike.
        let e = ok(json!({"type": "MultiPolygon", "coordinates": [
            [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]], [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]]]})).unwrap_err();
        assert!(
            e.contains("MultiPolygon") && (e.contains("(2, 1)") || e.contains("(1, 2)")),
            "{e}"
        );
        let e = ok(json!({"type": "MultiPolygon", "coordinates": [
            [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]], [[[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]]]})).unwrap_err();
        assert!(e.contains("overlap"), "{e}");
        let e = ok(json!({"type": "Polygon", "coordinates": [
            [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], [[5, 5], [6, 5], [6, 6], [5, 6], [5, 5]]]}))
        .unwrap_err();
        assert!(e.contains("hole lies outside"), "{e}");
        let e = ok(json!({"type": "Polygon", "coordinates":
            [[[0, 0], [2, 0], [3, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}))
        .unwrap_err();
        assert!(e.contains("(2, 0)") || e.contains("(3, 0)"), "{e}");
    }

    #[test]
    fn a_shape_declared_in_gcj02_is_stored_in_wgs84() {
        let (x, y) = Crs::Gcj02.from_wgs84(115.37, 22.78);
        let v = json!({"type": "Polygon", "coordinates": [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]]});
        let s = Shape::from_geojson_in(&v, Crs::Gcj02).unwrap();
        let first = s.geometry().0[0].exterior().0[0];
        assert!(
            (first.x - 115.37).abs() < 2e-7 && (first.y - 22.78).abs() < 2e-7,
            "{first:?}"
        );
    }

    #[test]
    fn open_rings_short_rings_and_bad_positions_are_refused() {
        let open = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]});
        assert!(Shape::from_geojson(&open).is_err());
        let short = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]});
        assert!(Shape::from_geojson(&short).is_err());
        let far = json!({"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]});
        assert!(Shape::from_geojson(&far).is_err());
        let point = json!({"type": "Point", "coordinates": [0, 0]});
        assert!(Shape::from_geojson(&point).is_err());
    }

    #[test]
    fn the_main_extent_leaves_out_far_islets() {
        let v = json!({"type": "MultiPolygon", "coordinates": [
            [[[115.0, 22.7], [116.0, 22.7], [116.0, 23.4], [115.0, 23.4], [115.0, 22.7]]],
            [[[116.7, 20.6], [116.71, 20.6], [116.71, 20.61], [116.7, 20.61], [116.7, 20.6]]]]});
        let s = Shape::from_geojson(&v).unwrap();
        assert_eq!(s.main_bbox(), [115.0, 22.7, 116.0, 23.4]);
        assert_eq!(s.bbox(), [115.0, 20.6, 116.71, 23.4]);
    }

    #[test]
    fn coordinates_out_of_range_are_refused() {
        assert!(LonLat::parse(181.0, 0.0).is_err());
        assert!(LonLat::parse(0.0, -91.0).is_err());
        assert!(LonLat::parse(f64::NAN, 0.0).is_err());
        assert!(LonLat::parse(115.3, 22.8).is_ok());
    }
}
