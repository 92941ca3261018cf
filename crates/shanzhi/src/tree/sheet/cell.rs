//! The header words of the tree sheet's columns and its level words (cells: [`crate::workbook`]).
//!
//! Excel keeps codes typed as numbers as floating-point numbers: a code comes back as its
//! digits (441502001001, not 4.41502001001E11 or 441502001001.0), and a code that has already
//! lost digits (more than 15 digits, or written in scientific notation) is refused.

use shanzhi_domain::tree::Level;

pub(super) use crate::workbook::Cell;

/// The column a header names, if it is one we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Column {
    Code,
    Name,
    Level,
    Parent,
}

impl Column {
    pub(super) fn of_header(h: &str) -> Option<Column> {
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

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Column::Code => "code",
            Column::Name => "name",
            Column::Level => "level",
            Column::Parent => "parent",
        }
    }
}

/// A level as written in a spreadsheet: the import's own words, or the Chinese ones.
pub(super) fn level_word(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
