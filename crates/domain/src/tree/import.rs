//! Checking a whole GeoJSON FeatureCollection of regions and grids before anything is written.
//!
//! The import is all-or-nothing: this function either returns every node, parents first, or the
//! list of features that are wrong, each named by its index in the collection and its code.

use std::collections::HashMap;

use geo::{Area, BooleanOps};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;
use serde::Serialize;
use serde_json::Value;

use super::{check_level, check_parent, parse_name, Level, NodeCode};
use crate::grid::Shape;
use crate::DomainError;

/// Most features one import may carry.
/// Why a feature whose code is already in the tree is refused (a conflict with the stored
/// tree, not a malformed feature).
pub const ALREADY_EXISTS: &str = "duplicate code: a node with this code already exists";

pub const MAX_FEATURES: usize = 200_000;
/// Most errors reported back: past this the collection is clearly the wrong file.
const MAX_ERRORS: usize = 200;

/// One checked node of an import, ready to be written.
#[derive(Debug, Clone)]
pub struct ImportNode {
    pub code: NodeCode,
    pub name: String,
    pub level: Level,
    pub parent: Option<NodeCode>,
    pub shape: Option<Shape>,
}

/// What is wrong with one feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportError {
    /// Position of the feature in the collection, from 0.
    pub index: usize,
    /// The feature's code as given, if it had one.
    pub code: Option<String>,
    pub field: String,
    pub message: String,
}

/// A node that already exists, as far as the import needs to know it.
#[derive(Debug, Clone)]
pub struct Existing {
    pub level: Level,
    /// Shapes of existing grids that share a parent with an imported grid (for the overlap check).
    pub shape: Option<Shape>,
    pub parent: Option<String>,
}

/// Checks `collection` against the nodes that already exist (`existing`, keyed by code) and
/// returns the nodes to insert, parents before children. `overlap_tolerance` is the share of the
/// smaller grid's area that two sibling grids may overlap (rounding at shared edges).
pub fn validate_import(
    collection: &Value,
    existing: &HashMap<String, Existing>,
    overlap_tolerance: f64,
) -> Result<Vec<ImportNode>, Vec<ImportError>> {
    let fail = |index: usize, code: Option<String>, field: &str, message: String| ImportError {
        index,
        code,
        field: field.to_owned(),
        message,
    };
    let features = match collection.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => match collection.get("features").and_then(Value::as_array) {
            Some(f) => f,
            None => {
                return Err(vec![fail(
                    0,
                    None,
                    "features",
                    "a FeatureCollection needs a features array".into(),
                )])
            }
        },
        _ => {
            return Err(vec![fail(
                0,
                None,
                "type",
                "must be a GeoJSON FeatureCollection".into(),
            )])
        }
    };
    if features.is_empty() {
        return Err(vec![fail(
            0,
            None,
            "features",
            "the collection has no features".into(),
        )]);
    }
    if features.len() > MAX_FEATURES {
        return Err(vec![fail(
            0,
            None,
            "features",
            format!("at most {MAX_FEATURES} features per import"),
        )]);
    }

    let mut errors = Vec::new();
    let mut parsed: Vec<(usize, ImportNode)> = Vec::with_capacity(features.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, f) in features.iter().enumerate() {
        if errors.len() >= MAX_ERRORS {
            break;
        }
        let props = f.get("properties").and_then(Value::as_object);
        let raw_code = props.and_then(|p| p.get("code")).and_then(|c| match c {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        match parse_feature(f) {
            Ok(node) => {
                let code = node.code.as_str().to_owned();
                if let Some(first) = seen.get(&code) {
                    errors.push(fail(
                        index,
                        Some(code),
                        "code",
                        format!("duplicate code: feature {first} has it too"),
                    ));
                } else if existing.contains_key(&code) {
                    errors.push(fail(index, Some(code), "code", ALREADY_EXISTS.into()));
                } else {
                    seen.insert(code, index);
                    parsed.push((index, node));
                }
            }
            Err(DomainError::Invalid { field, reason }) => {
                errors.push(fail(index, raw_code, &field, reason))
            }
            Err(e) => errors.push(fail(index, raw_code, "feature", e.to_string())),
        }
    }

    // Parents first, so that every parent check can see the level of an imported parent.
    parsed.sort_by_key(|(_, n)| n.code.path().len());
    let mut levels: HashMap<String, Level> =
        existing.iter().map(|(k, v)| (k.clone(), v.level)).collect();
    for (index, node) in &parsed {
        levels.insert(node.code.as_str().to_owned(), node.level);
        let _ = index;
    }
    for (index, node) in &parsed {
        let code = || Some(node.code.as_str().to_owned());
        match &node.parent {
            None => {
                if node.level != Level::Province {
                    errors.push(fail(
                        *index,
                        code(),
                        "parent",
                        "only a province may have no parent".into(),
                    ));
                }
            }
            Some(p) => match levels.get(p.as_str()) {
                None => errors.push(fail(
                    *index,
                    code(),
                    "parent",
                    format!("unknown parent {p}"),
                )),
                Some(pl) => {
                    if let Err(DomainError::Invalid { field, reason }) =
                        check_parent(&node.code, node.level, p, *pl)
                    {
                        errors.push(fail(*index, code(), &field, reason));
                    }
                }
            },
        }
    }

    // Sibling grids must not overlap by more than the tolerance.
    let mut by_parent: HashMap<&str, Vec<(Option<usize>, &str, &Shape)>> = HashMap::new();
    for (index, node) in &parsed {
        if let (true, Some(p), Some(s)) = (node.level.is_grid(), &node.parent, &node.shape) {
            by_parent
                .entry(p.as_str())
                .or_default()
                .push((Some(*index), node.code.as_str(), s));
        }
    }
    for (code, e) in existing {
        if let (Some(p), Some(s)) = (&e.parent, &e.shape) {
            if let Some(group) = by_parent.get_mut(p.as_str()) {
                group.push((None, code.as_str(), s));
            }
        }
    }
    for group in by_parent.values() {
        overlaps_in(group, overlap_tolerance, &mut errors);
    }

    if errors.is_empty() {
        Ok(parsed.into_iter().map(|(_, n)| n).collect())
    } else {
        errors.sort_by_key(|e| e.index);
        Err(errors)
    }
}

fn overlaps_in(
    group: &[(Option<usize>, &str, &Shape)],
    tolerance: f64,
    errors: &mut Vec<ImportError>,
) {
    let entries: Vec<_> = group
        .iter()
        .enumerate()
        .map(|(i, (_, _, s))| {
            let [x0, y0, x1, y1] = s.bbox();
            GeomWithData::new(Rectangle::from_corners([x0, y0], [x1, y1]), i)
        })
        .collect();
    let tree = RTree::bulk_load(entries.clone());
    for e in &entries {
        let i = e.data;
        for other in tree.locate_in_envelope_intersecting(&e.geom().envelope_of()) {
            let j = other.data;
            // Each pair once; two existing grids are not this import's business.
            if j <= i || (group[i].0.is_none() && group[j].0.is_none()) {
                continue;
            }
            let (a, b) = (group[i].2, group[j].2);
            let shared = a.geometry().intersection(b.geometry()).unsigned_area();
            let smaller = a.area().min(b.area());
            if smaller > 0.0 && shared / smaller > tolerance {
                let (reporter, other_idx) = match (group[i].0, group[j].0) {
                    (Some(x), Some(y)) if x < y => (j, i),
                    (Some(_), _) => (i, j),
                    (None, _) => (j, i),
                };
                let (index, code, _) = group[reporter];
                errors.push(ImportError {
                    index: index.unwrap_or(0),
                    code: Some(code.to_owned()),
                    field: "geometry".into(),
                    message: format!(
                        "overlaps sibling grid {} by {:.1}% of the smaller grid (tolerance {:.1}%)",
                        group[other_idx].1,
                        100.0 * shared / smaller,
                        100.0 * tolerance
                    ),
                });
            }
        }
    }
}

/// The first sibling that `shape` overlaps by more than `tolerance` of the smaller area, with
/// the overlapping share (for checking a changed grid against its unchanged siblings).
pub fn overlapping_sibling<'a>(
    shape: &Shape,
    siblings: impl IntoIterator<Item = (&'a str, &'a Shape)>,
    tolerance: f64,
) -> Option<(String, f64)> {
    let [ax0, ay0, ax1, ay1] = shape.bbox();
    for (code, other) in siblings {
        let [bx0, by0, bx1, by1] = other.bbox();
        if bx0 > ax1 || bx1 < ax0 || by0 > ay1 || by1 < ay0 {
            continue;
        }
        let shared = shape
            .geometry()
            .intersection(other.geometry())
            .unsigned_area();
        let smaller = shape.area().min(other.area());
        if smaller > 0.0 && shared / smaller > tolerance {
            return Some((code.to_owned(), shared / smaller));
        }
    }
    None
}

trait EnvelopeOf {
    fn envelope_of(&self) -> rstar::AABB<[f64; 2]>;
}

impl EnvelopeOf for Rectangle<[f64; 2]> {
    fn envelope_of(&self) -> rstar::AABB<[f64; 2]> {
        rstar::AABB::from_corners(self.lower(), self.upper())
    }
}

fn parse_feature(f: &Value) -> Result<ImportNode, DomainError> {
    if f.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(DomainError::invalid("type", "must be a GeoJSON Feature"));
    }
    let props = f
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            DomainError::invalid(
                "properties",
                "a feature needs properties with code and name",
            )
        })?;
    let text = |key: &str| -> Result<Option<String>, DomainError> {
        match props.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) if key == "code" || key == "parent" => Ok(Some(n.to_string())),
            Some(_) => Err(DomainError::invalid(key, "must be a string")),
        }
    };
    let code =
        NodeCode::parse(&text("code")?.ok_or_else(|| DomainError::invalid("code", "is missing"))?)?;
    let name =
        parse_name(&text("name")?.ok_or_else(|| DomainError::invalid("name", "is missing"))?)?;
    let level = match text("level")? {
        Some(l) => Level::parse(&l)?,
        None => match code.natural_level() {
            super::NaturalLevel::Region(l) => l,
            super::NaturalLevel::GridDepth(_) => {
                return Err(DomainError::invalid(
                    "level",
                    "a grid needs its level: big, middle, small, micro or unit",
                ))
            }
        },
    };
    check_level(&code, level)?;
    let parent = match text("parent")? {
        Some(p) => Some(NodeCode::parse(&p).map_err(|e| match e {
            DomainError::Invalid { reason, .. } => DomainError::invalid("parent", reason),
            other => other,
        })?),
        None => code.natural_parent(),
    };
    let shape = match f.get("geometry") {
        None | Some(Value::Null) => None,
        Some(g) => Some(Shape::from_geojson(g)?),
    };
    if level.is_grid() && shape.is_none() {
        return Err(DomainError::invalid("geometry", "a grid needs a polygon"));
    }
    Ok(ImportNode {
        code,
        name,
        level,
        parent,
        shape,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sq(x: f64, y: f64, s: f64) -> Value {
        json!({"type": "Polygon", "coordinates": [[[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]]})
    }

    fn feature(code: &str, level: &str, geometry: Value) -> Value {
        json!({"type": "Feature", "properties": {"code": code, "name": format!("n{code}"), "level": level}, "geometry": geometry})
    }

    fn village() -> HashMap<String, Existing> {
        HashMap::from([(
            "441502001001".to_owned(),
            Existing {
                level: Level::Village,
                shape: None,
                parent: Some("441502001000".into()),
            },
        )])
    }

    #[test]
    fn two_adjacent_grids_import_cleanly() {
        let fc = json!({"type": "FeatureCollection", "features": [
            feature("441502001001001", "small", sq(0.0, 0.0, 1.0)),
            feature("441502001001002", "small", sq(1.0, 0.0, 1.0)),
        ]});
        let nodes = validate_import(&fc, &village(), 0.001).unwrap();
        assert_eq!(nodes.len(), 2);
    }

    #[test]
    fn overlapping_siblings_are_named_by_index_and_code() {
        let fc = json!({"type": "FeatureCollection", "features": [
            feature("441502001001001", "small", sq(0.0, 0.0, 1.0)),
            feature("441502001001002", "small", sq(0.5, 0.0, 1.0)),
        ]});
        let errs = validate_import(&fc, &village(), 0.001).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].index, 1);
        assert_eq!(errs[0].code.as_deref(), Some("441502001001002"));
        assert!(errs[0].message.contains("overlaps"), "{}", errs[0].message);
    }

    #[test]
    fn unknown_parent_duplicate_and_foreign_prefix_are_refused() {
        let fc = json!({"type": "FeatureCollection", "features": [
            feature("441502009001001", "small", sq(0.0, 0.0, 1.0)),
            feature("441502001001001", "small", sq(2.0, 0.0, 1.0)),
            feature("441502001001001", "small", sq(4.0, 0.0, 1.0)),
            json!({"type": "Feature", "properties": {"code": "441502002001", "name": "x", "parent": "441502001000"}, "geometry": null}),
        ]});
        let existing = HashMap::from([
            (
                "441502001001".to_owned(),
                Existing {
                    level: Level::Village,
                    shape: None,
                    parent: None,
                },
            ),
            (
                "441502001000".to_owned(),
                Existing {
                    level: Level::Town,
                    shape: None,
                    parent: None,
                },
            ),
        ]);
        let errs = validate_import(&fc, &existing, 0.001).unwrap_err();
        let by_index: Vec<(usize, &str)> =
            errs.iter().map(|e| (e.index, e.field.as_str())).collect();
        assert_eq!(
            by_index,
            vec![(0, "parent"), (2, "code"), (3, "code")],
            "{errs:?}"
        );
        assert!(errs[0].message.contains("unknown parent"));
        assert!(errs[1].message.contains("duplicate"));
        assert!(errs[2].message.contains("prefix"));
    }

    #[test]
    fn a_self_intersecting_grid_is_refused() {
        let bow =
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]});
        let fc = json!({"type": "FeatureCollection", "features": [feature("441502001001001", "small", bow)]});
        let errs = validate_import(&fc, &village(), 0.001).unwrap_err();
        assert_eq!(errs[0].field, "geometry");
        assert_eq!(errs[0].code.as_deref(), Some("441502001001001"));
    }
}
