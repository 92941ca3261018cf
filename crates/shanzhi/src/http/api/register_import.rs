//! Places, organisations, and buildings with their houses in from spreadsheets:
//! `POST /api/v1/places/import`, `POST /api/v1/organisations/import` and
//! `POST /api/v1/buildings/import` (.xlsx or CSV, a report by row), and their templates.
//! (Residents, with their personal data and households, have their own: resident_import.rs.)

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::doc::{schema as s, Doc, Routes};
use super::export::download;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;
use crate::import::{may_import, ImportQuery, Register, RegisterReport, Request};
use crate::tree::sheet::XLSX_MEDIA;

/// Largest import body: a province's places as .xlsx are a few MB.
pub const IMPORT_LIMIT: usize = 64 * 1024 * 1024;

/// (tag, import path, its summary, template path, its summary) for the OpenAPI document.
fn doc(r: Register) -> [&'static str; 5] {
    match r {
        Register::Places => [
            "place",
            "/api/v1/places/import",
            "Import places from .xlsx or CSV (UTF-8 or GBK): name, kind, grid, address, \
                 point, licence, the last safety check; a report names every bad row and column. \
                 all_or_nothing (default) writes nothing when a row is bad; valid_rows writes the \
                 good rows",
            "/api/v1/places/import/template",
            "The place import's template (.xlsx): the columns with notes and drop-down lists",
        ],
        Register::Organisations => [
            "organisation",
            "/api/v1/organisations/import",
            "Import organisations from .xlsx or CSV (UTF-8 or GBK): name, kind (one party \
                 branch a grid), grid, address; a report names every bad row and column. \
                 all_or_nothing (default) writes nothing when a row is bad; valid_rows writes the \
                 good rows",
            "/api/v1/organisations/import/template",
            "The organisation import's template (.xlsx): the columns with notes and a \
                 drop-down list of the kinds",
        ],
        Register::Buildings => [
            "house",
            "/api/v1/buildings/import",
            "Import buildings and their houses from .xlsx or CSV (UTF-8 or GBK): a row a \
                 house (room, use, area, owner) or a building without houses (name, grid, \
                 address, point, floors); rows of one building share it, a registered one is \
                 reused, a room is used once per building. A report names every bad row and \
                 column. all_or_nothing (default) writes nothing when a row is bad; valid_rows \
                 writes the good rows",
            "/api/v1/buildings/import/template",
            "The building import's template (.xlsx): the columns with notes and a drop-down \
                 list of the houses' uses",
        ],
    }
}

/// The import and template routes of one register.
fn register_routes(routes: Routes, r: Register) -> Routes {
    let [tag, path, summary, template_path, template_summary] = doc(r);
    routes
        .route(
            "post",
            path,
            post(move |app, user, q, headers, body| import(r, app, user, q, headers, body))
                .layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
            Doc::new(tag, summary)
                .raw_body(&[XLSX_MEDIA], None)
                .body_also("text/csv", Some(json!({"type": "string"})))
                .query(
                    "mode",
                    s::one_of(&["all_or_nothing", "valid_rows"]),
                    "what happens to the good rows when some are bad",
                )
                .query(
                    "format",
                    s::one_of(&["xlsx", "csv"]),
                    "the file's kind (default: by content type)",
                )
                .query("node", s::node_code(), "grid of the rows that name none")
                .query(
                    "name",
                    s::note(200, false),
                    "the file's name, for the audit log",
                ),
        )
        .get(
            template_path,
            move |user| template(r, user),
            Doc::new(tag, template_summary).produces(XLSX_MEDIA),
        )
}

/// `/api/v1/places/import`, `/api/v1/organisations/import`, `/api/v1/buildings/import` and
/// their templates.
pub fn routes() -> Routes {
    [
        Register::Places,
        Register::Organisations,
        Register::Buildings,
    ]
    .into_iter()
    .fold(Routes::new(), register_routes)
}

async fn import(
    r: Register,
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<RegisterReport>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (mode, format, node) = q.params(&user.actor, r.word(), content_type, &body)?;
    let report = r
        .import(
            &app.db,
            Request {
                bytes: body,
                format,
                mode,
                node,
                actor: Some(&user.actor),
                file_name: q.name.as_deref().unwrap_or(""),
                now_ms: app.clock.now_ms(),
            },
        )
        .await?;
    Ok(axum::Json(report))
}

async fn template(r: Register, user: CurrentUser) -> ApiResult<Response> {
    may_import(&user.actor, r.word())?;
    let (bytes, name, name_zh) = r
        .template()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("xlsx: {e}")))?;
    Ok(download(bytes, name, name_zh).into_response())
}
