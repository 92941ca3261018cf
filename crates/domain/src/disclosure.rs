//! Public notices of a village (四务公开): party, village, finance and service affairs, and the
//! village's standing documents — its rules (村规民约) and the list of small powers (小微权力清单)
//! — written by the village, published, pinned and withdrawn with a reason. A published notice is read by
//! the village's residents in the portal; a withdrawn one stays on record for the audit.

use crate::text;
use crate::DomainError;

pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_BODY_CHARS: usize = 10_000;

/// The four kinds of public affairs, and the two standing documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 党务公开.
    Party,
    /// 村务公开.
    Village,
    /// 财务公开.
    Finance,
    /// 服务公开.
    Service,
    /// 村规民约: the village's rules, as adopted by the villagers' meeting.
    Rules,
    /// 小微权力清单: the list of the village's small powers and how each is exercised.
    Powers,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Party,
        Kind::Village,
        Kind::Finance,
        Kind::Service,
        Kind::Rules,
        Kind::Powers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Party => "party",
            Kind::Village => "village",
            Kind::Finance => "finance",
            Kind::Service => "service",
            Kind::Rules => "rules",
            Kind::Powers => "powers",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Where a notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// 草稿: written, not public.
    Draft,
    /// 已发布: public to the village.
    Published,
    /// 已撤回: withdrawn with a reason; kept on record.
    Withdrawn,
}

impl State {
    pub const ALL: [State; 3] = [State::Draft, State::Published, State::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Published => "published",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A move on a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Publish,
    Withdraw { reason: String },
    Pin,
    Unpin,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Publish => "publish",
            Action::Withdraw { .. } => "withdraw",
            Action::Pin => "pin",
            Action::Unpin => "unpin",
        }
    }
}

/// What a move leads to: the state, whether pinned, and the note for the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub to: State,
    pub pinned: bool,
    pub note: Option<String>,
}

/// The life of a notice: drafts are published; published notices are pinned, unpinned or
/// withdrawn (with a reason); a withdrawn notice may be published again (corrected).
pub fn transition(state: State, pinned: bool, action: &Action) -> Result<Moved, DomainError> {
    let refused = |why: &str| {
        Err(DomainError::Refused {
            why: format!("{why} (the notice is {})", state.as_str()),
        })
    };
    match (state, action) {
        (State::Draft | State::Withdrawn, Action::Publish) => Ok(Moved {
            to: State::Published,
            pinned: false,
            note: None,
        }),
        (State::Published, Action::Withdraw { reason }) => Ok(Moved {
            to: State::Withdrawn,
            pinned: false,
            note: Some(text::label("reason", reason, 500)?),
        }),
        (State::Published, Action::Pin) if !pinned => Ok(Moved {
            to: State::Published,
            pinned: true,
            note: None,
        }),
        (State::Published, Action::Unpin) if pinned => Ok(Moved {
            to: State::Published,
            pinned: false,
            note: None,
        }),
        (State::Published, Action::Publish) => refused("it is published already"),
        (State::Published, Action::Pin) => refused("it is pinned already"),
        (State::Published, Action::Unpin) => refused("it is not pinned"),
        (_, Action::Withdraw { .. }) => refused("only a published notice is withdrawn"),
        (_, Action::Pin | Action::Unpin) => refused("only a published notice is pinned"),
    }
}

/// The words of a notice: a title and a body.
pub fn words(title: &str, body: &str) -> Result<(String, String), DomainError> {
    Ok((
        text::label("title", title, MAX_TITLE_CHARS)?,
        text::label("body", body, MAX_BODY_CHARS)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_published_pinned_and_withdrawn_with_a_reason() {
        use State::*;
        let w = |r: &str| Action::Withdraw { reason: r.into() };
        // (state, pinned, action, Some((to, pinned)) or refused)
        type Case = (State, bool, Action, Option<(State, bool)>);
        let cases: Vec<Case> = vec![
            (Draft, false, Action::Publish, Some((Published, false))),
            (Withdrawn, false, Action::Publish, Some((Published, false))),
            (Published, false, Action::Publish, None),
            (Published, false, Action::Pin, Some((Published, true))),
            (Published, true, Action::Pin, None),
            (Published, true, Action::Unpin, Some((Published, false))),
            (Published, false, Action::Unpin, None),
            (
                Published,
                true,
                w("数据有误，更正后重发"),
                Some((Withdrawn, false)),
            ),
            (Published, false, w("  "), None),
            (Draft, false, w("理由"), None),
            (Draft, false, Action::Pin, None),
            (Withdrawn, false, Action::Unpin, None),
        ];
        for (s, p, a, want) in cases {
            let got = transition(s, p, &a).ok().map(|m| (m.to, m.pinned));
            assert_eq!(got, want, "{s:?} pinned={p} {a:?}");
        }
        assert!(words("关于2026年11月财务收支的公示", "见附表").is_ok());
        assert!(words("", "正文").is_err());
        assert!(Kind::parse("finance").is_some() && Kind::parse("money").is_none());
    }
}
