//! 合并: likely duplicates of an order — same category, near it, reported within a window —
//! ranked nearest first. The adapter reads candidates inside [`bbox`] and ranks them here.

use crate::grid::crs::metres_between;

/// Default search radius, metres.
pub const DEFAULT_METRES: f64 = 300.0;
/// Largest search radius, metres.
pub const MAX_METRES: f64 = 5000.0;
/// Default time window, days.
pub const DEFAULT_DAYS: i64 = 7;
/// Longest time window, days.
pub const MAX_DAYS: i64 = 90;

/// A box [west, south, east, north] holding every point within `metres` of `(lon, lat)`.
pub fn bbox(lon: f64, lat: f64, metres: f64) -> [f64; 4] {
    // One degree of latitude is ~111.2 km everywhere; of longitude, that times cos(latitude).
    let dlat = metres / 111_000.0;
    let dlon = metres / (111_000.0 * lat.to_radians().cos().max(0.01));
    [lon - dlon, lat - dlat, lon + dlon, lat + dlat]
}

/// The candidates (id, lon, lat) within `metres` of `at`, with their distance, nearest first
/// (ties: the lower id first).
pub fn nearest(at: (f64, f64), candidates: &[(i64, f64, f64)], metres: f64) -> Vec<(i64, f64)> {
    let mut out: Vec<(i64, f64)> = candidates
        .iter()
        .map(|(id, lon, lat)| (*id, metres_between(at, (*lon, *lat))))
        .filter(|(_, d)| *d <= metres)
        .collect();
    out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_holds_the_circle() {
        let at = (115.3, 22.78);
        let b = bbox(at.0, at.1, 300.0);
        for (lon, lat) in [(b[0], at.1), (b[2], at.1), (at.0, b[1]), (at.0, b[3])] {
            assert!(metres_between(at, (lon, lat)) >= 300.0, "{lon} {lat}");
        }
    }

    #[test]
    fn only_candidates_within_the_radius_come_back_nearest_first() {
        let at: (f64, f64) = (115.3, 22.78);
        // ~100 m, ~250 m and ~400 m east.
        let east = |m: f64| at.0 + m / (111_320.0 * at.1.to_radians().cos());
        let c = [
            (1, east(250.0), at.1),
            (2, east(400.0), at.1),
            (3, east(100.0), at.1),
            (4, east(100.0), at.1),
        ];
        let got = nearest(at, &c, 300.0);
        let ids: Vec<i64> = got.iter().map(|g| g.0).collect();
        assert_eq!(ids, [3, 4, 1]);
        assert!((got[0].1 - 100.0).abs() < 1.0, "{got:?}");
    }
}
