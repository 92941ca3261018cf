//! The demo's year of events: a category tree, and a year of work orders whose timelines have
//! the same shape as the live service writes (so the figures can be recounted from them).
//! Pure and deterministic: the same city, ids, instant and seed give the same history.

use std::collections::HashMap;

use geo::{Intersects, Point};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use shanzhi_domain::calendar::{local_date, local_ms, WorkCalendar};
use shanzhi_domain::event::state::{centre_level, DEFAULT_BOUNCE_LIMIT};
use shanzhi_domain::event::State;
use shanzhi_domain::grid::tiling::Pt;
use shanzhi_domain::tree::{Level, NodeCode};
use shanzhi_store::category::{Category, CategoryInput};
use shanzhi_store::event::{EventRow, LogEntry, LogRow};

use super::generate::{DemoCity, DemoNode, Scale};
use crate::calendar::YELLOW_SHARE;

const MINUTE: i64 = 60_000;

/// A category of the demo tree, with how common it is and what reporters write.
#[derive(Debug, Clone, Copy)]
pub struct CategorySeed {
    /// English snake_case code ("exposed_garbage").
    pub code: &'static str,
    /// Chinese name ("暴露垃圾").
    pub name: &'static str,
    /// Code of the parent category (None for a top-level one).
    pub parent: Option<&'static str>,
    /// Stem of the default department's code (None for parents).
    pub department_kind: Option<&'static str>,
    /// Working minutes to accept, to handle once dispatched, to verify once handled.
    pub clocks: (i64, i64, i64),
    /// 1 urgent, 2 high, 3 normal.
    pub priority: i64,
    /// May a grid worker resolve it on the spot?
    pub on_spot: bool,
    /// Red this many working minutes → escalated by the sweep.
    pub escalate_after_minutes: Option<i64>,
    /// Relative frequency among the leaves (0 for parents).
    pub weight: u32,
    /// Twice as common in the rainy and typhoon season (June to September).
    pub summer: bool,
    /// What reporters write.
    pub texts: &'static [&'static str],
}

impl CategorySeed {
    /// The row to create, under `parent_id`.
    pub fn input(&self, parent_id: Option<i64>) -> CategoryInput {
        CategoryInput {
            code: self.code.to_owned(),
            parent_id,
            name: self.name.to_owned(),
            department_kind: self.department_kind.map(str::to_owned),
            accept_minutes: self.clocks.0,
            handle_minutes: self.clocks.1,
            verify_minutes: self.clocks.2,
            priority: self.priority,
            on_spot: self.on_spot,
            escalate_after_minutes: self.escalate_after_minutes,
            active: true,
            // The demo runs 一网五单: reports reach the grid first (网格接单).
            grid_first: true,
        }
    }
}

/// A parent category: the clocks of a typical child, no department.
const fn parent(
    code: &'static str,
    name: &'static str,
    clocks: (i64, i64, i64),
    priority: i64,
    on_spot: bool,
) -> CategorySeed {
    CategorySeed {
        code,
        name,
        parent: None,
        department_kind: None,
        clocks,
        priority,
        on_spot,
        escalate_after_minutes: None,
        weight: 0,
        summer: false,
        texts: &[],
    }
}

/// A leaf category.
#[allow(clippy::too_many_arguments)]
const fn leaf(
    parent: &'static str,
    code: &'static str,
    name: &'static str,
    kind: &'static str,
    clocks: (i64, i64, i64),
    priority: i64,
    on_spot: bool,
    escalate_after_minutes: Option<i64>,
    weight: u32,
    summer: bool,
    texts: &'static [&'static str],
) -> CategorySeed {
    CategorySeed {
        code,
        name,
        parent: Some(parent),
        department_kind: Some(kind),
        clocks,
        priority,
        on_spot,
        escalate_after_minutes,
        weight,
        summer,
        texts,
    }
}

/// The demo's category tree, parents before their children.
pub const CATEGORIES: [CategorySeed; 25] = [
    parent("city_appearance", "市容环境", (60, 420, 420), 3, true),
    leaf(
        "city_appearance",
        "exposed_garbage",
        "暴露垃圾",
        "cg",
        (60, 420, 420),
        3,
        true,
        None,
        22,
        true,
        &[
            "路边堆放生活垃圾未及时清运",
            "垃圾桶满溢，周边散落垃圾",
            "空地有建筑垃圾堆放",
        ],
    ),
    leaf(
        "city_appearance",
        "illegal_posting",
        "乱张贴",
        "cg",
        (60, 420, 420),
        3,
        true,
        None,
        10,
        false,
        &[
            "电线杆上张贴小广告",
            "墙面乱涂乱画、张贴广告",
            "公交站牌贴满办证广告",
        ],
    ),
    leaf(
        "city_appearance",
        "street_vending",
        "占道经营",
        "cg",
        (60, 840, 420),
        3,
        false,
        None,
        12,
        false,
        &[
            "流动摊贩占用人行道经营",
            "商铺出店经营占用道路",
            "早市摊点占道影响通行",
        ],
    ),
    parent("safety_hazard", "安全隐患", (60, 420, 420), 1, false),
    leaf(
        "safety_hazard",
        "gas",
        "燃气",
        "zj",
        (60, 420, 420),
        1,
        false,
        Some(240),
        3,
        false,
        &[
            "闻到明显燃气味，疑似泄漏",
            "餐馆违规存放液化气钢瓶",
            "燃气管道外露锈蚀",
        ],
    ),
    leaf(
        "safety_hazard",
        "fire_lane",
        "消防通道",
        "yj",
        (60, 840, 420),
        2,
        false,
        Some(480),
        5,
        false,
        &[
            "消防通道被车辆堵塞",
            "楼道堆放杂物堵塞安全出口",
            "电动车在楼道内充电",
        ],
    ),
    leaf(
        "safety_hazard",
        "dangerous_house",
        "危房",
        "zj",
        (60, 2100, 420),
        1,
        false,
        Some(480),
        2,
        true,
        &[
            "老旧房屋墙体开裂，有倒塌风险",
            "台风过后房屋屋顶受损",
            "临街空置危房存在隐患",
        ],
    ),
    parent("dispute", "矛盾纠纷", (120, 2100, 420), 2, true),
    leaf(
        "dispute",
        "neighbour_dispute",
        "邻里纠纷",
        "ga",
        (120, 2100, 420),
        2,
        true,
        None,
        8,
        false,
        &[
            "邻里因宅基地边界发生争执",
            "楼上漏水引发邻里矛盾",
            "邻居饲养犬只扰民引发纠纷",
        ],
    ),
    leaf(
        "dispute",
        "wage_dispute",
        "劳资纠纷",
        "zj",
        (120, 2100, 420),
        2,
        false,
        None,
        3,
        false,
        &["工地拖欠农民工工资", "工厂未按时发放工资，工人聚集讨薪"],
    ),
    leaf(
        "dispute",
        "land_dispute",
        "土地纠纷",
        "mz",
        (120, 2100, 420),
        2,
        false,
        None,
        3,
        false,
        &["村民小组之间山林地界纠纷", "承包地边界争议"],
    ),
    parent("livelihood", "民生服务", (60, 840, 420), 3, true),
    leaf(
        "livelihood",
        "help_request",
        "求助",
        "mz",
        (60, 420, 420),
        3,
        true,
        None,
        6,
        false,
        &[
            "独居老人行动不便需要帮助",
            "困难家庭申请临时救助",
            "走失老人寻求帮助",
        ],
    ),
    leaf(
        "livelihood",
        "water_supply",
        "供水",
        "sw",
        (60, 840, 420),
        2,
        false,
        None,
        5,
        true,
        &["小区停水超过一天", "自来水管爆裂漏水", "水质浑浊有异味"],
    ),
    leaf(
        "livelihood",
        "elderly_care",
        "养老服务",
        "mz",
        (120, 2100, 420),
        3,
        false,
        None,
        3,
        false,
        &[
            "申请居家养老上门服务",
            "老年人助餐服务点需求",
            "高龄津贴办理咨询",
        ],
    ),
    parent("ecology", "生态环境", (60, 1260, 420), 2, false),
    leaf(
        "ecology",
        "sewage",
        "污水",
        "sthj",
        (60, 1260, 420),
        2,
        false,
        None,
        4,
        true,
        &["生活污水直排河涌", "下水道堵塞污水外溢", "养殖场污水外排"],
    ),
    leaf(
        "ecology",
        "noise",
        "噪音",
        "sthj",
        (60, 840, 420),
        3,
        false,
        None,
        6,
        false,
        &[
            "夜间施工噪音扰民",
            "广场舞音响声音过大",
            "商铺高音喇叭促销扰民",
        ],
    ),
    parent("transport", "交通设施", (60, 2100, 420), 2, false),
    leaf(
        "transport",
        "road_damage",
        "道路破损",
        "jt",
        (60, 2100, 420),
        2,
        false,
        None,
        5,
        true,
        &["村道路面坑洼积水", "桥梁护栏损坏", "暴雨后路面塌陷"],
    ),
    leaf(
        "transport",
        "missing_manhole_cover",
        "井盖缺失",
        "cg",
        (60, 420, 420),
        1,
        false,
        Some(240),
        2,
        true,
        &["人行道井盖缺失，存在安全隐患", "井盖破损下沉"],
    ),
    parent("market", "市场监管", (60, 1260, 420), 2, false),
    leaf(
        "market",
        "food_safety",
        "食品安全",
        "scjg",
        (60, 1260, 420),
        2,
        false,
        None,
        3,
        false,
        &[
            "无证食品摊点卫生差",
            "学校周边销售过期食品",
            "餐馆后厨卫生脏乱",
        ],
    ),
    // 汛情险情: rising water, reported on patrol in a storm; never drawn for the demo's history
    // (weight 0), it is what the typhoon story and the demo's risk rule watch. Last, so that the
    // ids of the categories above stay as they were.
    leaf(
        "safety_hazard",
        "flood_risk",
        "汛情险情",
        "yj",
        (30, 240, 240),
        1,
        false,
        Some(120),
        0,
        true,
        &[
            "河道水位快速上涨",
            "低洼处积水漫入民房",
            "山塘水位超过警戒线",
        ],
    ),
];

/// How many events a year the demo builds at each scale.
pub fn events_a_year(scale: Scale) -> usize {
    match scale {
        Scale::Town => 1_000,
        Scale::City => 20_000,
        Scale::Province => 100_000,
    }
}

/// A generated history. Demo events carry no photos.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Events with ids 1..=n in creation order.
    pub events: Vec<EventRow>,
    /// Timeline lines as (index into `events`, line, at), in time order (and, within an event,
    /// in the order of its moves).
    pub logs: Vec<(usize, LogEntry, i64)>,
}

/// What the demo built: events, and how many of them are still open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Events written.
    pub events: usize,
    /// Of which still open (reported, accepted, dispatched, in progress or resolved).
    pub open: usize,
}

impl History {
    /// Counts the events and the open ones.
    pub fn tally(&self) -> Tally {
        let open = self
            .events
            .iter()
            .filter(|e| State::parse(&e.state).is_some_and(State::is_open))
            .count();
        Tally {
            events: self.events.len(),
            open,
        }
    }

    /// The timeline lines as stored rows (numbered 1.. in order) with their events, for a recount.
    pub fn log_rows(&self) -> impl Iterator<Item = (LogRow, &EventRow)> + '_ {
        self.logs.iter().enumerate().map(|(n, (i, l, at))| {
            let event = &self.events[*i];
            let row = LogRow {
                id: n as i64 + 1,
                event_id: event.id,
                at: *at,
                actor_id: l.actor_id,
                action: l.action.clone(),
                from_state: l.from_state.clone(),
                to_state: l.to_state.clone(),
                note: l.note.clone(),
                data: l.data.to_string(),
            };
            (row, event)
        })
    }
}

/// A category events can be filed under, with its seed if it is one of the demo's.
struct Leaf<'a> {
    cat: &'a Category,
    seed: Option<&'static CategorySeed>,
}

/// A grid and who works in it.
struct Site<'a> {
    node: &'a DemoNode,
    village: NodeCode,
    village_name: &'a str,
    worker: Option<i64>,
}

/// Who reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Patrol,
    Citizen(usize),
    Hotline,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Patrol => "patrol",
            Source::Citizen(_) => "citizen",
            Source::Hotline => "hotline",
        }
    }
}

/// The stage whose clock runs out, for an overdue event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Accept,
    Handle,
    Verify,
}

/// A report to simulate: when, where, what, by whom.
struct Draft {
    at: i64,
    site: usize,
    leaf: usize,
    source: Source,
}

/// What will happen to an order (drawn when it is simulated).
#[derive(Debug, Clone, Default)]
struct Plan {
    reject: bool,
    merge_into: Option<i64>,
    on_spot: bool,
    escalations: u8,
    returned: bool,
    fail_verify: bool,
    late: Option<Stage>,
    rating: Option<i64>,
    /// A recent order that is still waiting in this state now (the backlog).
    hold: Option<State>,
}

/// Everything the simulation looks up.
struct World<'a> {
    cal: WorkCalendar,
    now: i64,
    city: &'a DemoCity,
    sites: Vec<Site<'a>>,
    leaves: Vec<Leaf<'a>>,
    departments: HashMap<&'a str, usize>,
    department_ids: &'a [i64],
    user_ids: &'a HashMap<String, i64>,
    citizens: Vec<i64>,
    hotline: Option<i64>,
}

impl<'a> World<'a> {
    fn new(
        city: &'a DemoCity,
        categories: &'a [Category],
        department_ids: &'a [i64],
        user_ids: &'a HashMap<String, i64>,
        now: i64,
    ) -> Self {
        let names: HashMap<&NodeCode, &str> = city
            .nodes
            .iter()
            .map(|n| (&n.code, n.name.as_str()))
            .collect();
        let sites = city
            .nodes
            .iter()
            .filter(|n| n.level.is_grid() && n.shape.is_some() && n.inside.is_some())
            .filter_map(|n| {
                let village = n.parent.clone()?;
                let village_name = names.get(&village).copied().unwrap_or("");
                let worker = user_ids.get(&format!("gw-{}", n.code.path())).copied();
                Some(Site {
                    node: n,
                    village,
                    village_name,
                    worker,
                })
            })
            .collect();
        let leaves = categories
            .iter()
            .filter(|c| c.active && c.parent_id.is_some())
            .map(|c| Leaf {
                cat: c,
                seed: CATEGORIES.iter().find(|s| s.code == c.code),
            })
            .collect();
        let departments = city
            .departments
            .iter()
            .enumerate()
            .map(|(i, d)| (d.code.as_str(), i))
            .collect();
        let citizens = ["citizen", "citizen2", "citizen3", "citizen4", "citizen5"]
            .iter()
            .filter_map(|u| user_ids.get(*u).copied())
            .collect();
        World {
            cal: WorkCalendar::china_default(),
            now,
            city,
            sites,
            leaves,
            departments,
            department_ids,
            user_ids,
            citizens,
            hotline: user_ids.get("dispatcher").copied(),
        }
    }

    /// The dispatcher of a region's centre: `disp-<path>`, or `dispatcher` at the root.
    fn dispatcher(&self, region: &NodeCode) -> Option<i64> {
        if *region == self.city.root {
            return self.user_ids.get("dispatcher").copied();
        }
        self.user_ids
            .get(&format!("disp-{}", region.path()))
            .copied()
    }

    /// The department of a kind nearest above the grid (any serving department if none).
    fn department(&self, kind: &str, grid: &NodeCode) -> Option<usize> {
        let own = grid.ancestor_paths().iter().rev().find_map(|p| {
            self.departments
                .get(format!("{kind}-{p}").as_str())
                .copied()
        });
        own.or_else(|| {
            self.city
                .departments
                .iter()
                .position(|d| d.region.contains(grid))
        })
    }

    fn department_id(&self, index: usize) -> Option<i64> {
        self.department_ids.get(index).copied()
    }

    /// The handler login of a department.
    fn handler(&self, index: usize) -> Option<i64> {
        let d = self.city.departments.get(index)?;
        self.user_ids.get(&format!("h-{}", d.code)).copied()
    }

    /// Working minutes after `from`, and at least a minute later.
    fn work(&self, from: i64, minutes: i64) -> i64 {
        self.cal
            .add_working_minutes(from, minutes.max(1))
            .max(from + MINUTE)
    }

    /// When the light of a stage from `start` to `due` turns yellow (as the service computes it).
    fn yellow_at(&self, start: i64, due: i64) -> i64 {
        self.cal.yellow_at(start, due, YELLOW_SHARE)
    }
}

/// Working minutes a stage of `clock` minutes takes: mostly well within time, sometimes near the
/// end, and past it when `late` (but never past `cap` minutes over, so the sweep does not escalate).
fn stage_minutes(rng: &mut StdRng, clock: i64, late: bool, cap: Option<i64>) -> i64 {
    let clock = clock.max(1);
    if late {
        let over = ((clock as f64) * rng.gen_range(0.05..0.8)).max(10.0) as i64;
        let over = cap.map_or(over, |c| over.min(c - 10)).max(1);
        return clock + over;
    }
    let share = if rng.gen_bool(0.8) {
        rng.gen_range(0.03..0.6)
    } else {
        rng.gen_range(0.6..0.97)
    };
    ((clock as f64) * share).max(1.0) as i64
}

/// A point inside a grid, as a phone reports it (1e-6°): its inner point moved toward a random
/// point of its box by less than 60%, tried a few times until it lies inside the grid (grids on
/// a real coast are not convex), else the inner point itself.
pub(crate) fn point_in(node: &DemoNode, rng: &mut StdRng) -> Pt {
    let round6 = |v: f64| (v * 1e6).round() / 1e6;
    let (Some(shape), Some((cx, cy))) = (&node.shape, node.inside) else {
        return (0.0, 0.0);
    };
    let b = shape.bbox();
    for _ in 0..8 {
        let (vx, vy) = (rng.gen_range(b[0]..=b[2]), rng.gen_range(b[1]..=b[3]));
        let f = rng.gen_range(0.0..0.6);
        let p = (round6(cx + f * (vx - cx)), round6(cy + f * (vy - cy)));
        if shape.geometry().intersects(&Point::new(p.0, p.1)) {
            return p;
        }
    }
    (round6(cx), round6(cy))
}

/// Relative number of reports on each of the 366 days ending today (index 365 = today): more in
/// summer and on a few typhoon days, fewer at the Spring Festival and at weekends.
fn day_weights(now: i64, rng: &mut StdRng) -> Vec<f64> {
    use chrono::Datelike;
    const MONTH: [f64; 12] = [0.8, 0.6, 0.9, 1.0, 1.1, 1.3, 1.4, 1.5, 1.3, 1.0, 0.9, 0.85];
    let today = local_date(now);
    let dates: Vec<chrono::NaiveDate> = (0..=365)
        .map(|i| today - chrono::Days::new(365 - i))
        .collect();
    let mut w: Vec<f64> = dates
        .iter()
        .map(|d| {
            let weekend = matches!(d.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
            MONTH[d.month0() as usize] * if weekend { 0.75 } else { 1.0 }
        })
        .collect();
    let season: Vec<usize> = (0..dates.len())
        .filter(|&i| (7..=9).contains(&dates[i].month()))
        .collect();
    for _ in 0..3 {
        if season.is_empty() {
            break;
        }
        let i = season[rng.gen_range(0..season.len())];
        w[i] *= 3.5;
        if let Some(next) = w.get_mut(i + 1) {
            *next *= 2.0;
        }
    }
    w
}

/// A minute of the day at which this source reports.
fn minute_of_day(source: Source, rng: &mut StdRng) -> u32 {
    match source {
        Source::Patrol => rng.gen_range(8 * 60..18 * 60),
        Source::Citizen(_) => rng.gen_range(7 * 60..23 * 60),
        Source::Hotline if rng.gen_bool(0.8) => rng.gen_range(8 * 60..22 * 60),
        Source::Hotline => rng.gen_range(0..24 * 60),
    }
}

/// Draws every report of the year, sorted by time.
fn drafts(w: &World, rng: &mut StdRng, count: usize) -> Vec<Draft> {
    use chrono::Datelike;
    let today = local_date(w.now);
    let days = WeightedIndex::new(day_weights(w.now, rng)).expect("day weights are positive");
    let weights = |summer: bool| -> Vec<u32> {
        w.leaves
            .iter()
            .map(|l| {
                let base = l.seed.map_or(1, |s| s.weight.max(1));
                if summer && l.seed.is_some_and(|s| s.summer) {
                    base * 2
                } else {
                    base
                }
            })
            .collect()
    };
    let (winter, summer) = (
        WeightedIndex::new(weights(false)).expect("leaf weights are positive"),
        WeightedIndex::new(weights(true)).expect("leaf weights are positive"),
    );
    let mut out: Vec<Draft> = (0..count)
        .map(|_| {
            let r: f64 = rng.gen();
            let source = if r < 0.65 {
                Source::Patrol
            } else if r < 0.95 || w.hotline.is_none() {
                Source::Citizen(rng.gen_range(0..w.citizens.len().max(1)))
            } else {
                Source::Hotline
            };
            let mut at = w.now - rng.gen_range(1..120) * MINUTE;
            for _ in 0..10 {
                let date = today - chrono::Days::new(365 - days.sample(rng) as u64);
                let t = local_ms(date, minute_of_day(source, rng)) + rng.gen_range(0..60) * 1000;
                if t < w.now {
                    at = t;
                    break;
                }
            }
            let month = local_date(at).month();
            let leaf = if (6..=9).contains(&month) {
                summer.sample(rng)
            } else {
                winter.sample(rng)
            };
            Draft {
                at,
                site: rng.gen_range(0..w.sites.len()),
                leaf,
                source,
            }
        })
        .collect();
    out.sort_by_key(|d| d.at);
    out
}

/// What a history is generated from: the city as written, with its rows' ids.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub city: &'a DemoCity,
    pub categories: &'a [Category],
    /// Index-aligned with `city.departments`.
    pub department_ids: &'a [i64],
    /// Usernames to ids.
    pub user_ids: &'a HashMap<String, i64>,
    /// The history is the 365 days before this instant.
    pub now_ms: i64,
}

/// Generates `count` events over the 365 days before `inputs.now_ms`, with their timelines,
/// numbered from `first_id` (a large history is generated and written in parts).
pub fn generate_history(inputs: &Inputs<'_>, seed: u64, first_id: i64, count: usize) -> History {
    let w = World::new(
        inputs.city,
        inputs.categories,
        inputs.department_ids,
        inputs.user_ids,
        inputs.now_ms,
    );
    if w.sites.is_empty() || w.leaves.is_empty() || count == 0 {
        return History::default();
    }
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5EED_4E15_7011);
    let drafts = drafts(&w, &mut rng, count);
    let mut history = History::default();
    let mut lines: Vec<(usize, LogEntry, i64)> = Vec::new();
    // The latest order of each village that a duplicate could merge into.
    let mut latest: HashMap<&str, i64> = HashMap::new();
    for (i, d) in drafts.iter().enumerate() {
        let id = first_id + i as i64;
        let site = &w.sites[d.site];
        let plan = plan(&w, d, latest.get(site.village.as_str()).copied(), &mut rng);
        let mut sim = Sim::report(&w, d, id, &mut rng);
        sim.hold = plan.hold;
        let _ = sim.run(&plan, &mut rng);
        sim.finish();
        if !plan.reject && plan.merge_into.is_none() {
            latest.insert(site.village.as_str(), id);
        }
        lines.extend(sim.lines.into_iter().map(|(l, at)| (i, l, at)));
        history.events.push(sim.row);
    }
    // Stable: lines of one event at the same instant keep the order of its moves.
    lines.sort_by_key(|(_, _, at)| *at);
    history.logs = lines;
    history
}

/// Draws what will happen to a report.
fn plan(w: &World, d: &Draft, merge_target: Option<i64>, rng: &mut StdRng) -> Plan {
    let leaf = &w.leaves[d.leaf];
    let mut p = Plan::default();
    let r: f64 = rng.gen();
    if r < 0.01 {
        p.reject = true;
        return p;
    }
    if r < 0.02 && merge_target.is_some() {
        p.merge_into = merge_target;
        return p;
    }
    p.hold = backlog(w.now - d.at, rng);
    p.on_spot = leaf.cat.on_spot
        && rng.gen_bool(if d.source == Source::Patrol {
            0.85
        } else {
            0.7
        });
    if !p.on_spot && rng.gen_bool(0.022) {
        p.escalations = if rng.gen_bool(0.12) { 2 } else { 1 };
    }
    p.returned = !p.on_spot && rng.gen_bool(0.06);
    p.fail_verify = !p.on_spot && rng.gen_bool(0.015);
    if rng.gen_bool(0.05) {
        let s: f64 = rng.gen();
        p.late = Some(if s < 0.15 {
            Stage::Accept
        } else if s < 0.85 && !p.on_spot {
            Stage::Handle
        } else {
            Stage::Verify
        });
    }
    if matches!(d.source, Source::Citizen(_)) && rng.gen_bool(0.8) {
        let s: f64 = rng.gen();
        p.rating = Some(if s < 0.70 {
            5
        } else if s < 0.90 {
            4
        } else if s < 0.96 {
            3
        } else if s < 0.985 {
            2
        } else {
            1
        });
    }
    p
}

/// Whether a report `age` ms old is still waiting, and where: about a third of today's and
/// fewer of older ones up to ten days; the freshest wait anywhere, older ones at a department
/// or for verification.
fn backlog(age: i64, rng: &mut StdRng) -> Option<State> {
    const TEN_DAYS: i64 = 10 * 86_400_000;
    if age >= TEN_DAYS || !rng.gen_bool(0.35 * (1.0 - age as f64 / TEN_DAYS as f64)) {
        return None;
    }
    let states: &[State] = if age < 86_400_000 {
        &[
            State::Reported,
            State::Accepted,
            State::Dispatched,
            State::InProgress,
            State::Resolved,
        ]
    } else {
        &[
            State::Dispatched,
            State::InProgress,
            State::InProgress,
            State::Resolved,
        ]
    };
    Some(states[rng.gen_range(0..states.len())])
}

/// One order being played through: its row and timeline so far.
struct Sim<'w, 'a> {
    w: &'w World<'a>,
    cat: &'a Category,
    site: &'w Site<'a>,
    centre: NodeCode,
    /// Index into the city's departments of the one holding the order.
    dep: Option<usize>,
    row: EventRow,
    lines: Vec<(LogEntry, i64)>,
    /// The time of the last move.
    t: i64,
    /// The state the order waits in until now, if it is part of the backlog.
    hold: Option<State>,
}

impl<'w, 'a> Sim<'w, 'a> {
    /// Files the report: the row, its accept clock and the "report" line.
    fn report(w: &'w World<'a>, d: &Draft, id: i64, rng: &mut StdRng) -> Self {
        let leaf = &w.leaves[d.leaf];
        let site = &w.sites[d.site];
        let (lon, lat) = point_in(site.node, rng);
        let texts = leaf.seed.map_or(&[][..], |s| s.texts);
        let description = match texts.len() {
            0 => format!("{}问题", leaf.cat.name),
            n => texts[rng.gen_range(0..n)].to_owned(),
        };
        const PLACES: [&str; 7] = [
            "村委会旁",
            "市场路口",
            "文化广场",
            "小学门口",
            "菜市场",
            "祠堂前",
            "主干道边",
        ];
        let address = format!(
            "{}{}",
            site.village_name,
            PLACES[rng.gen_range(0..PLACES.len())]
        );
        let reporter = match d.source {
            Source::Patrol => site.worker,
            Source::Citizen(i) => w.citizens.get(i).copied(),
            Source::Hotline => w.hotline,
        };
        let row = EventRow {
            id,
            category_id: leaf.cat.id,
            grid_code: site.node.code.as_str().to_owned(),
            centre_code: site.village.as_str().to_owned(),
            centre_path: site.village.path().to_owned(),
            state: State::Reported.as_str().to_owned(),
            source: d.source.as_str().to_owned(),
            description,
            address: Some(address),
            lon,
            lat,
            position_known: true,
            reporter_id: reporter,
            department_id: None,
            priority: leaf.cat.priority,
            summoned: "[]".into(),
            returns: 0,
            reopened: 0,
            reminders: 0,
            escalations: 0,
            decision_required: false,
            pending_extension: None,
            rating: None,
            rating_comment: None,
            rated_at: None,
            merged_into: None,
            stage_started_at: d.at,
            due_at: None,
            light: "green".into(),
            supervision: "none".into(),
            overdue_ever: false,
            red_since: None,
            next_check_at: None,
            created_at: d.at,
            updated_at: d.at,
            closed_at: None,
            version: 1,
            // History is written at the centre: the grid stage of its year is over.
            grid_stage: None,
            taken_by: None,
        };
        let mut sim = Sim {
            w,
            cat: leaf.cat,
            site,
            centre: site.village.clone(),
            dep: None,
            row,
            lines: Vec::new(),
            t: d.at,
            hold: None,
        };
        sim.start_clock(d.at, sim.cat.accept_minutes);
        let data =
            json!({"source": d.source.as_str(), "grid": sim.row.grid_code, "department_id": null});
        sim.lines.push((
            LogEntry {
                actor_id: reporter,
                action: "report".into(),
                from_state: None,
                to_state: sim.row.state.clone(),
                note: None,
                data,
            },
            d.at,
        ));
        sim
    }

    fn state(&self) -> State {
        State::parse(&self.row.state).unwrap_or(State::Reported)
    }

    fn start_clock(&mut self, at: i64, minutes: i64) {
        let due = self.w.cal.add_working_minutes(at, minutes);
        self.row.stage_started_at = at;
        self.row.due_at = Some(due);
        self.row.light = "green".into();
        self.row.red_since = None;
        self.row.supervision = "none".into();
        self.row.next_check_at = Some(self.w.yellow_at(at, due));
    }

    fn stop_clock(&mut self) {
        self.row.due_at = None;
        self.row.next_check_at = None;
    }

    /// The stage clocks after a change of state, as the service sets them.
    fn clocks(&mut self, from: State, to: State, at: i64) {
        if from == to {
            return;
        }
        let c = self.cat;
        match to {
            State::Reported | State::Accepted => self.start_clock(at, c.accept_minutes),
            State::Dispatched if from == State::Accepted => self.start_clock(at, c.handle_minutes),
            State::Dispatched | State::InProgress if from == State::Resolved => {
                self.start_clock(at, c.handle_minutes)
            }
            State::Dispatched | State::InProgress => {}
            State::Resolved => self.start_clock(at, c.verify_minutes),
            State::Closed => {
                self.row.closed_at = Some(at);
                self.stop_clock();
            }
            State::Rejected | State::Merged => self.stop_clock(),
        }
    }

    fn push(
        &mut self,
        at: i64,
        actor: Option<i64>,
        action: &str,
        to: State,
        note: Option<&str>,
        data: Value,
    ) {
        let from = self.row.state.clone();
        let line = LogEntry {
            actor_id: actor,
            action: action.to_owned(),
            from_state: Some(from),
            to_state: to.as_str().to_owned(),
            note: note.map(str::to_owned),
            data,
        };
        self.lines.push((line, at));
        self.row.state = to.as_str().to_owned();
        self.row.version += 1;
        self.row.updated_at = at;
    }

    /// Makes a move at `at` (or a minute after the last one), after the sweep has caught up;
    /// None if that is after now or the order is held where it is (it stays there). `data` sees the row before the move.
    fn mv(
        &mut self,
        at: i64,
        actor: Option<i64>,
        action: &str,
        to: State,
        note: Option<&str>,
        data: impl FnOnce(&EventRow, i64) -> Value,
    ) -> Option<i64> {
        let at = at.max(self.t + MINUTE);
        if at > self.w.now || self.hold == Some(self.state()) {
            return None;
        }
        self.sweep_until(at, false);
        let from = self.state();
        let data = data(&self.row, at);
        self.push(at, actor, action, to, note, data);
        self.clocks(from, to, at);
        self.t = at;
        Some(at)
    }

    /// Plays the deadline sweep up to `until`: yellow (普通督办), red (黄牌督办) and, past the
    /// category's limit, red-card supervision with escalation, each with its timeline line.
    fn sweep_until(&mut self, until: i64, inclusive: bool) {
        let before = |t: i64| if inclusive { t <= until } else { t < until };
        loop {
            let state = self.state();
            let Some(due) = self.row.due_at.filter(|_| state.is_open()) else {
                return;
            };
            let dep = self.row.department_id;
            if self.row.light == "green" {
                let y = self.w.yellow_at(self.row.stage_started_at, due);
                if y < due && before(y) {
                    let data = json!({"supervision": "normal", "department_id": dep});
                    self.push(
                        y,
                        None,
                        "supervise",
                        state,
                        Some("yellow light: normal supervision (普通督办)"),
                        data,
                    );
                    self.row.light = "yellow".into();
                    self.row.supervision = "normal".into();
                    self.row.next_check_at = Some(due);
                    continue;
                }
            }
            if self.row.light != "red" {
                if !before(due) {
                    return;
                }
                let data = json!({"supervision": "yellow", "department_id": dep});
                self.push(
                    due,
                    None,
                    "supervise",
                    state,
                    Some("overdue: yellow-card supervision (黄牌督办)"),
                    data,
                );
                self.row.light = "red".into();
                self.row.overdue_ever = true;
                self.row.red_since = Some(due);
                self.row.supervision = "yellow".into();
                // The sweep looks again when the category's escalation limit runs out.
                self.row.next_check_at = self
                    .cat
                    .escalate_after_minutes
                    .map(|limit| self.w.cal.add_working_minutes(due, limit));
                continue;
            }
            let Some(at) = self
                .row
                .next_check_at
                .filter(|t| before(*t) && self.row.supervision != "red")
            else {
                return;
            };
            self.row.supervision = "red".into();
            self.row.next_check_at = None;
            match self.centre.natural_parent() {
                Some(parent) => {
                    let data = json!({"supervision": "red", "from": self.row.centre_code, "to": parent.as_str(), "department_id": dep});
                    let note = "red past the category's limit: red-card supervision (红牌督办) and escalation (提级)";
                    self.push(at, None, "escalate", state, Some(note), data);
                    self.move_centre(parent);
                }
                None => self.push(
                    at,
                    None,
                    "supervise",
                    state,
                    Some("red-card supervision (红牌督办)"),
                    json!({"supervision": "red", "department_id": dep}),
                ),
            }
        }
    }

    fn move_centre(&mut self, to: NodeCode) {
        self.row.centre_code = to.as_str().to_owned();
        self.row.centre_path = to.path().to_owned();
        self.row.escalations += 1;
        self.centre = to;
    }

    /// Brings an order still open at now up to date with the sweep.
    fn finish(&mut self) {
        if self.state().is_open() {
            self.sweep_until(self.w.now, true);
        }
    }

    fn dispatcher(&self) -> Option<i64> {
        self.w.dispatcher(&self.centre)
    }

    /// Plays the order through as planned; None once the next move would be after now.
    fn run(&mut self, plan: &Plan, rng: &mut StdRng) -> Option<()> {
        let accept_clock = self.cat.accept_minutes;
        if plan.reject {
            const WHY: [&str; 3] = ["不属于受理范围", "信息不全，无法核实", "已由其他渠道办理"];
            let at = self
                .w
                .work(self.t, stage_minutes(rng, accept_clock, false, None));
            self.mv(
                at,
                self.dispatcher(),
                "reject",
                State::Rejected,
                Some(WHY[rng.gen_range(0..WHY.len())]),
                |_, _| json!({"department_id": null}),
            )?;
            return Some(());
        }
        if let Some(into) = plan.merge_into {
            let at = self
                .w
                .work(self.t, stage_minutes(rng, accept_clock, false, None));
            self.mv(
                at,
                self.dispatcher(),
                "merge",
                State::Merged,
                None,
                |_, _| json!({"into": into, "department_id": null}),
            )?;
            self.row.merged_into = Some(into);
            return Some(());
        }
        if plan.on_spot && self.row.source == "patrol" {
            let at = self.t + rng.gen_range(5..90) * MINUTE;
            self.resolve_on_spot(at)?;
        } else {
            let at = self.w.work(
                self.t,
                stage_minutes(
                    rng,
                    accept_clock,
                    plan.late == Some(Stage::Accept),
                    self.cat.escalate_after_minutes,
                ),
            );
            self.mv(
                at,
                self.dispatcher(),
                "accept",
                State::Accepted,
                None,
                |r, _| json!({"department_id": r.department_id}),
            )?;
            for _ in 0..plan.escalations {
                if !self.escalate(rng)? {
                    break;
                }
            }
            self.handle(plan, rng)?;
        }
        self.verify(plan, rng)?;
        if let Some(score) = plan.rating {
            if self.rate(score, rng)? {
                let again = Plan::default();
                self.handle(&again, rng)?;
                self.verify(&again, rng)?;
            }
        }
        Some(())
    }

    fn resolve_on_spot(&mut self, at: i64) -> Option<()> {
        let worker = self.site.worker;
        self.mv(
            at,
            worker,
            "resolve_on_spot",
            State::Resolved,
            Some("已现场处置"),
            |r, _| json!({"department_id": r.department_id}),
        )?;
        Some(())
    }

    /// The centre hands the order up a level (提级) if that level has a dispatcher.
    fn escalate(&mut self, rng: &mut StdRng) -> Option<bool> {
        let Some(parent) = self.centre.natural_parent() else {
            return Some(false);
        };
        if self.w.dispatcher(&parent).is_none() {
            return Some(false);
        }
        let at = self.w.work(
            self.t,
            stage_minutes(rng, self.cat.accept_minutes, false, None),
        );
        let (from, to) = (self.row.centre_code.clone(), parent.as_str().to_owned());
        let state = self.state();
        let at = self.mv(
            at,
            self.dispatcher(),
            "escalate",
            state,
            Some("涉及多方，需上级中心协调"),
            |r, _| json!({"from": from, "to": to, "department_id": r.department_id}),
        )?;
        self.move_centre(parent);
        self.start_clock(at, self.cat.accept_minutes);
        Some(true)
    }

    /// From accepted to resolved: on the spot by the grid worker, or through a department.
    fn handle(&mut self, plan: &Plan, rng: &mut StdRng) -> Option<()> {
        let village = self.centre == self.site.village;
        if self.cat.on_spot && village && (plan.on_spot || self.row.reopened > 0) {
            let at = self.w.work(
                self.t,
                stage_minutes(rng, self.cat.accept_minutes, false, None),
            );
            return self.resolve_on_spot(at);
        }
        let kind = self
            .cat
            .department_kind
            .clone()
            .unwrap_or_else(|| "cg".into());
        let mut dispatched = self.dispatch(&kind, rng)?;
        if plan.returned {
            let at = self.w.work(
                dispatched,
                (self.cat.handle_minutes as f64 * rng.gen_range(0.02..0.25)) as i64,
            );
            if rng.gen_bool(0.3) {
                self.sign(at)?;
            }
            self.give_back(at + MINUTE)?;
            const OTHER: [&str; 5] = ["cg", "zj", "sw", "mz", "jt"];
            let kind = if rng.gen_bool(0.5) {
                kind
            } else {
                OTHER[rng.gen_range(0..OTHER.len())].to_owned()
            };
            dispatched = self.dispatch(&kind, rng)?;
        }
        let late = plan.late == Some(Stage::Handle);
        let minutes = stage_minutes(
            rng,
            self.cat.handle_minutes,
            late,
            self.cat.escalate_after_minutes,
        );
        let done = self.w.work(dispatched, minutes);
        let signed = self.w.work(
            dispatched,
            ((minutes as f64) * rng.gen_range(0.03..0.3)) as i64,
        );
        self.sign(signed)?;
        if late {
            if let Some(due) = self.row.due_at.filter(|d| *d < done) {
                // Halfway through the overdue working time.
                let at = self
                    .w
                    .work(due, self.w.cal.working_minutes_between(due, done) / 2);
                let dispatcher = self.dispatcher();
                let state = self.state();
                self.mv(
                    at,
                    dispatcher,
                    "remind",
                    state,
                    Some("请尽快办理"),
                    |r, _| json!({"department_id": r.department_id}),
                )?;
                self.row.reminders += 1;
            }
        }
        self.report_result(done)
    }

    /// Dispatches to the department of `kind` serving the grid; returns when.
    fn dispatch(&mut self, kind: &str, rng: &mut StdRng) -> Option<i64> {
        let dep = self.w.department(kind, &self.site.node.code)?;
        let dep_id = self.w.department_id(dep)?;
        let at = self.w.work(
            self.t,
            stage_minutes(rng, self.cat.accept_minutes, false, None),
        );
        let handle = self.cat.handle_minutes;
        let w = self.w;
        let at = self.mv(at, self.dispatcher(), "dispatch", State::Dispatched, None, |_, at| {
            json!({"department_id": dep_id, "due_at": w.cal.add_working_minutes(at, handle)})
        })?;
        self.dep = Some(dep);
        self.row.department_id = Some(dep_id);
        self.row.summoned = "[]".into();
        Some(at)
    }

    fn handler(&self) -> Option<i64> {
        self.w.handler(self.dep?)
    }

    fn sign(&mut self, at: i64) -> Option<()> {
        self.mv(
            at,
            self.handler(),
            "sign",
            State::InProgress,
            None,
            |r, _| json!({"department_id": r.department_id}),
        )?;
        Some(())
    }

    /// The department returns the order (退单): not its business.
    fn give_back(&mut self, at: i64) -> Option<()> {
        self.mv(at, self.handler(), "return", State::Accepted, Some("不属于本部门职责，请重新派单"), |r, _| {
            json!({"department_id": r.department_id, "returns": r.returns + 1, "decision_required": r.returns + 1 >= DEFAULT_BOUNCE_LIMIT})
        })?;
        self.row.returns += 1;
        self.row.decision_required = self.row.returns >= DEFAULT_BOUNCE_LIMIT;
        self.row.department_id = None;
        self.dep = None;
        self.row.summoned = "[]".into();
        Some(())
    }

    fn report_result(&mut self, at: i64) -> Option<()> {
        self.mv(
            at,
            self.handler(),
            "report_result",
            State::Resolved,
            Some("已处理完毕"),
            |r, _| json!({"department_id": r.department_id}),
        )?;
        Some(())
    }

    /// Verification: the grid worker or the centre; a failed one sends it back to the department.
    fn verify(&mut self, plan: &Plan, rng: &mut StdRng) -> Option<()> {
        if plan.fail_verify && self.row.department_id.is_some() {
            let at = self.w.work(
                self.t,
                stage_minutes(rng, self.cat.verify_minutes, false, None),
            );
            let actor = self.verifier(rng);
            self.mv(
                at,
                actor,
                "verify",
                State::InProgress,
                Some("现场核查仍未整改到位"),
                |r, _| json!({"department_id": r.department_id}),
            )?;
            let again = self.w.work(
                self.t,
                stage_minutes(rng, self.cat.handle_minutes / 2, false, None),
            );
            self.report_result(again)?;
        }
        let late = plan.late == Some(Stage::Verify);
        let at = self.w.work(
            self.t,
            stage_minutes(
                rng,
                self.cat.verify_minutes,
                late,
                self.cat.escalate_after_minutes,
            ),
        );
        let actor = self.verifier(rng);
        self.mv(at, actor, "verify", State::Closed, None, |r, at| {
            let level = NodeCode::parse(&r.centre_code).map_or(Level::Village, |c| centre_level(&c));
            let on_time = !r.overdue_ever && r.due_at.is_none_or(|d| at <= d);
            json!({"on_time": on_time, "level": level, "minutes": (at - r.created_at).max(0) / MINUTE, "department_id": r.department_id})
        })?;
        Some(())
    }

    fn verifier(&self, rng: &mut StdRng) -> Option<i64> {
        let worker_share = if self.row.department_id.is_some() {
            0.7
        } else {
            0.2
        };
        if rng.gen_bool(worker_share) {
            self.site.worker
        } else {
            self.dispatcher()
        }
    }

    /// The reporter rates; 1 or 2 reopens the order. Returns whether it reopened.
    fn rate(&mut self, score: i64, rng: &mut StdRng) -> Option<bool> {
        let at = self.t + rng.gen_range(60..3 * 24 * 60) * MINUTE;
        let reopened = score <= 2;
        let to = if reopened {
            State::Accepted
        } else {
            State::Closed
        };
        let comment = match score {
            5 => ["处理及时，非常满意", "", "网格员很负责", ""][rng.gen_range(0..4)],
            4 => ["基本满意", ""][rng.gen_range(0..2)],
            3 => "处理有点慢",
            _ => "问题没有解决",
        };
        let at = self.mv(
            at,
            self.row.reporter_id,
            "rate",
            to,
            None,
            |r, _| json!({"score": score, "reopened": reopened, "department_id": r.department_id}),
        )?;
        self.row.rating = Some(score);
        self.row.rating_comment = Some(comment.to_owned()).filter(|c| !c.is_empty());
        self.row.rated_at = Some(at);
        if reopened {
            self.row.reopened += 1;
            self.row.closed_at = None;
            self.row.department_id = None;
            self.dep = None;
        }
        Some(reopened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::generate::{generate, Scale};

    const NOW: i64 = 1_795_000_000_000;

    /// The demo's categories as if written with ids 1.., departments and users with ids 1...
    fn fixture(city: &DemoCity) -> (Vec<Category>, Vec<i64>, HashMap<String, i64>) {
        let mut ids: HashMap<&str, i64> = HashMap::new();
        let mut cats = Vec::new();
        for (i, s) in CATEGORIES.iter().enumerate() {
            let id = i as i64 + 1;
            ids.insert(s.code, id);
            let c = s.input(s.parent.and_then(|p| ids.get(p).copied()));
            cats.push(Category {
                id,
                code: c.code,
                parent_id: c.parent_id,
                name: c.name,
                department_kind: c.department_kind,
                accept_minutes: c.accept_minutes,
                handle_minutes: c.handle_minutes,
                verify_minutes: c.verify_minutes,
                priority: c.priority,
                on_spot: c.on_spot,
                escalate_after_minutes: c.escalate_after_minutes,
                active: true,
                grid_first: c.grid_first,
            });
        }
        let deps = (1..=city.departments.len() as i64).collect();
        let users = city
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.username.clone(), i as i64 + 1))
            .collect();
        (cats, deps, users)
    }

    fn history(seed: u64, count: usize) -> History {
        let city = generate(Scale::Town, 1).unwrap();
        let (cats, deps, users) = fixture(&city);
        let inputs = Inputs {
            city: &city,
            categories: &cats,
            department_ids: &deps,
            user_ids: &users,
            now_ms: NOW,
        };
        generate_history(&inputs, seed, 1, count)
    }

    fn timelines(h: &History) -> Vec<Vec<&LogEntry>> {
        let mut out = vec![Vec::new(); h.events.len()];
        for (i, l, _) in &h.logs {
            out[*i].push(l);
        }
        out
    }

    #[test]
    fn the_same_seed_gives_the_same_history() {
        let (a, b) = (history(7, 400), history(7, 400));
        assert_eq!(format!("{:?}", a.events), format!("{:?}", b.events));
        assert_eq!(format!("{:?}", a.logs), format!("{:?}", b.logs));
        assert_ne!(
            format!("{:?}", a.events),
            format!("{:?}", history(8, 400).events)
        );
    }

    #[test]
    fn every_timeline_starts_with_the_report_and_ends_in_the_events_state() {
        let h = history(1, 1_000);
        assert_eq!(h.events.len(), 1_000);
        let mut last_at = i64::MIN;
        for (_, _, at) in &h.logs {
            assert!(
                *at >= last_at && *at <= NOW,
                "lines in time order, none after now"
            );
            last_at = *at;
        }
        for (e, lines) in h.events.iter().zip(timelines(&h)) {
            assert_eq!(lines[0].action, "report", "event {}", e.id);
            assert_eq!(lines.last().unwrap().to_state, e.state, "event {}", e.id);
            assert_eq!(e.version, lines.len() as i64, "event {}", e.id);
            assert!(
                lines.iter().all(|l| l.data.get("department_id").is_some()),
                "event {}",
                e.id
            );
            let open = State::parse(&e.state).unwrap().is_open();
            assert_eq!(
                e.due_at.is_some(),
                open,
                "event {} {}: a clock runs exactly while open",
                e.id,
                e.state
            );
            assert_eq!(e.closed_at.is_some(), e.state == "closed", "event {}", e.id);
        }
    }

    #[test]
    fn most_orders_close_at_village_level_and_ratings_are_good() {
        let h = history(1, 1_000);
        let closed: Vec<&EventRow> = h.events.iter().filter(|e| e.state == "closed").collect();
        let village = closed
            .iter()
            .filter(|e| e.centre_code == e.grid_code[..12])
            .count();
        let share = village as f64 / closed.len() as f64;
        assert!(share >= 0.95 && share < 1.0, "village share {share}");
        let ratings: Vec<i64> = h.events.iter().filter_map(|e| e.rating).collect();
        let mean = ratings.iter().sum::<i64>() as f64 / ratings.len() as f64;
        assert!(mean >= 4.3, "mean rating {mean} of {}", ratings.len());
        let tally = h.tally();
        assert!(
            tally.open > 0 && tally.open < tally.events / 10,
            "{tally:?}"
        );
        assert!(h.events.iter().any(|e| e.returns > 0) && h.events.iter().any(|e| e.overdue_ever));
        assert!(
            h.events.iter().any(|e| e.state == "rejected")
                && h.events.iter().any(|e| e.merged_into.is_some())
        );
    }

    #[test]
    fn the_figures_recount_from_a_small_history() {
        let h = history(3, 300);
        let mut recount = crate::event::Recount::default();
        for (row, event) in h.log_rows() {
            recount.add(&row, event).unwrap();
        }
        let all = recount.counters("441581102", 0, 99_999_999, "all", 0);
        assert_eq!(all.reported, 300);
        // An order reopened by a low rating was closed once before (and maybe again since).
        let closed = h.events.iter().filter(|e| e.state == "closed").count()
            + h.events.iter().filter(|e| e.reopened > 0).count();
        assert_eq!(all.closed, closed as i64);
        let rated = h.events.iter().filter(|e| e.rating.is_some()).count();
        assert_eq!(all.rated, rated as i64);
    }

    #[test]
    fn no_grids_or_no_categories_give_an_empty_history() {
        let city = generate(Scale::Town, 1).unwrap();
        let (_, deps, users) = fixture(&city);
        let inputs = Inputs {
            city: &city,
            categories: &[],
            department_ids: &deps,
            user_ids: &users,
            now_ms: NOW,
        };
        assert!(generate_history(&inputs, 1, 1, 10).events.is_empty());
    }
}
