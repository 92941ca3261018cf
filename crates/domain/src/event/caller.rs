//! The caller of a hotline report (12345 热线): name, phone, whether they want a call back.
//! The phone is personal data: it is shown masked and redacts itself in `Debug`.

use crate::error::DomainError;

/// Longest caller name, in characters.
pub const MAX_CALLER_NAME_CHARS: usize = 50;

/// A phone number a caller gave: a mainland mobile (11 digits starting 1[3-9]) or a landline
/// with its area code (0 + 2–3 digits, then 7–8 digits; a dash or space after the area code is
/// dropped). Private field: only [`Phone::parse`] makes one.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Reads a phone number as an operator types it.
    pub fn parse(raw: &str) -> Result<Phone, DomainError> {
        let bad =
            || DomainError::invalid("phone", "not a mobile or landline number with area code");
        let t = raw.trim();
        if t.chars().count() > 20 {
            return Err(bad());
        }
        let digits: String = t.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let b = digits.as_bytes();
        let mobile = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
        let landline =
            b.first() == Some(&b'0') && b.get(1) != Some(&b'0') && (10..=12).contains(&b.len());
        if mobile || landline {
            Ok(Phone(digits))
        } else {
            Err(bad())
        }
    }

    /// The number as shown by default: the first 3 and last 4 digits, the middle starred
    /// (`138****5678`).
    pub fn masked(&self) -> String {
        let n = self.0.len();
        format!("{}{}{}", &self.0[..3], "*".repeat(n - 7), &self.0[n - 4..])
    }
}

impl AsRef<str> for Phone {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

/// A caller's name as the operator heard it: 1 to 50 characters, no control characters.
pub fn caller_name(raw: &str) -> Result<String, DomainError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(DomainError::invalid("caller_name", "must not be empty"));
    }
    if t.chars().count() > MAX_CALLER_NAME_CHARS {
        return Err(DomainError::invalid(
            "caller_name",
            format!("must be at most {MAX_CALLER_NAME_CHARS} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "caller_name",
            "must not contain control characters",
        ));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_parse_and_mask() {
        let cases: &[(&str, Option<&str>)] = &[
            ("13812345678", Some("138****5678")),
            (" 138 1234 5678 ", Some("138****5678")),
            ("0660-3312345", Some("066****2345")),
            ("020-87654321", Some("020****4321")),
            ("12812345678", None),
            ("1381234567", None),
            ("138123456789", None),
            ("00123456789", None),
            ("+8613812345678", None),
            ("1381234567x", None),
            ("", None),
            ("0660-33123456789012", None),
        ];
        for (raw, want) in cases {
            let got = Phone::parse(raw).ok().map(|p| p.masked());
            assert_eq!(got.as_deref(), *want, "{raw:?}");
        }
    }

    #[test]
    fn a_phone_hides_itself_in_debug() {
        let p = Phone::parse("13812345678").unwrap();
        assert_eq!(format!("{p:?}"), "Phone(138****5678)");
        assert!(!format!("{p:?}").contains("1234"));
        assert_eq!(p.as_ref(), "13812345678");
    }

    #[test]
    fn caller_names_are_checked() {
        let long = "名".repeat(MAX_CALLER_NAME_CHARS + 1);
        let cases: &[(&str, Result<&str, &str>)] = &[
            (" 张先生 ", Ok("张先生")),
            ("", Err("must not be empty")),
            ("   ", Err("must not be empty")),
            (&long, Err("must be at most 50 characters")),
            ("张\u{7}", Err("must not contain control characters")),
        ];
        for (raw, want) in cases {
            let got = caller_name(raw);
            match (got, want) {
                (Ok(g), Ok(w)) => assert_eq!(&g, w),
                (Err(DomainError::Invalid { field, reason }), Err(w)) => {
                    assert_eq!((field.as_str(), reason.as_str()), ("caller_name", *w))
                }
                (g, w) => panic!("{raw:?}: got {g:?}, want {w:?}"),
            }
        }
    }
}
