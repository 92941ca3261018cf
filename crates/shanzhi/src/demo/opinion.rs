//! The demo's legislative-opinion collection (立法意见征集) at the top of its tree, kept by the
//! root's dispatcher as the contact point: one draft open for opinions (closing in three weeks),
//! with a few of the demo villagers' opinions, and one from the autumn whose collection is
//! closed and whose opinions were each marked adopted or not with a reason.

use std::collections::HashMap;

use anyhow::Context;
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::notification::NewNotification;
use shanzhi_store::opinion::NewDraft;
use shanzhi_store::Db;

use super::DemoCity;

const DAY: i64 = 86_400_000;

const OPEN_ARTICLES: [&str; 8] = [
    "第一条 为了规范城乡社区网格化服务管理，推进基层治理体系和治理能力现代化，根据有关法律、法规，结合本市实际，制定本条例。",
    "第二条 本市行政区域内城乡社区网格的划分、网格员队伍建设、网格事项办理及其监督保障，适用本条例。",
    "第三条 网格按照地域相邻、规模适度、便于服务管理的原则划分，一般以三百至五百户为一个网格，并向社会公布。",
    "第四条 每个网格至少配备一名专职网格员。网格员负责信息采集、隐患排查、矛盾纠纷化解、政策宣传和便民服务等工作。",
    "第五条 网格事项实行准入管理。未列入网格事项准入清单的工作，不得交由网格员承担。",
    "第六条 群众可以通过热线、网上平台、移动终端等方式向网格反映问题，有关部门应当在规定时限内办理并反馈。",
    "第七条 网格员采集、使用个人信息，应当遵守个人信息保护的法律规定，不得泄露、篡改或者非法向他人提供。",
    "第八条 本条例自2027年7月1日起施行。",
];

const DONE_ARTICLES: [&str; 5] = [
    "第一条 为了规范养犬行为，保障公民健康和人身安全，维护社会公共秩序和市容环境卫生，制定本规定。",
    "第二条 养犬人应当为犬只办理登记，并按规定接种狂犬病疫苗。",
    "第三条 携犬出户时，应当为犬只束犬链，由具有完全民事行为能力的人牵领。",
    "第四条 犬只在公共场所排泄粪便的，携犬人应当立即清除。",
    "第五条 本规定自公布之日起施行。",
];

/// (article, text) of the villagers' opinions on the open draft.
const OPEN_OPINIONS: [(i64, &str); 5] = [
    (
        3,
        "山区村户数少、居住分散，建议网格户数标准可以根据实际适当降低。",
    ),
    (4, "建议明确网格员的待遇保障，专职网格员应当缴纳社会保险。"),
    (
        5,
        "准入清单应当向群众公开，群众也能监督哪些事不该压给网格员。",
    ),
    (7, "建议增加一款：网格员离职时应当交回采集的个人信息。"),
    (0, "总体赞成，条例很接地气。"),
];

/// (article, text, adopted, reason) of the opinions on the finished draft.
const DONE_OPINIONS: [(i64, &str, bool, &str); 4] = [
    (
        2,
        "农村散养的看家犬也要登记吗？建议农村地区分类管理。",
        true,
        "已在修改稿中增加农村地区养犬管理的特别规定。",
    ),
    (
        3,
        "建议明确犬链长度，不超过1.5米。",
        true,
        "修改稿明确犬链长度不超过一点五米。",
    ),
    (
        4,
        "清除粪便应当自带工具，建议写明。",
        false,
        "属于具体操作要求，将在配套管理办法中规定。",
    ),
    (
        0,
        "建议规定禁养犬种目录。",
        false,
        "禁养犬种目录由公安机关另行公布，不在本规定中列出。",
    ),
];

/// Writes the two drafts and their opinions; answers how many opinions were written.
pub async fn write(
    db: &Db,
    city: &DemoCity,
    users: &HashMap<String, i64>,
    now: i64,
) -> anyhow::Result<usize> {
    let collector = *users
        .get("dispatcher")
        .context("the demo has a dispatcher")?;
    let root = city.root.as_str();
    // The villagers, each with their first village (where their opinions count).
    let mut residents: Vec<(i64, String)> = Vec::new();
    let mut by_village: Vec<_> = super::disclosure::villagers(db, users)
        .await?
        .into_iter()
        .collect();
    by_village.sort();
    for (village, ids) in by_village {
        for id in ids {
            if !residents.iter().any(|(r, _)| *r == id) {
                residents.push((id, village.clone()));
            }
        }
    }
    residents.sort();
    if residents.is_empty() || NodeCode::parse(root).is_err() {
        return Ok(0);
    }
    let articles = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let mut written = 0;

    // The finished draft: put out in the autumn, closed, every opinion marked.
    let opened = now - 100 * DAY;
    let done = shanzhi_store::opinion::insert(
        db,
        &NewDraft {
            node: root,
            title: "文明养犬管理规定（草案征求意见稿）",
            issuer: "市人大常委会法制工作委员会",
            summary: Some("为回应群众对不文明养犬的反映，市人大常委会将本规定列入年度立法计划，现征求基层群众意见。"),
            articles: &articles(&DONE_ARTICLES),
            closes_at: opened + 30 * DAY,
        },
        collector,
        opened,
    )
    .await?;
    let mut given = Vec::new();
    for (k, (article, text, ..)) in DONE_OPINIONS.iter().enumerate() {
        let (who, village) = &residents[k % residents.len()];
        let at = opened + (k as i64 + 2) * DAY;
        given.push(
            shanzhi_store::opinion::give(db, &done, *article, *who, village, text, at).await?,
        );
        written += 1;
    }
    let closed_at = opened + 31 * DAY;
    shanzhi_store::opinion::moved(db, &done, "close", "closed", collector, closed_at).await?;
    for (o, (_, _, adopted, reason)) in given.iter().zip(DONE_OPINIONS.iter()) {
        let verdict = if *adopted { "adopted" } else { "not_adopted" };
        let note = NewNotification::to_user(
            o.author_id,
            "opinion_marked",
            serde_json::json!({"draft_id": done.id, "title": done.title, "verdict": verdict}),
            format!("您对《{}》的意见已有反馈", done.title),
        );
        shanzhi_store::opinion::mark(
            db,
            o,
            verdict,
            reason,
            collector,
            &note,
            closed_at + 20 * DAY,
        )
        .await?;
    }
    let done = shanzhi_store::opinion::get(db, done.id).await?;
    shanzhi_store::opinion::moved(db, &done, "finish", "done", collector, closed_at + 21 * DAY)
        .await?;

    // The open draft: closing three weeks from now.
    let opened = now - 7 * DAY;
    let open = shanzhi_store::opinion::insert(
        db,
        &NewDraft {
            node: root,
            title: "城乡社区网格化服务管理条例（草案征求意见稿）",
            issuer: "市人大常委会法制工作委员会",
            summary: Some(
                "本条例草案共八条，现通过基层立法联系点逐条征求群众意见，截止前可随时提出。",
            ),
            articles: &articles(&OPEN_ARTICLES),
            closes_at: now + 21 * DAY,
        },
        collector,
        opened,
    )
    .await?;
    for (k, (article, text)) in OPEN_OPINIONS.iter().enumerate() {
        let (who, village) = &residents[k % residents.len()];
        let at = opened + (k as i64 + 1) * DAY;
        shanzhi_store::opinion::give(db, &open, *article, *who, village, text, at).await?;
        written += 1;
    }
    Ok(written)
}
