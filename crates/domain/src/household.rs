//! Households (户): a head and members, each with their relation to the head. The rules of
//! who may join, leave or lead are here; the store keeps `household.head_resident_id` and each
//! member's `resident.relation` in step with them.

use crate::resident::record::word_enum;
use crate::DomainError;

/// Longest household number (户号), in characters.
pub const MAX_NUMBER_CHARS: usize = 40;

word_enum!(
    /// A member's relation to the head of the household.
    Relation, "relation", {
        /// 户主.
        Head = "head",
        /// 配偶.
        Spouse = "spouse",
        /// 子女.
        Child = "child",
        /// 父母.
        Parent = "parent",
        /// 孙子女.
        Grandchild = "grandchild",
        /// 兄弟姐妹.
        Sibling = "sibling",
        /// 其他.
        Other = "other",
    }
);

/// Whether a person with `relation` may join a household whose members have `members`: there
/// is exactly one head, so a second head is refused, and the first member must be the head.
pub fn can_join(members: &[Relation], relation: Relation) -> Result<(), DomainError> {
    let heads = members.iter().filter(|r| **r == Relation::Head).count();
    match (relation, heads) {
        (Relation::Head, 0) => Ok(()),
        (Relation::Head, _) => Err(DomainError::refused(
            "the household has a head already: change the head instead",
        )),
        (_, 0) => Err(DomainError::refused(
            "a household's first member is its head",
        )),
        _ => Ok(()),
    }
}

/// Whether the member with `relation` may leave a household whose members have `members` (it
/// included): the head leaves last, or after another member is made head.
pub fn can_leave(members: &[Relation], relation: Relation) -> Result<(), DomainError> {
    if relation == Relation::Head && members.len() > 1 {
        return Err(DomainError::refused(
            "the head leaves last: make another member head first",
        ));
    }
    Ok(())
}

/// Checks a household number (户号): 1 to 40 letters, digits or dashes; blank is none.
pub fn parse_number(raw: &str) -> Result<Option<String>, DomainError> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > MAX_NUMBER_CHARS || !s.chars().all(|c| c.is_alphanumeric() || c == '-') {
        return Err(DomainError::invalid(
            "number",
            "a household number is at most 40 letters, digits or dashes",
        ));
    }
    Ok(Some(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Relation::*;

    #[test]
    fn a_household_has_exactly_one_head() {
        let ok = |r: Result<(), DomainError>| r.is_ok();
        let cases: &[(&[Relation], Relation, bool)] = &[
            (&[], Head, true),
            (&[], Spouse, false),
            (&[Head], Head, false),
            (&[Head], Spouse, true),
            (&[Head, Spouse], Child, true),
        ];
        for (members, joining, want) in cases {
            assert_eq!(
                ok(can_join(members, *joining)),
                *want,
                "{members:?} + {joining}"
            );
        }
        let leaving: &[(&[Relation], Relation, bool)] = &[
            (&[Head], Head, true),
            (&[Head, Child], Head, false),
            (&[Head, Child], Child, true),
        ];
        for (members, who, want) in leaving {
            assert_eq!(ok(can_leave(members, *who)), *want, "{members:?} - {who}");
        }
    }

    #[test]
    fn relations_and_numbers_are_read_strictly() {
        for r in Relation::ALL {
            assert_eq!(Relation::parse(r.as_str()).unwrap(), *r);
        }
        assert!(Relation::parse("cousin").is_err());
        assert_eq!(parse_number(" 0012-3 ").unwrap().as_deref(), Some("0012-3"));
        assert_eq!(parse_number("").unwrap(), None);
        assert!(parse_number("12;DROP").is_err());
    }
}
