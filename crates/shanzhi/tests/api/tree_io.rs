//! The tree in and out of files: exports that load into an empty database, the template, and
//! spreadsheets (CSV, .xlsx) refused row by row. Command-line tests run the built binary.

use std::path::{Path, PathBuf};
use std::process::Output;

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, fresh_database, grid, rect, region, Session, TestApp};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sheet")
        .join(name)
}

/// Runs `shanzhi --database-url URL ARGS…` and returns what it did.
fn shanzhi(database_url: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_shanzhi"))
        .arg("--database-url")
        .arg(database_url)
        .args(args)
        .env("RUST_LOG", "info")
        // Never a key file in the working directory (PostgreSQL URLs have no file to sit beside).
        .env(
            "SHANZHI_PII_KEY_FILE",
            std::env::temp_dir().join(format!("shanzhi-tree-io-{}.pii-keys", std::process::id())),
        )
        .output()
        .expect("run shanzhi")
}

fn succeeded(out: &Output) -> &[u8] {
    assert!(
        out.status.success(),
        "shanzhi failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    &out.stdout
}

/// A county with outlines from the city down, two villages and three grids (one with a hole).
async fn seed_outlined_county(app: &TestApp) {
    let mut holed = rect(115.32, 22.78, 115.34, 22.79);
    holed["coordinates"].as_array_mut().unwrap().push(json!([
        [115.325, 22.783],
        [115.326, 22.783],
        [115.326, 22.784],
        [115.325, 22.784],
        [115.325, 22.783]
    ]));
    let features = vec![
        region("440000000000", "广东省", None),
        region(
            "441500000000",
            "汕尾市",
            Some(rect(115.0, 22.5, 115.8, 23.2)),
        ),
        region("441502000000", "城区", Some(rect(115.2, 22.7, 115.5, 22.9))),
        region(
            "441502001000",
            "新港街道",
            Some(rect(115.29, 22.77, 115.35, 22.80)),
        ),
        region(
            "441502001001",
            "立新社区",
            Some(rect(115.30, 22.78, 115.32, 22.79)),
        ),
        region(
            "441502001002",
            "新港社区",
            Some(rect(115.32, 22.78, 115.34, 22.79)),
        ),
        grid(
            "441502001001001",
            "网格1",
            rect(115.30, 22.78, 115.31, 22.79),
        ),
        grid(
            "441502001001002",
            "网格2",
            rect(115.31, 22.78, 115.32, 22.79),
        ),
        grid("441502001002001", "有洞的网格", holed),
    ];
    app.import_as_operator(json!({"type": "FeatureCollection", "features": features}))
        .await;
}

fn codes(export: &Value) -> Vec<&str> {
    export["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["properties"]["code"].as_str().expect("code"))
        .collect()
}

db_test!(
    an_export_loads_into_an_empty_database_and_exports_the_same_bytes,
    |app| {
        seed_outlined_county(&app).await;
        let first = shanzhi(&app.database_url, &["tree", "export", "441502001000"]);
        let first = succeeded(&first).to_vec();
        // Standard output is the file and nothing else: no log line before it.
        let fc: Value = serde_json::from_slice(&first).expect("the export is JSON");
        assert_eq!(
            codes(&fc),
            vec![
                "440000000000",
                "441500000000",
                "441502000000",
                "441502001000",
                "441502001001",
                "441502001001001",
                "441502001001002",
                "441502001002",
                "441502001002001"
            ]
        );
        assert_eq!(
            fc["features"][1]["geometry"]["coordinates"][0][0],
            json!([115.0, 22.5]),
            "ancestors carry their outlines"
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("export.geojson");
        std::fs::write(&file, &first).unwrap();
        let empty = fresh_database(app.engine, dir.path()).await;
        let out = shanzhi(&empty, &["tree", "import", file.to_str().unwrap()]);
        assert_eq!(
            String::from_utf8_lossy(succeeded(&out)),
            "imported 9 regions and grids (9 new, 0 changed, 0 unchanged; positions read as wgs84)\n"
        );
        let second = shanzhi(&empty, &["tree", "export", "441502001000"]);
        assert!(
            succeeded(&second) == first.as_slice(),
            "export → empty database → import → export changed the bytes:\n{}\n---\n{}",
            String::from_utf8_lossy(&first),
            String::from_utf8_lossy(&second.stdout)
        );
    }
);

db_test!(exporting_a_code_that_is_not_stored_fails_plainly, |app| {
    seed_outlined_county(&app).await;
    let out = shanzhi(&app.database_url, &["tree", "export", "441502009000"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing on standard output");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no node 441502009000"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
});

db_test!(
    the_api_export_shows_ancestors_but_their_outlines_only_inside_the_callers_area,
    |app| {
        seed_outlined_county(&app).await;
        let admin = app.user("admin", Role::Admin, Some("441502000000")).await;
        let r = app
            .get("/api/v1/tree/export?root=441502001001", Some(&admin))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/geo+json");
        let fc: Value = r.json().await.unwrap();
        assert_eq!(
            &codes(&fc)[..5],
            &[
                "440000000000",
                "441500000000",
                "441502000000",
                "441502001000",
                "441502001001"
            ]
        );
        let f = &fc["features"];
        assert_eq!(f[1]["properties"]["name"], "汕尾市");
        assert!(
            f[1]["geometry"].is_null(),
            "the city's outline is outside the caller's county"
        );
        assert!(
            f[2]["geometry"].is_object(),
            "the county is the caller's own"
        );
        assert!(f[3]["geometry"].is_object());
        // The same bytes as the command line's export, where every outline is shown but the city's.
        let out = shanzhi(&app.database_url, &["tree", "export", "441502001001"]);
        let cli: Value = serde_json::from_slice(succeeded(&out)).unwrap();
        assert!(cli["features"][1]["geometry"].is_object());
        assert_eq!(
            cli["features"].as_array().unwrap()[2..],
            fc["features"].as_array().unwrap()[2..]
        );
    }
);

db_test!(the_template_imports_into_an_empty_database, |app| {
    let dir = tempfile::tempdir().unwrap();
    for (format, file) in [("geojson", "t.geojson"), ("csv", "t.csv")] {
        let out = shanzhi(&app.database_url, &["tree", "template", "--format", format]);
        let path = dir.path().join(file);
        std::fs::write(&path, succeeded(&out)).unwrap();
        std::fs::create_dir_all(dir.path().join(format)).unwrap();
        let empty = fresh_database(app.engine, &dir.path().join(format)).await;
        let done = shanzhi(&empty, &["tree", "import", path.to_str().unwrap()]);
        assert_eq!(
            String::from_utf8_lossy(succeeded(&done)),
            "imported 7 regions and grids (7 new, 0 changed, 0 unchanged; positions read as wgs84)\n",
            "{format}"
        );
        if format == "geojson" {
            // The template is written as the export writes: it comes back byte for byte.
            let back = shanzhi(&empty, &["tree", "export", "440000000000"]);
            assert_eq!(
                String::from_utf8_lossy(succeeded(&back)),
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
});

async fn post_body(
    app: &TestApp,
    who: &Session,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/tree/import", app.url))
        .bearer_auth(&who.token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request")
}

/// A province stored, and its administrator.
async fn province_admin(app: &TestApp) -> Session {
    app.import_as_operator(
        json!({"type": "FeatureCollection", "features": [region("440000000000", "广东省", None)]}),
    )
    .await;
    app.user("admin", Role::Admin, Some("440000000000")).await
}

db_test!(
    a_csv_body_imports_with_chinese_headers_and_names_the_columns_it_ignored,
    |app| {
        let admin = province_admin(&app).await;
        let csv = "\u{feff}代码,名称,级别,上级代码,网格员\r\n\
                   441500000000,汕尾市,市,440000000000,\r\n\
                   441502000000,城区,县（区）,,\r\n\
                   441502001000,新港街道,街道,,张三\r\n";
        let r = post_body(&app, &admin, "text/csv; charset=utf-8", csv.into()).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["imported"], 3);
        assert_eq!(v["ignored_columns"], json!(["网格员"]));
        let town =
            shanzhi_store::node::get(&app.state.db, &NodeCode::parse("441502001000").unwrap())
                .await
                .unwrap();
        assert_eq!(town.name, "新港街道");
        assert!(town.shape.is_none());
    }
);

db_test!(a_bad_spreadsheet_is_refused_row_by_row, |app| {
    let admin = province_admin(&app).await;
    // CSV: every row the import refuses, named by the spreadsheet's row numbers.
    let body = std::fs::read(fixture("bad.csv")).unwrap();
    let before = app.node_count().await;
    let v = assert_error(
        post_body(&app, &admin, "text/csv", body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["code"], "invalid_import");
    let rows: Vec<(u64, &str)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        vec![(2, "code"), (3, "code"), (4, "level"), (5, "parent")]
    );
    let message = v["message"].as_str().unwrap();
    assert!(
        message
            .starts_with("4 row(s) refused, nothing was written; first: row 2 (code 440000000000)"),
        "{message}"
    );
    assert_eq!(v["field"], "rows[2].code");
    assert_eq!(app.node_count().await, before, "nothing written");

    // .xlsx: a code stored as a number past Excel's 15 digits is refused before anything else.
    let body = std::fs::read(fixture("bad.xlsx")).unwrap();
    let v = assert_error(
        post_body(&app, &admin, XLSX, body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["errors"][0]["row"], 3);
    assert_eq!(v["errors"][0]["code"], "4415020010010010");
    assert!(
        v["message"].as_str().unwrap().contains(
            "row 3 (code 4415020010010010): the code is stored as a number of more than 15 digits"
        ),
        "{v}"
    );

    // Not a workbook, not a header: refused whole, 4xx JSON.
    let v = assert_error(
        post_body(&app, &admin, XLSX, b"not a zip".to_vec()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "body");
    let v = assert_error(
        post_body(
            &app,
            &admin,
            "text/csv",
            "名字,网格员\n广东省,张三\n".into(),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["field"], "header");
    assert_eq!(app.node_count().await, before, "nothing written");
});

db_test!(
    a_grid_plan_from_excel_imports_with_numeric_codes_intact_and_takes_its_shapes_later,
    |app| {
        let good = fixture("good.xlsx");
        let out = shanzhi(
            &app.database_url,
            &["tree", "import", good.to_str().unwrap()],
        );
        assert_eq!(
            String::from_utf8_lossy(succeeded(&out)),
            "imported 7 regions and grids (7 new, 0 changed, 0 unchanged; positions read as wgs84)\ncolumns not read: 网格员\n"
        );
        // Codes typed as numbers (one kept by Excel as 4.41502001001002E+14) keep their digits.
        for code in ["441502001001001", "441502001001002"] {
            let n = shanzhi_store::node::get(&app.state.db, &NodeCode::parse(code).unwrap())
                .await
                .unwrap_or_else(|e| panic!("{code} not stored: {e:?}"));
            assert!(n.shape.is_none());
        }
        // The shapes, drawn later, come from GeoJSON in update mode; a dry run lists them first.
        let dir = tempfile::tempdir().unwrap();
        let shapes = dir.path().join("shapes.geojson");
        let feature = |code: &str, name: &str, level: &str, g: Value| json!({"type": "Feature", "properties": {"code": code, "name": name, "level": level}, "geometry": g});
        let fc = json!({"type": "FeatureCollection", "features": [
            feature("441502001001", "立新社区", "village", rect(115.30, 22.78, 115.32, 22.79)),
            feature("441502001001001", "立新社区第一网格", "small", rect(115.30, 22.78, 115.31, 22.79)),
            feature("441502001001002", "立新社区第二网格", "small", rect(115.31, 22.78, 115.32, 22.79)),
        ]});
        std::fs::write(&shapes, fc.to_string()).unwrap();
        let path = shapes.to_str().unwrap();
        let out = shanzhi(
            &app.database_url,
            &[
                "tree",
                "import",
                "--update",
                "--dry-run",
                "--crs",
                "gcj02",
                path,
            ],
        );
        let said = String::from_utf8_lossy(succeeded(&out)).into_owned();
        assert!(
            said.starts_with("would import 3 regions and grids (0 new, 3 changed, 0 unchanged; positions read as gcj02)\n"),
            "{said}"
        );
        assert!(
            said.contains("\n  update 441502001001002: name unchanged, shape\n"),
            "{said}"
        );
        let grid = NodeCode::parse("441502001001002").unwrap();
        let n = shanzhi_store::node::get(&app.state.db, &grid)
            .await
            .unwrap();
        assert!(n.shape.is_none(), "a dry run writes nothing");
        let out = shanzhi(&app.database_url, &["tree", "import", "--update", path]);
        assert_eq!(
            String::from_utf8_lossy(succeeded(&out)),
            "imported 3 regions and grids (0 new, 3 changed, 0 unchanged; positions read as wgs84)\n"
        );
        let n = shanzhi_store::node::get(&app.state.db, &grid)
            .await
            .unwrap();
        assert_eq!(n.shape.unwrap().bbox(), [115.31, 22.78, 115.32, 22.79]);
        // The CSV twin of the same plan, into an empty database.
        let dir = tempfile::tempdir().unwrap();
        let empty = fresh_database(app.engine, dir.path()).await;
        let csv = fixture("good.csv");
        let out = shanzhi(&empty, &["tree", "import", csv.to_str().unwrap()]);
        assert_eq!(
            String::from_utf8_lossy(succeeded(&out)),
            "imported 7 regions and grids (7 new, 0 changed, 0 unchanged; positions read as wgs84)\ncolumns not read: 网格员\n"
        );
    }
);

db_test!(the_command_line_names_refused_rows, |app| {
    let bad = fixture("bad.csv");
    let out = shanzhi(
        &app.database_url,
        &["tree", "import", bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "  row 4 (code 441500000000): level: code 441500000000 is a city code, not village"
        ),
        "{err}"
    );
    assert!(
        err.contains("  row 5 (code 441502001001): parent: unknown parent 441502001000"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
});
