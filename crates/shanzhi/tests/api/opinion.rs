//! Legislative-opinion collection (立法意见征集) through HTTP: a draft put out at a town with
//! numbered articles, opinions per article from the town's residents (not from outside it, not
//! after the closing date), the collector marking each adopted or not with a reason once the
//! collection is closed, the author hearing of it, the draft finished only when every opinion
//! is marked, the refusals of each wrong move, and the figures per village.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, Session, TestApp};
use crate::ledger::{books, created, ok};
use crate::question::villager;

const TOWN: &str = "441502001000";
const VILLAGE: &str = "441502001001";
const GRID: &str = "441502001001001";
const OTHER_GRID: &str = "441502001002001";

fn draft(closes_on: &str, articles: Value) -> Value {
    json!({"node": TOWN, "title": "城乡社区网格化服务管理条例（草案征求意见稿）",
        "issuer": "市人大常委会法制工作委员会", "summary": "现逐条征求意见。",
        "articles": articles, "closes_on": closes_on})
}

async fn give(
    app: &TestApp,
    who: &Session,
    id: &Value,
    article: i64,
    text: &str,
) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/draft-laws/{id}/opinions"),
        Some(who),
        json!({"article": article, "text": text}),
    )
    .await
}

async fn mark(
    app: &TestApp,
    who: &Session,
    o: &Value,
    adopted: bool,
    reason: &str,
) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/opinions/{}/mark", o["id"]),
        Some(who),
        json!({"adopted": adopted, "reason": reason, "version": o["version"]}),
    )
    .await
}

db_test!(
    opinions_are_collected_per_article_marked_with_reasons_and_finished,
    |app| {
        let b = books(&app).await;
        app.set_local(2026, 11, 2, 9, 0);
        let collector = &b.agency; // the town's dispatcher: the contact point
        let resident = villager(&app, "o-resident", GRID).await;
        let neighbour = villager(&app, "o-neighbour", OTHER_GRID).await;
        let outsider = app.user("o-outsider", Role::Citizen, None).await;
        let articles = json!([
            "第一条 为了规范网格化服务管理，制定本条例。",
            "第二条 网格一般以三百至五百户为一个网格。",
            "第三条 本条例自公布之日起施行。"
        ]);

        // Who puts a draft out, and with what.
        let e = assert_error(
            app.post_json(
                "/api/v1/draft-laws",
                Some(&resident),
                draft("2026-11-20", articles.clone()),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(e["reason"], "law_collector", "{e}");
        for (body, field) in [
            (draft("2026-11-20", json!([])), "articles"),
            (draft("2026-11-20", json!(["第一条", "  "])), "articles[1]"),
            (draft("2026-11-01", articles.clone()), "closes_on"),
            (draft("2027-06-30", articles.clone()), "closes_on"),
            (draft("20/11/2026", articles.clone()), "closes_on"),
        ] {
            let e = assert_error(
                app.post_json("/api/v1/draft-laws", Some(collector), body)
                    .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(e["field"], field, "{e}");
        }
        let mut at_grid = draft("2026-11-20", articles.clone());
        at_grid["node"] = json!(GRID);
        let e = assert_error(
            app.post_json("/api/v1/draft-laws", Some(collector), at_grid)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["reason"], "law_node", "{e}");
        let d = created(
            app.post_json(
                "/api/v1/draft-laws",
                Some(collector),
                draft("2026-11-20", articles.clone()),
            )
            .await,
        )
        .await;
        assert_eq!(d["articles"], 3);
        assert_eq!(
            d["article_list"][2]["text"],
            "第二条 网格一般以三百至五百户为一个网格。"
        );
        let id = d["id"].clone();

        // The town's residents read it and give opinions; the outsider does neither.
        let mine = app.get_json("/api/v1/me/draft-laws", &resident).await;
        assert_eq!(mine["items"][0]["id"], id, "{mine}");
        let none = app.get_json("/api/v1/me/draft-laws", &outsider).await;
        assert!(none["items"].as_array().unwrap().is_empty(), "{none}");
        assert_error(
            app.get(&format!("/api/v1/draft-laws/{id}"), Some(&outsider))
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_error(
            give(&app, &outsider, &id, 1, "外人的意见").await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let e = assert_error(
            give(&app, collector, &id, 1, "工作人员的意见").await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(e["reason"], "law_giver", "{e}");
        let e = assert_error(
            give(&app, &resident, &id, 4, "没有第四条").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "article");
        let e = assert_error(
            give(&app, &resident, &id, 2, "  ").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "text");
        let o1 =
            created(give(&app, &resident, &id, 2, "山区村户数少，建议标准适当降低。").await).await;
        assert_eq!(o1["verdict"], "received");
        created(give(&app, &resident, &id, 0, "总体赞成。").await).await;
        created(give(&app, &neighbour, &id, 2, "建议明确网格员待遇。").await).await;

        // A resident reads the counts and their own; the collector reads every opinion.
        let public = app
            .get_json(&format!("/api/v1/draft-laws/{id}"), &neighbour)
            .await;
        assert_eq!(public["opinions"]["received"], 3, "{public}");
        assert_eq!(public["article_list"][2]["opinions"]["received"], 2);
        assert_eq!(public["mine"].as_array().unwrap().len(), 1);
        assert!(public.get("opinion_list").is_none(), "{public}");
        let full = app
            .get_json(&format!("/api/v1/draft-laws/{id}"), collector)
            .await;
        let list = full["opinion_list"].as_array().unwrap().clone();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0]["article"], 0);
        assert_eq!(list[1]["node"], VILLAGE);
        assert_eq!(list[1]["author_id"], resident.user_id);

        // Marked only once the collection is closed; closed only by its collector.
        let e = assert_error(
            mark(&app, collector, &list[1], true, "已吸收").await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["reason"], "law_move", "{e}");
        let v = json!({"version": full["version"]});
        let e = assert_error(
            app.post_json(
                &format!("/api/v1/draft-laws/{id}/close"),
                Some(&b.committee),
                v.clone(),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(e["reason"], "law_collector", "{e}");
        let closed = ok(app
            .post_json(
                &format!("/api/v1/draft-laws/{id}/close"),
                Some(collector),
                v.clone(),
            )
            .await)
        .await;
        assert_eq!(closed["state"], "closed");
        let e = assert_error(
            give(&app, &resident, &id, 1, "晚到的意见").await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["reason"], "law_move", "{e}");
        let e = assert_error(
            app.post_json(
                &format!("/api/v1/draft-laws/{id}/close"),
                Some(collector),
                v,
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["field"], "version");

        // Each marked with a reason; the draft finished only when none is left.
        let e = assert_error(
            mark(&app, collector, &list[1], true, " ").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "reason");
        assert_error(
            mark(&app, &resident, &list[1], true, "自己采纳").await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let m = ok(mark(
            &app,
            collector,
            &list[1],
            true,
            "修改稿增加了山区村的特别规定。",
        )
        .await)
        .await;
        assert_eq!(m["verdict"], "adopted");
        let notes = app.get_json("/api/v1/notifications", &resident).await;
        assert!(
            notes["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "opinion_marked"),
            "{notes}"
        );
        let e = assert_error(
            mark(&app, collector, &list[1], false, "旧版本").await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["field"], "version");
        let again = app
            .get_json(&format!("/api/v1/draft-laws/{id}"), collector)
            .await;
        let e = assert_error(
            app.post_json(
                &format!("/api/v1/draft-laws/{id}/finish"),
                Some(collector),
                json!({"version": again["version"]}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["reason"], "law_unmarked", "{e}");
        assert_eq!(e["params"]["count"], "2", "{e}");
        ok(mark(
            &app,
            collector,
            &list[0],
            false,
            "属于总体评价，不涉及条文修改。",
        )
        .await)
        .await;
        ok(mark(&app, collector, &list[2], false, "待遇问题由配套文件规定。").await).await;
        let done = ok(app
            .post_json(
                &format!("/api/v1/draft-laws/{id}/finish"),
                Some(collector),
                json!({"version": again["version"]}),
            )
            .await)
        .await;
        assert_eq!(done["state"], "done");
        assert_eq!(
            done["opinions"],
            json!({"received": 3, "adopted": 1, "not_adopted": 2})
        );
        let after = app
            .get_json(&format!("/api/v1/draft-laws/{id}"), collector)
            .await;
        let e = assert_error(
            mark(&app, collector, &after["opinion_list"][0], true, "改判").await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["reason"], "law_move", "{e}");
        let mine = app
            .get_json(&format!("/api/v1/draft-laws/{id}"), &resident)
            .await;
        let adopted: Vec<&Value> = mine["mine"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["verdict"] == "adopted")
            .collect();
        assert_eq!(adopted.len(), 1, "{mine}");
        assert_eq!(adopted[0]["reason"], "修改稿增加了山区村的特别规定。");

        // The figures count the opinions at the authors' villages, rolled up over the town.
        let f = app
            .get_json(
                &format!("/api/v1/figures/village-affairs?node={TOWN}"),
                collector,
            )
            .await;
        assert_eq!(
            f["total"]["opinions"],
            json!({"received": 3, "adopted": 1, "not_adopted": 2}),
            "{f}"
        );
        let village = f["villages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["code"] == VILLAGE)
            .cloned()
            .unwrap();
        assert_eq!(village["opinions"]["received"], 2, "{village}");
    }
);

db_test!(
    no_opinion_is_taken_after_the_closing_date_and_each_resident_gives_at_most_twenty,
    |app| {
        let b = books(&app).await;
        app.set_local(2026, 11, 2, 9, 0);
        let resident = villager(&app, "o-late", GRID).await;
        let d = created(
            app.post_json(
                "/api/v1/draft-laws",
                Some(&b.agency),
                draft("2026-11-02", json!(["第一条 本规定自公布之日起施行。"])),
            )
            .await,
        )
        .await;
        let id = d["id"].clone();
        for _ in 0..20 {
            created(give(&app, &resident, &id, 1, "同意").await).await;
        }
        let e = assert_error(
            give(&app, &resident, &id, 1, "第二十一条意见").await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["reason"], "law_too_many", "{e}");
        // The closing date ends at midnight: a minute before, another resident is heard; after, not.
        let other = villager(&app, "o-late-2", GRID).await;
        app.set_local(2026, 11, 2, 23, 59);
        created(give(&app, &other, &id, 1, "赶在截止前").await).await;
        app.set_local(2026, 11, 3, 0, 0);
        let e = assert_error(
            give(&app, &other, &id, 1, "过了截止时间").await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["reason"], "law_closed", "{e}");
        let public = app
            .get_json(&format!("/api/v1/draft-laws/{id}"), &other)
            .await;
        assert_eq!(public["opinions"]["received"], 21, "{public}");
    }
);

/// For the authorization matrix: an open draft put out at village 441502001001 and one at the
/// other county's village, each with one opinion: ([drafts], [opinions]).
pub async fn opinion_world(app: &TestApp, by: i64) -> ([i64; 2], [i64; 2]) {
    let (mut drafts, mut opinions) = ([0; 2], [0; 2]);
    for (i, node) in ["441502001001", "441521001001"].iter().enumerate() {
        let d = shanzhi_store::opinion::insert(
            &app.state.db,
            &shanzhi_store::opinion::NewDraft {
                node,
                title: "矩阵草案",
                issuer: "矩阵",
                summary: None,
                articles: &["第一条 矩阵。".to_owned()],
                closes_at: i64::MAX / 2,
            },
            by,
            0,
        )
        .await
        .unwrap();
        drafts[i] = d.id;
        opinions[i] = shanzhi_store::opinion::give(&app.state.db, &d, 1, by, node, "矩阵意见", 0)
            .await
            .unwrap()
            .id;
    }
    (drafts, opinions)
}
