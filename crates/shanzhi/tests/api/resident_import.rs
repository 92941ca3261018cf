//! Importing residents from spreadsheets (report by row, the two modes, GBK CSV, the template)
//! and exporting them (masked; revealed only with the permission, and audited).

use reqwest::StatusCode;
use serde_json::Value;
use shanzhi_domain::resident::id_number::complete;
use shanzhi_domain::user::Role;
use shanzhi_store::StoreError;

use crate::helpers::{assert_error, Session, TestApp};

const GRID: &str = "441502001001001";
const OTHER_VILLAGE_GRID: &str = "441502001002001";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A valid ID number born on `birth` (YYYYMMDD), sequence `seq` (odd: male).
fn id(birth: &str, seq: u32) -> String {
    complete(&format!("441502{birth}{seq:03}"))
}

/// Two tags of the care catalogue (until the catalogue is seeded by its migration).
async fn seed_tags(app: &TestApp) -> Result<(), StoreError> {
    shanzhi_store::with_tx!(&app.state.db, tx => {
        for (code, zh, en, days) in [("elderly_alone", "独居老人", "Elderly living alone", Some(30i64)), ("disabled", "残疾人", "Disabled", None)] {
            sqlx::query("INSERT INTO tag (code, name_zh, name_en, kind, visit_days, created_at, updated_at) \
                         VALUES ($1, $2, $3, 'care', $4, 0, 0) ON CONFLICT (code) DO NOTHING")
                .bind(code).bind(zh).bind(en).bind(days).execute(&mut *tx).await?;
        }
    });
    Ok(())
}

async fn setup(app: &TestApp) -> (Session, Session) {
    app.seed_town().await;
    seed_tags(app).await.unwrap();
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
    app.upload(
        &format!("/api/v1/residents/import?{query}"),
        who,
        body,
        media,
    )
    .await
}

const HEADER: &str =
    "姓名,公民身份号码,性别,联系电话,人口类型,所属网格代码,户号,与户主关系,楼栋,房号,标签\n";

fn bad_file(stored: &str) -> String {
    let good1 = id("19500101", 11);
    let good2 = id("19800202", 22);
    let mut bad_check = id("19800303", 33);
    let last = if bad_check.ends_with('0') { "1" } else { "0" };
    bad_check.replace_range(17.., last);
    format!(
        "{HEADER}\
         张一,{good1},,13800138000,户籍,{GRID},H1,户主,1栋,101,独居老人\n\
         王二,{good2},女,,流动,{GRID},H1,配偶,1栋,101,\n\
         李三,{bad_check},,,户籍,{GRID},,,,,\n\
         赵四,{},,,户籍,{GRID},,,,,\n\
         ,{},男,,户籍,{GRID},,,,,\n\
         钱五,{},,,户籍,441502001001009,,,,,\n\
         孙六,{},,,户籍,{OTHER_VILLAGE_GRID},,,,,\n\
         周七,{good1},,,户籍,{GRID},,,,,\n\
         吴八,{stored},,,户籍,{GRID},,,,,\n\
         郑九,{},,,户籍,{GRID},,,,,不存在的标签\n",
        complete("99150219800404004"),
        id("19900505", 55),
        id("19900606", 66),
        id("19900707", 77),
        id("19900808", 88),
    )
}

db_test!(
    the_import_report_names_each_bad_row_and_all_or_nothing_writes_nothing,
    |app| {
        let (worker, _) = setup(&app).await;
        let stored = id("19700909", 99);
        let first = format!("{HEADER}陈十,{stored},,,户籍,{GRID},,,,,\n");
        let r = upload(&app, &worker, "", first.into_bytes(), "text/csv").await;
        assert_eq!(r.status(), StatusCode::OK);
        let v = assert_error(
            upload(
                &app,
                &worker,
                "mode=all_or_nothing",
                bad_file(&stored).into_bytes(),
                "text/csv",
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["code"], "invalid_import");
        let errors = v["report"]["errors"].as_array().unwrap().clone();
        let seen: Vec<(u64, &str)> = errors
            .iter()
            .map(|e| (e["row"].as_u64().unwrap(), e["column"].as_str().unwrap()))
            .collect();
        let reason = |row: u64| -> String {
            errors
                .iter()
                .filter(|e| e["row"] == row)
                .map(|e| e["reason"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
                .join("; ")
        };
        assert_eq!(
            seen,
            [
                (4, "公民身份号码"),
                (5, "公民身份号码"),
                (6, "姓名"),
                (7, "所属网格代码"),
                (8, "所属网格代码"),
                (9, "公民身份号码"),
                (10, "公民身份号码"),
                (11, "标签"),
            ],
            "{errors:?}"
        );
        assert!(reason(4).contains("check digit"), "{}", reason(4));
        assert!(reason(5).contains("region code"), "{}", reason(5));
        assert!(reason(6).contains("name"), "{}", reason(6));
        assert!(reason(7).contains("no grid"), "{}", reason(7));
        assert!(reason(8).contains("outside your scope"), "{}", reason(8));
        assert!(reason(9).contains("row 2"), "{}", reason(9));
        assert!(reason(10).contains("register already"), "{}", reason(10));
        assert_eq!(v["report"]["refused"], 8);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM resident").await, 1);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM household").await, 0);
    }
);

db_test!(
    valid_rows_writes_the_good_rows_and_the_counts_match_the_tables,
    |app| {
        let (worker, _) = setup(&app).await;
        let r = upload(
            &app,
            &worker,
            "mode=valid_rows",
            bad_file(&id("19700909", 99)).into_bytes(),
            "text/csv; charset=utf-8",
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        // Rows 2 and 3 are good; row 9 repeats row 2's ID number; row 10's is not stored here.
        assert_eq!(v["residents"], 3, "{v}");
        assert_eq!(v["refused"], 7, "{v}");
        assert_eq!(v["households"], 1);
        assert_eq!(v["buildings"], 1);
        assert_eq!(v["houses"], 1);
        assert_eq!(v["tags"], 1);
        // The household's head is the row marked 户主; both share the house.
        let head: String = shanzhi_store::with_pool!(&app.state.db, pool => {
            sqlx::query_scalar("SELECT r.name FROM household h JOIN resident r ON r.id = h.head_resident_id").fetch_one(pool).await.unwrap()
        });
        assert_eq!(head, "张一");
        assert_eq!(
            app.scalar("SELECT COUNT(*) FROM resident WHERE house_id IS NOT NULL")
                .await,
            2
        );
        // The phone and the ID number are sealed: masked text only.
        let masks: (String, String) = shanzhi_store::with_pool!(&app.state.db, pool => {
            sqlx::query_as("SELECT id_mask, phone_mask FROM resident WHERE name = '张一'").fetch_one(pool).await.unwrap()
        });
        assert_eq!(masks.1, "138****8000");
        assert!(masks.0.contains("**********"));
        // Figures: the tally equals the tables, at the grid and at the town.
        for path in [GRID, "441502001"] {
            let at = |kind: &'static str| {
                let db = app.state.db.clone();
                let path = path.to_owned();
                async move { shanzhi_store::tally::at(&db, &path, kind).await.unwrap() }
            };
            assert_eq!(at("resident").await.get(""), Some(&3));
            assert_eq!(at("residence").await.get("floating"), Some(&1));
            assert_eq!(at("residence").await.get("registered"), Some(&2));
            assert_eq!(at("tag").await.get("elderly_alone"), Some(&1));
            assert_eq!(at("household").await.get(""), Some(&1));
            assert_eq!(at("building").await.get(""), Some(&1));
            assert_eq!(at("house").await.get("self_occupied"), Some(&1));
        }
        // The import adds its deltas in its own transaction: a full recount finds the same.
        let tally = || async {
            shanzhi_store::with_pool!(&app.state.db, pool => {
                sqlx::query_as::<_, (String, String, String, i64)>(
                    "SELECT node_path, kind, key, n FROM tally WHERE n <> 0 ORDER BY 1, 2, 3",
                )
                .fetch_all(pool)
                .await
                .unwrap()
            })
        };
        let written = tally().await;
        shanzhi_store::resident::bulk::recount(&app.state.db)
            .await
            .unwrap();
        assert_eq!(written, tally().await);
        assert!(!written.is_empty());
        // One audit row for the import, with the counts and no personal data.
        let rows = shanzhi_store::audit::list(
            &app.state.db,
            &shanzhi_store::audit::AuditFilter {
                action: Some("resident.import"),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
        assert_eq!(rows.len(), 1);
        let after = rows[0].after_json.clone().unwrap();
        assert!(after.contains("\"written\":3"), "{after}");
        assert!(!after.contains("13800138000"));
    }
);

db_test!(a_gbk_csv_from_chinese_excel_imports, |app| {
    let (worker, _) = setup(&app).await;
    let text = format!(
        "{HEADER}刘一,{},,,境外,{GRID},,,,,残疾人\n",
        id("19850101", 13)
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let r = upload(&app, &worker, "format=csv", gbk.into_owned(), "text/csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["residents"], 1, "{v}");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM resident WHERE name = '刘一' AND residence = 'overseas'")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM resident_tag WHERE tag_code = 'disabled'")
            .await,
        1
    );
});

db_test!(
    the_template_round_trips_and_the_export_masks_unless_revealed_with_a_purpose,
    |app| {
        let (worker, leader) = setup(&app).await;
        // The template's header, read back, is what the import reads.
        let r = app
            .get("/api/v1/residents/import/template", Some(&worker))
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
        assert_eq!(header.len(), 13);
        // Filled in as a clerk would (ID numbers typed as text), and imported.
        let number = id("19600101", 17);
        let phone = "13912345678";
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in header.iter().enumerate() {
            ws.write_string(0, c as u16, h).unwrap();
            let value = match h.as_str() {
                "姓名" => "黄一",
                "公民身份号码" => &number,
                "联系电话" => phone,
                "所属网格代码" => GRID,
                "人口类型" => "户籍",
                "标签" => "独居老人",
                _ => "",
            };
            if !value.is_empty() {
                ws.write_string(1, c as u16, value).unwrap();
            }
        }
        let filled = wb.save_to_buffer().unwrap();
        let r = upload(&app, &worker, "name=filled.xlsx", filled, XLSX).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["residents"], 1);

        // Export, masked by default.
        let r = app
            .get(
                &format!("/api/v1/residents/export?node={GRID}&format=csv"),
                Some(&worker),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let masked = r.text().await.unwrap();
        assert!(
            masked.contains("黄一") && masked.contains("139****5678"),
            "{masked}"
        );
        assert!(!masked.contains(&number) && !masked.contains(phone));
        // The leader reads, but may not reveal; nobody reveals without a purpose.
        let r = app
            .get(
                "/api/v1/residents/export?node=441502001000&reveal=true&purpose=x",
                Some(&leader),
            )
            .await;
        assert_error(r, StatusCode::FORBIDDEN).await;
        let r = app
            .get(
                &format!("/api/v1/residents/export?node={GRID}&reveal=true"),
                Some(&worker),
            )
            .await;
        assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        // Outside the worker's grid: not found.
        let r = app
            .get(
                &format!("/api/v1/residents/export?node={OTHER_VILLAGE_GRID}"),
                Some(&worker),
            )
            .await;
        assert_error(r, StatusCode::NOT_FOUND).await;
        let r = app
        .get(&format!("/api/v1/residents/export?node={GRID}&reveal=true&purpose=%E5%85%A5%E6%88%B7%E8%B5%B0%E8%AE%BF"), Some(&worker))
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let plain = r.bytes().await.unwrap().to_vec();
        // The revealed export is an .xlsx that imports again (its ID number is then a duplicate).
        let mut found = false;
        shanzhi::workbook::read_rows(&plain, 10, |_, cells| {
            found |= cells
                .iter()
                .any(|c| c.text().as_deref() == Some(number.as_str()));
            Ok::<_, shanzhi::workbook::WorkbookError>(())
        })
        .unwrap();
        assert!(found, "the revealed export holds the ID number");
        let v = assert_error(
            upload(&app, &worker, "", plain, XLSX).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(
            v["message"].as_str().unwrap().contains("register already"),
            "{v}"
        );
        // Both exports are audited: masked or not, with the purpose.
        let rows = shanzhi_store::audit::list(
            &app.state.db,
            &shanzhi_store::audit::AuditFilter {
                action: Some("resident.export"),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
        let after: Vec<String> = rows.iter().map(|r| r.after_json.clone().unwrap()).collect();
        assert_eq!(after.len(), 2, "{after:?}");
        assert!(
            after[0].contains("\"masked\":false") && after[0].contains("入户走访"),
            "{after:?}"
        );
        assert!(after[1].contains("\"masked\":true"), "{after:?}");
    }
);

db_test!(who_may_not_write_base_data_may_not_import, |app| {
    let (_, leader) = setup(&app).await;
    let text = format!("{HEADER}刘一,{},,,户籍,{GRID},,,,,\n", id("19850101", 13));
    let r = upload(&app, &leader, "", text.into_bytes(), "text/csv").await;
    assert_error(r, StatusCode::FORBIDDEN).await;
    let r = app
        .get("/api/v1/residents/import/template", Some(&leader))
        .await;
    assert_error(r, StatusCode::FORBIDDEN).await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM resident").await, 0);
});
