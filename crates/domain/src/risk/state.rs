//! The life of a risk record, as a pure function of (record, action, actor): a clue is
//! assessed into a graded risk or dismissed; a risk takes progress reports, is regraded or
//! handed to another lead department, is finished by its lead department and closed (or sent
//! back) by the centre's review.

use crate::tree::NodeCode;
use crate::user::{Actor, Role, Scope};

use super::{Level, Refusal};

/// Longest measures, report, reason or review note.
pub const MAX_NOTE_CHARS: usize = 2000;
/// Most helper departments on one risk.
pub const MAX_HELPERS: usize = 20;

/// Where a record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// 风险线索: waiting for the joint assessment.
    Clue,
    /// Assessed as no risk (不构成风险).
    Dismissed,
    /// A graded risk being handled (处置中).
    Active,
    /// Handled; waiting for the centre's review (待评估).
    Review,
    /// Closed after the review (已销号).
    Closed,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Clue,
        State::Dismissed,
        State::Active,
        State::Review,
        State::Closed,
    ];

    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Clue => "clue",
            State::Dismissed => "dismissed",
            State::Active => "active",
            State::Review => "review",
            State::Closed => "closed",
        }
    }

    /// The state named `s`.
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Still needs work (a clue or a risk not closed).
    pub fn is_open(self) -> bool {
        matches!(self, State::Clue | State::Active | State::Review)
    }
}

/// A move on a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// 联合研判: grade the clue, name the lead department and helpers, set the measures (centre).
    Assess {
        level: Level,
        lead_department_id: i64,
        helper_ids: Vec<i64>,
        measures: String,
    },
    /// Not a risk (centre).
    Dismiss { reason: String },
    /// 进展报告 (the lead or a helper department, or the centre).
    Report { text: String },
    /// 升级 / 降级 (centre): a new level, with its reason on the history.
    Regrade { level: Level, reason: String },
    /// Another lead department or helpers (centre).
    Reassign {
        lead_department_id: i64,
        helper_ids: Vec<i64>,
    },
    /// 处置完毕: handled, ask for the review (the lead department or the centre).
    Finish { summary: String },
    /// 评估销号 (centre): close it, or send it back to the lead department with a reason.
    Review { approve: bool, note: Option<String> },
}

impl Action {
    /// Every action name, as the API spells it.
    pub const NAMES: [&'static str; 7] = [
        "assess", "dismiss", "report", "regrade", "reassign", "finish", "review",
    ];

    /// The API name of the action.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Assess { .. } => "assess",
            Action::Dismiss { .. } => "dismiss",
            Action::Report { .. } => "report",
            Action::Regrade { .. } => "regrade",
            Action::Reassign { .. } => "reassign",
            Action::Finish { .. } => "finish",
            Action::Review { .. } => "review",
        }
    }
}

/// What the rules need to know of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskState {
    pub id: i64,
    pub state: State,
    /// Where the risk lies: the centre of this node (or one above) assesses it.
    pub node: NodeCode,
    pub level: Option<Level>,
    pub lead_department_id: Option<i64>,
    pub helper_ids: Vec<i64>,
}

/// What a move changes; the adapter applies it, runs the clock and writes the timeline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transition {
    pub to: Option<State>,
    pub level: Option<Level>,
    pub lead_department_id: Option<i64>,
    pub helper_ids: Option<Vec<i64>>,
    pub measures: Option<String>,
    /// Start (or restart) the level's clock now.
    pub start_clock: bool,
    /// Stop the clock (handled).
    pub stop_clock: bool,
    /// A progress report to store.
    pub report: Option<String>,
    /// The reason or note written on the timeline.
    pub note: Option<String>,
}

/// Who the actor is to this record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// An analyst, dispatcher or administrator whose scope reaches the node: the centre.
    Centre,
    /// A handler of the lead department.
    Lead,
    /// A handler of a helper department.
    Helper,
    Other,
}

fn standing(r: &RiskState, actor: &Actor) -> Standing {
    match (&actor.role, &actor.scope) {
        (Role::Analyst | Role::Dispatcher | Role::Admin, _) if actor.reaches(&r.node) => {
            Standing::Centre
        }
        (Role::Handler, Scope::Department { id, .. }) if r.lead_department_id == Some(*id) => {
            Standing::Lead
        }
        (Role::Handler, Scope::Department { id, .. }) if r.helper_ids.contains(id) => {
            Standing::Helper
        }
        _ => Standing::Other,
    }
}

/// The states an action is allowed from (the state table; the rest are 409).
pub fn allowed_from(action: &Action, s: State) -> bool {
    match action {
        Action::Assess { .. } | Action::Dismiss { .. } => s == State::Clue,
        Action::Report { .. } | Action::Reassign { .. } | Action::Finish { .. } => {
            s == State::Active
        }
        Action::Regrade { .. } => matches!(s, State::Active | State::Review),
        Action::Review { .. } => s == State::Review,
    }
}

fn allowed_actor(action: &Action, who: Standing) -> bool {
    match action {
        Action::Assess { .. }
        | Action::Dismiss { .. }
        | Action::Regrade { .. }
        | Action::Reassign { .. }
        | Action::Review { .. } => who == Standing::Centre,
        Action::Report { .. } => who != Standing::Other,
        Action::Finish { .. } => matches!(who, Standing::Centre | Standing::Lead),
    }
}

fn text(field: &str, raw: &str) -> Result<String, Refusal> {
    crate::text::label(field, raw, MAX_NOTE_CHARS).map_err(|e| match e {
        crate::DomainError::Invalid { field, reason } => Refusal::Invalid { field, reason },
        other => Refusal::Invalid {
            field: field.to_owned(),
            reason: other.to_string(),
        },
    })
}

fn departments(lead: i64, helpers: &[i64]) -> Result<Vec<i64>, Refusal> {
    let invalid = |reason: &str| Refusal::Invalid {
        field: "helper_ids".into(),
        reason: reason.into(),
    };
    if helpers.len() > MAX_HELPERS {
        return Err(invalid("at most 20 helper departments"));
    }
    let mut out: Vec<i64> = Vec::with_capacity(helpers.len());
    for &h in helpers {
        if h == lead {
            return Err(invalid("the lead department is not also a helper"));
        }
        if out.contains(&h) {
            return Err(invalid("a helper department is named twice"));
        }
        out.push(h);
    }
    Ok(out)
}

/// Applies `action` by `actor` to `r`: what changes, or why not. Pure: the adapter checks what
/// needs the database (the departments exist) before.
pub fn transition(r: &RiskState, action: &Action, actor: &Actor) -> Result<Transition, Refusal> {
    if !allowed_from(action, r.state) {
        return Err(Refusal::WrongState(format!(
            "a record that is {} cannot take '{}'",
            r.state.as_str(),
            action.name()
        )));
    }
    if !allowed_actor(action, standing(r, actor)) {
        return Err(Refusal::Forbidden(format!(
            "'{}' on this risk is not yours to do",
            action.name()
        )));
    }
    let mut t = Transition::default();
    match action {
        Action::Assess {
            level,
            lead_department_id,
            helper_ids,
            measures,
        } => {
            t.to = Some(State::Active);
            t.level = Some(*level);
            t.lead_department_id = Some(*lead_department_id);
            t.helper_ids = Some(departments(*lead_department_id, helper_ids)?);
            t.measures = Some(text("measures", measures)?);
            t.start_clock = true;
        }
        Action::Dismiss { reason } => {
            t.to = Some(State::Dismissed);
            t.note = Some(text("reason", reason)?);
        }
        Action::Report { text: body } => {
            t.report = Some(text("text", body)?);
        }
        Action::Regrade { level, reason } => {
            if r.level == Some(*level) {
                return Err(Refusal::Invalid {
                    field: "level".into(),
                    reason: format!("the risk is already {}", level.as_str()),
                });
            }
            t.level = Some(*level);
            t.note = Some(text("reason", reason)?);
            // A new level runs its own clock from now (only while being handled).
            t.start_clock = r.state == State::Active;
        }
        Action::Reassign {
            lead_department_id,
            helper_ids,
        } => {
            t.lead_department_id = Some(*lead_department_id);
            t.helper_ids = Some(departments(*lead_department_id, helper_ids)?);
        }
        Action::Finish { summary } => {
            t.to = Some(State::Review);
            t.stop_clock = true;
            t.note = Some(text("summary", summary)?);
        }
        Action::Review { approve, note } => {
            if *approve {
                t.to = Some(State::Closed);
                t.note = match note {
                    Some(n) => Some(text("note", n)?),
                    None => None,
                };
            } else {
                let Some(n) = note else {
                    return Err(Refusal::Invalid {
                        field: "note".into(),
                        reason: "say why the risk goes back".into(),
                    });
                };
                t.to = Some(State::Active);
                t.note = Some(text("note", n)?);
            }
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOWN: &str = "441502001";

    fn code(s: &str) -> NodeCode {
        if s.len() < 12 {
            NodeCode::from_path(s).unwrap()
        } else {
            NodeCode::parse(s).unwrap()
        }
    }

    fn record(state: State) -> RiskState {
        RiskState {
            id: 1,
            state,
            node: code("441502001002"),
            level: (state != State::Clue).then_some(Level::Orange),
            lead_department_id: Some(7),
            helper_ids: vec![8],
        }
    }

    fn centre() -> Actor {
        Actor {
            user_id: 1,
            role: Role::Analyst,
            scope: Scope::Node(code(TOWN)),
        }
    }

    fn handler(department: i64) -> Actor {
        Actor {
            user_id: 5,
            role: Role::Handler,
            scope: Scope::Department {
                id: department,
                region: code(TOWN),
            },
        }
    }

    /// One move of each action, by someone allowed to make it.
    fn moves() -> Vec<(Action, Actor)> {
        vec![
            (
                Action::Assess {
                    level: Level::Red,
                    lead_department_id: 7,
                    helper_ids: vec![8, 9],
                    measures: "疏散低洼处群众".into(),
                },
                centre(),
            ),
            (
                Action::Dismiss {
                    reason: "已核实无风险".into(),
                },
                centre(),
            ),
            (
                Action::Report {
                    text: "已转移12户".into(),
                },
                handler(8),
            ),
            (
                Action::Regrade {
                    level: Level::Red,
                    reason: "水位继续上涨".into(),
                },
                centre(),
            ),
            (
                Action::Reassign {
                    lead_department_id: 9,
                    helper_ids: vec![7],
                },
                centre(),
            ),
            (
                Action::Finish {
                    summary: "险情解除".into(),
                },
                handler(7),
            ),
            (
                Action::Review {
                    approve: true,
                    note: None,
                },
                centre(),
            ),
        ]
    }

    /// The state table: from which states each action may be taken.
    fn allowed(action: &str) -> &'static [State] {
        use State::*;
        match action {
            "assess" | "dismiss" => &[Clue],
            "report" | "reassign" | "finish" => &[Active],
            "regrade" => &[Active, Review],
            "review" => &[Review],
            _ => unreachable!(),
        }
    }

    /// Where each action leads (`None`: stays).
    fn leads_to(action: &str) -> Option<State> {
        use State::*;
        match action {
            "assess" => Some(Active),
            "dismiss" => Some(Dismissed),
            "finish" => Some(Review),
            "review" => Some(Closed),
            _ => None,
        }
    }

    #[test]
    fn every_state_and_action_pair_follows_the_table() {
        let moves = moves();
        assert_eq!(moves.len(), Action::NAMES.len());
        for state in State::ALL {
            for (action, actor) in &moves {
                let got = transition(&record(state), action, actor);
                let expect_ok = allowed(action.name()).contains(&state);
                assert_eq!(
                    got.is_ok(),
                    expect_ok,
                    "{} from {state:?}: {got:?}",
                    action.name()
                );
                match got {
                    Ok(t) => assert_eq!(t.to, leads_to(action.name()), "{}", action.name()),
                    Err(e) => assert!(matches!(e, Refusal::WrongState(_)), "{e:?}"),
                }
            }
        }
    }

    #[test]
    fn only_the_centre_grades_and_closes_and_only_its_departments_report() {
        let far = Actor {
            user_id: 1,
            role: Role::Analyst,
            scope: Scope::Node(code("441503")),
        };
        let leader = Actor {
            user_id: 1,
            role: Role::Leader,
            scope: Scope::Node(code("441502")),
        };
        let assess = &moves()[0].0;
        for who in [far.clone(), leader.clone(), handler(7)] {
            assert!(matches!(
                transition(&record(State::Clue), assess, &who),
                Err(Refusal::Forbidden(_))
            ));
        }
        let report = Action::Report { text: "x".into() };
        assert!(transition(&record(State::Active), &report, &handler(7)).is_ok());
        assert!(transition(&record(State::Active), &report, &centre()).is_ok());
        assert!(matches!(
            transition(&record(State::Active), &report, &handler(3)),
            Err(Refusal::Forbidden(_))
        ));
        let finish = Action::Finish {
            summary: "x".into(),
        };
        assert!(matches!(
            transition(&record(State::Active), &finish, &handler(8)),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            transition(&record(State::Active), &report, &leader),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn assessment_sets_the_level_departments_and_clock() {
        let t = transition(&record(State::Clue), &moves()[0].0, &centre()).unwrap();
        assert_eq!(t.level, Some(Level::Red));
        assert_eq!(t.lead_department_id, Some(7));
        assert_eq!(t.helper_ids, Some(vec![8, 9]));
        assert!(t.start_clock);
        for helpers in [vec![7], vec![8, 8]] {
            let bad = Action::Assess {
                level: Level::Red,
                lead_department_id: 7,
                helper_ids: helpers,
                measures: "m".into(),
            };
            assert!(matches!(
                transition(&record(State::Clue), &bad, &centre()),
                Err(Refusal::Invalid { field, .. }) if field == "helper_ids"
            ));
        }
        let empty = Action::Assess {
            level: Level::Red,
            lead_department_id: 7,
            helper_ids: vec![],
            measures: "  ".into(),
        };
        assert!(matches!(
            transition(&record(State::Clue), &empty, &centre()),
            Err(Refusal::Invalid { field, .. }) if field == "measures"
        ));
    }

    #[test]
    fn regrading_restarts_the_clock_and_needs_a_new_level() {
        let same = Action::Regrade {
            level: Level::Orange,
            reason: "r".into(),
        };
        assert!(matches!(
            transition(&record(State::Active), &same, &centre()),
            Err(Refusal::Invalid { .. })
        ));
        let t = transition(&record(State::Active), &moves()[3].0, &centre()).unwrap();
        assert!(t.start_clock);
        let t = transition(&record(State::Review), &moves()[3].0, &centre()).unwrap();
        assert!(!t.start_clock);
    }

    #[test]
    fn a_review_that_sends_back_needs_a_reason() {
        let back = |note: Option<&str>| Action::Review {
            approve: false,
            note: note.map(str::to_owned),
        };
        assert!(matches!(
            transition(&record(State::Review), &back(None), &centre()),
            Err(Refusal::Invalid { .. })
        ));
        let t = transition(&record(State::Review), &back(Some("措施未落实")), &centre()).unwrap();
        assert_eq!(t.to, Some(State::Active));
    }
}
