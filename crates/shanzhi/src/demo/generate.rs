//! The demo jurisdiction as data: real codes and names, synthetic boundaries, departments and
//! staff. Pure and deterministic: the same scale and seed give the same city.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shanzhi_domain::grid::polygon::round7;
use shanzhi_domain::grid::tiling::{self, Pt};
use shanzhi_domain::grid::Shape;
use shanzhi_domain::tree::{Level, NodeCode};
use shanzhi_domain::user::Role;

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

    /// A rough convex outline of the root (WGS-84), open ring.
    fn outline(self) -> Vec<Pt> {
        match self {
            // 碣石镇, on the coast of Lufeng.
            Scale::Town => {
                let (cx, cy, r) = (115.83, 22.83, 0.07);
                (0..8)
                    .map(|i| {
                        let a = std::f64::consts::PI * 2.0 * i as f64 / 8.0;
                        (cx + r * a.cos() * 1.1, cy + r * a.sin())
                    })
                    .collect()
            }
            // 汕尾市: from 鹅埠 in the west to 甲子 in the east, the sea to the south.
            Scale::City => vec![
                (114.90, 22.95),
                (115.20, 22.72),
                (115.60, 22.66),
                (116.00, 22.78),
                (116.20, 22.90),
                (116.18, 23.12),
                (115.75, 23.42),
                (115.30, 23.47),
                (114.95, 23.25),
            ],
            // 广东省, coarsely and convexly.
            Scale::Province => vec![
                (109.80, 21.40),
                (110.30, 20.25),
                (111.60, 21.40),
                (114.00, 22.20),
                (116.50, 22.80),
                (117.25, 23.70),
                (116.30, 24.80),
                (114.50, 25.45),
                (112.50, 25.35),
                (111.30, 24.10),
                (109.80, 22.40),
            ],
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
    /// The outline as generated (convex, open ring): ground truth for tests.
    pub ring: Option<Vec<Pt>>,
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
    let root_path = scale.root_path();
    let all = guangdong();
    // The root's ancestors (without shapes) plus the root's whole subtree.
    let ancestors: Vec<String> = NodeCode::from_path(root_path)?.ancestor_paths();
    let selected: Vec<&Division> = all
        .iter()
        .filter(|d| {
            d.code.path().starts_with(root_path) || ancestors.iter().any(|a| a == d.code.path())
        })
        .collect();
    let mut children: BTreeMap<String, Vec<&Division>> = BTreeMap::new();
    for d in &selected {
        if let Some(p) = d.code.natural_parent() {
            children.entry(p.path().to_owned()).or_default().push(d);
        }
    }
    let root = NodeCode::from_path(root_path)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut nodes = Vec::new();
    for d in &selected {
        if d.code.path().len() < root_path.len() {
            nodes.push(DemoNode {
                code: d.code.clone(),
                parent: d.code.natural_parent(),
                level: d.level,
                name: d.name.clone(),
                shape: None,
                ring: None,
            });
        }
    }
    let root_div = selected
        .iter()
        .find(|d| d.code.path() == root_path)
        .ok_or_else(|| anyhow::anyhow!("division {root_path} missing from the extract"))?;
    let mut stack: Vec<(&Division, Vec<Pt>)> = vec![(root_div, scale.outline())];
    while let Some((div, ring)) = stack.pop() {
        nodes.push(DemoNode {
            code: div.code.clone(),
            parent: div.code.natural_parent(),
            level: div.level,
            name: div.name.clone(),
            shape: Some(shape_of(&ring)?),
            ring: Some(ring.clone()),
        });
        if div.level == Level::Village {
            let n = scale.grids_per_village(&mut rng);
            let cells = split_clean(&ring, n, &mut rng);
            let short = short_village_name(&div.name);
            for (i, cell) in cells.into_iter().enumerate() {
                let code = NodeCode::parse(&format!("{}{:03}", div.code.as_str(), i + 1))?;
                nodes.push(DemoNode {
                    code,
                    parent: Some(div.code.clone()),
                    level: Level::Small,
                    name: format!("{short}第{}网格", i + 1),
                    shape: Some(shape_of(&cell)?),
                    ring: Some(cell),
                });
            }
            continue;
        }
        let kids = children.get(div.code.path()).cloned().unwrap_or_default();
        let cells = split_clean(&ring, kids.len(), &mut rng);
        for (kid, cell) in kids.into_iter().zip(cells).rev() {
            stack.push((kid, cell));
        }
    }
    nodes.sort_by(|a, b| {
        a.code
            .path()
            .len()
            .cmp(&b.code.path().len())
            .then(a.code.cmp(&b.code))
    });

    // Departments sit at each county (at town scale: at the town).
    let dept_level = if scale == Scale::Town {
        Level::Town
    } else {
        Level::County
    };
    let mut departments = Vec::new();
    for n in nodes
        .iter()
        .filter(|n| n.level == dept_level && n.code.path().starts_with(root_path))
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
    users.push(at_root("admin", Role::Admin, "系统管理员"));
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
            Level::County | Level::Town | Level::Village => users.push(DemoUser {
                username: format!("disp-{}", n.code.path()),
                display_name: format!("{}调度员", n.name),
                role: Role::Dispatcher,
                scope: Some(n.code.clone()),
                department: None,
            }),
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

/// Rounds a ring to 1e-7° and drops repeated vertices, as it will be stored.
fn clean(ring: &[Pt]) -> Vec<Pt> {
    let mut out: Vec<Pt> = Vec::with_capacity(ring.len());
    for &(x, y) in ring {
        let p = (round7(x), round7(y));
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    out
}

/// Splits `ring` into `n` cells that survive rounding as valid polygons, redrawing the seeds
/// if a cell came out degenerate.
fn split_clean(ring: &[Pt], n: usize, rng: &mut StdRng) -> Vec<Vec<Pt>> {
    let mut last = Vec::new();
    for _ in 0..8 {
        let cells: Vec<Vec<Pt>> = tiling::split(ring, n, rng)
            .iter()
            .map(|c| clean(c))
            .collect();
        if cells
            .iter()
            .all(|c| c.len() >= 3 && tiling::area(c) > 1e-10 && shape_of(c).is_ok())
        {
            return cells;
        }
        last = cells;
    }
    last
}

fn shape_of(ring: &[Pt]) -> anyhow::Result<Shape> {
    let mut closed = ring.to_vec();
    if let Some(&first) = ring.first() {
        closed.push(first);
    }
    Shape::from_ring(closed).map_err(|e| anyhow::anyhow!("generated polygon: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shanzhi_domain::grid::{Locator, LonLat};

    #[test]
    fn the_town_has_about_300_grids_that_locate_to_themselves() {
        let city = generate(Scale::Town, 1).unwrap();
        assert_eq!(city.count(Level::Village), 42);
        assert_eq!(city.grid_count(), 294);
        let loc = Locator::build(
            city.nodes
                .iter()
                .filter(|n| n.level.is_grid())
                .map(|n| (n.code.as_str().to_owned(), n.shape.clone().unwrap())),
        );
        for n in city.nodes.iter().filter(|n| n.level.is_grid()) {
            let (x, y) = tiling::centroid(n.ring.as_ref().unwrap());
            let got = loc.locate(LonLat::parse(x, y).unwrap()).map(|l| l.code);
            assert_eq!(got.as_deref(), Some(n.code.as_str()));
        }
    }

    #[test]
    fn grids_tile_each_village_without_gap_or_overlap() {
        let city = generate(Scale::Town, 3).unwrap();
        for v in city.nodes.iter().filter(|n| n.level == Level::Village) {
            let grids: Vec<&DemoNode> = city
                .nodes
                .iter()
                .filter(|n| n.parent.as_ref() == Some(&v.code))
                .collect();
            let total: f64 = grids.iter().map(|g| g.shape.as_ref().unwrap().area()).sum();
            let village = v.shape.as_ref().unwrap().area();
            assert!(
                (total - village).abs() / village < 1e-4,
                "village {} area {village} vs grids {total}",
                v.code
            );
            let rings: Vec<&Vec<Pt>> = grids.iter().map(|g| g.ring.as_ref().unwrap()).collect();
            for r in &rings {
                let c = tiling::centroid(r);
                assert_eq!(
                    rings
                        .iter()
                        .filter(|o| tiling::convex_contains(o, c))
                        .count(),
                    1
                );
            }
        }
    }

    #[test]
    fn the_city_is_shanwei_with_about_5000_grids() {
        let city = generate(Scale::City, 1).unwrap();
        assert_eq!(city.root.as_str(), "441500000000");
        assert_eq!(city.count(Level::County), 4);
        assert_eq!(city.count(Level::Village), 907);
        let g = city.grid_count();
        assert!((4500..=5500).contains(&g), "{g} grids");
        assert_eq!(city.departments.len(), 40);
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
            .all(|(x, y)| x.code == y.code && x.ring == y.ring));
    }
}
