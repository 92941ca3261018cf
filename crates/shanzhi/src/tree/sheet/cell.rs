//! One spreadsheet cell read as a code, a name or a level, and the header words of the columns.
//!
//! Excel keeps codes typed as numbers as floating-point numbers: a code comes back as its
//! digits (441502001001, not 4.41502001001E11 or 441502001001.0), and a code that has already
//! lost digits (more than 15 digits, or written in scientific notation) is refused.

use shanzhi_domain::tree::Level;

/// A cell as it was stored: text, or a number (Excel's numbers are floating-point).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    /// A date, an error value or a boolean: never a code, a name or a level.
    Other(String),
}

impl Cell {
    pub(super) fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as a code: digits exactly as they were typed.
    pub(super) fn code(&self) -> Result<Option<String>, String> {
        match self {
            Cell::Empty => Ok(None),
            Cell::Int(i) => Ok(Some(i.to_string())),
            Cell::Float(f) => float_code(*f).map(Some),
            Cell::Text(s) => text_code(s.trim()),
            Cell::Other(s) => Err(format!("{s} is not a code")),
        }
    }

    /// The cell as text (a name, a level): numbers without a trailing ".0".
    pub(super) fn text(&self) -> Option<String> {
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
}
