//! Polygons: parsed from GeoJSON once, checked for validity, written back as GeoJSON.

use geo::{Area, BoundingRect, Coord, LineString, MultiPolygon, Polygon, Validation};
use serde_json::{json, Value};

use crate::DomainError;

/// Most vertices a shape may have (all rings together): a grid is a village block, not a coastline.
pub const MAX_VERTICES: usize = 20_000;

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
            "Polygon" => vec![parse_polygon(coords, &mut vertices)?],
            "MultiPolygon" => {
                let arr = coords.as_array().ok_or_else(|| {
                    DomainError::invalid(field, "MultiPolygon coordinates must be an array")
                })?;
                if arr.is_empty() {
                    return Err(DomainError::invalid(field, "MultiPolygon has no polygons"));
                }
                arr.iter()
                    .map(|p| parse_polygon(p, &mut vertices))
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
        if let Err(e) = mp.check_validation() {
            return Err(DomainError::invalid(
                "geometry",
                format!("invalid polygon: {e}"),
            ));
        }
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

fn parse_polygon(v: &Value, vertices: &mut usize) -> Result<Polygon<f64>, DomainError> {
    let rings = v.as_array().ok_or_else(|| {
        DomainError::invalid("geometry", "polygon coordinates must be an array of rings")
    })?;
    if rings.is_empty() {
        return Err(DomainError::invalid("geometry", "polygon has no rings"));
    }
    let mut parsed = Vec::with_capacity(rings.len());
    for ring in rings {
        parsed.push(parse_ring(ring, vertices)?);
    }
    let exterior = parsed.remove(0);
    Ok(Polygon::new(exterior, parsed))
}

fn parse_ring(v: &Value, vertices: &mut usize) -> Result<LineString<f64>, DomainError> {
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
            format!("more than {MAX_VERTICES} vertices"),
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
        coords.push(Coord {
            x: ll.lon(),
            y: ll.lat(),
        });
    }
    if coords.first() != coords.last() {
        return Err(DomainError::invalid(
            "geometry",
            "a ring must be closed (first position = last position)",
        ));
    }
    Ok(LineString(coords))
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
    fn a_bow_tie_is_refused_as_self_intersecting() {
        let bow =
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]});
        let err = Shape::from_geojson(&bow).unwrap_err();
        assert!(matches!(err, DomainError::Invalid { .. }), "{err}");
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
    fn coordinates_out_of_range_are_refused() {
        assert!(LonLat::parse(181.0, 0.0).is_err());
        assert!(LonLat::parse(0.0, -91.0).is_err());
        assert!(LonLat::parse(f64::NAN, 0.0).is_err());
        assert!(LonLat::parse(115.3, 22.8).is_ok());
    }
}
