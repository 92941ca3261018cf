//! The resident import's template (.xlsx): the header the import reads, a note on each
//! header cell saying what goes in the column, drop-down lists for 性别, 人口类型 and 与户主关系,
//! and the code columns (ID number, phone, grid) formatted as text so Excel keeps every digit.

use rust_xlsxwriter::{DataValidation, Format, Note, Workbook, XlsxError};

use super::column::{Column, RELATIONS_ZH};

/// Rows of the sheet the drop-down lists and text formats cover.
const ROWS: u32 = 100_000;

/// The template's bytes.
pub fn template() -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("居民")?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (c, column) in Column::ALL.iter().enumerate() {
        let c = c as u16;
        ws.write_string_with_format(0, c, column.header(), &bold)?;
        ws.insert_note(0, c, &Note::new(column.note()).set_author("善治"))?;
        ws.set_column_width(c, if *column == Column::IdNumber { 22 } else { 14 })?;
        if matches!(
            column,
            Column::IdNumber | Column::Phone | Column::Node | Column::Household
        ) {
            ws.set_column_format(c, &text)?;
        }
        let list: Option<&[&str]> = match column {
            Column::Gender => Some(&["男", "女"]),
            Column::Residence => Some(&["户籍", "流动", "境外"]),
            Column::Relation => Some(&RELATIONS_ZH),
            _ => None,
        };
        if let Some(list) = list {
            let dv = DataValidation::new().allow_list_strings(list)?;
            ws.add_data_validation(1, c, ROWS, c, &dv)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    wb.save_to_buffer()
}
