//! Villagers' questions (我要监督) and the villages' public notices (四务公开) through HTTP: the
//! answer clock on the working-day calendar across the National Day holiday, supervision at the
//! town once, public answers with the asker unnamed, who may ask and answer, and the notices'
//! publish / pin / withdraw with their refusals.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, Session, TestApp};
use crate::house::{exec, resident};
use crate::ledger::{books, created, income, ok, post_through, Books};

const VILLAGE: &str = "441502001001";
const GRID: &str = "441502001001001";
const OTHER_GRID: &str = "441502001002001";

/// A citizen registered as a resident of `grid`.
pub(crate) async fn villager(app: &TestApp, name: &str, grid: &str) -> Session {
    let s = app.user(name, Role::Citizen, None).await;
    let r = resident(app, grid, "村民", None).await;
    exec(
        &app.state.db,
        &format!("UPDATE resident SET user_id = {} WHERE id = {r}", s.user_id),
    )
    .await;
    s
}

async fn posted_entry(app: &TestApp, b: &Books) -> Value {
    let e = created(
        app.post_json(
            "/api/v1/ledger/entries",
            Some(&b.treasurer),
            income("800", "王小明"),
        )
        .await,
    )
    .await;
    post_through(app, b, e).await
}

async fn ask(
    app: &TestApp,
    who: &Session,
    subject: &str,
    id: &Value,
    text: &str,
) -> reqwest::Response {
    app.post_json(
        "/api/v1/questions",
        Some(who),
        json!({"subject": subject, "subject_id": id, "text": text}),
    )
    .await
}

async fn notices_of(app: &TestApp, who: &Session) -> Vec<Value> {
    let v = app.get_json("/api/v1/notifications", who).await;
    v["items"].as_array().cloned().unwrap_or_default()
}

db_test!(
    the_answer_clock_counts_working_days_across_a_holiday_and_supervision_comes_once,
    |app| {
        let b = books(&app).await;
        let entry = posted_entry(&app, &b).await;
        let asker = villager(&app, "q-asker", GRID).await;
        // Asked on Wednesday 2026-09-30 at 10:00, the eve of 国庆 (Oct 1–7 off, Saturday Oct 10
        // worked): five working days are Oct 8, 9, 10, 12 and 13.
        app.set_local(2026, 9, 30, 10, 0);
        let q = created(
            ask(
                &app,
                &asker,
                "entry",
                &entry["id"],
                "这笔鱼塘承包费为什么比去年少？",
            )
            .await,
        )
        .await;
        let cal = shanzhi_domain::calendar::WorkCalendar::china_default();
        let mut day = chrono::NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
        let mut counted = 0;
        while counted < shanzhi_domain::question::ANSWER_DAYS {
            day = day.succ_opt().unwrap();
            if cal.is_working_day(day) {
                counted += 1;
            }
        }
        assert_eq!(day, chrono::NaiveDate::from_ymd_opt(2026, 10, 13).unwrap());
        let due = shanzhi_domain::calendar::local_ms(day, 10 * 60);
        assert_eq!(q["due_at"].as_i64().unwrap(), due, "{q}");
        assert_eq!(q["state"], "open");
        assert_eq!(q["mine"], true);

        // The village's centre heard of it; the town hears nothing before it is due.
        let sweep = |at: i64| {
            app.clock.set(at);
            shanzhi::question::sweep(&app.state, at)
        };
        let s = sweep(due - 60_000).await.unwrap();
        assert_eq!(s.supervised, 0);
        let town_before = notices_of(&app, &b.agency).await.len();
        let s = sweep(due + 60_000).await.unwrap();
        assert_eq!(s.supervised, 1, "{s:?}");
        let town = notices_of(&app, &b.agency).await;
        assert_eq!(town.len(), town_before + 1, "{town:?}");
        assert_eq!(town[0]["kind"], "question_supervise");
        // Once only.
        assert_eq!(sweep(due + 86_400_000).await.unwrap().supervised, 0);
        let listed = app
            .get_json(
                &format!("/api/v1/questions?node={VILLAGE}&supervised=true"),
                &b.committee,
            )
            .await;
        assert_eq!(listed["items"][0]["id"], q["id"], "{listed}");

        // The village answers, late; the asker hears of it and every villager reads it.
        let staff = app
            .get_json(&format!("/api/v1/questions/{}", q["id"]), &b.committee)
            .await;
        let answered = ok(app
            .post_json(
                &format!("/api/v1/questions/{}/answer", q["id"]),
                Some(&b.committee),
                json!({"text": "去年含两年租金，今年按年收取，明细见公示。", "version": staff["version"]}),
            )
            .await)
        .await;
        assert_eq!(answered["state"], "answered");
        assert_eq!(answered["on_time"], false);
        assert_eq!(answered["supervised"], true);
        let mine = notices_of(&app, &asker).await;
        assert!(
            mine.iter().any(|n| n["kind"] == "question_answered"),
            "{mine:?}"
        );
        let neighbour = villager(&app, "q-neighbour", GRID).await;
        let public = app
            .get_json(
                &format!(
                    "/api/v1/me/questions?subject=entry&subject_id={}",
                    entry["id"]
                ),
                &neighbour,
            )
            .await;
        let items = public["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{public}");
        assert_eq!(
            items[0]["answer"],
            "去年含两年租金，今年按年收取，明细见公示。"
        );
        assert_eq!(items[0]["mine"], false);
        assert!(
            items[0].get("asked_by").is_none(),
            "the asker is not named: {public}"
        );
        // Answered once.
        assert_error(
            app.post_json(
                &format!("/api/v1/questions/{}/answer", q["id"]),
                Some(&b.committee),
                json!({"text": "再答一次", "version": answered["version"]}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        // The timeline says it all: asked, supervised, answered.
        let t = app
            .get_json(&format!("/api/v1/questions/{}", q["id"]), &b.agency)
            .await;
        let actions: Vec<&str> = t["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["ask", "supervise", "answer"], "{t}");
    }
);

db_test!(
    villagers_ask_only_about_their_villages_public_affairs_and_the_village_answers,
    |app| {
        let b = books(&app).await;
        let entry = posted_entry(&app, &b).await;
        let draft = created(
            app.post_json(
                "/api/v1/ledger/entries",
                Some(&b.treasurer),
                income("5", "草稿"),
            )
            .await,
        )
        .await;
        let asker = villager(&app, "q-asker", GRID).await;
        let outsider = villager(&app, "q-outsider", OTHER_GRID).await;
        // Not about a draft, not about another village's books, not by staff, not blank.
        assert_error(
            ask(&app, &asker, "entry", &draft["id"], "草稿是什么？").await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_error(
            ask(&app, &outsider, "entry", &entry["id"], "这是什么？").await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_error(
            ask(&app, &b.committee, "entry", &entry["id"], "自问自答").await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let e = assert_error(
            ask(&app, &asker, "entry", &entry["id"], "   ").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "text");
        let e = assert_error(
            ask(&app, &asker, "event", &entry["id"], "什么？").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "subject");
        let q =
            created(ask(&app, &asker, "entry", &entry["id"], "付款凭证在哪里能看？").await).await;
        // The outsider does not see it; a leader of the village reads it but does not
        // answer for the village; the treasurer does, on time.
        assert_eq!(
            app.get_json("/api/v1/me/questions", &outsider).await["items"],
            json!([])
        );
        assert_error(
            app.get(&format!("/api/v1/questions/{}", q["id"]), Some(&outsider))
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        // (a leader of the village reads everything in it and changes nothing)
        let worker = app.user("q-leader", Role::Leader, Some(VILLAGE)).await;
        let worker_list = app
            .get_json(&format!("/api/v1/questions?node={VILLAGE}"), &worker)
            .await;
        assert_eq!(worker_list["items"][0]["id"], q["id"]);
        let staff = app
            .get_json(&format!("/api/v1/questions/{}", q["id"]), &b.treasurer)
            .await;
        assert_error(
            app.post_json(
                &format!("/api/v1/questions/{}/answer", q["id"]),
                Some(&worker),
                json!({"text": "我来答", "version": staff["version"]}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let e = assert_error(
            app.post_json(
                &format!("/api/v1/questions/{}/answer", q["id"]),
                Some(&b.treasurer),
                json!({"text": " ", "version": staff["version"]}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "answer");
        let a = ok(app
            .post_json(
                &format!("/api/v1/questions/{}/answer", q["id"]),
                Some(&b.treasurer),
                json!({"text": "发票影像已上传，可在账目详情中查看张数。", "version": staff["version"]}),
            )
            .await)
        .await;
        assert_eq!(a["on_time"], true);
        let figures = app
            .get_json(
                &format!("/api/v1/questions?node={VILLAGE}&state=answered"),
                &b.agency,
            )
            .await;
        assert_eq!(figures["items"].as_array().unwrap().len(), 1);
    }
);

db_test!(
    notices_are_published_pinned_withdrawn_and_read_by_their_village_only,
    |app| {
        let b = books(&app).await;
        let villager = villager(&app, "n-villager", GRID).await;
        let outsider = villager_of_other(&app).await;
        let write = |title: &str, kind: &str| json!({"node": VILLAGE, "kind": kind, "title": title, "body": "详见附表。\n如有疑问请在「我要监督」提问。"});
        let first = created(
            app.post_json(
                "/api/v1/disclosures",
                Some(&b.committee),
                write("2026年9月财务收支公示", "finance"),
            )
            .await,
        )
        .await;
        let second = created(
            app.post_json(
                "/api/v1/disclosures",
                Some(&b.admin),
                write("村“两委”换届选举公告", "party"),
            )
            .await,
        )
        .await;
        assert_eq!(first["state"], "draft");
        // Bad input is named; a grid worker and a citizen do not write notices.
        let e = assert_error(
            app.post_json(
                "/api/v1/disclosures",
                Some(&b.committee),
                write("标题", "money"),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "kind");
        let e = assert_error(
            app.post_json(
                "/api/v1/disclosures",
                Some(&b.committee),
                json!({"node": "441502001000", "kind": "village", "title": "镇", "body": "正文"}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "node");
        let worker = app.user("n-worker", Role::GridWorker, Some(GRID)).await;
        assert_error(
            app.post_json(
                "/api/v1/disclosures",
                Some(&worker),
                write("网格员", "village"),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_error(
            app.post_json(
                "/api/v1/disclosures",
                Some(&villager),
                write("村民", "village"),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        // A draft is not public.
        assert_eq!(
            app.get_json("/api/v1/me/disclosures", &villager).await["items"],
            json!([])
        );
        assert_error(
            app.get(
                &format!("/api/v1/disclosures/{}", first["id"]),
                Some(&villager),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;

        let first = ok(move_(&app, &b.committee, &first, "publish", None).await).await;
        let second = ok(move_(&app, &b.committee, &second, "publish", None).await).await;
        let first = ok(move_(&app, &b.committee, &first, "pin", None).await).await;
        assert_error(
            move_(&app, &b.committee, &first, "pin", None).await,
            StatusCode::CONFLICT,
        )
        .await;
        // A published notice is not edited in place.
        assert_error(
            app.put_json(
                &format!("/api/v1/disclosures/{}", second["id"]),
                &b.committee,
                json!({"kind": "party", "title": "改", "body": "改", "version": second["version"]}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        // Pinned first for the villager; nothing for the outsider.
        let mine = app.get_json("/api/v1/me/disclosures", &villager).await;
        let ids: Vec<&Value> = mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| &d["id"])
            .collect();
        assert_eq!(ids, [&first["id"], &second["id"]], "{mine}");
        assert_eq!(mine["items"][0]["pinned"], true);
        assert!(
            mine["items"][0].get("timeline").is_none()
                && mine["items"][0].get("created_by").is_none()
        );
        assert_eq!(
            app.get_json("/api/v1/me/disclosures", &outsider).await["items"],
            json!([])
        );
        // A question on a notice.
        created(
            ask(
                &app,
                &villager,
                "disclosure",
                &first["id"],
                "附表在哪里下载？",
            )
            .await,
        )
        .await;
        // Withdrawn only with a reason; then gone from the portal, kept on record with its reason.
        let e = assert_error(
            move_(&app, &b.committee, &second, "withdraw", Some("  ")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "reason");
        let second = ok(move_(
            &app,
            &b.committee,
            &second,
            "withdraw",
            Some("日期有误，更正后重新发布"),
        )
        .await)
        .await;
        assert_eq!(second["state"], "withdrawn");
        let last = second["timeline"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(last["note"], "日期有误，更正后重新发布");
        let mine = app.get_json("/api/v1/me/disclosures", &villager).await;
        assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
        let audit = app
            .scalar("SELECT COUNT(*) FROM audit WHERE action LIKE 'disclosure.%'")
            .await;
        assert!(audit >= 6, "{audit}");
        // Corrected and published again.
        let second = ok(app.put_json(&format!("/api/v1/disclosures/{}", second["id"]), &b.committee,
            json!({"kind": "party", "title": "村“两委”换届选举公告（更正）", "body": "选举日期更正为10月18日。", "version": second["version"]})).await).await;
        ok(move_(&app, &b.committee, &second, "publish", None).await).await;
        assert_eq!(
            app.get_json("/api/v1/me/disclosures", &villager).await["items"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let staff = app
            .get_json(
                &format!("/api/v1/disclosures?node={VILLAGE}&state=published"),
                &b.agency,
            )
            .await;
        assert_eq!(staff["items"].as_array().unwrap().len(), 2, "{staff}");
    }
);

db_test!(
    the_villages_figures_count_their_affairs_and_roll_up,
    |app| {
        let b = books(&app).await;
        let entry = posted_entry(&app, &b).await;
        let asker = villager(&app, "f-asker", GRID).await;
        let q = created(ask(&app, &asker, "entry", &entry["id"], "收入明细？").await).await;
        let staff = app
            .get_json(&format!("/api/v1/questions/{}", q["id"]), &b.committee)
            .await;
        ok(app
            .post_json(
                &format!("/api/v1/questions/{}/answer", q["id"]),
                Some(&b.committee),
                json!({"text": "见公示", "version": staff["version"]}),
            )
            .await)
        .await;
        created(ask(&app, &asker, "entry", &entry["id"], "还有一个问题").await).await;
        let d = created(
            app.post_json(
                "/api/v1/disclosures",
                Some(&b.committee),
                json!({"node": VILLAGE, "kind": "finance", "title": "财务公开", "body": "明细"}),
            )
            .await,
        )
        .await;
        ok(move_(&app, &b.committee, &d, "publish", None).await).await;
        let village = app
            .get_json(
                &format!("/api/v1/figures/village-affairs?node={VILLAGE}"),
                &b.agency,
            )
            .await;
        let row = &village["villages"][0];
        assert_eq!(row["code"], VILLAGE, "{village}");
        assert_eq!(
            row["ledger"],
            json!({"posted": 1, "expenses": 0, "invoiced": 0, "waiting": 0})
        );
        assert_eq!(
            row["questions"],
            json!({"asked": 2, "answered": 1, "on_time": 1, "open": 1, "supervised": 0})
        );
        assert_eq!(row["notices"], json!({"published": 1, "pinned": 0}));
        assert_eq!(
            row["points"],
            json!({"awarded": 0, "automatic": 0, "redeemed": 0})
        );
        // The town rolls its villages up: here one village keeps anything.
        let town = app
            .get_json(
                "/api/v1/figures/village-affairs?node=441502001000",
                &b.agency,
            )
            .await;
        assert_eq!(town["total"]["questions"], row["questions"], "{town}");
        assert_eq!(town["total"]["ledger"]["posted"], 1);
        // Citizens read no figures of an area.
        crate::helpers::assert_error(
            app.get(
                &format!("/api/v1/figures/village-affairs?node={VILLAGE}"),
                Some(&asker),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
);

db_test!(
    suggestions_are_answered_like_questions_and_askers_wait_their_turn,
    |app| {
        let b = books(&app).await;
        let asker = villager(&app, "s-asker", GRID).await;
        let suggest = |body: Value| app.post_json("/api/v1/questions", Some(&asker), body);
        // About the village itself: no subject id; the one village the asker lives in by default.
        let e = assert_error(
            suggest(json!({"subject": "suggestion", "subject_id": 1, "text": "建议"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "subject_id");
        let e = assert_error(
            suggest(json!({"subject": "entry", "text": "缺少账目"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "subject_id");
        assert_error(
            suggest(json!({"subject": "suggestion", "node": "441502001002", "text": "别村的事"}))
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let s =
            created(suggest(json!({"subject": "suggestion", "text": "建议在村口加装路灯"})).await)
                .await;
        assert_eq!(s["node"], VILLAGE);
        assert_eq!(s["subject"], "suggestion");
        // The village answers it; every villager reads it among the suggestions.
        let staff = app
            .get_json(&format!("/api/v1/questions/{}", s["id"]), &b.committee)
            .await;
        ok(app
            .post_json(
                &format!("/api/v1/questions/{}/answer", s["id"]),
                Some(&b.committee),
                json!({"text": "已列入下月村民代表会议议题", "version": staff["version"]}),
            )
            .await)
        .await;
        let neighbour = villager(&app, "s-neighbour", GRID).await;
        let read = app
            .get_json("/api/v1/me/questions?subject=suggestion", &neighbour)
            .await;
        assert_eq!(read["items"].as_array().unwrap().len(), 1, "{read}");
        assert_eq!(read["items"][0]["answer"], "已列入下月村民代表会议议题");
        // One asker has at most MAX_OPEN_PER_ASKER waiting at a time.
        for i in 0..shanzhi_domain::question::MAX_OPEN_PER_ASKER {
            created(suggest(json!({"subject": "suggestion", "text": format!("建议{i}")})).await)
                .await;
        }
        let e = assert_error(
            suggest(json!({"subject": "suggestion", "text": "再多一条"})).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["reason"], "question_too_many", "{e}");
    }
);

async fn villager_of_other(app: &TestApp) -> Session {
    villager(app, "n-outsider", OTHER_GRID).await
}

async fn move_(
    app: &TestApp,
    who: &Session,
    d: &Value,
    action: &str,
    reason: Option<&str>,
) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/disclosures/{}/actions", d["id"]),
        Some(who),
        json!({"action": action, "reason": reason, "version": d["version"]}),
    )
    .await
}

/// For the authorization matrix: a published notice and a question on it in village
/// 441502001001 and in the other county's village (written by the store).
pub async fn public_affairs_world(app: &TestApp, by: i64) -> ([i64; 2], [i64; 2]) {
    let (mut notices, mut questions) = ([0; 2], [0; 2]);
    for (i, node) in ["441502001001", "441521001001"].iter().enumerate() {
        let d = shanzhi_store::disclosure::insert(
            &app.state.db,
            node,
            "finance",
            "矩阵公示",
            "正文",
            by,
            0,
        )
        .await
        .unwrap();
        exec(
            &app.state.db,
            &format!(
                "UPDATE disclosure SET state = 'published', published_at = 0 WHERE id = {}",
                d.id
            ),
        )
        .await;
        notices[i] = d.id;
        let note = shanzhi_store::notification::NewNotification::to_centre(
            node,
            "question_asked",
            json!({}),
            "矩阵".into(),
        );
        let asked = shanzhi_store::question::Asked {
            node,
            subject: "disclosure",
            subject_id: d.id,
            text: "矩阵？",
            due_at: 1,
        };
        questions[i] = shanzhi_store::question::insert(&app.state.db, &asked, by, &note, 0)
            .await
            .unwrap()
            .id;
    }
    (notices, questions)
}
