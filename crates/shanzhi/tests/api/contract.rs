//! The register of collective contracts (一清三规范) through HTTP: each flag raised by its own
//! cause (expired by the clock, a term beyond the kind's limit, a price far below the median of
//! at least three peers — which moves when a peer changes — and no villagers' meeting), a flag
//! closing when the contract is fixed, the clean-up statuses, bad input named by its field,
//! villagers reading only their villages' contracts with private names masked, and who may.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi::clock::Clock;
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, Session, TestApp, TINY_JPEG};
use crate::house::{exec, resident};

const VILLAGE: &str = "441502001001";
const OTHER: &str = "441502001002";
const TOWN: &str = "441502001000";
const GRID: &str = "441502001001001";

/// (committee member of the village, the town's agency, an administrator).
struct Keepers {
    committee: Session,
    agency: Session,
    admin: Session,
}

async fn keepers(app: &TestApp) -> Keepers {
    app.seed_loop().await;
    app.set_local(2026, 12, 1, 9, 0);
    let admin = app.user("c-admin", Role::Admin, Some("441502000000")).await;
    let committee = app.user("c-committee", Role::Leader, Some(VILLAGE)).await;
    let agency = app.user("c-agency", Role::Dispatcher, Some(TOWN)).await;
    for (who, node, duty) in [
        (&committee, VILLAGE, "committee"),
        (&agency, TOWN, "town_agency"),
    ] {
        app.give_duty(&admin, who, node, duty).await;
    }
    Keepers {
        committee,
        agency,
        admin,
    }
}

/// A clean pond contract: ten years, approved by the meeting, 500 yuan a mu a year over 10 mu.
fn pond(number: &str, yearly: &str) -> Value {
    json!({"node": VILLAGE, "number": number, "kind": "pond", "asset_name": "东头鱼塘",
        "location": "村东", "area": "10", "unit": "mu", "counterparty": "王小明",
        "start": "2022-01-01", "end": "2031-12-31", "yearly_price": yearly,
        "payment_terms": "每年1月付清", "meeting_date": "2021-12-20", "meeting_ref": "村民代表会议〔2021〕3号"})
}

async fn created(r: reqwest::Response) -> Value {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// The open flags of a contract as shown.
fn open_flags(c: &Value) -> Vec<String> {
    let mut f: Vec<String> = c["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["open"] == true)
        .map(|f| f["flag"].as_str().unwrap().to_owned())
        .collect();
    f.sort();
    f
}

/// The contract's own path.
fn at(c: &Value) -> String {
    format!("/api/v1/contracts/{}", c["id"])
}

async fn show(app: &TestApp, who: &Session, c: &Value) -> Value {
    app.get_json(&at(c), who).await
}

/// The body to PUT: what the contract holds with `changes`, at its version.
fn edited(c: &Value, changes: Value) -> Value {
    let mut b = json!({"number": c["number"], "kind": c["kind"], "asset_name": c["asset_name"],
        "location": c["location"], "area": c["area"], "unit": c["unit"], "counterparty": c["counterparty"],
        "private_party": c["private_party"], "start": c["start"], "end": c["end"],
        "yearly_price": c["yearly_price"], "payment_terms": c["payment_terms"],
        "meeting_date": c["meeting_date"], "meeting_ref": c["meeting_ref"],
        "terminated": c["terminated"], "version": c["version"]});
    for (k, v) in changes.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

async fn edit(app: &TestApp, who: &Session, c: &Value, changes: Value) -> Value {
    ok(app.put_json(&at(c), who, edited(c, changes)).await).await
}

async fn move_flag(
    app: &TestApp,
    who: &Session,
    c: &Value,
    flag: &str,
    body: Value,
) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/contracts/{}/flags/{flag}", c["id"]),
        Some(who),
        body,
    )
    .await
}

db_test!(each_flag_is_raised_by_its_own_cause, |app| {
    let k = keepers(&app).await;
    let clean = created(
        app.post_json(
            "/api/v1/contracts",
            Some(&k.committee),
            pond("HT-1", "5000"),
        )
        .await,
    )
    .await;
    assert_eq!(open_flags(&clean), Vec::<String>::new(), "{clean}");
    assert_eq!(clean["yearly_fen"], 500_000);
    assert_eq!(clean["unit_price_fen"], 50_000);

    // No meeting: the flag is raised; giving the meeting's date closes it (cleaned by the edit).
    let mut body = pond("HT-2", "5000");
    body.as_object_mut().unwrap().remove("meeting_date");
    body.as_object_mut().unwrap().remove("meeting_ref");
    let c = created(
        app.post_json("/api/v1/contracts", Some(&k.agency), body)
            .await,
    )
    .await;
    assert_eq!(open_flags(&c), ["no_meeting_approval"]);
    let c = edit(
        &app,
        &k.committee,
        &c,
        json!({"meeting_date": "2026-11-30"}),
    )
    .await;
    assert_eq!(open_flags(&c), Vec::<String>::new());
    let closed = &c["flags"][0];
    assert_eq!(closed["flag"], "no_meeting_approval");
    assert_eq!(closed["status"], "cleaned");
    assert!(closed["closed_at"].is_i64(), "{c}");
    let actions: Vec<&str> = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "flag_raised", "update", "flag_closed"]);

    // A term beyond the kind's limit: a pond 30 years, a building 20.
    let c = created(
        app.post_json(
            "/api/v1/contracts",
            Some(&k.committee),
            json!({"node": VILLAGE, "number": "HT-3", "kind": "building", "asset_name": "村部临街门面",
                "area": "120", "unit": "m2", "counterparty": "城区某商贸有限公司", "private_party": false,
                "start": "2020-01-01", "end": "2040-01-02", "yearly_price": "36000",
                "meeting_date": "2019-12-01"}),
        )
        .await,
    )
    .await;
    assert_eq!(open_flags(&c), ["term_too_long"]);
    let c = edit(&app, &k.committee, &c, json!({"end": "2040-01-01"})).await;
    assert_eq!(open_flags(&c), Vec::<String>::new());
    let mut forest = pond("HT-4", "5000");
    forest["kind"] = json!("forest");
    forest["end"] = json!("2091-12-31");
    let f = created(
        app.post_json("/api/v1/contracts", Some(&k.committee), forest)
            .await,
    )
    .await;
    assert_eq!(
        open_flags(&f),
        Vec::<String>::new(),
        "70 years is a forest's limit"
    );

    // Expired by the clock: in force until its last day, flagged by the sweep after it.
    let mut short = pond("HT-5", "5000");
    short["end"] = json!("2026-12-31");
    let s = created(
        app.post_json("/api/v1/contracts", Some(&k.committee), short)
            .await,
    )
    .await;
    assert_eq!(open_flags(&s), Vec::<String>::new());
    app.set_local(2026, 12, 31, 23, 0);
    shanzhi::http::api::contract::sweep(&app.state, app.clock.now_ms())
        .await
        .unwrap();
    // (A month on, the sessions have lapsed: sign in again.)
    let k = Keepers {
        committee: app.login("c-committee").await,
        agency: app.login("c-agency").await,
        admin: app.login("c-admin").await,
    };
    assert_eq!(
        open_flags(&show(&app, &k.agency, &s).await),
        Vec::<String>::new()
    );
    app.set_local(2027, 1, 1, 0, 5);
    let k = Keepers {
        committee: app.login("c-committee").await,
        agency: app.login("c-agency").await,
        admin: app.login("c-admin").await,
    };
    assert_eq!(
        shanzhi::http::api::contract::sweep(&app.state, app.clock.now_ms())
            .await
            .unwrap(),
        1
    );
    let s = show(&app, &k.agency, &s).await;
    assert_eq!(open_flags(&s), ["expired"]);
    // Run again, nothing more; terminating it (settled) closes the flag.
    assert_eq!(
        shanzhi::http::api::contract::sweep(&app.state, app.clock.now_ms())
            .await
            .unwrap(),
        0
    );
    let listed = app
        .get_json(
            &format!("/api/v1/contracts?node={VILLAGE}&flag=expired"),
            &k.committee,
        )
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["id"], s["id"]);
    let s = edit(&app, &k.committee, &s, json!({"terminated": true})).await;
    assert_eq!(open_flags(&s), Vec::<String>::new());
});

db_test!(
    a_low_price_is_judged_against_three_peers_and_the_median_moves,
    |app| {
        let k = keepers(&app).await;
        // Two peers: no median yet, however low the price.
        let mut peers = Vec::new();
        for (n, price) in [("P-1", "5000"), ("P-2", "6000")] {
            peers.push(
                created(
                    app.post_json("/api/v1/contracts", Some(&k.committee), pond(n, price))
                        .await,
                )
                .await,
            );
        }
        let low = created(
            app.post_json(
                "/api/v1/contracts",
                Some(&k.committee),
                pond("P-low", "3000"),
            )
            .await,
        )
        .await;
        assert_eq!(open_flags(&low), Vec::<String>::new());
        // A building in m² is no peer of a pond in mu.
        created(
            app.post_json(
                "/api/v1/contracts",
                Some(&k.committee),
                json!({"node": VILLAGE, "number": "B-1", "kind": "pond", "asset_name": "看护房",
                    "area": "100", "unit": "m2", "counterparty": "甲", "start": "2022-01-01",
                    "end": "2030-12-31", "yearly_price": "99999", "meeting_date": "2021-12-01"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            open_flags(&show(&app, &k.committee, &low).await),
            Vec::<String>::new()
        );
        // A third peer: the median of (500, 600, 550) a mu is 550; 300 < 385 is flagged, and
        // the flag was raised in the third peer's write.
        peers.push(
            created(
                app.post_json("/api/v1/contracts", Some(&k.committee), pond("P-3", "5500"))
                    .await,
            )
            .await,
        );
        let low = show(&app, &k.committee, &low).await;
        assert_eq!(open_flags(&low), ["price_low"]);
        // The peers (priced 500–600, against a median with 300 in it) are not low.
        for p in &peers {
            assert_eq!(
                open_flags(&show(&app, &k.committee, p).await),
                Vec::<String>::new()
            );
        }
        // A peer drops to 350: the median of (350, 550, 600) for the low one is 550 still;
        // dropping another to 400 makes it 400, and 300 ≥ 280 is no longer low: closed.
        // The dropped peer is itself low now against (300, 550, 600).
        let p1 = edit(
            &app,
            &k.committee,
            &peers[0],
            json!({"yearly_price": "3500"}),
        )
        .await;
        assert_eq!(open_flags(&p1), ["price_low"]);
        assert_eq!(
            open_flags(&show(&app, &k.committee, &low).await),
            ["price_low"]
        );
        let p2 = show(&app, &k.committee, &peers[1]).await;
        edit(&app, &k.agency, &p2, json!({"yearly_price": "4000"})).await;
        let low = show(&app, &k.committee, &low).await;
        assert_eq!(open_flags(&low), Vec::<String>::new(), "{low}");
        assert_eq!(
            open_flags(&show(&app, &k.committee, &p1).await),
            Vec::<String>::new()
        );
        assert_eq!(low["flags"][0]["status"], "cleaned");
        // The price counts per unit: the same yearly sum over a larger area is low again.
        let low = edit(&app, &k.committee, &low, json!({"area": "20"})).await;
        assert_eq!(open_flags(&low), ["price_low"]);
        let history = low["flag_history"].as_array().unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0]["current"], false);
        // The summary counts the current row of each flag: the low one's open price_low, and
        // the first peer's, closed when the median moved.
        let sum = app
            .get_json(&format!("/api/v1/contracts/summary?node={TOWN}"), &k.agency)
            .await;
        let price = sum["flags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["flag"] == "price_low")
            .unwrap();
        assert_eq!(
            price,
            &json!({"flag": "price_low", "open": 1, "rectifying": 0, "cleaned": 1})
        );
        assert_eq!(sum["contracts"], 5);
        assert_eq!(sum["flagged"], 1);
    }
);

db_test!(
    concurrent_writes_to_a_village_judge_each_other_s_prices,
    |app| {
        let k = keepers(&app).await;
        // Eight ponds registered at once: whatever the order, each is judged against all the
        // others in the end — the two cheap ones are low (the median of the others is 540 a mu).
        let prices = [
            "5000", "5200", "5400", "5600", "5800", "6000", "3000", "3100",
        ];
        let tries = prices.iter().enumerate().map(|(i, p)| {
            app.post_json(
                "/api/v1/contracts",
                Some(&k.committee),
                pond(&format!("C-{i}"), p),
            )
        });
        let answers = futures_util::future::join_all(tries).await;
        assert!(
            answers.iter().all(|r| r.status() == StatusCode::CREATED),
            "{:?}",
            answers.iter().map(|r| r.status()).collect::<Vec<_>>()
        );
        let list = app
            .get_json(&format!("/api/v1/contracts?node={VILLAGE}"), &k.committee)
            .await;
        let mut low: Vec<String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| open_flags(c) == ["price_low"])
            .map(|c| c["number"].as_str().unwrap().to_owned())
            .collect();
        low.sort();
        assert_eq!(low, ["C-6", "C-7"], "{list}");
        assert_eq!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| !open_flags(c).is_empty())
                .count(),
            2
        );
    }
);

db_test!(clean_up_statuses_move_forward_with_notes, |app| {
    let k = keepers(&app).await;
    let mut body = pond("HT-9", "5000");
    body["meeting_date"] = Value::Null;
    body["meeting_ref"] = Value::Null;
    body["end"] = json!("2060-01-01");
    let c = created(
        app.post_json("/api/v1/contracts", Some(&k.committee), body)
            .await,
    )
    .await;
    assert_eq!(open_flags(&c), ["no_meeting_approval", "term_too_long"]);
    // open → rectifying; cleaning needs a note; rectifying → open is no move.
    let c = ok(move_flag(
        &app,
        &k.committee,
        &c,
        "term_too_long",
        json!({"status": "rectifying", "note": "已约谈承包方"}),
    )
    .await)
    .await;
    let err = assert_error(
        move_flag(
            &app,
            &k.agency,
            &c,
            "term_too_long",
            json!({"status": "cleaned"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(err["field"], "note");
    let err = assert_error(
        move_flag(
            &app,
            &k.agency,
            &c,
            "term_too_long",
            json!({"status": "open"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(err["field"], "status");
    let c = ok(move_flag(
        &app,
        &k.agency,
        &c,
        "term_too_long",
        json!({"status": "cleaned", "note": "补签协议，期限缩至2051年"}),
    )
    .await)
    .await;
    let term = c["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["flag"] == "term_too_long")
        .unwrap();
    assert_eq!(term["status"], "cleaned");
    assert_eq!(
        term["open"], true,
        "still applies: cleaned by the village's word"
    );
    assert_eq!(term["status_by"], k.agency.user_id);
    // A flag the contract does not carry cannot move; an unknown flag or status is named.
    let err = assert_error(
        move_flag(
            &app,
            &k.agency,
            &c,
            "expired",
            json!({"status": "rectifying"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(err["field"], "flag");
    for (flag, body, field) in [
        ("cheap", json!({"status": "rectifying"}), "flag"),
        ("price_low", json!({"status": "done"}), "status"),
    ] {
        let err = assert_error(
            move_flag(&app, &k.agency, &c, flag, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(err["field"], field, "{err}");
    }
    // The summary and the status filter read the same rows.
    let c = ok(move_flag(
        &app,
        &k.committee,
        &c,
        "no_meeting_approval",
        json!({"status": "rectifying"}),
    )
    .await)
    .await;
    let sum = app
        .get_json(
            &format!("/api/v1/contracts/summary?node={VILLAGE}"),
            &k.committee,
        )
        .await;
    assert_eq!(
        sum["flags"],
        json!([
            {"flag": "expired", "open": 0, "rectifying": 0, "cleaned": 0},
            {"flag": "term_too_long", "open": 0, "rectifying": 0, "cleaned": 1},
            {"flag": "price_low", "open": 0, "rectifying": 0, "cleaned": 0},
            {"flag": "no_meeting_approval", "open": 0, "rectifying": 1, "cleaned": 0},
        ])
    );
    let rect = app
        .get_json(
            &format!("/api/v1/contracts?node={VILLAGE}&status=rectifying"),
            &k.committee,
        )
        .await;
    assert_eq!(rect["items"].as_array().unwrap().len(), 1);
    let none = app
        .get_json(
            &format!("/api/v1/contracts?node={VILLAGE}&flag=term_too_long&status=open"),
            &k.committee,
        )
        .await;
    assert_eq!(none["items"], json!([]));
    let actions: Vec<&str> = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "flag_raised",
            "flag_raised",
            "cleanup",
            "cleanup",
            "cleanup"
        ]
    );
    // Each write and move is in the audit log.
    for (action, n) in [("contract.create", 1), ("contract.cleanup", 3)] {
        assert_eq!(
            app.scalar(&format!(
                "SELECT COUNT(*) FROM audit WHERE action = '{action}' AND entity_id = '{}'",
                c["id"]
            ))
            .await,
            n,
            "{action}"
        );
    }
});

db_test!(bad_input_is_named_by_its_field_and_changes_nothing, |app| {
    let k = keepers(&app).await;
    let c = created(
        app.post_json(
            "/api/v1/contracts",
            Some(&k.committee),
            pond("HT-1", "5000"),
        )
        .await,
    )
    .await;
    for (changes, field) in [
        (json!({"start": "2026-02-30"}), "start"),
        (json!({"end": "明年"}), "end"),
        (json!({"end": "2021-12-31"}), "end"),
        (json!({"yearly_price": "12.345"}), "yearly_price"),
        (json!({"yearly_price": "-5"}), "yearly_price"),
        (json!({"area": "0"}), "area"),
        (json!({"kind": "mine"}), "kind"),
        (json!({"unit": "hectare"}), "unit"),
        (json!({"counterparty": "  "}), "counterparty"),
        (
            json!({"meeting_date": null, "meeting_ref": "〔2021〕3号"}),
            "meeting_date",
        ),
        (json!({"meeting_date": "2021-13-01"}), "meeting_date"),
        (json!({"node": GRID}), "node"),
        (json!({"photos": ["abc"]}), "photos[0]"),
    ] {
        let mut body = pond("HT-2", "5000");
        for (key, v) in changes.as_object().unwrap() {
            body[key] = v.clone();
        }
        let err = assert_error(
            app.post_json("/api/v1/contracts", Some(&k.committee), body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(err["field"], field, "{changes}: {err}");
    }
    // A number the village has already; a stale version; the list holds only the first.
    let err = assert_error(
        app.post_json("/api/v1/contracts", Some(&k.committee), pond("HT-1", "1"))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(err["field"], "number");
    // Another village may use the same number.
    let mut other = pond("HT-1", "5000");
    other["node"] = json!(OTHER);
    created(
        app.post_json("/api/v1/contracts", Some(&k.agency), other)
            .await,
    )
    .await;
    edit(&app, &k.committee, &c, json!({"location": "村东头"})).await;
    let err = assert_error(
        app.put_json(
            &at(&c),
            &k.committee,
            edited(&c, json!({"location": "旧版本"})),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(err["field"], "version");
    let list = app
        .get_json(&format!("/api/v1/contracts?node={VILLAGE}"), &k.committee)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["location"], "村东头");
    for (q, field) in [
        ("kind=mine", "kind"),
        ("flag=x", "flag"),
        ("status=x", "status"),
        ("node=x", "node"),
    ] {
        let err = assert_error(
            app.get(&format!("/api/v1/contracts?{q}"), Some(&k.committee))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(err["field"], field);
    }
    // Paging by cursor.
    for i in 0..3 {
        created(
            app.post_json(
                "/api/v1/contracts",
                Some(&k.committee),
                pond(&format!("HT-P{i}"), "5000"),
            )
            .await,
        )
        .await;
    }
    let first = app
        .get_json(
            &format!("/api/v1/contracts?node={VILLAGE}&limit=3"),
            &k.admin,
        )
        .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let next = first["next_cursor"].as_i64().unwrap();
    let second = app
        .get_json(
            &format!("/api/v1/contracts?node={VILLAGE}&limit=3&before={next}"),
            &k.admin,
        )
        .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
});

db_test!(who_may_read_and_write_the_register, |app| {
    let k = keepers(&app).await;
    let village_disp = app.user("c-vdisp", Role::Dispatcher, Some(VILLAGE)).await;
    let other_disp = app.user("c-other", Role::Dispatcher, Some(OTHER)).await;
    let villager = app.user("c-villager", Role::Citizen, None).await;
    let outsider = app.user("c-outsider", Role::Citizen, None).await;
    let r = resident(&app, GRID, "村民甲", None).await;
    exec(
        &app.state.db,
        &format!(
            "UPDATE resident SET user_id = {} WHERE id = {r}",
            villager.user_id
        ),
    )
    .await;
    // A dispatcher of the village reads but does not register; the administrator does.
    assert_error(
        app.post_json(
            "/api/v1/contracts",
            Some(&village_disp),
            pond("W-1", "5000"),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let scan = {
        let r = app
            .upload("/api/v1/photos", &k.admin, TINY_JPEG.to_vec(), "image/jpeg")
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["hash"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut body = pond("W-1", "5000");
    body["photos"] = json!([scan]);
    body.as_object_mut().unwrap().remove("meeting_date");
    body.as_object_mut().unwrap().remove("meeting_ref");
    let c = created(
        app.post_json("/api/v1/contracts", Some(&k.admin), body)
            .await,
    )
    .await;
    assert_eq!(c["photos"].as_array().unwrap().len(), 1);
    // The committee edits it keeping the administrator's scan.
    edit(
        &app,
        &k.committee,
        &c,
        json!({"payment_terms": "按季度支付", "photos": [scan]}),
    )
    .await;
    // Readers of the contract see its scan; other villages' staff and citizens do not.
    for (who, status) in [
        (&village_disp, StatusCode::OK),
        (&k.committee, StatusCode::OK),
        (&other_disp, StatusCode::NOT_FOUND),
        (&villager, StatusCode::NOT_FOUND),
    ] {
        let r = app.get(&format!("/api/v1/photos/{scan}"), Some(who)).await;
        assert_eq!(r.status(), status);
        let r = app.get(&at(&c), Some(who)).await;
        assert_eq!(r.status(), status);
    }
    for (who, path) in [
        (&village_disp, at(&c)),
        (
            &village_disp,
            format!("/api/v1/contracts/{}/flags/no_meeting_approval", c["id"]),
        ),
    ] {
        let r = if path.contains("flags") {
            app.post_json(&path, Some(who), json!({"status": "rectifying"}))
                .await
        } else {
            app.put_json(&path, who, edited(&c, json!({}))).await
        };
        assert_error(r, StatusCode::FORBIDDEN).await;
    }
    assert_error(
        move_flag(
            &app,
            &other_disp,
            &c,
            "no_meeting_approval",
            json!({"status": "rectifying"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get(
            &format!("/api/v1/contracts?node={VILLAGE}"),
            Some(&other_disp),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_error(
        app.get(
            &format!("/api/v1/contracts/summary?node={VILLAGE}"),
            Some(&other_disp),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Another village's contract, and one of a company.
    let mut other = pond("W-2", "6000");
    other["node"] = json!(OTHER);
    created(
        app.post_json("/api/v1/contracts", Some(&k.agency), other)
            .await,
    )
    .await;
    let mut company = pond("W-3", "7000");
    company["counterparty"] = json!("城区渔业有限公司");
    company["private_party"] = json!(false);
    created(
        app.post_json("/api/v1/contracts", Some(&k.committee), company)
            .await,
    )
    .await;
    // The villager reads their village's contracts, a private name masked, no staff fields.
    let mine = app.get_json("/api/v1/me/contracts", &villager).await;
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{mine}");
    assert_eq!(items[0]["counterparty"], "城区渔业有限公司");
    assert_eq!(items[1]["counterparty"], "王*");
    assert_eq!(items[1]["yearly_price"], "5000.00");
    assert_eq!(
        items[1]["flags"],
        json!([{"flag": "no_meeting_approval", "status": "open", "open": true}])
    );
    for staff_only in [
        "created_by",
        "version",
        "photos",
        "timeline",
        "private_party",
    ] {
        assert!(items[1].get(staff_only).is_none(), "{staff_only}");
    }
    assert!(!mine.to_string().contains("王小明"));
    assert_eq!(
        app.get_json("/api/v1/me/contracts", &outsider).await["items"],
        json!([])
    );
    // Citizens read no staff list; staff read no villager's page.
    for path in ["/api/v1/contracts", "/api/v1/contracts/summary"] {
        assert_error(app.get(path, Some(&villager)).await, StatusCode::FORBIDDEN).await;
    }
    assert_error(
        app.get("/api/v1/me/contracts", Some(&k.committee)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_error(
        app.post_json("/api/v1/contracts", Some(&villager), pond("W-4", "1"))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // The town's summary rolls up both villages; the village's its own.
    let town = app
        .get_json(&format!("/api/v1/contracts/summary?node={TOWN}"), &k.agency)
        .await;
    assert_eq!(town["contracts"], 3);
    let village = app
        .get_json(
            &format!("/api/v1/contracts/summary?node={VILLAGE}"),
            &k.agency,
        )
        .await;
    assert_eq!(village["contracts"], 2);
    assert_eq!(village["flagged"], 1);
});

db_test!(
    the_demo_registers_contracts_flagged_in_each_way_some_cleaned_up,
    |app| {
        use shanzhi::demo;
        let city = demo::generate(demo::Scale::Town, 7).unwrap();
        demo::write_with_events(&app.state.db, &app.state.pii, &city, 1_795_000_000_000, 0)
            .await
            .unwrap();
        let root = city.root.path();
        let (rows, total, flagged) = shanzhi_store::contract::summary(&app.state.db, root)
            .await
            .unwrap();
        assert!((100..=240).contains(&total), "{total} contracts");
        assert!(flagged > 0 && flagged < total / 2, "{flagged} of {total}");
        for flag in shanzhi_domain::contract::Flag::ALL {
            let n: i64 = rows
                .iter()
                .filter(|r| r.0 == flag.as_str())
                .map(|r| r.2)
                .sum();
            assert!(n > 0, "no {flag:?} flag in the demo: {rows:?}");
        }
        for status in ["open", "rectifying", "cleaned"] {
            assert!(
                rows.iter().any(|r| r.1 == status),
                "none {status}: {rows:?}"
            );
        }
        // Each village's contracts are 10 to 20.
        let per_village: Vec<(String, i64)> = {
            let mut m = std::collections::BTreeMap::new();
            let all = shanzhi_store::contract::list(
                &app.state.db,
                &shanzhi_store::contract::Filter {
                    under: root.to_owned(),
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            for c in all {
                *m.entry(c.node_code).or_insert(0i64) += 1;
            }
            m.into_iter().collect()
        };
        assert!(
            per_village.iter().all(|(_, n)| (10..=20).contains(n)),
            "{per_village:?}"
        );
    }
);

/// A contract of village 441502001001 and one of the other county's village, for the
/// authorization matrix (written by the store, as no matrix actor holds a duty). Each carries
/// an open no_meeting_approval flag.
pub async fn contract_world(app: &TestApp, by: i64) -> [i64; 2] {
    let mut out = [0; 2];
    for (i, node) in ["441502001001", "441521001001"].iter().enumerate() {
        let v = shanzhi_store::contract::Values {
            number: "矩阵-1".into(),
            kind: "pond".into(),
            asset_name: "矩阵鱼塘".into(),
            location: None,
            area_centi: 1000,
            unit: "mu".into(),
            counterparty: "矩阵".into(),
            private_party: true,
            start_date: "2022-01-01".into(),
            end_date: "2030-12-31".into(),
            yearly_fen: 100_000,
            payment_terms: None,
            meeting_date: None,
            meeting_ref: None,
            terminated: false,
            photos: Vec::new(),
        };
        let log = shanzhi_store::event::LogEntry {
            actor_id: Some(by),
            action: "create".into(),
            from_state: None,
            to_state: "create".into(),
            note: None,
            data: json!({}),
        };
        out[i] = shanzhi_store::contract::insert(
            &app.state.db,
            node,
            &v,
            &log,
            by,
            0,
            chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            &shanzhi_domain::contract::Limits::default(),
        )
        .await
        .unwrap()
        .id;
    }
    out
}
