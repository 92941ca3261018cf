//! Spreadsheets of the tree (.xlsx and CSV): a header row naming the columns `code`, `name`,
//! `level`, `parent` (or 代码/编码, 名称, 层级/级别, 上级/上级代码), then one node a row, without
//! geometry. The rows become the FeatureCollection the GeoJSON import takes (cells read in
//! [`cell`]), and the import's refusals are renamed from features to the spreadsheet's own row
//! numbers ([`refusal`]).

mod cell;
mod refusal;

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::http::error::ApiError;
use crate::http::extract::parse_json;
use cell::{level_word, Cell, Column};
pub use refusal::by_rows;

/// The content type of an .xlsx workbook.
pub const XLSX_MEDIA: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// What an import file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Geojson,
    Csv,
    Xlsx,
}

impl Format {
    /// By the file's extension (.xlsx, .csv; anything else is GeoJSON).
    pub fn of_path(path: &Path) -> Format {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("xlsx") => Format::Xlsx,
            Some("csv") => Format::Csv,
            _ => Format::Geojson,
        }
    }

    /// By a request's content type (parameters such as `; charset=utf-8` ignored); anything
    /// but CSV and .xlsx is read as GeoJSON.
    pub fn of_content_type(content_type: Option<&str>) -> Format {
        let essence = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        match essence.as_deref() {
            Some("text/csv") => Format::Csv,
            Some(XLSX_MEDIA) => Format::Xlsx,
            _ => Format::Geojson,
        }
    }
}

/// What the import must know of a spreadsheet besides its FeatureCollection.
#[derive(Debug)]
pub struct Sheet {
    /// The spreadsheet row (from 1, as the spreadsheet shows it) of each feature.
    pub rows: Vec<usize>,
    /// Header cells of the columns that were not read (a worker's name, a phone…).
    pub ignored: Vec<String>,
}

/// What is wrong with one row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub row: usize,
    pub code: Option<String>,
    pub field: String,
    pub message: String,
}

/// Why a spreadsheet could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum SheetError {
    /// Not a readable file of this kind, or no usable header: nothing to say by row.
    File { field: String, message: String },
    /// Rows whose cells cannot be read as they stand.
    Rows(Vec<RowError>),
}

impl SheetError {
    fn file(field: &str, message: impl Into<String>) -> SheetError {
        SheetError::File {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl From<SheetError> for ApiError {
    fn from(e: SheetError) -> Self {
        match e {
            SheetError::File { field, message } => {
                let mut e = ApiError::invalid(field, message);
                e.code = "invalid_import";
                e
            }
            SheetError::Rows(errors) => {
                let first = &errors[0];
                let message = format!(
                    "{} row(s) refused, nothing was written; first: {}: {}",
                    errors.len(),
                    row_name(first.row, first.code.as_deref()),
                    first.message
                );
                let list: Vec<Value> = errors
                    .iter()
                    .map(|e| json!({"row": e.row, "code": e.code, "field": e.field, "message": e.message}))
                    .collect();
                let mut api =
                    ApiError::invalid(format!("rows[{}].{}", first.row, first.field), message);
                api.code = "invalid_import";
                api.with_details(json!({ "errors": list }))
            }
        }
    }
}

/// "row 7 (code 441502001001001)".
pub fn row_name(row: usize, code: Option<&str>) -> String {
    match code {
        Some(c) if !c.is_empty() => format!("row {row} (code {c})"),
        _ => format!("row {row}"),
    }
}

/// An import file of `format` as the FeatureCollection the import checks, and for a
/// spreadsheet its rows (to tell refusals by row) and the columns it did not read.
pub fn collection(format: Format, bytes: &[u8]) -> Result<(Value, Option<Sheet>), ApiError> {
    let read = match format {
        Format::Geojson => return Ok((parse_json(bytes)?, None)),
        Format::Csv => read_csv(bytes),
        Format::Xlsx => read_xlsx(bytes),
    };
    let (collection, sheet) = read?;
    Ok((collection, Some(sheet)))
}

impl Sheet {
    /// The import's refusal told by this spreadsheet's rows (see [`by_rows`]).
    pub fn explain(&self, e: ApiError) -> ApiError {
        by_rows(e, &self.rows)
    }
}

/// Turns rows (each with its spreadsheet row number) into the import's FeatureCollection.
fn convert(rows: Vec<(usize, Vec<Cell>)>) -> Result<(Value, Sheet), SheetError> {
    let mut rows = rows
        .into_iter()
        .filter(|(_, r)| r.iter().any(|c| !c.is_empty()));
    let Some((header_row, header)) = rows.next() else {
        return Err(SheetError::file("header", "the spreadsheet is empty"));
    };
    let mut columns: HashMap<Column, usize> = HashMap::new();
    let mut ignored = Vec::new();
    for (i, cell) in header.iter().enumerate() {
        let Some(h) = cell.text() else { continue };
        match Column::of_header(&h) {
            Some(c) => {
                if columns.insert(c, i).is_some() {
                    return Err(SheetError::file(
                        "header",
                        format!("row {header_row}: two columns are {}", c.as_str()),
                    ));
                }
            }
            None => ignored.push(h),
        }
    }
    if !columns.contains_key(&Column::Code) || !columns.contains_key(&Column::Name) {
        return Err(SheetError::file(
            "header",
            format!(
                "the first row (row {header_row}) must name the columns: code (代码 or 编码) and \
                 name (名称) are needed, level (层级 or 级别) and parent (上级 or 上级代码) may \
                 follow; it has: {}",
                header
                    .iter()
                    .filter_map(Cell::text)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut features = Vec::new();
    let mut numbers = Vec::new();
    let mut errors = Vec::new();
    let empty = Cell::Empty;
    for (row, cells) in rows {
        let cell = |c: Column| {
            columns
                .get(&c)
                .and_then(|i| cells.get(*i))
                .unwrap_or(&empty)
        };
        let code = cell(Column::Code).code();
        let parent = cell(Column::Parent).code();
        let shown = match &code {
            Ok(c) => c.clone(),
            Err(_) => cell(Column::Code).text(),
        };
        let mut props = Map::new();
        for (field, value) in [("code", code), ("parent", parent)] {
            match value {
                Ok(Some(v)) => {
                    props.insert(field.into(), Value::String(v));
                }
                Ok(None) => {}
                Err(message) => errors.push(RowError {
                    row,
                    code: shown.clone(),
                    field: field.into(),
                    message,
                }),
            }
        }
        if let Some(name) = cell(Column::Name).text() {
            props.insert("name".into(), Value::String(name));
        }
        if let Some(level) = cell(Column::Level).text() {
            props.insert("level".into(), Value::String(level_word(&level)));
        }
        features.push(json!({"type": "Feature", "properties": props, "geometry": null}));
        numbers.push(row);
    }
    if !errors.is_empty() {
        return Err(SheetError::Rows(errors));
    }
    if features.is_empty() {
        return Err(SheetError::file(
            "rows",
            format!("the spreadsheet has a header (row {header_row}) and no rows below it"),
        ));
    }
    Ok((
        json!({"type": "FeatureCollection", "features": features}),
        Sheet {
            rows: numbers,
            ignored,
        },
    ))
}

/// Reads CSV text (see [`crate::workbook::read_csv_rows`]).
pub fn read_csv(bytes: &[u8]) -> Result<(Value, Sheet), SheetError> {
    let mut rows = Vec::new();
    crate::workbook::read_csv_rows(bytes, MAX_TREE_ROWS, |n, cells| {
        rows.push((n, cells));
        Ok::<_, SheetError>(())
    })?;
    convert(rows)
}

/// The most rows a tree sheet may have (a province has about 120,000 grids).
const MAX_TREE_ROWS: usize = 1_048_576;

/// Reads the first worksheet of an .xlsx workbook.
pub fn read_xlsx(bytes: &[u8]) -> Result<(Value, Sheet), SheetError> {
    let mut rows = Vec::new();
    crate::workbook::read_rows(bytes, MAX_TREE_ROWS, |n, cells| {
        rows.push((n, cells));
        Ok::<_, SheetError>(())
    })?;
    convert(rows)
}

impl From<crate::workbook::WorkbookError> for SheetError {
    fn from(e: crate::workbook::WorkbookError) -> Self {
        SheetError::file("body", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_become_features_without_geometry_and_keep_their_line_numbers() {
        let csv = "代码,名称,层级,上级,网格员\n440000000000,广东省,省,,\n\n441502001001001,一格,小网格,441502001001,张三\n";
        let (fc, sheet) = read_csv(csv.as_bytes()).unwrap();
        assert_eq!(sheet.rows, vec![2, 4]);
        assert_eq!(sheet.ignored, vec!["网格员"]);
        let f = &fc["features"][1];
        assert_eq!(f["properties"]["code"], "441502001001001");
        assert_eq!(f["properties"]["level"], "small");
        assert_eq!(f["properties"]["parent"], "441502001001");
        assert!(f["geometry"].is_null());
        assert!(fc["features"][0]["properties"].get("parent").is_none());
    }

    #[test]
    fn gbk_csv_from_chinese_excel_is_read() {
        let (gbk, _, _) = encoding_rs::GBK.encode("代码,名称\n440000000000,广东省\n");
        let (fc, _) = read_csv(&gbk).unwrap();
        assert_eq!(fc["features"][0]["properties"]["name"], "广东省");
    }

    #[test]
    fn a_sheet_without_a_code_column_is_refused_whole() {
        let e = read_csv("名字,网格员\n广东省,张三\n".as_bytes()).unwrap_err();
        assert!(
            matches!(e, SheetError::File { ref field, .. } if field == "header"),
            "{e:?}"
        );
    }
}
