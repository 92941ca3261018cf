//! The demo's population (base data): residents in households of about 2.8, living in
//! buildings placed at a point inside each grid, with care and attention tags at realistic
//! rates — written by the same bulk writer an import uses. Everything is synthetic: names are
//! a common surname and two characters from a fixed pool, ID numbers carry valid check digits
//! under the real region codes of the demo's counties (so they pass the checks) but belong to
//! nobody, and phones are in the 170 number block with made-up subscriber digits.

use std::collections::{HashMap, HashSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shanzhi_domain::event::caller::Phone;
use shanzhi_domain::resident::id_number::complete;
use shanzhi_domain::resident::IdNumber;
use shanzhi_domain::user::Role;
use shanzhi_store::audit::AuditEntry;
use shanzhi_store::pii::Keyring;
use shanzhi_store::resident::bulk::{self, NewResident, TagSeed, Written};
use shanzhi_store::Db;

use super::DemoCity;
use crate::import::china_today;

/// Residents a demo holds unless told otherwise: the town's full population, a sample of the
/// city's and the province's.
pub fn residents_by_default(scale: super::Scale) -> usize {
    match scale {
        super::Scale::Town => 50_000,
        super::Scale::City | super::Scale::Province => 20_000,
    }
}

/// The care and attention tags the demo uses (the catalogue's built-in ones).
pub const TAGS: [TagSeed; 14] = [
    tag(
        "elderly_alone",
        "独居老人",
        "Elderly living alone",
        "care",
        Some(30),
        true,
    ),
    tag(
        "elderly_empty_nest",
        "空巢老人",
        "Empty-nest elderly",
        "care",
        Some(60),
        true,
    ),
    tag("disabled", "残疾人", "Disabled", "care", Some(90), true),
    tag(
        "subsistence",
        "低保户",
        "Subsistence allowance",
        "care",
        Some(90),
        false,
    ),
    tag(
        "extreme_poverty",
        "特困人员",
        "Extreme poverty",
        "care",
        Some(30),
        true,
    ),
    tag(
        "left_behind_child",
        "留守儿童",
        "Left-behind child",
        "care",
        Some(30),
        true,
    ),
    tag(
        "poverty_watch",
        "防返贫监测对象",
        "Poverty-relapse watch",
        "care",
        Some(30),
        false,
    ),
    tag(
        "mental_illness",
        "严重精神障碍患者",
        "Serious mental illness",
        "attention",
        Some(30),
        true,
    ),
    tag(
        "community_correction",
        "社区矫正对象",
        "Community correction",
        "attention",
        Some(30),
        false,
    ),
    tag(
        "drug_rehab",
        "社区戒毒康复人员",
        "Drug rehabilitation",
        "attention",
        Some(30),
        false,
    ),
    tag(
        "released_prisoner",
        "刑满释放人员",
        "Released prisoner",
        "attention",
        Some(90),
        false,
    ),
    tag("veteran", "退役军人", "Veteran", "care", None, false),
    tag(
        "key_youth",
        "重点青少年",
        "Key youth",
        "attention",
        Some(60),
        false,
    ),
    tag(
        "pregnant",
        "孕产妇",
        "Pregnant or new mother",
        "care",
        Some(30),
        true,
    ),
];

const fn tag(
    code: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    kind: &'static str,
    visit_days: Option<i64>,
    vulnerable: bool,
) -> TagSeed {
    TagSeed {
        code,
        name_zh,
        name_en,
        kind,
        visit_days,
        vulnerable,
    }
}

pub(super) const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "潘", "袁", "蔡", "蒋", "余", "叶", "杜", "苏", "魏", "程", "吕", "丁", "沈",
];
pub(super) const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "文", "海", "建", "国", "志", "红",
];

/// The household sizes and their shares (mean about 2.8, as the census has it).
const SIZES: [(usize, f64); 6] = [
    (1, 0.20),
    (2, 0.27),
    (3, 0.22),
    (4, 0.16),
    (5, 0.09),
    (6, 0.06),
];

struct Person {
    age: u16,
    male: bool,
    relation: &'static str,
}

/// The members of one household: a head, maybe a spouse, children, a parent.
fn household(rng: &mut StdRng) -> Vec<Person> {
    let mut pick = rng.gen::<f64>();
    let mut size = 6;
    for (n, share) in SIZES {
        if pick < share {
            size = n;
            break;
        }
        pick -= share;
    }
    // Heads by age: the young, the middle-aged and the old (60+ about a fifth of everyone).
    let head_age: u16 = match rng.gen::<f64>() {
        x if x < 0.25 => rng.gen_range(22..40),
        x if x < 0.70 => rng.gen_range(40..60),
        _ => rng.gen_range(60..92),
    };
    let head_male = rng.gen_bool(0.7);
    let mut out = vec![Person {
        age: head_age,
        male: head_male,
        relation: "head",
    }];
    if size >= 2 {
        out.push(Person {
            age: (head_age as i32 + rng.gen_range(-4..4)).clamp(20, 95) as u16,
            male: !head_male,
            relation: "spouse",
        });
    }
    for i in 2..size {
        if i == 5 && head_age < 60 {
            out.push(Person {
                age: (head_age + rng.gen_range(24..32)).min(100),
                male: rng.gen_bool(0.4),
                relation: "parent",
            });
        } else {
            let child_age = head_age.saturating_sub(rng.gen_range(22..34));
            out.push(Person {
                age: child_age,
                male: rng.gen_bool(0.52),
                relation: if child_age + 45 < head_age && head_age >= 60 {
                    "grandchild"
                } else {
                    "child"
                },
            });
        }
    }
    out
}

/// Builds the demo's population over its grids and writes it; demo citizens are linked to
/// heads of household (so the portal's 我的家庭 shows one). Returns what was written.
pub async fn write(
    db: &Db,
    keys: &Keyring,
    city: &DemoCity,
    user_ids: &HashMap<String, i64>,
    now_ms: i64,
) -> anyhow::Result<Written> {
    bulk::ensure_tags(db, &TAGS, now_ms).await?;
    let residents = generate(city, user_ids, now_ms);
    if residents.is_empty() {
        return Ok(Written::default());
    }
    let audit = AuditEntry::new(None, "demo.residents", "node", city.root.as_str())
        .after(serde_json::json!({"residents": residents.len()}));
    let written = bulk::write(db, keys, &residents, &audit, now_ms).await?;
    bulk::recount(db).await?;
    Ok(written)
}

/// The residents of the demo (about `city.residents`), grid by grid.
pub fn generate(city: &DemoCity, user_ids: &HashMap<String, i64>, now_ms: i64) -> Vec<NewResident> {
    let grids: Vec<_> = city
        .nodes
        .iter()
        .filter(|n| n.level.is_grid() && n.inside.is_some())
        .collect();
    if grids.is_empty() || city.residents == 0 {
        return Vec::new();
    }
    let mut rng = StdRng::seed_from_u64(city.seed ^ 0xBA5E_DA7A);
    let (year, _, _) = china_today(now_ms);
    let per_grid = city.residents / grids.len();
    let mut citizens = city
        .users
        .iter()
        .filter(|u| u.role == Role::Citizen)
        .filter_map(|u| user_ids.get(&u.username).copied());
    let mut ids = HashSet::new();
    let mut out = Vec::with_capacity(city.residents + 8);
    let mut household_no = 0u64;
    let mut phone_no = 0u64;
    for (g, grid) in grids.iter().enumerate() {
        // The last grid takes the remainder, so the total is what was asked.
        let target = if g + 1 == grids.len() {
            city.residents - out.len().min(city.residents)
        } else {
            per_grid
        };
        let (lon, lat) = grid.inside.expect("filtered");
        let region = &grid.code.as_str()[..6];
        let mut placed = 0;
        let mut building: u32 = 0;
        let mut rooms_in_building: u32 = 0;
        while placed < target {
            if building == 0 || rooms_in_building >= 24 {
                building += 1;
                rooms_in_building = 0;
            }
            rooms_in_building += 1;
            household_no += 1;
            let floating = rng.gen_bool(0.18);
            let overseas = !floating && rng.gen_bool(0.02);
            let residence = if floating {
                "floating"
            } else if overseas {
                "overseas"
            } else {
                "registered"
            };
            let subsistence = rng.gen_bool(0.03);
            let members = household(&mut rng);
            let size = members.len();
            let all_old = members.iter().all(|m| m.age >= 60);
            for m in members {
                if placed == target {
                    break;
                }
                placed += 1;
                let birth_year = year.saturating_sub(m.age);
                let number = loop {
                    let seq: u16 = rng.gen_range(0..500) * 2 + u16::from(m.male);
                    let first17 = format!(
                        "{region}{birth_year:04}{:02}{:02}{seq:03}",
                        rng.gen_range(1..=12),
                        rng.gen_range(1..=28)
                    );
                    let n = complete(&first17);
                    if ids.insert(n.clone()) {
                        break n;
                    }
                };
                let id = IdNumber::parse(&number, (year, 12, 31)).ok();
                let mut tags = Vec::new();
                let mut tag_if = |code: &str, yes: bool| {
                    if yes {
                        tags.push(code.to_owned());
                    }
                };
                tag_if(
                    "elderly_alone",
                    size == 1 && m.age >= 60 && rng.gen_bool(0.9),
                );
                tag_if(
                    "elderly_empty_nest",
                    size == 2 && all_old && rng.gen_bool(0.5),
                );
                tag_if("disabled", rng.gen_bool(0.06));
                tag_if("subsistence", subsistence);
                tag_if("extreme_poverty", rng.gen_bool(0.003));
                tag_if("left_behind_child", m.age < 16 && rng.gen_bool(0.05));
                tag_if("poverty_watch", rng.gen_bool(0.005));
                tag_if("mental_illness", rng.gen_bool(0.004));
                tag_if("community_correction", m.age >= 18 && rng.gen_bool(0.0005));
                tag_if("drug_rehab", m.age >= 18 && rng.gen_bool(0.0005));
                tag_if("released_prisoner", m.age >= 20 && rng.gen_bool(0.001));
                tag_if("veteran", m.male && m.age >= 30 && rng.gen_bool(0.03));
                tag_if(
                    "key_youth",
                    (14..=25).contains(&m.age) && rng.gen_bool(0.02),
                );
                tag_if(
                    "pregnant",
                    !m.male && (20..=40).contains(&m.age) && rng.gen_bool(0.03),
                );
                let phone = (m.age >= 16).then(|| {
                    phone_no += 1;
                    Phone::parse(&format!("170{:08}", phone_no % 100_000_000)).ok()
                });
                let name = format!(
                    "{}{}{}",
                    SURNAMES[rng.gen_range(0..SURNAMES.len())],
                    GIVEN[rng.gen_range(0..GIVEN.len())],
                    GIVEN[rng.gen_range(0..GIVEN.len())]
                );
                let user_id = if m.relation == "head" {
                    citizens.next()
                } else {
                    None
                };
                out.push(NewResident {
                    node_code: grid.code.clone(),
                    name,
                    gender: if m.male { "male" } else { "female" }.to_owned(),
                    birth_year: Some(i64::from(birth_year)),
                    id_number: id,
                    phone: phone.flatten(),
                    ethnicity: Some(
                        if rng.gen_bool(0.97) {
                            "汉族"
                        } else {
                            "畲族"
                        }
                        .to_owned(),
                    ),
                    residence: residence.to_owned(),
                    workplace: None,
                    household: Some(format!("{region}{household_no:08}")),
                    relation: Some(m.relation.to_owned()),
                    building: Some(format!("{building}栋")),
                    room: Some(format!(
                        "{}0{}",
                        rooms_in_building.div_ceil(4) + 1,
                        (rooms_in_building - 1) % 4 + 1
                    )),
                    house_use: Some(if floating { "rented" } else { "self_occupied" }.to_owned()),
                    building_at: Some((
                        lon + (building as f64 % 5.0 - 2.0) * 0.0002,
                        lat + ((building / 5) as f64 % 5.0 - 2.0) * 0.0002,
                    )),
                    tags,
                    user_id,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn households_average_about_2_8_and_heads_come_first() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut people = 0;
        for _ in 0..10_000 {
            let h = household(&mut rng);
            assert_eq!(h[0].relation, "head");
            people += h.len();
        }
        let mean = people as f64 / 10_000.0;
        assert!((2.6..3.0).contains(&mean), "{mean}");
    }
}
