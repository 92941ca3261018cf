//! The resident import's template (.xlsx): the header the import reads, a note on each
//! header cell saying what goes in the column, drop-down lists for 性别, 人口类型 and 与户主关系,
//! and the code columns (ID number, phone, grid) formatted as text so Excel keeps every digit.

use rust_xlsxwriter::XlsxError;

use super::column::{Column, RELATIONS_ZH};
use crate::import::TemplateColumn;

/// The template's bytes.
pub fn template() -> Result<Vec<u8>, XlsxError> {
    let columns: Vec<TemplateColumn> = Column::ALL
        .iter()
        .map(|&c| TemplateColumn {
            header: c.header(),
            note: c.note(),
            width: if c == Column::IdNumber { 22.0 } else { 14.0 },
            text: matches!(
                c,
                Column::IdNumber | Column::Phone | Column::Node | Column::Household
            ),
            date: false,
            list: match c {
                Column::Gender => Some(&["男", "女"]),
                Column::Residence => Some(&["户籍", "流动", "境外"]),
                Column::Relation => Some(&RELATIONS_ZH),
                _ => None,
            },
        })
        .collect();
    crate::import::template("居民", &columns)
}
