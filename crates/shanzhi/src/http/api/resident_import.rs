//! Residents in and out of spreadsheets: `POST /api/v1/residents/import` (.xlsx or CSV, a
//! report by row), its template, and `GET /api/v1/residents/export` of a subtree.

use super::doc::{schema as s, Doc, Routes};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::tree::NodeCode;

use super::export::download;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;
use crate::import::{may_import, ImportQuery};
use crate::resident::export::{self, ExportFormat};
use crate::resident::import;
use crate::tree::sheet::XLSX_MEDIA;

/// Largest import body: a million residents as CSV is about 100 MB.
pub const IMPORT_LIMIT: usize = 160 * 1024 * 1024;

/// `/api/v1/residents/import`, its template, and `/api/v1/residents/export`.
pub fn routes() -> Routes {
    Routes::new()
        .route(
            "post",
            "/api/v1/residents/import",
            post(import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
            Doc::new(
                "resident",
                "Import residents from .xlsx or CSV (UTF-8 or GBK): households by 户号, buildings \
                 and houses, tags; a report names every bad row and column. all_or_nothing \
                 (default) writes nothing when a row is bad; valid_rows writes the good rows",
            )
            .raw_body(&[XLSX_MEDIA], None)
            .body_also("text/csv", Some(json!({"type": "string"})))
            .query("mode", s::one_of(&["all_or_nothing", "valid_rows"]), "what happens to the good rows when some are bad")
            .query("format", s::one_of(&["xlsx", "csv"]), "the file's kind (default: by content type)")
            .query("node", s::node_code(), "grid of the rows that name none")
            .query("name", s::note(200, false), "the file's name, for the audit log"),
        )
        .get(
            "/api/v1/residents/import/template",
            template,
            Doc::new("resident", "The resident import's template (.xlsx): the columns with notes and drop-down lists")
                .produces(XLSX_MEDIA),
        )
        .get(
            "/api/v1/residents/export",
            export_residents,
            Doc::new(
                "resident",
                "The residents of a subtree as .xlsx or CSV in the import's columns, ID numbers and \
                 phones masked; reveal=true with a purpose shows them to who may reveal (audited)",
            )
            .query_required("node", s::node_code(), "region or grid code")
            .query("format", s::one_of(&["xlsx", "csv"]), "default xlsx")
            .query("reveal", s::boolean(), "ID numbers and phones in plain text")
            .query("purpose", s::note(200, false), "why they are revealed (needed with reveal)")
            .produces(XLSX_MEDIA),
        )
}

async fn import(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (mode, format, node) = q.params(&user.actor, "residents", content_type, &body)?;
    let report = import::import(
        &app.db,
        &app.pii,
        import::Request {
            bytes: body,
            format,
            mode,
            node,
            actor: Some(&user.actor),
            file_name: q.name.as_deref().unwrap_or(""),
            now_ms: app.clock.now_ms(),
        },
        |_| {},
    )
    .await?;
    Ok(axum::Json(report))
}

async fn template(user: CurrentUser) -> ApiResult<Response> {
    may_import(&user.actor, "residents")?;
    let bytes = crate::resident::template::template()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("xlsx: {e}")))?;
    Ok(download(
        bytes,
        "residents-template.xlsx",
        "居民导入模板.xlsx",
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    node: String,
    format: Option<String>,
    #[serde(default)]
    reveal: bool,
    purpose: Option<String>,
}

async fn export_residents(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let node = NodeCode::parse(&q.node).map_err(|_| ApiError::not_found("node"))?;
    let format = match q.format.as_deref() {
        None | Some("xlsx") => ExportFormat::Xlsx,
        Some("csv") => ExportFormat::Csv,
        Some(_) => return Err(ApiError::invalid("format", "must be xlsx or csv")),
    };
    let (bytes, _) = export::export(
        &app.db,
        &app.pii,
        export::Request {
            node: node.clone(),
            format,
            reveal: q.reveal,
            purpose: q.purpose.as_deref(),
            actor: &user.actor,
            now_ms: app.clock.now_ms(),
        },
    )
    .await?;
    let name = format!("residents-{node}");
    Ok(match format {
        ExportFormat::Xlsx => {
            download(bytes, &format!("{name}.xlsx"), &format!("居民-{node}.xlsx"))
        }
        ExportFormat::Csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.csv\""),
                ),
            ],
            bytes,
        )
            .into_response(),
    })
}
