//! Care and attention tags (关爱/关注对象) and the visits they call for (走访): the syntax of
//! a tag code, the bounds of a visit interval, when a person's next visit falls due, and what
//! a visit may record.
//!
//! Intervals are **calendar days** (a visit every 30 days is due 30 × 24 h after the last one,
//! weekends and holidays included): care does not pause for the working calendar.

use crate::DomainError;

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// Shortest and longest visit interval a tag may have, in days.
pub const VISIT_DAYS: std::ops::RangeInclusive<i64> = 1..=365;

/// Longest visit notes, in characters.
pub const MAX_NOTES_CHARS: usize = 2000;

/// A tag's code: 2 to 40 lowercase ASCII letters, digits and `_`, starting with a letter
/// (`elderly_alone`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagCode(String);

impl TagCode {
    /// Parses a tag code.
    pub fn parse(raw: &str) -> Result<TagCode, DomainError> {
        let ok = (2..=40).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(TagCode(raw.to_owned()))
        } else {
            Err(DomainError::invalid(
                "tag",
                "must be 2 to 40 lowercase letters, digits or '_', starting with a letter",
            ))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for TagCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TagCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a tag marks people to care for (关爱: the elderly, the disabled, …) or to keep an
/// eye on (关注: community correction, drug rehabilitation, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// 关爱对象.
    Care,
    /// 关注对象.
    Attention,
}

impl TagKind {
    /// Parses `care` or `attention`.
    pub fn parse(raw: &str) -> Result<TagKind, DomainError> {
        match raw {
            "care" => Ok(TagKind::Care),
            "attention" => Ok(TagKind::Attention),
            _ => Err(DomainError::invalid("kind", "must be care or attention")),
        }
    }

    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            TagKind::Care => "care",
            TagKind::Attention => "attention",
        }
    }
}

/// Checks a visit interval: `None` (the tag needs no visits) or 1 to 365 days.
pub fn check_visit_days(days: Option<i64>) -> Result<Option<i64>, DomainError> {
    match days {
        Some(d) if !VISIT_DAYS.contains(&d) => Err(DomainError::invalid(
            "visit_days",
            "must be between 1 and 365 days, or null for no visits",
        )),
        d => Ok(d),
    }
}

/// When the next visit for one tag falls due after a visit (or the tagging) at `from_ms`:
/// `visit_days` calendar days later; `None` when the tag needs no visits.
pub fn next_visit_at(from_ms: i64, visit_days: Option<i64>) -> Option<i64> {
    visit_days.map(|d| from_ms + d * DAY_MS)
}

/// When a person's next visit falls due: the earliest due time of their tags (the tag with the
/// shortest interval decides); `None` when none of their tags needs visits.
pub fn person_due_at(tag_due: impl IntoIterator<Item = Option<i64>>) -> Option<i64> {
    tag_due.into_iter().flatten().min()
}

/// Is a visit due at `due_at` overdue at `now_ms`?
pub fn is_overdue(due_at: i64, now_ms: i64) -> bool {
    due_at < now_ms
}

/// What a visit found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Nothing to follow up.
    Nothing,
    /// A need (help with daily life, an allowance, a repair).
    Need,
    /// A hazard (to the person or others).
    Hazard,
    /// Something else worth noting.
    Other,
}

impl Found {
    /// Parses `nothing`, `need`, `hazard` or `other`.
    pub fn parse(raw: &str) -> Result<Found, DomainError> {
        match raw {
            "nothing" => Ok(Found::Nothing),
            "need" => Ok(Found::Need),
            "hazard" => Ok(Found::Hazard),
            "other" => Ok(Found::Other),
            _ => Err(DomainError::invalid(
                "found",
                "must be nothing, need, hazard or other",
            )),
        }
    }

    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Found::Nothing => "nothing",
            Found::Need => "need",
            Found::Hazard => "hazard",
            Found::Other => "other",
        }
    }
}

/// Checks a visit's notes: at most [`MAX_NOTES_CHARS`] characters, no control characters but
/// line breaks and tabs. Empty notes are allowed (a visit where nothing was found).
pub fn check_notes(notes: &str) -> Result<(), DomainError> {
    if notes.chars().count() > MAX_NOTES_CHARS {
        return Err(DomainError::invalid(
            "notes",
            format!("must be at most {MAX_NOTES_CHARS} characters"),
        ));
    }
    if notes
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(DomainError::invalid(
            "notes",
            "must not contain control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_codes() {
        let cases = [
            ("elderly_alone", true),
            ("a1", true),
            ("x", false),
            ("Elderly", false),
            ("1abc", false),
            ("_abc", false),
            ("has space", false),
            ("has-dash", false),
            ("独居", false),
            (&"a".repeat(40), true),
            (&"a".repeat(41), false),
        ];
        for (raw, ok) in cases {
            assert_eq!(TagCode::parse(raw).is_ok(), ok, "{raw}");
        }
    }

    #[test]
    fn visit_interval_bounds() {
        let cases = [
            (None, true),
            (Some(0), false),
            (Some(1), true),
            (Some(365), true),
            (Some(366), false),
            (Some(-7), false),
        ];
        for (days, ok) in cases {
            assert_eq!(check_visit_days(days).is_ok(), ok, "{days:?}");
        }
    }

    #[test]
    fn the_earliest_tag_decides_when_a_visit_is_due() {
        let now = 1_700_000_000_000;
        let cases: [(&[Option<i64>], Option<i64>); 4] = [
            (&[], None),
            (&[None], None),
            (&[Some(30), Some(7), None], Some(7)),
            (&[None, Some(90)], Some(90)),
        ];
        for (intervals, want_days) in cases {
            let due = person_due_at(intervals.iter().map(|d| next_visit_at(now, *d)));
            assert_eq!(due, want_days.map(|d| now + d * DAY_MS), "{intervals:?}");
        }
    }

    #[test]
    fn intervals_are_calendar_days() {
        assert_eq!(next_visit_at(0, Some(7)), Some(7 * 24 * 3600 * 1000));
        assert_eq!(next_visit_at(5, None), None);
        assert!(is_overdue(10, 11));
        assert!(!is_overdue(10, 10));
    }

    #[test]
    fn found_and_notes() {
        for w in ["nothing", "need", "hazard", "other"] {
            assert_eq!(Found::parse(w).unwrap().as_str(), w);
        }
        assert!(Found::parse("fire").is_err());
        assert!(check_notes("").is_ok());
        assert!(check_notes("line\nline").is_ok());
        assert!(check_notes("bell\u{7}").is_err());
        assert!(check_notes(&"字".repeat(MAX_NOTES_CHARS + 1)).is_err());
    }
}
