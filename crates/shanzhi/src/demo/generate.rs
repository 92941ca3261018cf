//! The demo jurisdiction as data: real codes and names, real outlines of the province, its
//! cities and counties, synthetic towns, villages and grids tiled inside them, departments and
//! staff. Pure and deterministic: the same scale and seed give the same jurisdiction, and a
//! region's subdivision depends only on the seed and its own code, so 碣石镇 at town scale has the
//! outline it has inside 汕尾 at city scale.

use std::collections::{BTreeMap, BTreeSet};

use geo::{Area, InteriorPoint, Intersects, LineString, MultiPolygon, Point, Polygon};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shanzhi_domain::grid::polygon::round7;
use shanzhi_domain::grid::tiling::{self, Pt};
use shanzhi_domain::grid::Shape;
use shanzhi_domain::tree::{Level, NodeCode};
use shanzhi_domain::user::Role;

use super::boundary;
use super::division::{guangdong, short_village_name, Division};

/// How big a demo to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// One real town of Shanwei (碣石镇), about 300 grids.
    Town,
    /// Shanwei city (汕尾市), about 5,000 grids.
    City,
    /// Guangdong province, about 120,000 grids.
    Province,
}

impl Scale {
    /// The path of the jurisdiction's root.
    pub fn root_path(self) -> &'static str {
        match self {
            Scale::Town => "441581102",
            Scale::City => "4415",
            Scale::Province => "44",
        }
    }

    /// The word for the scale.
    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Town => "town",
            Scale::City => "city",
            Scale::Province => "province",
        }
    }

    /// How many grids a village gets.
    fn grids_per_village(self, rng: &mut StdRng) -> usize {
        match self {
            Scale::Town => 7,
            Scale::City => rng.gen_range(4..=7),
            Scale::Province => rng.gen_range(3..=6),
        }
    }
}

/// A node of the demo tree.
#[derive(Debug, Clone)]
pub struct DemoNode {
    pub code: NodeCode,
    pub parent: Option<NodeCode>,
    pub level: Level,
    pub name: String,
    pub shape: Option<Shape>,
    /// A point inside the shape, off its edges: ground truth for tests, the demo's hint.
    pub inside: Option<Pt>,
}

/// A department of the demo.
#[derive(Debug, Clone)]
pub struct DemoDepartment {
    pub code: String,
    pub name: String,
    pub region: NodeCode,
}

/// A login of the demo.
#[derive(Debug, Clone)]
pub struct DemoUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Option<NodeCode>,
    /// Index into [`DemoCity::departments`] for handlers.
    pub department: Option<usize>,
}

/// The whole demo jurisdiction.
pub struct DemoCity {
    pub scale: Scale,
    pub seed: u64,
    pub root: NodeCode,
    pub nodes: Vec<DemoNode>,
    pub departments: Vec<DemoDepartment>,
    pub users: Vec<DemoUser>,
    /// Residents the demo's population holds ([`super::base`]).
    pub residents: usize,
    /// What [`super::write`] built of the year of events, once it has (for the summary).
    pub history: std::sync::OnceLock<super::history::Tally>,
}

/// The departments every county (or the town, at town scale) has: (code stem, name suffix).
pub const DEPARTMENT_KINDS: [(&str, &str); 10] = [
    ("cg", "城市管理和综合执法局"),
    ("zj", "住房和城乡建设局"),
    ("yj", "应急管理局"),
    ("ga", "公安分局"),
    ("scjg", "市场监督管理局"),
    ("wj", "卫生健康局"),
    ("mz", "民政局"),
    ("sw", "水务局"),
    ("sthj", "生态环境分局"),
    ("jt", "交通运输局"),
];

impl DemoCity {
    /// Number of nodes at a level.
    pub fn count(&self, level: Level) -> usize {
        self.nodes.iter().filter(|n| n.level == level).count()
    }

    /// Number of grids (all grid levels).
    pub fn grid_count(&self) -> usize {
        self.nodes.iter().filter(|n| n.level.is_grid()).count()
    }
}

/// Builds the demo jurisdiction for `scale` from `seed`.
pub fn generate(scale: Scale, seed: u64) -> anyhow::Result<DemoCity> {
    build(scale, seed, scale.root_path())
}

/// Builds the part of the demo at `scale` under the region `root_path`: a region's subdivision
/// depends only on the seed and its code, so this is that subtree of the whole scale's demo.
fn build(scale: Scale, seed: u64, root_path: &str) -> anyhow::Result<DemoCity> {
    let all = guangdong();
    let outlines = boundary::guangdong()?;
    let divisions: BTreeMap<&str, &Division> = all.iter().map(|d| (d.code.path(), d)).collect();
    let mut children: BTreeMap<&str, Vec<&Division>> = BTreeMap::new();
    for d in &all {
        if let Some(p) = d
            .code
            .natural_parent()
            .and_then(|p| divisions.get(p.path()))
        {
            children.entry(p.code.path()).or_default().push(d);
        }
    }
    let tiler = Tiler {
        seed,
        outlines: &outlines,
        divisions,
        children,
    };
    let root = NodeCode::from_path(root_path)?;
    let root_div = all
        .iter()
        .find(|d| d.code.path() == root_path)
        .ok_or_else(|| anyhow::anyhow!("division {root_path} missing from the extract"))?;
    // The root's ancestors, without shapes.
    let ancestors: Vec<String> = root.ancestor_paths();
    let mut nodes: Vec<DemoNode> = all
        .iter()
        .filter(|d| d.code.path().len() < root_path.len())
        .filter(|d| ancestors.iter().any(|a| a == d.code.path()))
        .map(|d| DemoNode {
            code: d.code.clone(),
            parent: d.code.natural_parent(),
            level: d.level,
            name: d.name.clone(),
            shape: None,
            inside: None,
        })
        .collect();
    let mut stack: Vec<(&Division, Shape)> = vec![(root_div, tiler.outline(root_div)?)];
    while let Some((div, shape)) = stack.pop() {
        if div.level == Level::Village {
            let mut rng = tiler.rng(div.code.path());
            let n = scale.grids_per_village(&mut rng);
            let cells = split_clean(shape.geometry(), n, &mut rng)
                .map_err(|e| anyhow::anyhow!("tiling the grids of {}: {e}", div.code))?;
            let short = short_village_name(&div.name);
            for (i, cell) in cells.into_iter().enumerate() {
                nodes.push(DemoNode {
                    code: NodeCode::parse(&format!("{}{:03}", div.code.as_str(), i + 1))?,
                    parent: Some(div.code.clone()),
                    level: Level::Small,
                    name: format!("{short}第{}网格", i + 1),
                    inside: Some(inside(&cell)),
                    shape: Some(cell),
                });
            }
        } else {
            for (kid, cell) in tiler.children(div, &shape)?.into_iter().rev() {
                stack.push((kid, cell));
            }
        }
        nodes.push(DemoNode {
            code: div.code.clone(),
            parent: div.code.natural_parent(),
            level: div.level,
            name: div.name.clone(),
            inside: Some(inside(&shape)),
            shape: Some(shape),
        });
    }
    nodes.sort_by(|a, b| {
        a.code
            .path()
            .len()
            .cmp(&b.code.path().len())
            .then(a.code.cmp(&b.code))
    });

    // Departments sit at each county, and at the cities without counties (东莞, 中山), whose
    // bureaus serve their towns directly (at town scale: at the town).
    let cities_of_towns: BTreeSet<&NodeCode> = nodes
        .iter()
        .filter(|n| n.level == Level::Town)
        .filter_map(|n| n.parent.as_ref())
        .filter(|p| p.path().len() == 4)
        .collect();
    let serves = |n: &DemoNode| match scale {
        Scale::Town => n.level == Level::Town,
        _ => n.level == Level::County || cities_of_towns.contains(&n.code),
    };
    let mut departments = Vec::new();
    for n in nodes
        .iter()
        .filter(|n| serves(n) && n.code.path().starts_with(root_path))
    {
        for (stem, suffix) in DEPARTMENT_KINDS {
            departments.push(DemoDepartment {
                code: format!("{stem}-{}", n.code.path()),
                name: format!("{}{}", n.name, suffix),
                region: n.code.clone(),
            });
        }
    }
    let users = staff(&root, &root_div.name, &nodes, &departments);
    Ok(DemoCity {
        scale,
        seed,
        root,
        nodes,
        departments,
        users,
        residents: super::base::residents_by_default(scale),
        history: std::sync::OnceLock::new(),
    })
}

/// The demo's logins: leaders and specialists at the root, a dispatcher at every centre
/// (county, town, village), a worker for every grid, a handler for every department, citizens.
fn staff(
    root: &NodeCode,
    root_name: &str,
    nodes: &[DemoNode],
    departments: &[DemoDepartment],
) -> Vec<DemoUser> {
    let mut users = Vec::new();
    let at_root = |username: &str, role: Role, title: &str| DemoUser {
        username: username.to_owned(),
        display_name: format!("{root_name}{title}"),
        role,
        scope: Some(root.clone()),
        department: None,
    };
    // The administrator sits at the top of the tree (the province above a city demo, shapeless):
    // settings the whole tree shares (categories, the calendar) and the audit chain are theirs.
    let top = nodes
        .iter()
        .find(|n| n.parent.is_none())
        .map_or_else(|| root.clone(), |n| n.code.clone());
    users.push(DemoUser {
        scope: Some(top),
        ..at_root("admin", Role::Admin, "系统管理员")
    });
    users.push(at_root("leader", Role::Leader, "领导"));
    users.push(at_root("analyst", Role::Analyst, "研判分析员"));
    users.push(at_root("mediator", Role::Mediator, "调解员"));
    users.push(at_root(
        "dispatcher",
        Role::Dispatcher,
        "社会治理中心调度员",
    ));
    for n in nodes
        .iter()
        .filter(|n| root.contains(&n.code) && n.code != *root)
    {
        match n.level {
            Level::County | Level::Town | Level::Village => {
                users.push(DemoUser {
                    username: format!("disp-{}", n.code.path()),
                    display_name: format!("{}调度员", n.name),
                    role: Role::Dispatcher,
                    scope: Some(n.code.clone()),
                    department: None,
                });
                // A town's mediator login, linked to one of its mediators (demo::mediator).
                if n.level == Level::Town {
                    users.push(DemoUser {
                        username: format!("med-{}", n.code.path()),
                        display_name: format!("{}调解员", n.name),
                        role: Role::Mediator,
                        scope: Some(n.code.clone()),
                        department: None,
                    });
                }
            }
            l if l.is_grid() => users.push(DemoUser {
                username: format!("gw-{}", n.code.path()),
                display_name: format!("{}网格员", n.name),
                role: Role::GridWorker,
                scope: Some(n.code.clone()),
                department: None,
            }),
            _ => {}
        }
    }
    for (i, d) in departments.iter().enumerate() {
        users.push(DemoUser {
            username: format!("h-{}", d.code),
            display_name: format!("{}办理人", d.name),
            role: Role::Handler,
            scope: None,
            department: Some(i),
        });
    }
    for (i, name) in ["陈小梅", "林志强", "黄晓东", "吴丽华", "郑海生"]
        .iter()
        .enumerate()
    {
        users.push(DemoUser {
            username: if i == 0 {
                "citizen".to_owned()
            } else {
                format!("citizen{}", i + 1)
            },
            display_name: (*name).to_owned(),
            role: Role::Citizen,
            scope: None,
            department: None,
        });
    }
    users
}

/// Where a region's children get their outlines: the real ones when the extract has them,
/// otherwise cells tiled inside the region with a generator seeded by the region's own code.
struct Tiler<'a> {
    seed: u64,
    outlines: &'a BTreeMap<String, MultiPolygon<f64>>,
    divisions: BTreeMap<&'a str, &'a Division>,
    children: BTreeMap<&'a str, Vec<&'a Division>>,
}

impl<'a> Tiler<'a> {
    /// The random generator that subdivides the region at `path`: the seed mixed with the path
    /// (FNV-1a), so that each region's subdivision is the same whatever else is built.
    fn rng(&self, path: &str) -> StdRng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in path.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        StdRng::seed_from_u64(self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ h)
    }

    /// The outline of `div`: its real one, or its cell in its parent's tiling.
    fn outline(&self, div: &Division) -> anyhow::Result<Shape> {
        if let Some(real) = self.outlines.get(div.code.path()) {
            return Shape::new(real.clone())
                .map_err(|e| anyhow::anyhow!("the outline of {}: {e}", div.code));
        }
        let parent = div
            .code
            .natural_parent()
            .and_then(|p| self.divisions.get(p.path()).copied())
            .ok_or_else(|| anyhow::anyhow!("{} has no outline and no parent", div.code))?;
        let parent_shape = self.outline(parent)?;
        self.children(parent, &parent_shape)?
            .into_iter()
            .find(|(d, _)| d.code == div.code)
            .map(|(_, s)| s)
            .ok_or_else(|| anyhow::anyhow!("{} missing from its parent's tiling", div.code))
    }

    /// The children of `div` (not grids) with their outlines inside `shape`.
    fn children(
        &self,
        div: &Division,
        shape: &Shape,
    ) -> anyhow::Result<Vec<(&'a Division, Shape)>> {
        let kids = self
            .children
            .get(div.code.path())
            .cloned()
            .unwrap_or_default();
        let real = kids
            .iter()
            .filter(|k| self.outlines.contains_key(k.code.path()))
            .count();
        if real == kids.len() && real > 0 {
            return kids
                .into_iter()
                .map(|k| Ok((k, self.outline(k)?)))
                .collect();
        }
        anyhow::ensure!(
            real == 0,
            "{} has real outlines for only {real} of its {} children",
            div.code,
            kids.len()
        );
        let cells = split_clean(shape.geometry(), kids.len(), &mut self.rng(div.code.path()))
            .map_err(|e| anyhow::anyhow!("tiling the children of {}: {e}", div.code))?;
        Ok(kids.into_iter().zip(cells).collect())
    }
}

/// Smallest part of a generated cell kept, in square degrees (about 1 m²): slivers thinner than
/// the stored precision would not survive rounding.
const MIN_PART: f64 = 1e-10;

/// Rounds a generated cell to 1e-7° as it will be stored, dropping repeated vertices, rings
/// that collapse and parts smaller than [`MIN_PART`].
fn clean(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let ring = |ls: &LineString<f64>| -> Option<LineString<f64>> {
        let mut out: Vec<(f64, f64)> = Vec::with_capacity(ls.0.len());
        for c in &ls.0 {
            let p = (round7(c.x), round7(c.y));
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
        if let (Some(&first), Some(&last)) = (out.first(), out.last()) {
            if first != last {
                out.push(first);
            }
        }
        (out.len() >= 4).then(|| LineString::from(out))
    };
    MultiPolygon(
        mp.0.iter()
            .filter_map(|p| {
                let exterior = ring(p.exterior())?;
                let holes = p
                    .interiors()
                    .iter()
                    .filter_map(ring)
                    .filter(|h| Polygon::new(h.clone(), vec![]).unsigned_area() >= MIN_PART)
                    .collect();
                let poly = Polygon::new(exterior, holes);
                (poly.unsigned_area() >= MIN_PART).then_some(poly)
            })
            .collect(),
    )
}

/// Splits `parent` into `n` cells that survive rounding as valid shapes, redrawing the seeds if
/// a cell came out degenerate.
fn split_clean(
    parent: &MultiPolygon<f64>,
    n: usize,
    rng: &mut StdRng,
) -> Result<Vec<Shape>, String> {
    let mut why = String::new();
    for _ in 0..8 {
        let cells: Result<Vec<Shape>, String> = tiling::split_shape(parent, n, rng)
            .iter()
            .map(|c| Shape::new(clean(c)).map_err(|e| e.to_string()))
            .collect();
        match cells {
            Ok(cells) if cells.len() == n => return Ok(cells),
            Ok(cells) => why = format!("{} cells instead of {n}", cells.len()),
            Err(e) => why = e,
        }
    }
    Err(why)
}

/// A point inside `shape`, away from its edges where the shape allows.
fn inside(shape: &Shape) -> Pt {
    let mp = shape.geometry();
    mp.interior_point()
        .filter(|p| mp.intersects(p))
        .map_or_else(
            || {
                let b = shape.bbox();
                ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)
            },
            |p: Point<f64>| (p.x(), p.y()),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shanzhi_domain::grid::{Locator, LonLat};

    fn locator(city: &DemoCity) -> Locator {
        Locator::build(
            city.nodes
                .iter()
                .filter(|n| n.level.is_grid())
                .map(|n| (n.code.as_str().to_owned(), n.shape.clone().unwrap())),
        )
    }

    /// What the import will refuse: a child more than 0.5% of whose area lies outside its
    /// parent, and siblings that overlap by more than 0.1% of the smaller one's area.
    /// The demo tree passes the checks a real import makes (children inside their parents,
    /// siblings apart, at every level, with the default tolerances).
    fn assert_children_inside_and_apart(city: &DemoCity) {
        let features: Vec<serde_json::Value> = city
            .nodes
            .iter()
            .map(|n| {
                serde_json::json!({"type": "Feature",
                    "properties": {"code": n.code, "name": n.name, "level": n.level, "parent": n.parent},
                    "geometry": n.shape.as_ref().map(Shape::to_geojson)})
            })
            .collect();
        let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
        let plan = shanzhi_domain::tree::validate_import(
            &fc,
            &std::collections::HashMap::new(),
            &shanzhi_domain::tree::ImportOptions::default(),
        )
        .unwrap_or_else(|r| {
            panic!(
                "the demo tree is refused: {:?}",
                &r.errors[..r.errors.len().min(5)]
            )
        });
        assert_eq!(plan.inserts.len(), city.nodes.len());
    }

    #[test]
    fn the_town_has_about_300_grids_that_locate_to_themselves() {
        let city = generate(Scale::Town, 1).unwrap();
        assert_eq!(city.count(Level::Village), 42);
        assert_eq!(city.grid_count(), 294);
        let loc = locator(&city);
        for n in city.nodes.iter().filter(|n| n.level.is_grid()) {
            let (x, y) = n.inside.unwrap();
            let got = loc.locate(LonLat::parse(x, y).unwrap()).map(|l| l.code);
            assert_eq!(got.as_deref(), Some(n.code.as_str()));
        }
    }

    #[test]
    fn grids_tile_each_village_without_gap_or_overlap() {
        let city = generate(Scale::Town, 3).unwrap();
        assert_children_inside_and_apart(&city);
        for v in city.nodes.iter().filter(|n| n.level == Level::Village) {
            let total: f64 = city
                .nodes
                .iter()
                .filter(|n| n.parent.as_ref() == Some(&v.code))
                .map(|g| g.shape.as_ref().unwrap().area())
                .sum();
            let village = v.shape.as_ref().unwrap().area();
            assert!(
                (total - village).abs() / village < 1e-4,
                "village {} area {village} vs grids {total}",
                v.code
            );
        }
    }

    #[test]
    fn the_city_is_shanwei_on_its_real_outlines_with_about_5000_grids() {
        let city = generate(Scale::City, 1).unwrap();
        assert_eq!(city.root.as_str(), "441500000000");
        assert_eq!(city.count(Level::County), 4);
        assert_eq!(city.count(Level::Village), 907);
        let g = city.grid_count();
        assert!((4500..=5500).contains(&g), "{g} grids");
        assert_eq!(city.departments.len(), 40);
        let outlines = boundary::guangdong().unwrap();
        for n in city
            .nodes
            .iter()
            .filter(|n| n.level <= Level::County && n.shape.is_some())
        {
            assert_eq!(
                n.shape.as_ref().unwrap().geometry(),
                &outlines[n.code.path()],
                "{} is drawn on its real outline",
                n.code
            );
        }
        // The towns of each county cover it: they are the county's outline cut up.
        for c in city.nodes.iter().filter(|n| n.level == Level::County) {
            let towns: f64 = city
                .nodes
                .iter()
                .filter(|n| n.parent.as_ref() == Some(&c.code))
                .map(|t| t.shape.as_ref().unwrap().area())
                .sum();
            let county = c.shape.as_ref().unwrap().area();
            assert!(
                (towns - county).abs() / county < 1e-4,
                "{}: {towns} vs {county}",
                c.code
            );
        }
    }

    #[test]
    fn at_city_scale_every_child_lies_inside_its_parent_and_siblings_do_not_overlap() {
        let city = generate(Scale::City, 2).unwrap();
        assert_children_inside_and_apart(&city);
        // Every grid's inner point locates to it.
        let loc = locator(&city);
        for n in city.nodes.iter().filter(|n| n.level.is_grid()) {
            let (x, y) = n.inside.unwrap();
            let got = loc.locate(LonLat::parse(x, y).unwrap()).map(|l| l.code);
            assert_eq!(got.as_deref(), Some(n.code.as_str()));
        }
    }

    #[test]
    fn dongguan_and_zhongshan_have_their_towns_directly_under_the_city_at_province_scale() {
        let outlines = boundary::guangdong().unwrap();
        for (path, towns, villages) in [("4419", 36, 609), ("4420", 23, 287)] {
            let demo = build(Scale::Province, 1, path).unwrap();
            let city = NodeCode::from_path(path).unwrap();
            assert_eq!(demo.count(Level::County), 0, "{path} has no county");
            assert_eq!(demo.count(Level::Town), towns);
            assert_eq!(demo.count(Level::Village), villages);
            assert!(demo
                .nodes
                .iter()
                .filter(|n| n.level == Level::Town)
                .all(|n| n.parent.as_ref() == Some(&city)));
            let root = demo.nodes.iter().find(|n| n.code == city).unwrap();
            assert_eq!(root.shape.as_ref().unwrap().geometry(), &outlines[path]);
            assert_children_inside_and_apart(&demo);
            // The city's own bureaus serve its towns.
            assert_eq!(demo.departments.len(), 10);
            assert!(demo.departments.iter().all(|d| d.region == city));
        }
    }

    #[test]
    fn the_town_has_the_outline_it_has_inside_the_city() {
        let town = generate(Scale::Town, 4).unwrap();
        let city = generate(Scale::City, 4).unwrap();
        let shape = |c: &DemoCity| {
            c.nodes
                .iter()
                .find(|n| n.code.as_str() == "441581102000")
                .and_then(|n| n.shape.clone())
                .unwrap()
        };
        assert_eq!(shape(&town), shape(&city));
    }

    #[test]
    fn the_same_seed_builds_the_same_city() {
        let a = generate(Scale::Town, 9).unwrap();
        let b = generate(Scale::Town, 9).unwrap();
        assert_eq!(a.nodes.len(), b.nodes.len());
        assert!(a
            .nodes
            .iter()
            .zip(&b.nodes)
            .all(|(x, y)| x.code == y.code && x.shape == y.shape));
        let c = generate(Scale::Town, 10).unwrap();
        assert!(a
            .nodes
            .iter()
            .zip(&c.nodes)
            .any(|(x, y)| x.shape != y.shape));
    }
}
