//! Short free texts of the registers (a room, a licence number, a duty, a note): trimmed, no
//! control characters but line breaks and tabs, bounded in characters.

use crate::DomainError;

/// A text that must be given: trimmed, not blank, at most `max` characters.
pub fn label(field: &str, raw: &str, max: usize) -> Result<String, DomainError> {
    note(field, raw, max)?.ok_or_else(|| DomainError::invalid(field, "must not be empty"))
}

/// An optional text: trimmed, blank means none, at most `max` characters.
pub fn note(field: &str, raw: &str, max: usize) -> Result<Option<String>, DomainError> {
    let t = raw.trim();
    if t.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    if t.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (raw, max, what comes out: the text, none, or refused).
    type Case<'a> = (&'a str, usize, Result<Option<&'a str>, ()>);

    #[test]
    fn texts_are_trimmed_bounded_and_clean() {
        let cases: [Case; 6] = [
            ("  2单元301 ", 10, Ok(Some("2单元301"))),
            ("", 10, Ok(None)),
            ("   ", 10, Ok(None)),
            ("第一行\n第二行", 10, Ok(Some("第一行\n第二行"))),
            ("a\u{7}b", 10, Err(())),
            ("一二三四五六", 5, Err(())),
        ];
        for (raw, max, want) in cases {
            let got = note("f", raw, max).map_err(|_| ());
            assert_eq!(got, want.map(|o| o.map(str::to_owned)), "{raw:?}");
        }
        assert!(label("room", " ", 10).is_err());
        assert_eq!(label("room", " 301 ", 10).unwrap(), "301");
    }
}
