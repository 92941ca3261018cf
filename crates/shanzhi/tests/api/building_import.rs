//! Importing buildings and houses from spreadsheets: the template, a good CSV and a good
//! .xlsx read back through the building API, the report by row and column, the two modes,
//! buildings shared by rows and reused from the register, rooms once per building, counts,
//! audit, and the importer's scope.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, Session, TestApp};

const GRID: &str = "441502001001001";
const OTHER_VILLAGE_GRID: &str = "441502001002001";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

const HEADER: &str = "楼栋名称,所属网格代码,地址,经度,纬度,层数,房号,房屋用途,面积,业主姓名\n";

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
    app.upload(
        &format!("/api/v1/buildings/import?{query}"),
        who,
        body,
        media,
    )
    .await
}

/// 1栋 (6 floors) registered through the API before the import, with its room 101.
async fn register_one(app: &TestApp, worker: &Session) -> i64 {
    let r = app
        .post_json(
            "/api/v1/buildings",
            Some(worker),
            json!({"node_code": GRID, "name": "1栋", "floors": 6}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .post_json(
            "/api/v1/houses",
            Some(worker),
            json!({"building_id": id, "room": "101", "use": "self_occupied"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    id
}

/// The buildings the API lists at the grid, by name: (id, the building with its houses).
async fn buildings(app: &TestApp, who: &Session) -> Vec<(String, Value)> {
    let list = app
        .get_json(&format!("/api/v1/buildings?node={GRID}"), who)
        .await;
    let mut out = Vec::new();
    for b in list["items"].as_array().unwrap() {
        let id = b["id"].as_i64().unwrap();
        let full = app.get_json(&format!("/api/v1/buildings/{id}"), who).await;
        out.push((b["name"].as_str().unwrap().to_owned(), full));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The rooms of a building as the API shows it: (room, use, area, owner).
fn rooms(b: &Value) -> Vec<(String, String, Option<f64>, Option<String>)> {
    let mut out: Vec<_> = b["houses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["room"].as_str().unwrap().to_owned(),
                h["use"].as_str().unwrap().to_owned(),
                h["area"].as_f64(),
                h["owner_name"].as_str().map(str::to_owned),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

db_test!(
    a_good_csv_creates_buildings_and_houses_reuses_registered_ones_and_keeps_counts,
    |app| {
        let (worker, _) = setup(&app).await;
        let first = register_one(&app, &worker).await;
        // Rows 2–4 share 3栋 (the grid of row 4 is the import's), row 5 is a building without
        // houses, row 6 adds a room to the registered 1栋. English headers are read too.
        let file = format!(
            "building,grid,address,lon,lat,floors,room,use,area,owner\n\
             3栋,{GRID},幸福路3号,115.305,22.785,18,101,自住,89.5,张三\n\
             3栋,{GRID},幸福路3号,,,,102,出租,,\n\
             3栋,,,,,18,201,vacant,120平方米,\n\
             5栋,{GRID},,,,6,,,,\n\
             1栋,{GRID},,,,,102,商用,45,汕尾置业有限公司\n"
        );
        let r = upload(
            &app,
            &worker,
            &format!("node={GRID}&name=buildings.csv"),
            file.into_bytes(),
            "text/csv; charset=utf-8",
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["rows"], 5, "{v}");
        assert_eq!(v["refused"], 0, "{v}");
        assert_eq!(v["buildings"], 2, "{v}");
        assert_eq!(v["houses"], 4, "{v}");
        assert_eq!(v["written"], 6, "{v}");

        let all = buildings(&app, &worker).await;
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["1栋", "3栋", "5栋"]);
        let one = &all[0].1;
        assert_eq!(one["id"], first, "the registered 1栋 is reused");
        assert_eq!(one["floors"], 6);
        assert_eq!(
            rooms(one),
            [
                ("101".into(), "self_occupied".into(), None, None),
                (
                    "102".into(),
                    "commercial".into(),
                    Some(45.0),
                    Some("汕尾置业有限公司".into())
                ),
            ]
        );
        let three = &all[1].1;
        assert_eq!(three["node_code"], GRID);
        assert_eq!(three["address"], "幸福路3号");
        assert_eq!(three["floors"], 18);
        assert_eq!(three["lon"], 115.305);
        assert_eq!(three["lat"], 22.785);
        assert_eq!(
            rooms(three),
            [
                (
                    "101".into(),
                    "self_occupied".into(),
                    Some(89.5),
                    Some("张三".into())
                ),
                ("102".into(), "rented".into(), None, None),
                ("201".into(), "vacant".into(), Some(120.0), None),
            ]
        );
        let five = &all[2].1;
        assert_eq!(five["floors"], 6);
        assert!(rooms(five).is_empty());

        // The counts equal the tables, at the grid and at the town.
        for path in [GRID, "441502001"] {
            let b = shanzhi_store::tally::at(&app.state.db, path, "building")
                .await
                .unwrap();
            assert_eq!(b.get(""), Some(&3), "{path}");
            let h = shanzhi_store::tally::at(&app.state.db, path, "house")
                .await
                .unwrap();
            assert_eq!(h.get("self_occupied"), Some(&2), "{path}");
            assert_eq!(h.get("rented"), Some(&1), "{path}");
            assert_eq!(h.get("vacant"), Some(&1), "{path}");
            assert_eq!(h.get("commercial"), Some(&1), "{path}");
        }
        // One audit row for the import, with its counts.
        let audit = shanzhi_store::audit::list(
            &app.state.db,
            &shanzhi_store::audit::AuditFilter {
                action: Some("building.import"),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
        assert_eq!(audit.len(), 1);
        let after = audit[0].after_json.clone().unwrap();
        assert!(after.contains("\"written\":6"), "{after}");
        assert!(after.contains("buildings.csv"), "{after}");
    }
);

/// Rows 2 and 3 are good (one building, two rooms); every other row has one thing wrong.
fn file() -> String {
    format!(
        "{HEADER}\
         3栋,{GRID},,,,18,101,自住,,\n\
         3栋,{GRID},幸福路3号,,,,102,出租,,\n\
         9栋,441502001001009,,,,,,,,\n\
         邻村楼,{OTHER_VILLAGE_GRID},,,,,,,,\n\
         6栋,{GRID},,,,三十,,,,\n\
         6栋,{GRID},,,,300,,,,\n\
         3栋,{GRID},,,,,103,,,\n\
         3栋,{GRID},,,,,101,出租,,\n\
         1栋,{GRID},,,,,101,自住,,\n\
         3栋,{GRID},,,,20,104,自住,,\n\
         3栋,{GRID},,,,,105,酒店,,\n\
         7栋,{GRID},,,,,,自住,,\n\
         1栋,{GRID},,,,9,,,,\n\
         8栋,{GRID},,115.3,,,,,,\n\
         3栋,{GRID},,,,,106,自住,0,\n\
         ,{GRID},,,,,,,,\n"
    )
}

db_test!(
    the_building_import_report_names_each_bad_row_and_all_or_nothing_writes_nothing,
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
        let seen: Vec<(u64, &str, &str)> = errors
            .iter()
            .map(|e| {
                (
                    e["row"].as_u64().unwrap(),
                    e["column"].as_str().unwrap(),
                    e["reason_key"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (4, "所属网格代码", "no_node"),
                (5, "所属网格代码", "outside_scope"),
                (6, "层数", "floors_word"),
                (7, "层数", "range"),
                (8, "房屋用途", "house_use_missing"),
                (9, "房号", "room_on_row"),
                (10, "房号", "room_registered"),
                (11, "层数", "building_on_row"),
                (12, "房屋用途", "house_use"),
                (13, "房号", "house_needs_room"),
                (14, "层数", "building_registered_differs"),
                (15, "纬度", "lat_with_lon"),
                (16, "面积", "area_range"),
                (17, "楼栋名称", "name_missing"),
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
        assert!(reason(4).contains("no grid"), "{}", reason(4));
        assert!(reason(5).contains("outside your scope"), "{}", reason(5));
        assert!(reason(7).contains("between 1 and 200"), "{}", reason(7));
        assert_eq!(reason(9), "101 of 3栋 is on row 2");
        assert_eq!(reason(10), "101 of 1栋 is registered already");
        assert_eq!(reason(11), "the building 3栋 has another value on row 2");
        assert!(reason(12).contains("酒店"), "{}", reason(12));
        let params = |row: u64| {
            errors
                .iter()
                .find(|e| e["row"] == row)
                .unwrap()
                .get("params")
                .cloned()
                .unwrap()
        };
        assert_eq!(
            params(9),
            json!({"room": "101", "building": "3栋", "row": "2"})
        );
        assert_eq!(v["report"]["refused"], 14);
        assert_eq!(v["report"]["rows"], 16);
        // Nothing was written: only what the API registered before.
        assert_eq!(app.scalar("SELECT COUNT(*) FROM building").await, 1);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM house").await, 1);
        assert_eq!(
            app.scalar("SELECT COUNT(*) FROM audit WHERE action = 'building.import'")
                .await,
            0
        );
    }
);

db_test!(
    valid_rows_writes_the_good_buildings_and_houses_only,
    |app| {
        let (worker, _) = setup(&app).await;
        register_one(&app, &worker).await;
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
        assert_eq!(v["refused"], 14, "{v}");
        assert_eq!(v["errors_total"], 14, "{v}");
        assert_eq!(v["buildings"], 1, "{v}");
        assert_eq!(v["houses"], 2, "{v}");
        let all = buildings(&app, &worker).await;
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["1栋", "3栋"]);
        assert_eq!(rooms(&all[0].1).len(), 1, "1栋 keeps its one room");
        let three = &all[1].1;
        // The columns the good rows gave: floors from row 2, the address from row 3.
        assert_eq!(three["floors"], 18);
        assert_eq!(three["address"], "幸福路3号");
        assert_eq!(
            rooms(three),
            [
                ("101".into(), "self_occupied".into(), None, None),
                ("102".into(), "rented".into(), None, None),
            ]
        );
        // Imported again: the rooms are registered now, so nothing doubles.
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
        assert_eq!(app.scalar("SELECT COUNT(*) FROM building").await, 2);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM house").await, 3);
    }
);

db_test!(
    the_template_downloads_as_xlsx_and_filled_in_excel_imports,
    |app| {
        let (worker, leader) = setup(&app).await;
        let r = app
            .get("/api/v1/buildings/import/template", Some(&worker))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], XLSX);
        let disposition = r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            disposition.contains("buildings-template.xlsx"),
            "{disposition}"
        );
        let template = r.bytes().await.unwrap().to_vec();
        assert!(template.starts_with(b"PK"), "an .xlsx is a zip");
        let mut header: Vec<String> = Vec::new();
        shanzhi::workbook::read_rows(&template, 10, |n, cells| {
            if n == 1 {
                header = cells.iter().filter_map(|c| c.text()).collect();
            }
            Ok::<_, shanzhi::workbook::WorkbookError>(())
        })
        .unwrap();
        assert_eq!(
            header,
            [
                "楼栋名称",
                "所属网格代码",
                "地址",
                "经度",
                "纬度",
                "层数",
                "房号",
                "房屋用途",
                "面积",
                "业主姓名"
            ]
        );
        // Filled in as a clerk would: the grid code, floors, rooms and areas typed as numbers.
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in header.iter().enumerate() {
            ws.write_string(0, c as u16, h).unwrap();
        }
        let col = |name: &str| header.iter().position(|h| h == name).unwrap() as u16;
        for (row, room, use_word) in [(1, 301.0, "自住"), (2, 302.0, "空置")] {
            ws.write_string(row, col("楼栋名称"), "幸福里12号楼")
                .unwrap();
            ws.write_number(row, col("所属网格代码"), 441502001001001.0)
                .unwrap();
            ws.write_number(row, col("层数"), 11.0).unwrap();
            ws.write_number(row, col("房号"), room).unwrap();
            ws.write_string(row, col("房屋用途"), use_word).unwrap();
            ws.write_number(row, col("面积"), 76.5).unwrap();
        }
        let bytes = wb.save_to_buffer().unwrap();
        let r = upload(&app, &worker, "", bytes, XLSX).await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            (v["buildings"].clone(), v["houses"].clone()),
            (json!(1), json!(2)),
            "{v}"
        );
        let all = buildings(&app, &worker).await;
        assert_eq!(all.len(), 1);
        let (name, b) = &all[0];
        assert_eq!(name, "幸福里12号楼");
        assert_eq!(b["floors"], 11);
        assert_eq!(
            rooms(b),
            [
                ("301".into(), "self_occupied".into(), Some(76.5), None),
                ("302".into(), "vacant".into(), Some(76.5), None),
            ]
        );
        // Leaders read buildings but do not write them: no template, no import.
        let r = app
            .get("/api/v1/buildings/import/template", Some(&leader))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_error(
            upload(&app, &leader, "", HEADER.as_bytes().to_vec(), "text/csv").await,
            StatusCode::FORBIDDEN,
        )
        .await;
        // A file whose header names no building column is refused as a whole.
        let v = assert_error(
            upload(&app, &worker, "", b"foo,bar\n1,2\n".to_vec(), "text/csv").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["field"], "header");
    }
);

db_test!(
    a_grid_worker_cannot_import_buildings_into_another_grid,
    |app| {
        let (worker, _) = setup(&app).await;
        let file = format!("{HEADER}邻村楼,,,,,,101,自住,,\n");
        // The import's grid outside the worker's: not found, as every record out of scope.
        assert_error(
            upload(
                &app,
                &worker,
                &format!("node={OTHER_VILLAGE_GRID}"),
                file.clone().into_bytes(),
                "text/csv",
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        // A row naming it is refused, even when the good rows are kept.
        let file = format!("{HEADER}邻村楼,{OTHER_VILLAGE_GRID},,,,,101,自住,,\n");
        let r = upload(
            &app,
            &worker,
            "mode=valid_rows",
            file.into_bytes(),
            "text/csv",
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["refused"], 1, "{v}");
        assert_eq!(v["errors"][0]["reason_key"], "outside_scope", "{v}");
        assert_eq!(app.scalar("SELECT COUNT(*) FROM building").await, 0);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM house").await, 0);
    }
);

db_test!(
    an_import_beside_buildings_added_by_hand_never_deadlocks,
    |app| {
        // An import and a building added by hand count in the same tally rows (the grid's and
        // every ancestor's), and both write an audit row. PostgreSQL answered an import that
        // took the audit head before the tally with "deadlock detected", a 500: now every
        // transaction takes the tally first.
        let (worker, _) = setup(&app).await;
        let imports = async {
            for i in 0..20 {
                let file = format!(
                    "building,grid,address,lon,lat,floors,room,use,area,owner\n\
                     I{i}a,{GRID},,,,6,,,,\n\
                     I{i}b,{GRID},,,,6,,,,\n"
                );
                let r = upload(
                    &app,
                    &worker,
                    &format!("node={GRID}&name=b.csv"),
                    file.into_bytes(),
                    "text/csv; charset=utf-8",
                )
                .await;
                let status = r.status();
                assert_eq!(
                    status,
                    StatusCode::OK,
                    "import {i}: {}",
                    r.text().await.unwrap()
                );
            }
        };
        let by_hand = |w: usize| {
            let (app, worker) = (&app, &worker);
            async move {
                for i in 0..40 {
                    let r = app
                        .post_json(
                            "/api/v1/buildings",
                            Some(worker),
                            json!({"node_code": GRID, "name": format!("H{w}-{i}"), "floors": 3}),
                        )
                        .await;
                    let status = r.status();
                    assert_eq!(
                        status,
                        StatusCode::CREATED,
                        "building {w}-{i}: {}",
                        r.text().await.unwrap()
                    );
                }
            }
        };
        tokio::join!(imports, by_hand(1), by_hand(2));
    }
);
