//! Spreadsheets of the tree (.xlsx and CSV): a header row naming the columns `code`, `name`,
//! `level`, `parent` (or 代码/编码, 名称, 层级/级别, 上级/上级代码), then one node a row, without
//! geometry. The rows become the FeatureCollection the GeoJSON import takes, and the import's
//! refusals are renamed from features to the spreadsheet's own row numbers.
//!
//! Excel keeps codes typed as numbers as floating-point numbers: a code comes back as its
//! digits (441502001001, not 4.41502001001E11 or 441502001001.0), and a code that has already
//! lost digits (more than 15 digits, or written in scientific notation) is refused by row.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Reader};
use serde_json::{json, Map, Value};
use shanzhi_domain::tree::Level;

use crate::http::error::ApiError;
use crate::http::extract::parse_json;

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

/// A cell as it was stored: text, or a number (Excel's numbers are floating-point).
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    /// A date, an error value or a boolean: never a code, a name or a level.
    Other(String),
}

impl Cell {
    fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as a code: digits exactly as they were typed.
    fn code(&self) -> Result<Option<String>, String> {
        match self {
            Cell::Empty => Ok(None),
            Cell::Int(i) => Ok(Some(i.to_string())),
            Cell::Float(f) => float_code(*f).map(Some),
            Cell::Text(s) => text_code(s.trim()),
            Cell::Other(s) => Err(format!("{s} is not a code")),
        }
    }

    /// The cell as text (a name, a level): numbers without a trailing ".0".
    fn text(&self) -> Option<String> {
        let s = match self {
            Cell::Empty => return None,
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Cell::Float(f) => f.to_string(),
            Cell::Text(s) | Cell::Other(s) => s.trim().to_owned(),
        };
        (!s.is_empty()).then_some(s)
    }
}

/// Excel holds 15 significant digits: a whole number below 10^15 is exact.
fn float_code(f: f64) -> Result<String, String> {
    if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1e15 {
        Ok(format!("{}", f as u64))
    } else if f.is_finite() && f >= 1e15 {
        Err(
            "the code is stored as a number of more than 15 digits, and Excel keeps only 15: \
             format the column as text and type the codes again"
                .into(),
        )
    } else {
        Err(format!("{f} is not a code: codes are whole numbers"))
    }
}

/// A code typed as text: as it is, but the forms spreadsheets leave behind are undone
/// (`="441502001001"`, `441502001001.0`), and scientific notation is refused.
fn text_code(s: &str) -> Result<Option<String>, String> {
    let s = s
        .strip_prefix("=\"")
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(s)
        .trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Some((whole, zeros)) = s.split_once('.') {
        if !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && zeros.bytes().all(|b| b == b'0')
        {
            return Ok(Some(whole.to_owned()));
        }
    }
    if let Some((mantissa, exponent)) = s.split_once(['e', 'E']) {
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if !whole.is_empty() && digits(whole) && digits(fraction) && digits(exponent) {
            // Every digit is there only when the fraction reaches the exponent exactly:
            // "4.41502001001002E+14" is 441502001001002, but "4.41502E+11" (how Excel shows
            // 441502001001 in a narrow column) has lost its last digits.
            if exponent.parse::<usize>().ok() == Some(fraction.len()) {
                return Ok(Some(format!("{whole}{fraction}")));
            }
            return Err(format!(
                "the code is written in scientific notation ({s}), which has lost its last \
                 digits: format the column as text and type the codes again"
            ));
        }
    }
    Ok(Some(s.to_owned()))
}

/// The column a header names, if it is one we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Code,
    Name,
    Level,
    Parent,
}

impl Column {
    fn of_header(h: &str) -> Option<Column> {
        let h: String = h
            .trim()
            .trim_start_matches('\u{feff}')
            .trim_matches('*')
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        Some(match h.as_str() {
            "code" | "代码" | "编码" | "区划代码" | "网格代码" | "网格编码" => {
                Column::Code
            }
            "name" | "名称" | "区划名称" | "网格名称" => Column::Name,
            "level" | "层级" | "级别" => Column::Level,
            "parent" | "parent_code" | "上级" | "上级代码" | "上级编码" => Column::Parent,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Column::Code => "code",
            Column::Name => "name",
            Column::Level => "level",
            Column::Parent => "parent",
        }
    }
}

/// A level as written in a spreadsheet: the import's own words, or the Chinese ones.
fn level_word(s: &str) -> String {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.replace('（', "(").replace('）', ")");
    if let Some(l) = Level::ALL.iter().find(|l| l.zh() == t) {
        return l.as_str().to_owned();
    }
    let level = match t.as_str() {
        "省" | "省级" | "自治区" | "直辖市" => Level::Province,
        "市" | "地级市" | "市级" | "地区" | "州" | "盟" => Level::City,
        "县" | "区" | "县区" | "县级" | "县级市" | "旗" => Level::County,
        "镇" | "乡" | "街道" | "乡镇" | "镇街" | "乡镇(街道)" => Level::Town,
        "村" | "社区" | "村社区" | "居委会" | "村委会" => Level::Village,
        "单元" => Level::Unit,
        _ => return s.trim().to_ascii_lowercase(),
    };
    level.as_str().to_owned()
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

/// Reads CSV text: UTF-8 (with or without the byte-order mark Excel writes) or GB18030/GBK
/// (what Excel's plain "CSV" is on Chinese Windows); commas, or tabs or semicolons when the
/// header has no comma.
pub fn read_csv(bytes: &[u8]) -> Result<(Value, Sheet), SheetError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t.trim_start_matches('\u{feff}')),
        Err(_) => {
            let (t, _, bad) = encoding_rs::GB18030.decode(bytes);
            if bad {
                return Err(SheetError::file(
                    "body",
                    "the CSV is neither UTF-8 nor GBK text: save it as \"CSV UTF-8\" or as .xlsx",
                ));
            }
            t
        }
    };
    let header_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = if header_line.contains(',') {
        b','
    } else if header_line.contains('\t') {
        b'\t'
    } else if header_line.contains(';') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    // Lines counted from the records' byte offsets: the reader skips blank lines uncounted.
    let (mut line, mut counted) = (1usize, 0usize);
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            SheetError::file(
                "body",
                format!("the CSV cannot be read at line {line}: {}", e.kind_text()),
            )
        })?;
        // A record's position is where the reader began it, before the blank lines it skipped.
        let mut start = record.position().map_or(counted, |p| p.byte() as usize);
        while matches!(text.as_bytes().get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        line += text
            .as_bytes()
            .get(counted..start)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
        counted = start;
        rows.push((
            line,
            record
                .iter()
                .map(|s| match s.trim() {
                    "" => Cell::Empty,
                    t => Cell::Text(t.to_owned()),
                })
                .collect(),
        ));
    }
    convert(rows)
}

trait KindText {
    fn kind_text(&self) -> String;
}

impl KindText for csv::Error {
    fn kind_text(&self) -> String {
        match self.kind() {
            csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".into(),
            _ => "malformed CSV".into(),
        }
    }
}

/// Reads the first worksheet of an .xlsx workbook.
pub fn read_xlsx(bytes: &[u8]) -> Result<(Value, Sheet), SheetError> {
    let not_xlsx = |e: &dyn std::fmt::Display| {
        SheetError::file(
            "body",
            format!("the file is not an .xlsx workbook that can be read ({e})"),
        )
    };
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| not_xlsx(&e))?;
    let range = match book.worksheet_range_at(0) {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(not_xlsx(&e)),
        None => return Err(SheetError::file("body", "the workbook has no worksheet")),
    };
    // Rows and columns of the range count from its first used cell; the spreadsheet's from A1.
    let (top, left) = range.start().unwrap_or((0, 0));
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, r)| {
            let mut cells = vec![Cell::Empty; left as usize];
            cells.extend(r.iter().map(|d| match d {
                Data::Empty => Cell::Empty,
                Data::String(s) => Cell::Text(s.clone()),
                Data::Int(i) => Cell::Int(*i),
                Data::Float(f) => Cell::Float(*f),
                Data::Bool(b) => Cell::Other(b.to_string()),
                Data::DateTime(d) => Cell::Other(format!("the date {}", d.as_f64())),
                Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Other(s.clone()),
                Data::Error(e) => Cell::Other(format!("the error value {e}")),
            }));
            (top as usize + i + 1, cells)
        })
        .collect();
    convert(rows)
}

/// The import's refusal of a spreadsheet's features told by the spreadsheet's rows: "feature
/// 5" becomes "row 7" in every message, `features[5].x` becomes `rows[7].x`, and each listed
/// error gets its `row`.
pub fn by_rows(mut e: ApiError, rows: &[usize]) -> ApiError {
    e.message = rename(&e.message, rows);
    e.field = e.field.map(|f| rename(&f, rows));
    if let Some(Value::Array(errors)) = e.details.as_mut().and_then(|d| d.get_mut("errors")) {
        for err in errors.iter_mut() {
            if let Some(row) = err
                .get("index")
                .and_then(Value::as_u64)
                .and_then(|i| rows.get(i as usize))
            {
                err["row"] = json!(row);
            }
            if let Some(Value::String(m)) = err.get_mut("message") {
                *m = rename(m, rows);
            }
        }
    }
    e
}

/// Replaces "feature N" / "features[N]" / "feature(s)" with the row words.
fn rename(text: &str, rows: &[usize]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("feature") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "feature".len()..];
        let (open, close, tail) = if let Some(t) = after.strip_prefix("s[") {
            ("rows[", "]", t)
        } else if let Some(t) = after.strip_prefix(' ') {
            ("row ", "", t)
        } else if let Some(t) = after.strip_prefix("(s)") {
            out.push_str("row(s)");
            rest = t;
            continue;
        } else {
            out.push_str("feature");
            rest = after;
            continue;
        };
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        let row = tail[..digits]
            .parse::<usize>()
            .ok()
            .and_then(|i| rows.get(i));
        match row {
            Some(r) if close.is_empty() || tail[digits..].starts_with(close) => {
                out.push_str(open);
                out.push_str(&r.to_string());
                out.push_str(close);
                rest = &tail[digits + close.len()..];
            }
            _ => {
                out.push_str("feature");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_stored_as_numbers_keep_their_digits() {
        assert_eq!(float_code(441502001001.0).unwrap(), "441502001001");
        assert_eq!(float_code(441502001001001.0).unwrap(), "441502001001001");
        assert!(float_code(4415020010010010.0).is_err());
        assert!(float_code(4415.5).is_err());
        assert_eq!(
            text_code("441502001001.0").unwrap().unwrap(),
            "441502001001"
        );
        assert_eq!(
            text_code("=\"441502001001\"").unwrap().unwrap(),
            "441502001001"
        );
        assert!(text_code("4.41502E+11").is_err());
        assert_eq!(
            text_code("4.41502001001002E+14").unwrap().unwrap(),
            "441502001001002"
        );
        assert_eq!(text_code("44150200100a").unwrap().unwrap(), "44150200100a");
        assert_eq!(Cell::Float(12.0).text().unwrap(), "12");
    }

    #[test]
    fn headers_in_english_and_chinese_name_the_same_columns() {
        assert_eq!(Column::of_header(" Code "), Some(Column::Code));
        assert_eq!(Column::of_header("\u{feff}代码"), Some(Column::Code));
        assert_eq!(Column::of_header("*编码"), Some(Column::Code));
        assert_eq!(Column::of_header("名称"), Some(Column::Name));
        assert_eq!(Column::of_header("级别"), Some(Column::Level));
        assert_eq!(Column::of_header("上级代码"), Some(Column::Parent));
        assert_eq!(Column::of_header("网格员"), None);
    }

    #[test]
    fn chinese_level_words_become_the_import_levels() {
        assert_eq!(level_word("街道"), "town");
        assert_eq!(level_word("县（区）"), "county");
        assert_eq!(level_word("微网格"), "micro");
        assert_eq!(level_word("Small"), "small");
        assert_eq!(level_word("网格"), "网格");
    }

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

    #[test]
    fn feature_numbers_in_refusals_become_row_numbers() {
        let rows = [2, 3, 9];
        assert_eq!(
            rename("2 feature(s) refused; first: feature 2 (code 1): duplicate code: feature 0 has it too", &rows),
            "2 row(s) refused; first: row 9 (code 1): duplicate code: row 2 has it too"
        );
        assert_eq!(rename("features[1].geometry", &rows), "rows[3].geometry");
        assert_eq!(rename("a Feature feature 7", &rows), "a Feature feature 7");
    }
}
