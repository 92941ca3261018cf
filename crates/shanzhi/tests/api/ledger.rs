//! The village ledger (三资台账) through HTTP: duties, the approval flow, the invoice rule on
//! every route, balances equal to the sum of the posted lines after concurrent postings, closed
//! months, and villagers reading only their own village's posted entries.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, Session, TestApp, TINY_JPEG, TINY_PNG};
use crate::house::{exec, resident};

const VILLAGE: &str = "441502001001";
const OTHER: &str = "441502001002";
const TOWN: &str = "441502001000";
const GRID: &str = "441502001001001";

/// The people of the books: (treasurer, committee member, town agency, administrator).
pub(crate) struct Books {
    pub treasurer: Session,
    pub committee: Session,
    pub agency: Session,
    pub admin: Session,
}

pub(crate) async fn books(app: &TestApp) -> Books {
    app.seed_loop().await;
    let admin = app.user("l-admin", Role::Admin, Some("441502000000")).await;
    let treasurer = app.user("l-treasurer", Role::GridWorker, Some(GRID)).await;
    let committee = app.user("l-committee", Role::Leader, Some(VILLAGE)).await;
    let agency = app.user("l-agency", Role::Dispatcher, Some(TOWN)).await;
    for (who, node, duty) in [
        (&treasurer, VILLAGE, "treasurer"),
        (&committee, VILLAGE, "committee"),
        (&agency, TOWN, "town_agency"),
    ] {
        app.give_duty(&admin, who, node, duty).await;
    }
    Books {
        treasurer,
        committee,
        agency,
        admin,
    }
}

async fn upload(app: &TestApp, who: &Session, bytes: &'static [u8], media: &str) -> String {
    let r = app
        .upload("/api/v1/photos", who, bytes.to_vec(), media)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn expense(amount: &str, invoices: &[&str]) -> Value {
    json!({"node": VILLAGE, "kind": "expense", "date": "2026-09-08", "summary": "购买村委会办公用品",
        "counterparty": "城区文具店", "lines": [
            {"account": "513", "side": "debit", "amount": amount},
            {"account": "101", "side": "credit", "amount": amount}],
        "invoices": invoices})
}

pub(crate) fn income(amount: &str, party: &str) -> Value {
    json!({"node": VILLAGE, "kind": "income", "date": "2026-09-09", "summary": "鱼塘承包费",
        "counterparty": party, "private_party": true, "lines": [
            {"account": "102", "side": "debit", "amount": amount},
            {"account": "501", "side": "credit", "amount": amount}]})
}

pub(crate) async fn created(r: reqwest::Response) -> Value {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

/// Sends an action; answers the response.
pub(crate) async fn act(
    app: &TestApp,
    who: &Session,
    e: &Value,
    action: &str,
    extra: Value,
) -> reqwest::Response {
    let mut body = json!({"action": action, "version": e["version"]});
    if let (Some(b), Some(x)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(x.clone());
    }
    app.post_json(
        &format!("/api/v1/ledger/entries/{}/actions", e["id"]),
        Some(who),
        body,
    )
    .await
}

pub(crate) async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// Submitted, approved and posted by the right people.
pub(crate) async fn post_through(app: &TestApp, b: &Books, e: Value) -> Value {
    let e = ok(act(app, &b.treasurer, &e, "submit", json!({})).await).await;
    let e = ok(act(app, &b.committee, &e, "approve", json!({"approve": true})).await).await;
    ok(act(app, &b.agency, &e, "review", json!({"approve": true})).await).await
}

async fn balances(app: &TestApp, who: &Session, month: &str) -> Value {
    app.get_json(
        &format!("/api/v1/ledger/balances?node={VILLAGE}&month={month}"),
        who,
    )
    .await
}

fn balance_of(b: &Value, account: &str) -> i64 {
    b["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == account)
        .map_or(0, |a| a["balance_fen"].as_i64().unwrap())
}

db_test!(
    an_expense_without_an_invoice_is_refused_on_every_route,
    |app| {
        let b = books(&app).await;
        let e = created(
            app.post_json(
                "/api/v1/ledger/entries",
                Some(&b.treasurer),
                expense("120.50", &[]),
            )
            .await,
        )
        .await;
        assert_eq!(e["state"], "draft");
        assert_eq!(e["total_fen"], 12050);
        assert!(e["number"]
            .as_str()
            .unwrap()
            .starts_with("记-441502001001-2026-09-"));
        let e = ok(act(&app, &b.treasurer, &e, "submit", json!({})).await).await;
        // The committee cannot approve it: the reason says why.
        let err = assert_error(
            act(&app, &b.committee, &e, "approve", json!({"approve": true})).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(
            err["message"].as_str().unwrap().contains("invoice"),
            "{err}"
        );
        // Nor can the town post it past the committee, nor the treasurer change it now.
        assert_error(
            act(&app, &b.agency, &e, "review", json!({"approve": true})).await,
            StatusCode::CONFLICT,
        )
        .await;
        let mut body = expense("120.50", &[]);
        body.as_object_mut().unwrap().remove("node");
        body["version"] = e["version"].clone();
        assert_error(
            edit(&app, &b.treasurer, &e, body.clone()).await,
            StatusCode::CONFLICT,
        )
        .await;
        let shown = app
            .get_json(&format!("/api/v1/ledger/entries/{}", e["id"]), &b.committee)
            .await;
        assert_eq!(shown["state"], "submitted");
        // Sent back, given its invoice, and then it goes through.
        let e = ok(act(
            &app,
            &b.committee,
            &e,
            "approve",
            json!({"approve": false, "note": "请上传发票"}),
        )
        .await)
        .await;
        assert_eq!(e["state"], "returned");
        let invoice = upload(&app, &b.treasurer, TINY_JPEG, "image/jpeg").await;
        body["invoices"] = json!([invoice]);
        body["version"] = e["version"].clone();
        let e = ok(edit(&app, &b.treasurer, &e, body).await).await;
        assert_eq!(e["invoices"].as_array().unwrap().len(), 1);
        let e = post_through(&app, &b, e).await;
        assert_eq!(e["state"], "posted");
        let actions: Vec<&str> = e["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            ["create", "submit", "approve", "update", "submit", "approve", "review"]
        );
        // The committee (a reader of the books) sees the invoice image.
        let r = app
            .get(&format!("/api/v1/photos/{invoice}"), Some(&b.committee))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let bal = balances(&app, &b.agency, "2026-09").await;
        assert_eq!(balance_of(&bal, "513"), 12050);
        assert_eq!(balance_of(&bal, "101"), -12050);
        assert_eq!(bal["balanced"], true);
        // An income needs no invoice; another person's upload is not an invoice of theirs.
        let other = upload(&app, &b.committee, TINY_PNG, "image/png").await;
        let err = assert_error(
            app.post_json(
                "/api/v1/ledger/entries",
                Some(&b.treasurer),
                expense("1", &[&other]),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(err["field"], "invoices[0]");
        let i = created(
            app.post_json(
                "/api/v1/ledger/entries",
                Some(&b.treasurer),
                income("3000", "张三"),
            )
            .await,
        )
        .await;
        assert_eq!(post_through(&app, &b, i).await["state"], "posted");
    }
);

db_test!(
    each_move_is_its_duty_holders_and_bad_input_changes_nothing,
    |app| {
        let b = books(&app).await;
        let other_disp = app.user("l-other", Role::Dispatcher, Some(OTHER)).await;
        let village_disp = app.user("l-vdisp", Role::Dispatcher, Some(VILLAGE)).await;
        // No duty, no entry: a dispatcher of the village, the committee, the town's agency.
        for who in [&village_disp, &b.committee, &b.agency] {
            assert_error(
                app.post_json("/api/v1/ledger/entries", Some(who), income("1", "甲"))
                    .await,
                StatusCode::FORBIDDEN,
            )
            .await;
        }
        let e = created(
            app.post_json(
                "/api/v1/ledger/entries",
                Some(&b.treasurer),
                income("10", "甲"),
            )
            .await,
        )
        .await;
        for (who, action) in [
            (&b.committee, "submit"),
            (&village_disp, "submit"),
            (&b.agency, "void"),
        ] {
            assert_error(
                act(&app, who, &e, action, json!({"note": "x"})).await,
                StatusCode::FORBIDDEN,
            )
            .await;
        }
        let e = ok(act(&app, &b.treasurer, &e, "submit", json!({})).await).await;
        for (who, action) in [(&b.treasurer, "approve"), (&b.agency, "approve")] {
            assert_error(
                act(&app, who, &e, action, json!({})).await,
                StatusCode::FORBIDDEN,
            )
            .await;
        }
        // Another village's staff do not see it; the village's own staff read it.
        assert_error(
            app.get(
                &format!("/api/v1/ledger/entries/{}", e["id"]),
                Some(&other_disp),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(
            app.get(
                &format!("/api/v1/ledger/entries/{}", e["id"]),
                Some(&village_disp)
            )
            .await
            .status(),
            StatusCode::OK
        );
        let listed = app
            .get_json(&format!("/api/v1/ledger/entries?node={OTHER}"), &other_disp)
            .await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 0);
        // Bad input names its field.
        for (body, field) in [
            (
                json!({"lines": [{"account": "513", "side": "debit", "amount": "10"}, {"account": "101", "side": "credit", "amount": "9"}]}),
                "lines",
            ),
            (
                json!({"lines": [{"account": "999", "side": "debit", "amount": "10"}, {"account": "101", "side": "credit", "amount": "10"}]}),
                "lines[0].account",
            ),
            (
                json!({"lines": [{"account": "513", "side": "debit", "amount": "1.234"}, {"account": "101", "side": "credit", "amount": "1.234"}]}),
                "lines[0].amount",
            ),
            (json!({"date": "2026-02-30"}), "date"),
            // Spending called a transfer or an income is refused: the invoice rule cannot be sidestepped.
            (
                json!({"kind": "transfer", "lines": [{"account": "513", "side": "debit", "amount": "10"}, {"account": "101", "side": "credit", "amount": "10"}]}),
                "lines[0].account",
            ),
            (
                json!({"kind": "income", "lines": [{"account": "514", "side": "debit", "amount": "10"}, {"account": "102", "side": "credit", "amount": "10"}]}),
                "lines[0].account",
            ),
            (json!({"summary": "  "}), "summary"),
            (json!({"node": GRID}), "node"),
        ] {
            let mut full = income("10", "甲");
            for (k, v) in body.as_object().unwrap() {
                full[k] = v.clone();
            }
            let err = assert_error(
                app.post_json("/api/v1/ledger/entries", Some(&b.treasurer), full)
                    .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(err["field"], field, "{err}");
        }
        let all = app
            .get_json(&format!("/api/v1/ledger/entries?node={VILLAGE}"), &b.agency)
            .await;
        assert_eq!(all["items"].as_array().unwrap().len(), 1);
        // Sending back needs a reason; a stale version is refused.
        assert_error(
            act(&app, &b.committee, &e, "approve", json!({"approve": false})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let mut stale = e.clone();
        stale["version"] = json!(1);
        assert_error(
            act(&app, &b.committee, &stale, "approve", json!({})).await,
            StatusCode::CONFLICT,
        )
        .await;
        // Duties are given at the right level, to staff, by administrators.
        for (duty, field) in [
            (json!({"node": GRID, "duty": "treasurer"}), "duties[0].node"),
            (
                json!({"node": VILLAGE, "duty": "town_agency"}),
                "duties[0].node",
            ),
        ] {
            let err = assert_error(
                app.put_json(
                    &format!("/api/v1/users/{}/duties", village_disp.user_id),
                    &b.admin,
                    json!({"duties": [duty]}),
                )
                .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(err["field"], field);
        }
        assert_error(
            app.put_json(
                &format!("/api/v1/users/{}/duties", village_disp.user_id),
                &b.agency,
                json!({"duties": []}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let mine = app
            .get_json(
                &format!("/api/v1/users/{}/duties", b.treasurer.user_id),
                &b.treasurer,
            )
            .await;
        assert_eq!(
            mine["duties"],
            json!([{"node": VILLAGE, "duty": "treasurer"}])
        );
    }
);

db_test!(
    balances_equal_the_sum_of_the_posted_lines_after_concurrent_postings,
    |app| {
        let b = books(&app).await;
        let mut approved = Vec::new();
        for i in 1..=12 {
            let e = created(
                app.post_json(
                    "/api/v1/ledger/entries",
                    Some(&b.treasurer),
                    income(&format!("{i}.25"), "乙"),
                )
                .await,
            )
            .await;
            let e = ok(act(&app, &b.treasurer, &e, "submit", json!({})).await).await;
            approved.push(ok(act(&app, &b.committee, &e, "approve", json!({})).await).await);
        }
        // The town posts all twelve at once, and each one twice: every entry is posted once.
        let tries = approved
            .iter()
            .chain(approved.iter())
            .map(|e| act(&app, &b.agency, e, "review", json!({})));
        let answers = futures_util::future::join_all(tries).await;
        let posted = answers
            .iter()
            .filter(|r| r.status() == StatusCode::OK)
            .count();
        assert_eq!(posted, 12);
        assert!(answers
            .iter()
            .all(|r| matches!(r.status(), StatusCode::OK | StatusCode::CONFLICT)));
        let want: i64 = (1..=12).map(|i| i * 100 + 25).sum();
        let bal = balances(&app, &b.agency, "2026-09").await;
        assert_eq!(balance_of(&bal, "102"), want);
        assert_eq!(balance_of(&bal, "501"), want);
        let month = shanzhi_domain::ledger::month_index(2026, 9);
        let sums = shanzhi_store::ledger::sums_to(&app.state.db, VILLAGE, month)
            .await
            .unwrap();
        let recount = shanzhi_store::ledger::recount(&app.state.db, VILLAGE, month)
            .await
            .unwrap();
        assert_eq!(sums, recount);
        // August holds none of it.
        assert_eq!(
            balances(&app, &b.agency, "2026-08").await["accounts"],
            json!([])
        );
    }
);

db_test!(a_closed_month_takes_no_more_postings, |app| {
    let b = books(&app).await;
    let e = created(
        app.post_json(
            "/api/v1/ledger/entries",
            Some(&b.treasurer),
            income("50", "丙"),
        )
        .await,
    )
    .await;
    let e = ok(act(&app, &b.treasurer, &e, "submit", json!({})).await).await;
    let e = ok(act(&app, &b.committee, &e, "approve", json!({})).await).await;
    // Not while an approved entry waits; then once; a village's treasurer may not.
    let close = json!({"node": VILLAGE, "month": "2026-09"});
    assert_error(
        app.post_json("/api/v1/ledger/closes", Some(&b.agency), close.clone())
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let e = ok(act(
        &app,
        &b.agency,
        &e,
        "review",
        json!({"approve": false, "note": "改为十月入账"}),
    )
    .await)
    .await;
    assert_error(
        app.post_json("/api/v1/ledger/closes", Some(&b.treasurer), close.clone())
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    created(
        app.post_json("/api/v1/ledger/closes", Some(&b.agency), close.clone())
            .await,
    )
    .await;
    assert_error(
        app.post_json("/api/v1/ledger/closes", Some(&b.agency), close)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    // The returned entry cannot stay in September; a new one cannot be dated there either.
    assert_error(
        app.post_json(
            "/api/v1/ledger/entries",
            Some(&b.treasurer),
            income("5", "丁"),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let mut body = income("50", "丙");
    body.as_object_mut().unwrap().remove("node");
    body["version"] = e["version"].clone();
    body["date"] = json!("2026-10-02");
    let e = ok(edit(&app, &b.treasurer, &e, body).await).await;
    assert_eq!(post_through(&app, &b, e).await["state"], "posted");
    let bal = balances(&app, &b.agency, "2026-10").await;
    assert_eq!(bal["closed_months"], json!(["2026-09"]));
    assert_eq!(balance_of(&bal, "102"), 5000);
});

db_test!(
    villagers_read_only_their_own_villages_posted_entries,
    |app| {
        let b = books(&app).await;
        let villager = app.user("l-villager", Role::Citizen, None).await;
        let outsider = app.user("l-outsider", Role::Citizen, None).await;
        let r = resident(&app, GRID, "村民甲", None).await;
        exec(
            &app.state.db,
            &format!(
                "UPDATE resident SET user_id = {} WHERE id = {r}",
                villager.user_id
            ),
        )
        .await;
        let posted = created(
            app.post_json(
                "/api/v1/ledger/entries",
                Some(&b.treasurer),
                income("800", "王小明"),
            )
            .await,
        )
        .await;
        let posted = post_through(&app, &b, posted).await;
        created(
            app.post_json(
                "/api/v1/ledger/entries",
                Some(&b.treasurer),
                income("1", "草稿"),
            )
            .await,
        )
        .await;
        let mine = app.get_json("/api/v1/me/ledger", &villager).await;
        let items = mine["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{mine}");
        assert_eq!(items[0]["id"], posted["id"]);
        assert_eq!(items[0]["amount"], "800.00");
        assert_eq!(items[0]["counterparty"], "王*");
        assert!(items[0].get("timeline").is_none() && items[0].get("created_by").is_none());
        assert_eq!(
            app.get_json("/api/v1/me/ledger", &outsider).await["items"],
            json!([])
        );
        // Citizens read no staff list; staff read no villager's page.
        assert_error(
            app.get("/api/v1/ledger/entries", Some(&villager)).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_error(
            app.get("/api/v1/me/ledger", Some(&b.treasurer)).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_error(
            app.get(
                &format!("/api/v1/ledger/entries/{}", posted["id"]),
                Some(&villager),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
);

db_test!(the_monthly_statements_balance_and_export_to_excel, |app| {
    let b = books(&app).await;
    let invoice = upload(&app, &b.treasurer, TINY_PNG, "image/png").await;
    for body in [income("8000", "陈建国"), expense("1200.50", &[&invoice])] {
        let e = created(
            app.post_json("/api/v1/ledger/entries", Some(&b.treasurer), body)
                .await,
        )
        .await;
        post_through(&app, &b, e).await;
    }
    let s = app
        .get_json(
            &format!("/api/v1/ledger/statements?node={VILLAGE}&month=2026-09"),
            &b.agency,
        )
        .await;
    let sheet = &s["balance_sheet"];
    assert_eq!(sheet["balanced"], true, "{s}");
    // The bank: 8000 in, 1200.50 out of cash (101) — the month-end column of each.
    let end_of = |code: &str| {
        sheet["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["account"] == code)
            .map_or(0, |l| l["second_fen"].as_i64().unwrap())
    };
    assert_eq!(end_of("102"), 800_000);
    assert_eq!(end_of("101"), -120_050);
    assert_eq!(sheet["unallocated_fen"][1], 800_000 - 120_050);
    assert_eq!(s["income_statement"]["net_fen"], json!([679_950, 679_950]));
    // October: nothing in the month, the year to date as September left it.
    let oct = app
        .get_json(
            &format!("/api/v1/ledger/statements?node={VILLAGE}&month=2026-10"),
            &b.agency,
        )
        .await;
    assert_eq!(
        oct["income_statement"]["net_fen"],
        json!([0, 679_950]),
        "{oct}"
    );
    // The workbook: both statements, the figures in yuan.
    let books = crate::export::sheets(
        &app,
        &format!("/api/v1/ledger/statements/export.xlsx?node={VILLAGE}&month=2026-09"),
        &b.agency,
    )
    .await;
    let names: Vec<&str> = books.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["资产负债表", "收益及收益分配表"]);
    let rows = &books[0].1;
    let total = |label: &str| {
        rows.iter()
            .find(|r| r.get(1).is_some_and(|c| c == label))
            .map(|r| r[3].clone())
            .unwrap()
    };
    assert_eq!(total("资产合计"), total("负债和所有者权益合计"));
    assert_eq!(total("资产合计"), "6799.5");
    // Villagers do not read them, nor the workbook; a month is named as such.
    let villager = app.user("l-stat-citizen", Role::Citizen, None).await;
    assert_error(
        app.get(
            &format!("/api/v1/ledger/statements?node={VILLAGE}"),
            Some(&villager),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get(
            &format!("/api/v1/ledger/statements/export.xlsx?node={VILLAGE}"),
            Some(&villager),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let e = assert_error(
        app.get(
            &format!("/api/v1/ledger/statements?node={VILLAGE}&month=2026-13"),
            Some(&b.agency),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["field"], "month");
});

/// PUTs an entry's new text as `who`.
async fn edit(app: &TestApp, who: &Session, e: &Value, body: Value) -> reqwest::Response {
    app.put_json(&format!("/api/v1/ledger/entries/{}", e["id"]), who, body)
        .await
}

async fn duties(app: &TestApp, b: &Books, who: &Session, list: Value) -> reqwest::Response {
    let path = format!("/api/v1/users/{}/duties", who.user_id);
    app.put_json(&path, &b.admin, json!({"duties": list})).await
}

db_test!(duties_are_kept_apart_and_an_invoice_pays_once, |app| {
    let b = books(&app).await;
    // Nobody keeps and approves the same books, nor reviews for the town what they keep.
    let e = assert_error(
        duties(
            &app,
            &b,
            &b.treasurer,
            json!([{"node": VILLAGE, "duty": "treasurer"}, {"node": VILLAGE, "duty": "committee"}]),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["field"], "duties");
    assert_eq!(e["reason"], "ledger_incompatible", "{e}");
    assert_error(
        duties(
            &app,
            &b,
            &b.agency,
            json!([{"node": TOWN, "duty": "town_agency"}, {"node": VILLAGE, "duty": "committee"}]),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // The treasurer's entry, then the treasurer moved to the committee: not their own approval.
    let invoice = upload(&app, &b.treasurer, TINY_PNG, "image/png").await;
    let first = created(
        app.post_json(
            "/api/v1/ledger/entries",
            Some(&b.treasurer),
            expense("10", &[&invoice]),
        )
        .await,
    )
    .await;
    // One invoice image backs one entry.
    let e = assert_error(
        app.post_json(
            "/api/v1/ledger/entries",
            Some(&b.treasurer),
            expense("10", &[&invoice]),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["field"], "invoices[0]");
    assert_eq!(e["reason"], "ledger_invoice_used", "{e}");
    let first = ok(act(&app, &b.treasurer, &first, "submit", json!({})).await).await;
    ok(duties(
        &app,
        &b,
        &b.treasurer,
        json!([{"node": VILLAGE, "duty": "committee"}]),
    )
    .await)
    .await;
    let e = assert_error(
        act(
            &app,
            &b.treasurer,
            &first,
            "approve",
            json!({"approve": true}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(e["reason"], "ledger_own_entry", "{e}");
    // The colleague who keeps the books now may change it, keeping the invoice uploaded
    // by the one before.
    let e = ok(act(
        &app,
        &b.committee,
        &first,
        "approve",
        json!({"approve": false, "note": "摘要写清楚"}),
    )
    .await)
    .await;
    let colleague = app.user("l-colleague", Role::GridWorker, Some(GRID)).await;
    ok(duties(
        &app,
        &b,
        &colleague,
        json!([{"node": VILLAGE, "duty": "treasurer"}]),
    )
    .await)
    .await;
    let mut body = expense("10", &[&invoice]);
    body.as_object_mut().unwrap().remove("node");
    body["version"] = e["version"].clone();
    body["summary"] = json!("购买村委会办公用品（打印纸）");
    ok(edit(&app, &colleague, &e, body).await).await;
    // No entry dated ahead of today or before 2000.
    for date in ["2099-01-01", "1999-12-31"] {
        let mut body = income("1", "甲");
        body["date"] = json!(date);
        let e = assert_error(
            app.post_json("/api/v1/ledger/entries", Some(&colleague), body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["field"], "date");
    }
});

db_test!(months_close_once_over_and_in_order, |app| {
    let b = books(&app).await;
    app.set_local(2026, 11, 18, 10, 0);
    let august = {
        let mut body = income("30", "甲");
        body["date"] = json!("2026-08-20");
        created(
            app.post_json("/api/v1/ledger/entries", Some(&b.treasurer), body)
                .await,
        )
        .await
    };
    post_through(&app, &b, august).await;
    let close = |month: &str| {
        let body = json!({"node": VILLAGE, "month": month});
        app.post_json("/api/v1/ledger/closes", Some(&b.agency), body)
    };
    // Not this month nor a month ahead; not September before August.
    for month in ["2026-11", "2027-01"] {
        let e = assert_error(close(month).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(e["reason"], "ledger_close_over", "{e}");
    }
    let e = assert_error(close("2026-09").await, StatusCode::CONFLICT).await;
    assert_eq!(e["reason"], "ledger_close_order", "{e}");
    created(close("2026-08").await).await;
    created(close("2026-09").await).await;
    let e = assert_error(close("2026-09").await, StatusCode::CONFLICT).await;
    assert_eq!(e["reason"], "ledger_closed_already", "{e}");
});

/// A draft income entry in village 441502001001 and one in the other county's village, for the
/// authorization matrix (written by the store, as no matrix actor holds a duty).
pub async fn ledger_world(app: &TestApp, by: i64) -> [i64; 2] {
    let mut out = [0; 2];
    for (i, node) in ["441502001001", "441521001001"].iter().enumerate() {
        let v = shanzhi_store::ledger::Values {
            kind: "income".into(),
            entry_date: "2026-09-08".into(),
            month: shanzhi_domain::ledger::month_index(2026, 9),
            summary: "矩阵".into(),
            counterparty: None,
            private_party: false,
            lines: vec![
                ("101".into(), "debit".into(), 100),
                ("501".into(), "credit".into(), 100),
            ],
            invoices: Vec::new(),
            total_fen: 100,
        };
        let log = shanzhi_store::event::LogEntry {
            actor_id: Some(by),
            action: "create".into(),
            from_state: None,
            to_state: "draft".into(),
            note: None,
            data: json!({}),
        };
        out[i] = shanzhi_store::ledger::insert(&app.state.db, node, &v, &log, by, 0)
            .await
            .unwrap()
            .id;
    }
    out
}
