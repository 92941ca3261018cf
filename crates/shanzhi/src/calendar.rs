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

/// One module's deadline sweep, for [`sweep`]: the rows due for a check, and the check of
/// one row. The implementor is the sweep's tally (what it did).
pub trait Sweeper: Default + Send {
    type Row: Send;
    /// The next batch of rows due by `now`.
    fn due(
        app: &AppState,
        now: i64,
    ) -> impl std::future::Future<Output = Result<Vec<Self::Row>, ApiError>> + Send;
    /// Checks one row (lights, supervision, escalation), saves what changed and counts it.
    fn check(
        &mut self,
        app: &AppState,
        cal: &WorkCalendar,
        now: i64,
        row: Self::Row,
    ) -> impl std::future::Future<Output = Result<(), ApiError>> + Send;
    /// Where the sweep keeps how many rows it checked.
    fn checked(&mut self) -> &mut usize;
}

/// Runs a module's deadline sweep at `now` on the calendar in force: batch after batch of rows
/// due, each checked, until none is left or a whole batch made no progress (a row changed
/// meanwhile, a 409, waits for the next sweep). Answers the sweep's tally. Shared by every
/// module with clocks (work orders, dispute cases).
pub async fn sweep<S: Sweeper>(app: &AppState, now: i64) -> Result<S, ApiError> {
    let cal = calendar(app).await?;
    let mut s = S::default();
    let mut checked = 0;
    loop {
        let rows = S::due(app, now).await?;
        if rows.is_empty() {
            break;
        }
        let mut progressed = false;
        for row in rows {
            checked += 1;
            match s.check(app, &cal, now, row).await {
                Ok(()) => progressed = true,
                Err(ApiError { status, .. }) if status == axum::http::StatusCode::CONFLICT => {}
                Err(e) => return Err(e),
            }
        }
        if !progressed {
            break;
        }
    }
    *s.checked() = checked;
    Ok(s)
}
