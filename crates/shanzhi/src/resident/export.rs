//! Exporting the residents of a subtree (.xlsx or CSV) in the import's own columns, so an
//! export imports again: masked, or — for an exporter who may reveal personal data at the node
//! and states a purpose — in plain text. Every export writes an audit row (node, count, masked
//! or not, purpose).

use serde_json::json;
use shanzhi_domain::resident::base_access;
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::Actor;
use shanzhi_store::audit::AuditEntry;
use shanzhi_store::pii::Keyring;
use shanzhi_store::resident::bulk;
use shanzhi_store::Db;

use super::column::{word_zh, HEADERS};
use crate::http::api::export::{workbook, Cell, Sheet};
use crate::http::error::{ApiError, ApiResult};

/// Most residents one export holds; past it the sheet ends with a note saying so.
pub const MAX_ROWS: usize = 200_000;
const PAGE: i64 = 5_000;

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Xlsx,
    Csv,
}

/// One export.
pub struct Request<'a> {
    pub node: NodeCode,
    pub format: ExportFormat,
    /// Plain ID numbers and phones (needs the reveal permission and a purpose).
    pub reveal: bool,
    pub purpose: Option<&'a str>,
    pub actor: &'a Actor,
    pub now_ms: i64,
}

/// The export's bytes and how many residents it holds.
pub async fn export(db: &Db, keys: &Keyring, req: Request<'_>) -> ApiResult<(Vec<u8>, usize)> {
    let access = base_access(req.actor, &req.node);
    if !access.read {
        return Err(ApiError::not_found("node"));
    }
    let purpose = req.purpose.map(str::trim).filter(|p| !p.is_empty());
    if req.reveal {
        if !access.reveal {
            return Err(ApiError::forbidden(
                "you may not reveal personal data at this node",
            ));
        }
        match purpose {
            None => {
                return Err(ApiError::invalid(
                    "purpose",
                    "state why the data is revealed",
                ))
            }
            Some(p) if p.chars().count() > 200 => {
                return Err(ApiError::invalid("purpose", "at most 200 characters"))
            }
            _ => {}
        }
    }
    let names: std::collections::HashMap<String, String> = bulk::catalogue(db)
        .await?
        .into_iter()
        .map(|t| (t.code, t.name_zh))
        .collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut after = 0;
    let mut capped = false;
    'pages: loop {
        let page = bulk::export_page(db, req.node.path(), after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for r in page {
            if rows.len() == MAX_ROWS {
                capped = true;
                break 'pages;
            }
            let (id, phone) = if req.reveal {
                let open = |blob: &Option<Vec<u8>>| -> ApiResult<Option<String>> {
                    Ok(match blob {
                        Some(b) => Some(keys.decrypt(b)?),
                        None => None,
                    })
                };
                (open(&r.id_enc)?, open(&r.phone_enc)?)
            } else {
                (r.id_mask, r.phone_mask)
            };
            let tags: Vec<&str> = r
                .tags
                .iter()
                .map(|c| names.get(c).map_or(c.as_str(), String::as_str))
                .collect();
            rows.push(vec![
                r.name,
                word_zh(&r.gender).to_owned(),
                id.unwrap_or_default(),
                phone.unwrap_or_default(),
                r.ethnicity.unwrap_or_default(),
                word_zh(&r.residence).to_owned(),
                r.workplace.unwrap_or_default(),
                r.node_code,
                r.household.unwrap_or_default(),
                r.relation
                    .as_deref()
                    .map(word_zh)
                    .unwrap_or_default()
                    .to_owned(),
                r.building.unwrap_or_default(),
                r.room.unwrap_or_default(),
                tags.join("、"),
            ]);
        }
    }
    let count = rows.len();
    let audit = AuditEntry::new(
        Some(req.actor.user_id),
        "resident.export",
        "node",
        req.node.as_str(),
    )
    .after(json!({
        "count": count,
        "masked": !req.reveal,
        "purpose": purpose,
        "format": match req.format { ExportFormat::Xlsx => "xlsx", ExportFormat::Csv => "csv" },
    }));
    let bytes = match req.format {
        ExportFormat::Xlsx => workbook(&[Sheet {
            name: "居民",
            headers: &HEADERS,
            rows: rows
                .into_iter()
                .map(|r| {
                    r.into_iter()
                        .map(|c| {
                            if c.is_empty() {
                                Cell::Empty
                            } else {
                                Cell::Text(c)
                            }
                        })
                        .collect()
                })
                .collect(),
            note: capped.then(|| format!("只导出了前 {MAX_ROWS} 人 (the first {MAX_ROWS} only)")),
        }])?,
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let fail = |e: csv::Error| ApiError::internal(anyhow::anyhow!("csv: {e}"));
            w.write_record(HEADERS).map_err(fail)?;
            for r in &rows {
                w.write_record(r).map_err(fail)?;
            }
            // Excel opens a CSV as UTF-8 only with the byte-order mark.
            let mut out = "\u{feff}".as_bytes().to_vec();
            out.extend(
                w.into_inner()
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("csv: {e}")))?,
            );
            out
        }
    };
    shanzhi_store::audit::record(db, &audit, req.now_ms).await?;
    Ok((bytes, count))
}
