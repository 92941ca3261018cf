//! Importing organisations (企业, 社会组织, 网格党支部) from a spreadsheet (.xlsx or CSV): each
//! row checked (name, kind, grid known and inside the importer's scope, address; a name new to
//! its grid, and one party branch a grid, in the file and in the register), a report naming
//! every bad row and column, and the good rows written in one transaction with one audit row —
//! all or nothing, or the valid rows only. Members of a branch are added on its page.

use std::collections::{HashMap, HashSet};

use shanzhi_domain::house::parse_address;
use shanzhi_domain::organisation::{parse_organisation_name, OrganisationKind};
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::organisation::OrganisationInput;
use shanzhi_store::Db;

use crate::import::{
    audit_entry, check_rows, header_key, node_of, read_sheet, reason_of, required, Columns, Named,
    RegisterReport, Request, RowError, Sheet, SheetColumn, TemplateColumn,
};
use crate::workbook::Cell;

/// A column the organisation import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Name,
    Kind,
    Node,
    Address,
}

impl SheetColumn for Column {
    const ALL: &'static [Column] = &[Column::Name, Column::Kind, Column::Node, Column::Address];

    fn header(self) -> &'static str {
        match self {
            Column::Name => "组织名称",
            Column::Kind => "组织类型",
            Column::Node => "所属网格代码",
            Column::Address => "地址",
        }
    }

    fn note(self) -> &'static str {
        match self {
            Column::Name => "必填，同一网格内不重名 (required; one name per grid)",
            Column::Kind => "必填：企业/社会组织/网格党支部；每个网格一个党支部 (required; one party branch a grid)",
            Column::Node => "网格代码；导入时指定了网格可不填 (grid code; may be left empty when the import names one)",
            Column::Address => "选填 optional",
        }
    }

    fn of_header(h: &str) -> Option<Column> {
        Some(match header_key(h).as_str() {
            "组织名称" | "名称" | "单位名称" | "name" => Column::Name,
            "组织类型" | "类型" | "kind" => Column::Kind,
            "所属网格" | "所属网格代码" | "网格代码" | "grid" | "node" | "nodecode"
            | "gridcode" => Column::Node,
            "地址" | "address" => Column::Address,
            _ => return None,
        })
    }
}

/// Why an import of organisations wrote nothing.
pub type Refusal = crate::import::Refusal<RegisterReport>;

/// A row read and checked on its own.
pub struct Draft(OrganisationInput);

impl Named for Draft {
    fn node(&self) -> &NodeCode {
        &self.0.node_code
    }
    fn name(&self) -> &str {
        &self.0.name
    }
}

/// The organisation sheet: rows without a grid go to `default_node`.
struct Organisations<'a> {
    default_node: Option<&'a NodeCode>,
}

impl Sheet for Organisations<'_> {
    type Column = Column;
    type Row = Draft;
    const NAME: Column = Column::Name;
    const HEADER_HELP: &'static str =
        "组织名称 (name) is needed, and 组织类型, 所属网格代码, 地址 may follow";

    fn read(
        &self,
        columns: &Columns<Column>,
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
        let text = |c: Column| columns.cell(cells, c).text();
        let name = required(text(Column::Name), "the name is missing", |n| {
            parse_organisation_name(n).map_err(reason_of)
        })
        .map_err(|r| bad(Column::Name, r))
        .ok();
        let kind = required(
            text(Column::Kind),
            "the kind of organisation is missing",
            |k| {
                OrganisationKind::of_word(k)
                    .ok_or_else(|| format!("{k} is not 企业, 社会组织 or 网格党支部"))
            },
        )
        .map_err(|r| bad(Column::Kind, r))
        .ok();
        let node = node_of(columns.cell(cells, Column::Node), self.default_node)
            .map_err(|reason| bad(Column::Node, reason))
            .ok();
        let address = text(Column::Address)
            .and_then(|a| {
                parse_address(&a)
                    .map_err(|e| bad(Column::Address, reason_of(e)))
                    .ok()
            })
            .flatten();
        match (name, kind, node) {
            (Some(name), Some(kind), Some(node_code)) if errors.is_empty() => {
                Ok(Draft(OrganisationInput {
                    node_code,
                    kind: kind.as_str().to_owned(),
                    name,
                    address,
                }))
            }
            _ => Err(errors),
        }
    }
}

/// Reads, checks and (by the mode) writes an import of organisations.
pub async fn import(db: &Db, req: Request<'_>) -> Result<RegisterReport, Refusal> {
    let sheet = Organisations {
        default_node: req.node.as_ref(),
    };
    let mut read = read_sheet(&sheet, &req.bytes, req.format)?;
    let (names, branches) = shanzhi_store::organisation::names_at(db, &read.nodes()).await?;
    let stored: HashSet<(String, String)> = names.into_iter().collect();
    check_rows(
        db,
        req.actor,
        &mut read,
        &stored,
        (Column::Node, Column::Name),
    )
    .await?;
    // One party branch a grid: not one registered there already, nor one on an earlier row.
    let has_branch: HashSet<String> = branches.into_iter().collect();
    let mut first_branch: HashMap<String, usize> = HashMap::new();
    let kind_header = read.columns.header_of(Column::Kind);
    let mut kept = Vec::with_capacity(read.good.len());
    for (row, d) in std::mem::take(&mut read.good) {
        let node = d.0.node_code.as_str().to_owned();
        let refusal = if d.0.kind != OrganisationKind::PartyBranch.as_str() {
            None
        } else if has_branch.contains(&node) {
            Some(format!("{node} has a party branch already"))
        } else if let Some(first) = first_branch.get(&node) {
            Some(format!("the party branch of {node} is on row {first}"))
        } else {
            first_branch.insert(node, row);
            None
        };
        match refusal {
            Some(reason) => read.errors.push(RowError {
                row,
                column: kind_header.clone(),
                reason,
            }),
            None => kept.push((row, d)),
        }
    }
    read.good = kept;
    let (mut report, good) = read.report(req.mode)?;
    if !good.is_empty() {
        let audit = audit_entry(
            req.actor,
            "organisation.import",
            "organisation",
            req.file_name,
            &report,
            good.len(),
        );
        let rows: Vec<OrganisationInput> = good.into_iter().map(|d| d.0).collect();
        shanzhi_store::organisation::import_many(db, &rows, &audit, req.now_ms).await?;
        report.written = rows.len();
    }
    Ok(report)
}

/// The organisation import's template (.xlsx): notes on the headers, a drop-down list of the
/// kinds, the grid code as text.
pub fn template() -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let kinds: Vec<&str> = OrganisationKind::ALL.iter().map(|k| k.label_zh()).collect();
    let columns: Vec<TemplateColumn> = Column::ALL
        .iter()
        .map(|&c| TemplateColumn {
            header: c.header(),
            note: c.note(),
            width: if c == Column::Name { 28.0 } else { 18.0 },
            text: c == Column::Node,
            date: false,
            list: (c == Column::Kind).then_some(kinds.as_slice()),
        })
        .collect();
    crate::import::template("组织", &columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_in_chinese_and_english() {
        for &c in Column::ALL {
            assert_eq!(Column::of_header(c.header()), Some(c));
        }
        assert_eq!(Column::of_header("Name"), Some(Column::Name));
        assert_eq!(Column::of_header("单位名称"), Some(Column::Name));
        assert_eq!(Column::of_header("负责人"), None);
    }
}
