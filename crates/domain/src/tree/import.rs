//! Checking a whole GeoJSON FeatureCollection of regions and grids before anything is written.
//!
//! The import is all-or-nothing: this function either returns every node, parents first, or the
//! list of features that are wrong, each named by its index in the collection and its code.

use std::collections::HashMap;

use geo::{Area, BooleanOps, InteriorPoint, MultiPolygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;
use serde::Serialize;
use serde_json::Value;

use super::{check_level, check_parent, parse_name, Level, NodeCode};
use crate::grid::{Crs, Shape};
use crate::DomainError;

/// Why a feature whose code is already in the tree is refused (a conflict with the stored
/// tree, not a malformed feature).
pub const ALREADY_EXISTS: &str =
    "duplicate code: a node with this code already exists (import in update mode to change it)";

/// Most features one import may carry.
pub const MAX_FEATURES: usize = 200_000;
/// Most errors reported back: past this the collection is clearly the wrong file.
pub const MAX_ERRORS: usize = 200;
/// Default share of the smaller sibling's area that two siblings may overlap: a shared edge
/// digitised twice, never a real overlap.
pub const DEFAULT_OVERLAP_TOLERANCE: f64 = 0.001;
/// Default share of a child's area that may lie outside its parent: outlines simplified apart
/// from each other (a county's edge a few metres off its city's).
pub const DEFAULT_OUTSIDE_TOLERANCE: f64 = 0.005;

/// How an import is checked.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Share of the smaller sibling's area two siblings may overlap.
    pub overlap_tolerance: f64,
    /// Share of a child's area that may lie outside its parent (its nearest ancestor with a shape).
    pub outside_tolerance: f64,
    /// The coordinate system declared for the file; None: the file's own `crs` member, else WGS-84.
    pub crs: Option<Crs>,
    /// Existing codes change (name, shape) instead of being refused.
    pub update: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            overlap_tolerance: DEFAULT_OVERLAP_TOLERANCE,
            outside_tolerance: DEFAULT_OUTSIDE_TOLERANCE,
            crs: None,
            update: false,
        }
    }
}

/// One checked node of an import, ready to be written.
#[derive(Debug, Clone)]
pub struct ImportNode {
    pub code: NodeCode,
    pub name: String,
    pub level: Level,
    pub parent: Option<NodeCode>,
    pub shape: Option<Shape>,
}

/// A change to an existing node: what is new (None: unchanged).
#[derive(Debug, Clone)]
pub struct NodeUpdate {
    /// Position of the feature in the collection.
    pub index: usize,
    pub code: NodeCode,
    pub name: Option<String>,
    pub shape: Option<Shape>,
}

/// What an import would do.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    /// New nodes, parents before children.
    pub inserts: Vec<ImportNode>,
    /// Existing nodes that change.
    pub updates: Vec<NodeUpdate>,
    /// Codes of features equal to what is stored.
    pub unchanged: Vec<String>,
    /// The coordinate system the positions were read in.
    pub crs: Crs,
}

/// Why an import was refused: the features that are wrong, in collection order.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub errors: Vec<ImportError>,
    /// True when checking stopped at [`MAX_ERRORS`]: there are more.
    pub capped: bool,
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

/// A node that already exists, as far as the import needs to know it: the nodes the collection
/// names, their parents and siblings, and the ancestors of the parents (for the containment
/// check when a parent has no shape).
#[derive(Debug, Clone)]
pub struct Existing {
    pub level: Level,
    pub name: String,
    pub shape: Option<Shape>,
    pub parent: Option<String>,
}

/// The code text of a feature's property `key` ("code" or "parent"): strings as they are,
/// whole numbers as their digits (spreadsheets and some GIS tools write codes as numbers); a
/// number with a fraction or an exponent is refused, it is not a code.
pub fn code_property(
    props: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<String>, DomainError> {
    match props.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
        Some(Value::Number(n)) => Err(DomainError::invalid(
            key,
            format!("{n} is not a code: write codes as strings of digits, e.g. \"441502001001\""),
        )),
        Some(_) => Err(DomainError::invalid(key, "must be a string of digits")),
    }
}

/// The code a feature names and the parent it hangs under (declared, or by the coding rules),
/// when both parse: what a caller loads from the store before [`validate_import`].
pub fn feature_codes(f: &Value) -> Option<(NodeCode, Option<NodeCode>)> {
    let props = f.get("properties")?.as_object()?;
    let code = NodeCode::parse(&code_property(props, "code").ok()??).ok()?;
    let parent = match code_property(props, "parent").ok()? {
        Some(p) => NodeCode::parse(&p).ok(),
        None => code.natural_parent(),
    };
    Some((code, parent))
}

/// The coordinate system of a collection: the one declared for the import, else its `crs`
/// member, else WGS-84.
pub fn collection_crs(collection: &Value, declared: Option<Crs>) -> Result<Crs, DomainError> {
    if let Some(c) = declared {
        return Ok(c);
    }
    match collection
        .get("crs")
        .and_then(|c| c.get("properties"))
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
    {
        Some(name) => Crs::from_geojson_name(name),
        None => Ok(Crs::Wgs84),
    }
}

/// Checks `collection` against the nodes that already exist (`existing`, keyed by code) and
/// returns what the import would do, or every feature that is wrong.
pub fn validate_import(
    collection: &Value,
    existing: &HashMap<String, Existing>,
    opts: &ImportOptions,
) -> Result<ImportPlan, Refusal> {
    let fail = |index: usize, code: Option<String>, field: &str, message: String| ImportError {
        index,
        code,
        field: field.to_owned(),
        message,
    };
    let whole = |field: &str, message: String| Refusal {
        errors: vec![fail(0, None, field, message)],
        capped: false,
    };
    let features = match collection.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => match collection.get("features").and_then(Value::as_array) {
            Some(f) => f,
            None => {
                return Err(whole(
                    "features",
                    "a FeatureCollection needs a features array".into(),
                ))
            }
        },
        _ => return Err(whole("type", "must be a GeoJSON FeatureCollection".into())),
    };
    if features.is_empty() {
        return Err(whole("features", "the collection has no features".into()));
    }
    if features.len() > MAX_FEATURES {
        return Err(whole(
            "features",
            format!("at most {MAX_FEATURES} features per import"),
        ));
    }
    let crs = collection_crs(collection, opts.crs).map_err(|e| match e {
        DomainError::Invalid { field, reason } => whole(&field, reason),
        other => whole("crs", other.to_string()),
    })?;

    let mut errors = Vec::new();
    let mut capped = false;
    let mut inserts: Vec<(usize, ImportNode)> = Vec::new();
    let mut updates: Vec<NodeUpdate> = Vec::new();
    let mut unchanged = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, f) in features.iter().enumerate() {
        if errors.len() >= MAX_ERRORS {
            capped = true;
            break;
        }
        let raw_code = f
            .get("properties")
            .and_then(Value::as_object)
            .and_then(|p| code_property(p, "code").ok().flatten());
        let raw = match parse_feature(f, crs) {
            Ok(raw) => raw,
            Err(DomainError::Invalid { field, reason }) => {
                errors.push(fail(index, raw_code, &field, reason));
                continue;
            }
            Err(e) => {
                errors.push(fail(index, raw_code, "feature", e.to_string()));
                continue;
            }
        };
        let code = raw.code.as_str().to_owned();
        if let Some(first) = seen.get(&code) {
            errors.push(fail(
                index,
                Some(code),
                "code",
                format!("duplicate code: feature {first} has it too"),
            ));
            continue;
        }
        seen.insert(code.clone(), index);
        match existing.get(&code) {
            Some(_) if !opts.update => {
                errors.push(fail(index, Some(code), "code", ALREADY_EXISTS.into()))
            }
            Some(old) => match raw.change_of(old) {
                Ok(None) => unchanged.push(code),
                Ok(Some((node_code, name, shape))) => updates.push(NodeUpdate {
                    index,
                    code: node_code,
                    name,
                    shape,
                }),
                Err(DomainError::Invalid { field, reason }) => {
                    errors.push(fail(index, Some(code), &field, reason))
                }
                Err(e) => errors.push(fail(index, Some(code), "feature", e.to_string())),
            },
            None => match raw.into_new() {
                Ok(node) => inserts.push((index, node)),
                Err(DomainError::Invalid { field, reason }) => {
                    errors.push(fail(index, Some(code), &field, reason))
                }
                Err(e) => errors.push(fail(index, Some(code), "feature", e.to_string())),
            },
        }
    }

    // Parents first, so that every parent check can see the level of an imported parent.
    inserts.sort_by_key(|(_, n)| n.code.path().len());
    let mut levels: HashMap<&str, Level> = existing
        .iter()
        .map(|(k, v)| (k.as_str(), v.level))
        .collect();
    for (_, node) in &inserts {
        levels.insert(node.code.as_str(), node.level);
    }
    for (index, node) in &inserts {
        let code = || Some(node.code.as_str().to_owned());
        match &node.parent {
            None if node.level != Level::Province => {
                errors.push(fail(*index, code(), "parent", "only a province may have no parent".into()))
            }
            None => {}
            Some(p) => match levels.get(p.as_str()) {
                None => errors.push(fail(
                    *index,
                    code(),
                    "parent",
                    format!("unknown parent {p}: it is neither in the file nor in the tree (an export carries its ancestors; import them first)"),
                )),
                Some(pl) => {
                    if let Err(DomainError::Invalid { field, reason }) = check_parent(&node.code, node.level, p, *pl) {
                        errors.push(fail(*index, code(), &field, reason));
                    }
                }
            },
        }
    }

    // The tree as it would be: every node's parent, name and shape.
    let mut tree: HashMap<&str, Planned> = existing
        .iter()
        .map(|(k, e)| {
            (
                k.as_str(),
                Planned {
                    index: None,
                    parent: e.parent.as_deref(),
                    name: &e.name,
                    shape: e.shape.as_ref(),
                    new_shape: false,
                },
            )
        })
        .collect();
    for (index, n) in &inserts {
        tree.insert(
            n.code.as_str(),
            Planned {
                index: Some(*index),
                parent: n.parent.as_ref().map(NodeCode::as_str),
                name: &n.name,
                shape: n.shape.as_ref(),
                new_shape: n.shape.is_some(),
            },
        );
    }
    for u in &updates {
        if let Some(t) = tree.get_mut(u.code.as_str()) {
            t.index = Some(u.index);
            if let Some(n) = &u.name {
                t.name = n;
            }
            if let Some(s) = &u.shape {
                t.shape = Some(s);
                t.new_shape = true;
            }
        }
    }
    if errors.is_empty() {
        check_containment(&tree, opts.outside_tolerance, &mut errors);
        let mut by_parent: HashMap<&str, Vec<(Option<usize>, &str, &Shape)>> = HashMap::new();
        for (code, t) in &tree {
            if let Some(s) = t.shape {
                by_parent.entry(t.parent.unwrap_or("")).or_default().push((
                    t.index.filter(|_| t.new_shape),
                    code,
                    s,
                ));
            }
        }
        let mut groups: Vec<_> = by_parent.into_values().collect();
        for g in &mut groups {
            g.sort_by(|a, b| a.1.cmp(b.1));
        }
        for group in &groups {
            overlaps_in(group, &tree, opts.overlap_tolerance, &mut errors);
        }
    }

    if errors.len() > MAX_ERRORS {
        capped = true;
    }
    if errors.is_empty() {
        Ok(ImportPlan {
            inserts: inserts.into_iter().map(|(_, n)| n).collect(),
            updates,
            unchanged,
            crs,
        })
    } else {
        errors.sort_by_key(|e| e.index);
        errors.truncate(MAX_ERRORS);
        Err(Refusal { errors, capped })
    }
}

/// A node of the tree as the import would leave it.
struct Planned<'a> {
    /// The feature that names it, if any.
    index: Option<usize>,
    parent: Option<&'a str>,
    name: &'a str,
    shape: Option<&'a Shape>,
    /// True when the import gives it a shape it did not have.
    new_shape: bool,
}

/// A child's area outside its parent, as a share of the child's, and a position in the largest
/// piece outside; None when the child lies inside within `tolerance`.
pub fn outside_parent(child: &Shape, parent: &Shape, tolerance: f64) -> Option<(f64, (f64, f64))> {
    let [cx0, cy0, cx1, cy1] = child.bbox();
    let [px0, py0, px1, py1] = parent.bbox();
    let disjoint = cx0 > px1 || cx1 < px0 || cy0 > py1 || cy1 < py0;
    let outside: MultiPolygon<f64> = if disjoint {
        child.geometry().clone()
    } else {
        child.geometry().difference(parent.geometry())
    };
    let share = outside.unsigned_area() / child.area();
    if share <= tolerance {
        return None;
    }
    Some((share, where_in(&outside)))
}

/// A position inside the largest polygon of `mp` (for messages).
fn where_in(mp: &MultiPolygon<f64>) -> (f64, f64) {
    mp.0.iter()
        .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
        .and_then(|p| p.interior_point())
        .map(|p| {
            (
                crate::grid::polygon::round7(p.x()),
                crate::grid::polygon::round7(p.y()),
            )
        })
        .unwrap_or_default()
}

/// Every node with a new shape must lie inside its nearest ancestor with a shape; a parent with
/// a new shape must still hold its children.
fn check_containment(tree: &HashMap<&str, Planned>, tolerance: f64, errors: &mut Vec<ImportError>) {
    let mut codes: Vec<&&str> = tree.keys().collect();
    codes.sort();
    for code in codes {
        let node = &tree[*code];
        let Some(shape) = node.shape else { continue };
        // The nearest ancestor with a shape.
        let mut up = node.parent;
        let mut ancestor = None;
        let mut hops = 0;
        while let Some(p) = up {
            let Some(pn) = tree.get(p) else { break };
            if let Some(ps) = pn.shape {
                ancestor = Some((p, pn, ps));
                break;
            }
            up = pn.parent;
            hops += 1;
            if hops > 20 {
                break;
            }
        }
        let Some((pcode, pnode, pshape)) = ancestor else {
            continue;
        };
        // Only a new shape on either side is this import's business.
        let (index, blame_parent) = match (
            node.index.filter(|_| node.new_shape),
            pnode.index.filter(|_| pnode.new_shape),
        ) {
            (Some(i), _) => (i, false),
            (None, Some(i)) => (i, true),
            (None, None) => continue,
        };
        if let Some((share, (x, y))) = outside_parent(shape, pshape, tolerance) {
            let message = if blame_parent {
                format!(
                    "its new shape leaves its child {code} {} {:.1}% outside (tolerance {:.1}%), e.g. at ({x}, {y})",
                    node.name,
                    share * 100.0,
                    tolerance * 100.0
                )
            } else {
                format!(
                    "lies {:.1}% outside its parent {pcode} {} (tolerance {:.1}%), e.g. at ({x}, {y})",
                    share * 100.0,
                    pnode.name,
                    tolerance * 100.0
                )
            };
            errors.push(ImportError {
                index,
                code: Some(if blame_parent {
                    pcode.to_owned()
                } else {
                    (*code).to_owned()
                }),
                field: "geometry".into(),
                message,
            });
        }
    }
}

fn overlaps_in(
    group: &[(Option<usize>, &str, &Shape)],
    tree: &HashMap<&str, Planned>,
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
    let rtree = RTree::bulk_load(entries.clone());
    for e in &entries {
        let i = e.data;
        for other in rtree.locate_in_envelope_intersecting(&e.geom().envelope_of()) {
            let j = other.data;
            // Each pair once; two unchanged shapes are not this import's business.
            if j <= i || (group[i].0.is_none() && group[j].0.is_none()) {
                continue;
            }
            let (a, b) = (group[i].2, group[j].2);
            let shared = a.geometry().intersection(b.geometry());
            let share = shared.unsigned_area() / a.area().min(b.area());
            if share > tolerance {
                let (reporter, other_idx) = match (group[i].0, group[j].0) {
                    (Some(x), Some(y)) if x < y => (j, i),
                    (Some(_), _) => (i, j),
                    (None, _) => (j, i),
                };
                let (index, code, _) = group[reporter];
                let neighbour = group[other_idx].1;
                let (x, y) = where_in(&shared);
                errors.push(ImportError {
                    index: index.unwrap_or(0),
                    code: Some(code.to_owned()),
                    field: "geometry".into(),
                    message: format!(
                        "overlaps its sibling {neighbour} {} by {:.1}% of the smaller one (tolerance {:.1}%), e.g. at ({x}, {y})",
                        tree.get(neighbour).map(|t| t.name).unwrap_or(""),
                        100.0 * share,
                        100.0 * tolerance
                    ),
                });
            }
        }
    }
}

/// The first sibling that `shape` overlaps by more than `tolerance` of the smaller area, with
/// the overlapping share (for checking a changed node against its unchanged siblings).
pub fn overlapping_sibling<'a>(
    shape: &Shape,
    siblings: impl IntoIterator<Item = (&'a str, &'a Shape)>,
    tolerance: f64,
) -> Option<(String, f64, (f64, f64))> {
    let [ax0, ay0, ax1, ay1] = shape.bbox();
    for (code, other) in siblings {
        let [bx0, by0, bx1, by1] = other.bbox();
        if bx0 > ax1 || bx1 < ax0 || by0 > ay1 || by1 < ay0 {
            continue;
        }
        let shared = shape.geometry().intersection(other.geometry());
        let share = shared.unsigned_area() / shape.area().min(other.area());
        if share > tolerance {
            return Some((code.to_owned(), share, where_in(&shared)));
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

/// A feature as given: what it says, checked one property at a time.
struct RawFeature {
    code: NodeCode,
    name: Option<String>,
    level: Option<Level>,
    /// The parent as declared (None: not given).
    parent: Option<NodeCode>,
    shape: Option<Shape>,
}

impl RawFeature {
    /// The node a feature for a new code describes.
    fn into_new(self) -> Result<ImportNode, DomainError> {
        let name = self
            .name
            .ok_or_else(|| DomainError::invalid("name", "is missing"))?;
        let level = match self.level {
            Some(l) => l,
            None => match self.code.natural_level() {
                super::NaturalLevel::Region(l) => l,
                super::NaturalLevel::GridDepth(_) => {
                    return Err(DomainError::invalid(
                        "level",
                        "a grid needs its level: big, middle, small, micro or unit",
                    ))
                }
            },
        };
        check_level(&self.code, level)?;
        let parent = self.parent.or_else(|| self.code.natural_parent());
        Ok(ImportNode {
            code: self.code,
            name,
            level,
            parent,
            shape: self.shape,
        })
    }

    /// What a feature for an existing code changes: None when nothing. Level and parent, when
    /// given, must be the stored ones (a node moves by getting a new code, not by import).
    #[allow(clippy::type_complexity)]
    fn change_of(
        self,
        old: &Existing,
    ) -> Result<Option<(NodeCode, Option<String>, Option<Shape>)>, DomainError> {
        if let Some(l) = self.level {
            if l != old.level {
                return Err(DomainError::invalid(
                    "level",
                    format!(
                        "{} is stored as a {}; an import does not change levels",
                        self.code, old.level
                    ),
                ));
            }
        }
        if let Some(p) = &self.parent {
            if old.parent.as_deref() != Some(p.as_str()) {
                return Err(DomainError::invalid(
                    "parent",
                    format!(
                        "{} hangs under {}; an import does not move nodes (a node under another parent gets another code)",
                        self.code,
                        old.parent.as_deref().unwrap_or("nothing")
                    ),
                ));
            }
        }
        let name = self.name.filter(|n| *n != old.name);
        let shape = self
            .shape
            .filter(|s| old.shape.as_ref().map(Shape::to_geojson) != Some(s.to_geojson()));
        Ok(if name.is_none() && shape.is_none() {
            None
        } else {
            Some((self.code, name, shape))
        })
    }
}

fn parse_feature(f: &Value, crs: Crs) -> Result<RawFeature, DomainError> {
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
            Some(_) => Err(DomainError::invalid(key, "must be a string")),
        }
    };
    let code = NodeCode::parse(
        &code_property(props, "code")?.ok_or_else(|| DomainError::invalid("code", "is missing"))?,
    )?;
    let name = text("name")?.map(|n| parse_name(&n)).transpose()?;
    let level = text("level")?.map(|l| Level::parse(&l)).transpose()?;
    let parent = code_property(props, "parent")?
        .map(|p| {
            NodeCode::parse(&p).map_err(|e| match e {
                DomainError::Invalid { reason, .. } => DomainError::invalid("parent", reason),
                other => other,
            })
        })
        .transpose()?;
    let shape = match f.get("geometry") {
        None | Some(Value::Null) => None,
        Some(g) => Some(Shape::from_geojson_in(g, crs)?),
    };
    Ok(RawFeature {
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

    fn existing(level: Level, parent: Option<&str>, shape: Option<Value>) -> Existing {
        Existing {
            level,
            name: "stored".into(),
            shape: shape.map(|g| Shape::from_geojson(&g).unwrap()),
            parent: parent.map(str::to_owned),
        }
    }

    fn village() -> HashMap<String, Existing> {
        HashMap::from([(
            "441502001001".to_owned(),
            existing(Level::Village, Some("441502001000"), None),
        )])
    }

    fn check(
        fc: &Value,
        existing: &HashMap<String, Existing>,
    ) -> Result<ImportPlan, Vec<ImportError>> {
        validate_import(fc, existing, &ImportOptions::default()).map_err(|r| r.errors)
    }

    #[test]
    fn two_adjacent_grids_import_cleanly() {
        let fc = json!({"type": "FeatureCollection", "features": [
            feature("441502001001001", "small", sq(0.0, 0.0, 1.0)),
            feature("441502001001002", "small", sq(1.0, 0.0, 1.0)),
        ]});
        let nodes = check(&fc, &village()).unwrap();
        assert_eq!(nodes.inserts.len(), 2);
    }

    #[test]
    fn overlapping_siblings_are_named_by_index_and_code() {
        let fc = json!({"type": "FeatureCollection", "features": [
            feature("441502001001001", "small", sq(0.0, 0.0, 1.0)),
            feature("441502001001002", "small", sq(0.5, 0.0, 1.0)),
        ]});
        let errs = check(&fc, &village()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].index, 1);
        assert_eq!(errs[0].code.as_deref(), Some("441502001001002"));
        assert!(
            errs[0]
                .message
                .contains("overlaps its sibling 441502001001001")
                && errs[0].message.contains("at (0.75, 0.5)"),
            "{}",
            errs[0].message
        );
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
                existing(Level::Village, None, None),
            ),
            ("441502001000".to_owned(), existing(Level::Town, None, None)),
        ]);
        let errs = check(&fc, &existing).unwrap_err();
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
        let errs = check(&fc, &village()).unwrap_err();
        assert_eq!(errs[0].field, "geometry");
        assert_eq!(errs[0].code.as_deref(), Some("441502001001001"));
    }

    #[test]
    fn a_child_outside_its_parent_is_refused_naming_the_parent_and_where() {
        // The village has a shape; a grid drawn far away (Beijing under a Shanwei village).
        let mut ex = village();
        ex.get_mut("441502001001").unwrap().shape =
            Some(Shape::from_geojson(&sq(115.0, 22.0, 1.0)).unwrap());
        let fc = json!({"type": "FeatureCollection", "features": [
            feature("441502001001001", "small", sq(116.3, 39.9, 0.01)),
            feature("441502001001002", "small", sq(115.99, 22.5, 0.02)),
            feature("441502001001003", "small", sq(115.1, 22.1, 0.1)),
        ]});
        let errs = check(&fc, &ex).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0]
                .message
                .contains("100.0% outside its parent 441502001001 stored"),
            "{}",
            errs[0].message
        );
        assert!(
            errs[0].message.contains("(116.305, 39.905)"),
            "{}",
            errs[0].message
        );
        assert!(
            errs[1].message.contains("50.0% outside"),
            "{}",
            errs[1].message
        );
    }

    #[test]
    fn a_child_is_checked_against_its_nearest_ancestor_with_a_shape() {
        // Town with a shape, village without: a grid must still lie in the town.
        let mut ex = village();
        ex.insert(
            "441502001000".into(),
            existing(Level::Town, Some("441502000000"), Some(sq(0.0, 0.0, 1.0))),
        );
        let fc = json!({"type": "FeatureCollection", "features": [feature("441502001001001", "small", sq(5.0, 5.0, 0.1))]});
        let errs = check(&fc, &ex).unwrap_err();
        assert!(
            errs[0].message.contains("outside its parent 441502001000"),
            "{}",
            errs[0].message
        );
    }

    #[test]
    fn overlapping_regions_are_refused_at_every_level() {
        let fc = json!({"type": "FeatureCollection", "features": [
            json!({"type": "Feature", "properties": {"code": "440000000000", "name": "广东省"}, "geometry": sq(0.0, 0.0, 10.0)}),
            json!({"type": "Feature", "properties": {"code": "441500000000", "name": "汕尾市"}, "geometry": sq(0.0, 0.0, 5.0)}),
            json!({"type": "Feature", "properties": {"code": "441502000000", "name": "城区"}, "geometry": sq(0.0, 0.0, 2.0)}),
            json!({"type": "Feature", "properties": {"code": "441523000000", "name": "陆河县"}, "geometry": sq(1.0, 0.0, 2.0)}),
        ]});
        let errs = check(&fc, &HashMap::new()).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].code.as_deref(), Some("441523000000"));
        assert!(
            errs[0]
                .message
                .contains("overlaps its sibling 441502000000 城区 by 50.0%"),
            "{}",
            errs[0].message
        );
    }

    #[test]
    fn update_mode_changes_names_and_shapes_and_counts_the_rest_unchanged() {
        let mut ex = village();
        ex.insert(
            "441502001001001".into(),
            existing(Level::Small, Some("441502001001"), Some(sq(0.0, 0.0, 1.0))),
        );
        ex.insert(
            "441502001001002".into(),
            existing(Level::Small, Some("441502001001"), Some(sq(1.0, 0.0, 1.0))),
        );
        let fc = json!({"type": "FeatureCollection", "features": [
            json!({"type": "Feature", "properties": {"code": "441502001001001"}, "geometry": sq(0.0, 0.0, 0.9)}),
            json!({"type": "Feature", "properties": {"code": "441502001001002", "name": "stored"}, "geometry": sq(1.0, 0.0, 1.0)}),
            feature("441502001001003", "small", sq(2.0, 0.0, 1.0)),
        ]});
        assert!(check(&fc, &ex).unwrap_err()[0]
            .message
            .contains("already exists"));
        let plan = validate_import(
            &fc,
            &ex,
            &ImportOptions {
                update: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(plan.inserts.len(), 1);
        assert_eq!(plan.updates.len(), 1);
        assert!(plan.updates[0].name.is_none() && plan.updates[0].shape.is_some());
        assert_eq!(plan.unchanged, vec!["441502001001002".to_owned()]);
        // A new shape that overlaps an unchanged sibling is refused; so is a move.
        let fc = json!({"type": "FeatureCollection", "features": [
            json!({"type": "Feature", "properties": {"code": "441502001001001"}, "geometry": sq(0.5, 0.0, 1.0)}),
            json!({"type": "Feature", "properties": {"code": "441502001001002", "parent": "441502001002"}, "geometry": null}),
        ]});
        let errs = validate_import(
            &fc,
            &ex,
            &ImportOptions {
                update: true,
                ..Default::default()
            },
        )
        .unwrap_err()
        .errors;
        assert_eq!(errs[0].field, "parent", "{errs:?}");
    }

    #[test]
    fn numeric_codes_are_read_as_digits_and_fractions_are_refused() {
        let fc = json!({"type": "FeatureCollection", "features": [
            json!({"type": "Feature", "properties": {"code": 441502001001_u64, "name": "x", "parent": 441502001000_u64}, "geometry": null}),
            json!({"type": "Feature", "properties": {"code": 441502001002.5, "name": "y"}, "geometry": null}),
        ]});
        let mut ex = HashMap::new();
        ex.insert("441502001000".to_owned(), existing(Level::Town, None, None));
        let errs = check(&fc, &ex).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!((errs[0].index, errs[0].field.as_str()), (1, "code"));
        assert!(errs[0].message.contains("is not a code"));
        assert_eq!(
            feature_codes(&fc["features"][0])
                .unwrap()
                .1
                .unwrap()
                .as_str(),
            "441502001000"
        );
    }

    #[test]
    fn grids_may_come_without_shapes_and_the_file_crs_member_is_read() {
        let fc = json!({"type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
            "features": [json!({"type": "Feature", "properties": {"code": "441502001001001", "name": "一网格", "level": "small"}, "geometry": null})]});
        let errs = check(&fc, &village()).unwrap_err();
        assert_eq!(errs[0].field, "crs");
        let fc = json!({"type": "FeatureCollection", "features": fc["features"].clone()});
        assert_eq!(check(&fc, &village()).unwrap().inserts.len(), 1);
    }
}
