//! Risks and early warning (风险研判预警): clues raised by hand or by configured rules, the
//! joint assessment that grades a clue into a colour-levelled risk with a lead department,
//! daily progress reports (日清日结) and the review that closes it. The life of a record is
//! [`state`]; the rules that raise clues are [`rule`].

pub mod rule;
pub mod state;

use serde::Serialize;

pub use crate::event::state::Refusal;
pub use state::{transition, Action, RiskState, State, Transition};

/// A risk's colour level, the most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Red,
    Orange,
    Yellow,
    Blue,
}

impl Level {
    /// Every level, the most urgent first.
    pub const ALL: [Level; 4] = [Level::Red, Level::Orange, Level::Yellow, Level::Blue];

    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Red => "red",
            Level::Orange => "orange",
            Level::Yellow => "yellow",
            Level::Blue => "blue",
        }
    }

    /// The level named `s`.
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The Chinese name (红色预警 …).
    pub fn zh(self) -> &'static str {
        match self {
            Level::Red => "红色",
            Level::Orange => "橙色",
            Level::Yellow => "黄色",
            Level::Blue => "蓝色",
        }
    }

    /// Red and orange risks need a progress report every working day (日清日结).
    pub fn needs_daily_report(self) -> bool {
        matches!(self, Level::Red | Level::Orange)
    }

    /// The default time to handle a risk of this level, in hours (configurable per level).
    pub fn default_deadline_hours(self) -> i64 {
        match self {
            Level::Red => 24,
            Level::Orange => 72,
            Level::Yellow => 7 * 24,
            Level::Blue => 30 * 24,
        }
    }
}

/// What kind of risk (figures by type).
pub const TYPES: [(&str, &str, &str); 8] = [
    ("disaster", "自然灾害", "Natural disaster"),
    ("safety", "安全生产", "Work safety"),
    ("stability", "社会稳定", "Social stability"),
    ("dispute", "矛盾纠纷", "Disputes"),
    ("public_order", "社会治安", "Public order"),
    ("public_health", "公共卫生", "Public health"),
    ("finance", "涉众金融", "Mass finance"),
    ("other", "其他", "Other"),
];

/// Is `code` a risk type?
pub fn is_type(code: &str) -> bool {
    TYPES.iter().any(|(c, _, _)| *c == code)
}

/// Where a clue came from.
pub const SOURCES: [&str; 5] = ["manual", "rule", "event", "dispute", "department"];

/// The facts of a record its figures are counted from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub state: State,
    /// Set once assessed.
    pub level: Option<Level>,
    /// Closed, and within its deadline.
    pub on_time: Option<bool>,
    pub rule_raised: bool,
}

/// Every measure of the figures, in the order the API answers them.
pub const MEASURES: [&str; 8] = [
    "clues",
    "clues_by_rule",
    "clues_open",
    "dismissed",
    "converted",
    "open",
    "closed",
    "closed_on_time",
];

/// The measures one record counts as, a pure function of its row, so a save adds
/// (after − before) to the counters and a recount agrees.
pub fn measures(f: &Facts) -> Vec<&'static str> {
    let mut m = vec!["clues"];
    if f.rule_raised {
        m.push("clues_by_rule");
    }
    match f.state {
        State::Clue => m.push("clues_open"),
        State::Dismissed => m.push("dismissed"),
        State::Active | State::Review => {
            m.push("converted");
            m.push("open");
        }
        State::Closed => {
            m.push("converted");
            m.push("closed");
            if f.on_time == Some(true) {
                m.push("closed_on_time");
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_round_trip_and_order_by_urgency() {
        for l in Level::ALL {
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
        assert!(Level::Red < Level::Blue);
        assert_eq!(Level::parse("green"), None);
        assert!(Level::Orange.needs_daily_report());
        assert!(!Level::Yellow.needs_daily_report());
    }

    #[test]
    fn measures_follow_the_state() {
        let f = |state, on_time| Facts {
            state,
            level: Some(Level::Red),
            on_time,
            rule_raised: true,
        };
        assert_eq!(
            measures(&f(State::Clue, None)),
            ["clues", "clues_by_rule", "clues_open"]
        );
        assert_eq!(
            measures(&f(State::Closed, Some(true))),
            [
                "clues",
                "clues_by_rule",
                "converted",
                "closed",
                "closed_on_time"
            ]
        );
        assert_eq!(
            measures(&f(State::Review, None)),
            ["clues", "clues_by_rule", "converted", "open"]
        );
    }
}
