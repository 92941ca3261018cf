//! The demo's mediator pool (调解员库) and expert panels (专家库), sized like the seeds': every
//! village's people's mediation committee has its mediator, every town centre a handful of
//! people's mediators and a judicial-office specialist, every county lawyers, retired judges
//! and department specialists (a city of the demo holds hundreds; Xinxiang's 14,211 is a whole
//! prefecture's volunteers). Each town has a login of role mediator (`med-<town path>`) linked
//! to one of its mediators, and the root's `mediator` login to a county lawyer (at town scale,
//! to a mediator of the town), so that the workbench can be tried.

use std::collections::HashMap;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shanzhi_domain::tree::Level;
use shanzhi_store::mediator::MediatorInput;
use shanzhi_store::Db;

use super::base::{GIVEN, SURNAMES};
use super::generate::DemoCity;

/// A mediator of the demo pool, with the login linked to it (a username), if any.
#[derive(Debug, Clone)]
pub struct DemoMediator {
    pub input: MediatorInput,
    pub login: Option<String>,
}

/// An expert panel: name, the county (or root) it serves, specialties, members (indexes into
/// the pool).
#[derive(Debug, Clone)]
pub struct DemoPanel {
    pub name: String,
    pub node_code: String,
    pub specialties: Vec<String>,
    pub members: Vec<usize>,
}

/// What the village and town people's mediators take on most (types of the seeded tree).
const LOCAL: &[&str] = &[
    "family",
    "neighbours",
    "land",
    "housing",
    "debt",
    "property",
];
/// Dialects heard in the demo's region (Shanwei: Hailufeng Min, Hakka, Cantonese).
const DIALECTS: &[&str] = &["海陆丰话", "客家话", "粤语", "潮汕话"];
/// County specialists: (organisation stem, specialties).
const SPECIALISTS: &[(&str, &[&str])] = &[
    (
        "人力资源和社会保障局劳动人事争议仲裁院",
        &["labour", "wages", "injury"],
    ),
    ("医疗纠纷人民调解委员会", &["medical"]),
    ("公安局交通警察大队", &["traffic"]),
    ("住房和城乡建设局", &["housing", "property", "demolition"]),
    ("市场监督管理局", &["consumer"]),
];
/// The panels each county (or the demo's root town) convenes: name and specialties.
const PANELS: &[(&str, &[&str])] = &[
    ("山林土地及征迁专家组", &["land", "housing", "demolition"]),
    ("劳动争议专家组", &["labour", "wages", "injury"]),
    ("医疗纠纷专家组", &["medical"]),
    ("婚姻家庭专家组", &["family", "inheritance", "support"]),
];

fn name(rng: &mut StdRng) -> String {
    let given = if rng.gen_bool(0.6) { 2 } else { 1 };
    let mut s = SURNAMES[rng.gen_range(0..SURNAMES.len())].to_owned();
    for _ in 0..given {
        s.push_str(GIVEN[rng.gen_range(0..GIVEN.len())]);
    }
    s
}

/// Between `lo` and `hi` different items of `from`.
fn pick(rng: &mut StdRng, from: &[&str], lo: usize, hi: usize) -> Vec<String> {
    let n = rng.gen_range(lo..=hi);
    let mut out: Vec<String> = Vec::with_capacity(n);
    while out.len() < n.min(from.len()) {
        let x = from[rng.gen_range(0..from.len())];
        if !out.iter().any(|o| o == x) {
            out.push(x.to_owned());
        }
    }
    out
}

fn dialects(rng: &mut StdRng) -> Vec<String> {
    let mut d = vec!["普通话".to_owned()];
    d.extend(pick(rng, DIALECTS, 1, 2));
    d
}

/// A rating between 3.6 and 5.0, one decimal.
fn rating(rng: &mut StdRng) -> f64 {
    f64::from(rng.gen_range(36..=50u8)) / 10.0
}

/// The pool and panels of `city`, the same for the same seed.
pub fn pool(city: &DemoCity) -> (Vec<DemoMediator>, Vec<DemoPanel>) {
    let mut rng = StdRng::seed_from_u64(city.seed ^ 0x3ED1_A708);
    let mut out: Vec<DemoMediator> = Vec::new();
    let mut panels = Vec::new();
    let person = |rng: &mut StdRng,
                  kind: &str,
                  level: &str,
                  node: &str,
                  organisation: String,
                  specialties: Vec<String>| DemoMediator {
        input: MediatorInput {
            name: name(rng),
            kind: kind.to_owned(),
            specialties,
            organisation: Some(organisation),
            level: level.to_owned(),
            node_code: node.to_owned(),
            dialects: dialects(rng),
            rating: rating(rng),
            user_id: None,
            active: rng.gen_bool(0.97),
        },
        login: None,
    };
    let under_root = city
        .nodes
        .iter()
        .filter(|n| city.root.contains(&n.code) || n.code == city.root);
    // Counties first, so that the root login's lawyer is the first county's first.
    let mut centres: Vec<_> = under_root
        .filter(|n| matches!(n.level, Level::County | Level::Town | Level::Village))
        .collect();
    centres.sort_by_key(|n| {
        (
            n.level != Level::County,
            n.level != Level::Town,
            n.code.clone(),
        )
    });
    let has_county = centres.iter().any(|n| n.level == Level::County);
    for n in centres {
        let code = n.code.as_str();
        match n.level {
            Level::Village => {
                let specialties = pick(&mut rng, LOCAL, 2, 3);
                out.push(person(
                    &mut rng,
                    "peoples",
                    "village",
                    code,
                    format!("{}人民调解委员会", n.name),
                    specialties,
                ));
            }
            Level::Town => {
                let first = out.len();
                for _ in 0..rng.gen_range(4..=6) {
                    let specialties = pick(&mut rng, LOCAL, 2, 4);
                    out.push(person(
                        &mut rng,
                        "peoples",
                        "town",
                        code,
                        format!("{}人民调解委员会", n.name),
                        specialties,
                    ));
                }
                let specialties = pick(
                    &mut rng,
                    &["land", "housing", "demolition", "labour", "wages"],
                    2,
                    2,
                );
                out.push(person(
                    &mut rng,
                    "specialist",
                    "town",
                    code,
                    format!("{}司法所", n.name),
                    specialties,
                ));
                // The demo's root town has no `med-` login: the root's `mediator` is its own.
                out[first].login = Some(if n.code == city.root {
                    "mediator".to_owned()
                } else {
                    format!("med-{}", n.code.path())
                });
                if !has_county {
                    panels.extend(county_panels(&mut rng, code, &n.name, &out, first));
                }
            }
            Level::County => {
                let first = out.len();
                for i in 0..rng.gen_range(4..=6) {
                    let specialties = pick(
                        &mut rng,
                        &[
                            "labour", "traffic", "debt", "housing", "medical", "consumer",
                        ],
                        3,
                        3,
                    );
                    out.push(person(
                        &mut rng,
                        "lawyer",
                        "county",
                        code,
                        format!("{}第{}律师事务所", n.name, i + 1),
                        specialties,
                    ));
                }
                for _ in 0..2 {
                    let specialties = pick(
                        &mut rng,
                        &["family", "land", "debt", "housing", "inheritance"],
                        3,
                        3,
                    );
                    out.push(person(
                        &mut rng,
                        "retired_judge",
                        "county",
                        code,
                        format!("{}人民法院（退休）", n.name),
                        specialties,
                    ));
                }
                for (org, specs) in SPECIALISTS {
                    let specialties = specs.iter().map(|s| (*s).to_owned()).collect();
                    out.push(person(
                        &mut rng,
                        "specialist",
                        "county",
                        code,
                        format!("{}{org}", n.name),
                        specialties,
                    ));
                }
                if first == 0 {
                    out[first].login = Some("mediator".to_owned());
                }
                panels.extend(county_panels(&mut rng, code, &n.name, &out, first));
            }
            _ => {}
        }
    }
    (out, panels)
}

/// The panels of one county (or the root town), from the mediators added since `first`: each
/// panel takes those whose specialties meet it.
fn county_panels(
    rng: &mut StdRng,
    node: &str,
    place: &str,
    pool: &[DemoMediator],
    first: usize,
) -> Vec<DemoPanel> {
    PANELS
        .iter()
        .filter_map(|(name, specs)| {
            let mut members: Vec<usize> = (first..pool.len())
                .filter(|&i| {
                    pool[i]
                        .input
                        .specialties
                        .iter()
                        .any(|s| specs.contains(&s.as_str()))
                })
                .collect();
            if members.len() < 2 {
                return None;
            }
            members.truncate(rng.gen_range(2..=5));
            Some(DemoPanel {
                name: format!("{place}{name}"),
                node_code: node.to_owned(),
                specialties: specs.iter().map(|s| (*s).to_owned()).collect(),
                members,
            })
        })
        .collect()
}

/// Writes the pool (linked to the demo's mediator logins) and the panels. Answers the mediators'
/// ids in pool order.
pub async fn write(
    db: &Db,
    city: &DemoCity,
    user_ids: &HashMap<String, i64>,
    now_ms: i64,
) -> anyhow::Result<Vec<i64>> {
    let admin = *user_ids.get("admin").context("the demo has an admin")?;
    let (pool, panels) = pool(city);
    let mut ids = Vec::with_capacity(pool.len());
    for m in &pool {
        let mut input = m.input.clone();
        input.user_id = m.login.as_ref().and_then(|u| user_ids.get(u).copied());
        ids.push(
            shanzhi_store::mediator::insert(db, &input, admin, now_ms)
                .await
                .with_context(|| format!("writing mediator {}", m.input.name))?,
        );
    }
    for p in &panels {
        let members: Vec<i64> = p.members.iter().map(|&i| ids[i]).collect();
        shanzhi_store::mediator::insert_panel(
            db,
            &p.name,
            &p.node_code,
            &p.specialties,
            &members,
            admin,
            now_ms,
        )
        .await
        .with_context(|| format!("writing panel {}", p.name))?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{generate, Scale};

    #[test]
    fn the_town_has_tens_of_mediators_with_a_login_and_panels() {
        let city = generate(Scale::Town, 1).expect("town");
        let (pool, panels) = pool(&city);
        assert!((20..200).contains(&pool.len()), "{} mediators", pool.len());
        let villages = city.count(Level::Village);
        assert_eq!(
            pool.iter().filter(|m| m.input.level == "village").count(),
            villages
        );
        let town = city
            .nodes
            .iter()
            .find(|n| n.level == Level::Town)
            .expect("a town");
        assert_eq!(town.code, city.root, "the town demo's root is its town");
        let login = "mediator".to_owned();
        assert!(pool
            .iter()
            .any(|m| m.login.as_deref() == Some(login.as_str())));
        assert!(
            city.users.iter().any(|u| u.username == login),
            "the login exists"
        );
        assert!(!panels.is_empty());
        for p in &panels {
            assert!(p.members.len() >= 2);
            for &i in &p.members {
                assert!(pool[i]
                    .input
                    .specialties
                    .iter()
                    .any(|s| p.specialties.contains(s)));
            }
        }
    }

    #[test]
    fn the_city_pool_holds_hundreds_with_lawyers_judges_and_specialists_in_every_county() {
        let city = generate(Scale::City, 1).expect("city");
        let (pool, panels) = pool(&city);
        assert!(pool.len() >= 300, "{} mediators", pool.len());
        let counties: Vec<_> = city
            .nodes
            .iter()
            .filter(|n| n.level == Level::County && city.root.contains(&n.code))
            .collect();
        for c in &counties {
            for kind in ["lawyer", "retired_judge", "specialist"] {
                assert!(
                    pool.iter()
                        .any(|m| m.input.node_code == c.code.as_str() && m.input.kind == kind),
                    "{kind} in {}",
                    c.name
                );
            }
        }
        assert_eq!(
            pool.iter()
                .filter(|m| m.login.as_deref() == Some("mediator"))
                .count(),
            1
        );
        assert!(panels.len() >= counties.len());
        // The same seed, the same pool.
        assert_eq!(super::pool(&city).0.len(), pool.len());
    }
}
