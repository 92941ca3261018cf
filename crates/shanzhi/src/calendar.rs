//! The working-time calendar as the application reads it, and the day keys of the counters:
//! shared by every clock (the event loop, dispute cases) and every figure.

use chrono::Datelike;
use shanzhi_domain::calendar::{local_date, WorkCalendar};

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// Share of a clock's working time after which its light turns yellow (the last 20%).
pub const YELLOW_SHARE: f64 = 0.2;

/// The working-time calendar in force: the administrators' one, or China's default (from the
/// reference cache, so another instance's change shows within its TTL).
pub async fn calendar(app: &AppState) -> Result<WorkCalendar, ApiError> {
    Ok(app.reference.get(&app.db).await?.calendar.clone())
}

/// yyyymmdd of an instant, in China time.
pub fn day_of(ms: i64) -> i64 {
    day_number(local_date(ms))
}

/// yyyymmdd of a date: the day key of the figures counters.
pub fn day_number(d: chrono::NaiveDate) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}
