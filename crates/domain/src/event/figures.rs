//! Figures of the closed loop as additive counters: every rate is Σ numerator / Σ denominator,
//! so a parent's figures are the sums of its children's and add up at every level.

use serde::Serialize;

use crate::tree::Level;

/// Counters kept per (node, day, dimension). All fields add.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub reported: i64,
    pub accepted: i64,
    pub dispatched: i64,
    pub returned: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    pub reopened: i64,
    pub rated: i64,
    pub rating_sum: i64,
    /// Ratings of 4 or 5.
    pub satisfied: i64,
    pub closed_village: i64,
    pub closed_town: i64,
    pub closed_county: i64,
    pub closed_city: i64,
    pub closed_province: i64,
    pub close_minutes_sum: i64,
}

/// Names of the counter columns, in [`Counters::values`] order.
pub const COUNTER_COLUMNS: [&str; 16] = [
    "reported",
    "accepted",
    "dispatched",
    "returned",
    "closed",
    "closed_on_time",
    "reopened",
    "rated",
    "rating_sum",
    "satisfied",
    "closed_village",
    "closed_town",
    "closed_county",
    "closed_city",
    "closed_province",
    "close_minutes_sum",
];

impl Counters {
    /// The values in [`COUNTER_COLUMNS`] order.
    pub fn values(&self) -> [i64; 16] {
        [
            self.reported,
            self.accepted,
            self.dispatched,
            self.returned,
            self.closed,
            self.closed_on_time,
            self.reopened,
            self.rated,
            self.rating_sum,
            self.satisfied,
            self.closed_village,
            self.closed_town,
            self.closed_county,
            self.closed_city,
            self.closed_province,
            self.close_minutes_sum,
        ]
    }

    /// Builds from values in [`COUNTER_COLUMNS`] order.
    pub fn from_values(v: [i64; 16]) -> Counters {
        Counters {
            reported: v[0],
            accepted: v[1],
            dispatched: v[2],
            returned: v[3],
            closed: v[4],
            closed_on_time: v[5],
            reopened: v[6],
            rated: v[7],
            rating_sum: v[8],
            satisfied: v[9],
            closed_village: v[10],
            closed_town: v[11],
            closed_county: v[12],
            closed_city: v[13],
            closed_province: v[14],
            close_minutes_sum: v[15],
        }
    }

    /// Adds another set of counters.
    pub fn add(&mut self, o: &Counters) {
        let (a, b) = (self.values(), o.values());
        let mut out = [0i64; 16];
        for i in 0..16 {
            out[i] = a[i] + b[i];
        }
        *self = Counters::from_values(out);
    }

    /// True if every counter is zero.
    pub fn is_zero(&self) -> bool {
        self.values().iter().all(|v| *v == 0)
    }

    /// Counts a closure at the level of the centre that held the order.
    pub fn close_at(&mut self, level: Level) {
        match level {
            Level::Province => self.closed_province += 1,
            Level::City => self.closed_city += 1,
            Level::County => self.closed_county += 1,
            Level::Town => self.closed_town += 1,
            _ => self.closed_village += 1,
        }
    }
}

/// A ratio kept as its parts, so that it can be added and shown honestly (None when 0/0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ratio {
    pub numerator: i64,
    pub denominator: i64,
    pub value: Option<f64>,
}

impl Ratio {
    /// numerator / denominator.
    pub fn of(numerator: i64, denominator: i64) -> Ratio {
        Ratio {
            numerator,
            denominator,
            value: if denominator == 0 {
                None
            } else {
                Some(numerator as f64 / denominator as f64)
            },
        }
    }
}

/// The derived figures of a set of counters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub counters: Counters,
    pub on_time_rate: Ratio,
    pub satisfaction_mean: Ratio,
    pub satisfaction_rate: Ratio,
    pub returns_per_dispatch: Ratio,
    pub reopen_rate: Ratio,
    pub share_village: Ratio,
    pub share_town: Ratio,
    pub share_county: Ratio,
    pub share_city: Ratio,
    pub share_province: Ratio,
    pub mean_close_minutes: Ratio,
}

impl Figures {
    /// Rates from counters: always Σ numerator / Σ denominator.
    pub fn from_counters(c: Counters) -> Figures {
        Figures {
            counters: c,
            on_time_rate: Ratio::of(c.closed_on_time, c.closed),
            satisfaction_mean: Ratio::of(c.rating_sum, c.rated),
            satisfaction_rate: Ratio::of(c.satisfied, c.rated),
            returns_per_dispatch: Ratio::of(c.returned, c.dispatched),
            reopen_rate: Ratio::of(c.reopened, c.closed),
            share_village: Ratio::of(c.closed_village, c.closed),
            share_town: Ratio::of(c.closed_town, c.closed),
            share_county: Ratio::of(c.closed_county, c.closed),
            share_city: Ratio::of(c.closed_city, c.closed),
            share_province: Ratio::of(c.closed_province, c.closed),
            mean_close_minutes: Ratio::of(c.close_minutes_sum, c.closed),
        }
    }
}

/// Histogram buckets of time to close grow by 10%: bucket `b` holds durations whose
/// `ln(minutes + 1) / ln(1.1)` floors to `b`, so a percentile read from it is within 10%.
pub fn close_bucket(minutes: i64) -> i64 {
    let m = minutes.max(0) as f64;
    ((m + 1.0).ln() / 1.1f64.ln()).floor() as i64
}

/// The representative duration of a bucket (its geometric middle), in minutes.
pub fn bucket_minutes(bucket: i64) -> f64 {
    let lo = 1.1f64.powi(bucket as i32) - 1.0;
    let hi = 1.1f64.powi(bucket as i32 + 1) - 1.0;
    ((lo + 1.0) * (hi + 1.0)).sqrt() - 1.0
}

/// The `q`-quantile (0..1) of a histogram given as sorted `(bucket, count)` pairs, in minutes;
/// the rank is nearest-rank (`ceil(q × n)`), the same rule a brute-force recount uses.
pub fn quantile(hist: &[(i64, i64)], q: f64) -> Option<f64> {
    let n: i64 = hist.iter().map(|(_, c)| *c).sum();
    if n == 0 {
        return None;
    }
    let rank = ((q * n as f64).ceil() as i64).clamp(1, n);
    let mut seen = 0;
    for (b, c) in hist {
        seen += c;
        if seen >= rank {
            return Some(bucket_minutes(*b));
        }
    }
    hist.last().map(|(b, _)| bucket_minutes(*b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_add_up_from_children_not_by_averaging_percentages() {
        let a = Counters {
            closed: 1,
            closed_on_time: 1,
            ..Default::default()
        };
        let b = Counters {
            closed: 99,
            closed_on_time: 0,
            ..Default::default()
        };
        let mut sum = a;
        sum.add(&b);
        assert_eq!(Figures::from_counters(sum).on_time_rate.value, Some(0.01));
    }

    #[test]
    fn an_empty_ratio_has_no_value() {
        assert_eq!(Ratio::of(0, 0).value, None);
    }

    #[test]
    fn quantiles_are_within_ten_percent() {
        let mut hist = std::collections::BTreeMap::new();
        for m in 1..=1000i64 {
            *hist.entry(close_bucket(m)).or_insert(0) += 1;
        }
        let h: Vec<(i64, i64)> = hist.into_iter().collect();
        let median = quantile(&h, 0.5).unwrap();
        assert!((median - 500.0).abs() / 500.0 < 0.1, "{median}");
        let p90 = quantile(&h, 0.9).unwrap();
        assert!((p90 - 900.0).abs() / 900.0 < 0.1, "{p90}");
    }
}
