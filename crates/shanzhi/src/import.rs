//! What every import of a register from a spreadsheet shares (residents, places,
//! organisations, buildings and houses): the two modes, the errors of a row and the answer
//! naming them, the refusal, the check that a row's node exists and lies in the importer's
//! scope, and the reading of a row's grid and point.

use std::collections::HashMap;

use chrono::{Datelike, FixedOffset, TimeZone};
use serde::Serialize;
use serde_json::json;
use shanzhi_domain::house::parse_point;
use shanzhi_domain::resident::base_access;
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::{Actor, Scope};
use shanzhi_domain::DomainError;
use shanzhi_store::Db;

use rust_xlsxwriter::{DataValidation, Format as XlsxFormat, Note, Workbook, XlsxError};

use crate::http::error::ApiError;
use crate::tree::sheet::Format;
use crate::workbook::{Cell, WorkbookError};

/// The most rows one import reads (an Excel worksheet's limit).
pub const MAX_ROWS: usize = 1_048_576;
/// The most bad rows an answer lists one by one (`errors_total` counts them all).
pub const MAX_LISTED: usize = 1_000;

/// What happens to the good rows when some are bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Any bad row: nothing is written.
    AllOrNothing,
    /// The good rows are written, the bad ones reported.
    ValidRows,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "all_or_nothing" => Some(Mode::AllOrNothing),
            "valid_rows" => Some(Mode::ValidRows),
            _ => None,
        }
    }
}

/// What is wrong with one row: its number as the spreadsheet shows it, the column's header as
/// the file has it, and the reason (in English). Answered with the reason's stable key and its
/// values (`reason_key`, `params`: see [`crate::http::reason`]), so that a page can say it in
/// its user's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub reason: String,
}

impl Serialize for RowError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (key, params) = crate::http::reason::reason_of("invalid_row", &self.reason);
        json!({
            "row": self.row,
            "column": self.column,
            "reason": self.reason,
            "reason_key": key,
            "params": params,
        })
        .serialize(s)
    }
}

/// An import's answer, as far as a refusal needs it.
pub trait RowReport: Serialize {
    /// Rows not written because they are bad.
    fn refused(&self) -> usize;
    /// The bad rows' errors listed, in row order.
    fn errors(&self) -> &[RowError];
}

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum Refusal<R> {
    /// The file cannot be read, or its header names no usable columns.
    File(ApiError),
    /// All or nothing, and rows are bad: the report names them.
    Rows(R),
    Store(shanzhi_store::StoreError),
}

impl<R: RowReport> From<Refusal<R>> for ApiError {
    fn from(r: Refusal<R>) -> ApiError {
        match r {
            Refusal::File(e) => e,
            Refusal::Store(e) => e.into(),
            Refusal::Rows(report) => {
                let (field, message) = match report.errors().first() {
                    Some(first) => (
                        format!("rows[{}].{}", first.row, first.column),
                        format!(
                            "{} row(s) refused, nothing was written; first: row {}, {}: {}",
                            report.refused(),
                            first.row,
                            first.column,
                            first.reason
                        ),
                    ),
                    None => (
                        "body".to_owned(),
                        "rows refused, nothing was written".to_owned(),
                    ),
                };
                let mut e = ApiError::invalid(field, message);
                e.code = "invalid_import";
                e.with_details(json!({ "report": report }))
            }
        }
    }
}

impl<R> From<shanzhi_store::StoreError> for Refusal<R> {
    fn from(e: shanzhi_store::StoreError) -> Self {
        Refusal::Store(e)
    }
}

impl<R> From<WorkbookError> for Refusal<R> {
    fn from(e: WorkbookError) -> Self {
        file_error("body", e.to_string())
    }
}

/// A refusal of the file as a whole.
pub fn file_error<R>(field: &str, message: impl Into<String>) -> Refusal<R> {
    let mut e = ApiError::invalid(field, message);
    e.code = "invalid_import";
    Refusal::File(e)
}

/// A domain error's reason, for a row's report.
pub fn reason_of(e: DomainError) -> String {
    match e {
        DomainError::Invalid { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// (year, month, day) of `now_ms` in China.
pub fn china_today(now_ms: i64) -> (u16, u8, u8) {
    let china = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let d = china
        .timestamp_millis_opt(now_ms)
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default();
    (d.year() as u16, d.month() as u8, d.day() as u8)
}

/// A header cell as the imports compare it: without a byte-order mark, the `*` of a required
/// column, spaces and underscores, in lower case.
pub fn header_key(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .trim_matches('*')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .collect::<String>()
        .to_lowercase()
}

/// The nodes rows name, checked once each: `known` remembers every code seen, with the reason
/// its rows are refused (no such node, or outside the importer's scope) or None.
#[derive(Default)]
pub struct Nodes {
    known: HashMap<String, Option<String>>,
}

impl Nodes {
    /// Looks up the codes not seen before (`actor` None: the command line, every node).
    pub async fn check<'a>(
        &mut self,
        db: &Db,
        actor: Option<&Actor>,
        codes: impl IntoIterator<Item = &'a NodeCode>,
    ) -> Result<(), shanzhi_store::StoreError> {
        let mut new: Vec<&NodeCode> = Vec::new();
        for c in codes {
            if !self.known.contains_key(c.as_str()) && !new.contains(&c) {
                new.push(c);
            }
        }
        if new.is_empty() {
            return Ok(());
        }
        let strs: Vec<&str> = new.iter().map(|c| c.as_str()).collect();
        let found: std::collections::HashSet<String> = shanzhi_store::node::by_codes(db, &strs)
            .await?
            .into_iter()
            .map(|n| n.code.as_str().to_owned())
            .collect();
        for node in new {
            let refusal = if !found.contains(node.as_str()) {
                Some(format!("no grid or region {node}"))
            } else if actor.is_some_and(|a| !base_access(a, node).write) {
                Some(format!("{node} is outside your scope"))
            } else {
                None
            };
            self.known.insert(node.as_str().to_owned(), refusal);
        }
        Ok(())
    }

    /// Why rows at `node` are refused, once [`Nodes::check`] has seen it.
    pub fn refusal(&self, node: &NodeCode) -> Option<&str> {
        self.known.get(node.as_str()).and_then(|r| r.as_deref())
    }
}

/// The bad rows' errors for an answer: in row order, at most [`MAX_LISTED`]; with their total
/// and the number of rows they fall on.
pub fn listed(mut errors: Vec<RowError>) -> (Vec<RowError>, usize, usize) {
    errors.sort_by_key(|e| e.row);
    let refused = errors
        .iter()
        .map(|e| e.row)
        .collect::<std::collections::HashSet<_>>()
        .len();
    let total = errors.len();
    errors.truncate(MAX_LISTED);
    (errors, total, refused)
}

/// An import request's query: `mode`, `format`, `node` and the file's `name`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    pub mode: Option<String>,
    pub format: Option<String>,
    pub node: Option<String>,
    pub name: Option<String>,
}

impl ImportQuery {
    /// What `actor` asks for when they import `what` (residents, places …): the mode, the
    /// file's kind (by `format`, else its content type) and the grid of rows that name none.
    /// Who may not import at all is refused first.
    pub fn params(
        &self,
        actor: &Actor,
        what: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(Mode, Format, Option<NodeCode>), ApiError> {
        may_import(actor, what)?;
        Ok((
            mode_param(self.mode.as_deref())?,
            format_param(self.format.as_deref(), content_type, body)?,
            node_param(actor, self.node.as_deref(), what)?,
        ))
    }
}

/// The `mode` of an import request (default all or nothing).
pub fn mode_param(raw: Option<&str>) -> Result<Mode, ApiError> {
    match raw {
        None => Ok(Mode::AllOrNothing),
        Some(m) => Mode::parse(m)
            .ok_or_else(|| ApiError::invalid("mode", "must be all_or_nothing or valid_rows")),
    }
}

/// The file's kind: as the `format` parameter says, else by its content type (a body that
/// starts like a zip is a workbook).
pub fn format_param(
    raw: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Format, ApiError> {
    match raw {
        Some("xlsx") => Ok(Format::Xlsx),
        Some("csv") => Ok(Format::Csv),
        Some(_) => Err(ApiError::invalid("format", "must be xlsx or csv")),
        None => Ok(match Format::of_content_type(content_type) {
            Format::Geojson if body.starts_with(b"PK") => Format::Xlsx,
            Format::Geojson => Format::Csv,
            f => f,
        }),
    }
}

/// May `actor` import `what` (residents, places) at all: they write base data in their scope.
pub fn may_import(actor: &Actor, what: &str) -> Result<(), ApiError> {
    match &actor.scope {
        Scope::Node(n) if base_access(actor, n).write => Ok(()),
        _ => Err(ApiError::forbidden(format!("you may not import {what}"))),
    }
}

/// The `node` of an import request (the grid of rows that name none): one the actor reads
/// (else not found) and writes (else forbidden).
pub fn node_param(
    actor: &Actor,
    raw: Option<&str>,
    what: &str,
) -> Result<Option<NodeCode>, ApiError> {
    let Some(c) = raw else { return Ok(None) };
    let code = NodeCode::parse(c).map_err(|_| ApiError::not_found("node"))?;
    let access = base_access(actor, &code);
    if !access.read {
        return Err(ApiError::not_found("node"));
    }
    if !access.write {
        return Err(ApiError::forbidden(format!(
            "you may not import {what} here"
        )));
    }
    Ok(Some(code))
}

/// One import's input, whatever the register.
pub struct Request<'a> {
    pub bytes: axum::body::Bytes,
    pub format: Format,
    pub mode: Mode,
    /// The grid of rows that name none.
    pub node: Option<NodeCode>,
    /// Who imports (None: the command line, which reaches every node).
    pub actor: Option<&'a Actor>,
    /// The file's name, for the audit row.
    pub file_name: &'a str,
    pub now_ms: i64,
}

/// The registers of named records imported by [`read_sheet`] and [`check_rows`] (residents,
/// with their personal data and households, have an import of their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Register {
    Places,
    Organisations,
    /// Buildings and their houses (楼栋 / 房屋): a row a house, or a building without houses.
    Buildings,
}

impl Register {
    /// The register's word in paths and messages.
    pub fn word(self) -> &'static str {
        match self {
            Register::Places => "places",
            Register::Organisations => "organisations",
            Register::Buildings => "buildings",
        }
    }

    /// Reads, checks and (by the mode) writes an import of this register.
    pub async fn import(
        self,
        db: &Db,
        req: Request<'_>,
    ) -> Result<RegisterReport, Refusal<RegisterReport>> {
        match self {
            Register::Places => crate::place::import::import(db, req).await,
            Register::Organisations => crate::organisation::import::import(db, req).await,
            Register::Buildings => crate::house::import::import(db, req).await,
        }
    }

    /// The import's template (.xlsx), and its file names in English and Chinese.
    pub fn template(self) -> Result<(Vec<u8>, &'static str, &'static str), XlsxError> {
        Ok(match self {
            Register::Places => (
                crate::place::import::template()?,
                "places-template.xlsx",
                "场所导入模板.xlsx",
            ),
            Register::Organisations => (
                crate::organisation::import::template()?,
                "organisations-template.xlsx",
                "组织导入模板.xlsx",
            ),
            Register::Buildings => (
                crate::house::import::template()?,
                "buildings-template.xlsx",
                "楼栋房屋导入模板.xlsx",
            ),
        })
    }
}

/// A column of an import's template: its header, the note on it, its width, whether its cells
/// are text (codes keep every digit) or dates, and the words of its drop-down list.
pub struct TemplateColumn<'a> {
    pub header: &'a str,
    pub note: &'a str,
    pub width: f64,
    pub text: bool,
    pub date: bool,
    pub list: Option<&'a [&'a str]>,
}

/// A template (.xlsx) of one sheet named `sheet`: the bold header row with a note on each
/// cell, the formats and drop-down lists over the first 100,000 rows, the header frozen.
pub fn template(sheet: &str, columns: &[TemplateColumn]) -> Result<Vec<u8>, XlsxError> {
    const ROWS: u32 = 100_000;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet)?;
    let bold = XlsxFormat::new().set_bold();
    let text = XlsxFormat::new().set_num_format("@");
    let day = XlsxFormat::new().set_num_format("yyyy-mm-dd");
    for (c, column) in columns.iter().enumerate() {
        let c = c as u16;
        ws.write_string_with_format(0, c, column.header, &bold)?;
        ws.insert_note(0, c, &Note::new(column.note).set_author("善治"))?;
        ws.set_column_width(c, column.width)?;
        if column.text {
            ws.set_column_format(c, &text)?;
        } else if column.date {
            ws.set_column_format(c, &day)?;
        }
        if let Some(list) = column.list {
            let dv = DataValidation::new().allow_list_strings(list)?;
            ws.add_data_validation(1, c, ROWS, c, &dv)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    wb.save_to_buffer()
}

/// A cell that must be filled, read by `parse`: the value, or the reason (`missing`, or what
/// `parse` says of it).
pub fn required<T>(
    text: Option<String>,
    missing: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, String> {
    match text {
        None => Err(missing.to_owned()),
        Some(t) => parse(&t),
    }
}

/// Which coordinate of a point a reason is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Lon,
    Lat,
}

/// Why a row's point is refused: the reasons, each with the coordinate it is about.
pub type PointErrors = Vec<(Axis, String)>;

/// A row's point (lon, lat) from its longitude and latitude cells (numbers, or text of
/// numbers): both or neither, each in range; else what is wrong.
pub fn point_of(lon: &Cell, lat: &Cell) -> Result<Option<(f64, f64)>, PointErrors> {
    let degrees = |c: &Cell| -> Result<Option<f64>, String> {
        match c {
            Cell::Int(i) => Ok(Some(*i as f64)),
            Cell::Float(f) => Ok(Some(*f)),
            other => match other.text() {
                None => Ok(None),
                Some(t) => t
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| format!("{t} is not a number of degrees")),
            },
        }
    };
    match (degrees(lon), degrees(lat)) {
        (Ok(lon), Ok(lat)) => match parse_point(lon, lat) {
            Ok(p) => Ok(p.map(|p| (p.lon(), p.lat()))),
            Err(e) => {
                let axis = match &e {
                    DomainError::Invalid { field, .. } if field == "lon" => Axis::Lon,
                    _ => Axis::Lat,
                };
                Err(vec![(axis, reason_of(e))])
            }
        },
        (lon, lat) => Err([(Axis::Lon, lon.err()), (Axis::Lat, lat.err())]
            .into_iter()
            .filter_map(|(axis, reason)| reason.map(|r| (axis, r)))
            .collect()),
    }
}

/// A row's grid: the code in its cell, else the import's; the reason when neither will do.
pub fn node_of(cell: &Cell, default: Option<&NodeCode>) -> Result<NodeCode, String> {
    match cell.code()? {
        Some(c) => {
            NodeCode::parse(&c).map_err(|e| format!("{c} is not a grid code: {}", reason_of(e)))
        }
        None => default
            .cloned()
            .ok_or_else(|| "the grid is missing (or name one for the whole import)".to_owned()),
    }
}

/// A column of a register's sheet.
pub trait SheetColumn: Copy + Eq + 'static {
    /// Every column, in the template's order.
    const ALL: &'static [Self];
    /// The column a header cell names, if the import reads it.
    fn of_header(h: &str) -> Option<Self>;
    /// The header the template writes.
    fn header(self) -> &'static str;
    /// What the template's note says of the column.
    fn note(self) -> &'static str;
}

/// A register's sheet: the columns its header may name and how one data row reads.
pub trait Sheet {
    type Column: SheetColumn;
    type Row;
    /// The column a header must name to be a sheet of this register.
    const NAME: Self::Column;
    /// What the header is told when it lacks [`Sheet::NAME`]: the columns it may have.
    const HEADER_HELP: &'static str;
    /// One data row, or what is wrong with it.
    fn read(
        &self,
        columns: &Columns<Self::Column>,
        row: usize,
        cells: &[Cell],
    ) -> Result<Self::Row, Vec<RowError>>;
}

/// The columns of a sheet that say where a record is: its grid, address and point.
pub struct Whereabouts<C> {
    pub node: C,
    pub address: C,
    pub lon: C,
    pub lat: C,
}

/// A row's grid (its cell's, else `default_node`), address and point; each bad cell is
/// reported through `bad` (column, reason) and read as missing.
pub fn whereabouts<C: SheetColumn>(
    columns: &Columns<C>,
    cells: &[Cell],
    default_node: Option<&NodeCode>,
    w: &Whereabouts<C>,
    bad: &mut impl FnMut(C, String),
) -> (Option<NodeCode>, Option<String>, Option<(f64, f64)>) {
    let node = node_of(columns.cell(cells, w.node), default_node)
        .map_err(|reason| bad(w.node, reason))
        .ok();
    let address = columns
        .cell(cells, w.address)
        .text()
        .and_then(|a| {
            shanzhi_domain::house::parse_address(&a)
                .map_err(|e| bad(w.address, reason_of(e)))
                .ok()
        })
        .flatten();
    let point = match point_of(columns.cell(cells, w.lon), columns.cell(cells, w.lat)) {
        Ok(p) => p,
        Err(reasons) => {
            for (axis, reason) in reasons {
                let column = match axis {
                    Axis::Lon => w.lon,
                    Axis::Lat => w.lat,
                };
                bad(column, reason);
            }
            None
        }
    };
    (node, address, point)
}

/// The columns a file's header names: each with its position and the header as written.
pub struct Columns<C> {
    pub found: Vec<(usize, C, String)>,
}

impl<C: SheetColumn> Columns<C> {
    /// The cell of column `c` in `cells` (empty when the file has no such column).
    pub fn cell<'a>(&self, cells: &'a [Cell], c: C) -> &'a Cell {
        self.found
            .iter()
            .find(|(_, k, _)| *k == c)
            .and_then(|(i, _, _)| cells.get(*i))
            .unwrap_or(&Cell::Empty)
    }

    /// The header the file has for column `c`, or the template's when it has none.
    pub fn header_of(&self, c: C) -> String {
        self.found
            .iter()
            .find(|(_, k, _)| *k == c)
            .map_or_else(|| c.header().to_owned(), |(_, _, h)| h.clone())
    }
}

/// A sheet read: its columns, the rows read (header and blank rows not counted), the good rows
/// with their numbers, the bad rows' errors and the header cells not read.
pub struct SheetRead<C, R> {
    pub columns: Columns<C>,
    pub rows: usize,
    pub good: Vec<(usize, R)>,
    pub errors: Vec<RowError>,
    pub ignored: Vec<String>,
}

/// Reads a whole sheet of `S` from `bytes`: the first non-blank row is the header.
pub fn read_sheet<S: Sheet, R>(
    sheet: &S,
    bytes: &[u8],
    format: Format,
) -> Result<SheetRead<S::Column, S::Row>, Refusal<R>> {
    let mut out = SheetRead {
        columns: Columns { found: Vec::new() },
        rows: 0,
        good: Vec::new(),
        errors: Vec::new(),
        ignored: Vec::new(),
    };
    let mut header_seen = false;
    let mut on_row = |row: usize, cells: Vec<Cell>| -> Result<(), Refusal<R>> {
        if cells.iter().all(Cell::is_empty) {
            return Ok(());
        }
        if !header_seen {
            header_seen = true;
            for (i, cell) in cells.iter().enumerate() {
                let Some(h) = cell.text() else { continue };
                match S::Column::of_header(&h) {
                    Some(c) if out.columns.found.iter().any(|(_, k, _)| *k == c) => {
                        return Err(file_error(
                            "header",
                            format!("row {row}: two columns are {}", c.header()),
                        ))
                    }
                    Some(c) => out.columns.found.push((i, c, h)),
                    None => out.ignored.push(h),
                }
            }
            if !out.columns.found.iter().any(|(_, c, _)| *c == S::NAME) {
                return Err(file_error(
                    "header",
                    format!(
                        "the first row (row {row}) must name the columns: {}",
                        S::HEADER_HELP
                    ),
                ));
            }
            return Ok(());
        }
        out.rows += 1;
        match sheet.read(&out.columns, row, &cells) {
            Ok(r) => out.good.push((row, r)),
            Err(e) => out.errors.extend(e),
        }
        Ok(())
    };
    match format {
        Format::Xlsx => crate::workbook::read_rows(bytes, MAX_ROWS, &mut on_row)?,
        Format::Csv => crate::workbook::read_csv_rows(bytes, MAX_ROWS, &mut on_row)?,
        Format::Geojson => return Err(file_error("format", "must be xlsx or csv")),
    }
    if !header_seen {
        return Err(file_error("header", "the spreadsheet is empty"));
    }
    Ok(out)
}

/// What a register row is known by: its node and its name, unique together.
pub trait Named {
    fn node(&self) -> &NodeCode;
    fn name(&self) -> &str;
}

impl<C, R: Named> SheetRead<C, R> {
    /// The nodes the good rows name, each once.
    pub fn nodes(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> =
            self.good.iter().map(|(_, r)| r.node().as_str()).collect();
        set.into_iter().map(str::to_owned).collect()
    }
}

/// Checks the good rows of `read` against the register: the node known and inside `actor`'s
/// scope, the name not registered at its node (`stored`: the (node, name) pairs there already)
/// nor on an earlier row. The rows refused move to the errors, under the `node` or `name` column.
pub async fn check_rows<C: SheetColumn, R: Named>(
    db: &Db,
    actor: Option<&Actor>,
    read: &mut SheetRead<C, R>,
    stored: &std::collections::HashSet<(String, String)>,
    (node_col, name_col): (C, C),
) -> Result<(), shanzhi_store::StoreError> {
    let mut nodes = Nodes::default();
    nodes
        .check(db, actor, read.good.iter().map(|(_, r)| r.node()))
        .await?;
    let mut first_row: HashMap<(String, String), usize> = HashMap::new();
    let mut kept = Vec::with_capacity(read.good.len());
    for (row, r) in std::mem::take(&mut read.good) {
        let key = (r.node().as_str().to_owned(), r.name().to_owned());
        let refusal = if let Some(reason) = nodes.refusal(r.node()) {
            Some((read.columns.header_of(node_col), reason.to_owned()))
        } else if stored.contains(&key) {
            Some((
                read.columns.header_of(name_col),
                format!("{} is registered here already", r.name()),
            ))
        } else if let Some(first) = first_row.get(&key) {
            Some((
                read.columns.header_of(name_col),
                format!("the same name is on row {first}"),
            ))
        } else {
            None
        };
        match refusal {
            Some((column, reason)) => read.errors.push(RowError {
                row,
                column,
                reason,
            }),
            None => {
                first_row.insert(key, row);
                kept.push((row, r));
            }
        }
    }
    read.good = kept;
    Ok(())
}

/// What an import of a register (places, organisations, buildings and houses) did.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterReport {
    pub mode: Mode,
    /// Data rows read (the header and blank rows not counted).
    pub rows: usize,
    /// Records written.
    pub written: usize,
    /// Of the records written, the buildings created (the building import only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buildings: Option<usize>,
    /// Of the records written, the houses created (the building import only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub houses: Option<usize>,
    /// Rows not written because they are bad.
    pub refused: usize,
    /// The bad rows' errors, at most [`MAX_LISTED`], in row order.
    pub errors: Vec<RowError>,
    pub errors_total: usize,
    /// Header cells of columns the import does not read.
    pub ignored_columns: Vec<String>,
}

impl RowReport for RegisterReport {
    fn refused(&self) -> usize {
        self.refused
    }
    fn errors(&self) -> &[RowError] {
        &self.errors
    }
}

impl<C, R> SheetRead<C, R> {
    /// The report of what was read and refused, and the good rows to write (none when the
    /// import is all or nothing and a row is bad: then the report is the refusal).
    pub fn report(self, mode: Mode) -> Result<(RegisterReport, Vec<R>), Refusal<RegisterReport>> {
        let (errors, errors_total, refused) = listed(self.errors);
        let report = RegisterReport {
            mode,
            rows: self.rows,
            written: 0,
            buildings: None,
            houses: None,
            refused,
            errors,
            errors_total,
            ignored_columns: self.ignored,
        };
        if refused > 0 && mode == Mode::AllOrNothing {
            return Err(Refusal::Rows(report));
        }
        Ok((report, self.good.into_iter().map(|(_, r)| r).collect()))
    }
}

/// The audit row of an import that wrote `written` of its rows.
pub fn audit_entry(
    actor: Option<&Actor>,
    action: &str,
    entity: &str,
    file_name: &str,
    report: &RegisterReport,
    written: usize,
) -> shanzhi_store::audit::AuditEntry {
    shanzhi_store::audit::AuditEntry::new(actor.map(|a| a.user_id), action, entity, "*").after(
        json!({
            "file": file_name,
            "mode": report.mode,
            "rows": report.rows,
            "written": written,
            "refused": report.refused,
        }),
    )
}
