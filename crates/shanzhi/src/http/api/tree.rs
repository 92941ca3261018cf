//! Whole trees in and out as GeoJSON FeatureCollections (imports also from CSV and .xlsx).
//! Imports are all-or-nothing.

use std::collections::HashMap;

use super::doc::{schema as s, Doc, Routes};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::tree::{validate_import, Existing, ImportError, NodeCode, ALREADY_EXISTS};
use shanzhi_domain::user::permission::{can_edit_node, can_view_node};
use shanzhi_domain::user::Role;
use shanzhi_store::audit::AuditEntry;
use shanzhi_store::node::NewNode;
use shanzhi_store::StoreError;

use super::node::visible_node;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;
use crate::tree::sheet::{self, Format, XLSX_MEDIA};

/// Largest import body: a province's grids with simplified outlines.
pub const IMPORT_LIMIT: usize = 256 * 1024 * 1024;

/// `/api/v1/tree/import` and `/api/v1/tree/export`.
pub fn routes() -> Routes {
    Routes::new()
        .route(
            "post",
            "/api/v1/tree/import",
            post(import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
            Doc::new(
                "tree",
                "Import regions and grids, all or nothing: a GeoJSON FeatureCollection, or a \
                 spreadsheet (CSV or .xlsx) of code, name, level, parent with refusals by row \
                 (docs/import.md)",
            )
            .raw_body(
                &["application/geo+json"],
                Some(json!({"type": "object", "required": ["type", "features"],
                    "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array", "minItems": 1, "items": {"type": "object"}}}})),
            )
            .body_also("text/csv", Some(json!({"type": "string"})))
            .body_also(XLSX_MEDIA, None)
            .query(
                "tolerance",
                json!({"type": "number", "minimum": 0, "maximum": 1, "exclusiveMaximum": true}),
                "allowed sibling overlap, share of the smaller grid",
            )
            .created(),
        )
        .get(
            "/api/v1/tree/export",
            export,
            Doc::new("tree", "Export a subtree as a GeoJSON FeatureCollection")
                .query_required("root", s::node_code(), "region or grid code")
                .produces("application/geo+json"),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    /// Overrides the configured overlap tolerance (share of the smaller grid), for this import.
    tolerance: Option<f64>,
}

async fn import(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    // A spreadsheet becomes the same FeatureCollection; its refusals are told by row.
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (collection, sheet) = sheet::collection(Format::of_content_type(content_type), &body)?;
    let tolerance = q.tolerance.unwrap_or(app.config.overlap_tolerance);
    if !(0.0..1.0).contains(&tolerance) {
        return Err(ApiError::invalid("tolerance", "must be in [0, 1)"));
    }
    let count = import_features(&app, Some(&user), &collection, tolerance)
        .await
        .map_err(|e| match &sheet {
            Some(s) => s.explain(e),
            None => e,
        })?;
    let mut answer = json!({"imported": count});
    if let Some(s) = sheet {
        answer["ignored_columns"] = json!(s.ignored);
    }
    Ok((StatusCode::CREATED, axum::Json(answer)))
}

/// Checks and writes a FeatureCollection for `by` (None: the operator at the command line, who
/// may write anywhere); returns how many nodes were written.
pub async fn import_features(
    app: &AppState,
    by: Option<&CurrentUser>,
    collection: &Value,
    tolerance: f64,
) -> ApiResult<usize> {
    if by.is_some_and(|u| u.actor.role != Role::Admin) {
        return Err(ApiError::forbidden(
            "only administrators may add regions and grids",
        ));
    }
    let may_edit = |code: &NodeCode| by.is_none_or(|u| can_edit_node(&u.actor, code));
    // What the collection names: codes and their parents, as far as they parse.
    let features = collection
        .get("features")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut codes = Vec::new();
    let mut parents: HashMap<String, ()> = HashMap::new();
    for f in &features {
        let props = f.get("properties");
        let text = |k: &str| {
            props
                .and_then(|p| p.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        if let Some(Ok(code)) = text("code").map(|c| NodeCode::parse(&c)) {
            let parent = text("parent")
                .and_then(|p| NodeCode::parse(&p).ok())
                .or_else(|| code.natural_parent());
            if let Some(p) = parent {
                parents.insert(p.as_str().to_owned(), ());
            }
            codes.push(code.as_str().to_owned());
        }
    }
    let mut existing: HashMap<String, Existing> = HashMap::new();
    let code_refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    for (code, level) in shanzhi_store::node::existing_codes(&app.db, &code_refs).await? {
        existing.insert(
            code,
            Existing {
                level,
                shape: None,
                parent: None,
            },
        );
    }
    let in_collection: HashMap<&str, ()> = codes.iter().map(|c| (c.as_str(), ())).collect();
    for p in parents
        .keys()
        .filter(|p| !in_collection.contains_key(p.as_str()))
    {
        let Ok(pc) = NodeCode::parse(p) else { continue };
        // A parent outside the administrator's area is treated as unknown: its existence is not ours to reveal.
        if !may_edit(&pc) {
            continue;
        }
        for n in shanzhi_store::node::with_children(&app.db, p).await? {
            let is_parent = n.code.as_str() == p;
            existing.insert(
                n.code.as_str().to_owned(),
                Existing {
                    level: n.level,
                    shape: if is_parent { None } else { n.shape.clone() },
                    parent: n.parent.as_ref().map(|c| c.as_str().to_owned()),
                },
            );
        }
    }
    let mut nodes = validate_import(collection, &existing, tolerance).map_err(refusal)?;
    // A province (no parent) may be added only by an administrator whose scope covers it.
    let mut scope_errors = Vec::new();
    for (index, f) in features.iter().enumerate() {
        let code = f
            .get("properties")
            .and_then(|p| p.get("code"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if let Some(n) = nodes.iter().find(|n| n.code.as_str() == code) {
            if !may_edit(&n.code) {
                scope_errors.push(ImportError {
                    index,
                    code: Some(code.to_owned()),
                    field: "code".into(),
                    message: "outside your jurisdiction".into(),
                });
            }
        }
    }
    if !scope_errors.is_empty() {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            ..refusal(scope_errors)
        });
    }
    let new: Vec<NewNode> = nodes
        .drain(..)
        .map(|n| NewNode {
            code: n.code,
            parent: n.parent,
            level: n.level,
            name: n.name,
            shape: n.shape,
        })
        .collect();
    let any_grid = new.iter().any(|n| n.level.is_grid());
    let audit = if new.len() == 1 {
        AuditEntry::new(by.map(|u| u.user.id), "node.create", "node", new[0].code.as_str()).after(json!({
            "code": new[0].code, "name": new[0].name, "level": new[0].level, "parent": new[0].parent,
        }))
    } else {
        AuditEntry::new(
            by.map(|u| u.user.id),
            "node.import",
            "node",
            new[0].code.as_str(),
        )
        .after(json!({
            "count": new.len(),
            "first": new.first().map(|n| n.code.as_str()),
            "last": new.last().map(|n| n.code.as_str()),
        }))
    };
    match shanzhi_store::node::insert_all(&app.db, &new, &audit, app.clock.now_ms()).await {
        Ok(()) => {}
        Err(StoreError::Conflict { .. }) => {
            return Err(ApiError::conflict(
                Some("code"),
                "another change added some of these codes first; nothing was written",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    if any_grid {
        app.locator
            .refresh(&app.db)
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(new.len())
}

fn refusal(errors: Vec<ImportError>) -> ApiError {
    let first = &errors[0];
    let message = format!(
        "{} feature(s) refused, nothing was written; first: feature {}{}: {}",
        errors.len(),
        first.index,
        first
            .code
            .as_ref()
            .map(|c| format!(" (code {c})"))
            .unwrap_or_default(),
        first.message
    );
    let mut e = ApiError::invalid(
        format!("features[{}].{}", first.index, first.field),
        message,
    );
    e.code = "invalid_import";
    // Codes the tree has already are a conflict with it (409), like any duplicate.
    if errors.iter().all(|e| e.message == ALREADY_EXISTS) {
        e.status = StatusCode::CONFLICT;
    }
    e.with_details(json!({"errors": errors}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    root: String,
}

async fn export(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ExportQuery>,
) -> ApiResult<impl IntoResponse> {
    let root = NodeCode::parse(&q.root).map_err(|_| ApiError::not_found("node"))?;
    visible_node(&app, &user, &root).await?;
    // Ancestors' codes and names are public (locate shows them); their outlines only inside
    // the caller's area.
    let mut out = Vec::new();
    crate::tree::export::write(
        &app.db,
        &root,
        |code| can_view_node(&user.actor, code),
        &mut out,
    )
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], out))
}
