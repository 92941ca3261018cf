//! Disputes (矛盾纠纷多元化解): cases held by the one-stop mediation centre (矛调中心) of a
//! village, town or county, their parties, risk flags, who sees them, and the mediator pool's
//! ranking for an assignment. The case's life is [`state`]; ranking is [`rank`].

pub mod rank;
pub mod state;

use serde::Serialize;

use crate::tree::{Level, NaturalLevel, NodeCode};
use crate::user::{Actor, Role, Scope};
use crate::DomainError;

pub use crate::event::state::Refusal;
pub use state::{
    transition, Action, DisputeState, Extension, Outcome, Referral, State, Transition,
};

/// The three levels of centres (三级联动).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CentreLevel {
    Village,
    Town,
    County,
}

impl CentreLevel {
    /// Every level, lowest first.
    pub const ALL: [CentreLevel; 3] =
        [CentreLevel::Village, CentreLevel::Town, CentreLevel::County];

    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            CentreLevel::Village => "village",
            CentreLevel::Town => "town",
            CentreLevel::County => "county",
        }
    }

    /// The level named `s`.
    pub fn parse(s: &str) -> Option<CentreLevel> {
        CentreLevel::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The centre level of a node: villages, towns and counties hold centres; other nodes none.
pub fn centre_level(node: &NodeCode) -> Option<CentreLevel> {
    match node.natural_level() {
        NaturalLevel::Region(Level::Village) => Some(CentreLevel::Village),
        NaturalLevel::Region(Level::Town) => Some(CentreLevel::Town),
        NaturalLevel::Region(Level::County) => Some(CentreLevel::County),
        _ => None,
    }
}

/// The centre that takes in a case reported at `node`: the node itself if it holds a centre,
/// else (a grid) its village; `None` above the county.
pub fn intake_centre(node: &NodeCode) -> Option<NodeCode> {
    let mut at = node.clone();
    loop {
        if centre_level(&at).is_some() {
            return Some(at);
        }
        if !at.is_grid() {
            return None;
        }
        at = at.natural_parent()?;
    }
}

/// How a case came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// 网格排查: found on patrol.
    Patrol,
    /// 来访: walked in.
    WalkIn,
    /// 热线.
    Hotline,
    /// 访调: from a petition.
    Petition,
    /// 诉调: referred by a court.
    Court,
    /// 警调: referred by the police.
    Police,
    /// 检调: referred by the procuratorate.
    Procuratorate,
    /// Converted from an event of the closed loop.
    Event,
    /// 申请调解 on the citizen portal.
    Online,
}

impl Source {
    /// Every source.
    pub const ALL: [Source; 9] = [
        Source::Patrol,
        Source::WalkIn,
        Source::Hotline,
        Source::Petition,
        Source::Court,
        Source::Police,
        Source::Procuratorate,
        Source::Event,
        Source::Online,
    ];

    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Patrol => "patrol",
            Source::WalkIn => "walk_in",
            Source::Hotline => "hotline",
            Source::Petition => "petition",
            Source::Court => "court",
            Source::Police => "police",
            Source::Procuratorate => "procuratorate",
            Source::Event => "event",
            Source::Online => "online",
        }
    }

    /// The source named `s`.
    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The sources staff may give at intake (events and the portal have their own routes).
    pub fn staff_sources() -> impl Iterator<Item = Source> {
        Source::ALL
            .into_iter()
            .filter(|s| !matches!(s, Source::Event | Source::Online))
    }
}

/// A party's role in the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    /// 申请人.
    Applicant,
    /// 被申请人.
    Respondent,
    /// 其他当事人.
    Other,
}

impl PartyRole {
    /// Every role.
    pub const ALL: [PartyRole; 3] = [
        PartyRole::Applicant,
        PartyRole::Respondent,
        PartyRole::Other,
    ];

    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            PartyRole::Applicant => "applicant",
            PartyRole::Respondent => "respondent",
            PartyRole::Other => "other",
        }
    }

    /// The role named `s`.
    pub fn parse(s: &str) -> Option<PartyRole> {
        PartyRole::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The kinds of mediators in the pool.
pub const MEDIATOR_KINDS: [&str; 4] = ["peoples", "lawyer", "retired_judge", "specialist"];

/// Parties at which a case counts as having many parties (群体性).
pub const MANY_PARTIES: usize = 5;
/// People involved at which a case counts as having many parties.
pub const MANY_PEOPLE: i64 = 10;
/// A case is a repeat if its applicant had another within this many days.
pub const REPEAT_DAYS: i64 = 365;

/// The risk flags the risk module reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Risk {
    pub many_parties: bool,
    pub violence: bool,
    pub repeat: bool,
}

/// The risk flags of a case: many parties (≥ [`MANY_PARTIES`] parties or ≥ [`MANY_PEOPLE`]
/// people involved), violence threatened (as reported), repeat (the applicant had
/// `earlier_cases` within [`REPEAT_DAYS`]).
pub fn risk(
    parties: usize,
    people_involved: Option<i64>,
    violence: bool,
    earlier_cases: i64,
) -> Risk {
    Risk {
        many_parties: parties >= MANY_PARTIES || people_involved.unwrap_or(0) >= MANY_PEOPLE,
        violence,
        repeat: earlier_cases > 0,
    }
}

/// What a case counts for in the figures (Σ/Σ per node): every case is `found`; the rest as
/// it goes. Success rate = agreements / concluded (agreement or failure; withdrawals are
/// neither); on-time rate = on_time / mediated; honoured rate = honoured / followed_up.
pub const MEASURES: [&str; 8] = [
    "found",
    "accepted",
    "mediated",
    "agreements",
    "concluded",
    "on_time",
    "followed_up",
    "honoured",
];

/// The facts of a case the figures count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts<'a> {
    pub accepted: bool,
    /// `agreement`, `failure` or `withdrawal` once recorded.
    pub outcome: Option<&'a str>,
    /// The outcome came before the deadline.
    pub on_time: Option<bool>,
    /// The follow-up's answer.
    pub honoured: Option<bool>,
}

/// The measures (of [`MEASURES`]) a case counts for now: a pure function of its row, so the
/// counters move by (new − old) on every save and equal a recount.
pub fn measures(f: &Facts) -> Vec<&'static str> {
    let mut out = vec!["found"];
    if f.accepted {
        out.push("accepted");
    }
    if let Some(o) = f.outcome {
        out.push("mediated");
        if o == "agreement" {
            out.push("agreements");
        }
        if o != "withdrawal" {
            out.push("concluded");
        }
        if f.on_time == Some(true) {
            out.push("on_time");
        }
    }
    if let Some(h) = f.honoured {
        out.push("followed_up");
        if h {
            out.push("honoured");
        }
    }
    out
}

/// What the viewer is to a case, for reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Involvement {
    /// The user who took the case in (a grid worker's report).
    pub took_in: bool,
    /// The citizen who applied.
    pub applied: bool,
    /// The assigned mediator (through their account).
    pub mediates: bool,
}

/// Whether `actor` may read a case held at `node`: staff of the centres and leaders and
/// analysts in scope; the assigned mediator; the grid worker who took it in; the citizen who
/// applied. Department handlers have no part in mediation.
pub fn can_view(actor: &Actor, node: &NodeCode, me: Involvement) -> bool {
    match actor.role {
        Role::Admin | Role::Dispatcher | Role::Leader | Role::Analyst => {
            matches!(actor.scope, Scope::Node(_)) && actor.reaches(node)
        }
        Role::Mediator => me.mediates,
        Role::GridWorker => me.took_in,
        Role::Citizen => me.applied,
        Role::Handler => false,
    }
}

/// Whether `actor` may see the parties' names in full (the centre, the mediator); others see
/// them masked.
pub fn sees_names(actor: &Actor, node: &NodeCode, me: Involvement) -> bool {
    match actor.role {
        Role::Admin | Role::Dispatcher => actor.reaches(node),
        Role::Mediator => me.mediates,
        _ => false,
    }
}

/// Whether `actor` may take in cases at `node` (staff intake): dispatchers and administrators
/// in scope, grid workers in their grid.
pub fn can_take_in(actor: &Actor, node: &NodeCode) -> bool {
    matches!(
        actor.role,
        Role::Admin | Role::Dispatcher | Role::GridWorker
    ) && matches!(actor.scope, Scope::Node(_))
        && actor.reaches(node)
}

/// Whether `actor` manages the mediator pool and panels at `node` (dispatchers at or above,
/// administrators).
pub fn manages_pool(actor: &Actor, node: &NodeCode) -> bool {
    matches!(actor.role, Role::Admin | Role::Dispatcher)
        && matches!(actor.scope, Scope::Node(_))
        && actor.reaches(node)
}

/// A dispute type code: lower-case ASCII letters, digits and `_`, 2 to 32 characters,
/// starting with a letter.
pub fn parse_type_code(raw: &str) -> Result<String, DomainError> {
    let ok = (2..=32).contains(&raw.len())
        && raw.starts_with(|c: char| c.is_ascii_lowercase())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(DomainError::invalid(
            "code",
            "must be 2–32 lower-case letters, digits or _, starting with a letter",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> NodeCode {
        NodeCode::from_path(s).unwrap()
    }

    #[test]
    fn villages_towns_and_counties_hold_centres_and_grids_report_to_their_village() {
        assert_eq!(centre_level(&code("441502")), Some(CentreLevel::County));
        assert_eq!(centre_level(&code("441502001")), Some(CentreLevel::Town));
        assert_eq!(
            centre_level(&code("441502001001")),
            Some(CentreLevel::Village)
        );
        assert_eq!(centre_level(&code("4415")), None);
        assert_eq!(centre_level(&code("441502001001001")), None);
        assert_eq!(
            intake_centre(&code("441502001001001002")),
            Some(code("441502001001"))
        );
        assert_eq!(intake_centre(&code("4415")), None);
        assert_eq!(
            state::centre_parent(&code("441502001001")),
            Some(code("441502001"))
        );
        assert_eq!(
            state::centre_parent(&code("441502001")),
            Some(code("441502"))
        );
        assert_eq!(state::centre_parent(&code("441502")), None);
    }

    #[test]
    fn risk_flags_follow_their_thresholds() {
        assert_eq!(risk(2, None, false, 0), Risk::default());
        assert!(risk(5, None, false, 0).many_parties);
        assert!(!risk(4, Some(9), false, 0).many_parties);
        assert!(risk(2, Some(10), false, 0).many_parties);
        assert!(risk(2, None, true, 0).violence);
        assert!(risk(2, None, false, 1).repeat);
    }

    #[test]
    fn who_sees_a_case() {
        let town = code("441502001");
        let none = Involvement {
            took_in: false,
            applied: false,
            mediates: false,
        };
        let actor = |role, scope: &str| Actor {
            user_id: 5,
            role,
            scope: Scope::Node(code(scope)),
        };
        let citizen = Actor {
            user_id: 5,
            role: Role::Citizen,
            scope: Scope::Own,
        };
        assert!(can_view(&actor(Role::Dispatcher, "441502"), &town, none));
        assert!(can_view(&actor(Role::Leader, "441502001"), &town, none));
        assert!(
            !can_view(&actor(Role::Dispatcher, "441502001001"), &town, none),
            "a village centre does not see its town's cases"
        );
        assert!(!can_view(&actor(Role::Mediator, "441502"), &town, none));
        assert!(can_view(
            &actor(Role::Mediator, "441503"),
            &town,
            Involvement {
                mediates: true,
                ..none
            }
        ));
        assert!(!can_view(
            &actor(Role::GridWorker, "441502001001001"),
            &town,
            none
        ));
        assert!(can_view(
            &actor(Role::GridWorker, "441502001001001"),
            &town,
            Involvement {
                took_in: true,
                ..none
            }
        ));
        assert!(!can_view(&citizen, &town, none));
        assert!(can_view(
            &citizen,
            &town,
            Involvement {
                applied: true,
                ..none
            }
        ));
        assert!(!sees_names(&actor(Role::Leader, "441502"), &town, none));
        assert!(sees_names(&actor(Role::Dispatcher, "441502"), &town, none));
    }

    #[test]
    fn a_case_counts_for_what_it_reached() {
        let f = |accepted, outcome, on_time, honoured| {
            measures(&Facts {
                accepted,
                outcome,
                on_time,
                honoured,
            })
        };
        assert_eq!(f(false, None, None, None), ["found"]);
        assert_eq!(
            f(true, Some("withdrawal"), Some(true), None),
            ["found", "accepted", "mediated", "on_time"]
        );
        assert_eq!(
            f(true, Some("failure"), Some(false), None),
            ["found", "accepted", "mediated", "concluded"]
        );
        assert_eq!(
            f(true, Some("agreement"), Some(true), Some(false)),
            [
                "found",
                "accepted",
                "mediated",
                "agreements",
                "concluded",
                "on_time",
                "followed_up"
            ]
        );
        assert!(f(true, Some("agreement"), None, Some(true)).contains(&"honoured"));
    }

    #[test]
    fn type_codes_are_plain_identifiers() {
        for ok in ["family", "land_forest", "a2"] {
            assert!(parse_type_code(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "Family", "2x", "a-b", "家庭", &"a".repeat(33)] {
            assert!(parse_type_code(bad).is_err(), "{bad}");
        }
    }
}
