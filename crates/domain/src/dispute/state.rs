//! The life of a dispute case (矛盾纠纷案件) as one pure function: intake → accepted (or
//! declined) → assigned → sessions → outcome (agreement, failure with referral, withdrawal) →
//! follow-up (回访) → closed, with transfers between the three levels of centres (三级联动),
//! one extension, judicial confirmation (司法确认) and expert panels (专家库).
//!
//! Refusals are the event loop's ([`Refusal`]): forbidden (403), wrong state (409), invalid (422).

use serde::{Deserialize, Serialize};

use super::{centre_level, CentreLevel};
use crate::event::state::Refusal;
use crate::tree::NodeCode;
use crate::user::{Actor, Role};

/// Working days a people's mediation may take from acceptance (人民调解 30 日).
pub const DEADLINE_DAYS: i64 = 30;
/// Working days an approved extension adds.
pub const EXTENSION_DAYS: i64 = 15;
/// Longest reason, note, court name or agreement terms accepted, in characters.
pub const MAX_NOTE_CHARS: usize = 1_000;
/// Longest agreement terms, in characters.
pub const MAX_TERMS_CHARS: usize = 10_000;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 登记: taken in, not yet accepted by the centre.
    Intake,
    /// 受理: accepted; the 30-working-day clock runs.
    Accepted,
    /// 不予受理: declined with a reason (final).
    Declined,
    /// 指派: a mediator holds it.
    Assigned,
    /// 调解中: at least one session scheduled.
    InSession,
    /// 达成协议: an agreement was signed; a follow-up visit is due.
    Agreed,
    /// 调解不成: failed, referred to court, arbitration or administrative review.
    Failed,
    /// 撤回: the applicant withdrew.
    Withdrawn,
    /// 结案.
    Closed,
}

impl State {
    /// Every state.
    pub const ALL: [State; 9] = [
        State::Intake,
        State::Accepted,
        State::Declined,
        State::Assigned,
        State::InSession,
        State::Agreed,
        State::Failed,
        State::Withdrawn,
        State::Closed,
    ];

    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Intake => "intake",
            State::Accepted => "accepted",
            State::Declined => "declined",
            State::Assigned => "assigned",
            State::InSession => "in_session",
            State::Agreed => "agreed",
            State::Failed => "failed",
            State::Withdrawn => "withdrawn",
            State::Closed => "closed",
        }
    }

    /// The state named `s`.
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the case is still being worked (not declined or closed).
    pub fn is_open(self) -> bool {
        !matches!(self, State::Declined | State::Closed)
    }

    /// Whether the mediation clock runs in this state.
    pub fn clock_runs(self) -> bool {
        matches!(self, State::Accepted | State::Assigned | State::InSession)
    }
}

/// Where a failed mediation is referred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Referral {
    /// 诉讼.
    Court,
    /// 仲裁.
    Arbitration,
    /// 行政复议.
    AdminReview,
}

impl Referral {
    /// Every referral.
    pub const ALL: [Referral; 3] = [
        Referral::Court,
        Referral::Arbitration,
        Referral::AdminReview,
    ];

    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Referral::Court => "court",
            Referral::Arbitration => "arbitration",
            Referral::AdminReview => "admin_review",
        }
    }

    /// The referral named `s`.
    pub fn parse(s: &str) -> Option<Referral> {
        Referral::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// How a mediation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 调解协议: the terms agreed.
    Agreement { terms: String },
    /// 调解不成, referred elsewhere.
    Failure { referral: Referral, reason: String },
    /// 撤回.
    Withdrawal { reason: String },
}

impl Outcome {
    /// `agreement`, `failure` or `withdrawal`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Agreement { .. } => "agreement",
            Outcome::Failure { .. } => "failure",
            Outcome::Withdrawal { .. } => "withdrawal",
        }
    }
}

/// Where an extension request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Extension {
    /// None asked.
    None,
    /// Asked, not yet decided.
    Pending,
    /// Approved (the clock got [`EXTENSION_DAYS`] more).
    Approved,
    /// Refused.
    Refused,
}

impl Extension {
    /// Every value.
    pub const ALL: [Extension; 4] = [
        Extension::None,
        Extension::Pending,
        Extension::Approved,
        Extension::Refused,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Extension::None => "none",
            Extension::Pending => "pending",
            Extension::Approved => "approved",
            Extension::Refused => "refused",
        }
    }

    /// The value named `s`.
    pub fn parse(s: &str) -> Option<Extension> {
        Extension::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// 司法确认: the court that confirmed the agreement, the date and its ruling number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judicial {
    pub court: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub number: String,
}

/// A move on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// 受理 (centre).
    Accept,
    /// 不予受理 (centre).
    Decline { reason: String },
    /// 指派 / 改派 a mediator (centre).
    Assign { mediator_id: i64 },
    /// 安排调解会 (centre or the mediator).
    ScheduleSession,
    /// Record how the mediation ended (centre or the mediator).
    RecordOutcome(Outcome),
    /// 回访: whether the agreement is honoured (centre or the mediator).
    FollowUp {
        honoured: bool,
        note: Option<String>,
    },
    /// 结案 a failed or withdrawn case (centre).
    Close,
    /// 提级: to the parent level's centre (centre).
    TransferUp { reason: String },
    /// 下转: to a child centre one level down (centre).
    TransferDown { to_node: NodeCode, reason: String },
    /// 申请延期 (the mediator, once).
    RequestExtension { reason: String },
    /// 审批延期 (centre).
    DecideExtension { approve: bool },
    /// 司法确认 (centre or the mediator), once, of an agreement.
    JudicialConfirmation(Judicial),
    /// 邀请专家组 (centre or the mediator).
    InvitePanel { panel_id: i64 },
}

impl Action {
    /// Every action name, as the API spells it.
    pub const NAMES: [&'static str; 13] = [
        "accept",
        "decline",
        "assign",
        "schedule_session",
        "record_outcome",
        "follow_up",
        "close",
        "transfer_up",
        "transfer_down",
        "request_extension",
        "decide_extension",
        "judicial_confirmation",
        "invite_panel",
    ];

    /// The API name of the action.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Decline { .. } => "decline",
            Action::Assign { .. } => "assign",
            Action::ScheduleSession => "schedule_session",
            Action::RecordOutcome(_) => "record_outcome",
            Action::FollowUp { .. } => "follow_up",
            Action::Close => "close",
            Action::TransferUp { .. } => "transfer_up",
            Action::TransferDown { .. } => "transfer_down",
            Action::RequestExtension { .. } => "request_extension",
            Action::DecideExtension { .. } => "decide_extension",
            Action::JudicialConfirmation(_) => "judicial_confirmation",
            Action::InvitePanel { .. } => "invite_panel",
        }
    }
}

/// What the rules need to know of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeState {
    pub id: i64,
    pub state: State,
    /// The node whose centre holds the case (a village, town or county).
    pub node: NodeCode,
    /// The assigned mediator (pool id) and the user account they act through, if any.
    pub mediator_id: Option<i64>,
    pub mediator_user_id: Option<i64>,
    pub extension: Extension,
    /// The outcome was an agreement (also once closed).
    pub agreement: bool,
    pub judicial: bool,
    /// Panels invited already.
    pub panels: Vec<i64>,
}

/// What a move changes; the adapter applies it, runs the clocks and writes the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transition {
    pub to: Option<State>,
    /// The holding node changes (a transfer).
    pub node: Option<NodeCode>,
    /// `Some(x)`: the mediator becomes `x`.
    pub mediator_id: Option<Option<i64>>,
    /// Start the mediation clock now ([`DEADLINE_DAYS`]).
    pub start_clock: bool,
    /// Stop the clock (an outcome).
    pub stop_clock: bool,
    /// Working days to add to the deadline (an approved extension).
    pub extend_days: Option<i64>,
    pub extension: Option<Extension>,
    pub outcome: Option<Outcome>,
    /// The follow-up's answer.
    pub honoured: Option<bool>,
    /// Not honoured at follow-up: back to the same mediator with a new clock.
    pub reopened: bool,
    pub judicial: Option<Judicial>,
    pub panel_id: Option<i64>,
    /// The reason or note written on the timeline.
    pub note: Option<String>,
}

/// Who the actor is to this case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// A dispatcher (or administrator) whose scope reaches the holding node: the centre.
    Centre,
    /// The assigned mediator.
    Mediator,
    Other,
}

fn standing(case: &DisputeState, actor: &Actor) -> Standing {
    match actor.role {
        Role::Dispatcher | Role::Admin if actor.reaches(&case.node) => Standing::Centre,
        Role::Mediator if case.mediator_user_id == Some(actor.user_id) => Standing::Mediator,
        _ => Standing::Other,
    }
}

fn wrong(action: &Action, state: State) -> Refusal {
    Refusal::WrongState(format!(
        "a case that is {} cannot take '{}'",
        state.as_str(),
        action.name()
    ))
}

fn text(field: &str, raw: &str, max: usize) -> Result<String, Refusal> {
    crate::text::label(field, raw, max).map_err(|e| match e {
        crate::DomainError::Invalid { field, reason } => Refusal::Invalid { field, reason },
        other => Refusal::Invalid {
            field: field.to_owned(),
            reason: other.to_string(),
        },
    })
}

/// The states an action is allowed from (the state table; the rest are 409).
pub fn allowed_from(action: &Action, case: &DisputeState) -> bool {
    use State::*;
    let s = case.state;
    match action {
        Action::Accept | Action::Decline { .. } => s == Intake,
        Action::Assign { .. } => matches!(s, Accepted | Assigned | InSession),
        Action::ScheduleSession => matches!(s, Assigned | InSession),
        Action::RecordOutcome(_) => matches!(s, Assigned | InSession),
        Action::FollowUp { .. } => s == Agreed,
        Action::Close => matches!(s, Failed | Withdrawn),
        Action::TransferUp { .. } | Action::TransferDown { .. } => {
            matches!(s, Intake | Accepted | Assigned)
        }
        Action::RequestExtension { .. } => {
            matches!(s, Assigned | InSession) && case.extension == Extension::None
        }
        Action::DecideExtension { .. } => s.clock_runs() && case.extension == Extension::Pending,
        Action::JudicialConfirmation(_) => {
            (s == Agreed || (s == Closed && case.agreement)) && !case.judicial
        }
        Action::InvitePanel { .. } => s.is_open(),
    }
}

/// Who may make the move: `true` for the centre only, `false` for the centre or the mediator;
/// the extension request is the mediator's alone.
fn allowed_actor(action: &Action, who: Standing) -> bool {
    match action {
        Action::Accept
        | Action::Decline { .. }
        | Action::Assign { .. }
        | Action::Close
        | Action::TransferUp { .. }
        | Action::TransferDown { .. }
        | Action::DecideExtension { .. } => who == Standing::Centre,
        Action::RequestExtension { .. } => who == Standing::Mediator,
        Action::ScheduleSession
        | Action::RecordOutcome(_)
        | Action::FollowUp { .. }
        | Action::JudicialConfirmation(_)
        | Action::InvitePanel { .. } => who != Standing::Other,
    }
}

/// Applies `action` by `actor` to `case`: what changes, or why not. Pure: the adapter checks
/// what needs the database (the mediator exists and is active, the panel exists, the node is a
/// centre) before or after.
pub fn transition(
    case: &DisputeState,
    action: &Action,
    actor: &Actor,
) -> Result<Transition, Refusal> {
    if !allowed_from(action, case) {
        return Err(wrong(action, case.state));
    }
    if !allowed_actor(action, standing(case, actor)) {
        return Err(Refusal::Forbidden(format!(
            "'{}' on this case is not yours to do",
            action.name()
        )));
    }
    let mut t = Transition::default();
    match action {
        Action::Accept => {
            t.to = Some(State::Accepted);
            t.start_clock = true;
        }
        Action::Decline { reason } => {
            t.to = Some(State::Declined);
            t.note = Some(text("reason", reason, MAX_NOTE_CHARS)?);
        }
        Action::Assign { mediator_id } => {
            if case.mediator_id == Some(*mediator_id) {
                return Err(Refusal::Invalid {
                    field: "mediator_id".into(),
                    reason: "this mediator holds the case already".into(),
                });
            }
            t.mediator_id = Some(Some(*mediator_id));
            if case.state == State::Accepted {
                t.to = Some(State::Assigned);
            }
        }
        Action::ScheduleSession => {
            if case.state == State::Assigned {
                t.to = Some(State::InSession);
            }
        }
        Action::RecordOutcome(outcome) => {
            let checked = match outcome {
                Outcome::Agreement { terms } => Outcome::Agreement {
                    terms: text("terms", terms, MAX_TERMS_CHARS)?,
                },
                Outcome::Failure { referral, reason } => Outcome::Failure {
                    referral: *referral,
                    reason: text("reason", reason, MAX_NOTE_CHARS)?,
                },
                Outcome::Withdrawal { reason } => Outcome::Withdrawal {
                    reason: text("reason", reason, MAX_NOTE_CHARS)?,
                },
            };
            t.to = Some(match checked {
                Outcome::Agreement { .. } => State::Agreed,
                Outcome::Failure { .. } => State::Failed,
                Outcome::Withdrawal { .. } => State::Withdrawn,
            });
            t.stop_clock = true;
            t.outcome = Some(checked);
        }
        Action::FollowUp { honoured, note } => {
            t.honoured = Some(*honoured);
            if *honoured {
                t.to = Some(State::Closed);
                t.note = match note {
                    Some(n) => crate::text::note("note", n, MAX_NOTE_CHARS).map_err(invalid)?,
                    None => None,
                };
            } else {
                let n = note.as_deref().unwrap_or("");
                t.note = Some(text("note", n, MAX_NOTE_CHARS)?);
                t.to = Some(State::Assigned);
                t.reopened = true;
                t.start_clock = true;
            }
        }
        Action::Close => t.to = Some(State::Closed),
        Action::TransferUp { reason } => {
            t.note = Some(text("reason", reason, MAX_NOTE_CHARS)?);
            let parent = centre_parent(&case.node).ok_or_else(|| {
                Refusal::WrongState("a county centre has no higher centre to transfer to".into())
            })?;
            transfer(case, &mut t, parent);
        }
        Action::TransferDown { to_node, reason } => {
            t.note = Some(text("reason", reason, MAX_NOTE_CHARS)?);
            let fits = centre_parent(to_node).is_some_and(|p| p == case.node);
            if !fits {
                return Err(Refusal::Invalid {
                    field: "to_node".into(),
                    reason: "must be a centre one level below the one holding the case (county → town → village)".into(),
                });
            }
            transfer(case, &mut t, to_node.clone());
        }
        Action::RequestExtension { reason } => {
            t.note = Some(text("reason", reason, MAX_NOTE_CHARS)?);
            t.extension = Some(Extension::Pending);
        }
        Action::DecideExtension { approve } => {
            t.extension = Some(if *approve {
                Extension::Approved
            } else {
                Extension::Refused
            });
            if *approve {
                t.extend_days = Some(EXTENSION_DAYS);
            }
        }
        Action::JudicialConfirmation(j) => {
            let date = j.date.trim();
            if chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() || date.len() != 10 {
                return Err(Refusal::Invalid {
                    field: "date".into(),
                    reason: "must be a date (YYYY-MM-DD)".into(),
                });
            }
            t.judicial = Some(Judicial {
                court: text("court", &j.court, 100)?,
                date: date.to_owned(),
                number: text("number", &j.number, 100)?,
            });
        }
        Action::InvitePanel { panel_id } => {
            if case.panels.contains(panel_id) {
                return Err(Refusal::Invalid {
                    field: "panel_id".into(),
                    reason: "this panel is invited already".into(),
                });
            }
            t.panel_id = Some(*panel_id);
        }
    }
    Ok(t)
}

fn invalid(e: crate::DomainError) -> Refusal {
    match e {
        crate::DomainError::Invalid { field, reason } => Refusal::Invalid { field, reason },
        other => Refusal::WrongState(other.to_string()),
    }
}

/// A transfer un-assigns the mediator: the receiving centre assigns anew.
fn transfer(case: &DisputeState, t: &mut Transition, to: NodeCode) {
    t.node = Some(to);
    if case.mediator_id.is_some() {
        t.mediator_id = Some(None);
    }
    if case.state == State::Assigned {
        t.to = Some(State::Accepted);
    }
}

/// The centre one level up: a village's town, a town's county; `None` for a county, for a
/// town of a city without counties (county digits 00: 东莞, 中山 — the city holds no centre), and
/// for a node that holds no centre.
pub fn centre_parent(node: &NodeCode) -> Option<NodeCode> {
    match centre_level(node)? {
        CentreLevel::County => None,
        CentreLevel::Town | CentreLevel::Village => node
            .natural_parent()
            .filter(|up| centre_level(up).is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::Scope;

    const TOWN: &str = "441502001";
    const MEDIATOR_USER: i64 = 7;

    fn code(s: &str) -> NodeCode {
        NodeCode::from_path(s).unwrap()
    }

    fn case(state: State) -> DisputeState {
        let assigned = !matches!(state, State::Intake | State::Accepted | State::Declined);
        DisputeState {
            id: 1,
            state,
            node: code(TOWN),
            mediator_id: assigned.then_some(3),
            mediator_user_id: assigned.then_some(MEDIATOR_USER),
            extension: if state == State::InSession {
                Extension::Pending
            } else {
                Extension::None
            },
            agreement: state == State::Closed,
            judicial: false,
            panels: vec![],
        }
    }

    fn centre() -> Actor {
        Actor {
            user_id: 1,
            role: Role::Dispatcher,
            scope: Scope::Node(code("441502")),
        }
    }

    fn mediator() -> Actor {
        Actor {
            user_id: MEDIATOR_USER,
            role: Role::Mediator,
            scope: Scope::Node(code(TOWN)),
        }
    }

    /// Every action with the actor entitled to it.
    fn moves() -> Vec<(Action, Actor)> {
        vec![
            (Action::Accept, centre()),
            (
                Action::Decline {
                    reason: "not a civil dispute".into(),
                },
                centre(),
            ),
            (Action::Assign { mediator_id: 9 }, centre()),
            (Action::ScheduleSession, mediator()),
            (
                Action::RecordOutcome(Outcome::Agreement {
                    terms: "pays 3000 yuan".into(),
                }),
                mediator(),
            ),
            (
                Action::FollowUp {
                    honoured: true,
                    note: None,
                },
                mediator(),
            ),
            (Action::Close, centre()),
            (
                Action::TransferUp {
                    reason: "needs the town".into(),
                },
                centre(),
            ),
            (
                Action::TransferDown {
                    to_node: code("441502001001"),
                    reason: "local".into(),
                },
                centre(),
            ),
            (
                Action::RequestExtension {
                    reason: "expert report".into(),
                },
                mediator(),
            ),
            (Action::DecideExtension { approve: true }, centre()),
            (
                Action::JudicialConfirmation(Judicial {
                    court: "城区人民法院".into(),
                    date: "2026-03-02".into(),
                    number: "(2026)粤1502民特12号".into(),
                }),
                mediator(),
            ),
            (Action::InvitePanel { panel_id: 2 }, centre()),
        ]
    }

    /// The state table: from which states each action may be taken (with the fixture's
    /// extension: pending in in_session, none elsewhere; closed cases had an agreement).
    fn allowed(action: &str) -> &'static [State] {
        use State::*;
        match action {
            "accept" | "decline" => &[Intake],
            "assign" => &[Accepted, Assigned, InSession],
            "schedule_session" | "record_outcome" => &[Assigned, InSession],
            "follow_up" => &[Agreed],
            "close" => &[Failed, Withdrawn],
            "transfer_up" | "transfer_down" => &[Intake, Accepted, Assigned],
            "request_extension" => &[Assigned],
            "decide_extension" => &[InSession],
            "judicial_confirmation" => &[Agreed, Closed],
            "invite_panel" => &[
                Intake, Accepted, Assigned, InSession, Agreed, Failed, Withdrawn,
            ],
            _ => unreachable!(),
        }
    }

    /// Where each action leads from each allowed state (`None`: stays).
    fn leads_to(action: &str, from: State) -> Option<State> {
        use State::*;
        match (action, from) {
            ("accept", _) => Some(Accepted),
            ("decline", _) => Some(Declined),
            ("assign", Accepted) => Some(Assigned),
            ("schedule_session", Assigned) => Some(InSession),
            ("record_outcome", _) => Some(Agreed),
            ("follow_up", _) => Some(Closed),
            ("close", _) => Some(Closed),
            ("transfer_up" | "transfer_down", Assigned) => Some(Accepted),
            _ => None,
        }
    }

    #[test]
    fn every_state_and_action_pair_follows_the_table() {
        let moves = moves();
        assert_eq!(moves.len(), Action::NAMES.len());
        for state in State::ALL {
            for (action, actor) in &moves {
                let got = transition(&case(state), action, actor);
                let expect_ok = allowed(action.name()).contains(&state);
                assert_eq!(
                    got.is_ok(),
                    expect_ok,
                    "{} from {}: {got:?}",
                    action.name(),
                    state.as_str()
                );
                match got {
                    Ok(t) => assert_eq!(
                        t.to,
                        leads_to(action.name(), state),
                        "{} from {}",
                        action.name(),
                        state.as_str()
                    ),
                    Err(e) => assert!(
                        matches!(e, Refusal::WrongState(_)),
                        "{} from {}: {e:?}",
                        action.name(),
                        state.as_str()
                    ),
                }
            }
        }
    }

    #[test]
    fn only_the_centre_or_the_assigned_mediator_may_act() {
        let stranger = Actor {
            user_id: 99,
            role: Role::Mediator,
            scope: Scope::Node(code(TOWN)),
        };
        let leader = Actor {
            user_id: 1,
            role: Role::Leader,
            scope: Scope::Node(code("441502")),
        };
        let far = Actor {
            user_id: 1,
            role: Role::Dispatcher,
            scope: Scope::Node(code("441503")),
        };
        let village = Actor {
            user_id: 1,
            role: Role::Dispatcher,
            scope: Scope::Node(code("441502001001")),
        };
        for state in State::ALL {
            for (action, entitled) in moves() {
                if !allowed(action.name()).contains(&state) {
                    continue;
                }
                for other in [&stranger, &leader, &far, &village] {
                    let got = transition(&case(state), &action, other);
                    assert!(
                        matches!(got, Err(Refusal::Forbidden(_))),
                        "{} by {:?}: {got:?}",
                        action.name(),
                        other.role
                    );
                }
                // The mediator may not do the centre's moves, nor the centre ask for more time.
                let swapped = if entitled.role == Role::Mediator {
                    centre()
                } else {
                    mediator()
                };
                let got = transition(&case(state), &action, &swapped);
                let shared = matches!(
                    action.name(),
                    "schedule_session"
                        | "record_outcome"
                        | "follow_up"
                        | "judicial_confirmation"
                        | "invite_panel"
                );
                // (Before assignment there is no mediator to share with.)
                let has_mediator = case(state).mediator_id.is_some();
                assert_eq!(
                    got.is_ok(),
                    shared && has_mediator,
                    "{} by the other party: {got:?}",
                    action.name()
                );
            }
        }
    }

    #[test]
    fn outcomes_stop_the_clock_and_lead_to_their_state() {
        let cases = [
            (Outcome::Agreement { terms: "t".into() }, State::Agreed),
            (
                Outcome::Failure {
                    referral: Referral::Court,
                    reason: "r".into(),
                },
                State::Failed,
            ),
            (Outcome::Withdrawal { reason: "r".into() }, State::Withdrawn),
        ];
        for (outcome, to) in cases {
            let t = transition(
                &case(State::InSession),
                &Action::RecordOutcome(outcome),
                &mediator(),
            )
            .unwrap();
            assert_eq!(t.to, Some(to));
            assert!(t.stop_clock);
        }
        let blank = Action::RecordOutcome(Outcome::Agreement { terms: "  ".into() });
        assert!(matches!(
            transition(&case(State::InSession), &blank, &mediator()),
            Err(Refusal::Invalid { .. })
        ));
    }

    #[test]
    fn a_broken_agreement_reopens_to_the_same_mediator_with_a_new_clock() {
        let no_note = Action::FollowUp {
            honoured: false,
            note: None,
        };
        assert!(matches!(
            transition(&case(State::Agreed), &no_note, &mediator()),
            Err(Refusal::Invalid { .. })
        ));
        let broken = Action::FollowUp {
            honoured: false,
            note: Some("has not paid".into()),
        };
        let t = transition(&case(State::Agreed), &broken, &mediator()).unwrap();
        assert_eq!(t.to, Some(State::Assigned));
        assert!(t.reopened && t.start_clock);
        assert_eq!(t.mediator_id, None, "the mediator stays");
    }

    #[test]
    fn transfers_move_between_adjacent_levels_and_unassign() {
        let t = transition(
            &case(State::Assigned),
            &Action::TransferUp { reason: "r".into() },
            &centre(),
        )
        .unwrap();
        assert_eq!(t.node, Some(code("441502")));
        assert_eq!(t.mediator_id, Some(None));
        let mut county = case(State::Accepted);
        county.node = code("441502");
        assert!(matches!(
            transition(
                &county,
                &Action::TransferUp { reason: "r".into() },
                &centre()
            ),
            Err(Refusal::WrongState(_))
        ));
        for bad in ["441502001001001", "441502002001", "441502002"] {
            let down = Action::TransferDown {
                to_node: code(bad),
                reason: "r".into(),
            };
            assert!(
                matches!(
                    transition(&case(State::Accepted), &down, &centre()),
                    Err(Refusal::Invalid { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_town_of_a_city_without_counties_has_no_centre_above_it() {
        // 东莞's towns hang under the city (county digits 00), which holds no centre.
        assert_eq!(centre_parent(&code("441900003")), None);
        assert_eq!(
            centre_parent(&code("441900003001")),
            Some(code("441900003"))
        );
        assert_eq!(centre_parent(&code("441502001")), Some(code("441502")));
        assert_eq!(centre_parent(&code("441502")), None);
    }

    #[test]
    fn an_extension_is_asked_once_and_approval_adds_days() {
        let mut c = case(State::Assigned);
        let ask = Action::RequestExtension { reason: "r".into() };
        assert!(transition(&c, &ask, &mediator()).is_ok());
        c.extension = Extension::Refused;
        assert!(matches!(
            transition(&c, &ask, &mediator()),
            Err(Refusal::WrongState(_))
        ));
        c.extension = Extension::Pending;
        let t = transition(&c, &Action::DecideExtension { approve: true }, &centre()).unwrap();
        assert_eq!(t.extend_days, Some(EXTENSION_DAYS));
        assert_eq!(t.extension, Some(Extension::Approved));
        let t = transition(&c, &Action::DecideExtension { approve: false }, &centre()).unwrap();
        assert_eq!(t.extend_days, None);
    }

    #[test]
    fn judicial_confirmation_needs_a_date_and_is_recorded_once() {
        let mut c = case(State::Agreed);
        let bad = Action::JudicialConfirmation(Judicial {
            court: "c".into(),
            date: "2026-13-01".into(),
            number: "n".into(),
        });
        assert!(matches!(
            transition(&c, &bad, &centre()),
            Err(Refusal::Invalid { .. })
        ));
        c.judicial = true;
        let good = Action::JudicialConfirmation(Judicial {
            court: "c".into(),
            date: "2026-03-01".into(),
            number: "n".into(),
        });
        assert!(matches!(
            transition(&c, &good, &centre()),
            Err(Refusal::WrongState(_))
        ));
        let mut failed_closed = case(State::Closed);
        failed_closed.agreement = false;
        assert!(matches!(
            transition(&failed_closed, &good, &centre()),
            Err(Refusal::WrongState(_))
        ));
    }
}
