//! Importing organisations from spreadsheets (one party branch a grid), and the places import
//! from the command line as an operator runs it.

use std::process::Output;

use reqwest::StatusCode;
use serde_json::Value;
use shanzhi_domain::user::Role;

use crate::helpers::{assert_error, Session, TestApp};

const GRID: &str = "441502001001001";
const OTHER_GRID: &str = "441502001001002";

async fn setup(app: &TestApp) -> Session {
    app.seed_town().await;
    app.user("disp", Role::Dispatcher, Some("441502001001"))
        .await
}

async fn upload(app: &TestApp, who: &Session, query: &str, body: String) -> reqwest::Response {
    app.upload(
        &format!("/api/v1/organisations/import?{query}"),
        who,
        body.into_bytes(),
        "text/csv",
    )
    .await
}

fn file() -> String {
    format!(
        "组织名称,组织类型,所属网格代码,地址\n\
         立新五金厂,企业,{GRID},立新路8号\n\
         网格1党支部,网格党支部,{GRID},\n\
         网格1第二党支部,党支部,{GRID},\n\
         义工协会,社会组织,{OTHER_GRID},\n\
         网格2党支部,网格党支部,{OTHER_GRID},\n\
         无名会,俱乐部,{GRID},\n\
         立新五金厂,企业,{GRID},\n"
    )
}

db_test!(
    organisations_import_with_one_party_branch_a_grid_and_a_report_by_row,
    |app| {
        let disp = setup(&app).await;
        // Grid 2 has its branch already.
        let r = app
            .post_json(
                "/api/v1/organisations",
                Some(&disp),
                serde_json::json!({"node_code": OTHER_GRID, "kind": "party_branch", "name": "老支部"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v = assert_error(
            upload(&app, &disp, "", file()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let errors = v["report"]["errors"].as_array().unwrap().clone();
        let seen: Vec<(u64, &str)> = errors
            .iter()
            .map(|e| (e["row"].as_u64().unwrap(), e["column"].as_str().unwrap()))
            .collect();
        assert_eq!(
            seen,
            [
                (4, "组织类型"),
                (6, "组织类型"),
                (7, "组织类型"),
                (8, "组织名称")
            ],
            "{errors:?}"
        );
        assert!(errors[0]["reason"].as_str().unwrap().contains("row 3"));
        assert!(errors[1]["reason"].as_str().unwrap().contains("already"));
        assert_eq!(app.scalar("SELECT COUNT(*) FROM organisation").await, 1);

        let r = upload(&app, &disp, "mode=valid_rows", file()).await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["written"], 3, "{v}");
        assert_eq!(v["refused"], 4, "{v}");
        assert_eq!(
            app.scalar("SELECT COUNT(*) FROM organisation WHERE kind = 'party_branch'")
                .await,
            2
        );
        let address: Option<String> = shanzhi_store::with_pool!(&app.state.db, pool => {
            sqlx::query_scalar("SELECT address FROM organisation WHERE name = '立新五金厂'").fetch_one(pool).await.unwrap()
        });
        assert_eq!(address.as_deref(), Some("立新路8号"));
        // The imported branch is the grid's branch on its page.
        let r = app
            .get(&format!("/api/v1/organisations/grid/{GRID}"), Some(&disp))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let page: Value = r.json().await.unwrap();
        assert!(page.to_string().contains("网格1党支部"), "{page}");
        let audit = shanzhi_store::audit::list(
            &app.state.db,
            &shanzhi_store::audit::AuditFilter {
                action: Some("organisation.import"),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
        assert_eq!(audit.len(), 1);
        // The template is there for writers.
        let r = app
            .get("/api/v1/organisations/import/template", Some(&disp))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
);

fn shanzhi(database_url: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_shanzhi"))
        .arg("--database-url")
        .arg(database_url)
        .args(args)
        .env(
            "SHANZHI_PII_KEY_FILE",
            std::env::temp_dir().join(format!(
                "shanzhi-register-import-{}.pii-keys",
                std::process::id()
            )),
        )
        .output()
        .expect("run shanzhi")
}

db_test!(
    places_import_from_the_command_line_prints_the_report_by_row,
    |app| {
        setup(&app).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("places.csv");
        std::fs::write(
        &file,
        "场所名称,场所类型,上次安全检查日期,检查结果\n社区诊所,诊所,2026-09-01,合格\n无类型,,,\n",
    )
    .unwrap();
        let path = file.to_str().unwrap();
        // All or nothing: exit 2, the bad row named, nothing written.
        let out = shanzhi(
            &app.database_url,
            &["import", "places", path, "--node", GRID],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("row 3 场所类型"), "{stdout}");
        assert!(stdout.contains("nothing was written"), "{stdout}");
        assert_eq!(app.scalar("SELECT COUNT(*) FROM place").await, 0);
        let out = shanzhi(
            &app.database_url,
            &[
                "import",
                "places",
                path,
                "--node",
                GRID,
                "--mode",
                "valid-rows",
            ],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("1 places written; 1 rows refused"),
            "{stdout}"
        );
        assert_eq!(
            app.scalar(
                "SELECT COUNT(*) FROM place WHERE kind = 'small_clinic' AND last_result = 'passed'"
            )
            .await,
            1
        );
    }
);
