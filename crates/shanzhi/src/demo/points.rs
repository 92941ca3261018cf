//! The demo's points system (积分制), for the villages with books ([`super::ledger::book_villages`]):
//! each publishes its rules (public work, volunteering, simple weddings and funerals, breaking the
//! village rules, and points for a confirmed report) and stocks its points shop; a year of awards
//! goes to the residents with an account, some of them redeemed at the shop — written through
//! the store's own award and redemption, so every balance is its awards less its redemptions.
//! The points of the demo's confirmed reports are then given by the live sweep.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shanzhi_store::Db;

use super::DemoCity;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// (name, points, kind)
const RULES: [(&str, i64, &str); 7] = [
    ("参加村庄环境整治", 5, "manual"),
    ("参加志愿服务活动", 3, "manual"),
    ("红白事简办", 10, "manual"),
    ("门前三包达标", 2, "manual"),
    ("乱堆乱放经劝导未改", -5, "manual"),
    ("违反村规民约", -10, "manual"),
    ("上报隐患经核实", 2, "report_confirmed"),
];

/// (name, price in points, stock)
const ITEMS: [(&str, i64, i64); 5] = [
    ("毛巾", 10, 100),
    ("洗衣粉", 20, 60),
    ("食用油（5升）", 60, 30),
    ("大米（10斤）", 50, 40),
    ("电饭煲", 200, 5),
];

/// What an award says the resident did, by rule.
const NOTES: [&str; 6] = [
    "参加周末村道清扫",
    "参加防溺水巡河",
    "儿子婚事简办，未大操大办",
    "门前屋后保持整洁",
    "屋前杂物堆放占道，劝导后仍未清理",
    "在河道倾倒建筑垃圾",
];

/// Writes the rules, the shops, a year of awards and redemptions; answers the awards written.
pub async fn write(
    db: &Db,
    city: &DemoCity,
    users: &HashMap<String, i64>,
    now: i64,
) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(city.seed ^ 0x0009_0175);
    let year_ago = now - 365 * DAY_MS;
    let mut written = 0;
    for v in super::ledger::book_villages(db, city, users).await? {
        let village = v.code.as_str();
        // The village's dispatcher publishes the rules and keeps the shop.
        let Some(&staff) = users.get(&format!("disp-{}", v.code.path())) else {
            continue;
        };
        let mut rules = Vec::new();
        for (name, points, kind) in RULES {
            rules.push(
                shanzhi_store::points::insert_rule(
                    db, village, name, points, kind, staff, year_ago,
                )
                .await?,
            );
        }
        let mut items = Vec::new();
        for (name, price, stock) in ITEMS {
            items.push(
                shanzhi_store::points::insert_item(
                    db, village, name, price, stock, staff, year_ago,
                )
                .await?,
            );
        }
        let residents = shanzhi_store::points::residents(db, village, v.code.path(), 1000).await?;
        // Each resident's awards spread over the year with a redemption now and then, written
        // in time order across the village (as they happened).
        let mut plan: Vec<(i64, i64, usize, Option<usize>)> = Vec::new();
        for (user, _, _) in &residents {
            let mut at = year_ago + rng.gen_range(1..20) * DAY_MS;
            while at < now {
                let rule = match rng.gen_range(0..20) {
                    0 => 5,
                    1 => 4,
                    n => (n % 4) as usize,
                };
                let redeem = rng.gen_bool(0.25).then(|| rng.gen_range(0..items.len()));
                plan.push((at, *user, rule, redeem));
                at += rng.gen_range(7..30) * DAY_MS;
            }
        }
        plan.sort_by_key(|p| (p.0, p.1));
        for (at, user, i, redeem) in plan {
            let rule = &rules[i];
            let award = shanzhi_store::points::NewAward {
                node_code: village.to_owned(),
                user_id: user,
                rule_id: rule.id,
                points: rule.points,
                note: NOTES[i].to_owned(),
                evidence: Vec::new(),
                awarded_by: Some(staff),
                source_event_id: None,
            };
            if shanzhi_store::points::award(db, &award, at)
                .await?
                .is_some()
            {
                written += 1;
            }
            if let Some(k) = redeem {
                // Refused when the balance or the stock is short, as a live redemption is.
                match shanzhi_store::points::redeem(db, items[k].id, user, 1, at + 3600 * 1000)
                    .await
                {
                    Ok(_) | Err(shanzhi_store::StoreError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Ok(written)
}
