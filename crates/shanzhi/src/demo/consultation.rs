//! The demo's consultations (协商议事): for every village that keeps books, three topics — one
//! concluded (comments, the meeting's record, the outcome), one whose meeting was held and
//! whose outcome is awaited, and one still open for comments — with comments by the demo's
//! villagers where they live there, so that the portal's 协商议事 and the console open on
//! something real.

use std::collections::HashMap;

use shanzhi_store::consultation::Change;
use shanzhi_store::Db;

const DAY: i64 = 86_400_000;

/// (title, body, residents' comments)
const TOPICS: [(&str, &str, [&str; 3]); 3] = [
    (
        "关于硬化村东机耕路的议题",
        "村东机耕路长约800米，雨天泥泞，农机和村民出行不便。村委会提议用村集体经营收入硬化路面，预算约16万元。请大家就是否硬化、资金来源和施工时间发表意见。",
        ["早该修了，下雨天电动车都推不动。", "建议农忙前完工，别耽误秋收。", "资金要公开，施工请村民代表监督。"],
    ),
    (
        "关于村集体鱼塘下一轮承包方式的议题",
        "村集体鱼塘承包合同年底到期。下一轮承包是公开招标，还是优先本村农户竞价？承包期定为3年还是5年？请大家提出意见，村民代表会议将据此表决。",
        ["公开招标价高者得，收入归集体。", "本村农户优先，外村人承包容易出问题。", "承包期5年比较合适，投入能收回。"],
    ),
    (
        "关于在村文化广场安装健身器材的议题",
        "不少村民反映文化广场缺少健身设施。村委会拟申请上级体育彩票公益金，安装一批室外健身器材。安装位置和器材种类请大家出主意。",
        ["希望装在树荫下，老人白天也能用。", "加几个儿童的器材吧。", "晚上要有灯，注意安全。"],
    ),
];

/// Writes the topics; answers how many were written.
pub async fn write(db: &Db, users: &HashMap<String, i64>, now: i64) -> anyhow::Result<usize> {
    let villagers = super::disclosure::villagers(db, users).await?;
    let mut written = 0;
    let mut seen = Vec::new();
    for (village, committee) in shanzhi_store::ledger::committees(db).await? {
        if seen.contains(&village) {
            continue;
        }
        seen.push(village.clone());
        let residents = villagers.get(&village).cloned().unwrap_or_default();
        for (i, (title, body, comments)) in TOPICS.iter().enumerate() {
            // The concluded topic two months back, the held one three weeks, the open one days.
            let opened = now - [60, 21, 4][i] * DAY;
            let c =
                shanzhi_store::consultation::insert(db, &village, title, body, committee, opened)
                    .await?;
            for (k, text) in comments.iter().enumerate() {
                let at = opened + (k as i64 + 1) * DAY / 3;
                match residents.get(k % residents.len().max(1)) {
                    Some(&who) => {
                        shanzhi_store::consultation::comment(db, c.id, who, false, text, at).await?
                    }
                    None if k == 0 => {
                        // No demo villager lives here: the village answers its own topic.
                        shanzhi_store::consultation::comment(
                            db,
                            c.id,
                            committee,
                            true,
                            "欢迎大家踊跃发表意见。",
                            at,
                        )
                        .await?
                    }
                    None => continue,
                };
            }
            if i == 2 {
                written += 1;
                continue;
            }
            let c = shanzhi_store::consultation::get(db, c.id).await?;
            let held_at = opened + 18 * DAY;
            let record = format!(
                "议题：{title}\n村委会主任主持，通报了村民在线意见{}条，逐条讨论。\n参会村民代表举手表决。",
                c.comments
            );
            let change = Change {
                held_at: Some(held_at),
                place: Some("村党群服务中心会议室".into()),
                attendees: Some(23 + i as i64 * 4),
                record: Some(record),
                ..Change::default()
            };
            shanzhi_store::consultation::moved(
                db,
                &c,
                "hold",
                "held",
                &change,
                Some("村党群服务中心会议室"),
                committee,
                &[],
                held_at + 3_600_000,
            )
            .await?;
            if i == 0 {
                let c = shanzhi_store::consultation::get(db, c.id).await?;
                let outcome = "到会代表23人，同意21人。机耕路硬化列入本年度村级项目，资金从村集体经营收入列支，施工招标结果另行公示，村民代表3人参与质量监督。";
                let change = Change {
                    decision: Some("agreed".into()),
                    outcome: Some(outcome.into()),
                    ..Change::default()
                };
                shanzhi_store::consultation::moved(
                    db,
                    &c,
                    "conclude",
                    "concluded",
                    &change,
                    Some(outcome),
                    committee,
                    &[],
                    held_at + DAY,
                )
                .await?;
            }
            written += 1;
        }
    }
    Ok(written)
}
