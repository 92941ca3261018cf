//! The checked input of a resident (实有人口) record: who they are, how they are identified,
//! where they belong. A record is built once from raw input ([`ResidentInput::check`]); no raw
//! string travels further. Personal data (the ID number, the phone) stays inside [`IdNumber`]
//! and [`Phone`], whose `Debug` masks them.

use std::fmt;

use chrono::Datelike;

use super::id_number::{mask_id_number, IdNumber, Sex};
use crate::calendar::local_date;
use crate::user::person::Phone;
use crate::DomainError;

/// Longest name, in characters.
pub const MAX_NAME_CHARS: usize = 50;
/// Longest workplace, in characters.
pub const MAX_WORKPLACE_CHARS: usize = 100;
/// Longest passport or other identity number, in characters.
pub const MAX_OTHER_ID_CHARS: usize = 40;

/// The 56 official ethnic groups (民族), then 外国血统 (of foreign origin) and 其他.
#[rustfmt::skip]
pub const ETHNICITIES: &[&str] = &[
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
    "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族",
    "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族",
    "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族",
    "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族", "京族", "塔塔尔族",
    "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族", "外国血统", "其他",
];

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident, $field:literal, { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The stored word.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }

            /// Reads the stored word; anything else is refused naming the field.
            pub fn parse(s: &str) -> Result<$name, $crate::DomainError> {
                match s.trim() {
                    $($s => Ok($name::$v),)+
                    _ => Err($crate::DomainError::invalid($field, concat!("must be one of: ", $($s, " "),+).trim_end())),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use word_enum;

word_enum!(
    /// How a person is identified.
    IdKind, "id_kind", {
        /// 居民身份证 (GB 11643).
        ResidentId = "resident_id",
        /// 护照.
        Passport = "passport",
        /// Any other document (港澳台居民居住证, 外国人永久居留证…).
        Other = "other",
    }
);

word_enum!(
    /// Household registration against actual residence.
    Residence, "residence", {
        /// 户籍人口: registered here.
        Registered = "registered",
        /// 流动人口: registered elsewhere, living here.
        Floating = "floating",
        /// 境外人员.
        Overseas = "overseas",
    }
);

word_enum!(
    /// Whether the person still lives here.
    Status, "status", {
        /// 在住.
        Present = "present",
        /// 迁出.
        MovedOut = "moved_out",
        /// 死亡.
        Deceased = "deceased",
    }
);

impl Status {
    /// Whether a record may move from `self` to `to`: a present person moves out or dies; one
    /// who moved out may come back (or be recorded dead); death is final.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (Present, MovedOut) | (Present, Deceased) | (MovedOut, Present) | (MovedOut, Deceased)
        )
    }

    /// Whether the person counts in the register's figures (tally kinds resident, residence, tag).
    pub fn counted(self) -> bool {
        self == Status::Present
    }
}

/// Reads a gender word (`male` | `female`).
pub fn parse_gender(s: &str) -> Result<Sex, DomainError> {
    match s.trim() {
        "male" => Ok(Sex::Male),
        "female" => Ok(Sex::Female),
        _ => Err(DomainError::invalid("gender", "must be male or female")),
    }
}

/// An identity document number, checked for its kind.
#[derive(Clone, PartialEq, Eq)]
pub enum Identity {
    Resident(IdNumber),
    /// A passport or other number: 4 to 40 letters, digits or dashes, upper-cased.
    Other(IdKind, String),
}

impl Identity {
    /// The whole number, for sealing and an audited reveal only.
    pub fn expose(&self) -> &str {
        match self {
            Identity::Resident(n) => n.expose(),
            Identity::Other(_, s) => s,
        }
    }

    /// The number masked (4415**********123X).
    pub fn masked(&self) -> String {
        match self {
            Identity::Resident(n) => n.masked(),
            Identity::Other(_, s) => mask_id_number(s),
        }
    }

    pub fn kind(&self) -> IdKind {
        match self {
            Identity::Resident(_) => IdKind::ResidentId,
            Identity::Other(k, _) => *k,
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({})", self.masked())
    }
}

/// Checks an identity number of `kind` as typed; `now_ms` bounds a birth date.
pub fn parse_identity(kind: IdKind, raw: &str, now_ms: i64) -> Result<Identity, DomainError> {
    match kind {
        IdKind::ResidentId => {
            let d = local_date(now_ms);
            IdNumber::parse(raw, (d.year() as u16, d.month() as u8, d.day() as u8))
                .map(Identity::Resident)
        }
        IdKind::Passport | IdKind::Other => {
            let s: String = raw
                .chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| c.to_ascii_uppercase())
                .collect();
            if !(4..=MAX_OTHER_ID_CHARS).contains(&s.len())
                || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(DomainError::invalid(
                    "id_number",
                    "a passport or other number is 4 to 40 letters, digits or dashes",
                ));
            }
            Ok(Identity::Other(kind, s))
        }
    }
}

/// Checks a person's name: 1 to 50 characters, not blank, no control characters.
pub fn parse_person_name(raw: &str) -> Result<String, DomainError> {
    let s = raw.trim();
    if s.is_empty() || s.chars().count() > MAX_NAME_CHARS || s.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "name",
            "a name has 1 to 50 characters and no control characters",
        ));
    }
    Ok(s.to_owned())
}

/// Checks an ethnic group against [`ETHNICITIES`].
pub fn parse_ethnicity(raw: &str) -> Result<&'static str, DomainError> {
    let s = raw.trim();
    ETHNICITIES
        .iter()
        .find(|e| **e == s)
        .copied()
        .ok_or_else(|| {
            DomainError::invalid(
                "ethnicity",
                "not one of the 56 ethnic groups, 外国血统 or 其他",
            )
        })
}

/// Checks a workplace: at most 100 characters, no control characters; blank is none.
pub fn parse_workplace(raw: &str) -> Result<Option<String>, DomainError> {
    let s = raw.trim();
    if s.chars().count() > MAX_WORKPLACE_CHARS || s.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "workplace",
            "at most 100 characters, no control characters",
        ));
    }
    Ok((!s.is_empty()).then(|| s.to_owned()))
}

/// A resident record as typed, before any check.
#[derive(Debug, Clone, Default)]
pub struct ResidentInput {
    pub name: String,
    pub gender: Option<String>,
    pub birth_year: Option<i64>,
    pub id_kind: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub ethnicity: Option<String>,
    pub residence: String,
    pub workplace: Option<String>,
}

/// A checked resident record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    pub name: String,
    pub gender: Sex,
    pub birth_year: Option<i32>,
    pub id_kind: IdKind,
    pub identity: Option<Identity>,
    pub phone: Option<Phone>,
    pub ethnicity: Option<&'static str>,
    pub residence: Residence,
    pub workplace: Option<String>,
}

impl ResidentInput {
    /// Checks every field. A resident ID gives gender and birth year (a given one must agree);
    /// without one both must be given. `now_ms` bounds birth dates and years.
    pub fn check(&self, now_ms: i64) -> Result<Resident, DomainError> {
        let name = parse_person_name(&self.name)?;
        let id_kind = IdKind::parse(&self.id_kind)?;
        let identity = match self.id_number.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => Some(parse_identity(id_kind, raw, now_ms)?),
            _ => None,
        };
        let given_gender = self.gender.as_deref().map(parse_gender).transpose()?;
        let this_year = i64::from(local_date(now_ms).year());
        if let Some(y) = self.birth_year {
            if !(1850..=this_year).contains(&y) {
                return Err(DomainError::invalid(
                    "birth_year",
                    "must be a past year from 1850 on",
                ));
            }
        }
        let (gender, birth_year) = match &identity {
            Some(Identity::Resident(n)) => {
                let (sex, year) = (n.sex(), i64::from(n.born().year));
                if given_gender.is_some_and(|g| g != sex) {
                    return Err(DomainError::invalid(
                        "gender",
                        "does not agree with the ID number",
                    ));
                }
                if self.birth_year.is_some_and(|y| y != year) {
                    return Err(DomainError::invalid(
                        "birth_year",
                        "does not agree with the ID number",
                    ));
                }
                (sex, Some(year as i32))
            }
            _ => {
                if id_kind == IdKind::ResidentId {
                    return Err(DomainError::invalid(
                        "id_number",
                        "a resident ID kind needs the ID number",
                    ));
                }
                let Some(g) = given_gender else {
                    return Err(DomainError::invalid(
                        "gender",
                        "give the gender when there is no resident ID",
                    ));
                };
                let Some(y) = self.birth_year else {
                    return Err(DomainError::invalid(
                        "birth_year",
                        "give the birth year when there is no resident ID",
                    ));
                };
                (g, Some(y as i32))
            }
        };
        let phone = match self.phone.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() => Some(Phone::parse(p)?),
            _ => None,
        };
        let ethnicity = match self.ethnicity.as_deref().map(str::trim) {
            Some(e) if !e.is_empty() => Some(parse_ethnicity(e)?),
            _ => None,
        };
        Ok(Resident {
            name,
            gender,
            birth_year,
            id_kind,
            identity,
            phone,
            ethnicity,
            residence: Residence::parse(&self.residence)?,
            workplace: self
                .workplace
                .as_deref()
                .map(parse_workplace)
                .transpose()?
                .flatten(),
        })
    }
}

/// Birth years of an age band (`age_from..=age_to` years old in `this_year`): the birth
/// years run from `this_year - age_to - 1` (a birthday still to come) to `this_year - age_from`.
pub fn birth_years_of_ages(
    this_year: i32,
    age_from: Option<i32>,
    age_to: Option<i32>,
) -> (Option<i32>, Option<i32>) {
    (
        age_to.map(|a| this_year - a - 1),
        age_from.map(|a| this_year - a),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resident::id_number::complete;

    /// 2026-12-02 12:00 in China.
    const NOW: i64 = 1_796_184_000_000;

    fn input(kind: &str, id: Option<&str>) -> ResidentInput {
        ResidentInput {
            name: "张三".into(),
            id_kind: kind.into(),
            id_number: id.map(str::to_owned),
            residence: "registered".into(),
            ..ResidentInput::default()
        }
    }

    #[test]
    fn a_resident_id_gives_gender_and_birth_year() {
        let id = complete("44150219800101001");
        let r = input("resident_id", Some(&id)).check(NOW).unwrap();
        assert_eq!(r.gender, Sex::Male);
        assert_eq!(r.birth_year, Some(1980));
        assert_eq!(r.identity.as_ref().unwrap().masked(), mask_id_number(&id));
        assert!(!format!("{r:?}").contains(&id), "Debug masks the number");
    }

    /// A change to a good input, for the table below.
    type Edit = Box<dyn Fn(&mut ResidentInput)>;

    #[test]
    fn records_are_checked_field_by_field() {
        let good_id = complete("44150219800101002");
        let mut bad_check = good_id.clone();
        bad_check.replace_range(17.., if good_id.ends_with('0') { "1" } else { "0" });
        let with = |f: &dyn Fn(&mut ResidentInput)| {
            let mut i = input("resident_id", Some(&good_id));
            f(&mut i);
            i.check(NOW).err().map(|e| match e {
                DomainError::Invalid { field, .. } => field,
                other => panic!("{other:?}"),
            })
        };
        let cases: Vec<(&str, Edit, Option<&str>)> = vec![
            ("good", Box::new(|_| {}), None),
            (
                "blank name",
                Box::new(|i| i.name = "  ".into()),
                Some("name"),
            ),
            (
                "long name",
                Box::new(|i| i.name = "张".repeat(51)),
                Some("name"),
            ),
            ("50 chars", Box::new(|i| i.name = "张".repeat(50)), None),
            (
                "check digit",
                Box::new(move |i| i.id_number = Some(bad_check.clone())),
                Some("id_number"),
            ),
            (
                "region",
                Box::new(|i| i.id_number = Some(complete("99150219800101002"))),
                Some("id_number"),
            ),
            ("no id", Box::new(|i| i.id_number = None), Some("id_number")),
            (
                "gender disagrees",
                Box::new(|i| i.gender = Some("male".into())),
                Some("gender"),
            ),
            (
                "gender agrees",
                Box::new(|i| i.gender = Some("female".into())),
                None,
            ),
            (
                "year disagrees",
                Box::new(|i| i.birth_year = Some(1981)),
                Some("birth_year"),
            ),
            (
                "bad kind",
                Box::new(|i| i.id_kind = "card".into()),
                Some("id_kind"),
            ),
            (
                "bad residence",
                Box::new(|i| i.residence = "here".into()),
                Some("residence"),
            ),
            (
                "floating",
                Box::new(|i| i.residence = "floating".into()),
                None,
            ),
            (
                "ethnicity",
                Box::new(|i| i.ethnicity = Some("汉族".into())),
                None,
            ),
            (
                "foreign",
                Box::new(|i| i.ethnicity = Some("外国血统".into())),
                None,
            ),
            (
                "no such group",
                Box::new(|i| i.ethnicity = Some("火星族".into())),
                Some("ethnicity"),
            ),
            (
                "phone",
                Box::new(|i| i.phone = Some("138 0013 8000".into())),
                None,
            ),
            (
                "bad phone",
                Box::new(|i| i.phone = Some("12345".into())),
                Some("phone"),
            ),
            (
                "passport without gender",
                Box::new(|i| {
                    i.id_kind = "passport".into();
                    i.id_number = Some("E12345678".into());
                }),
                Some("gender"),
            ),
            (
                "passport",
                Box::new(|i| {
                    i.id_kind = "passport".into();
                    i.id_number = Some("E12345678".into());
                    i.gender = Some("male".into());
                    i.birth_year = Some(1990);
                }),
                None,
            ),
            (
                "passport, future year",
                Box::new(|i| {
                    i.id_kind = "passport".into();
                    i.id_number = None;
                    i.gender = Some("male".into());
                    i.birth_year = Some(2030);
                }),
                Some("birth_year"),
            ),
            (
                "bad passport",
                Box::new(|i| {
                    i.id_kind = "passport".into();
                    i.id_number = Some("E1!".into());
                }),
                Some("id_number"),
            ),
        ];
        for (what, f, want) in cases {
            assert_eq!(with(&*f).as_deref(), want, "{what}");
        }
    }

    #[test]
    fn there_are_56_groups_and_two_more() {
        assert_eq!(ETHNICITIES.len(), 58);
        let mut seen = std::collections::HashSet::new();
        assert!(ETHNICITIES.iter().all(|e| seen.insert(*e)));
    }

    #[test]
    fn status_moves() {
        use Status::*;
        let allowed = [
            (Present, MovedOut),
            (Present, Deceased),
            (MovedOut, Present),
            (MovedOut, Deceased),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                assert_eq!(
                    from.can_become(*to),
                    allowed.contains(&(*from, *to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn age_bands_become_birth_years() {
        assert_eq!(
            birth_years_of_ages(2026, Some(60), None),
            (None, Some(1966))
        );
        assert_eq!(
            birth_years_of_ages(2026, Some(0), Some(17)),
            (Some(2008), Some(2026))
        );
    }
}
