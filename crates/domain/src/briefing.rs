//! Briefings (早晚报): which briefing a moment falls to and the period it covers. Pure.
//!
//! A centre reads two briefings a day at its configured times (default 08:00 and 18:00, China
//! time). Each covers a fixed period ending at its time and starting at the one before:
//! - the morning briefing of day D: from D-1 at the evening time to D at the morning time
//!   (the night: what happened since the evening briefing);
//! - the evening briefing of day D: from D at the morning time to D at the evening time.
//!
//! So the periods tile time without gaps or overlaps, a briefing's figures do not depend on
//! when it was written, and a briefing is named by (node, kind, day).

use chrono::{Duration, NaiveDate};

use crate::calendar::{local_date, local_ms};
use crate::error::DomainError;

/// Morning (早报) or evening (晚报).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Morning,
    Evening,
}

impl Kind {
    /// Both kinds, as the API names them.
    pub const NAMES: [&'static str; 2] = ["morning", "evening"];

    /// The API and database word.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Morning => "morning",
            Kind::Evening => "evening",
        }
    }

    /// `morning` or `evening`.
    pub fn parse(s: &str) -> Result<Kind, DomainError> {
        match s {
            "morning" => Ok(Kind::Morning),
            "evening" => Ok(Kind::Evening),
            _ => Err(DomainError::invalid("kind", "morning or evening")),
        }
    }

    /// The Chinese title word: 早报 / 晚报.
    pub fn zh(self) -> &'static str {
        match self {
            Kind::Morning => "早报",
            Kind::Evening => "晚报",
        }
    }
}

/// The two times of day, in minutes after local midnight, morning before evening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    morning: u32,
    evening: u32,
}

impl Default for Times {
    /// 08:00 and 18:00.
    fn default() -> Self {
        Times {
            morning: 8 * 60,
            evening: 18 * 60,
        }
    }
}

/// `HH:MM` as minutes after midnight.
fn parse_hh_mm(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl Times {
    /// Two `HH:MM` times, the morning one first and earlier.
    pub fn parse(times: &[String]) -> Result<Times, DomainError> {
        let bad = || {
            DomainError::invalid(
                "briefing_times",
                "two times of day, HH:MM, the morning one first",
            )
        };
        let [m, e] = times else { return Err(bad()) };
        let (morning, evening) = (
            parse_hh_mm(m).ok_or_else(bad)?,
            parse_hh_mm(e).ok_or_else(bad)?,
        );
        if morning >= evening {
            return Err(bad());
        }
        Ok(Times { morning, evening })
    }

    /// Minutes after midnight of a kind's time.
    pub fn minute_of(self, kind: Kind) -> u32 {
        match kind {
            Kind::Morning => self.morning,
            Kind::Evening => self.evening,
        }
    }

    /// The period of the briefing of `kind` on `day`.
    pub fn period(self, kind: Kind, day: NaiveDate) -> Period {
        let (from, to) = match kind {
            Kind::Morning => (
                local_ms(day - Duration::days(1), self.evening),
                local_ms(day, self.morning),
            ),
            Kind::Evening => (local_ms(day, self.morning), local_ms(day, self.evening)),
        };
        Period {
            kind,
            day,
            from_ms: from,
            to_ms: to,
        }
    }

    /// The latest briefing (of `kind`, or of either) whose time is at or before `at`: the one
    /// a centre reads at that moment.
    pub fn latest(self, at: i64, kind: Option<Kind>) -> Period {
        let day = local_date(at);
        let minute = (at - local_ms(day, 0)) / 60_000;
        let passed = |k: Kind| minute >= i64::from(self.minute_of(k));
        let yesterday = day - Duration::days(1);
        match kind {
            Some(k) if passed(k) => self.period(k, day),
            Some(k) => self.period(k, yesterday),
            None if passed(Kind::Evening) => self.period(Kind::Evening, day),
            None if passed(Kind::Morning) => self.period(Kind::Morning, day),
            None => self.period(Kind::Evening, yesterday),
        }
    }
}

/// What a briefing covers: `[from_ms, to_ms)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub kind: Kind,
    /// The day it is the briefing of (China time).
    pub day: NaiveDate,
    pub from_ms: i64,
    pub to_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn at(y: i32, m: u32, day: u32, h: u32, min: u32) -> i64 {
        local_ms(d(y, m, day), h * 60 + min)
    }

    #[test]
    fn times_parse_two_ordered_clock_times() {
        let t = Times::parse(&["08:00".into(), "18:30".into()]).unwrap();
        assert_eq!(
            (t.minute_of(Kind::Morning), t.minute_of(Kind::Evening)),
            (480, 1110)
        );
        for bad in [
            vec!["18:00".to_owned(), "08:00".to_owned()],
            vec!["08:00".to_owned()],
            vec!["8".to_owned(), "18:00".to_owned()],
            vec!["24:00".to_owned(), "18:00".to_owned()],
            vec!["08:00".to_owned(), "18:00".to_owned(), "20:00".to_owned()],
        ] {
            assert!(Times::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_periods_tile_the_days() {
        let t = Times::default();
        let m = t.period(Kind::Morning, d(2026, 9, 9));
        let e = t.period(Kind::Evening, d(2026, 9, 9));
        let prev = t.period(Kind::Evening, d(2026, 9, 8));
        assert_eq!(m.from_ms, prev.to_ms);
        assert_eq!(m.to_ms, e.from_ms);
        assert_eq!(m.from_ms, at(2026, 9, 8, 18, 0));
        assert_eq!(e.to_ms, at(2026, 9, 9, 18, 0));
    }

    #[test]
    fn a_moment_falls_to_the_latest_briefing_due() {
        let t = Times::default();
        let cases = [
            (at(2026, 9, 9, 7, 59), None, Kind::Evening, d(2026, 9, 8)),
            (at(2026, 9, 9, 8, 0), None, Kind::Morning, d(2026, 9, 9)),
            (at(2026, 9, 9, 17, 59), None, Kind::Morning, d(2026, 9, 9)),
            (at(2026, 9, 9, 18, 0), None, Kind::Evening, d(2026, 9, 9)),
            (
                at(2026, 9, 9, 7, 0),
                Some(Kind::Morning),
                Kind::Morning,
                d(2026, 9, 8),
            ),
            (
                at(2026, 9, 9, 19, 0),
                Some(Kind::Morning),
                Kind::Morning,
                d(2026, 9, 9),
            ),
            (
                at(2026, 9, 9, 12, 0),
                Some(Kind::Evening),
                Kind::Evening,
                d(2026, 9, 8),
            ),
        ];
        for (when, kind, want_kind, want_day) in cases {
            let p = t.latest(when, kind);
            assert_eq!((p.kind, p.day), (want_kind, want_day), "{when} {kind:?}");
            assert!(p.to_ms <= when);
        }
    }
}
