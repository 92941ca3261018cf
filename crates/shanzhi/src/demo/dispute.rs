//! A year of dispute cases for the demo: types, sources, centre levels and outcomes in shares
//! like the seeds' (Shanwei: 2,125 disputes found in a year, 1,922 resolved; Xinxiang: 99.6% of
//! 12,000 resolved). Every case is walked move by move through the domain's own transition at
//! its own time and saved through the store like a live move, so its timeline, clocks, figures
//! and the mediators' records are what the running system would have written. Cases whose next
//! move falls after "now" stay open where they are: the board holds cases in every state.

use std::collections::HashMap;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shanzhi_domain::calendar::WorkCalendar;
use shanzhi_domain::dispute::state::{centre_parent, Judicial};
use shanzhi_domain::dispute::{transition, Action, Extension, Outcome, Referral, Source, State};
use shanzhi_domain::tree::{Level, NodeCode};
use shanzhi_domain::user::person::mask_phone;
use shanzhi_domain::user::{Actor, Role, Scope};
use shanzhi_store::dispute::{DisputeRow, HistoryCase, NewParty, NewSession};
use shanzhi_store::pii::{IndexKind, Keyring};
use shanzhi_store::Db;

use super::base::{GIVEN, SURNAMES};
use super::{DemoCity, Scale};
use crate::dispute::{apply, intake_log, new_row, state_from};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Cases found in a year, by scale (the city about Shanwei's 2,125).
pub fn cases_a_year(scale: Scale) -> usize {
    match scale {
        Scale::Town => 150,
        Scale::City => 2_100,
        Scale::Province => 20_000,
    }
}

/// Types by share of cases (codes of migration 0017's tree), with what a case of the type is
/// about and the amount at stake (yuan), if any.
const TYPES: [(&str, f64, &str, Option<(i64, i64)>); 14] = [
    ("neighbours", 0.20, "相邻通行、排水与噪音纠纷", None),
    ("family", 0.09, "夫妻感情不和引发的婚姻家庭纠纷", None),
    (
        "support",
        0.05,
        "子女对老人赡养费分担的纠纷",
        Some((3_000, 20_000)),
    ),
    (
        "inheritance",
        0.03,
        "父母遗留房产的继承份额纠纷",
        Some((50_000, 600_000)),
    ),
    ("land", 0.11, "承包地与宅基地边界纠纷", None),
    (
        "housing",
        0.04,
        "房屋漏水、建房影响采光的纠纷",
        Some((2_000, 30_000)),
    ),
    (
        "demolition",
        0.02,
        "征地补偿款分配纠纷",
        Some((20_000, 300_000)),
    ),
    ("wages", 0.10, "工地拖欠农民工工资", Some((5_000, 120_000))),
    ("injury", 0.03, "务工受伤赔偿纠纷", Some((10_000, 200_000))),
    (
        "traffic",
        0.07,
        "交通事故损害赔偿纠纷",
        Some((2_000, 80_000)),
    ),
    (
        "property",
        0.06,
        "物业费与公共维修纠纷",
        Some((1_000, 20_000)),
    ),
    (
        "consumer",
        0.05,
        "购买商品质量与退款纠纷",
        Some((300, 20_000)),
    ),
    ("debt", 0.09, "民间借贷到期未还纠纷", Some((5_000, 200_000))),
    ("medical", 0.02, "诊疗损害赔偿纠纷", Some((10_000, 150_000))),
];

/// Sources by share (staff intake and citizens' online applications).
const SOURCES: [(Source, f64); 8] = [
    (Source::Patrol, 0.34),
    (Source::WalkIn, 0.24),
    (Source::Hotline, 0.12),
    (Source::Petition, 0.06),
    (Source::Court, 0.08),
    (Source::Police, 0.09),
    (Source::Procuratorate, 0.02),
    (Source::Online, 0.05),
];

fn pick<T: Copy>(rng: &mut StdRng, table: &[(T, f64)]) -> T {
    let mut x = rng.gen::<f64>() * table.iter().map(|t| t.1).sum::<f64>();
    for (v, share) in table {
        if x < *share {
            return *v;
        }
        x -= share;
    }
    table[table.len() - 1].0
}

fn person(rng: &mut StdRng) -> String {
    let mut s = SURNAMES[rng.gen_range(0..SURNAMES.len())].to_owned();
    s.push_str(GIVEN[rng.gen_range(0..GIVEN.len())]);
    if rng.gen_bool(0.7) {
        s.push_str(GIVEN[rng.gen_range(0..GIVEN.len())]);
    }
    s
}

/// The centres of the demo and the people who act for them.
struct World<'a> {
    cal: WorkCalendar,
    /// Village, town and county centres under the root, by level.
    centres: [Vec<(NodeCode, String)>; 3],
    /// Pool ids of the mediators at each node (by path), each mediator's login (if any) and name.
    mediators_at: HashMap<String, Vec<i64>>,
    mediator_name: HashMap<i64, String>,
    mediator_user: HashMap<i64, i64>,
    user_ids: &'a HashMap<String, i64>,
    fallback: Actor,
    root: NodeCode,
}

impl World<'_> {
    /// The dispatcher of the centre holding `node` (the root's own dispatcher or administrator
    /// where the node has none of its own).
    fn centre(&self, node: &NodeCode) -> Actor {
        match self.user_ids.get(&format!("disp-{}", node.path())) {
            Some(&id) => Actor {
                user_id: id,
                role: Role::Dispatcher,
                scope: Scope::Node(node.clone()),
            },
            None => self.fallback.clone(),
        }
    }

    /// The mediators who may take a case held at `node`: its own first, then its ancestors'.
    fn mediators_for(&self, node: &NodeCode) -> &[i64] {
        node.ancestor_paths()
            .iter()
            .rev()
            .find_map(|p| self.mediators_at.get(p).filter(|v| !v.is_empty()))
            .map_or(&[], |v| v.as_slice())
    }
}

/// Writes the demo's year of cases (`n` of them) ending at `now_ms`. Answers how many.
pub async fn write(
    db: &Db,
    keys: &Keyring,
    city: &DemoCity,
    user_ids: &HashMap<String, i64>,
    mediator_ids: &[i64],
    n: usize,
    now_ms: i64,
) -> anyhow::Result<usize> {
    if n == 0 || mediator_ids.is_empty() {
        return Ok(0);
    }
    let (pool, _) = super::mediator::pool(city);
    let mut mediators_at: HashMap<String, Vec<i64>> = HashMap::new();
    let mut mediator_user = HashMap::new();
    let mut mediator_name = HashMap::new();
    for (m, &id) in pool.iter().zip(mediator_ids) {
        let node = NodeCode::parse(&m.input.node_code)?;
        mediators_at
            .entry(node.path().to_owned())
            .or_default()
            .push(id);
        mediator_name.insert(id, m.input.name.clone());
        if let Some(u) = m.login.as_ref().and_then(|l| user_ids.get(l)) {
            mediator_user.insert(id, *u);
        }
    }
    let mut centres: [Vec<(NodeCode, String)>; 3] = Default::default();
    for node in &city.nodes {
        if !city.root.contains(&node.code) {
            continue;
        }
        let slot = match node.level {
            Level::Village => 0,
            Level::Town => 1,
            Level::County => 2,
            _ => continue,
        };
        centres[slot].push((node.code.clone(), node.name.clone()));
    }
    let admin = *user_ids.get("admin").context("the demo has an admin")?;
    let world = World {
        cal: WorkCalendar::china_default(),
        centres,
        mediators_at,
        mediator_name,
        mediator_user,
        user_ids,
        fallback: Actor {
            user_id: admin,
            role: Role::Admin,
            scope: Scope::Node(city.root.clone()),
        },
        root: city.root.clone(),
    };
    let bar = super::progress::bar(n as u64, "disputes");
    let mut rng = StdRng::seed_from_u64(city.seed ^ 0xD15_9073);
    // Each case is walked in memory through the same rules the API applies, and the walked
    // cases are written in bulk (a case written move by move costs dozens of round trips).
    let mut written = 0;
    let mut done = 0;
    while done < n {
        let part = (n - done).min(CASES_PER_PART);
        let cases = (0..part)
            .map(|i| one_case(&world, keys, &mut rng, now_ms, done + i))
            .collect::<anyhow::Result<Vec<_>>>()?;
        written += shanzhi_store::dispute::insert_history(db, &cases)
            .await
            .context("writing the walked cases")?
            .len();
        done += part;
        bar.set_position(done as u64);
    }
    bar.finish_and_clear();
    Ok(written)
}

/// Cases walked and written per part, so that memory stays bounded for a large year.
const CASES_PER_PART: usize = 20_000;

/// Takes one case in at a random time of the past year and walks it as far as "now" allows,
/// as the API would store it move by move. `nth` names it in errors.
fn one_case(
    w: &World<'_>,
    keys: &Keyring,
    rng: &mut StdRng,
    now: i64,
    nth: usize,
) -> anyhow::Result<HistoryCase> {
    // Villages hold most cases, towns the harder ones, counties the hardest.
    let level = pick(rng, &[(0usize, 0.68), (1, 0.26), (2, 0.06)]);
    let level = (0..3)
        .map(|i| (level + i) % 3)
        .find(|&l| !w.centres[l].is_empty())
        .context("the demo has no village, town or county")?;
    let (node, place) = w.centres[level][rng.gen_range(0..w.centres[level].len())].clone();
    let types: Vec<(usize, f64)> = TYPES.iter().enumerate().map(|(i, t)| (i, t.1)).collect();
    let (type_code, _, about, amount) = TYPES[pick(rng, &types)];
    let source = pick(rng, &SOURCES);
    let mut t = now - rng.gen_range(HOUR..365 * DAY);

    let others = if rng.gen_bool(0.06) {
        rng.gen_range(3..9)
    } else {
        0
    };
    let mut parties = Vec::with_capacity(2 + others);
    for (role, count) in [("applicant", 1), ("respondent", 1), ("other", others)] {
        for _ in 0..count {
            let phone = rng.gen_bool(0.6).then(|| {
                format!(
                    "1{}{:09}",
                    rng.gen_range(30..90),
                    rng.gen_range(0..1_000_000_000)
                )
            });
            parties.push(NewParty {
                role: role.into(),
                resident_id: None,
                name: person(rng),
                gender: Some(if rng.gen_bool(0.55) { "male" } else { "female" }.into()),
                id_number: None,
                phone: phone.map(|p| keys.seal(IndexKind::Phone, &p, mask_phone(&p))),
                address: None,
            });
        }
    }
    let yuan = amount.map(|(lo, hi)| rng.gen_range(lo..=hi));
    let violence = rng.gen_bool(0.02);
    let summary = format!(
        "{}：{}与{}{}，{}申请调解。",
        place,
        parties[0].name,
        parties[1].name,
        match yuan {
            Some(y) => format!("因{about}（涉及金额约{y}元）发生争执"),
            None => format!("因{about}发生争执"),
        },
        parties[0].name
    );
    let centre = w.centre(&node);
    let mut row = new_row(
        &node,
        type_code.into(),
        source,
        summary,
        yuan.map(|y| y * 100),
        (others > 0).then_some(2 + others as i64),
        violence,
        parties.len(),
        0,
        t,
    )
    .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    row.intake_user_id = Some(centre.user_id);
    let note = if source == Source::Online {
        "applied for mediation (申请调解)"
    } else {
        "taken in (登记)"
    };
    let names: Vec<String> = parties.iter().map(|p| p.name.clone()).collect();
    let mut case = HistoryCase {
        row: row.clone(),
        parties,
        log: vec![(intake_log(centre.user_id, note), t)],
        sessions: Vec::new(),
        panels: Vec::new(),
    };
    let mut sessions = 0;
    loop {
        let state = State::parse(&row.state).context("a stored state")?;
        let mediator_user = row
            .mediator_id
            .and_then(|m| w.mediator_user.get(&m).copied());
        let extension = Extension::parse(&row.extension).context("a stored extension")?;
        let holder = NodeCode::parse(&row.node_code)?;
        let (action, wait) = match next(
            rng, &row, state, extension, sessions, w, &holder, yuan, &names,
        ) {
            Some(x) => x,
            None => break,
        };
        t += wait;
        if t > now - HOUR {
            break;
        }
        let mediator_acts = matches!(
            action,
            Action::ScheduleSession
                | Action::RecordOutcome(_)
                | Action::FollowUp { .. }
                | Action::RequestExtension { .. }
        );
        let actor = match mediator_user {
            Some(u) if mediator_acts => Actor {
                user_id: u,
                role: Role::Mediator,
                scope: Scope::Node(holder.clone()),
            },
            _ => w.centre(&holder),
        };
        let st = state_from(&row, mediator_user, Vec::new())
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        let tr = transition(&st, &action, &actor)
            .map_err(|e| anyhow::anyhow!("demo case #{nth}: {e:?}"))?;
        let (after, mut writes) = apply(&row, &st, &action, &tr, Some(actor.user_id), t, &w.cal)
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        // History, not news: nobody is told of last year's moves again, and the load has one
        // audit row of its own.
        if let Some(log) = writes.log.take() {
            case.log.push((log, t));
        }
        if let Some(panel) = writes.panel_id {
            case.panels.push((panel, t));
        }
        if matches!(action, Action::ScheduleSession) {
            sessions += 1;
            let mediator = row.mediator_id.or(after.mediator_id);
            let mut attendees = names.clone();
            if let Some(name) = mediator.and_then(|m| w.mediator_name.get(&m)) {
                attendees.push(name.clone());
            }
            case.sessions.push((
                NewSession {
                    dispute_id: 0,
                    at: t + rng.gen_range(1..4) * DAY,
                    place: format!("{}人民调解室", place_of(&holder, w)),
                    attendees,
                    record: Some(format!(
                        "第{sessions}次调解：双方陈述事实与诉求，调解员释法说理，{}。",
                        if sessions == 1 {
                            "双方同意继续协商"
                        } else {
                            "双方就主要条款达成一致意见"
                        }
                    )),
                    created_by: actor.user_id,
                    photos: Vec::new(),
                },
                t,
            ));
        }
        // `apply` gives the row as the store keeps it (version and time moved on).
        row = after;
    }
    case.row = row;
    Ok(case)
}

/// The name of the centre at `node`.
fn place_of(node: &NodeCode, w: &World<'_>) -> String {
    w.centres
        .iter()
        .flatten()
        .find(|(c, _)| c == node)
        .map(|(_, n)| n.clone())
        .unwrap_or_default()
}

/// The case's next move and how long after the last it comes; `None` once it is over.
#[allow(clippy::too_many_arguments)]
fn next(
    rng: &mut StdRng,
    row: &DisputeRow,
    state: State,
    extension: Extension,
    sessions: u32,
    w: &World<'_>,
    holder: &NodeCode,
    yuan: Option<i64>,
    names: &[String],
) -> Option<(Action, i64)> {
    let soon = |rng: &mut StdRng| rng.gen_range(HOUR..2 * DAY);
    let days = |rng: &mut StdRng, lo: i64, hi: i64| rng.gen_range(lo * DAY..hi * DAY);
    Some(match state {
        State::Intake => {
            let x = rng.gen::<f64>();
            if x < 0.03 {
                let reason = "不属于人民调解受理范围，已告知当事人向有关部门反映".to_owned();
                (Action::Decline { reason }, soon(rng))
            } else if x < 0.12 && centre_parent(holder).is_some_and(|p| w.root.contains(&p)) {
                let reason = "案情复杂、涉及人数多，提请上级矛调中心调处".to_owned();
                (Action::TransferUp { reason }, soon(rng))
            } else {
                (Action::Accept, soon(rng))
            }
        }
        State::Accepted => {
            let pool = w.mediators_for(holder);
            let mediator_id = *pool.get(rng.gen_range(0..pool.len().max(1)))?;
            (Action::Assign { mediator_id }, soon(rng))
        }
        State::Assigned if sessions == 0 || (row.reopened && sessions < 2) => {
            (Action::ScheduleSession, days(rng, 1, 6))
        }
        State::Assigned | State::InSession => {
            let mediator_user = row.mediator_id.and_then(|m| w.mediator_user.get(&m));
            if extension == Extension::Pending {
                (
                    Action::DecideExtension {
                        approve: rng.gen_bool(0.9),
                    },
                    soon(rng),
                )
            } else if extension == Extension::None && mediator_user.is_some() && rng.gen_bool(0.08)
            {
                let reason = "当事人外出务工，需等其返乡后再行调解".to_owned();
                (Action::RequestExtension { reason }, days(rng, 5, 15))
            } else if sessions < 3 && rng.gen_bool(0.3) {
                (Action::ScheduleSession, days(rng, 3, 10))
            } else {
                // Most end in days; a few run past their 30 working days.
                let wait = if rng.gen_bool(0.05) {
                    days(rng, 35, 60)
                } else {
                    days(rng, 1, 12)
                };
                (Action::RecordOutcome(outcome(rng, yuan, names)), wait)
            }
        }
        State::Agreed if row.judicial.is_none() && rng.gen_bool(0.08) => {
            let date = shanzhi_domain::calendar::local_date(
                row.outcome_at.unwrap_or(row.created_at) + 3 * DAY,
            );
            (
                Action::JudicialConfirmation(Judicial {
                    court: "人民法院".into(),
                    date: date.format("%Y-%m-%d").to_string(),
                    number: format!(
                        "（{}）粤民特{}号",
                        date.format("%Y"),
                        rng.gen_range(100..9999)
                    ),
                }),
                days(rng, 5, 15),
            )
        }
        State::Agreed => {
            let honoured = rng.gen_bool(0.95);
            let note = Some(if honoured {
                "回访：协议已履行，双方无异议".to_owned()
            } else {
                "回访：被申请人未按期履行协议".to_owned()
            });
            (Action::FollowUp { honoured, note }, days(rng, 15, 45))
        }
        State::Failed | State::Withdrawn => (Action::Close, days(rng, 1, 4)),
        State::Declined | State::Closed => return None,
    })
}

/// How mediation ends: mostly an agreement, sometimes a referral, now and then a withdrawal.
fn outcome(rng: &mut StdRng, yuan: Option<i64>, names: &[String]) -> Outcome {
    let x = rng.gen::<f64>();
    if x < 0.88 {
        let pay = match yuan {
            Some(y) => format!(
                "{}于本协议签订之日起三十日内一次性支付{}人民币{}元",
                names[1],
                names[0],
                y * rng.gen_range(50..=100) / 100
            ),
            None => format!(
                "{}与{}按现场确认的界址与方式各自履行，互谅互让",
                names[0], names[1]
            ),
        };
        Outcome::Agreement {
            terms: format!(
                "一、{pay}；\n二、双方就本纠纷再无其他争议；\n三、本协议自双方签字之日起生效。"
            ),
        }
    } else if x < 0.96 {
        let referral = pick(
            rng,
            &[
                (Referral::Court, 0.6),
                (Referral::Arbitration, 0.25),
                (Referral::AdminReview, 0.15),
            ],
        );
        Outcome::Failure {
            referral,
            reason: "双方分歧较大，经多次调解未能达成一致，已告知其他解决途径".into(),
        }
    } else {
        Outcome::Withdrawal {
            reason: "当事人自行和解，撤回调解申请".into(),
        }
    }
}
