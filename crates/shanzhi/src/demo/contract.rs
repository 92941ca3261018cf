//! The demo's register of collective contracts (一清三规范): for the villages with books, 10 to
//! 20 contracts each across the kinds — arable land and ponds let to villagers, shop fronts and
//! a workshop let to companies, hill forest, a threshing floor — some of them flagged in each
//! way (a term that ended, a term beyond the law's limit, a price far below the village's
//! median, no villagers' meeting), written through the store like live writes so that the flags
//! are the register's own; then the village committee has taken some of the flags in hand
//! (rectifying) and cleaned others, one of them by fixing the contract.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use shanzhi_domain::calendar::local_date;
use shanzhi_domain::contract::{ContractKind, Limits};
use shanzhi_store::contract::{Filter, Values};
use shanzhi_store::event::LogEntry;
use shanzhi_store::Db;

use super::DemoCity;

/// (kind, assets, unit, area low, area high, yuan per unit low, high, years low, high)
type Template = (
    ContractKind,
    &'static [&'static str],
    &'static str,
    u32,
    u32,
    u32,
    u32,
    u32,
    u32,
);

const TEMPLATES: [Template; 6] = [
    (
        ContractKind::Land,
        &[
            "村北片耕地",
            "东洋片水田",
            "后垌坡地",
            "西围旱地",
            "大塘边菜地",
        ],
        "mu",
        5,
        60,
        600,
        900,
        5,
        15,
    ),
    (
        ContractKind::Pond,
        &["东头鱼塘", "老祠堂前鱼塘", "新围养殖塘"],
        "mu",
        3,
        20,
        900,
        1_500,
        5,
        10,
    ),
    (
        ContractKind::Building,
        &["村委会临街门面", "旧小学校舍", "集体厂房"],
        "m2",
        80,
        800,
        80,
        150,
        3,
        10,
    ),
    (
        ContractKind::Forest,
        &["后山林地", "水库边林地"],
        "mu",
        50,
        300,
        30,
        60,
        20,
        40,
    ),
    (
        ContractKind::Grassland,
        &["岭背草坡"],
        "mu",
        20,
        100,
        40,
        80,
        10,
        20,
    ),
    (
        ContractKind::Other,
        &["村口广告位", "晒谷场"],
        "piece",
        1,
        2,
        2_000,
        8_000,
        3,
        8,
    ),
];

/// How often each kind is drawn (land and ponds most, so that prices have peers).
const WEIGHTS: [u32; 6] = [6, 4, 3, 2, 1, 1];

const PEOPLE: [&str; 10] = [
    "陈建国",
    "林秀英",
    "黄志强",
    "吴海生",
    "蔡丽华",
    "郑国平",
    "李阿明",
    "张振华",
    "许美玲",
    "彭德福",
];
const COMPANIES: [&str; 4] = [
    "汕尾市海丰食品有限公司",
    "城区恒丰农业专业合作社",
    "红海湾水产养殖场",
    "城区联通营业部",
];

fn draw(rng: &mut StdRng) -> &'static Template {
    let total: u32 = WEIGHTS.iter().sum();
    let mut pick = rng.gen_range(0..total);
    for (t, w) in TEMPLATES.iter().zip(WEIGHTS) {
        if pick < w {
            return t;
        }
        pick -= w;
    }
    &TEMPLATES[0]
}

/// Writes the contracts of the villages with books and the clean-up so far; answers the
/// contracts written.
pub async fn write(
    db: &Db,
    city: &DemoCity,
    users: &HashMap<String, i64>,
    now: i64,
) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(city.seed ^ 0xc0_47ac7);
    let today = local_date(now);
    let limits = Limits::default();
    let mut written = 0;
    for v in super::ledger::book_villages(db, city, users).await? {
        let Some(&committee) = users.get(&format!("disp-{}", v.code.path())) else {
            continue;
        };
        let count = rng.gen_range(10..=20);
        for n in 0..count {
            let &(kind, assets, unit, a_lo, a_hi, p_lo, p_hi, y_lo, y_hi) = draw(&mut rng);
            let years = rng.gen_range(y_lo..=y_hi);
            // Started some years ago, so that a share has ended by now.
            let start = today
                .checked_sub_months(Months::new(rng.gen_range(3..=years * 12)))
                .unwrap_or(today);
            let start = NaiveDate::from_ymd_opt(start.year(), start.month(), 1).unwrap_or(start);
            let mut end = start
                .checked_add_months(Months::new(years * 12))
                .and_then(|d| d.pred_opt())
                .unwrap_or(today);
            let area = i64::from(rng.gen_range(a_lo..=a_hi)) * 100;
            let mut per_unit = i64::from(rng.gen_range(p_lo..=p_hi)) * 100;
            let cause = rng.gen_range(0..100);
            match cause {
                // A term that ended last season, still in force in the register.
                0..=11 => {
                    end = today
                        .checked_sub_months(Months::new(rng.gen_range(1..=8)))
                        .unwrap_or(today);
                }
                // Beyond the law's limit (a building let for 30 years, a pond for 35…).
                12..=19 => {
                    end = start
                        .checked_add_months(Months::new(
                            (limits.max_years[kind as usize] + rng.gen_range(2..=10)) * 12,
                        ))
                        .unwrap_or(end);
                }
                // Let far below the village's price (to a relative, say).
                20..=27 => per_unit = per_unit * 2 / 5,
                _ => {}
            }
            let meeting = rng.gen_range(0..100) >= 18;
            let private = matches!(
                kind,
                ContractKind::Land | ContractKind::Pond | ContractKind::Forest
            ) || rng.gen_bool(0.3);
            let counterparty = if private {
                PEOPLE[rng.gen_range(0..PEOPLE.len())]
            } else {
                COMPANIES[rng.gen_range(0..COMPANIES.len())]
            };
            let yearly = per_unit * area / 100;
            let asset = assets[rng.gen_range(0..assets.len())];
            let values = Values {
                number: format!("HT{}-{:03}", start.year(), n + 1),
                kind: kind.as_str().to_owned(),
                asset_name: asset.to_owned(),
                location: Some(format!(
                    "{}{}",
                    v.name,
                    ["东片", "西片", "南片", "北片"][rng.gen_range(0..4)]
                )),
                area_centi: area,
                unit: unit.to_owned(),
                counterparty: counterparty.to_owned(),
                private_party: private,
                start_date: start.format("%Y-%m-%d").to_string(),
                end_date: end.format("%Y-%m-%d").to_string(),
                yearly_fen: yearly.max(100),
                payment_terms: Some(
                    ["每年1月31日前一次付清", "每半年支付一次", "按季度支付"][rng.gen_range(0..3)]
                        .to_owned(),
                ),
                meeting_date: meeting.then(|| {
                    start
                        .checked_sub_days(chrono::Days::new(rng.gen_range(7..40)))
                        .unwrap_or(start)
                        .format("%Y-%m-%d")
                        .to_string()
                }),
                meeting_ref: meeting
                    .then(|| format!("村民代表会议〔{}〕{}号", start.year(), n + 1)),
                terminated: false,
                photos: Vec::new(),
            };
            let at = now - rng.gen_range(30..120) * 86_400_000;
            let log = LogEntry {
                actor_id: Some(committee),
                action: "create".into(),
                from_state: None,
                to_state: "create".into(),
                note: None,
                data: json!({}),
            };
            shanzhi_store::contract::insert(
                db,
                v.code.as_str(),
                &values,
                &log,
                committee,
                at,
                today,
                &limits,
            )
            .await?;
            written += 1;
        }
        // The clean-up so far: a third of the flags in hand, a quarter cleaned.
        let contracts = shanzhi_store::contract::list(
            db,
            &Filter {
                under: v.code.path().to_owned(),
                limit: 100,
                ..Filter::default()
            },
        )
        .await?;
        let ids: Vec<i64> = contracts.iter().map(|c| c.id).collect();
        let mut fixed_one = false;
        for f in shanzhi_store::contract::current_flags(db, &ids).await? {
            if f.closed_at.is_some() {
                continue;
            }
            let at = now - rng.gen_range(1..20) * 86_400_000;
            let roll = rng.gen_range(0..100);
            if f.flag == "no_meeting_approval" && !fixed_one {
                // Put to the villagers' meeting since: the contract is fixed, the flag closes.
                if let Some(c) = contracts.iter().find(|c| c.id == f.contract_id) {
                    fixed_one = true;
                    let mut values = values_of(c);
                    values.meeting_date = Some(local_date(at).format("%Y-%m-%d").to_string());
                    values.meeting_ref = Some(format!(
                        "村民代表会议〔{}〕补{}号",
                        today.year(),
                        c.id % 20 + 1
                    ));
                    let log = LogEntry {
                        actor_id: Some(committee),
                        action: "update".into(),
                        from_state: None,
                        to_state: "update".into(),
                        note: None,
                        data: json!({}),
                    };
                    shanzhi_store::contract::replace(
                        db, c, c.version, &values, &log, committee, at, today, &limits,
                    )
                    .await?;
                    continue;
                }
            }
            if roll < 35 {
                shanzhi_store::contract::set_cleanup(
                    db,
                    &f,
                    "rectifying",
                    Some("已约谈承包方，正在协商整改"),
                    committee,
                    at,
                )
                .await?;
            } else if roll < 60 {
                let note = match f.flag.as_str() {
                    "expired" => "合同到期后已续签新合同，原合同归档",
                    "term_too_long" => "已签订补充协议，承包期限调整至法定期限内",
                    "price_low" => "经村民代表会议评议，承包费自下年度起调整至市场价",
                    _ => "已补充提交村民代表会议表决通过",
                };
                shanzhi_store::contract::set_cleanup(db, &f, "cleaned", Some(note), committee, at)
                    .await?;
            }
        }
    }
    Ok(written)
}

/// What a stored contract holds, to write it again changed.
fn values_of(c: &shanzhi_store::contract::Contract) -> Values {
    Values {
        number: c.number.clone(),
        kind: c.kind.clone(),
        asset_name: c.asset_name.clone(),
        location: c.location.clone(),
        area_centi: c.area_centi,
        unit: c.unit.clone(),
        counterparty: c.counterparty.clone(),
        private_party: c.private_party,
        start_date: c.start_date.clone(),
        end_date: c.end_date.clone(),
        yearly_fen: c.yearly_fen,
        payment_terms: c.payment_terms.clone(),
        meeting_date: c.meeting_date.clone(),
        meeting_ref: c.meeting_ref.clone(),
        terminated: c.terminated,
        photos: Vec::new(),
    }
}
