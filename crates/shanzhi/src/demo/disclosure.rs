//! The demo's village affairs in the open: for every village that keeps books, a year of public
//! notices in the four kinds (one pinned, one withdrawn and published again corrected), and the
//! questions the demo's villagers asked on their village's posted entries — one answered on
//! time, one unanswered past due and supervised at the town, one waiting — and two suggestions
//! (建言献策), one answered, so that 公示公告, 我要监督, 建言献策 and the console's 村民监督 open on
//! something real.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use shanzhi_domain::calendar::WorkCalendar;
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::audit::AuditEntry;
use shanzhi_store::event::LogEntry;
use shanzhi_store::notification::NewNotification;
use shanzhi_store::Db;

use super::DemoCity;

const DAY: i64 = 86_400_000;

/// (kind, title, body)
const NOTICES: [(&str, &str, &str); 10] = [
    ("rules", "村规民约（2026年修订）", "一、爱护集体财产，不乱占乱建。\n二、垃圾分类投放，门前三包。\n三、邻里和睦，矛盾纠纷先找网格员调解。\n四、红白喜事简办，不铺张浪费。\n五、遵守防汛防台安排，服从转移。\n（经村民会议表决通过）"),
    ("powers", "村级小微权力清单", "1. 村级重大事项决策：“四议两公开”。\n2. 村级工程项目招投标：公开招标，结果公示。\n3. 集体资产资源处置：经村民代表会议同意，报镇三资代理中心备案。\n4. 村级财务报销：不上图不给报销，村委会审批、镇三资代理中心审核。\n5. 低保、救助初审：入户调查，村内公示7天。"),
    ("finance", "{m}月份村集体财务收支公开", "本月收入、支出明细已经镇三资代理中心审核入账，详见「我要看帐」。对任何一笔收支有疑问，可点「我要监督」提问，村委会将在5个工作日内答复。"),
    ("party", "关于开展主题党日活动的通知", "本月15日上午9时在村党群服务中心开展主题党日活动，请全体党员准时参加。"),
    ("village", "村民代表会议决议公开", "经村民代表会议表决，同意对村内主干道路灯进行维修更换，费用从村集体经营收入中列支，公示期7天。"),
    ("service", "城乡居民医疗保险缴费提醒", "2027年度城乡居民医保开始缴费，可通过微信或到村便民服务站缴纳，行动不便的老人可预约上门代办。"),
    ("finance", "集体鱼塘承包招标结果公示", "村集体鱼塘承包经公开招标，由出价最高者中标，承包期5年，合同已报镇三资代理中心备案。"),
    ("village", "防汛防台工作安排", "汛期已至，各网格员加强巡查，低洼地带住户请留意预警信息，必要时听从转移安排。"),
    ("service", "便民服务站办理时间调整", "自下月起，村便民服务站工作日办理时间为8:30—12:00、14:30—17:30，周六上午值班。"),
    ("party", "党费收缴情况公示", "本季度党员党费已按规定收缴并上交，明细在党群服务中心公示栏张贴。"),
];

/// Writes the notices and the questions; answers how many notices were written.
pub async fn write(
    db: &Db,
    city: &DemoCity,
    users: &HashMap<String, i64>,
    now: i64,
) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(city.seed ^ 0xd15c);
    let cal = WorkCalendar::china_default();
    let villagers = villagers(db, users).await?;
    let mut written = 0;
    let mut seen = Vec::new();
    for (village, committee) in shanzhi_store::ledger::committees(db).await? {
        if seen.contains(&village) {
            continue;
        }
        seen.push(village.clone());
        let log = |action: &str, from: Option<&str>, to: &str, note: Option<&str>| LogEntry {
            actor_id: Some(committee),
            action: action.to_owned(),
            from_state: from.map(str::to_owned),
            to_state: to.to_owned(),
            note: note.map(str::to_owned),
            data: json!({}),
        };
        for (i, (kind, title, body)) in NOTICES.iter().enumerate() {
            let at = now - (NOTICES.len() - i) as i64 * 40 * DAY + rng.gen_range(0..10) * DAY;
            let month = shanzhi_domain::calendar::local_date(at)
                .format("%-m")
                .to_string();
            let title = title.replace("{m}", &month);
            let d =
                shanzhi_store::disclosure::insert(db, &village, kind, &title, body, committee, at)
                    .await?;
            let when = at + 3_600_000;
            let mv = |action: &str, to: &str, pinned: bool| {
                AuditEntry::new(
                    Some(committee),
                    &format!("disclosure.{action}"),
                    "disclosure",
                    d.id.to_string(),
                )
                .after(json!({"state": to, "pinned": pinned}))
            };
            shanzhi_store::disclosure::save_move(
                db,
                &d,
                "published",
                false,
                &log("publish", Some("draft"), "published", None),
                &mv("publish", "published", false),
                when,
            )
            .await?;
            written += 1;
            let d = shanzhi_store::disclosure::get(db, d.id).await?;
            if i == 4 {
                // Withdrawn for a wrong figure, corrected and published again.
                let why = "表决票数有误，更正后重新公示";
                shanzhi_store::disclosure::save_move(
                    db,
                    &d,
                    "withdrawn",
                    false,
                    &log("withdraw", Some("published"), "withdrawn", Some(why)),
                    &mv("withdraw", "withdrawn", false),
                    when + DAY,
                )
                .await?;
                let d = shanzhi_store::disclosure::get(db, d.id).await?;
                shanzhi_store::disclosure::replace(
                    db,
                    &d,
                    d.version,
                    kind,
                    &format!("{title}（更正）"),
                    body,
                    committee,
                    when + DAY + 600_000,
                )
                .await?;
                let d = shanzhi_store::disclosure::get(db, d.id).await?;
                shanzhi_store::disclosure::save_move(
                    db,
                    &d,
                    "published",
                    false,
                    &log("publish", Some("withdrawn"), "published", None),
                    &mv("publish", "published", false),
                    when + DAY + 1_200_000,
                )
                .await?;
            } else if i == NOTICES.len() - 1 {
                // The latest is pinned.
                shanzhi_store::disclosure::save_move(
                    db,
                    &d,
                    "published",
                    true,
                    &log("pin", Some("published"), "published", None),
                    &mv("pin", "published", true),
                    when + 600_000,
                )
                .await?;
            }
        }
        // The villagers' questions on the books' posted entries.
        let Some(askers) = villagers.get(&village) else {
            continue;
        };
        let f = shanzhi_store::ledger::Filter {
            under: String::new(),
            state: Some("posted".to_owned()),
            villages: Some(vec![village.clone()]),
            limit: 20,
            ..Default::default()
        };
        let entries = shanzhi_store::ledger::list(db, &f).await?;
        let plan: [(&str, i64, Option<&str>); 3] = [
            (
                "这笔支出的发票能看到吗？金额和去年相比为什么多了？",
                30,
                Some("发票影像已上传，可在账目中查看；今年增加了防汛物资采购，明细见财务公开。"),
            ),
            ("鱼塘承包费是按年收还是一次性收？", 12, None),
            ("办公用品每月都买，能不能公开一下清单？", 1, None),
        ];
        // And two suggestions (建言献策) about the village itself: one answered, one waiting.
        let ideas: [(&str, i64, Option<&str>); 2] = [
            (
                "建议在村口路段加装路灯，晚上出行不安全。",
                20,
                Some("已列入本年度村级项目，预计下月安装，届时在村务公开中公示费用。"),
            ),
            ("建议每季度开一次村民议事会，听听大家的意见。", 1, None),
        ];
        let asks = plan
            .iter()
            .zip(entries.iter())
            .map(|(&(text, days, answer), e)| ("entry", e.id, text, days, answer))
            .chain(
                ideas
                    .iter()
                    .map(|&(text, days, answer)| ("suggestion", 0, text, days, answer)),
            );
        for (subject, subject_id, text, days_ago, answer) in asks {
            let asker = askers[rng.gen_range(0..askers.len())];
            let at = now - days_ago * DAY;
            let due = cal.add_working_days(at, shanzhi_domain::question::ANSWER_DAYS);
            let note = NewNotification::to_centre(
                &village,
                "question_asked",
                json!({"subject": subject, "subject_id": subject_id, "node": village}),
                if subject == "entry" {
                    "村民就账目提出了问题"
                } else {
                    "村民提出了建议（建言献策）"
                }
                .to_owned(),
            );
            let asked = shanzhi_store::question::Asked {
                node: &village,
                subject,
                subject_id,
                text,
                due_at: due,
            };
            let q = shanzhi_store::question::insert(db, &asked, asker, &note, at).await?;
            if let Some(a) = answer {
                let note = NewNotification::to_user(
                    asker,
                    "question_answered",
                    json!({"question_id": q.id, "subject": subject, "subject_id": subject_id}),
                    "村里答复了您的问题".to_owned(),
                );
                shanzhi_store::question::answer(db, &q, a, false, committee, &note, at + 2 * DAY)
                    .await?;
            } else if due <= now {
                // Past due and unanswered: what the sweep does, at the due time.
                let params = json!({"question_id": q.id, "node": village});
                let mut notes = vec![NewNotification::to_centre(
                    &village,
                    "question_supervise",
                    params.clone(),
                    format!("督办：村民提问 #{} 已超过答复时限", q.id),
                )];
                if let Some(town) = NodeCode::parse(&village)
                    .ok()
                    .and_then(|v| v.natural_parent())
                {
                    notes.push(NewNotification::to_centre(
                        town.as_str(),
                        "question_supervise",
                        params,
                        format!("督办：村民提问 #{} 已超过答复时限", q.id),
                    ));
                }
                shanzhi_store::question::supervise(db, &q, &notes, due).await?;
            }
        }
    }
    Ok(written)
}

/// Who lives where: the demo's citizens by village.
pub(super) async fn villagers(
    db: &Db,
    users: &HashMap<String, i64>,
) -> anyhow::Result<HashMap<String, Vec<i64>>> {
    let mut villagers: HashMap<String, Vec<i64>> = HashMap::new();
    for name in ["citizen", "citizen2", "citizen3", "citizen4", "citizen5"] {
        if let Some(&id) = users.get(name) {
            for g in shanzhi_store::warning::home_nodes(db, id).await? {
                if let Some(v) = NodeCode::parse(&g).ok().and_then(|c| village_of(&c)) {
                    let ids = villagers.entry(v).or_default();
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
        }
    }
    Ok(villagers)
}

fn village_of(c: &NodeCode) -> Option<String> {
    use shanzhi_domain::tree::{Level, NaturalLevel};
    std::iter::once(c.as_str().to_owned())
        .chain(c.ancestor_codes())
        .find(|a| {
            NodeCode::parse(a)
                .is_ok_and(|v| v.natural_level() == NaturalLevel::Region(Level::Village))
        })
}
