//! Importing places from spreadsheets: the report by row, the two modes, dates typed as text
//! and as Excel dates, the next check from the last one, counts, audit and the template.

use reqwest::StatusCode;
use serde_json::Value;
use shanzhi_domain::place::{CheckResult, PlaceKind};
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, Session, TestApp};

const GRID: &str = "441502001001001";
const OTHER_VILLAGE_GRID: &str = "441502001002001";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn setup(app: &TestApp) -> (Session, Session) {
    app.seed_town().await;
    let worker = app.user("grid_worker", Role::GridWorker, Some(GRID)).await;
    let leader = app
        .user("town_leader", Role::Leader, Some("441502000000"))
        .await;
    (worker, leader)
}

async fn upload(
    app: &TestApp,
    who: &Session,
    query: &str,
    body: Vec<u8>,
    media: &str,
) -> reqwest::Response {
    app.upload(&format!("/api/v1/places/import?{query}"), who, body, media)
        .await
}

const HEADER: &str =
    "场所名称,场所类型,所属网格代码,地址,经度,纬度,营业执照号,执照有效期至,上次安全检查日期,检查结果\n";

/// Rows 2 and 3 are good; every other row has one thing wrong.
fn file() -> String {
    format!(
        "{HEADER}\
         老街便利店,小商店,{GRID},老街1号,115.37,22.79,JY001,2027-06-30,2026/11/10,合格\n\
         星光网吧,网吧,{GRID},,,,,,2026年11月1日,发现隐患\n\
         ,小餐饮,{GRID},,,,,,,\n\
         酒吧一号,酒吧,{GRID},,,,,,,\n\
         无名小店,小商店,441502001001009,,,,,,,\n\
         邻村小店,小商店,{OTHER_VILLAGE_GRID},,,,,,,\n\
         只有经度,小商店,{GRID},,115.37,,,,,\n\
         执照无号,小商店,{GRID},,,,,2027-01-01,,\n\
         日期错误,小商店,{GRID},,,,,,2026-13-01,合格\n\
         明天检查,小商店,{GRID},,,,,,2099-01-01,合格\n\
         只有结果,小商店,{GRID},,,,,,,合格\n\
         老街便利店,小商店,{GRID},,,,,,,\n\
         已登记店,小商店,{GRID},,,,,,,\n"
    )
}

/// One place registered through the API before the import.
async fn register_one(app: &TestApp, worker: &Session) {
    let r = app
        .post_json(
            "/api/v1/places",
            Some(worker),
            serde_json::json!({"node_code": GRID, "kind": "small_shop", "name": "已登记店"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

db_test!(
    the_place_import_report_names_each_bad_row_and_all_or_nothing_writes_nothing,
    |app| {
        let (worker, _) = setup(&app).await;
        register_one(&app, &worker).await;
        let v = assert_error(
            upload(&app, &worker, "", file().into_bytes(), "text/csv").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["code"], "invalid_import");
        let errors = v["report"]["errors"].as_array().unwrap().clone();
        let seen: Vec<(u64, &str)> = errors
            .iter()
            .map(|e| (e["row"].as_u64().unwrap(), e["column"].as_str().unwrap()))
            .collect();
        assert_eq!(
            seen,
            [
                (4, "场所名称"),
                (5, "场所类型"),
                (6, "所属网格代码"),
                (7, "所属网格代码"),
                (8, "纬度"),
                (9, "营业执照号"),
                (10, "上次安全检查日期"),
                (11, "上次安全检查日期"),
                (12, "上次安全检查日期"),
                (13, "场所名称"),
                (14, "场所名称"),
            ],
            "{errors:?}"
        );
        let reason = |row: u64| -> String {
            errors
                .iter()
                .filter(|e| e["row"] == row)
                .map(|e| e["reason"].as_str().unwrap().to_owned())
                .collect()
        };
        assert!(reason(5).contains("not a kind of place"), "{}", reason(5));
        // Each reason comes with its stable key and values, for the page to say it in Chinese.
        let keyed = |row: u64| {
            let e = errors.iter().find(|e| e["row"] == row).unwrap();
            (
                e["reason_key"].as_str().unwrap().to_owned(),
                e["params"].clone(),
            )
        };
        assert_eq!(
            keyed(5),
            ("place_kind".to_owned(), serde_json::json!({"word": "酒吧"}))
        );
        assert_eq!(keyed(7).0, "outside_scope");
        assert_eq!(keyed(13).0, "name_on_row");
        assert!(reason(6).contains("no grid"), "{}", reason(6));
        assert!(reason(7).contains("outside your scope"), "{}", reason(7));
        assert!(reason(10).contains("not a date"), "{}", reason(10));
        assert!(reason(11).contains("after today"), "{}", reason(11));
        assert!(reason(13).contains("row 2"), "{}", reason(13));
        assert!(reason(14).contains("registered"), "{}", reason(14));
        assert_eq!(v["report"]["refused"], 11);
        assert_eq!(v["report"]["rows"], 13);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM place").await, 1);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM place_check").await, 0);
    }
);

db_test!(
    valid_rows_writes_the_good_places_with_their_checks_counts_and_audit,
    |app| {
        let (worker, _) = setup(&app).await;
        register_one(&app, &worker).await;
        let r = upload(
            &app,
            &worker,
            "mode=valid_rows&name=places.csv",
            file().into_bytes(),
            "text/csv; charset=utf-8",
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["written"], 2, "{v}");
        assert_eq!(v["refused"], 11, "{v}");
        // The next check follows the kind and the last check, as a check recorded would.
        let rows: Vec<(
            String,
            Option<String>,
            Option<f64>,
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
        )> = shanzhi_store::with_pool!(&app.state.db, pool => {
            sqlx::query_as(
                "SELECT name, address, lon, next_check_at, last_check_at, last_result, licence_expires \
                 FROM place WHERE name <> '已登记店' ORDER BY name",
            )
            .fetch_all(pool)
            .await
            .unwrap()
        });
        assert_eq!(rows.len(), 2);
        let shop = rows.iter().find(|r| r.0 == "老街便利店").unwrap();
        assert_eq!(shop.1.as_deref(), Some("老街1号"));
        assert_eq!(shop.2, Some(115.37));
        assert_eq!(shop.6.as_deref(), Some("2027-06-30"));
        assert_eq!(shop.5.as_deref(), Some("passed"));
        let at = shop.4.unwrap();
        assert_eq!(
            shanzhi_domain::calendar::local_date(at).to_string(),
            "2026-11-10"
        );
        assert_eq!(
            shop.3,
            PlaceKind::SmallShop.next_check_at(CheckResult::Passed, at)
        );
        let cafe = rows.iter().find(|r| r.0 == "星光网吧").unwrap();
        assert_eq!(cafe.5.as_deref(), Some("hazards_found"));
        assert_eq!(
            cafe.3,
            PlaceKind::SmallInternetCafe.next_check_at(CheckResult::HazardsFound, cafe.4.unwrap())
        );
        // Each last check is in the place's check history.
        assert_eq!(app.scalar("SELECT COUNT(*) FROM place_check").await, 2);
        // The counts equal the table, at the grid and at the town.
        for path in [GRID, "441502001"] {
            let tally = shanzhi_store::tally::at(&app.state.db, path, "place")
                .await
                .unwrap();
            assert_eq!(tally.get("small_shop"), Some(&2), "{path}");
            assert_eq!(tally.get("small_internet_cafe"), Some(&1), "{path}");
        }
        // One audit row for the import, with its counts.
        let audit = shanzhi_store::audit::list(
            &app.state.db,
            &shanzhi_store::audit::AuditFilter {
                action: Some("place.import"),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
        assert_eq!(audit.len(), 1);
        let after = audit[0].after_json.clone().unwrap();
        assert!(after.contains("\"written\":2"), "{after}");
        assert!(after.contains("places.csv"), "{after}");
        // Imported again: every row is refused (the names are registered), nothing doubles.
        let r = upload(
            &app,
            &worker,
            "mode=valid_rows",
            file().into_bytes(),
            "text/csv",
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["written"], 0, "{v}");
        assert_eq!(app.scalar("SELECT COUNT(*) FROM place").await, 3);
    }
);

db_test!(
    the_template_filled_in_excel_with_date_cells_imports_and_only_writers_get_it,
    |app| {
        let (worker, leader) = setup(&app).await;
        let r = app
            .get("/api/v1/places/import/template", Some(&worker))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let template = r.bytes().await.unwrap().to_vec();
        let mut header: Vec<String> = Vec::new();
        shanzhi::workbook::read_rows(&template, 10, |n, cells| {
            if n == 1 {
                header = cells.iter().filter_map(|c| c.text()).collect();
            }
            Ok::<_, shanzhi::workbook::WorkbookError>(())
        })
        .unwrap();
        assert_eq!(header.len(), 10);
        // Filled in as a clerk would: the grid code typed as a number, dates as Excel dates.
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in header.iter().enumerate() {
            ws.write_string(0, c as u16, h).unwrap();
        }
        let day = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        let col = |name: &str| header.iter().position(|h| h == name).unwrap() as u16;
        ws.write_string(1, col("场所名称"), "实验幼儿园").unwrap();
        ws.write_string(1, col("场所类型"), "小学校/幼儿园")
            .unwrap();
        ws.write_number(1, col("所属网格代码"), 441502001001001.0)
            .unwrap();
        ws.write_string(1, col("营业执照号"), "JY0099").unwrap();
        // 2027-12-31 and 2026-10-08 as Excel's serial days.
        ws.write_number_with_format(1, col("执照有效期至"), 46752.0, &day)
            .unwrap();
        ws.write_number_with_format(1, col("上次安全检查日期"), 46303.0, &day)
            .unwrap();
        ws.write_string(1, col("检查结果"), "不合格").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let r = upload(&app, &worker, "", bytes, XLSX).await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["written"], 1, "{v}");
        let (expires, result, last): (String, String, i64) = shanzhi_store::with_pool!(&app.state.db, pool => {
            sqlx::query_as("SELECT licence_expires, last_result, last_check_at FROM place WHERE name = '实验幼儿园'")
                .fetch_one(pool).await.unwrap()
        });
        assert_eq!(expires, "2027-12-31");
        assert_eq!(result, "failed");
        assert_eq!(
            shanzhi_domain::calendar::local_date(last).to_string(),
            "2026-10-08"
        );
        // Leaders read places but do not write them: no template, no import.
        let r = app
            .get("/api/v1/places/import/template", Some(&leader))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_error(
            upload(&app, &leader, "", HEADER.as_bytes().to_vec(), "text/csv").await,
            StatusCode::FORBIDDEN,
        )
        .await;
        // A file whose header names no place column is refused as a whole.
        let v = assert_error(
            upload(&app, &worker, "", b"foo,bar\n1,2\n".to_vec(), "text/csv").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["field"], "header");
    }
);
