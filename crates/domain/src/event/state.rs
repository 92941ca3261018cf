//! The work-order state machine: which move is allowed, for whom, from which state, and what
//! it changes. Pure: the adapter loads the event, calls [`transition`], and saves the result in
//! one transaction; deadlines are computed by the adapter from the category and the calendar.
//!
//! 网格接单 (the grid takes the order, 一网五单) is a stage of [`State::Reported`], not a state
//! of its own: a report under the grid-first rule is `reported` with a [`GridStage`] until the
//! grid passes it on (or resolves it on the spot). It is open and counted as reported like any
//! new report, and every list, index and figure that knows `reported` stays right; only the
//! moves differ, and they are decided here.

use serde::{Deserialize, Serialize};

use crate::tree::{Level, NaturalLevel, NodeCode};
use crate::user::{Actor, Role, Scope};

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 上报: waiting for the centre to accept it.
    Reported,
    /// 受理: at the holding centre, to be dispatched or resolved.
    Accepted,
    /// 不予受理: refused with a reason (terminal).
    Rejected,
    /// 派单: sent to a department, waiting for it to sign.
    Dispatched,
    /// 办理中: signed and being handled.
    InProgress,
    /// 办结: handled, waiting for verification.
    Resolved,
    /// 结案: verified and closed.
    Closed,
    /// 合并: a duplicate merged into another order (terminal).
    Merged,
}

impl State {
    /// Every state.
    pub const ALL: [State; 8] = [
        State::Reported,
        State::Accepted,
        State::Rejected,
        State::Dispatched,
        State::InProgress,
        State::Resolved,
        State::Closed,
        State::Merged,
    ];

    /// The word used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Reported => "reported",
            State::Accepted => "accepted",
            State::Rejected => "rejected",
            State::Dispatched => "dispatched",
            State::InProgress => "in_progress",
            State::Resolved => "resolved",
            State::Closed => "closed",
            State::Merged => "merged",
        }
    }

    /// Parses the API word.
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// True while the order still needs work (its clocks run).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            State::Reported
                | State::Accepted
                | State::Dispatched
                | State::InProgress
                | State::Resolved
        )
    }
}

/// Where a new report stands while the grid holds it (网格接单). `None` on an order means
/// the centre holds it, as for every order filed without the grid-first rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "stage")]
pub enum GridStage {
    /// 待接单: waiting for a grid worker of its grid to take it.
    Waiting,
    /// 已接单: taken by this grid worker, who resolves it on the spot or passes it on.
    Taken { by: i64 },
}

impl GridStage {
    /// The word stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            GridStage::Waiting => "waiting",
            GridStage::Taken { .. } => "taken",
        }
    }

    /// The stage from its stored word and the grid worker who took it (`None`: the centre
    /// holds the order; an unknown word or a `taken` without a worker is `Err`, saying which).
    pub fn from_parts(
        word: Option<&str>,
        taken_by: Option<i64>,
    ) -> Result<Option<GridStage>, &'static str> {
        match (word, taken_by) {
            (None, _) => Ok(None),
            (Some("waiting"), _) => Ok(Some(GridStage::Waiting)),
            (Some("taken"), Some(by)) => Ok(Some(GridStage::Taken { by })),
            (Some("taken"), None) => Err("a taken order without the worker who took it"),
            _ => Err("an unknown grid stage"),
        }
    }
}

/// Where a new report starts: with the grid (网格接单, [`GridStage::Waiting`]) when its category
/// goes to the grid first, its jurisdiction runs the rule (`jurisdiction`: the nearest setting
/// up the tree, none meaning off), it lies in a grid (`in_grid`; one filed by address only has
/// no grid yet), and it came from the public: a citizen (the portal, Open311) or a hotline
/// operator (a dispatcher entering a call). Grid workers' own reports, and those of departments
/// and other staff, go to the centre. Else `None`: the centre holds it from the start.
pub fn first_stage(
    category_grid_first: bool,
    jurisdiction: Option<bool>,
    in_grid: bool,
    reporter: Role,
) -> Option<GridStage> {
    let public = matches!(reporter, Role::Citizen | Role::Dispatcher);
    (category_grid_first && jurisdiction == Some(true) && in_grid && public)
        .then_some(GridStage::Waiting)
}

/// A department summoned to an order (吹哨报到).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summoned {
    pub department_id: i64,
    pub lead: bool,
    pub checked_in: bool,
}

/// What the rules need to know about an order.
#[derive(Debug, Clone, PartialEq)]
pub struct EventState {
    pub id: i64,
    pub state: State,
    /// The grid where it happened.
    pub grid: NodeCode,
    /// The region whose centre holds it (the grid's village at first; higher after escalation).
    pub centre: NodeCode,
    pub reporter_id: Option<i64>,
    pub department_id: Option<i64>,
    pub summoned: Vec<Summoned>,
    /// May a grid worker resolve it on the spot (from the category)?
    pub on_spot_allowed: bool,
    pub returns: i64,
    /// Bounced too often: the centre decides and departments can no longer return it (兜底).
    pub decision_required: bool,
    /// Extra working minutes a department asked for, awaiting the centre.
    pub pending_extension: Option<i64>,
    pub rated: bool,
    /// 网格接单: the grid holds this new report (`None`: the centre does).
    pub grid_stage: Option<GridStage>,
}

/// A move on an order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// 网格接单: a grid worker of the order's grid takes a report waiting for the grid.
    Take,
    /// 网格转办: the grid worker who took it passes it to the centre with what they found.
    PassOn {
        note: String,
    },
    Accept,
    Reject {
        reason: String,
    },
    ResolveOnSpot {
        note: String,
    },
    /// `department_region` is where the department sits; it must serve the order's grid.
    Dispatch {
        department_id: i64,
        department_region: NodeCode,
    },
    Sign,
    Return {
        reason: String,
    },
    RequestExtension {
        minutes: i64,
        reason: String,
    },
    DecideExtension {
        approve: bool,
    },
    ReportResult {
        note: String,
    },
    Verify {
        ok: bool,
        note: String,
    },
    Rate {
        score: i32,
        comment: String,
        fixed: bool,
    },
    Escalate {
        reason: String,
    },
    /// 吹哨报到: the departments, the lead, and the brief they are called with — when and where
    /// to report (`report_by` in unix ms, checked against the clock by the adapter) and why.
    Summon {
        departments: Vec<(i64, NodeCode)>,
        lead: i64,
        report_by: Option<i64>,
        place: String,
        reason: String,
    },
    CheckIn,
    /// `target` is the order it merges into, as the adapter found it in the actor's scope.
    Merge {
        target_id: i64,
        target_state: State,
    },
    Remind {
        note: String,
    },
    Reinspect {
        ok: bool,
        note: String,
    },
}

impl Action {
    /// The word used in the API and the timeline.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Take => "take",
            Action::PassOn { .. } => "pass_on",
            Action::Accept => "accept",
            Action::Reject { .. } => "reject",
            Action::ResolveOnSpot { .. } => "resolve_on_spot",
            Action::Dispatch { .. } => "dispatch",
            Action::Sign => "sign",
            Action::Return { .. } => "return",
            Action::RequestExtension { .. } => "request_extension",
            Action::DecideExtension { .. } => "decide_extension",
            Action::ReportResult { .. } => "report_result",
            Action::Verify { .. } => "verify",
            Action::Rate { .. } => "rate",
            Action::Escalate { .. } => "escalate",
            Action::Summon { .. } => "summon",
            Action::CheckIn => "check_in",
            Action::Merge { .. } => "merge",
            Action::Remind { .. } => "remind",
            Action::Reinspect { .. } => "reinspect",
        }
    }
}

/// Why a move was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// This actor may not make this move on this order (403).
    #[error("{0}")]
    Forbidden(String),
    /// The order is not in a state that allows the move (409).
    #[error("{0}")]
    WrongState(String),
    /// A value of the move is not acceptable (422).
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
}

/// What a move changes. The adapter applies it, sets the deadlines for `to`, and writes the
/// timeline, audit and counters in the same transaction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transition {
    pub to: Option<State>,
    /// `Some(x)`: the department becomes `x`.
    pub department_id: Option<Option<i64>>,
    pub centre: Option<NodeCode>,
    pub summoned: Option<Vec<Summoned>>,
    pub returned: bool,
    pub decision_required: Option<bool>,
    pub reopened: bool,
    pub rating: Option<(i32, String)>,
    pub pending_extension: Option<Option<i64>>,
    /// Working minutes to add to the handling deadline (an approved extension).
    pub extend_by: Option<i64>,
    pub reminded: bool,
    pub escalated: bool,
    pub merged_into: Option<i64>,
    /// `Some(x)`: the grid stage becomes `x` (`Some(None)`: the centre now holds the order,
    /// and its accept clock starts afresh).
    pub grid_stage: Option<Option<GridStage>>,
    pub note: Option<String>,
}

/// How many times departments may return an order before the centre must decide (兜底).
pub const DEFAULT_BOUNCE_LIMIT: i64 = 3;
/// Longest free-text note, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;
/// Longest place a summons names (where the departments report), in characters.
pub const MAX_PLACE_CHARS: usize = 200;

fn text(field: &str, s: &str, required: bool) -> Result<String, Refusal> {
    let t = s.trim();
    if required && t.is_empty() {
        return Err(Refusal::Invalid {
            field: field.into(),
            reason: "must not be empty".into(),
        });
    }
    if t.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Refusal::Invalid {
            field: field.into(),
            reason: "must not contain control characters".into(),
        });
    }
    if t.chars().count() > MAX_NOTE_CHARS {
        return Err(Refusal::Invalid {
            field: field.into(),
            reason: format!("must be at most {MAX_NOTE_CHARS} characters"),
        });
    }
    Ok(t.to_owned())
}

fn dispatcher_of(actor: &Actor, ev: &EventState) -> bool {
    actor.role == Role::Dispatcher && actor.reaches(&ev.centre)
}

fn worker_of(actor: &Actor, ev: &EventState) -> bool {
    actor.role == Role::GridWorker && actor.reaches(&ev.grid)
}

fn department_of(actor: &Actor) -> Option<i64> {
    match (&actor.role, &actor.scope) {
        (Role::Handler, Scope::Department { id, .. }) => Some(*id),
        _ => None,
    }
}

fn handler_of(actor: &Actor, ev: &EventState) -> bool {
    department_of(actor).is_some() && department_of(actor) == ev.department_id
}

/// May the actor see this order at all? (Citizens: their own, checked by the adapter, which
/// also knows reporters of merged duplicates.)
pub fn can_view(actor: &Actor, ev: &EventState) -> bool {
    match actor.role {
        Role::Citizen => ev.reporter_id == Some(actor.user_id),
        Role::Handler => {
            let d = department_of(actor);
            d.is_some()
                && (ev.department_id == d || ev.summoned.iter().any(|s| Some(s.department_id) == d))
        }
        _ => actor.reaches(&ev.grid) || actor.reaches(&ev.centre),
    }
}

/// May the actor set the position of an order filed without one (an Open311 request that
/// named only an address)? A dispatcher of the holding centre, whose area the position must
/// then lie in; that is no move of the loop, so the order's state does not change.
pub fn can_set_position(actor: &Actor, ev: &EventState) -> bool {
    dispatcher_of(actor, ev)
}

/// May the actor look for duplicates of this order to merge (a dispatcher of the holding centre)?
pub fn can_find_duplicates(actor: &Actor, ev: &EventState) -> bool {
    dispatcher_of(actor, ev)
}

/// The level of the holding centre (village, town, county, city, province).
pub fn centre_level(centre: &NodeCode) -> Level {
    match centre.natural_level() {
        NaturalLevel::Region(l) => l,
        NaturalLevel::GridDepth(_) => Level::Village,
    }
}

/// Decides a move. `bounce_limit` is how many returns are allowed before the centre decides.
pub fn transition(
    ev: &EventState,
    action: &Action,
    actor: &Actor,
    bounce_limit: i64,
) -> Result<Transition, Refusal> {
    use State::*;
    let forbid = |why: &str| Err(Refusal::Forbidden(why.to_owned()));
    let wrong = |why: String| Err(Refusal::WrongState(why));
    let from = ev.state;
    let state_word = from.as_str();
    let mut t = Transition::default();
    // While the grid holds a new report, the centre's moves on it wait (网格接单).
    if from == Reported
        && ev.grid_stage.is_some()
        && matches!(
            action,
            Action::Accept | Action::Reject { .. } | Action::Escalate { .. } | Action::Merge { .. }
        )
    {
        return wrong(
            "the grid holds this report (网格接单); the centre acts on it once the grid passes it on"
                .into(),
        );
    }
    match action {
        Action::Take => {
            if from != Reported || ev.grid_stage.is_none() {
                return wrong(format!(
                    "only a report waiting for the grid can be taken; this one is {state_word} at the centre"
                ));
            }
            if !worker_of(actor, ev) {
                return forbid("only a grid worker of this grid may take it");
            }
            if ev.grid_stage != Some(GridStage::Waiting) {
                return wrong("a grid worker has already taken this report".into());
            }
            t.grid_stage = Some(Some(GridStage::Taken { by: actor.user_id }));
        }
        Action::PassOn { note } => {
            let Some(GridStage::Taken { by }) = ev.grid_stage.filter(|_| from == Reported) else {
                return wrong(format!(
                    "only a report a grid worker has taken can be passed on; this one is {state_word}{}",
                    if ev.grid_stage == Some(GridStage::Waiting) { ", not taken yet" } else { " at the centre" }
                ));
            };
            if !worker_of(actor, ev) || by != actor.user_id {
                return forbid("only the grid worker who took it may pass it on");
            }
            t.note = Some(text("note", note, true)?);
            t.grid_stage = Some(None);
        }
        Action::Accept => {
            if from != Reported {
                return wrong(format!(
                    "only a reported order can be accepted; this one is {state_word}"
                ));
            }
            if !dispatcher_of(actor, ev) {
                return forbid("only a dispatcher of the holding centre may accept");
            }
            t.to = Some(Accepted);
        }
        Action::Reject { reason } => {
            if from != Reported {
                return wrong(format!(
                    "only a reported order can be rejected; this one is {state_word}"
                ));
            }
            if !dispatcher_of(actor, ev) {
                return forbid("only a dispatcher of the holding centre may reject");
            }
            t.note = Some(text("reason", reason, true)?);
            t.to = Some(Rejected);
        }
        Action::ResolveOnSpot { note } => {
            if !matches!(from, Reported | Accepted) {
                return wrong(format!("only a new or accepted order can be resolved on the spot; this one is {state_word}"));
            }
            if !worker_of(actor, ev) {
                return forbid("only a grid worker of this grid may resolve it on the spot");
            }
            match ev.grid_stage.filter(|_| from == Reported) {
                Some(GridStage::Waiting) => {
                    return wrong("take the report (接单) before resolving it on the spot".into())
                }
                Some(GridStage::Taken { by }) if by != actor.user_id => {
                    return forbid("another grid worker has taken this report");
                }
                Some(GridStage::Taken { .. }) => t.grid_stage = Some(None),
                None => {}
            }
            if !ev.on_spot_allowed {
                return forbid(
                    "this category may not be resolved on the spot; the centre must dispatch it",
                );
            }
            t.note = Some(text("note", note, true)?);
            t.to = Some(Resolved);
        }
        Action::Dispatch {
            department_id,
            department_region,
        } => {
            if from != Accepted {
                return wrong(format!(
                    "only an accepted order can be dispatched; this one is {state_word}"
                ));
            }
            if !dispatcher_of(actor, ev) {
                return forbid("only a dispatcher of the holding centre may dispatch");
            }
            if !department_region.contains(&ev.grid) {
                return Err(Refusal::Invalid {
                    field: "department_id".into(),
                    reason: "this department does not serve the order's area".into(),
                });
            }
            t.department_id = Some(Some(*department_id));
            t.summoned = Some(Vec::new());
            t.to = Some(Dispatched);
        }
        Action::Sign => {
            if from != Dispatched {
                return wrong(format!(
                    "only a dispatched order can be signed for; this one is {state_word}"
                ));
            }
            if !handler_of(actor, ev) {
                return forbid(
                    "only the department it was dispatched to (the lead, if summoned) may sign",
                );
            }
            if let Some(d) = department_of(actor) {
                if ev.summoned.iter().any(|s| s.department_id == d) {
                    let mut s = ev.summoned.clone();
                    s.iter_mut()
                        .filter(|s| s.department_id == d)
                        .for_each(|s| s.checked_in = true);
                    t.summoned = Some(s);
                }
            }
            t.to = Some(InProgress);
        }
        Action::Return { reason } => {
            if !matches!(from, Dispatched | InProgress) {
                return wrong(format!(
                    "only a dispatched or signed order can be returned; this one is {state_word}"
                ));
            }
            if !handler_of(actor, ev) {
                return forbid("only the department handling it may return it");
            }
            if ev.decision_required {
                return wrong(format!(
                    "this order was returned {} times; the centre has decided who handles it and it can no longer be returned",
                    ev.returns
                ));
            }
            t.note = Some(text("reason", reason, true)?);
            t.returned = true;
            t.department_id = Some(None);
            t.summoned = Some(Vec::new());
            t.pending_extension = Some(None);
            if ev.returns + 1 >= bounce_limit {
                t.decision_required = Some(true);
            }
            t.to = Some(Accepted);
        }
        Action::RequestExtension { minutes, reason } => {
            if from != InProgress {
                return wrong(format!(
                    "only an order in progress can be extended; this one is {state_word}"
                ));
            }
            if !handler_of(actor, ev) {
                return forbid("only the department handling it may ask for more time");
            }
            if ev.pending_extension.is_some() {
                return wrong("an extension request is already waiting for the centre".into());
            }
            if !(1..=60 * 24 * 30).contains(minutes) {
                return Err(Refusal::Invalid {
                    field: "minutes".into(),
                    reason: "must be between 1 and 43200 working minutes".into(),
                });
            }
            t.note = Some(text("reason", reason, true)?);
            t.pending_extension = Some(Some(*minutes));
        }
        Action::DecideExtension { approve } => {
            let Some(minutes) = ev.pending_extension else {
                return wrong("there is no extension request to decide".into());
            };
            if !dispatcher_of(actor, ev) {
                return forbid("only a dispatcher of the holding centre may decide an extension");
            }
            t.pending_extension = Some(None);
            if *approve {
                t.extend_by = Some(minutes);
            }
        }
        Action::ReportResult { note } => {
            if from != InProgress {
                return wrong(format!(
                    "only a signed order can be reported as handled; this one is {state_word}"
                ));
            }
            if !handler_of(actor, ev) {
                return forbid("only the department handling it may report the result");
            }
            t.note = Some(text("note", note, true)?);
            t.pending_extension = Some(None);
            t.to = Some(Resolved);
        }
        Action::Verify { ok, note } => {
            if from != Resolved {
                return wrong(format!(
                    "only a handled order can be verified; this one is {state_word}"
                ));
            }
            if !(worker_of(actor, ev) || dispatcher_of(actor, ev)) {
                return forbid(
                    "only a grid worker of this grid or a dispatcher of the centre may verify",
                );
            }
            t.note = Some(text("note", note, !ok)?);
            t.to = Some(match (ok, ev.department_id) {
                (true, _) => Closed,
                (false, Some(_)) => InProgress,
                (false, None) => Accepted,
            });
        }
        Action::Rate {
            score,
            comment,
            fixed,
        } => {
            if from != Closed {
                return wrong(format!(
                    "only a closed order can be rated; this one is {state_word}"
                ));
            }
            if ev.reporter_id != Some(actor.user_id) {
                return forbid("only the person who reported it may rate it");
            }
            if ev.rated {
                return wrong("this order has already been rated".into());
            }
            if !(1..=5).contains(score) {
                return Err(Refusal::Invalid {
                    field: "score".into(),
                    reason: "must be 1 to 5".into(),
                });
            }
            t.rating = Some((*score, text("comment", comment, false)?));
            if *score <= 2 || !fixed {
                t.reopened = true;
                t.department_id = Some(None);
                t.to = Some(Accepted);
            }
        }
        Action::Escalate { reason } => {
            if !matches!(from, Reported | Accepted) {
                return wrong(format!(
                    "only an order at a centre can be escalated; this one is {state_word}"
                ));
            }
            if !dispatcher_of(actor, ev) {
                return forbid("only a dispatcher of the holding centre may escalate");
            }
            let Some(parent) = ev.centre.natural_parent() else {
                return wrong("the order is already at the highest level".into());
            };
            t.note = Some(text("reason", reason, true)?);
            t.centre = Some(parent);
            t.escalated = true;
        }
        Action::Summon {
            departments,
            lead,
            place,
            reason,
            ..
        } => {
            if from != Accepted {
                return wrong(format!(
                    "only an accepted order can be summoned to; this one is {state_word}"
                ));
            }
            if !dispatcher_of(actor, ev) {
                return forbid("only a dispatcher of the holding centre may summon departments");
            }
            if departments.len() < 2 || departments.len() > 20 {
                return Err(Refusal::Invalid {
                    field: "departments".into(),
                    reason: "summon 2 to 20 departments".into(),
                });
            }
            let mut ids: Vec<i64> = departments.iter().map(|(d, _)| *d).collect();
            ids.sort_unstable();
            ids.dedup();
            if ids.len() != departments.len() {
                return Err(Refusal::Invalid {
                    field: "departments".into(),
                    reason: "a department is listed twice".into(),
                });
            }
            if !ids.contains(lead) {
                return Err(Refusal::Invalid {
                    field: "lead".into(),
                    reason: "the lead must be one of the summoned departments".into(),
                });
            }
            if departments.iter().any(|(_, r)| !r.contains(&ev.grid)) {
                return Err(Refusal::Invalid {
                    field: "departments".into(),
                    reason: "a department does not serve the order's area".into(),
                });
            }
            t.summoned = Some(
                departments
                    .iter()
                    .map(|(d, _)| Summoned {
                        department_id: *d,
                        lead: d == lead,
                        checked_in: false,
                    })
                    .collect(),
            );
            if place.trim().chars().count() > MAX_PLACE_CHARS {
                return Err(Refusal::Invalid {
                    field: "place".into(),
                    reason: format!("must be at most {MAX_PLACE_CHARS} characters"),
                });
            }
            text("place", place, false)?;
            let reason = text("reason", reason, false)?;
            t.note = (!reason.is_empty()).then_some(reason);
            t.department_id = Some(Some(*lead));
            t.to = Some(Dispatched);
        }
        Action::CheckIn => {
            if !matches!(from, Dispatched | InProgress) {
                return wrong(format!(
                    "only a summoned order takes check-ins; this one is {state_word}"
                ));
            }
            let Some(d) = department_of(actor) else {
                return forbid("only a summoned department may check in");
            };
            let Some(s) = ev.summoned.iter().find(|s| s.department_id == d) else {
                return forbid("your department was not summoned to this order");
            };
            if s.checked_in {
                return wrong("your department has already checked in".into());
            }
            let mut all = ev.summoned.clone();
            all.iter_mut()
                .filter(|s| s.department_id == d)
                .for_each(|s| s.checked_in = true);
            t.summoned = Some(all);
        }
        Action::Merge {
            target_id,
            target_state,
        } => {
            if !matches!(from, Reported | Accepted) {
                return wrong(format!(
                    "only a new or accepted order can be merged; this one is {state_word}"
                ));
            }
            if !dispatcher_of(actor, ev) {
                return forbid("only a dispatcher of the holding centre may merge");
            }
            if *target_id == ev.id {
                return Err(Refusal::Invalid {
                    field: "into".into(),
                    reason: "an order cannot be merged into itself".into(),
                });
            }
            if matches!(target_state, Merged | Rejected) {
                return Err(Refusal::Invalid {
                    field: "into".into(),
                    reason: "cannot merge into a rejected or merged order".into(),
                });
            }
            t.merged_into = Some(*target_id);
            t.to = Some(Merged);
        }
        Action::Remind { note } => {
            if !matches!(from, Dispatched | InProgress) {
                return wrong(format!(
                    "only an order at a department can be reminded; this one is {state_word}"
                ));
            }
            if !dispatcher_of(actor, ev) {
                return forbid("only a dispatcher of the holding centre may remind");
            }
            t.note = Some(text("note", note, false)?);
            t.reminded = true;
        }
        Action::Reinspect { ok, note } => {
            if from != Closed {
                return wrong(format!(
                    "only a closed order can be re-inspected; this one is {state_word}"
                ));
            }
            if !dispatcher_of(actor, ev) {
                return forbid("only a dispatcher of the centre may re-inspect");
            }
            t.note = Some(text("note", note, !ok)?);
            if !ok {
                t.reopened = true;
                t.department_id = Some(None);
                t.to = Some(Accepted);
            }
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> NodeCode {
        NodeCode::parse(s).unwrap()
    }

    const DEP: i64 = 7;
    const OTHER_DEP: i64 = 8;
    const REPORTER: i64 = 100;

    fn event(state: State) -> EventState {
        EventState {
            id: 1,
            state,
            grid: code("441502001001001"),
            centre: code("441502001001"),
            reporter_id: Some(REPORTER),
            department_id: if matches!(
                state,
                State::Dispatched | State::InProgress | State::Resolved | State::Closed
            ) {
                Some(DEP)
            } else {
                None
            },
            // Dispatched and signed orders carry their (already checked-in) lead department.
            summoned: if matches!(state, State::Dispatched | State::InProgress) {
                vec![Summoned {
                    department_id: DEP,
                    lead: true,
                    checked_in: true,
                }]
            } else {
                vec![]
            },
            on_spot_allowed: true,
            returns: 0,
            decision_required: false,
            pending_extension: if state == State::InProgress {
                Some(60)
            } else {
                None
            },
            rated: false,
            grid_stage: None,
        }
    }

    fn dispatcher() -> Actor {
        Actor {
            user_id: 1,
            role: Role::Dispatcher,
            scope: Scope::Node(code("441502001001")),
        }
    }
    fn worker() -> Actor {
        Actor {
            user_id: 2,
            role: Role::GridWorker,
            scope: Scope::Node(code("441502001001001")),
        }
    }
    fn handler(dep: i64) -> Actor {
        Actor {
            user_id: 3,
            role: Role::Handler,
            scope: Scope::Department {
                id: dep,
                region: code("441502000000"),
            },
        }
    }
    fn reporter() -> Actor {
        Actor {
            user_id: REPORTER,
            role: Role::Citizen,
            scope: Scope::Own,
        }
    }

    #[test]
    fn only_a_dispatcher_of_the_holding_centre_sets_an_unknown_position() {
        // An Open311 request filed by address under the county: the county's centre holds it.
        let mut ev = event(State::Reported);
        ev.grid = code("441502000000");
        ev.centre = code("441502000000");
        let county = Actor {
            user_id: 9,
            role: Role::Dispatcher,
            scope: Scope::Node(code("441502000000")),
        };
        assert!(can_set_position(&county, &ev));
        for other in [dispatcher(), worker(), handler(DEP), reporter()] {
            assert!(!can_set_position(&other, &ev), "{other:?}");
        }
    }

    /// Every action with the actor who would be entitled to it.
    fn moves() -> Vec<(Action, Actor)> {
        let region = code("441502000000");
        vec![
            (Action::Take, worker()),
            (
                Action::PassOn {
                    note: "needs the water company".into(),
                },
                worker(),
            ),
            (Action::Accept, dispatcher()),
            (
                Action::Reject {
                    reason: "not ours".into(),
                },
                dispatcher(),
            ),
            (
                Action::ResolveOnSpot {
                    note: "swept".into(),
                },
                worker(),
            ),
            (
                Action::Dispatch {
                    department_id: DEP,
                    department_region: region.clone(),
                },
                dispatcher(),
            ),
            (Action::Sign, handler(DEP)),
            (
                Action::Return {
                    reason: "wrong department".into(),
                },
                handler(DEP),
            ),
            (
                Action::RequestExtension {
                    minutes: 60,
                    reason: "parts".into(),
                },
                handler(DEP),
            ),
            (Action::DecideExtension { approve: true }, dispatcher()),
            (
                Action::ReportResult {
                    note: "fixed".into(),
                },
                handler(DEP),
            ),
            (
                Action::Verify {
                    ok: true,
                    note: String::new(),
                },
                worker(),
            ),
            (
                Action::Rate {
                    score: 5,
                    comment: String::new(),
                    fixed: true,
                },
                reporter(),
            ),
            (
                Action::Escalate {
                    reason: "too big".into(),
                },
                dispatcher(),
            ),
            (
                Action::Summon {
                    departments: vec![(DEP, region.clone()), (OTHER_DEP, region)],
                    lead: DEP,
                    report_by: None,
                    place: "村委会二楼会议室".into(),
                    reason: "占道经营反复，需要联合执法".into(),
                },
                dispatcher(),
            ),
            (Action::CheckIn, handler(DEP)),
            (
                Action::Merge {
                    target_id: 2,
                    target_state: State::Accepted,
                },
                dispatcher(),
            ),
            (
                Action::Remind {
                    note: String::new(),
                },
                dispatcher(),
            ),
            (
                Action::Reinspect {
                    ok: true,
                    note: String::new(),
                },
                dispatcher(),
            ),
        ]
    }

    /// The states from which each action is allowed (given a suitable event).
    fn allowed(action: &str) -> &'static [State] {
        use State::*;
        match action {
            "accept" | "reject" => &[Reported],
            "resolve_on_spot" | "escalate" | "merge" => &[Reported, Accepted],
            "dispatch" | "summon" => &[Accepted],
            "sign" => &[Dispatched],
            "return" | "remind" => &[Dispatched, InProgress],
            "request_extension" => &[],
            "decide_extension" => &[InProgress],
            "report_result" => &[InProgress],
            "verify" => &[Resolved],
            "rate" | "reinspect" => &[Closed],
            "check_in" => &[],
            // Only while the grid holds a report: see the grid-stage table.
            "take" | "pass_on" => &[],
            _ => unreachable!(),
        }
    }

    #[test]
    fn every_state_and_action_pair_follows_the_table() {
        for state in State::ALL {
            for (action, actor) in moves() {
                let got = transition(&event(state), &action, &actor, DEFAULT_BOUNCE_LIMIT);
                let expect_ok = allowed(action.name()).contains(&state);
                assert_eq!(
                    got.is_ok(),
                    expect_ok,
                    "{} from {}: {got:?}",
                    action.name(),
                    state.as_str()
                );
                if let Err(e) = got {
                    assert!(
                        matches!(e, Refusal::WrongState(_)),
                        "{} from {} should be a state refusal: {e:?}",
                        action.name(),
                        state.as_str()
                    );
                }
            }
        }
    }

    /// 网格接单: what each move does on a report the grid holds, by stage. `taken` is taken by
    /// [`worker`]; every other move must be refused as a wrong state.
    #[test]
    fn a_report_the_grid_holds_allows_only_the_grid_moves() {
        use GridStage::*;
        let w = worker().user_id;
        let ok: [(Option<GridStage>, &[&str]); 3] = [
            (Some(Waiting), &["take"]),
            (Some(Taken { by: w }), &["pass_on", "resolve_on_spot"]),
            (
                None,
                &["accept", "reject", "resolve_on_spot", "escalate", "merge"],
            ),
        ];
        for (stage, allowed) in ok {
            let mut ev = event(State::Reported);
            ev.grid_stage = stage;
            for (action, actor) in moves() {
                let got = transition(&ev, &action, &actor, DEFAULT_BOUNCE_LIMIT);
                let expect_ok = allowed.contains(&action.name());
                assert_eq!(
                    got.is_ok(),
                    expect_ok,
                    "{} at {stage:?}: {got:?}",
                    action.name()
                );
                if let Err(e) = got {
                    assert!(
                        matches!(e, Refusal::WrongState(_)),
                        "{} at {stage:?}: {e:?}",
                        action.name()
                    );
                }
            }
        }
    }

    #[test]
    fn the_grid_stage_moves_say_who_holds_the_report() {
        let w = worker();
        let mut ev = event(State::Reported);
        ev.grid_stage = Some(GridStage::Waiting);
        let t = transition(&ev, &Action::Take, &w, 3).unwrap();
        assert_eq!(t.grid_stage, Some(Some(GridStage::Taken { by: w.user_id })));
        assert_eq!(t.to, None, "taking leaves the order reported");
        ev.grid_stage = Some(GridStage::Taken { by: w.user_id });
        let t = transition(
            &ev,
            &Action::PassOn {
                note: " leak under the road ".into(),
            },
            &w,
            3,
        )
        .unwrap();
        assert_eq!(t.grid_stage, Some(None), "passed on: the centre holds it");
        assert_eq!(t.note.as_deref(), Some("leak under the road"));
        let t = transition(
            &ev,
            &Action::ResolveOnSpot {
                note: "swept".into(),
            },
            &w,
            3,
        )
        .unwrap();
        assert_eq!((t.to, t.grid_stage), (Some(State::Resolved), Some(None)));
        // Passing on needs what the worker found.
        assert!(matches!(
            transition(&ev, &Action::PassOn { note: "  ".into() }, &w, 3),
            Err(Refusal::Invalid { field, .. }) if field == "note"
        ));
    }

    #[test]
    fn only_the_taker_acts_on_a_taken_report_and_only_its_grid_takes_it() {
        let colleague = Actor {
            user_id: 22,
            ..worker()
        };
        let other_grid = Actor {
            user_id: 23,
            role: Role::GridWorker,
            scope: Scope::Node(code("441502001001002")),
        };
        let mut ev = event(State::Reported);
        ev.grid_stage = Some(GridStage::Waiting);
        for who in [&other_grid, &dispatcher(), &handler(DEP), &reporter()] {
            assert!(
                matches!(
                    transition(&ev, &Action::Take, who, 3),
                    Err(Refusal::Forbidden(_))
                ),
                "{who:?}"
            );
        }
        ev.grid_stage = Some(GridStage::Taken {
            by: worker().user_id,
        });
        assert!(matches!(
            transition(&ev, &Action::Take, &colleague, 3),
            Err(Refusal::WrongState(_))
        ));
        for a in [
            Action::PassOn { note: "x".into() },
            Action::ResolveOnSpot { note: "x".into() },
        ] {
            assert!(
                matches!(
                    transition(&ev, &a, &colleague, 3),
                    Err(Refusal::Forbidden(_))
                ),
                "{a:?}"
            );
            assert!(
                matches!(
                    transition(&ev, &a, &other_grid, 3),
                    Err(Refusal::Forbidden(_))
                ),
                "{a:?}"
            );
        }
    }

    #[test]
    fn a_report_starts_with_the_grid_only_where_everything_says_so() {
        let w = Some(GridStage::Waiting);
        // (category, jurisdiction, in a grid, reporter) → stage
        type Row = (bool, Option<bool>, bool, Role, Option<GridStage>);
        let table: [Row; 9] = [
            (true, Some(true), true, Role::Citizen, w),
            (true, Some(true), true, Role::Dispatcher, w), // a hotline operator's entry
            (true, Some(true), true, Role::Handler, None), // a department's own report
            (true, Some(true), true, Role::GridWorker, None), // their own report
            (false, Some(true), true, Role::Citizen, None),
            (true, Some(false), true, Role::Citizen, None),
            (true, None, true, Role::Citizen, None), // a fresh install: off
            (true, Some(true), false, Role::Citizen, None), // filed by address only
            (false, None, true, Role::Citizen, None),
        ];
        for (cat, jur, in_grid, role, want) in table {
            assert_eq!(
                first_stage(cat, jur, in_grid, role),
                want,
                "{cat} {jur:?} {in_grid} {role:?}"
            );
        }
    }

    #[test]
    fn grid_stages_read_back_from_their_stored_parts() {
        assert_eq!(GridStage::from_parts(None, Some(4)), Ok(None));
        assert_eq!(
            GridStage::from_parts(Some("waiting"), None),
            Ok(Some(GridStage::Waiting))
        );
        assert_eq!(
            GridStage::from_parts(Some("taken"), Some(4)),
            Ok(Some(GridStage::Taken { by: 4 }))
        );
        assert!(GridStage::from_parts(Some("taken"), None).is_err());
        assert!(GridStage::from_parts(Some("held"), None).is_err());
    }

    #[test]
    fn the_wrong_actor_is_forbidden_in_the_right_state() {
        let outsider = Actor {
            user_id: 9,
            role: Role::Dispatcher,
            scope: Scope::Node(code("441502001002")),
        };
        for (action, _) in moves() {
            for state in allowed(action.name()) {
                let got = transition(&event(*state), &action, &outsider, DEFAULT_BOUNCE_LIMIT);
                assert!(
                    matches!(got, Err(Refusal::Forbidden(_))),
                    "{} by an outsider from {}: {got:?}",
                    action.name(),
                    state.as_str()
                );
            }
        }
    }

    #[test]
    fn a_low_rating_reopens_and_a_second_rating_is_refused() {
        let t = transition(
            &event(State::Closed),
            &Action::Rate {
                score: 2,
                comment: "still dirty".into(),
                fixed: true,
            },
            &reporter(),
            3,
        )
        .unwrap();
        assert!(t.reopened);
        assert_eq!(t.to, Some(State::Accepted));
        let t = transition(
            &event(State::Closed),
            &Action::Rate {
                score: 5,
                comment: String::new(),
                fixed: false,
            },
            &reporter(),
            3,
        )
        .unwrap();
        assert!(t.reopened, "not fixed reopens even with a good score");
        let mut rated = event(State::Closed);
        rated.rated = true;
        let again = transition(
            &rated,
            &Action::Rate {
                score: 5,
                comment: String::new(),
                fixed: true,
            },
            &reporter(),
            3,
        );
        assert!(matches!(again, Err(Refusal::WrongState(_))));
        let stranger = Actor {
            user_id: 555,
            role: Role::Citizen,
            scope: Scope::Own,
        };
        let r = transition(
            &event(State::Closed),
            &Action::Rate {
                score: 5,
                comment: String::new(),
                fixed: true,
            },
            &stranger,
            3,
        );
        assert!(matches!(r, Err(Refusal::Forbidden(_))));
    }

    #[test]
    fn the_third_return_hands_the_decision_to_the_centre() {
        let mut ev = event(State::InProgress);
        ev.returns = 2;
        let t = transition(
            &ev,
            &Action::Return {
                reason: "not ours".into(),
            },
            &handler(DEP),
            3,
        )
        .unwrap();
        assert_eq!(t.decision_required, Some(true));
        ev.decision_required = true;
        ev.returns = 3;
        assert!(matches!(
            transition(
                &ev,
                &Action::Return {
                    reason: "again".into()
                },
                &handler(DEP),
                3
            ),
            Err(Refusal::WrongState(_))
        ));
    }

    #[test]
    fn escalation_climbs_one_level_and_stops_at_the_province() {
        let t = transition(
            &event(State::Accepted),
            &Action::Escalate {
                reason: "big".into(),
            },
            &dispatcher(),
            3,
        )
        .unwrap();
        assert_eq!(t.centre.unwrap().as_str(), "441502001000");
        let mut top = event(State::Accepted);
        top.centre = code("440000000000");
        let province = Actor {
            user_id: 1,
            role: Role::Dispatcher,
            scope: Scope::Node(code("440000000000")),
        };
        assert!(matches!(
            transition(&top, &Action::Escalate { reason: "x".into() }, &province, 3),
            Err(Refusal::WrongState(_))
        ));
    }

    #[test]
    fn summoned_departments_check_in_once_and_only_the_lead_signs() {
        let region = code("441502000000");
        let t = transition(
            &event(State::Accepted),
            &Action::Summon {
                departments: vec![(DEP, region.clone()), (OTHER_DEP, region)],
                lead: DEP,
                report_by: None,
                place: String::new(),
                reason: String::new(),
            },
            &dispatcher(),
            3,
        )
        .unwrap();
        let mut ev = event(State::Dispatched);
        ev.summoned = t.summoned.unwrap();
        let t = transition(&ev, &Action::CheckIn, &handler(OTHER_DEP), 3).unwrap();
        ev.summoned = t.summoned.unwrap();
        assert!(matches!(
            transition(&ev, &Action::CheckIn, &handler(OTHER_DEP), 3),
            Err(Refusal::WrongState(_))
        ));
        assert!(matches!(
            transition(&ev, &Action::Sign, &handler(OTHER_DEP), 3),
            Err(Refusal::Forbidden(_))
        ));
        assert!(transition(&ev, &Action::Sign, &handler(DEP), 3).is_ok());
    }

    #[test]
    fn a_failed_verification_goes_back_to_whoever_handled_it() {
        let t = transition(
            &event(State::Resolved),
            &Action::Verify {
                ok: false,
                note: "still there".into(),
            },
            &worker(),
            3,
        )
        .unwrap();
        assert_eq!(t.to, Some(State::InProgress));
        let mut on_spot = event(State::Resolved);
        on_spot.department_id = None;
        let t = transition(
            &on_spot,
            &Action::Verify {
                ok: false,
                note: "still there".into(),
            },
            &worker(),
            3,
        )
        .unwrap();
        assert_eq!(t.to, Some(State::Accepted));
    }

    #[test]
    fn categories_that_need_a_department_cannot_be_resolved_on_the_spot() {
        let mut ev = event(State::Reported);
        ev.on_spot_allowed = false;
        assert!(matches!(
            transition(
                &ev,
                &Action::ResolveOnSpot { note: "x".into() },
                &worker(),
                3
            ),
            Err(Refusal::Forbidden(_))
        ));
    }
}
