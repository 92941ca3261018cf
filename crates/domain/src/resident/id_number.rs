//! The resident identity card number (公民身份号码, GB 11643-1999): 6 digits of the region where
//! it was issued (GB/T 2260), 8 of the birth date, 3 of sequence (odd for men, even for women)
//! and a check digit (ISO 7064 MOD 11-2, `X` for 10). It is personal data: `Debug` and
//! `Display` show it masked (4415**********123X); [`IdNumber::expose`] gives it whole for
//! sealing and for an audited reveal only.

use std::fmt;

use crate::DomainError;

/// The province-level codes of GB/T 2260 (the first two digits of every region code).
#[rustfmt::skip]
pub const PROVINCES: &[(&str, &str)] = &[
    ("11", "北京"), ("12", "天津"), ("13", "河北"), ("14", "山西"), ("15", "内蒙古"),
    ("21", "辽宁"), ("22", "吉林"), ("23", "黑龙江"), ("31", "上海"), ("32", "江苏"),
    ("33", "浙江"), ("34", "安徽"), ("35", "福建"), ("36", "江西"), ("37", "山东"),
    ("41", "河南"), ("42", "湖北"), ("43", "湖南"), ("44", "广东"), ("45", "广西"),
    ("46", "海南"), ("50", "重庆"), ("51", "四川"), ("52", "贵州"), ("53", "云南"),
    ("54", "西藏"), ("61", "陕西"), ("62", "甘肃"), ("63", "青海"), ("64", "宁夏"),
    ("65", "新疆"), ("71", "台湾"), ("81", "香港"), ("82", "澳门"),
];

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// A checked 18-character ID number (a trailing `x` is written `X`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

/// What the number says of its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Born {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

/// Sex by the sequence digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// The check digit of the first 17 digits.
pub fn check_digit(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] as char
}

impl IdNumber {
    /// Checks a number as typed (spaces dropped, `x` read as `X`). `today` (year, month, day)
    /// bounds the birth date. A wrong number is refused with the reason, in English.
    pub fn parse(raw: &str, today: (u16, u8, u8)) -> Result<IdNumber, DomainError> {
        let bad = |why: &str| DomainError::invalid("id_number", why);
        let s: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let b = s.as_bytes();
        if b.len() != 18 {
            return Err(bad("an ID number has 18 characters"));
        }
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(bad(
                "an ID number is 17 digits and a check digit (0-9 or X)",
            ));
        }
        if !PROVINCES.iter().any(|(p, _)| p.as_bytes() == &b[..2]) {
            return Err(bad(&format!(
                "the region code {} names no province (its first two digits)",
                &s[..6]
            )));
        }
        if &b[2..4] == b"00" || &b[4..6] == b"00" && !matches!(&b[..2], b"71" | b"81" | b"82") {
            return Err(bad(&format!(
                "the region code {} is not the code of a county or district",
                &s[..6]
            )));
        }
        let num = |r: std::ops::Range<usize>| s[r].parse::<u16>().unwrap_or(0);
        let (year, month, day) = (num(6..10), num(10..12) as u8, num(12..14) as u8);
        if year < 1850 || !valid_date(year, month, day) || (year, month, day) > today {
            return Err(bad(&format!(
                "the birth date {year:04}-{month:02}-{day:02} in the number is not a real past date"
            )));
        }
        let expected = check_digit(&b[..17]);
        if b[17] as char != expected {
            return Err(bad(
                "the check digit does not match: a digit is wrong or swapped",
            ));
        }
        Ok(IdNumber(s))
    }

    /// The birth date the number carries.
    pub fn born(&self) -> Born {
        let n = |r: std::ops::Range<usize>| self.0[r].parse::<u16>().unwrap_or(0);
        Born {
            year: n(6..10),
            month: n(10..12) as u8,
            day: n(12..14) as u8,
        }
    }

    /// The birth date as `YYYY-MM-DD`.
    pub fn birth_date(&self) -> String {
        let b = self.born();
        format!("{:04}-{:02}-{:02}", b.year, b.month, b.day)
    }

    /// The holder's sex by the sequence digit.
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The region code where it was issued.
    pub fn region(&self) -> &str {
        &self.0[..6]
    }

    /// The whole number: for sealing and for an audited reveal only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Masked as 4415**********123X.
    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Any identity number masked: the first four and last four characters kept, the rest starred
/// (4415**********123X); shorter than nine characters, masked whole.
pub fn mask_id_number(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 9 {
        return "*".repeat(chars.len().max(4));
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

fn valid_date(year: u16, month: u8, day: u8) -> bool {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Completes 17 digits with their check digit: for synthetic numbers (demo, tests).
pub fn complete(first17: &str) -> String {
    format!("{first17}{}", check_digit(first17.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: (u16, u8, u8) = (2026, 12, 2);

    #[test]
    fn numbers_are_checked_by_digit_region_and_date() {
        let cases: &[(&str, Result<(), &str>)] = &[
            // The standard's own example.
            ("11010519491231002X", Ok(())),
            ("11010519491231002x", Ok(())),
            ("441502199001011234", Err("check digit")),
            ("11010519491231002", Err("18 characters")),
            ("1101051949123100XX", Err("17 digits")),
            ("991502199001011230", Err("names no province")),
            ("440002199001011230", Err("not the code of a county")),
            ("441500199001011230", Err("not the code of a county")),
            ("441502199002301230", Err("not a real past date")),
            ("441502203001011230", Err("not a real past date")),
        ];
        for (raw, want) in cases {
            // Give the wrong-check-digit cases a right digit unless the digit is under test.
            let raw = if want.is_err() && *want != Err("check digit") && raw.len() == 18 {
                complete(&raw[..17])
            } else {
                (*raw).to_owned()
            };
            let got = IdNumber::parse(&raw, TODAY);
            match (want, got) {
                (Ok(()), Ok(_)) => {}
                (Err(why), Err(DomainError::Invalid { field, reason })) => {
                    assert_eq!(field, "id_number");
                    assert!(reason.contains(why), "{raw}: {reason}");
                }
                (want, got) => panic!("{raw}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn the_number_tells_birth_date_and_sex_and_hides_itself() {
        let id = IdNumber::parse(&complete("44150219900101123"), TODAY).unwrap();
        assert_eq!(id.birth_date(), "1990-01-01");
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.region(), "441502");
        let shown = format!("{id} {id:?}");
        assert!(!shown.contains("19900101"), "{shown}");
        assert_eq!(id.masked(), format!("4415**********{}", &id.expose()[14..]));
        assert_eq!(mask_id_number("12345"), "*****");
    }
}
