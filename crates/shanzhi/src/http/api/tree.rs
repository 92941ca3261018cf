//! Whole trees in and out as GeoJSON FeatureCollections (imports also from CSV and .xlsx).
//! Imports are all-or-nothing.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::doc::{schema as s, Doc, Routes};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::grid::Crs;
use shanzhi_domain::tree::{
    feature_codes, validate_import, Existing, ImportError, ImportOptions, NodeCode, Refusal,
    ALREADY_EXISTS, MAX_ERRORS,
};
use shanzhi_domain::user::permission::{can_edit_node, can_view_node};
use shanzhi_domain::user::Role;
use shanzhi_store::audit::AuditEntry;
use shanzhi_store::node::{NewNode, Node, NodeChange};
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
                "allowed sibling overlap, share of the smaller sibling's area",
            )
            .query(
                "outside_tolerance",
                json!({"type": "number", "minimum": 0, "maximum": 1, "exclusiveMaximum": true}),
                "allowed share of a child's area outside its parent",
            )
            .query("crs", s::crs(), "coordinate system of the file's positions (default: its crs member, else wgs84)")
            .query(
                "mode",
                json!({"type": "string", "enum": ["create", "update"]}),
                "create: existing codes are refused; update: they change (name, shape)",
            )
            .query("dry_run", json!({"type": "boolean"}), "check and list the changes, write nothing")
            .created()
            // A dry run, or an update that changes nothing, writes nothing: 200.
            .also(200),
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
    /// Overrides the configured overlap tolerance (share of the smaller sibling), for this import.
    tolerance: Option<f64>,
    /// Overrides the configured share of a child's area that may lie outside its parent.
    outside_tolerance: Option<f64>,
    /// The coordinate system of the file's positions (default: its `crs` member, else wgs84).
    crs: Option<String>,
    /// `create` (default: existing codes are refused) or `update` (existing codes change).
    mode: Option<String>,
    /// Check and list what would change; write nothing.
    #[serde(default)]
    dry_run: bool,
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
    let mut opts = app.config.import_options();
    if let Some(t) = q.tolerance {
        opts.overlap_tolerance = t;
    }
    if let Some(t) = q.outside_tolerance {
        opts.outside_tolerance = t;
    }
    for (field, t) in [
        ("tolerance", opts.overlap_tolerance),
        ("outside_tolerance", opts.outside_tolerance),
    ] {
        if !(0.0..1.0).contains(&t) {
            return Err(ApiError::invalid(field, "must be in [0, 1)"));
        }
    }
    opts.crs = q.crs.as_deref().map(Crs::parse).transpose()?;
    opts.update = match q.mode.as_deref() {
        None | Some("create") => false,
        Some("update") => true,
        Some(_) => return Err(ApiError::invalid("mode", "must be create or update")),
    };
    let outcome = import_features(&app, Some(&user), &collection, &opts, q.dry_run)
        .await
        .map_err(|e| match &sheet {
            Some(s) => s.explain(e),
            None => e,
        })?;
    let status = if q.dry_run || outcome.written() == 0 {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut answer = outcome.to_json();
    if let Some(s) = sheet {
        answer["ignored_columns"] = json!(s.ignored);
    }
    Ok((status, axum::Json(answer)))
}

/// What an import did (or, on a dry run, would do).
#[derive(Debug)]
pub struct ImportOutcome {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub crs: Crs,
    pub dry_run: bool,
    /// Per node: code, what happens (insert/update), name and whether the shape changes. At most
    /// [`LISTED_CHANGES`].
    pub changes: Vec<Value>,
}

/// Most changes an import answer lists one by one.
pub const LISTED_CHANGES: usize = 1000;

impl ImportOutcome {
    /// Nodes written (or to be written).
    pub fn written(&self) -> usize {
        self.inserted + self.updated
    }

    /// The answer's body.
    pub fn to_json(&self) -> Value {
        json!({
            "imported": self.written(),
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "crs": self.crs.as_str(),
            "dry_run": self.dry_run,
            "changes": self.changes,
            "changes_listed": self.changes.len(),
        })
    }
}

/// Checks a FeatureCollection for `by` (None: the operator at the command line, who may write
/// anywhere) and writes it unless `dry_run`.
pub async fn import_features(
    app: &AppState,
    by: Option<&CurrentUser>,
    collection: &Value,
    opts: &ImportOptions,
    dry_run: bool,
) -> ApiResult<ImportOutcome> {
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
        .map(Vec::as_slice)
        .unwrap_or_default();
    let named: Vec<(NodeCode, Option<NodeCode>)> =
        features.iter().filter_map(feature_codes).collect();
    let codes: Vec<&str> = named.iter().map(|(c, _)| c.as_str()).collect();
    let mut existing: HashMap<String, Existing> = HashMap::new();
    let keep = |existing: &mut HashMap<String, Existing>, n: &Node| {
        existing.insert(
            n.code.as_str().to_owned(),
            Existing {
                level: n.level,
                name: n.name.clone(),
                shape: n.shape.clone(),
                parent: n.parent.as_ref().map(|c| c.as_str().to_owned()),
            },
        );
    };
    let stored = shanzhi_store::node::by_codes(&app.db, &codes).await?;
    for n in &stored {
        keep(&mut existing, n);
    }
    // Parents (with their other children, for the overlap check, and their ancestors, for the
    // containment check when a parent has no shape) and, in update mode, the children of nodes
    // whose shape may change.
    let in_collection: HashSet<&str> = codes.iter().copied().collect();
    let mut around: BTreeSet<String> = named
        .iter()
        .filter_map(|(_, p)| p.as_ref())
        .filter(|p| !in_collection.contains(p.as_str()))
        .map(|p| p.as_str().to_owned())
        .collect();
    if opts.update {
        around.extend(stored.iter().map(|n| n.code.as_str().to_owned()));
    }
    let mut ancestors: BTreeSet<String> = BTreeSet::new();
    for p in &around {
        let Ok(pc) = NodeCode::parse(p) else { continue };
        // A parent outside the administrator's area is treated as unknown: its existence is not ours to reveal.
        if !may_edit(&pc) {
            continue;
        }
        for n in shanzhi_store::node::with_children(&app.db, p).await? {
            if !existing.contains_key(n.code.as_str()) {
                keep(&mut existing, &n);
            }
        }
        ancestors.extend(pc.ancestor_paths());
    }
    let wanted: Vec<String> = ancestors.into_iter().collect();
    let chain = shanzhi_store::node::by_paths(&app.db, &wanted).await?;
    let chain_codes: Vec<&str> = chain
        .iter()
        .map(|n| n.code.as_str())
        .filter(|c| !existing.contains_key(*c))
        .collect();
    for n in shanzhi_store::node::by_codes(&app.db, &chain_codes).await? {
        keep(&mut existing, &n);
    }
    let plan = validate_import(collection, &existing, opts).map_err(refusal)?;
    // Nodes may be added or changed only by an administrator whose scope covers them.
    let mut scope_errors = Vec::new();
    let touched = plan
        .inserts
        .iter()
        .map(|n| &n.code)
        .chain(plan.updates.iter().map(|u| &u.code));
    for code in touched {
        if !may_edit(code) {
            scope_errors.push(ImportError {
                index: feature_index(features, code).unwrap_or(0),
                code: Some(code.as_str().to_owned()),
                field: "code".into(),
                message: "outside your jurisdiction".into(),
            });
        }
    }
    if !scope_errors.is_empty() {
        scope_errors.sort_by_key(|e| e.index);
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            ..refusal(Refusal {
                errors: scope_errors,
                capped: false,
            })
        });
    }
    let mut changes = Vec::new();
    for n in plan.inserts.iter().take(LISTED_CHANGES) {
        changes.push(json!({"code": n.code, "action": "insert", "name": n.name, "level": n.level, "shape": n.shape.is_some()}));
    }
    for u in plan
        .updates
        .iter()
        .take(LISTED_CHANGES.saturating_sub(changes.len()))
    {
        let before = existing.get(u.code.as_str());
        changes.push(json!({
            "code": u.code, "action": "update",
            "name": u.name, "name_before": u.name.as_ref().and(before.map(|b| b.name.as_str())),
            "shape": u.shape.is_some(),
        }));
    }
    let outcome = ImportOutcome {
        inserted: plan.inserts.len(),
        updated: plan.updates.len(),
        unchanged: plan.unchanged.len(),
        crs: plan.crs,
        dry_run,
        changes,
    };
    if dry_run || outcome.written() == 0 {
        return Ok(outcome);
    }
    let new: Vec<NewNode> = plan
        .inserts
        .into_iter()
        .map(|n| NewNode {
            code: n.code,
            parent: n.parent,
            level: n.level,
            name: n.name,
            shape: n.shape,
        })
        .collect();
    let updates: Vec<(NodeCode, NodeChange)> = plan
        .updates
        .into_iter()
        .map(|u| {
            (
                u.code,
                NodeChange {
                    name: u.name,
                    shape: u.shape,
                },
            )
        })
        .collect();
    let any_shape =
        new.iter().any(|n| n.shape.is_some()) || updates.iter().any(|(_, c)| c.shape.is_some());
    let actor = by.map(|u| u.user.id);
    let audit = if new.len() == 1 && updates.is_empty() {
        AuditEntry::new(actor, "node.create", "node", new[0].code.as_str()).after(json!({
            "code": new[0].code, "name": new[0].name, "level": new[0].level, "parent": new[0].parent,
        }))
    } else {
        let first = new
            .first()
            .map(|n| &n.code)
            .or(updates.first().map(|u| &u.0));
        AuditEntry::new(actor, "node.import", "node", first.map(NodeCode::as_str).unwrap_or(""))
            .after(json!({
                "count": new.len(),
                "first": new.first().map(|n| n.code.as_str()),
                "last": new.last().map(|n| n.code.as_str()),
                "updated": updates.len(),
                "updates": outcome.changes.iter().filter(|c| c["action"] == "update").collect::<Vec<_>>(),
                "crs": outcome.crs.as_str(),
            }))
    };
    match shanzhi_store::node::apply(&app.db, &new, &updates, &audit, app.clock.now_ms()).await {
        Ok(()) => {}
        Err(StoreError::Conflict { .. } | StoreError::Stale) => {
            return Err(ApiError::conflict(
                Some("code"),
                "another change touched some of these codes first; nothing was written",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    if any_shape {
        app.locator
            .refresh(&app.db)
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(outcome)
}

/// Position of the feature naming `code` in the collection.
fn feature_index(features: &[Value], code: &NodeCode) -> Option<usize> {
    features
        .iter()
        .position(|f| feature_codes(f).is_some_and(|(c, _)| c == *code))
}

fn refusal(r: Refusal) -> ApiError {
    let errors = r.errors;
    let first = &errors[0];
    let count = if r.capped {
        format!(
            "more than {} feature(s) refused (the list stops at {MAX_ERRORS})",
            errors.len()
        )
    } else {
        format!("{} feature(s) refused", errors.len())
    };
    let message = format!(
        "{count}, nothing was written; first: feature {}{}, {}: {}",
        first.index,
        first
            .code
            .as_ref()
            .map(|c| format!(" (code {c})"))
            .unwrap_or_default(),
        first.field,
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
    e.with_details(json!({"errors": errors, "capped": r.capped}))
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
