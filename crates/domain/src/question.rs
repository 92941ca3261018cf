//! Villagers' questions on their village's public affairs (我要监督) and their suggestions to it
//! (建言献策): a resident asks about a posted ledger entry or a published notice, or makes a
//! suggestion about the village itself; the village must answer within
//! [`ANSWER_DAYS`] working days of the shared calendar; a question still unanswered then draws
//! supervision at the town (督办), and the village may still answer it, late. Questions and
//! answers are public to the village's residents. The life of a question as a pure function.

use crate::text;
use crate::DomainError;

/// Working days the village has to answer.
pub const ANSWER_DAYS: i64 = 5;
/// Most questions and suggestions one resident may have waiting for an answer at a time (each
/// one calls the village's centre: a flood of them would drown the others).
pub const MAX_OPEN_PER_ASKER: i64 = 10;
/// Longest question and answer, in characters.
pub const MAX_QUESTION_CHARS: usize = 500;
pub const MAX_ANSWER_CHARS: usize = 2000;

/// What a question is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A posted entry of the village's books.
    Entry,
    /// A published notice (四务公开).
    Disclosure,
    /// The village itself: a suggestion (建言献策), answered like a question.
    Suggestion,
}

impl Subject {
    pub const ALL: [Subject; 3] = [Subject::Entry, Subject::Disclosure, Subject::Suggestion];

    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Entry => "entry",
            Subject::Disclosure => "disclosure",
            Subject::Suggestion => "suggestion",
        }
    }

    pub fn parse(s: &str) -> Option<Subject> {
        Subject::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Where a question stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// 待答复: waiting for the village's answer.
    Open,
    /// 已答复.
    Answered,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Answered => "answered",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        [State::Open, State::Answered]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// What is known of a question when something happens to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub state: State,
    /// Supervision was raised at the town already.
    pub supervised: bool,
    pub due_at: i64,
}

/// Something that happens to a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The village answers (anyone who keeps or oversees its books; see the API).
    Answer { text: String },
    /// The sweep finds it unanswered at `now`.
    Check { now: i64 },
}

/// What follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answered; `late` when after its due time.
    Answered { text: String, late: bool },
    /// Past due, unanswered: supervision at the town.
    Supervise,
    /// Nothing to do yet.
    Wait,
}

/// Checks the words of a question.
pub fn question_text(raw: &str) -> Result<String, DomainError> {
    text::label("text", raw, MAX_QUESTION_CHARS)
}

/// The life of a question, at `now` for an answer.
pub fn transition(f: &Facts, action: &Action, now: i64) -> Result<Outcome, DomainError> {
    match (f.state, action) {
        (State::Answered, Action::Answer { .. }) => Err(DomainError::Refused {
            why: "the question was answered already".into(),
        }),
        (State::Answered, Action::Check { .. }) => Ok(Outcome::Wait),
        (State::Open, Action::Answer { text }) => {
            let text = text::label("answer", text, MAX_ANSWER_CHARS)?;
            Ok(Outcome::Answered {
                text,
                late: now > f.due_at,
            })
        }
        (State::Open, Action::Check { now }) => Ok(if *now >= f.due_at && !f.supervised {
            Outcome::Supervise
        } else {
            Outcome::Wait
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_is_answered_once_and_supervised_once_when_late() {
        let open = Facts {
            state: State::Open,
            supervised: false,
            due_at: 1_000,
        };
        let supervised = Facts {
            supervised: true,
            ..open
        };
        let answered = Facts {
            state: State::Answered,
            ..open
        };
        let answer = |t: &str| Action::Answer { text: t.into() };
        // (facts, action, now, outcome or refused)
        let cases: Vec<(Facts, Action, i64, Result<Outcome, ()>)> = vec![
            (
                open,
                answer(" 已按规定公示 "),
                999,
                Ok(Outcome::Answered {
                    text: "已按规定公示".into(),
                    late: false,
                }),
            ),
            (
                open,
                answer("晚了"),
                1_001,
                Ok(Outcome::Answered {
                    text: "晚了".into(),
                    late: true,
                }),
            ),
            (
                supervised,
                answer("督办后答复"),
                5_000,
                Ok(Outcome::Answered {
                    text: "督办后答复".into(),
                    late: true,
                }),
            ),
            (open, answer("   "), 10, Err(())),
            (answered, answer("再答"), 10, Err(())),
            (open, Action::Check { now: 999 }, 999, Ok(Outcome::Wait)),
            (
                open,
                Action::Check { now: 1_000 },
                0,
                Ok(Outcome::Supervise),
            ),
            (
                supervised,
                Action::Check { now: 9_000 },
                0,
                Ok(Outcome::Wait),
            ),
            (answered, Action::Check { now: 9_000 }, 0, Ok(Outcome::Wait)),
        ];
        for (f, a, now, want) in cases {
            assert_eq!(transition(&f, &a, now).map_err(|_| ()), want, "{f:?} {a:?}");
        }
    }

    #[test]
    fn a_question_says_something() {
        assert!(question_text("为什么？").is_ok());
        assert!(question_text("  ").is_err());
        assert!(question_text(&"问".repeat(MAX_QUESTION_CHARS + 1)).is_err());
        assert_eq!(Subject::parse("entry"), Some(Subject::Entry));
        assert_eq!(Subject::parse("event"), None);
    }
}
