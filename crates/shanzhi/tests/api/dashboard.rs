//! The dashboard at every level: departments with work under a node, ranked by on-time rate.

use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{Cast, TestApp};

/// One order of `category` closed by the department `dep` (handled by `handler`); the handler
/// reports the result at `done` (China time, 2026-12-dd hh:00), so later than the deadline is late.
async fn closed_by(
    app: &TestApp,
    c: &Cast,
    category: i64,
    dep: i64,
    handler: &crate::helpers::Session,
    done: (u32, u32),
) -> i64 {
    app.set_local(2026, 12, 1, 9, 0);
    let id = app.report(&c.citizen, category).await;
    app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
    app.act_ok(&c.dispatcher, id, "dispatch", json!({"department_id": dep}))
        .await;
    app.act_ok(handler, id, "sign", json!({})).await;
    app.set_local(2026, 12, done.0, done.1, 0);
    // The deadline sweep turns a late order's light red, which counts it as not on time.
    shanzhi::event::sweep(
        &app.state,
        crate::helpers::local(2026, 12, done.0, done.1, 0),
    )
    .await
    .unwrap();
    app.act_ok(handler, id, "report_result", json!({"note": "已处理"}))
        .await;
    app.act_ok(&c.worker, id, "verify", json!({"ok": true}))
        .await;
    id
}

fn ranking(v: &Value) -> Vec<(i64, Option<f64>)> {
    v["by_department"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["department_id"].as_i64().unwrap(),
                d["figures"]["on_time_rate"]["value"].as_f64(),
            )
        })
        .collect()
}

db_test!(
    a_city_and_a_town_rank_every_department_with_work_under_them,
    |app| {
        let c = app.seed_loop().await;
        // 城管 closes two days late, 住建 the same morning.
        closed_by(&app, &c, c.garbage, c.cg_id, &c.cg, (3, 16)).await;
        closed_by(&app, &c, c.gas, c.zj_id, &c.zj, (1, 11)).await;
        let leader = app
            .user("city-leader", Role::Leader, Some("441500000000"))
            .await;
        let town = app
            .user("town-leader", Role::Leader, Some("441502001000"))
            .await;
        for (who, node) in [(&leader, "441500000000"), (&town, "441502001000")] {
            let v = app
                .get_json(
                    &format!("/api/v1/figures?node={node}&from=2026-12-01&to=2026-12-03"),
                    who,
                )
                .await;
            assert_eq!(
                ranking(&v),
                vec![(c.zj_id, Some(1.0)), (c.cg_id, Some(0.0))],
                "{node}: {v}"
            );
            let names: Vec<&str> = v["by_department"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["name"].as_str().unwrap())
                .collect();
            assert_eq!(names, vec!["城区住建局", "城区城管局"]);
        }
        // Only the chain: no department sits at the city or above it.
        let chain = app
            .get_json(
                "/api/v1/figures?node=441500000000&from=2026-12-01&to=2026-12-03&departments=chain",
                &leader,
            )
            .await;
        assert_eq!(chain["by_department"], json!([]));
        // Days that are not `YYYY-MM-DD` are refused, not read as some other range: signed and
        // five-digit years, and a day that does not exist. An early four-digit year is a day
        // like any other (nothing was counted then).
        for (from, to, field) in [
            ("-0021-01-01", "2026-12-03", "from"),
            ("-021-01-01", "2026-12-03", "from"),
            ("2026-12-01", "%2B12026-12-03", "to"),
            ("2026-02-30", "2026-12-03", "from"),
        ] {
            let r = app
                .get(
                    &format!("/api/v1/figures?node=441500000000&from={from}&to={to}"),
                    Some(&leader),
                )
                .await;
            let e =
                crate::helpers::assert_error(r, reqwest::StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(e["field"], field, "{from}..{to}: {e}");
        }
        let early = app
            .get_json(
                "/api/v1/figures?node=441500000000&from=0047-05-01&to=0047-05-29",
                &leader,
            )
            .await;
        assert_eq!(early["figures"]["counters"]["reported"], 0, "{early}");
    }
);
