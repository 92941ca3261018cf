//! Uploaded workbooks (.xlsx) read as rows of cells, for every import: the first worksheet,
//! cell by cell (never a dense grid sized by what the file claims), within the bounds the
//! import allows, and a malformed workbook is refused, never a panic.
//!
//! Excel keeps codes typed as numbers (region codes, ID numbers, phones) as floating-point
//! numbers: a code comes back as its digits (441502001001, not 4.41502001001E11 or
//! 441502001001.0), and a code that has already lost digits (more than 15 digits, or written in
//! scientific notation) is refused.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use calamine::{DataRef, Reader};

/// The columns an import reads; a cell further right is refused (Excel's own limit is 16,384).
pub const MAX_COLUMNS: u32 = 256;

/// A cell as it was stored: text, or a number (Excel's numbers are floating-point).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    /// A date or date-time cell: Excel's serial day number (days since 1899-12-30).
    Date(f64),
    /// An error value or a boolean: never a code, a name or a level.
    Other(String),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as a code: digits exactly as they were typed.
    pub fn code(&self) -> Result<Option<String>, String> {
        match self {
            Cell::Empty => Ok(None),
            Cell::Int(i) => Ok(Some(i.to_string())),
            Cell::Float(f) => float_code(*f).map(Some),
            Cell::Text(s) => text_code(s.trim()),
            Cell::Date(_) => Err("a date is not a code".into()),
            Cell::Other(s) => Err(format!("{s} is not a code")),
        }
    }

    /// The cell as text (a name, a level): numbers without a trailing ".0".
    pub fn text(&self) -> Option<String> {
        let s = match self {
            Cell::Empty => return None,
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Cell::Float(f) => f.to_string(),
            Cell::Date(d) => match serial_date(*d) {
                Some(day) => day.format("%Y-%m-%d").to_string(),
                None => format!("the date {d}"),
            },
            Cell::Text(s) | Cell::Other(s) => s.trim().to_owned(),
        };
        (!s.is_empty()).then_some(s)
    }

    /// The cell as a day: a date cell, or text written 2026-12-31, 2026/12/31, 2026.12.31,
    /// 20261231 or 2026年12月31日.
    pub fn date(&self) -> Result<Option<chrono::NaiveDate>, String> {
        let text = match self {
            Cell::Empty => return Ok(None),
            Cell::Date(d) => {
                return serial_date(*d)
                    .map(Some)
                    .ok_or_else(|| format!("the date {d} is out of range"))
            }
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Cell::Text(s) => s.trim().to_owned(),
            Cell::Float(_) | Cell::Other(_) => return Err("is not a date YYYY-MM-DD".into()),
        };
        if text.is_empty() {
            return Ok(None);
        }
        let t = text
            .trim_end_matches('日')
            .replace(['年', '月', '/', '.'], "-");
        chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .or_else(|_| chrono::NaiveDate::parse_from_str(&t, "%Y%m%d"))
            .map(Some)
            .map_err(|_| format!("{text} is not a date YYYY-MM-DD"))
    }
}

/// Excel's serial day (1900 date system; the days after 1900-02-28, as every date in use is).
fn serial_date(d: f64) -> Option<chrono::NaiveDate> {
    if !d.is_finite() || !(61.0..2_958_466.0).contains(&d) {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?
        .checked_add_days(chrono::Days::new(d.floor() as u64))
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

/// Why a workbook was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkbookError {
    /// Not an .xlsx workbook that can be read (the reason in English).
    Unreadable(String),
    /// The workbook has no worksheet.
    NoSheet,
    /// More rows than the import takes.
    TooManyRows { limit: usize },
    /// A cell beyond [`MAX_COLUMNS`].
    TooWide { row: usize },
    /// Rows not in order (a workbook written by hand, not by a spreadsheet program).
    OutOfOrder { row: usize },
    /// A CSV file in neither UTF-8 nor GBK.
    NotText,
    /// A CSV file that cannot be read at a line.
    Csv { line: u64, reason: String },
}

impl std::fmt::Display for WorkbookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkbookError::Unreadable(e) => {
                write!(f, "the file is not an .xlsx workbook that can be read ({e})")
            }
            WorkbookError::NoSheet => f.write_str("the workbook has no worksheet"),
            WorkbookError::TooManyRows { limit } => write!(
                f,
                "the worksheet has more than {limit} rows, more than one import takes"
            ),
            WorkbookError::TooWide { row } => write!(
                f,
                "row {row} has a cell beyond column {MAX_COLUMNS}, further right than an import reads"
            ),
            WorkbookError::OutOfOrder { row } => write!(
                f,
                "row {row} comes after a later row: the worksheet's rows are out of order"
            ),
            WorkbookError::NotText => f.write_str(
                "the CSV is neither UTF-8 nor GBK text: save it as \"CSV UTF-8\" or as .xlsx",
            ),
            WorkbookError::Csv { line, reason } => {
                write!(f, "the CSV cannot be read at line {line}: {reason}")
            }
        }
    }
}

/// Reads CSV text row by row, as [`read_rows`] reads a workbook: UTF-8 (with or without the
/// byte-order mark Excel writes) or GB18030/GBK (what Excel's plain "CSV" is on Chinese
/// Windows); commas, or tabs or semicolons when the header has no comma. `row` gets each
/// record with its line number and its cells (empty ones [`Cell::Empty`]).
pub fn read_csv_rows<E: From<WorkbookError>>(
    bytes: &[u8],
    max_rows: usize,
    mut row: impl FnMut(usize, Vec<Cell>) -> Result<(), E>,
) -> Result<(), E> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t.trim_start_matches('\u{feff}')),
        Err(_) => {
            let (t, _, bad) = encoding_rs::GB18030.decode(bytes);
            if bad {
                return Err(WorkbookError::NotText.into());
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
    // Lines counted from the records' byte offsets: the reader skips blank lines uncounted.
    let (mut line, mut counted) = (1usize, 0usize);
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(WorkbookError::Csv {
                    line,
                    reason: e.kind_text(),
                }
                .into());
            }
        }
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
        if line > max_rows {
            return Err(WorkbookError::TooManyRows { limit: max_rows }.into());
        }
        row(
            line,
            record
                .iter()
                .map(|s| match s.trim() {
                    "" => Cell::Empty,
                    t => Cell::Text(t.to_owned()),
                })
                .collect(),
        )?;
    }
    Ok(())
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

/// Reads the first worksheet of an .xlsx workbook row by row: `row` gets each row that has a
/// cell, with its 1-based number as the spreadsheet shows it and its cells from column A.
/// Rows past `max_rows` (by number) are refused; `row` may stop the reading with its own error.
pub fn read_rows<E: From<WorkbookError>>(
    bytes: &[u8],
    max_rows: usize,
    mut row: impl FnMut(usize, Vec<Cell>) -> Result<(), E>,
) -> Result<(), E> {
    let mut inner = || -> Result<(), E> {
        let unreadable = |e: calamine::XlsxError| WorkbookError::Unreadable(e.to_string());
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(unreadable)?;
        let Some(name) = book.sheet_names().first().cloned() else {
            return Err(WorkbookError::NoSheet.into());
        };
        let mut cells = book.worksheet_cells_reader(&name).map_err(unreadable)?;
        let mut current: Option<(usize, Vec<Cell>)> = None;
        while let Some(cell) = cells.next_cell().map_err(unreadable)? {
            let (r, c) = cell.get_position();
            let number = r as usize + 1;
            if number > max_rows {
                return Err(WorkbookError::TooManyRows { limit: max_rows }.into());
            }
            if c >= MAX_COLUMNS {
                return Err(WorkbookError::TooWide { row: number }.into());
            }
            let value = match cell.get_value() {
                DataRef::Empty => continue,
                DataRef::String(s) => Cell::Text(s.clone()),
                DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
                DataRef::Int(i) => Cell::Int(*i),
                DataRef::Float(f) => Cell::Float(*f),
                DataRef::Bool(b) => Cell::Other(b.to_string()),
                DataRef::DateTime(d) => Cell::Date(d.as_f64()),
                DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Other(s.clone()),
                DataRef::Error(e) => Cell::Other(format!("the error value {e}")),
            };
            match current.take() {
                Some((n, _)) if n > number => {
                    return Err(WorkbookError::OutOfOrder { row: number }.into())
                }
                Some((n, done)) if n < number => {
                    row(n, done)?;
                    current = Some((number, Vec::new()));
                }
                Some(same) => current = Some(same),
                None => current = Some((number, Vec::new())),
            }
            let (_, line) = current.as_mut().expect("a current row");
            let c = c as usize;
            if line.len() <= c {
                line.resize(c + 1, Cell::Empty);
            }
            line[c] = value;
        }
        if let Some((n, done)) = current {
            row(n, done)?;
        }
        Ok(())
    };
    // calamine does its cell-reference arithmetic unchecked: a reference such as A99999999999
    // overflows, a panic where overflow checks are on (tests, the fuzzer). Such a file is
    // malformed: it is refused like any other.
    match catch_unwind(AssertUnwindSafe(&mut inner)) {
        Ok(result) => result,
        Err(_) => Err(WorkbookError::Unreadable("a malformed cell reference".into()).into()),
    }
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

    /// An input the fuzzer found (fuzz/tree_sheet; its first byte picks the reader).
    #[test]
    fn a_cell_reference_past_any_row_is_refused_not_panicked_on() {
        let data = include_bytes!("../tests/fixtures/fuzz-tree_sheet-5836b8e7.bin");
        let e = read_rows::<WorkbookError>(&data[1..], 1_048_576, |_, _| Ok(())).unwrap_err();
        assert!(matches!(e, WorkbookError::Unreadable(_)), "{e:?}");
    }

    #[test]
    fn rows_come_with_their_numbers_and_cells_from_column_a() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "代码").unwrap();
        sheet.write_number(2, 1, 441502001001.0).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let mut rows = Vec::new();
        read_rows::<WorkbookError>(&bytes, 10, |n, cells| {
            rows.push((n, cells));
            Ok(())
        })
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], (1, vec![Cell::Text("代码".into())]));
        assert_eq!(rows[1].0, 3);
        assert_eq!(rows[1].1[0], Cell::Empty);
        assert_eq!(
            rows[1].1[1].code().unwrap().as_deref(),
            Some("441502001001")
        );
        let e = read_rows::<WorkbookError>(&bytes, 2, |_, _| Ok(())).unwrap_err();
        assert_eq!(e, WorkbookError::TooManyRows { limit: 2 });
    }

    #[test]
    fn dates_are_read_from_date_cells_and_the_ways_people_type_them() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let day = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        sheet.write_number_with_format(0, 0, 46387.0, &day).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let mut cells = Vec::new();
        read_rows::<WorkbookError>(&bytes, 10, |_, c| {
            cells = c;
            Ok(())
        })
        .unwrap();
        let want = chrono::NaiveDate::from_ymd_opt(2026, 12, 31);
        assert_eq!(cells[0].date().unwrap(), want);
        assert_eq!(cells[0].text().as_deref(), Some("2026-12-31"));
        for typed in [
            "2026-12-31",
            "2026/12/31",
            "2026.12.31",
            "20261231",
            "2026年12月31日",
        ] {
            assert_eq!(Cell::Text(typed.into()).date().unwrap(), want, "{typed}");
        }
        assert_eq!(Cell::Empty.date().unwrap(), None);
        assert!(Cell::Text("2026-13-01".into()).date().is_err());
        assert!(Cell::Text("明年".into()).date().is_err());
        assert!(Cell::Date(46387.0).code().is_err());
    }
}
