//! The working-time calendar shared by every deadline (work orders, dispute cases…): which
//! days are worked, the working periods of a day, and arithmetic in working minutes.
//!
//! Pure: every instant comes in as unix milliseconds (UTC) and is read in China's single
//! time zone, UTC+8 with no daylight saving.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;
use serde_json::{json, Value};

use crate::DomainError;

/// UTC+8 in milliseconds; the same as `chrono::FixedOffset::east_opt(8 * 3600)`, applied as
/// plain arithmetic so no conversion can fail.
const OFFSET_MS: i64 = 8 * 3_600_000;
const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;
/// `NaiveDate::num_days_from_ce` of 1970-01-01.
const EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// The most days any calculation here walks; bounds the work for calendars with long
/// stretches without a working day (and for absurd inputs).
pub const MAX_WALK_DAYS: i64 = 3_660;

/// Default working periods in minutes after local midnight: 08:30–12:00 and 14:00–17:30.
pub const DEFAULT_PERIODS: [(u32, u32); 2] = [(8 * 60 + 30, 12 * 60), (14 * 60, 17 * 60 + 30)];

/// The local (UTC+8) calendar date of an instant; clamped to chrono's date range.
pub fn local_date(ms: i64) -> NaiveDate {
    let days = ms.saturating_add(OFFSET_MS).div_euclid(DAY_MS);
    i32::try_from(days)
        .ok()
        .and_then(|d| d.checked_add(EPOCH_DAYS_FROM_CE))
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(if days < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

/// The instant (unix ms) of `minute_of_day` minutes after local (UTC+8) midnight of `date`.
pub fn local_ms(date: NaiveDate, minute_of_day: u32) -> i64 {
    let days = i64::from(date.num_days_from_ce() - EPOCH_DAYS_FROM_CE);
    days * DAY_MS + i64::from(minute_of_day) * MINUTE_MS - OFFSET_MS
}

/// Traffic-light state of a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    /// Comfortably within time.
    Green,
    /// In the last share of the working time allowed.
    Yellow,
    /// Due or overdue.
    Red,
}

/// Which days are worked and when: public holidays, make-up working days (调休) and the
/// daily working periods. Built through [`WorkCalendar::new`], [`WorkCalendar::from_json`]
/// or [`WorkCalendar::china_default`], so its invariants always hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
    periods: Vec<(u32, u32)>,
}

impl WorkCalendar {
    /// A calendar from its parts. `periods` are minutes after local midnight; each must have
    /// start < end ≤ 24:00, sorted and non-overlapping, at least one. No date may be both a
    /// holiday and a workday.
    pub fn new(
        holidays: BTreeSet<NaiveDate>,
        workdays: BTreeSet<NaiveDate>,
        periods: Vec<(u32, u32)>,
    ) -> Result<Self, DomainError> {
        if let Some(both) = holidays.intersection(&workdays).next() {
            return Err(DomainError::invalid(
                "workdays",
                format!("{both} is also a holiday"),
            ));
        }
        if periods.is_empty() {
            return Err(DomainError::invalid(
                "periods",
                "at least one working period is needed",
            ));
        }
        let mut previous_end = 0;
        for &(start, end) in &periods {
            let shown = format!("{}–{}", hhmm(start), hhmm(end));
            if start >= end || end > 24 * 60 {
                let reason = format!("{shown}: start must be before end, within the day");
                return Err(DomainError::invalid("periods", reason));
            }
            if start < previous_end {
                let reason = format!("{shown}: periods must be sorted and must not overlap");
                return Err(DomainError::invalid("periods", reason));
            }
            previous_end = end;
        }
        Ok(WorkCalendar {
            holidays,
            workdays,
            periods,
        })
    }

    /// China's official State Council holiday arrangements (国务院办公厅放假安排) for 2025
    /// and 2026, with the default working periods.
    ///
    /// This is only a default: the calendar is configurable and administrators can replace
    /// it (see [`WorkCalendar::from_json`]). Check it against the notice published each year
    /// and add the following year's arrangement when it appears.
    pub fn china_default() -> Self {
        // (year, month, first day, number of consecutive days off)
        const HOLIDAYS: &[(i32, u32, u32, usize)] = &[
            (2025, 1, 1, 1),  // 元旦
            (2025, 1, 28, 8), // 春节 Jan 28 – Feb 4
            (2025, 4, 4, 3),  // 清明
            (2025, 5, 1, 5),  // 劳动节
            (2025, 5, 31, 3), // 端午 May 31 – Jun 2
            (2025, 10, 1, 8), // 国庆、中秋
            (2026, 1, 1, 3),  // 元旦
            (2026, 2, 15, 9), // 春节 Feb 15 – 23
            (2026, 4, 4, 3),  // 清明
            (2026, 5, 1, 5),  // 劳动节
            (2026, 6, 19, 3), // 端午
            (2026, 9, 25, 3), // 中秋
            (2026, 10, 1, 7), // 国庆
        ];
        // Make-up working days (调休), each on a Saturday or Sunday.
        const WORKDAYS: &[(i32, u32, u32)] = &[
            (2025, 1, 26),
            (2025, 2, 8),
            (2025, 4, 27),
            (2025, 9, 28),
            (2025, 10, 11),
            (2026, 1, 4),
            (2026, 2, 14),
            (2026, 2, 28),
            (2026, 5, 9),
            (2026, 9, 20),
            (2026, 10, 10),
        ];
        let holidays = HOLIDAYS
            .iter()
            .filter_map(|&(y, m, d, n)| NaiveDate::from_ymd_opt(y, m, d).map(|first| (first, n)))
            .flat_map(|(first, n)| first.iter_days().take(n))
            .collect();
        let workdays = WORKDAYS
            .iter()
            .filter_map(|&(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
            .collect();
        WorkCalendar {
            holidays,
            workdays,
            periods: DEFAULT_PERIODS.to_vec(),
        }
    }

    /// Reads `{"holidays": ["2026-10-01", ...], "workdays": ["2026-10-10", ...],
    /// "periods": [["08:30","12:00"], ["14:00","17:30"]]}`. A missing `holidays` or
    /// `workdays` means none; a missing `periods` means [`DEFAULT_PERIODS`]. Unknown keys
    /// are refused so a misspelt key is not silently ignored.
    pub fn from_json(value: &Value) -> Result<Self, DomainError> {
        let not_object = || DomainError::invalid("calendar", "must be a JSON object");
        let object = value.as_object().ok_or_else(not_object)?;
        let known = |k: &&String| matches!(k.as_str(), "holidays" | "workdays" | "periods");
        if let Some(key) = object.keys().find(|k| !known(k)) {
            return Err(DomainError::invalid(key.as_str(), "unknown field"));
        }
        let holidays = parse_dates(object.get("holidays"), "holidays")?;
        let workdays = parse_dates(object.get("workdays"), "workdays")?;
        let periods = match object.get("periods") {
            None => DEFAULT_PERIODS.to_vec(),
            Some(v) => parse_periods(v)?,
        };
        Self::new(holidays, workdays, periods)
    }

    /// The calendar in the shape [`WorkCalendar::from_json`] reads.
    pub fn to_json(&self) -> Value {
        let dates =
            |set: &BTreeSet<NaiveDate>| set.iter().map(|d| d.to_string()).collect::<Vec<_>>();
        let periods: Vec<[String; 2]> = self
            .periods
            .iter()
            .map(|&(s, e)| [hhmm(s), hhmm(e)])
            .collect();
        json!({ "holidays": dates(&self.holidays), "workdays": dates(&self.workdays), "periods": periods })
    }

    /// Public holidays: days off even on a weekday.
    pub fn holidays(&self) -> &BTreeSet<NaiveDate> {
        &self.holidays
    }

    /// Make-up working days: worked even on a Saturday or Sunday.
    pub fn workdays(&self) -> &BTreeSet<NaiveDate> {
        &self.workdays
    }

    /// Working periods of a working day, in minutes after local midnight, sorted.
    pub fn periods(&self) -> &[(u32, u32)] {
        &self.periods
    }

    /// Whether `date` is worked: a make-up working day, or Monday–Friday and not a holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.workdays.contains(&date)
            || (!matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
                && !self.holidays.contains(&date))
    }

    /// The working periods of `date` as `[start, end)` instants; empty on a day off.
    fn day_periods(&self, date: NaiveDate) -> impl Iterator<Item = (i64, i64)> + '_ {
        let midnight = local_ms(date, 0);
        let periods: &[(u32, u32)] = if self.is_working_day(date) {
            &self.periods
        } else {
            &[]
        };
        let instant = move |minute: u32| midnight + i64::from(minute) * MINUTE_MS;
        periods.iter().map(move |&(s, e)| (instant(s), instant(e)))
    }

    /// The instant at which `minutes` of working time have elapsed after `start_ms`. If the
    /// start is outside working time, counting begins at the next working period. A deadline
    /// ending exactly at the close of a period is that closing instant. `minutes <= 0`
    /// returns `start_ms` unchanged.
    ///
    /// The walk stops after [`MAX_WALK_DAYS`] days: if the time is still not used up (a
    /// calendar with no working day for years), the instant reached, local midnight after
    /// the last day walked, is returned.
    pub fn add_working_minutes(&self, start_ms: i64, minutes: i64) -> i64 {
        if minutes <= 0 {
            return start_ms;
        }
        let mut remaining = minutes.saturating_mul(MINUTE_MS);
        let mut pos = start_ms;
        let mut date = local_date(start_ms);
        for _ in 0..MAX_WALK_DAYS {
            for (period_start, period_end) in self.day_periods(date) {
                let from = pos.max(period_start);
                if from >= period_end {
                    continue;
                }
                if remaining <= period_end - from {
                    return from + remaining;
                }
                remaining -= period_end - from;
                pos = period_end;
            }
            match date.succ_opt() {
                Some(next) => {
                    date = next;
                    pos = pos.max(local_ms(date, 0));
                }
                None => return pos,
            }
        }
        pos
    }

    /// Whole working minutes in `[from_ms, to_ms)`; 0 if `to_ms <= from_ms`. Walks day by
    /// day; a span longer than [`MAX_WALK_DAYS`] days is counted only that far.
    pub fn working_minutes_between(&self, from_ms: i64, to_ms: i64) -> i64 {
        if to_ms <= from_ms {
            return 0;
        }
        let last = local_date(to_ms);
        let mut date = local_date(from_ms);
        let mut total_ms = 0;
        for _ in 0..=MAX_WALK_DAYS {
            for (period_start, period_end) in self.day_periods(date) {
                let (a, b) = (from_ms.max(period_start), to_ms.min(period_end));
                if b > a {
                    total_ms += b - a;
                }
            }
            match date.succ_opt() {
                Some(next) if date < last => date = next,
                _ => break,
            }
        }
        total_ms / MINUTE_MS
    }

    /// Working minutes in one full working day (the sum of the daily periods).
    pub fn minutes_per_day(&self) -> i64 {
        self.periods.iter().map(|&(s, e)| i64::from(e - s)).sum()
    }

    /// The instant at which `days` full working days have elapsed after `start_ms`, counted
    /// in working time: a clock started mid-morning ends mid-morning of its last day.
    pub fn add_working_days(&self, start_ms: i64, days: i64) -> i64 {
        self.add_working_minutes(start_ms, days.saturating_mul(self.minutes_per_day()))
    }

    /// When the light of a clock running from `start_ms` to `due_ms` turns yellow: after the
    /// working time except the last `yellow_share` of it (see [`WorkCalendar::light`]).
    pub fn yellow_at(&self, start_ms: i64, due_ms: i64, yellow_share: f64) -> i64 {
        let total = self.working_minutes_between(start_ms, due_ms);
        let green = total - (total as f64 * yellow_share).floor() as i64;
        self.add_working_minutes(start_ms, green)
    }

    /// The traffic light of a deadline at `now_ms`: Red once `now_ms >= due_ms`; Yellow when
    /// the working time left is at most `yellow_share` (e.g. 0.2 = the last 20%) of the
    /// working time from `started_ms` to `due_ms`; Green otherwise (also for a NaN share).
    pub fn light(&self, started_ms: i64, due_ms: i64, now_ms: i64, yellow_share: f64) -> Light {
        if now_ms >= due_ms {
            return Light::Red;
        }
        let left = self.working_minutes_between(now_ms, due_ms) as f64;
        let allowed = self.working_minutes_between(started_ms, due_ms) as f64;
        if left <= yellow_share * allowed {
            Light::Yellow
        } else {
            Light::Green
        }
    }
}

/// `HH:MM` for minutes after midnight.
fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Minutes after midnight from strict `HH:MM` (00:00 to 24:00).
fn parse_hhmm(text: &str) -> Option<u32> {
    let b = text.as_bytes();
    let digit = |i: usize| {
        b.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| u32::from(c - b'0'))
    };
    if b.len() != 5 || b[2] != b':' {
        return None;
    }
    let (hours, minutes) = (digit(0)? * 10 + digit(1)?, digit(3)? * 10 + digit(4)?);
    let total = hours * 60 + minutes;
    (minutes < 60 && total <= 24 * 60).then_some(total)
}

/// A set of ISO dates (`YYYY-MM-DD`) from an optional JSON array.
fn parse_dates(value: Option<&Value>, field: &str) -> Result<BTreeSet<NaiveDate>, DomainError> {
    let Some(value) = value else {
        return Ok(BTreeSet::new());
    };
    let items = value
        .as_array()
        .ok_or_else(|| DomainError::invalid(field, "must be an array of dates"))?;
    items
        .iter()
        .map(|item| {
            let not_string = || DomainError::invalid(field, format!("{item} is not a string"));
            let text = item.as_str().ok_or_else(not_string)?;
            text.parse::<NaiveDate>()
                .ok()
                .filter(|_| text.len() == 10)
                .ok_or_else(|| {
                    DomainError::invalid(field, format!("{text:?} is not a date (YYYY-MM-DD)"))
                })
        })
        .collect()
}

/// Working periods from a JSON array of `["HH:MM", "HH:MM"]` pairs (order checked by `new`).
fn parse_periods(value: &Value) -> Result<Vec<(u32, u32)>, DomainError> {
    let bad = || {
        DomainError::invalid(
            "periods",
            "must be an array of [\"HH:MM\", \"HH:MM\"] pairs",
        )
    };
    let items = value.as_array().ok_or_else(bad)?;
    items
        .iter()
        .map(|item| match item.as_array().map(Vec::as_slice) {
            Some([start, end]) => {
                let time = |v: &Value| {
                    let reason =
                        || DomainError::invalid("periods", format!("{v} is not a time (HH:MM)"));
                    v.as_str().and_then(parse_hhmm).ok_or_else(reason)
                };
                Ok((time(start)?, time(end)?))
            }
            _ => Err(bad()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    /// Local (UTC+8) wall-clock time as unix ms.
    fn at(y: i32, m: u32, d: u32, hour: u32, minute: u32) -> i64 {
        local_ms(day(y, m, d), hour * 60 + minute)
    }

    #[test]
    fn local_time_is_utc_plus_eight() {
        // 2026-01-01T00:00+08:00 is 2025-12-31T16:00Z.
        assert_eq!(local_ms(day(2026, 1, 1), 0), 1_767_196_800_000);
        assert_eq!(local_date(1_767_196_800_000), day(2026, 1, 1));
        assert_eq!(local_date(1_767_196_800_000 - 1), day(2025, 12, 31));
        assert_eq!(local_date(i64::MAX), NaiveDate::MAX);
        assert_eq!(local_date(i64::MIN), NaiveDate::MIN);
    }

    #[test]
    fn make_up_days_are_weekends_and_holidays_are_days_off() {
        let cal = WorkCalendar::china_default();
        assert_eq!(cal.workdays().len(), 11);
        assert!(cal
            .workdays()
            .iter()
            .all(|d| matches!(d.weekday(), Weekday::Sat | Weekday::Sun)));
        assert_eq!(cal.holidays().len(), 28 + 33);
        assert!(!cal.is_working_day(day(2025, 2, 4)));
        assert!(cal.is_working_day(day(2025, 2, 8)));
        assert!(!cal.is_working_day(day(2026, 10, 5)));
        assert!(!cal.is_working_day(day(2026, 3, 14)));
        assert!(cal.is_working_day(day(2026, 3, 16)));
    }

    #[test]
    fn a_deadline_that_would_land_on_national_day_moves_past_it() {
        let cal = WorkCalendar::china_default();
        // 16:00–17:30 on Sep 30 is 1.5 h; Oct 1–7 off; Oct 8: 08:30–12:00 and 14:00–16:00.
        assert_eq!(
            cal.add_working_minutes(at(2026, 9, 30, 16, 0), 7 * 60),
            at(2026, 10, 8, 16, 0)
        );
    }

    #[test]
    fn a_make_up_saturday_counts_as_a_working_day() {
        let cal = WorkCalendar::china_default();
        assert_eq!(
            cal.add_working_minutes(at(2026, 10, 9, 17, 0), 60),
            at(2026, 10, 10, 9, 0)
        );
    }

    #[test]
    fn an_ordinary_weekend_is_skipped() {
        let cal = WorkCalendar::china_default();
        assert_eq!(
            cal.add_working_minutes(at(2026, 3, 13, 17, 0), 60),
            at(2026, 3, 16, 9, 0)
        );
    }

    #[test]
    fn the_lunch_break_is_skipped() {
        let cal = WorkCalendar::china_default();
        assert_eq!(
            cal.add_working_minutes(at(2026, 3, 12, 11, 30), 60),
            at(2026, 3, 12, 14, 30)
        );
    }

    #[test]
    fn a_start_outside_working_hours_begins_at_the_next_period() {
        let cal = WorkCalendar::china_default();
        assert_eq!(
            cal.add_working_minutes(at(2026, 3, 12, 6, 0), 30),
            at(2026, 3, 12, 9, 0)
        );
        assert_eq!(
            cal.add_working_minutes(at(2026, 3, 12, 12, 30), 30),
            at(2026, 3, 12, 14, 30)
        );
        assert_eq!(
            cal.add_working_minutes(at(2026, 3, 12, 20, 0), 30),
            at(2026, 3, 13, 9, 0)
        );
    }

    #[test]
    fn a_deadline_may_end_exactly_at_closing_time_and_zero_minutes_change_nothing() {
        let cal = WorkCalendar::china_default();
        assert_eq!(
            cal.add_working_minutes(at(2026, 3, 13, 14, 0), 210),
            at(2026, 3, 13, 17, 30)
        );
        assert_eq!(
            cal.add_working_minutes(at(2026, 3, 14, 3, 0), 0),
            at(2026, 3, 14, 3, 0)
        );
        assert_eq!(
            cal.add_working_minutes(at(2026, 3, 14, 3, 0), -5),
            at(2026, 3, 14, 3, 0)
        );
    }

    #[test]
    fn working_minutes_between_inverts_add_working_minutes() {
        let cal = WorkCalendar::china_default();
        let mut start = at(2025, 12, 20, 7, 13) + 17_000;
        for i in 0..60_i64 {
            let minutes = (i * 7919) % 6000 + 1;
            let due = cal.add_working_minutes(start, minutes);
            assert_eq!(
                cal.working_minutes_between(start, due),
                minutes,
                "start {start}, minutes {minutes}"
            );
            assert_eq!(cal.working_minutes_between(due, start), 0);
            start += 5 * DAY_MS + 3 * 3_600_000 + 41 * MINUTE_MS;
        }
        // A whole ordinary working week is 5 × 7 h.
        assert_eq!(
            cal.working_minutes_between(at(2026, 3, 16, 0, 0), at(2026, 3, 23, 0, 0)),
            5 * 420
        );
    }

    #[test]
    fn a_calendar_without_working_days_still_terminates() {
        let first = day(2030, 1, 1);
        let holidays = first.iter_days().take(4000).collect();
        let cal =
            WorkCalendar::new(holidays, BTreeSet::new(), DEFAULT_PERIODS.to_vec()).expect("valid");
        let start = local_ms(first, 0);
        assert_eq!(
            cal.add_working_minutes(start, 60),
            start + MAX_WALK_DAYS * DAY_MS
        );
        assert_eq!(cal.working_minutes_between(start, start + 3000 * DAY_MS), 0);
    }

    #[test]
    fn the_light_turns_yellow_in_the_last_share_and_red_at_the_deadline() {
        let cal = WorkCalendar::china_default();
        let started = at(2026, 3, 16, 8, 30);
        let due = cal.add_working_minutes(started, 700);
        let after = |m| cal.add_working_minutes(started, m);
        assert_eq!(cal.light(started, due, started, 0.2), Light::Green);
        assert_eq!(cal.light(started, due, after(559), 0.2), Light::Green);
        assert_eq!(cal.light(started, due, after(560), 0.2), Light::Yellow);
        assert_eq!(cal.light(started, due, due - 1, 0.2), Light::Yellow);
        assert_eq!(cal.light(started, due, due, 0.2), Light::Red);
        assert_eq!(cal.light(started, due, due + DAY_MS, 0.2), Light::Red);
        assert_eq!(
            serde_json::to_value(Light::Yellow).ok(),
            Some(json!("yellow"))
        );
    }

    #[test]
    fn from_json_rejects_bad_input_naming_the_field() {
        let field_of = |v: Value| match WorkCalendar::from_json(&v) {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        };
        assert_eq!(field_of(json!({"holidays": ["2026-02-30"]})), "holidays");
        assert_eq!(field_of(json!({"holidays": ["2026-1-01"]})), "holidays");
        assert_eq!(field_of(json!({"workdays": [20261010]})), "workdays");
        assert_eq!(
            field_of(json!({"periods": [["08:30", "12:00"], ["11:00", "17:30"]]})),
            "periods"
        );
        assert_eq!(
            field_of(json!({"periods": [["14:00", "17:30"], ["08:30", "12:00"]]})),
            "periods"
        );
        assert_eq!(
            field_of(json!({"periods": [["12:00", "08:30"]]})),
            "periods"
        );
        assert_eq!(field_of(json!({"periods": [["8:30", "12:00"]]})), "periods");
        assert_eq!(
            field_of(json!({"periods": [["08:30", "24:30"]]})),
            "periods"
        );
        assert_eq!(field_of(json!({"periods": []})), "periods");
        assert_eq!(
            field_of(json!({"holidays": ["2026-10-10"], "workdays": ["2026-10-10"]})),
            "workdays"
        );
        assert_eq!(field_of(json!({"holiday": []})), "holiday");
        assert_eq!(field_of(json!([])), "calendar");
    }

    #[test]
    fn from_json_round_trips_to_json() {
        let cal = WorkCalendar::china_default();
        assert_eq!(WorkCalendar::from_json(&cal.to_json()), Ok(cal.clone()));
        let json = cal.to_json();
        assert_eq!(
            json["periods"],
            json!([["08:30", "12:00"], ["14:00", "17:30"]])
        );
        assert_eq!(json["workdays"][0], json!("2025-01-26"));
        let empty = WorkCalendar::from_json(&json!({})).expect("all keys optional");
        assert_eq!(empty.periods(), &DEFAULT_PERIODS[..]);
    }

    #[test]
    fn working_days_are_whole_days_of_working_time_and_skip_days_off() {
        let cal = WorkCalendar::china_default();
        assert_eq!(cal.minutes_per_day(), 420);
        // Friday 2026-09-18 10:00 + 1 working day: Saturday 19 off, Sunday 20 a make-up day.
        assert_eq!(
            cal.add_working_days(at(2026, 9, 18, 10, 0), 1),
            at(2026, 9, 20, 10, 0)
        );
        // Thursday 2026-09-24 10:00 + 1: 中秋 Sep 25–27 off, back on Monday 28.
        assert_eq!(
            cal.add_working_days(at(2026, 9, 24, 10, 0), 1),
            at(2026, 9, 28, 10, 0)
        );
        assert_eq!(
            cal.add_working_days(at(2026, 9, 24, 10, 0), 0),
            at(2026, 9, 24, 10, 0)
        );
    }

    #[test]
    fn the_yellow_instant_leaves_the_last_share_of_working_time() {
        let cal = WorkCalendar::china_default();
        let start = at(2026, 3, 2, 8, 30);
        let due = cal.add_working_days(start, 5);
        let yellow = cal.yellow_at(start, due, 0.2);
        // Due at the close of Friday; yellow at the close of Thursday: one day of five left.
        assert_eq!(due, at(2026, 3, 6, 17, 30));
        assert_eq!(yellow, at(2026, 3, 5, 17, 30));
        assert_eq!(cal.light(start, due, yellow - 60_000, 0.2), Light::Green);
        assert_eq!(cal.light(start, due, yellow, 0.2), Light::Yellow);
    }
}
