//! The demo's village books (三资台账): duties for the villages of the demo's first towns (the
//! village's first grid worker keeps the books as treasurer, the village dispatcher sits on the
//! committee, the town dispatcher is the town's agency) and a year of entries per village —
//! contracting fees from villagers (private persons, masked in public), grants from the town,
//! office, public-welfare and operating expenses, each expense with a generated invoice image —
//! walked through the domain's own transition and posted like live moves. Months before the
//! last are closed; this month's entries wait at every step.

use std::collections::HashMap;

use chrono::Datelike;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use sha2::{Digest, Sha256};
use shanzhi_domain::calendar::local_date;
use shanzhi_domain::ledger::{month_index, transition, Action, Duty, EntryState, Kind, State};
use shanzhi_domain::tree::Level;
use shanzhi_store::audit::AuditEntry;
use shanzhi_store::event::LogEntry;
use shanzhi_store::ledger::Values;
use shanzhi_store::Db;

use super::DemoCity;

/// Most villages with books in the demo (the first ones in code order).
const MAX_VILLAGES: usize = 12;

/// (kind, summary, debit, credit, low yuan, high yuan, counterparty, private person)
type Template = (
    Kind,
    &'static str,
    &'static str,
    &'static str,
    u32,
    u32,
    &'static str,
    bool,
);

const TEMPLATES: [Template; 8] = [
    (
        Kind::Income,
        "收取鱼塘承包费",
        "102",
        "501",
        2_000,
        12_000,
        "陈建国",
        true,
    ),
    (
        Kind::Income,
        "收取集体厂房租金",
        "102",
        "501",
        5_000,
        30_000,
        "汕尾市海丰食品有限公司",
        false,
    ),
    (
        Kind::Income,
        "镇财政拨付村级运转补助",
        "102",
        "503",
        10_000,
        40_000,
        "镇财政所",
        false,
    ),
    (
        Kind::Expense,
        "购买村委会办公用品",
        "513",
        "101",
        200,
        1_500,
        "城区文具店",
        false,
    ),
    (
        Kind::Expense,
        "支付村道路灯维修费",
        "514",
        "102",
        800,
        6_000,
        "恒明电气工程部",
        false,
    ),
    (
        Kind::Expense,
        "支付村级保洁员劳务费",
        "513",
        "102",
        1_500,
        3_000,
        "林阿婆",
        true,
    ),
    (
        Kind::Expense,
        "购买集体果园化肥",
        "511",
        "102",
        1_000,
        8_000,
        "农资供销社",
        false,
    ),
    (
        Kind::Transfer,
        "提取备用金",
        "101",
        "102",
        500,
        2_000,
        "",
        false,
    ),
];

/// A small invoice-like picture, different for every entry (its amount drawn as bars).
fn invoice_png(seed: u64, fen: i64) -> Vec<u8> {
    let (w, h) = (240u32, 140u32);
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    let mut dot = |x: u32, y: u32, c: [u8; 3]| {
        let i = ((y * w + x) * 3) as usize;
        rgb[i..i + 3].copy_from_slice(&c);
    };
    for x in 0..w {
        for y in [0, 1, h - 2, h - 1, 28] {
            dot(x, y, [180, 40, 40]);
        }
    }
    for y in 0..h {
        for x in [0, 1, w - 2, w - 1] {
            dot(x, y, [180, 40, 40]);
        }
    }
    let digits = format!("{fen:010}{seed:08}");
    for (i, d) in digits.bytes().enumerate().take(18) {
        let height = u32::from(d - b'0') * 8 + 4;
        let x0 = 12 + i as u32 * 12;
        for x in x0..x0 + 7 {
            for y in (120 - height)..120 {
                dot(x, y, [40, 60, 140]);
            }
        }
    }
    crate::briefing::chart::encode_png(&rgb, w, h).unwrap_or_default()
}

/// The villages with books (and points) in the demo: those the demo's citizens live in first
/// (so that 我要看帐 and 我的积分 show them something), then the first ones in code order.
pub async fn villages<'a>(
    db: &Db,
    city: &'a DemoCity,
    users: &HashMap<String, i64>,
) -> anyhow::Result<Vec<&'a super::generate::DemoNode>> {
    let mut homes = Vec::new();
    for name in ["citizen", "citizen2", "citizen3", "citizen4", "citizen5"] {
        if let Some(&id) = users.get(name) {
            homes.extend(shanzhi_store::warning::home_nodes(db, id).await?);
        }
    }
    let mut villages: Vec<_> = city
        .nodes
        .iter()
        .filter(|n| n.level == Level::Village && homes.iter().any(|g| g.starts_with(n.code.path())))
        .collect();
    for n in city.nodes.iter().filter(|n| n.level == Level::Village) {
        if villages.len() >= MAX_VILLAGES {
            break;
        }
        if !villages.iter().any(|v| v.code == n.code) {
            villages.push(n);
        }
    }
    Ok(villages)
}

/// Writes the duties and the year of entries; answers the entries written.
pub async fn write(
    db: &Db,
    city: &DemoCity,
    users: &HashMap<String, i64>,
    now: i64,
) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(city.seed ^ 0x1ed6e4);
    let villages = villages(db, city, users).await?;
    let today = local_date(now);
    let this_month = month_index(today.year(), today.month());
    let mut written = 0;
    for v in villages {
        let Some(town) = v.parent.as_ref() else {
            continue;
        };
        let first_grid = city
            .nodes
            .iter()
            .find(|n| n.parent.as_ref() == Some(&v.code) && n.level.is_grid());
        let (Some(g), Some(&committee), Some(&agency)) = (
            first_grid,
            users.get(&format!("disp-{}", v.code.path())),
            // The town's centre; at town scale the town is the root, whose centre is "dispatcher".
            users
                .get(&format!("disp-{}", town.path()))
                .or_else(|| users.get("dispatcher")),
        ) else {
            continue;
        };
        let Some(&treasurer) = users.get(&format!("gw-{}", g.code.path())) else {
            continue;
        };
        for (user, node, duty) in [
            (treasurer, &v.code, "treasurer"),
            (committee, &v.code, "committee"),
            (agency, town, "town_agency"),
        ] {
            let mut held = shanzhi_store::ledger::duties_of(db, user).await?;
            held.push((node.as_str().to_owned(), duty.to_owned()));
            held.sort();
            held.dedup();
            shanzhi_store::ledger::set_duties(db, user, &held, user, now).await?;
        }
        for back in (0..12).rev() {
            let month = this_month - back;
            let (year, mon) = (
                month.div_euclid(12) as i32,
                (month.rem_euclid(12) + 1) as u32,
            );
            let days = if month == this_month {
                today.day().max(1)
            } else {
                28
            };
            for _ in 0..rng.gen_range(4..9) {
                let t = TEMPLATES[rng.gen_range(0..TEMPLATES.len())];
                let (kind, summary, debit, credit, low, high, party, private) = t;
                let fen = i64::from(rng.gen_range(low..=high)) * 100
                    + i64::from(rng.gen_range(0..100u32));
                let day = rng.gen_range(1..=days);
                let date = chrono::NaiveDate::from_ymd_opt(year, mon, day).unwrap_or(today);
                let at = shanzhi_domain::calendar::local_ms(date, 10 * 60).min(now);
                let mut invoices = Vec::new();
                if kind == Kind::Expense {
                    let png = invoice_png(rng.gen(), fen);
                    let hash = hex::encode(Sha256::digest(&png));
                    shanzhi_store::event::insert_photo(db, &hash, "image/png", &png, treasurer, at)
                        .await?;
                    invoices.push(hash);
                }
                let values = Values {
                    kind: kind.as_str().to_owned(),
                    entry_date: date.format("%Y-%m-%d").to_string(),
                    month,
                    summary: summary.to_owned(),
                    counterparty: (!party.is_empty()).then(|| party.to_owned()),
                    private_party: private,
                    lines: vec![
                        (debit.to_owned(), "debit".to_owned(), fen),
                        (credit.to_owned(), "credit".to_owned(), fen),
                    ],
                    invoices,
                    total_fen: fen,
                };
                let log = |action: &str, from: Option<&str>, to: &str, who: i64| LogEntry {
                    actor_id: Some(who),
                    action: action.to_owned(),
                    from_state: from.map(str::to_owned),
                    to_state: to.to_owned(),
                    note: None,
                    data: json!({}),
                };
                let mut e = shanzhi_store::ledger::insert(
                    db,
                    v.code.as_str(),
                    &values,
                    &log("create", None, "draft", treasurer),
                    treasurer,
                    at,
                )
                .await?;
                written += 1;
                // How far it got: past months all the way; this month anywhere on the way.
                let steps = if month < this_month {
                    3
                } else {
                    rng.gen_range(0..=3)
                };
                let moves = [
                    (Action::Submit, Duty::Treasurer, treasurer),
                    (
                        Action::Approve {
                            approve: true,
                            note: None,
                        },
                        Duty::Committee,
                        committee,
                    ),
                    (
                        Action::Review {
                            approve: true,
                            note: None,
                        },
                        Duty::TownAgency,
                        agency,
                    ),
                ];
                for (i, (action, duty, who)) in moves.into_iter().enumerate().take(steps) {
                    let facts = EntryState {
                        state: State::parse(&e.state).unwrap_or(State::Draft),
                        kind,
                        invoices: values.invoices.len() as u32,
                        month_closed: false,
                    };
                    let t = transition(&facts, &action, duty)
                        .map_err(|r| anyhow::anyhow!("demo entry refused: {r:?}"))?;
                    let when = (at + (i as i64 + 1) * 3_600_000).min(now);
                    let audit = AuditEntry::new(
                        Some(who),
                        &format!("ledger.{}", action.name()),
                        "ledger_entry",
                        e.id.to_string(),
                    )
                    .after(json!({"state": t.to.as_str()}));
                    shanzhi_store::ledger::save_move(
                        db,
                        &e,
                        t.to.as_str(),
                        t.post,
                        &log(action.name(), Some(&e.state), t.to.as_str(), who),
                        &audit,
                        when,
                    )
                    .await?;
                    e = shanzhi_store::ledger::get(db, e.id).await?;
                }
            }
            // 月结: every month before last is closed by the town.
            if month < this_month - 1 {
                shanzhi_store::ledger::close(db, v.code.as_str(), month, agency, now).await?;
            }
        }
    }
    Ok(written)
}
