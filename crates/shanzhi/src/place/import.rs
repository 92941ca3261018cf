//! Importing places (场所) from a spreadsheet (.xlsx or CSV): each row checked (name, kind,
//! grid known and inside the importer's scope, point, licence and its expiry, the last safety
//! check and its result; a name new to its grid, in the file and in the register), a report
//! naming every bad row and column, and the good rows written in one transaction with their
//! counts — all or nothing, or the valid rows only. Each place's next check follows its kind
//! and its last check, as if the check had been recorded. One audit row records the import.

use std::collections::HashSet;

use shanzhi_domain::calendar::{local_date, local_ms};
use shanzhi_domain::place::{parse_place_name, CheckResult, Licence, PlaceKind};
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::place::{Counts, NewPlace};
use shanzhi_store::Db;

use super::column::Column;
use crate::import::{
    audit_entry, check_rows, read_sheet, reason_of, required, whereabouts, Columns, Named,
    RegisterReport, Request, RowError, Sheet, SheetColumn, TemplateColumn, Whereabouts,
};
use crate::workbook::Cell;

/// Why an import of places wrote nothing.
pub type Refusal = crate::import::Refusal<RegisterReport>;

/// A row read and checked on its own.
pub struct Draft {
    node: NodeCode,
    place: NewPlace,
}

impl Named for Draft {
    fn node(&self) -> &NodeCode {
        &self.node
    }
    fn name(&self) -> &str {
        &self.place.name
    }
}

/// The place sheet: rows without a grid go to `default_node`; `now_ms` schedules checks.
struct Places<'a> {
    default_node: Option<&'a NodeCode>,
    now_ms: i64,
}

impl Sheet for Places<'_> {
    type Column = Column;
    type Row = Draft;
    const NAME: Column = Column::Name;
    const HEADER_HELP: &'static str =
        "场所名称 (name) is needed, and 场所类型, 所属网格代码… may follow";

    fn read(
        &self,
        columns: &Columns<Column>,
        row: usize,
        cells: &[Cell],
    ) -> Result<Draft, Vec<RowError>> {
        read_row(columns, self.default_node, self.now_ms, row, cells)
    }
}

/// One data row: the place, or what is wrong with it.
fn read_row(
    columns: &Columns<Column>,
    default_node: Option<&NodeCode>,
    now_ms: i64,
    row: usize,
    cells: &[Cell],
) -> Result<Draft, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut bad = |c: Column, reason: String| {
        errors.push(RowError {
            row,
            column: columns.header_of(c),
            reason,
        })
    };
    let cell = |c: Column| columns.cell(cells, c);
    let text = |c: Column| cell(c).text();
    let name = required(text(Column::Name), "the name is missing", |n| {
        parse_place_name(n).map_err(reason_of)
    })
    .map_err(|r| bad(Column::Name, r))
    .ok();
    let kind = required(text(Column::Kind), "the kind of place is missing", |k| {
        PlaceKind::of_word(k).ok_or_else(|| {
            format!("{k} is not a kind of place (商铺, 学校, 医院, 企业场所 or one of the nine small places)")
        })
    })
    .map_err(|r| bad(Column::Kind, r))
    .ok();
    let (node, address, point) = whereabouts(
        columns,
        cells,
        default_node,
        &Whereabouts {
            node: Column::Node,
            address: Column::Address,
            lon: Column::Lon,
            lat: Column::Lat,
        },
        &mut bad,
    );
    let expires = match cell(Column::LicenceExpires).date() {
        Ok(d) => d.map(|d| d.format("%Y-%m-%d").to_string()),
        Err(reason) => {
            bad(Column::LicenceExpires, reason);
            None
        }
    };
    let licence = match Licence::parse(text(Column::LicenceNo).as_deref(), expires.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            let column = match &e {
                shanzhi_domain::DomainError::Invalid { field, .. }
                    if field == "licence_expires" =>
                {
                    Column::LicenceExpires
                }
                _ => Column::LicenceNo,
            };
            bad(column, reason_of(e));
            None
        }
    };
    let checked = match cell(Column::LastCheck).date() {
        Ok(Some(d)) if d > local_date(now_ms) => {
            bad(
                Column::LastCheck,
                "the last check cannot be after today".into(),
            );
            None
        }
        Ok(d) => d,
        Err(reason) => {
            bad(Column::LastCheck, reason);
            None
        }
    };
    let result = text(Column::LastResult).and_then(|r| {
        CheckResult::of_word(&r).or_else(|| {
            bad(
                Column::LastResult,
                format!("{r} is not 合格, 发现隐患 or 不合格"),
            );
            None
        })
    });
    let last_check = match (checked, result, text(Column::LastResult).is_some()) {
        // Checked in the middle of the day it was on.
        (Some(d), Some(r), _) => Some((local_ms(d, 12 * 60), r)),
        (Some(_), None, false) => {
            bad(
                Column::LastResult,
                "give the result with the check's date".into(),
            );
            None
        }
        (None, Some(_), _) if cell(Column::LastCheck).is_empty() => {
            bad(
                Column::LastCheck,
                "give the check's date with its result".into(),
            );
            None
        }
        _ => None,
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(name), Some(kind), Some(node)) = (name, kind, node) else {
        return Err(errors);
    };
    let next_check_at = match last_check {
        Some((at, r)) => kind.next_check_at(r, at),
        None => kind.first_check_at(now_ms),
    };
    Ok(Draft {
        place: NewPlace {
            node_code: node.as_str().to_owned(),
            kind: kind.as_str().to_owned(),
            name,
            address,
            point,
            licence_no: licence.as_ref().map(|l| l.number.clone()),
            licence_expires: licence
                .and_then(|l| l.expires)
                .map(|d| d.format("%Y-%m-%d").to_string()),
            next_check_at,
            last_check: last_check.map(|(at, r)| (at, r.as_str().to_owned())),
        },
        node,
    })
}

/// Reads, checks and (by the mode) writes an import of places.
pub async fn import(db: &Db, req: Request<'_>) -> Result<RegisterReport, Refusal> {
    let sheet = Places {
        default_node: req.node.as_ref(),
        now_ms: req.now_ms,
    };
    let mut read = read_sheet(&sheet, &req.bytes, req.format)?;
    // Against the register: the grid known and in scope, the name new to its grid.
    let stored: HashSet<(String, String)> = shanzhi_store::place::names_at(db, &read.nodes())
        .await?
        .into_iter()
        .collect();
    check_rows(
        db,
        req.actor,
        &mut read,
        &stored,
        (Column::Node, Column::Name),
    )
    .await?;
    let (mut report, good) = read.report(req.mode)?;
    if !good.is_empty() {
        let audit = audit_entry(
            req.actor,
            "place.import",
            "place",
            req.file_name,
            &report,
            good.len(),
        );
        let places: Vec<NewPlace> = good.into_iter().map(|d| d.place).collect();
        shanzhi_store::place::insert_many(db, &places, Counts::Add(&audit), req.now_ms).await?;
        report.written = places.len();
    }
    Ok(report)
}

/// The place import's template (.xlsx): notes on the headers, drop-down lists for 场所类型 and
/// 检查结果, the grid code and licence as text, the dates as dates.
pub fn template() -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let kinds: Vec<&str> = PlaceKind::ALL.iter().map(|k| k.label_zh()).collect();
    let results: Vec<&str> = CheckResult::ALL.iter().map(|r| r.label_zh()).collect();
    let columns: Vec<TemplateColumn> = Column::ALL
        .iter()
        .map(|&c| TemplateColumn {
            header: c.header(),
            note: c.note(),
            width: if c == Column::Name { 24.0 } else { 16.0 },
            text: matches!(c, Column::Node | Column::LicenceNo),
            date: matches!(c, Column::LicenceExpires | Column::LastCheck),
            list: match c {
                Column::Kind => Some(&kinds),
                Column::LastResult => Some(&results),
                _ => None,
            },
        })
        .collect();
    crate::import::template("场所", &columns)
}
