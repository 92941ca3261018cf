//! Consultations (协商议事): the village puts a topic to its residents, who comment on it while
//! it is open; the villagers' council meets on it and its record is kept; the outcome is
//! published. A topic may be withdrawn, with a reason, before its meeting. The life of a topic
//! as a pure function.

use crate::text;
use crate::DomainError;

pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_BODY_CHARS: usize = 5_000;
pub const MAX_COMMENT_CHARS: usize = 500;
pub const MAX_RECORD_CHARS: usize = 10_000;
pub const MAX_OUTCOME_CHARS: usize = 2_000;
/// Most comments one person may leave on one topic (each one is read at the meeting).
pub const MAX_COMMENTS_PER_PERSON: i64 = 20;
/// Most people a meeting record may count (a village's council, not a stadium).
pub const MAX_ATTENDEES: i64 = 10_000;

/// Where a topic stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// 征求意见: residents comment.
    Open,
    /// 已议事: the meeting was held and its record kept; comments are closed.
    Held,
    /// 已形成结果: the outcome is published.
    Concluded,
    /// 已撤回: withdrawn with a reason before its meeting.
    Withdrawn,
}

impl State {
    pub const ALL: [State; 4] = [State::Open, State::Held, State::Concluded, State::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Held => "held",
            State::Concluded => "concluded",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What the meeting decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// 通过: agreed, to be carried out.
    Agreed,
    /// 未通过.
    Rejected,
    /// 暂缓: put off, to be taken up again.
    Deferred,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::Agreed, Decision::Rejected, Decision::Deferred];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Agreed => "agreed",
            Decision::Rejected => "rejected",
            Decision::Deferred => "deferred",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        Decision::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The record of a meeting (议事记录), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    /// When it was held (ms since the epoch).
    pub held_at: i64,
    pub place: String,
    pub attendees: i64,
    pub record: String,
}

/// A move on a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A resident (or the village) comments.
    Comment,
    /// The meeting was held: its record.
    Hold(Meeting),
    /// The outcome.
    Conclude { decision: Decision, text: String },
    /// Withdrawn, with a reason.
    Withdraw { reason: String },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Comment => "comment",
            Action::Hold(_) => "hold",
            Action::Conclude { .. } => "conclude",
            Action::Withdraw { .. } => "withdraw",
        }
    }
}

/// What a move leads to: the state and the note for the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub to: State,
    pub note: Option<String>,
}

/// The life of a topic at `now` (`opened_at`: when it was put to the residents): comments while
/// open; the meeting, not before the topic was opened nor in the future, closes the comments;
/// the outcome follows the meeting; a topic is withdrawn only before its meeting.
pub fn transition(
    state: State,
    opened_at: i64,
    action: &Action,
    now: i64,
) -> Result<Moved, DomainError> {
    let refused = |why: &str| {
        Err(DomainError::Refused {
            why: format!("{why} (the topic is {})", state.as_str()),
        })
    };
    match (state, action) {
        (State::Open, Action::Comment) => Ok(Moved {
            to: State::Open,
            note: None,
        }),
        (State::Open, Action::Hold(m)) => {
            if m.held_at < opened_at - DAY_MS || m.held_at > now {
                return Err(DomainError::invalid(
                    "held_at",
                    "the meeting is held after the topic was opened, and not in the future",
                ));
            }
            Ok(Moved {
                to: State::Held,
                note: Some(format!("{}，{} 人参加", m.place, m.attendees)),
            })
        }
        (State::Held, Action::Conclude { decision, text }) => Ok(Moved {
            to: State::Concluded,
            note: Some(format!(
                "{}: {}",
                decision.as_str(),
                text::label("text", text, MAX_OUTCOME_CHARS)?
            )),
        }),
        (State::Open, Action::Withdraw { reason }) => Ok(Moved {
            to: State::Withdrawn,
            note: Some(text::label("reason", reason, 500)?),
        }),
        (_, Action::Comment) => refused("comments are taken while the topic is open"),
        (_, Action::Hold(_)) => refused("the meeting is recorded once, on an open topic"),
        (_, Action::Conclude { .. }) => refused("the outcome follows the meeting's record"),
        (_, Action::Withdraw { .. }) => refused("only an open topic is withdrawn"),
    }
}

const DAY_MS: i64 = 86_400_000;

/// The words of a topic: a title and what is put to the residents.
pub fn words(title: &str, body: &str) -> Result<(String, String), DomainError> {
    Ok((
        text::label("title", title, MAX_TITLE_CHARS)?,
        text::label("body", body, MAX_BODY_CHARS)?,
    ))
}

/// The words of a comment.
pub fn comment_text(raw: &str) -> Result<String, DomainError> {
    text::label("text", raw, MAX_COMMENT_CHARS)
}

/// A meeting's record, checked (its date is checked by [`transition`]).
pub fn meeting(
    held_at: i64,
    place: &str,
    attendees: i64,
    record: &str,
) -> Result<Meeting, DomainError> {
    if !(1..=MAX_ATTENDEES).contains(&attendees) {
        return Err(DomainError::invalid(
            "attendees",
            format!("must be 1 to {MAX_ATTENDEES} people"),
        ));
    }
    Ok(Meeting {
        held_at,
        place: text::label("place", place, 100)?,
        attendees,
        record: text::label("record", record, MAX_RECORD_CHARS)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_commented_held_and_concluded() {
        use State::*;
        let opened = 10 * DAY_MS;
        let now = 20 * DAY_MS;
        let hold =
            |at: i64| Action::Hold(meeting(at, "村委会议室", 23, "逐条讨论了村民意见").unwrap());
        let conclude = |t: &str| Action::Conclude {
            decision: Decision::Agreed,
            text: t.into(),
        };
        let withdraw = |r: &str| Action::Withdraw { reason: r.into() };
        // (state, action, Some(to) or refused)
        let cases: Vec<(State, Action, Option<State>)> = vec![
            (Open, Action::Comment, Some(Open)),
            (Held, Action::Comment, None),
            (Concluded, Action::Comment, None),
            (Withdrawn, Action::Comment, None),
            (Open, hold(15 * DAY_MS), Some(Held)),
            (Open, hold(now), Some(Held)),
            (Open, hold(now + 1), None),
            (Open, hold(opened - 2 * DAY_MS), None),
            (Held, hold(15 * DAY_MS), None),
            (Held, conclude("同意修建村道，下月开工"), Some(Concluded)),
            (Held, conclude("   "), None),
            (Open, conclude("跳过会议"), None),
            (Concluded, conclude("再议"), None),
            (Open, withdraw("与镇里规划重复"), Some(Withdrawn)),
            (Open, withdraw(""), None),
            (Held, withdraw("开过会了"), None),
            (Withdrawn, withdraw("再撤一次"), None),
        ];
        for (s, a, want) in cases {
            let got = transition(s, opened, &a, now).ok().map(|m| m.to);
            assert_eq!(got, want, "{s:?} {a:?}");
        }
        assert!(meeting(now, "会议室", 0, "记录").is_err());
        assert!(meeting(now, "会议室", 5, " ").is_err());
        assert!(meeting(now, "", 5, "记录").is_err());
        assert!(words("关于修建村道的议题", "请大家提意见").is_ok());
        assert!(words("题目", "").is_err());
        assert!(comment_text(&"字".repeat(MAX_COMMENT_CHARS + 1)).is_err());
        assert_eq!(Decision::parse("deferred"), Some(Decision::Deferred));
        assert!(Decision::parse("maybe").is_none());
    }
}
