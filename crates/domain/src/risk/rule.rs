//! The rules that raise risk clues (风险预警规则), configured by administrators: what each kind
//! watches, its parameters, and the window a raised clue covers so that one window never
//! raises the same clue twice.

use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{json, Value};

use crate::DomainError;

/// Longest window a rule may look back over.
pub const MAX_DAYS: u32 = 366;

/// What a rule watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleKind {
    /// ≥ `min_events` events of one category in one grid within `days` days.
    CategoryBurst {
        category_id: i64,
        min_events: u32,
        days: u32,
    },
    /// A dispute taken in with ≥ `min_parties` parties, or (when `violence`) a violence flag.
    DisputeFlags { min_parties: u32, violence: bool },
    /// The same person reports ≥ `min_reports` times within `days` days.
    RepeatReporter { min_reports: u32, days: u32 },
    /// Disputes of one type in a region rising: ≥ `min_cases` within `days` days and at least
    /// `rise_percent` % more than the `days` before; when `before_spring_festival` is set, only
    /// in that many days before the Spring Festival (e.g. unpaid wages before 春节).
    DisputeRise {
        type_code: String,
        days: u32,
        min_cases: u32,
        rise_percent: u32,
        before_spring_festival: Option<u32>,
    },
}

impl RuleKind {
    /// Every kind's name.
    pub const NAMES: [&'static str; 4] = [
        "category_burst",
        "dispute_flags",
        "repeat_reporter",
        "dispute_rise",
    ];

    /// The stored and JSON name.
    pub fn name(&self) -> &'static str {
        match self {
            RuleKind::CategoryBurst { .. } => "category_burst",
            RuleKind::DisputeFlags { .. } => "dispute_flags",
            RuleKind::RepeatReporter { .. } => "repeat_reporter",
            RuleKind::DisputeRise { .. } => "dispute_rise",
        }
    }

    /// Parses a kind and its parameters (`{"category_id": 3, "min_events": 5, "days": 3}`…).
    pub fn parse(kind: &str, params: &Value) -> Result<RuleKind, DomainError> {
        let bad = |field: &str, reason: &str| DomainError::Invalid {
            field: format!("params.{field}"),
            reason: reason.to_owned(),
        };
        let count = |field: &str, max: u64| -> Result<u32, DomainError> {
            match params.get(field).and_then(Value::as_u64) {
                Some(n) if n >= 1 && n <= max => Ok(n as u32),
                Some(_) => Err(bad(field, &format!("must be between 1 and {max}"))),
                None => Err(bad(field, "a whole number is required")),
            }
        };
        let days = || count("days", u64::from(MAX_DAYS));
        Ok(match kind {
            "category_burst" => RuleKind::CategoryBurst {
                category_id: params
                    .get("category_id")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| bad("category_id", "a category id is required"))?,
                min_events: count("min_events", 100_000)?,
                days: days()?,
            },
            "dispute_flags" => {
                let violence = match params.get("violence") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(bad("violence", "true or false")),
                };
                let min_parties = match params.get("min_parties") {
                    None | Some(Value::Null) => 0,
                    Some(_) => count("min_parties", 10_000)?,
                };
                if min_parties == 0 && !violence {
                    return Err(bad("min_parties", "give min_parties, violence or both"));
                }
                RuleKind::DisputeFlags {
                    min_parties,
                    violence,
                }
            }
            "repeat_reporter" => RuleKind::RepeatReporter {
                min_reports: count("min_reports", 10_000)?,
                days: days()?,
            },
            "dispute_rise" => RuleKind::DisputeRise {
                type_code: params
                    .get("type_code")
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty() && s.len() <= 64)
                    .ok_or_else(|| bad("type_code", "a dispute type code is required"))?
                    .to_owned(),
                days: days()?,
                min_cases: count("min_cases", 100_000)?,
                rise_percent: match params.get("rise_percent") {
                    None | Some(Value::Null) => 0,
                    Some(v) => match v.as_u64() {
                        Some(n) if n <= 10_000 => n as u32,
                        _ => return Err(bad("rise_percent", "between 0 and 10000")),
                    },
                },
                before_spring_festival: match params.get("before_spring_festival") {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(count("before_spring_festival", 90)?),
                },
            },
            _ => {
                return Err(DomainError::Invalid {
                    field: "kind".into(),
                    reason: format!("one of {}", RuleKind::NAMES.join(", ")),
                })
            }
        })
    }

    /// The parameters as stored and answered.
    pub fn params(&self) -> Value {
        match self {
            RuleKind::CategoryBurst {
                category_id,
                min_events,
                days,
            } => json!({"category_id": category_id, "min_events": min_events, "days": days}),
            RuleKind::DisputeFlags {
                min_parties,
                violence,
            } => {
                json!({"min_parties": (*min_parties > 0).then_some(*min_parties), "violence": violence})
            }
            RuleKind::RepeatReporter { min_reports, days } => {
                json!({"min_reports": min_reports, "days": days})
            }
            RuleKind::DisputeRise {
                type_code,
                days,
                min_cases,
                rise_percent,
                before_spring_festival,
            } => json!({
                "type_code": type_code, "days": days, "min_cases": min_cases,
                "rise_percent": rise_percent, "before_spring_festival": before_spring_festival,
            }),
        }
    }
}

/// The window of days a clue raised on `today` by a rule looking back `days` days covers:
/// `[today − days + 1, today]`. A rule raises a second clue for the same subject only once
/// the new window no longer overlaps the last one ([`may_raise`]), so one burst is one clue.
pub fn window(today: NaiveDate, days: u32) -> (NaiveDate, NaiveDate) {
    let back = i64::from(days.max(1)) - 1;
    (today - Duration::days(back), today)
}

/// May a new window `(start, _)` raise a clue when the last clue of the same rule and subject
/// covered up to `last_end`?
pub fn may_raise(last_end: Option<NaiveDate>, start: NaiveDate) -> bool {
    last_end.is_none_or(|end| end < start)
}

/// Does a dispute with these flags hit a [`RuleKind::DisputeFlags`] rule?
pub fn dispute_hits(min_parties: u32, violence: bool, parties: u32, has_violence: bool) -> bool {
    (min_parties > 0 && parties >= min_parties) || (violence && has_violence)
}

/// Does a count of `now` against `before` in the previous window hit a rising rule?
pub fn rise_hits(now: u64, before: u64, min_cases: u32, rise_percent: u32) -> bool {
    now >= u64::from(min_cases) && now * 100 >= before * (100 + u64::from(rise_percent))
}

/// The first day of the Spring Festival (春节, lunar new year) of a Gregorian year, for the
/// years a deployment of today meets.
pub fn spring_festival(year: i32) -> Option<NaiveDate> {
    let (m, d) = match year {
        2024 => (2, 10),
        2025 => (1, 29),
        2026 => (2, 17),
        2027 => (2, 6),
        2028 => (1, 26),
        2029 => (2, 13),
        2030 => (2, 3),
        2031 => (1, 23),
        2032 => (2, 11),
        2033 => (1, 31),
        2034 => (2, 19),
        2035 => (2, 8),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, m, d)
}

/// Is `today` within `days` days before the next Spring Festival?
pub fn before_spring_festival(today: NaiveDate, days: u32) -> bool {
    [today.year(), today.year() + 1]
        .into_iter()
        .filter_map(spring_festival)
        .any(|sf| sf > today && (sf - today).num_days() <= i64::from(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn each_kind_parses_and_round_trips() {
        let cases = [
            (
                "category_burst",
                json!({"category_id": 3, "min_events": 5, "days": 3}),
            ),
            (
                "dispute_flags",
                json!({"min_parties": 10, "violence": true}),
            ),
            ("repeat_reporter", json!({"min_reports": 4, "days": 7})),
            (
                "dispute_rise",
                json!({"type_code": "wages", "days": 30, "min_cases": 3, "rise_percent": 50, "before_spring_festival": 30}),
            ),
        ];
        for (kind, params) in cases {
            let k = RuleKind::parse(kind, &params).unwrap();
            assert_eq!(k.name(), kind);
            assert_eq!(RuleKind::parse(kind, &k.params()).unwrap(), k);
        }
    }

    #[test]
    fn bad_parameters_name_their_field() {
        let bad = [
            (
                "category_burst",
                json!({"min_events": 5, "days": 3}),
                "params.category_id",
            ),
            (
                "category_burst",
                json!({"category_id": 1, "min_events": 0, "days": 3}),
                "params.min_events",
            ),
            (
                "category_burst",
                json!({"category_id": 1, "min_events": 2, "days": 400}),
                "params.days",
            ),
            ("dispute_flags", json!({}), "params.min_parties"),
            (
                "dispute_flags",
                json!({"violence": "yes"}),
                "params.violence",
            ),
            (
                "dispute_rise",
                json!({"days": 3, "min_cases": 1}),
                "params.type_code",
            ),
            ("weather", json!({}), "kind"),
        ];
        for (kind, params, field) in bad {
            match RuleKind::parse(kind, &params) {
                Err(DomainError::Invalid { field: f, .. }) => {
                    assert_eq!(f, field, "{kind} {params}")
                }
                other => panic!("{kind} {params}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_burst_raises_once_per_window() {
        let (start, end) = window(date(2026, 9, 10), 3);
        assert_eq!((start, end), (date(2026, 9, 8), date(2026, 9, 10)));
        assert!(may_raise(None, start));
        // The next days' windows overlap the first one: no second clue.
        for d in 11..=12 {
            assert!(!may_raise(Some(end), window(date(2026, 9, d), 3).0));
        }
        assert!(may_raise(Some(end), window(date(2026, 9, 13), 3).0));
    }

    #[test]
    fn disputes_and_rises_hit_as_configured() {
        assert!(dispute_hits(10, false, 12, false));
        assert!(!dispute_hits(10, false, 3, true));
        assert!(dispute_hits(0, true, 2, true));
        assert!(!dispute_hits(0, true, 2, false));
        assert!(rise_hits(6, 4, 3, 50));
        assert!(!rise_hits(5, 4, 3, 50));
        assert!(!rise_hits(2, 0, 3, 50));
        assert!(rise_hits(3, 0, 3, 50));
    }

    #[test]
    fn the_month_before_spring_festival() {
        // 春节 2027 falls on 6 February.
        assert!(before_spring_festival(date(2027, 1, 10), 30));
        assert!(!before_spring_festival(date(2026, 12, 20), 30));
        assert!(!before_spring_festival(date(2027, 2, 6), 30));
        assert!(before_spring_festival(date(2026, 12, 20), 60));
    }
}
