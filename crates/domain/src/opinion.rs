//! Legislative-opinion collection (立法意见征集): a grassroots contact point (基层立法联系点) puts
//! a draft law or regulation, article by article, to the residents of its area until a closing
//! date; residents give opinions on an article or on the draft as a whole; once collection is
//! closed the collector marks each opinion adopted or not, with a reason, and finishes the draft
//! when every opinion is marked. The lives of a draft and of an opinion as pure functions.

use chrono::NaiveDate;

use crate::calendar::{local_date, local_ms};
use crate::text;
use crate::DomainError;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_ISSUER_CHARS: usize = 100;
pub const MAX_SUMMARY_CHARS: usize = 5_000;
pub const MAX_ARTICLES: usize = 300;
pub const MAX_ARTICLE_CHARS: usize = 3_000;
pub const MAX_OPINION_CHARS: usize = 1_000;
pub const MAX_REASON_CHARS: usize = 500;
/// Most opinions one resident may give on one draft.
pub const MAX_OPINIONS_PER_PERSON: i64 = 20;
/// Longest collection period, in days from the day the draft is put out.
pub const MAX_PERIOD_DAYS: i64 = 180;

/// Where a draft stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftState {
    /// 征集中: residents give opinions until the closing date.
    Open,
    /// 征集结束: the collector marks the opinions.
    Closed,
    /// 已反馈: every opinion marked; the draft's record is complete.
    Done,
}

impl DraftState {
    pub const ALL: [DraftState; 3] = [DraftState::Open, DraftState::Closed, DraftState::Done];

    pub fn as_str(self) -> &'static str {
        match self {
            DraftState::Open => "open",
            DraftState::Closed => "closed",
            DraftState::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<DraftState> {
        DraftState::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What became of an opinion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 已收到: not marked yet.
    Received,
    /// 采纳.
    Adopted,
    /// 未采纳.
    NotAdopted,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::Received, Verdict::Adopted, Verdict::NotAdopted];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Received => "received",
            Verdict::Adopted => "adopted",
            Verdict::NotAdopted => "not_adopted",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A move on a draft, or on one of its opinions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A resident gives an opinion at `now`.
    Give { now: i64 },
    /// The collector closes the collection (early, or once its date has passed).
    Close,
    /// The collector marks an opinion (again, while the draft is closed).
    Mark { adopted: bool, reason: String },
    /// The collector finishes the draft; `unmarked` opinions are left.
    Finish { unmarked: i64 },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Give { .. } => "give",
            Action::Close => "close",
            Action::Mark { .. } => "mark",
            Action::Finish { .. } => "finish",
        }
    }
}

/// What a move leads to: the draft's state, an opinion's verdict for a mark, and the note for
/// the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub to: DraftState,
    pub verdict: Option<Verdict>,
    pub note: Option<String>,
}

/// The life of a draft (`closes_at`: the end of its closing date).
pub fn transition(
    state: DraftState,
    closes_at: i64,
    action: &Action,
) -> Result<Moved, DomainError> {
    let refused = |why: &str| {
        Err(DomainError::Refused {
            why: format!("{why} (the draft is {})", state.as_str()),
        })
    };
    let stay = |verdict, note| {
        Ok(Moved {
            to: state,
            verdict,
            note,
        })
    };
    match (state, action) {
        (DraftState::Open, Action::Give { now }) if *now < closes_at => stay(None, None),
        (DraftState::Open, Action::Give { .. }) => Err(DomainError::Refused {
            why: "the collection has ended: its closing date has passed".into(),
        }),
        (_, Action::Give { .. }) => refused("opinions are given while the draft is open"),
        (DraftState::Open, Action::Close) => Ok(Moved {
            to: DraftState::Closed,
            verdict: None,
            note: None,
        }),
        (_, Action::Close) => refused("only an open draft is closed"),
        (DraftState::Closed, Action::Mark { adopted, reason }) => {
            let reason = text::label("reason", reason, MAX_REASON_CHARS)?;
            let v = if *adopted {
                Verdict::Adopted
            } else {
                Verdict::NotAdopted
            };
            stay(Some(v), Some(reason))
        }
        (_, Action::Mark { .. }) => refused(
            "opinions are marked once the collection is closed, until the draft is finished",
        ),
        (DraftState::Closed, Action::Finish { unmarked: 0 }) => Ok(Moved {
            to: DraftState::Done,
            verdict: None,
            note: None,
        }),
        (DraftState::Closed, Action::Finish { unmarked }) => Err(DomainError::Refused {
            why: format!("{unmarked} opinions are not marked yet: mark each adopted or not"),
        }),
        (_, Action::Finish { .. }) => refused("a closed draft is finished"),
    }
}

/// The draft's words: its title, who asks for the opinions (征求意见单位), and its explanation.
pub fn words(
    title: &str,
    issuer: &str,
    summary: &str,
) -> Result<(String, String, Option<String>), DomainError> {
    Ok((
        text::label("title", title, MAX_TITLE_CHARS)?,
        text::label("issuer", issuer, MAX_ISSUER_CHARS)?,
        text::note("summary", summary, MAX_SUMMARY_CHARS)?,
    ))
}

/// The articles, numbered from 1 in the order given.
pub fn articles(raw: &[String]) -> Result<Vec<String>, DomainError> {
    if raw.is_empty() || raw.len() > MAX_ARTICLES {
        return Err(DomainError::invalid(
            "articles",
            format!("a draft has 1 to {MAX_ARTICLES} articles"),
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(i, a)| text::label(&format!("articles[{i}]"), a, MAX_ARTICLE_CHARS))
        .collect()
}

/// The end of the closing date (24:00 local time), checked to lie from `today` to
/// [`MAX_PERIOD_DAYS`] after it.
pub fn closes_at(date: &str, now: i64) -> Result<i64, DomainError> {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| DomainError::invalid("closes_on", "must be a date YYYY-MM-DD"))?;
    let today = local_date(now);
    let days = (d - today).num_days();
    if !(0..=MAX_PERIOD_DAYS).contains(&days) {
        return Err(DomainError::invalid(
            "closes_on",
            format!("the collection closes from today to {MAX_PERIOD_DAYS} days on"),
        ));
    }
    Ok(local_ms(d, 0) + 86_400_000)
}

/// Checks an opinion: the article it is on (0: the draft as a whole) and its words.
pub fn opinion(article: i64, articles: i64, raw: &str) -> Result<String, DomainError> {
    if !(0..=articles).contains(&article) {
        return Err(DomainError::invalid(
            "article",
            format!("an article of the draft, 1 to {articles}, or 0 for the draft as a whole"),
        ));
    }
    text::label("text", raw, MAX_OPINION_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_collect_close_mark_and_finish() {
        use DraftState::*;
        let closes = 1_000;
        let mark = |adopted: bool, r: &str| Action::Mark {
            adopted,
            reason: r.into(),
        };
        // (state, action, Some((to, verdict)) or refused)
        type Case = (DraftState, Action, Option<(DraftState, Option<Verdict>)>);
        let cases: Vec<Case> = vec![
            (Open, Action::Give { now: 999 }, Some((Open, None))),
            (Open, Action::Give { now: 1_000 }, None),
            (Closed, Action::Give { now: 10 }, None),
            (Done, Action::Give { now: 10 }, None),
            (Open, Action::Close, Some((Closed, None))),
            (Closed, Action::Close, None),
            (Open, mark(true, "已吸收"), None),
            (
                Closed,
                mark(true, "第十条增加了相关表述"),
                Some((Closed, Some(Verdict::Adopted))),
            ),
            (
                Closed,
                mark(false, "与上位法冲突"),
                Some((Closed, Some(Verdict::NotAdopted))),
            ),
            (Closed, mark(false, " "), None),
            (Done, mark(true, "迟来的反馈"), None),
            (Closed, Action::Finish { unmarked: 0 }, Some((Done, None))),
            (Closed, Action::Finish { unmarked: 3 }, None),
            (Open, Action::Finish { unmarked: 0 }, None),
            (Done, Action::Finish { unmarked: 0 }, None),
        ];
        for (s, a, want) in cases {
            let got = transition(s, closes, &a).ok().map(|m| (m.to, m.verdict));
            assert_eq!(got, want, "{s:?} {a:?}");
        }
    }

    #[test]
    fn articles_dates_and_opinions_are_checked() {
        assert_eq!(
            articles(&["第一条 为了……".into(), " 第二条 本法适用于…… ".into()]).unwrap()[1],
            "第二条 本法适用于……"
        );
        assert!(articles(&[]).is_err());
        assert!(articles(&["一".into(), "".into()]).is_err());
        let now = local_ms(NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(), 600);
        let end = closes_at("2026-12-31", now).unwrap();
        assert_eq!(
            local_date(end - 1),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
        assert_eq!(
            local_date(end),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        );
        assert!(closes_at("2026-12-04", now).is_ok());
        assert!(closes_at("2026-12-03", now).is_err());
        assert!(closes_at("2027-07-01", now).is_err());
        assert!(closes_at("31/12/2026", now).is_err());
        assert!(opinion(0, 5, "总体赞成").is_ok());
        assert!(opinion(5, 5, "建议修改").is_ok());
        assert!(opinion(6, 5, "没有这一条").is_err());
        assert!(opinion(-1, 5, "负数").is_err());
        assert!(opinion(1, 5, "  ").is_err());
        assert_eq!(Verdict::parse("not_adopted"), Some(Verdict::NotAdopted));
    }
}
