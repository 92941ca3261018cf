//! The life of a ledger entry, as a pure function of (entry, action, duty): the village's
//! treasurer (报账员) enters and submits it, the village committee (村委会) approves it or sends
//! it back, the town's agency (三资代理中心) reviews it into the books or sends it back. An
//! expense is refused approval — by the committee and again at the review — until at least one
//! invoice image is attached (不上图不给报销); nothing is posted into a closed month.

use super::Kind;
use crate::DomainError;

/// Longest reason or note.
pub const MAX_NOTE_CHARS: usize = 500;

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// 录入: being entered by the treasurer.
    Draft,
    /// 待审批: waiting for the village committee.
    Submitted,
    /// 待审核: approved by the committee, waiting for the town's agency.
    Approved,
    /// 已入账: reviewed and posted; counts in the balances and is public.
    Posted,
    /// 已退回: sent back to the treasurer with a reason.
    Returned,
    /// 已作废: withdrawn by the treasurer before it was approved.
    Voided,
}

impl State {
    pub const ALL: [State; 6] = [
        State::Draft,
        State::Submitted,
        State::Approved,
        State::Posted,
        State::Returned,
        State::Voided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Submitted => "submitted",
            State::Approved => "approved",
            State::Posted => "posted",
            State::Returned => "returned",
            State::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The treasurer may still change its lines, date and invoices.
    pub fn editable(self) -> bool {
        matches!(self, State::Draft | State::Returned)
    }
}

/// Who the actor is to the entry's village (the adapter decides from the user's role and scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Duty {
    /// 报账员 of the village.
    Treasurer,
    /// A member of the village committee (村委会).
    Committee,
    /// The town's agency for the villages' books (三资代理中心).
    TownAgency,
    /// Anyone else: reads what their scope shows, moves nothing.
    None,
}

/// A move on an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// 提交审批 (treasurer).
    Submit,
    /// 审批 (committee): approve, or send back with a reason.
    Approve { approve: bool, note: Option<String> },
    /// 审核入账 (town agency): post, or send back with a reason.
    Review { approve: bool, note: Option<String> },
    /// 作废 (treasurer), with a reason.
    Void { reason: String },
}

impl Action {
    pub const NAMES: [&'static str; 4] = ["submit", "approve", "review", "void"];

    pub fn name(&self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Approve { .. } => "approve",
            Action::Review { .. } => "review",
            Action::Void { .. } => "void",
        }
    }
}

/// What the rules need to know of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryState {
    pub state: State,
    pub kind: Kind,
    /// Invoice images attached.
    pub invoices: u32,
    /// The month of the entry's date is closed (月结).
    pub month_closed: bool,
    /// The one moving it is the one who entered it: they do not approve or review their own
    /// entry (不相容岗位分离), whatever duties they hold.
    pub by_creator: bool,
}

/// Why the one who entered an entry may not approve or review it.
pub const OWN_ENTRY: &str =
    "whoever entered an entry does not approve or review it (不相容岗位相分离)";

/// What a move changes; the adapter applies it and writes the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub to: State,
    /// The reason or note on the timeline.
    pub note: Option<String>,
    /// Post the entry's lines to the balances now.
    pub post: bool,
}

/// Why a move is refused, as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not this person's move (403).
    Forbidden(&'static str),
    /// Not from this state, or the rules say no now (409), with the reason.
    Conflict(String),
    /// Bad input (422).
    Invalid { field: String, reason: String },
}

impl From<DomainError> for Refusal {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, reason } => Refusal::Invalid { field, reason },
            DomainError::Refused { why } => Refusal::Conflict(why),
            DomainError::Forbidden => Refusal::Forbidden("not allowed"),
        }
    }
}

/// The states an action is allowed from (the rest are 409).
pub fn allowed_from(action: &Action, s: State) -> bool {
    match action {
        Action::Submit | Action::Void { .. } => s.editable(),
        Action::Approve { .. } => s == State::Submitted,
        Action::Review { .. } => s == State::Approved,
    }
}

fn duty_for(action: &Action) -> Duty {
    match action {
        Action::Submit | Action::Void { .. } => Duty::Treasurer,
        Action::Approve { .. } => Duty::Committee,
        Action::Review { .. } => Duty::TownAgency,
    }
}

/// The refusal of an expense without an invoice image, the same wherever it is tried.
pub const NO_INVOICE: &str =
    "an expense needs at least one invoice image before it can be approved (不上图不给报销)";

fn note(field: &str, raw: Option<&str>, required: bool) -> Result<Option<String>, Refusal> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(crate::text::label(field, s, MAX_NOTE_CHARS)?)),
        None if required => Err(Refusal::Invalid {
            field: field.to_owned(),
            reason: "a reason is needed to send an entry back".to_owned(),
        }),
        None => Ok(None),
    }
}

/// What `action` by someone with `duty` does to `e`, or why not.
pub fn transition(e: &EntryState, action: &Action, duty: Duty) -> Result<Transition, Refusal> {
    if duty != duty_for(action) {
        return Err(Refusal::Forbidden(match duty_for(action) {
            Duty::Treasurer => "only the village's treasurer submits or voids an entry",
            Duty::Committee => "only the village committee approves an entry",
            _ => "only the town's agency reviews an entry into the books",
        }));
    }
    if !allowed_from(action, e.state) {
        return Err(Refusal::Conflict(format!(
            "an entry that is {} cannot be {}",
            e.state.as_str(),
            action.name()
        )));
    }
    if e.by_creator && matches!(action, Action::Approve { .. } | Action::Review { .. }) {
        return Err(Refusal::Forbidden(OWN_ENTRY));
    }
    let needs_invoice = e.kind == super::Kind::Expense && e.invoices == 0;
    Ok(match action {
        Action::Submit => Transition {
            to: State::Submitted,
            note: None,
            post: false,
        },
        Action::Void { reason } => Transition {
            to: State::Voided,
            note: note("reason", Some(reason), true)?,
            post: false,
        },
        Action::Approve { approve, note: n } | Action::Review { approve, note: n } => {
            let n = note("note", n.as_deref(), !approve)?;
            if !approve {
                return Ok(Transition {
                    to: State::Returned,
                    note: n,
                    post: false,
                });
            }
            if needs_invoice {
                return Err(Refusal::Conflict(NO_INVOICE.to_owned()));
            }
            match action {
                Action::Approve { .. } => Transition {
                    to: State::Approved,
                    note: n,
                    post: false,
                },
                _ if e.month_closed => {
                    return Err(Refusal::Conflict(
                        "the entry's month is closed: send it back to be dated in an open month"
                            .to_owned(),
                    ))
                }
                _ => Transition {
                    to: State::Posted,
                    note: n,
                    post: true,
                },
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(state: State, kind: Kind, invoices: u32) -> EntryState {
        EntryState {
            state,
            kind,
            invoices,
            month_closed: false,
            by_creator: false,
        }
    }

    fn moves() -> Vec<(Action, Duty)> {
        vec![
            (Action::Submit, Duty::Treasurer),
            (
                Action::Approve {
                    approve: true,
                    note: None,
                },
                Duty::Committee,
            ),
            (
                Action::Approve {
                    approve: false,
                    note: Some("金额与发票不符".into()),
                },
                Duty::Committee,
            ),
            (
                Action::Review {
                    approve: true,
                    note: None,
                },
                Duty::TownAgency,
            ),
            (
                Action::Review {
                    approve: false,
                    note: Some("科目错误".into()),
                },
                Duty::TownAgency,
            ),
            (
                Action::Void {
                    reason: "重复录入".into(),
                },
                Duty::Treasurer,
            ),
        ]
    }

    /// The table: for each move, the states it is allowed from and where it leads.
    fn table(m: &Action) -> (&'static [State], State) {
        match m {
            Action::Submit => (&[State::Draft, State::Returned], State::Submitted),
            Action::Approve { approve: true, .. } => (&[State::Submitted], State::Approved),
            Action::Approve { .. } => (&[State::Submitted], State::Returned),
            Action::Review { approve: true, .. } => (&[State::Approved], State::Posted),
            Action::Review { .. } => (&[State::Approved], State::Returned),
            Action::Void { .. } => (&[State::Draft, State::Returned], State::Voided),
        }
    }

    #[test]
    fn every_state_and_move_follows_the_table() {
        for (m, duty) in moves() {
            let (from, to) = table(&m);
            for s in State::ALL {
                let got = transition(&entry(s, Kind::Expense, 1), &m, duty);
                if from.contains(&s) {
                    let t = got.unwrap_or_else(|e| panic!("{m:?} from {s:?}: {e:?}"));
                    assert_eq!(t.to, to, "{m:?} from {s:?}");
                    assert_eq!(t.post, to == State::Posted);
                } else {
                    assert!(
                        matches!(got, Err(Refusal::Conflict(_))),
                        "{m:?} from {s:?}: {got:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn each_move_is_one_duty_s() {
        for (m, duty) in moves() {
            let (from, _) = table(&m);
            for other in [
                Duty::Treasurer,
                Duty::Committee,
                Duty::TownAgency,
                Duty::None,
            ] {
                if other == duty {
                    continue;
                }
                let got = transition(&entry(from[0], Kind::Income, 0), &m, other);
                assert!(
                    matches!(got, Err(Refusal::Forbidden(_))),
                    "{m:?} by {other:?}"
                );
            }
        }
    }

    #[test]
    fn an_expense_without_an_invoice_is_never_approved_nor_posted() {
        let approve = Action::Approve {
            approve: true,
            note: None,
        };
        let review = Action::Review {
            approve: true,
            note: None,
        };
        for (m, duty, s) in [
            (&approve, Duty::Committee, State::Submitted),
            (&review, Duty::TownAgency, State::Approved),
        ] {
            assert_eq!(
                transition(&entry(s, Kind::Expense, 0), m, duty),
                Err(Refusal::Conflict(NO_INVOICE.to_owned()))
            );
            assert!(transition(&entry(s, Kind::Expense, 1), m, duty).is_ok());
            // Income and transfers need none.
            assert!(transition(&entry(s, Kind::Income, 0), m, duty).is_ok());
            assert!(transition(&entry(s, Kind::Transfer, 0), m, duty).is_ok());
        }
        // Submitting and sending back need no invoice.
        assert!(transition(
            &entry(State::Draft, Kind::Expense, 0),
            &Action::Submit,
            Duty::Treasurer
        )
        .is_ok());
        let back = Action::Approve {
            approve: false,
            note: Some("请补充发票".into()),
        };
        assert_eq!(
            transition(
                &entry(State::Submitted, Kind::Expense, 0),
                &back,
                Duty::Committee
            )
            .unwrap()
            .to,
            State::Returned
        );
    }

    #[test]
    fn nobody_approves_or_reviews_their_own_entry() {
        for (m, duty) in moves() {
            let (from, to) = table(&m);
            let mut e = entry(from[0], Kind::Income, 0);
            e.by_creator = true;
            let got = transition(&e, &m, duty);
            match m {
                Action::Approve { .. } | Action::Review { .. } => {
                    assert_eq!(got, Err(Refusal::Forbidden(OWN_ENTRY)), "{m:?}")
                }
                _ => assert_eq!(got.map(|t| t.to), Ok(to), "{m:?}"),
            }
        }
    }

    #[test]
    fn sending_back_and_voiding_need_a_reason() {
        for (m, duty, s) in [
            (
                Action::Approve {
                    approve: false,
                    note: Some("  ".into()),
                },
                Duty::Committee,
                State::Submitted,
            ),
            (
                Action::Review {
                    approve: false,
                    note: None,
                },
                Duty::TownAgency,
                State::Approved,
            ),
            (
                Action::Void {
                    reason: String::new(),
                },
                Duty::Treasurer,
                State::Draft,
            ),
        ] {
            assert!(
                matches!(
                    transition(&entry(s, Kind::Income, 0), &m, duty),
                    Err(Refusal::Invalid { .. })
                ),
                "{m:?}"
            );
        }
    }

    #[test]
    fn nothing_is_posted_into_a_closed_month() {
        let mut e = entry(State::Approved, Kind::Income, 0);
        e.month_closed = true;
        let review = Action::Review {
            approve: true,
            note: None,
        };
        assert!(matches!(
            transition(&e, &review, Duty::TownAgency),
            Err(Refusal::Conflict(_))
        ));
        // Sending it back still works, so the treasurer can re-date it.
        let back = Action::Review {
            approve: false,
            note: Some("请改到本月".into()),
        };
        assert_eq!(
            transition(&e, &back, Duty::TownAgency).unwrap().to,
            State::Returned
        );
    }
}
