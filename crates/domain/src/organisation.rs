//! Organisations (组织) of the base data: enterprises, social organisations and the grid's party
//! branch (网格党支部) with its members; and the officials assigned to a grid (包联干部 and the
//! like), who are users of the system with a duty.

use crate::text::{label, note};
use crate::DomainError;

/// Longest organisation name, member name or duty, in characters.
pub const MAX_LABEL_CHARS: usize = 100;

/// What kind of organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrganisationKind {
    /// 企业
    Enterprise,
    /// 社会组织
    SocialOrganisation,
    /// 网格党支部: one per node.
    PartyBranch,
}

impl OrganisationKind {
    pub const ALL: [OrganisationKind; 3] = [
        OrganisationKind::Enterprise,
        OrganisationKind::SocialOrganisation,
        OrganisationKind::PartyBranch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrganisationKind::Enterprise => "enterprise",
            OrganisationKind::SocialOrganisation => "social_organisation",
            OrganisationKind::PartyBranch => "party_branch",
        }
    }

    /// The name a spreadsheet and the console show in Chinese.
    pub fn label_zh(self) -> &'static str {
        match self {
            OrganisationKind::Enterprise => "企业",
            OrganisationKind::SocialOrganisation => "社会组织",
            OrganisationKind::PartyBranch => "网格党支部",
        }
    }

    /// The kind a spreadsheet's cell names: its Chinese name (or a common short form), or the
    /// API word.
    pub fn of_word(s: &str) -> Option<OrganisationKind> {
        let w = s.trim();
        OrganisationKind::ALL
            .into_iter()
            .find(|k| k.label_zh() == w || k.as_str() == w.to_lowercase())
            .or(match w {
                "公司" | "个体工商户" | "非公企业" => Some(OrganisationKind::Enterprise),
                "社团" | "民办非企业单位" | "基金会" => {
                    Some(OrganisationKind::SocialOrganisation)
                }
                "党支部" | "支部" => Some(OrganisationKind::PartyBranch),
                _ => None,
            })
    }

    pub fn parse(s: &str) -> Result<OrganisationKind, DomainError> {
        OrganisationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "kind",
                    "must be enterprise, social_organisation or party_branch",
                )
            })
    }
}

/// A member's role: the party roles in a branch; `member` in any organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    /// 书记
    Secretary,
    /// 副书记
    Deputy,
    /// 党员 / 成员
    Member,
}

impl MemberRole {
    pub const ALL: [MemberRole; 3] = [
        MemberRole::Secretary,
        MemberRole::Deputy,
        MemberRole::Member,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Secretary => "secretary",
            MemberRole::Deputy => "deputy",
            MemberRole::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Result<MemberRole, DomainError> {
        MemberRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| DomainError::invalid("role", "must be secretary, deputy or member"))
    }
}

/// Who a member is: a resident of the register, or a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    Resident(i64),
    Named(String),
}

impl Member {
    /// A resident of the register, else a name (given both, the resident: their record names
    /// them); one of the two is needed.
    pub fn parse(resident_id: Option<i64>, name: Option<&str>) -> Result<Member, DomainError> {
        let name = name
            .map(|n| note("name", n, MAX_LABEL_CHARS))
            .transpose()?
            .flatten();
        match (resident_id, name) {
            (Some(id), _) => Ok(Member::Resident(id)),
            (None, Some(n)) => Ok(Member::Named(n)),
            (None, None) => Err(DomainError::invalid(
                "resident_id",
                "give the member's resident id or name",
            )),
        }
    }
}

/// May a member with `role` join an organisation of `kind` that already has members with
/// `present` roles? Party roles belong to party branches; a branch has one secretary.
pub fn check_member(
    kind: OrganisationKind,
    role: MemberRole,
    present: &[MemberRole],
) -> Result<(), DomainError> {
    if kind != OrganisationKind::PartyBranch && role != MemberRole::Member {
        return Err(DomainError::invalid(
            "role",
            "secretary and deputy are roles of a party branch",
        ));
    }
    if role == MemberRole::Secretary && present.contains(&MemberRole::Secretary) {
        return Err(DomainError::refused("the branch already has a secretary"));
    }
    Ok(())
}

/// An organisation's name.
pub fn parse_organisation_name(raw: &str) -> Result<String, DomainError> {
    label("name", raw, MAX_LABEL_CHARS)
}

/// An official's duty at a grid (包联干部, 驻村第一书记 …).
pub fn parse_duty(raw: &str) -> Result<String, DomainError> {
    label("duty", raw, MAX_LABEL_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use MemberRole::{Deputy, Secretary};
    use OrganisationKind::*;
    const MEMBER: MemberRole = MemberRole::Member;

    #[test]
    fn who_may_join_with_which_role() {
        let cases: [(OrganisationKind, MemberRole, &[MemberRole], bool); 7] = [
            (PartyBranch, Secretary, &[], true),
            (PartyBranch, Secretary, &[MEMBER, Secretary], false),
            (PartyBranch, Deputy, &[Secretary, Deputy], true),
            (PartyBranch, MEMBER, &[Secretary], true),
            (Enterprise, MEMBER, &[], true),
            (Enterprise, Secretary, &[], false),
            (SocialOrganisation, Deputy, &[], false),
        ];
        for (kind, role, present, ok) in cases {
            assert_eq!(
                check_member(kind, role, present).is_ok(),
                ok,
                "{kind:?} {role:?} {present:?}"
            );
        }
    }

    #[test]
    fn a_member_is_a_resident_or_a_name() {
        assert_eq!(Member::parse(Some(3), None).unwrap(), Member::Resident(3));
        assert_eq!(
            Member::parse(None, Some(" 李四 ")).unwrap(),
            Member::Named("李四".into())
        );
        assert!(Member::parse(None, Some(" ")).is_err());
        assert_eq!(
            Member::parse(Some(3), Some("李四")).unwrap(),
            Member::Resident(3)
        );
    }

    #[test]
    fn kinds_are_read_from_their_chinese_names() {
        for k in OrganisationKind::ALL {
            assert_eq!(OrganisationKind::of_word(k.label_zh()), Some(k));
            assert_eq!(OrganisationKind::of_word(k.as_str()), Some(k));
        }
        assert_eq!(OrganisationKind::of_word(" 公司 "), Some(Enterprise));
        assert_eq!(OrganisationKind::of_word("党支部"), Some(PartyBranch));
        assert_eq!(OrganisationKind::of_word("俱乐部"), None);
    }

    #[test]
    fn words_round_trip() {
        for k in OrganisationKind::ALL {
            assert_eq!(OrganisationKind::parse(k.as_str()).unwrap(), k);
        }
        for r in MemberRole::ALL {
            assert_eq!(MemberRole::parse(r.as_str()).unwrap(), r);
        }
        assert!(OrganisationKind::parse("club").is_err());
        assert!(parse_duty("").is_err());
    }
}
