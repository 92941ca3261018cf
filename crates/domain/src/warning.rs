//! Warnings to people (预警发布): the colour level and what it means in OASIS CAP 1.2, the
//! checks on a warning's text, the backoff of the outbox, and the CAP polygon of a grid.

use geo::{Intersects, MultiPolygon};

use crate::grid::Shape;
use crate::text::label;
use crate::DomainError;

/// Longest title, in characters (a CAP headline should stay short: SMS carries it).
pub const MAX_TITLE_CHARS: usize = 60;
/// Longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 1_000;
/// Most grids one warning may name.
pub const MAX_GRIDS: usize = 500;

/// The colour level (红橙黄蓝), as China's early-warning system grades a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// 红色预警: 特别严重.
    Red,
    /// 橙色预警: 严重.
    Orange,
    /// 黄色预警: 较重.
    Yellow,
    /// 蓝色预警: 一般.
    Blue,
}

impl Level {
    /// Every level, most serious first.
    pub const ALL: [Level; 4] = [Level::Red, Level::Orange, Level::Yellow, Level::Blue];

    /// The word used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Red => "red",
            Level::Orange => "orange",
            Level::Yellow => "yellow",
            Level::Blue => "blue",
        }
    }

    /// Parses the API word.
    pub fn parse(s: &str) -> Result<Level, DomainError> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s.trim())
            .ok_or_else(|| DomainError::invalid("level", "must be red, orange, yellow or blue"))
    }

    /// The Chinese name (红色预警 …).
    pub fn zh(self) -> &'static str {
        match self {
            Level::Red => "红色预警",
            Level::Orange => "橙色预警",
            Level::Yellow => "黄色预警",
            Level::Blue => "蓝色预警",
        }
    }

    /// The CAP 1.2 `<urgency>`, `<severity>` and `<certainty>` of the level. The colours grade
    /// seriousness (特别严重 / 严重 / 较重 / 一般), which CAP splits in three: severity follows
    /// the colour one to one (Extreme, Severe, Moderate, Minor); red and orange call for action
    /// now or within the hour (Immediate, Expected), yellow and blue in the near future
    /// (Future); the centre issues red and orange on an assessed risk (Likely), yellow and blue
    /// as a precaution (Possible).
    pub fn cap(self) -> CapGrade {
        let (urgency, severity, certainty) = match self {
            Level::Red => ("Immediate", "Extreme", "Likely"),
            Level::Orange => ("Expected", "Severe", "Likely"),
            Level::Yellow => ("Future", "Moderate", "Possible"),
            Level::Blue => ("Future", "Minor", "Possible"),
        };
        CapGrade {
            urgency,
            severity,
            certainty,
        }
    }
}

/// The three CAP grades of a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapGrade {
    pub urgency: &'static str,
    pub severity: &'static str,
    pub certainty: &'static str,
}

/// A warning's title: not blank, at most [`MAX_TITLE_CHARS`].
pub fn parse_title(raw: &str) -> Result<String, DomainError> {
    let t = label("title", raw, MAX_TITLE_CHARS)?;
    if t.contains(['\n', '\r']) {
        return Err(DomainError::invalid("title", "must be one line"));
    }
    Ok(t)
}

/// A warning's message: not blank, at most [`MAX_MESSAGE_CHARS`].
pub fn parse_message(raw: &str) -> Result<String, DomainError> {
    label("message", raw, MAX_MESSAGE_CHARS)
}

/// When the outbox tries a row again after its `attempts`-th failure (1, 2, …): `base_ms`
/// doubled each time, capped at an hour; None once `max_attempts` are spent (the row fails).
pub fn retry_at(now_ms: i64, attempts: i64, base_ms: i64, max_attempts: i64) -> Option<i64> {
    if attempts >= max_attempts {
        return None;
    }
    let shift = (attempts - 1).clamp(0, 20) as u32;
    let delay = base_ms.saturating_mul(1i64 << shift).min(3_600_000);
    Some(now_ms + delay)
}

/// The CAP 1.2 polygons of a grid's outline: one per outer ring, "lat,lon" pairs separated by
/// spaces, the first point repeated last (CAP asks for a closed ring of at least 4 points).
/// Holes are left out (CAP has none).
pub fn cap_polygons(shape: &Shape) -> Vec<String> {
    shape
        .geometry()
        .0
        .iter()
        .filter_map(|p| {
            let ring: Vec<String> = p
                .exterior()
                .0
                .iter()
                .map(|c| format!("{},{}", round6(c.y), round6(c.x)))
                .collect();
            let mut ring = ring;
            if ring.first() != ring.last() {
                let first = ring.first()?.clone();
                ring.push(first);
            }
            (ring.len() >= 4).then(|| ring.join(" "))
        })
        .collect()
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The grids of `grids` (code, outline) that a drawn area touches; where a grid and one of its
/// sub-grids both touch it, only the grid (its subtree holds the sub-grid's people too).
pub fn grids_touched(area: &Shape, grids: &[(String, Shape)]) -> Vec<String> {
    let area: &MultiPolygon<f64> = area.geometry();
    let hit: Vec<&String> = grids
        .iter()
        .filter(|(_, s)| s.geometry().intersects(area))
        .map(|(c, _)| c)
        .collect();
    hit.iter()
        .filter(|c| {
            !hit.iter()
                .any(|d| d.len() < c.len() && c.starts_with(d.as_str()))
        })
        .map(|c| (*c).clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, d: f64) -> Shape {
        Shape::from_ring(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]).unwrap()
    }

    #[test]
    fn levels_map_to_cap_severity_one_to_one() {
        let sev: Vec<&str> = Level::ALL.iter().map(|l| l.cap().severity).collect();
        assert_eq!(sev, ["Extreme", "Severe", "Moderate", "Minor"]);
        assert_eq!(Level::parse("orange").unwrap(), Level::Orange);
        assert!(Level::parse("purple").is_err());
    }

    #[test]
    fn retries_back_off_doubling_then_give_up() {
        assert_eq!(retry_at(0, 1, 1000, 4), Some(1000));
        assert_eq!(retry_at(0, 2, 1000, 4), Some(2000));
        assert_eq!(retry_at(0, 3, 1000, 4), Some(4000));
        assert_eq!(retry_at(0, 4, 1000, 4), None);
        assert_eq!(retry_at(0, 30, 1_000_000, 99), Some(3_600_000));
    }

    #[test]
    fn a_grid_becomes_a_closed_cap_polygon_of_lat_lon_pairs() {
        let p = cap_polygons(&square(115.3, 22.78, 0.01));
        assert_eq!(
            p,
            ["22.78,115.3 22.78,115.31 22.79,115.31 22.79,115.3 22.78,115.3"]
        );
    }

    #[test]
    fn a_drawn_area_touches_the_topmost_grids() {
        let grids = vec![
            ("441502001001001".to_owned(), square(0.0, 0.0, 1.0)),
            ("441502001001001001".to_owned(), square(0.0, 0.0, 0.5)),
            ("441502001001002".to_owned(), square(1.0, 0.0, 1.0)),
            ("441502001001003".to_owned(), square(5.0, 5.0, 1.0)),
        ];
        let area = square(0.2, 0.2, 1.0);
        assert_eq!(
            grids_touched(&area, &grids),
            ["441502001001001", "441502001001002"]
        );
    }

    #[test]
    fn titles_are_one_short_line() {
        assert!(parse_title("  台风预警 ").is_ok());
        assert!(parse_title("").is_err());
        assert!(parse_title(&"长".repeat(61)).is_err());
        assert!(parse_message(&"长".repeat(1001)).is_err());
    }
}
