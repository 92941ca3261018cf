//! Excel exports: the same rows and scope as the lists, Chinese headers, read back with calamine.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{Session, TestApp};

/// The sheets of an .xlsx answer: name → rows of cells as text.
pub async fn sheets(app: &TestApp, path: &str, who: &Session) -> Vec<(String, Vec<Vec<String>>)> {
    let r = app.get(path, Some(who)).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("an xlsx workbook");
    let names = wb.sheet_names().to_vec();
    names
        .into_iter()
        .map(|n| {
            let range = wb.worksheet_range(&n).unwrap();
            let rows = range
                .rows()
                .map(|row| {
                    row.iter()
                        .map(|c| match c {
                            Data::String(s) => s.clone(),
                            Data::Float(f) => f.to_string(),
                            Data::Int(i) => i.to_string(),
                            Data::Empty => String::new(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            (n, rows)
        })
        .collect()
}

fn ids(rows: &[Vec<String>]) -> Vec<String> {
    rows.iter().skip(1).map(|r| r[0].clone()).collect()
}

db_test!(
    the_event_export_holds_the_lists_rows_with_chinese_headers_and_names,
    |app| {
        let c = app.seed_loop().await;
        let a = app.report(&c.citizen, c.garbage).await;
        let b = app.report(&c.citizen, c.gas).await;
        app.act_ok(&c.dispatcher, b, "accept", json!({})).await;
        app.act_ok(
            &c.dispatcher,
            b,
            "dispatch",
            json!({"department_id": c.zj_id}),
        )
        .await;
        let book = sheets(&app, "/api/v1/events/export.xlsx", &c.dispatcher).await;
        assert_eq!(book.len(), 1);
        let (name, rows) = &book[0];
        assert_eq!(name, "事件");
        assert_eq!(
            &rows[0][..6],
            ["编号", "类别", "描述", "地点", "地址", "状态"]
        );
        assert_eq!(ids(rows), vec![b.to_string(), a.to_string()]);
        let row_b = &rows[1];
        assert_eq!(row_b[1], "燃气");
        assert_eq!(row_b[3], "立新社区 › 网格1");
        assert_eq!(row_b[5], "已派单");
        assert_eq!(row_b[8], "城区住建局");
        // The same filters as the list.
        let reported = sheets(
            &app,
            "/api/v1/events/export.xlsx?state=reported",
            &c.dispatcher,
        )
        .await;
        assert_eq!(ids(&reported[0].1), vec![a.to_string()]);
        let list: Value = app
            .get_json("/api/v1/events?state=reported", &c.dispatcher)
            .await;
        assert_eq!(list["items"][0]["id"], a);
        // The same scope: the other village's dispatcher exports none of these.
        let other = sheets(&app, "/api/v1/events/export.xlsx", &c.other_dispatcher).await;
        assert_eq!(other[0].1.len(), 1, "{other:?}");
        // Bad filters are refused as in the list.
        let r = app
            .get("/api/v1/events/export.xlsx?state=nope", Some(&c.dispatcher))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // The inbox export holds what waits: the report to accept.
        let inbox = sheets(&app, "/api/v1/inbox/export.xlsx", &c.dispatcher).await;
        assert_eq!(inbox[0].0, "待办");
        assert_eq!(ids(&inbox[0].1), vec![a.to_string()]);
    }
);

db_test!(
    the_figures_export_has_an_overview_and_the_department_ranking,
    |app| {
        let c = app.seed_loop().await;
        app.set_local(2026, 12, 1, 9, 0);
        let id = app.report(&c.citizen, c.gas).await;
        app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
        app.act_ok(
            &c.dispatcher,
            id,
            "dispatch",
            json!({"department_id": c.zj_id}),
        )
        .await;
        let book = sheets(
            &app,
            "/api/v1/figures/export.xlsx?node=441502001000&from=2026-12-01&to=2026-12-01",
            &c.town_dispatcher,
        )
        .await;
        let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["概况", "按类别", "部门排名", "下级区域"]);
        assert_eq!(book[0].1[1][0], "新港街道 2026-12-01 — 2026-12-01");
        assert_eq!(book[0].1[1][1], "1");
        assert_eq!(book[2].1[1][0], "城区住建局");
        let villages: Vec<&str> = book[3].1.iter().skip(1).map(|r| r[0].as_str()).collect();
        assert_eq!(villages, vec!["立新社区", "新港社区"]);
        // Out of scope: hidden as the figures are.
        let r = app
            .get(
                "/api/v1/figures/export.xlsx?node=441502001002",
                Some(&c.dispatcher),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
);
