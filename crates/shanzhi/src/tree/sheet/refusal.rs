//! The import's refusals of a spreadsheet told by the spreadsheet's own row numbers.

use serde_json::{json, Value};

use crate::http::error::ApiError;

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
