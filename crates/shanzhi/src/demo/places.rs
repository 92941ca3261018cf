//! The demo's places, party branches and grid officials: in every grid a few shops and small
//! places (九小场所) with licences and safety checks at realistic rates (most checked on time,
//! some overdue, a few with hazards), a party branch with its secretary, deputy and members,
//! and the village's dispatchers as the grid's officials (包联干部). The check schedule comes
//! from the same rule functions the service calls (`shanzhi_domain::place`).

use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shanzhi_domain::place::{CheckResult, PlaceKind};
use shanzhi_store::organisation::NewBranch;
use shanzhi_store::pii::Keyring;
use shanzhi_store::place::NewPlace;
use shanzhi_store::Db;

use super::generate::DemoCity;

const DAY: i64 = 86_400_000;

/// Kinds of place and how common each is in a grid.
const KINDS: [(PlaceKind, f64); 13] = [
    (PlaceKind::SmallShop, 30.0),
    (PlaceKind::SmallRestaurant, 20.0),
    (PlaceKind::Shop, 15.0),
    (PlaceKind::SmallBeautyBath, 8.0),
    (PlaceKind::SmallWorkshop, 6.0),
    (PlaceKind::EnterpriseSite, 5.0),
    (PlaceKind::SmallHotel, 4.0),
    (PlaceKind::SmallSchool, 3.0),
    (PlaceKind::SmallClinic, 3.0),
    (PlaceKind::SmallInternetCafe, 2.0),
    (PlaceKind::SmallEntertainment, 2.0),
    (PlaceKind::School, 1.0),
    (PlaceKind::Hospital, 0.3),
];

/// Synthetic names: common surnames and given-name characters.
const SURNAMES: &[&str] = &[
    "陈", "林", "黄", "张", "李", "王", "吴", "刘", "蔡", "杨", "郑", "许", "曾", "彭", "庄",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "秀英", "志强", "丽", "建国", "海燕", "少华", "文", "玉兰", "国平", "小红",
];

fn person(rng: &mut StdRng) -> String {
    format!(
        "{}{}",
        SURNAMES[rng.gen_range(0..SURNAMES.len())],
        GIVEN[rng.gen_range(0..GIVEN.len())]
    )
}

fn place_name(kind: PlaceKind, rng: &mut StdRng) -> String {
    let stem = [
        "好又多",
        "顺发",
        "海丰",
        "新港",
        "福临",
        "金海湾",
        "红海",
        "品城",
        "安心",
        "惠民",
    ][rng.gen_range(0..10)];
    let tail = match kind {
        PlaceKind::SmallShop | PlaceKind::Shop => "便利店",
        PlaceKind::SmallRestaurant => "饭店",
        PlaceKind::SmallBeautyBath => "美容美发",
        PlaceKind::SmallWorkshop => "加工厂",
        PlaceKind::EnterpriseSite => "厂区",
        PlaceKind::SmallHotel => "旅馆",
        PlaceKind::SmallSchool => "幼儿园",
        PlaceKind::SmallClinic => "诊所",
        PlaceKind::SmallInternetCafe => "网吧",
        PlaceKind::SmallEntertainment => "KTV",
        PlaceKind::School => "小学",
        PlaceKind::Hospital => "卫生院",
    };
    format!("{stem}{tail}")
}

/// One place of a grid, its licence and the state of its checks at `now_ms`.
fn place(
    node: &super::generate::DemoNode,
    serial: usize,
    rng: &mut StdRng,
    kinds: &WeightedIndex<f64>,
    now_ms: i64,
) -> NewPlace {
    let kind = KINDS[kinds.sample(rng)].0;
    let licensed = rng.gen_bool(0.92);
    // A few licences have lapsed; the rest run one to four years on.
    let expires_in = if rng.gen_bool(0.04) {
        -rng.gen_range(1..200)
    } else {
        rng.gen_range(30..1460)
    };
    let expires = shanzhi_domain::calendar::local_date(now_ms + expires_in * DAY);
    let (next, last) = if rng.gen_bool(0.85) {
        // Checked: usually within its interval, sometimes late (overdue now).
        let age = (rng.gen_range(0.0..1.15) * kind.check_days() as f64 * DAY as f64) as i64;
        let at = now_ms - age;
        let result = match rng.gen_range(0..100) {
            0..=84 => CheckResult::Passed,
            85..=96 => CheckResult::HazardsFound,
            _ => CheckResult::Failed,
        };
        (
            kind.next_check_at(result, at),
            Some((at, result.as_str().to_owned())),
        )
    } else {
        let registered = now_ms - rng.gen_range(0..120) * DAY;
        (kind.first_check_at(registered), None)
    };
    let p = super::history::point_in(node, rng);
    NewPlace {
        node_code: node.code.as_str().to_owned(),
        kind: kind.as_str().to_owned(),
        name: place_name(kind, rng),
        address: None,
        point: (p != (0.0, 0.0)).then_some(p),
        licence_no: licensed.then(|| format!("DEMO{}{serial:06}", node.code.path())),
        licence_expires: licensed.then(|| expires.format("%Y-%m-%d").to_string()),
        next_check_at: next,
        last_check: last,
    }
}

/// Writes the places, party branches and officials of every grid of `city`.
pub async fn write(db: &Db, _keys: &Keyring, city: &DemoCity, now_ms: i64) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(city.seed ^ 0x9c1a_5e11);
    let kinds = WeightedIndex::new(KINDS.iter().map(|k| k.1))?;
    let mut places = Vec::new();
    let mut branches = Vec::new();
    for node in city.nodes.iter().filter(|n| n.level.is_grid()) {
        for _ in 0..rng.gen_range(2..=8) {
            places.push(place(node, places.len(), &mut rng, &kinds, now_ms));
        }
        let mut members = vec![
            (person(&mut rng), "secretary".to_owned()),
            (person(&mut rng), "deputy".to_owned()),
        ];
        for _ in 0..rng.gen_range(3..=8) {
            members.push((person(&mut rng), "member".to_owned()));
        }
        branches.push(NewBranch {
            node_code: node.code.as_str().to_owned(),
            name: format!("{}党支部", node.name),
            members,
        });
    }
    shanzhi_store::place::insert_many(db, &places, shanzhi_store::place::Counts::Replace, now_ms)
        .await?;
    shanzhi_store::organisation::insert_branches(
        db,
        &branches,
        city.root.path(),
        "包联干部",
        now_ms,
    )
    .await?;
    Ok(())
}
