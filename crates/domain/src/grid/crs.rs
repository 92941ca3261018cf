//! The coordinate systems Chinese map data comes in, and their conversion to the stored one.
//!
//! Shanzhi stores WGS-84. CGCS2000 (the national datum, EPSG:4490: 天地图, the statistics and
//! natural-resources bureaus' boundaries) differs from WGS-84 by centimetres and is taken as it
//! is. GCJ-02 (国测局坐标, used by 高德, 腾讯 and most phones' map SDKs) shifts positions inside
//! China by up to about 700 m; BD-09 (百度) shifts GCJ-02 again. Both are converted with the
//! published forward formulas, and inverted by iterating the forward formula until the answer
//! maps back within 1e-9 degrees (about 0.1 mm), so a GCJ-02 shape lands on its WGS-84 twin.

use std::f64::consts::PI;
use std::fmt;

use crate::DomainError;

/// A coordinate system that positions and shapes may be declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Crs {
    /// WGS-84 (GPS; EPSG:4326), the stored system.
    #[default]
    Wgs84,
    /// CGCS2000 (EPSG:4490), equal to WGS-84 at map precision.
    Cgcs2000,
    /// GCJ-02 (高德, 腾讯, phones' map SDKs in China).
    Gcj02,
    /// BD-09 (百度).
    Bd09,
}

impl Crs {
    /// Every system, in the order the documentation lists them.
    pub const ALL: [Crs; 4] = [Crs::Wgs84, Crs::Cgcs2000, Crs::Gcj02, Crs::Bd09];

    /// The word used in the API, the command line and the settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Cgcs2000 => "cgcs2000",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }

    /// Parses the API word (case and dashes ignored: "WGS-84", "gcj-02" are fine).
    pub fn parse(s: &str) -> Result<Crs, DomainError> {
        let norm: String = s
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .flat_map(char::to_lowercase)
            .collect();
        Crs::ALL
            .into_iter()
            .find(|c| c.as_str() == norm)
            .ok_or_else(|| {
                DomainError::invalid(
                    "crs",
                    format!("unknown coordinate system '{s}': use wgs84, cgcs2000, gcj02 or bd09"),
                )
            })
    }

    /// Reads the `name` of a GeoJSON `crs` member (the 2008 GeoJSON form that GIS tools still
    /// write): EPSG:4326 / CRS84 are WGS-84, EPSG:4490 is CGCS2000. Anything else (a projected
    /// system in metres, say) is refused: it would land nowhere near the jurisdiction.
    pub fn from_geojson_name(name: &str) -> Result<Crs, DomainError> {
        let n = name.to_ascii_uppercase();
        let epsg = n
            .rsplit([':', '/'])
            .next()
            .map(str::to_owned)
            .unwrap_or_default();
        if n.ends_with("CRS84") || epsg == "4326" {
            return Ok(Crs::Wgs84);
        }
        if epsg == "4490" {
            return Ok(Crs::Cgcs2000);
        }
        Crs::parse(name).map_err(|_| {
            DomainError::invalid(
                "crs",
                format!(
                    "the file declares coordinate system '{name}', which is not longitude/latitude \
                     in WGS-84 (EPSG:4326) or CGCS2000 (EPSG:4490); convert it first, or declare \
                     gcj02 / bd09"
                ),
            )
        })
    }

    /// Converts a position in this system to WGS-84. Outside China GCJ-02 and BD-09 are not
    /// defined (their formulas leave such positions alone): they are taken as they are.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        if out_of_china(lon, lat) {
            return (lon, lat);
        }
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => invert(lon, lat, wgs84_to_gcj02),
            Crs::Bd09 => invert(lon, lat, |x, y| {
                let (gx, gy) = wgs84_to_gcj02(x, y);
                gcj02_to_bd09(gx, gy)
            }),
        }
    }

    /// Converts a WGS-84 position to this system (outside China: unchanged).
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        if out_of_china(lon, lat) {
            return (lon, lat);
        }
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
            Crs::Bd09 => {
                let (gx, gy) = wgs84_to_gcj02(lon, lat);
                gcj02_to_bd09(gx, gy)
            }
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Inverts a forward conversion near the identity by fixed-point iteration.
fn invert(lon: f64, lat: f64, forward: impl Fn(f64, f64) -> (f64, f64)) -> (f64, f64) {
    let (mut x, mut y) = (lon, lat);
    for _ in 0..30 {
        let (fx, fy) = forward(x, y);
        let (dx, dy) = (fx - lon, fy - lat);
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-10 && dy.abs() < 1e-10 {
            break;
        }
    }
    (x, y)
}

// Krasovsky 1940 ellipsoid, as the GCJ-02 formula uses it.
const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

/// True outside the box where GCJ-02 applies its shift (abroad, positions are left as they are).
fn out_of_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn shift_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn shift_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// The published WGS-84 → GCJ-02 formula.
fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let dlat = shift_lat(lon - 105.0, lat - 35.0);
    let dlon = shift_lon(lon - 105.0, lat - 35.0);
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (A / sqrt_magic * rad.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// The published GCJ-02 → BD-09 formula, with `x_pi = π·3000/180` as in the widely used
/// implementations (coordtransform, eviltransform); some packages write `π` there instead.
fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let x_pi = PI * 3000.0 / 180.0;
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * x_pi).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * x_pi).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// Distance in metres between two WGS-84 positions (haversine; for tests and messages).
pub fn metres_between(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_008.8;
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let dla = la2 - la1;
    let dlo = (b.0 - a.0).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcj02_shifts_shanwei_by_hundreds_of_metres_and_comes_back_within_a_millimetre() {
        let wgs = (115.3750, 22.7860);
        let gcj = Crs::Gcj02.from_wgs84(wgs.0, wgs.1);
        let shift = metres_between(wgs, gcj);
        assert!((300.0..800.0).contains(&shift), "shift {shift} m");
        let back = Crs::Gcj02.to_wgs84(gcj.0, gcj.1);
        assert!(metres_between(wgs, back) < 0.001);
    }

    #[test]
    fn bd09_round_trips_and_differs_from_gcj02() {
        let wgs = (113.2644, 23.1291);
        let bd = Crs::Bd09.from_wgs84(wgs.0, wgs.1);
        let gcj = Crs::Gcj02.from_wgs84(wgs.0, wgs.1);
        assert!(metres_between(bd, gcj) > 100.0);
        assert!(metres_between(wgs, Crs::Bd09.to_wgs84(bd.0, bd.1)) < 0.001);
    }

    #[test]
    fn a_known_gcj02_position_matches_the_published_formula() {
        // 天安门, and what an independent implementation (PyPI fast-geocn 1.1.3, coord.py) gives.
        let (x, y) = Crs::Gcj02.from_wgs84(116.391_349, 39.907_375);
        assert!((x - 116.397_590_191).abs() < 1e-8, "{x}");
        assert!((y - 39.908_776_294).abs() < 1e-8, "{y}");
    }

    #[test]
    fn wgs84_and_cgcs2000_are_left_alone_and_abroad_gcj02_and_bd09_are_too() {
        assert_eq!(Crs::Cgcs2000.to_wgs84(115.0, 22.0), (115.0, 22.0));
        assert_eq!(Crs::Gcj02.to_wgs84(2.35, 48.85), (2.35, 48.85));
        // Corners of the world stay in range (schemathesis found BD-09 pushing -90 past the pole).
        for crs in Crs::ALL {
            for (x, y) in [(-180.0, -90.0), (180.0, 90.0), (0.0, 0.0)] {
                assert_eq!(crs.to_wgs84(x, y), (x, y), "{crs}");
                assert_eq!(crs.from_wgs84(x, y), (x, y), "{crs}");
            }
        }
    }

    #[test]
    fn names_parse_in_the_forms_people_write_them() {
        assert_eq!(Crs::parse("GCJ-02").unwrap(), Crs::Gcj02);
        assert_eq!(Crs::parse("wgs84").unwrap(), Crs::Wgs84);
        assert!(Crs::parse("mars").is_err());
        assert_eq!(
            Crs::from_geojson_name("urn:ogc:def:crs:EPSG::4490").unwrap(),
            Crs::Cgcs2000
        );
        assert_eq!(
            Crs::from_geojson_name("urn:ogc:def:crs:OGC:1.3:CRS84").unwrap(),
            Crs::Wgs84
        );
        assert!(Crs::from_geojson_name("EPSG:3857").is_err());
    }
}
