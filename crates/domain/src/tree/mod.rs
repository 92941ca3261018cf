//! The tree of regions and grids: codes, levels, parents and subtree ranges.
//!
//! Regions carry China's 12-digit statistical division codes (province 2 + city 2 + county 2 +
//! town 3 + village 3). Grids extend their parent's code by three digits per level. A node's
//! *path* is the significant part of its code ("4415" for Shanwei city, the full code for a
//! grid), so "everything under X" is the string range `[path, path + "~")`.

mod import;

pub use import::{
    code_property, collection_crs, feature_codes, outside_parent, overlapping_sibling,
    validate_import, Existing, ImportError, ImportNode, ImportOptions, ImportPlan, NodeUpdate,
    Refusal, ALREADY_EXISTS, DEFAULT_OUTSIDE_TOLERANCE, DEFAULT_OVERLAP_TOLERANCE, MAX_ERRORS,
    MAX_FEATURES,
};

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Digits a region code has.
pub const REGION_CODE_LEN: usize = 12;
/// Digits a grid adds to its parent's code.
pub const GRID_SEGMENT_LEN: usize = 3;
/// Longest code: a village plus five grid levels.
pub const MAX_CODE_LEN: usize = REGION_CODE_LEN + 5 * GRID_SEGMENT_LEN;
/// Longest node name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A level of the tree, from province down to the smallest grid unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Province,
    City,
    County,
    Town,
    Village,
    /// 大网格
    Big,
    /// 中网格
    Middle,
    /// 小网格
    Small,
    /// 微网格
    Micro,
    /// 最小单元: a building or 5–15 households.
    Unit,
}

impl Level {
    /// Every level, top down.
    pub const ALL: [Level; 10] = [
        Level::Province,
        Level::City,
        Level::County,
        Level::Town,
        Level::Village,
        Level::Big,
        Level::Middle,
        Level::Small,
        Level::Micro,
        Level::Unit,
    ];

    /// The word used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
            Level::Town => "town",
            Level::Village => "village",
            Level::Big => "big",
            Level::Middle => "middle",
            Level::Small => "small",
            Level::Micro => "micro",
            Level::Unit => "unit",
        }
    }

    /// Parses the API word.
    pub fn parse(s: &str) -> Result<Level, DomainError> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| DomainError::invalid("level", format!("unknown level '{s}'")))
    }

    /// True for the grid levels (below a village).
    pub fn is_grid(self) -> bool {
        self >= Level::Big
    }

    /// Significant digits of a region code at this level.
    pub const fn region_digits(self) -> Option<usize> {
        match self {
            Level::Province => Some(2),
            Level::City => Some(4),
            Level::County => Some(6),
            Level::Town => Some(9),
            Level::Village => Some(12),
            _ => None,
        }
    }

    /// The Chinese name of the level.
    pub fn zh(self) -> &'static str {
        match self {
            Level::Province => "省",
            Level::City => "市",
            Level::County => "县(区)",
            Level::Town => "镇(街道)",
            Level::Village => "村(社区)",
            Level::Big => "大网格",
            Level::Middle => "中网格",
            Level::Small => "小网格",
            Level::Micro => "微网格",
            Level::Unit => "最小单元",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A valid code of a region or a grid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct NodeCode(String);

impl NodeCode {
    /// Parses a region code (12 digits) or a grid code (12 + 3k digits, k = 1..=5).
    pub fn parse(s: &str) -> Result<NodeCode, DomainError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DomainError::invalid("code", "must not be empty"));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::invalid("code", "must contain digits only"));
        }
        let n = s.len();
        if n < REGION_CODE_LEN || n > MAX_CODE_LEN || (n - REGION_CODE_LEN) % GRID_SEGMENT_LEN != 0
        {
            return Err(DomainError::invalid(
                "code",
                format!("must have 12 digits (region) or 12 + 3k digits (grid), up to {MAX_CODE_LEN}; got {n}"),
            ));
        }
        if &s[0..2] == "00" {
            return Err(DomainError::invalid("code", "province part must not be 00"));
        }
        if n > REGION_CODE_LEN {
            if s[REGION_CODE_LEN - 3..REGION_CODE_LEN] == *"000" {
                return Err(DomainError::invalid(
                    "code",
                    "a grid code must extend a village code",
                ));
            }
            let mut i = REGION_CODE_LEN;
            while i < n {
                if s[i..i + 3] == *"000" {
                    return Err(DomainError::invalid(
                        "code",
                        "a grid segment must not be 000",
                    ));
                }
                i += 3;
            }
        } else {
            // A region code is its significant digits padded with zeros: once a segment is zero,
            // every later one must be too ("440000001000" is not a code) — except the county's:
            // a city without counties (东莞 4419, 中山 4420, 儋州 4604, 嘉峪关 6202) governs its
            // towns directly, and their codes keep the county digits at 00 ("441900003000").
            let zero = |r: std::ops::Range<usize>| s[r].bytes().all(|b| b == b'0');
            let ok = match [zero(2..4), zero(4..6), zero(6..9), zero(9..12)] {
                [true, county, town, village] => county && town && village,
                [false, _, true, village] => village,
                [false, _, false, _] => true,
            };
            if !ok {
                return Err(DomainError::invalid(
                    "code",
                    "region code has digits after a zero segment (only the county part may be \
                     00, under a city that governs its towns directly)",
                ));
            }
        }
        Ok(NodeCode(s.to_owned()))
    }

    /// Parses a path (the significant digits: "4415", "441502001") back into a code.
    pub fn from_path(path: &str) -> Result<NodeCode, DomainError> {
        match path.len() {
            2 | 4 | 6 | 9 => {
                let mut s = path.to_owned();
                s.extend(std::iter::repeat('0').take(REGION_CODE_LEN - path.len()));
                NodeCode::parse(&s)
            }
            _ => NodeCode::parse(path),
        }
    }

    /// True for grid codes.
    pub fn is_grid(&self) -> bool {
        self.0.len() > REGION_CODE_LEN
    }

    /// The level a region code implies, or the grid depth (1 = directly under a village).
    pub fn natural_level(&self) -> NaturalLevel {
        if self.is_grid() {
            return NaturalLevel::GridDepth((self.0.len() - REGION_CODE_LEN) / GRID_SEGMENT_LEN);
        }
        let s = &self.0;
        let zero = |r: std::ops::Range<usize>| s[r].bytes().all(|b| b == b'0');
        let level = if zero(2..12) {
            Level::Province
        } else if zero(4..12) {
            Level::City
        } else if zero(6..12) {
            Level::County
        } else if zero(9..12) {
            Level::Town
        } else {
            Level::Village
        };
        NaturalLevel::Region(level)
    }

    /// The significant part of the code: the subtree of this node is every path starting with it.
    pub fn path(&self) -> &str {
        match self.natural_level() {
            NaturalLevel::Region(l) => &self.0[..l.region_digits().unwrap_or(REGION_CODE_LEN)],
            NaturalLevel::GridDepth(_) => &self.0,
        }
    }

    /// The code this node hangs under by the coding rules (None for a province).
    pub fn natural_parent(&self) -> Option<NodeCode> {
        if self.is_grid() {
            return Some(NodeCode(
                self.0[..self.0.len() - GRID_SEGMENT_LEN].to_owned(),
            ));
        }
        let parent_digits = match self.natural_level() {
            NaturalLevel::Region(Level::Province) => return None,
            NaturalLevel::Region(Level::City) => 2,
            NaturalLevel::Region(Level::County) => 4,
            NaturalLevel::Region(Level::Town) => 6,
            _ => 9,
        };
        NodeCode::from_path(&self.0[..parent_digits]).ok()
    }

    /// True if `other` is this node or lies below it.
    pub fn contains(&self, other: &NodeCode) -> bool {
        other.path().starts_with(self.path())
    }

    /// The paths of this node's ancestors and itself, top down (for a grid: province … village, grids).
    pub fn ancestor_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        let full = self.path();
        for d in [2usize, 4, 6, 9, 12] {
            // Under a city without counties the county digits are 00: there is no county node.
            if d <= full.len() && !(d == 6 && full.len() > 6 && &full[4..6] == "00") {
                out.push(full[..d].to_owned());
            }
        }
        let mut d = REGION_CODE_LEN + GRID_SEGMENT_LEN;
        while d <= full.len() {
            out.push(full[..d].to_owned());
            d += GRID_SEGMENT_LEN;
        }
        out
    }

    /// The codes of this node's ancestors and itself, top down (the codes of
    /// [`NodeCode::ancestor_paths`]): for `WHERE code IN (…)` over settings and scopes.
    pub fn ancestor_codes(&self) -> Vec<String> {
        self.ancestor_paths()
            .iter()
            .filter_map(|p| NodeCode::from_path(p).ok())
            .map(|c| c.as_str().to_owned())
            .collect()
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a code says about its level by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NaturalLevel {
    /// A region code names its level.
    Region(Level),
    /// A grid code names its depth below the village; its level (big…unit) is declared.
    GridDepth(usize),
}

impl AsRef<str> for NodeCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NodeCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NodeCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The upper bound of the path range of a subtree: paths `p` with `prefix <= p < subtree_end(prefix)`.
pub fn subtree_end(prefix: &str) -> String {
    format!("{prefix}~")
}

/// Checks a node name: not blank, at most [`MAX_NAME_CHARS`] characters.
pub fn parse_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::invalid(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(DomainError::invalid(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Checks that a node of `level` with `code` may hang under a parent of `parent_level` with
/// `parent_code`: the code must extend the parent's path and the level must be deeper.
pub fn check_parent(
    code: &NodeCode,
    level: Level,
    parent_code: &NodeCode,
    parent_level: Level,
) -> Result<(), DomainError> {
    if !code.path().starts_with(parent_code.path()) || code.path() == parent_code.path() {
        return Err(DomainError::invalid(
            "code",
            format!(
                "code {code} is not under its parent's prefix {}",
                parent_code.path()
            ),
        ));
    }
    if level <= parent_level {
        return Err(DomainError::invalid(
            "level",
            format!("level {level} must be below its parent's level {parent_level}"),
        ));
    }
    if level.is_grid() && !(parent_level.is_grid() || parent_level == Level::Village) {
        return Err(DomainError::invalid(
            "parent",
            "a grid must hang under a village or another grid",
        ));
    }
    if level.is_grid() && code.natural_parent().as_ref() != Some(parent_code) {
        return Err(DomainError::invalid(
            "code",
            format!("grid code {code} must be its parent's code {parent_code} plus three digits"),
        ));
    }
    Ok(())
}

/// Checks that a declared level fits what the code itself says.
pub fn check_level(code: &NodeCode, level: Level) -> Result<(), DomainError> {
    match code.natural_level() {
        NaturalLevel::Region(l) if l == level => Ok(()),
        NaturalLevel::Region(l) => Err(DomainError::invalid(
            "level",
            format!("code {code} is a {l} code, not {level}"),
        )),
        NaturalLevel::GridDepth(_) if level.is_grid() => Ok(()),
        NaturalLevel::GridDepth(_) => Err(DomainError::invalid(
            "level",
            format!("code {code} is a grid code; level must be big, middle, small, micro or unit"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_know_their_level_path_and_parent() {
        let village = NodeCode::parse("441502001001").unwrap();
        assert_eq!(
            village.natural_level(),
            NaturalLevel::Region(Level::Village)
        );
        assert_eq!(village.path(), "441502001001");
        assert_eq!(village.natural_parent().unwrap().as_str(), "441502001000");
        let city = NodeCode::parse("441500000000").unwrap();
        assert_eq!(city.path(), "4415");
        assert_eq!(city.natural_parent().unwrap().as_str(), "440000000000");
        assert!(NodeCode::parse("440000000000")
            .unwrap()
            .natural_parent()
            .is_none());
        assert!(city.contains(&village));
        assert!(!village.contains(&city));
    }

    #[test]
    fn grid_codes_extend_their_parent() {
        let grid = NodeCode::parse("441502001001002").unwrap();
        assert_eq!(grid.natural_level(), NaturalLevel::GridDepth(1));
        assert_eq!(grid.natural_parent().unwrap().as_str(), "441502001001");
        assert_eq!(
            grid.ancestor_paths(),
            vec![
                "44",
                "4415",
                "441502",
                "441502001",
                "441502001001",
                "441502001001002"
            ]
        );
    }

    #[test]
    fn malformed_codes_are_refused() {
        for bad in [
            "",
            "abc",
            "4415",
            "4415020010010",
            "000000000000",
            "440000001000",
            "441502001000001",
            "441502001001000",
        ] {
            assert!(NodeCode::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn cities_without_counties_hold_towns_directly() {
        // 东莞 (4419) has no counties: its towns' codes keep the county digits at 00.
        let town = NodeCode::parse("441900003000").unwrap();
        assert_eq!(town.natural_level(), NaturalLevel::Region(Level::Town));
        assert_eq!(town.path(), "441900003");
        assert_eq!(town.natural_parent().unwrap().as_str(), "441900000000");
        let village = NodeCode::parse("441900003001").unwrap();
        assert_eq!(village.natural_parent().unwrap(), town);
        assert_eq!(
            NodeCode::parse("441900003001001").unwrap().ancestor_paths(),
            vec!["44", "4419", "441900003", "441900003001", "441900003001001"]
        );
        assert!(NodeCode::parse("441900000000").unwrap().contains(&village));
        let city = NodeCode::parse("441900000000").unwrap();
        assert!(check_parent(&town, Level::Town, &city, Level::City).is_ok());
        // Still refused: a village under a zero town, anything under a zero city.
        for bad in ["441900000001", "440000003000", "441500000001"] {
            assert!(NodeCode::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn from_path_pads_region_paths() {
        assert_eq!(
            NodeCode::from_path("4415").unwrap().as_str(),
            "441500000000"
        );
        assert_eq!(
            NodeCode::from_path("441502001001007").unwrap().as_str(),
            "441502001001007"
        );
    }

    #[test]
    fn parent_checks_refuse_codes_outside_the_prefix_and_shallower_levels() {
        let town = NodeCode::parse("441502001000").unwrap();
        let other_village = NodeCode::parse("441502002001").unwrap();
        assert!(check_parent(&other_village, Level::Village, &town, Level::Town).is_err());
        let village = NodeCode::parse("441502001001").unwrap();
        assert!(check_parent(&village, Level::Village, &town, Level::Town).is_ok());
        let grid = NodeCode::parse("441502001001001").unwrap();
        assert!(check_parent(&grid, Level::Small, &village, Level::Village).is_ok());
        assert!(check_parent(&grid, Level::Small, &town, Level::Town).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  新港街道 ").unwrap(), "新港街道");
        assert!(parse_name("   ").is_err());
        assert!(parse_name(&"长".repeat(101)).is_err());
    }
}
