//! Consultations (协商议事) through HTTP: a topic put to a village's residents, their comments
//! (public, unnamed; a resident of another village cannot see or comment), the meeting's record
//! closing the comments, the outcome reaching the commenters, the refusals of each wrong move,
//! the count of comments equal to the comments after concurrent writes, and the figures.

use reqwest::StatusCode;
use serde_json::{json, Value};

use shanzhi::clock::Clock;

use crate::helpers::{assert_error, Session, TestApp};
use crate::ledger::{books, created, ok};
use crate::question::villager;

const VILLAGE: &str = "441502001001";
const GRID: &str = "441502001001001";
const OTHER_GRID: &str = "441502001002001";

async fn topic(app: &TestApp, who: &Session, title: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/consultations",
        Some(who),
        json!({"node": VILLAGE, "title": title, "body": "请大家就修路的资金和时间发表意见。"}),
    )
    .await
}

async fn comment(app: &TestApp, who: &Session, id: &Value, text: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/consultations/{id}/comments"),
        Some(who),
        json!({"text": text}),
    )
    .await
}

async fn move_(
    app: &TestApp,
    who: &Session,
    id: &Value,
    action: &str,
    body: Value,
) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/consultations/{id}/{action}"),
        Some(who),
        body,
    )
    .await
}

db_test!(
    a_topic_is_commented_held_and_concluded_and_its_commenters_hear,
    |app| {
        let b = books(&app).await;
        app.set_local(2026, 11, 2, 9, 0);
        let resident = villager(&app, "c-resident", GRID).await;
        let stranger = villager(&app, "c-stranger", OTHER_GRID).await;

        // Who opens a topic, and with what.
        let e = assert_error(
            topic(&app, &resident, "村民自己提议题").await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(e["reason"], "consult_speaker", "{e}");
        let e = assert_error(
            app.post_json(
                "/api/v1/consultations",
                Some(&b.committee),
                json!({"node": "441502001000", "title": "镇里的事", "body": "正文"}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "node");
        let e = assert_error(
            topic(&app, &b.committee, "   ").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "title");
        let t = created(topic(&app, &b.committee, "关于硬化村东机耕路的议题").await).await;
        assert_eq!(t["state"], "open");
        let id = t["id"].clone();

        // The resident reads and comments; the stranger (another village) does neither.
        let mine = app.get_json("/api/v1/me/consultations", &resident).await;
        assert_eq!(mine["items"][0]["id"], id, "{mine}");
        let theirs = app.get_json("/api/v1/me/consultations", &stranger).await;
        assert!(theirs["items"].as_array().unwrap().is_empty(), "{theirs}");
        assert_error(
            app.get(&format!("/api/v1/consultations/{id}"), Some(&stranger))
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_error(
            comment(&app, &stranger, &id, "我也说两句").await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let c = created(comment(&app, &resident, &id, "早该修了，下雨天推不动车。").await).await;
        assert_eq!(c["mine"], true);
        assert_eq!(c["by_village"], false);
        let e = assert_error(
            comment(&app, &resident, &id, " ").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "text");
        let v = created(comment(&app, &b.committee, &id, "资金从集体经营收入列支。").await).await;
        assert_eq!(v["by_village"], true);
        // Staff over the village who hold no duty read, but do not speak for it.
        let worker = app
            .user(
                "c-leader",
                shanzhi_domain::user::Role::Leader,
                Some(VILLAGE),
            )
            .await;
        let e = assert_error(
            comment(&app, &worker, &id, "网格员意见").await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(e["reason"], "consult_commenter", "{e}");

        // Public: the commenters unnamed; staff see who wrote.
        let public = app
            .get_json(&format!("/api/v1/consultations/{id}"), &resident)
            .await;
        assert_eq!(public["comments"], 2, "{public}");
        assert_eq!(public["comment_list"].as_array().unwrap().len(), 2);
        assert!(
            public["comment_list"][0].get("author_id").is_none(),
            "{public}"
        );
        assert!(public.get("timeline").is_none());
        let staff = app
            .get_json(&format!("/api/v1/consultations/{id}"), &b.committee)
            .await;
        assert_eq!(staff["comment_list"][0]["author_id"], resident.user_id);
        assert_eq!(staff["timeline"][0]["action"], "open");

        // The outcome follows the meeting; the meeting is not in the future.
        let version = staff["version"].clone();
        let e = assert_error(
            move_(
                &app,
                &b.committee,
                &id,
                "conclude",
                json!({"decision": "agreed", "text": "同意", "version": version}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["reason"], "consult_move", "{e}");
        let now = app.clock.now_ms();
        let record = |at: i64, version: &Value| {
            json!({"held_at": at, "place": "村委会议室", "attendees": 23,
            "record": "逐条讨论村民意见，举手表决。", "version": version})
        };
        let e = assert_error(
            move_(
                &app,
                &b.committee,
                &id,
                "hold",
                record(now + 3_600_000, &version),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "held_at");
        let e = assert_error(
            move_(
                &app,
                &b.committee,
                &id,
                "hold",
                json!({"held_at": now, "place": "村委会议室", "attendees": 0,
                "record": "记录", "version": version}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "attendees");
        assert_error(
            move_(&app, &resident, &id, "hold", record(now, &version)).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let held = ok(move_(
            &app,
            &b.committee,
            &id,
            "hold",
            record(now - 60_000, &version),
        )
        .await)
        .await;
        assert_eq!(held["state"], "held");
        assert_eq!(held["meeting"]["attendees"], 23);
        // A stale version, comments and withdrawal after the meeting: refused.
        let e = assert_error(
            move_(&app, &b.committee, &id, "hold", record(now, &version)).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["field"], "version");
        let e = assert_error(
            comment(&app, &resident, &id, "会后补充").await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["reason"], "consult_move", "{e}");
        let e = assert_error(
            move_(
                &app,
                &b.committee,
                &id,
                "withdraw",
                json!({"reason": "不议了", "version": held["version"]}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["reason"], "consult_move", "{e}");
        let e = assert_error(
            move_(
                &app,
                &b.committee,
                &id,
                "conclude",
                json!({"decision": "maybe", "text": "同意", "version": held["version"]}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "decision");
        let done = ok(move_(&app, &b.committee, &id, "conclude",
            json!({"decision": "agreed", "text": "到会23人，同意21人，列入本年度村级项目。", "version": held["version"]})).await).await;
        assert_eq!(done["state"], "concluded");
        assert_eq!(done["decision"], "agreed");
        let notes = app.get_json("/api/v1/notifications", &resident).await;
        assert!(
            notes["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "consultation_concluded"),
            "{notes}"
        );
        // The public reads the record and the outcome.
        let public = app
            .get_json(&format!("/api/v1/consultations/{id}"), &resident)
            .await;
        assert_eq!(public["meeting"]["place"], "村委会议室");
        assert_eq!(
            public["outcome"],
            "到会23人，同意21人，列入本年度村级项目。"
        );

        // Withdrawn only with a reason, and only while open.
        let t2 = created(topic(&app, &b.committee, "关于安装健身器材的议题").await).await;
        let e = assert_error(
            move_(
                &app,
                &b.committee,
                &t2["id"],
                "withdraw",
                json!({"reason": " ", "version": t2["version"]}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "reason");
        let w = ok(move_(
            &app,
            &b.committee,
            &t2["id"],
            "withdraw",
            json!({"reason": "与镇里的规划重复", "version": t2["version"]}),
        )
        .await)
        .await;
        assert_eq!(w["state"], "withdrawn");
        assert_eq!(w["reason"], "与镇里的规划重复");

        // Citizens list through /me, staff through the area.
        let e = assert_error(
            app.get("/api/v1/consultations", Some(&resident)).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(e["reason"], "consult_staff", "{e}");
        let list = app
            .get_json(
                &format!("/api/v1/consultations?node={VILLAGE}&state=concluded"),
                &b.agency,
            )
            .await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
        let f = app
            .get_json(
                &format!("/api/v1/figures/village-affairs?node={VILLAGE}"),
                &b.committee,
            )
            .await;
        let c = &f["total"]["consultations"];
        assert_eq!(
            (
                c["topics"].as_i64(),
                c["concluded"].as_i64(),
                c["comments"].as_i64()
            ),
            (Some(1), Some(1), Some(2)),
            "{f}"
        );
    }
);

db_test!(
    comments_are_counted_exactly_under_concurrent_writes_and_limited_per_person,
    |app| {
        let b = books(&app).await;
        let t = created(topic(&app, &b.committee, "关于村集体鱼塘承包方式的议题").await).await;
        let id = t["id"].clone();
        let mut people = Vec::new();
        for i in 0..4 {
            people.push(villager(&app, &format!("c-many-{i}"), GRID).await);
        }
        // Four residents, six comments each, all at once.
        let mut calls = Vec::new();
        for p in &people {
            for k in 0..6 {
                calls.push(comment(
                    &app,
                    p,
                    &id,
                    if k % 2 == 0 {
                        "公开招标"
                    } else {
                        "本村优先"
                    },
                ));
            }
        }
        for r in futures_util::future::join_all(calls).await {
            assert_eq!(r.status(), StatusCode::CREATED);
        }
        let staff = app
            .get_json(&format!("/api/v1/consultations/{id}"), &b.committee)
            .await;
        assert_eq!(staff["comments"], 24, "{staff}");
        assert_eq!(staff["comment_list"].as_array().unwrap().len(), 24);
        // At most twenty each.
        for _ in 6..20 {
            created(comment(&app, &people[0], &id, "再说一句").await).await;
        }
        let e = assert_error(
            comment(&app, &people[0], &id, "第二十一句").await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["reason"], "consult_too_many", "{e}");
    }
);

/// For the authorization matrix: an open topic in village 441502001001 and one in the other
/// county's village.
pub async fn consultation_world(app: &TestApp, by: i64) -> [i64; 2] {
    let mut ids = [0; 2];
    for (i, node) in ["441502001001", "441521001001"].iter().enumerate() {
        ids[i] =
            shanzhi_store::consultation::insert(&app.state.db, node, "矩阵议题", "正文", by, 0)
                .await
                .unwrap()
                .id;
    }
    ids
}
