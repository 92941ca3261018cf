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

/// One module's deadline sweep, for [`sweep_batches`]: the rows due for a check, and the
/// check of one row.
pub trait Sweeper {
    type Row: Send;
    /// The next batch of rows due.
    fn due(&self) -> impl std::future::Future<Output = Result<Vec<Self::Row>, ApiError>> + Send;
    /// Checks one row (lights, supervision, escalation) and saves what changed.
    fn check(
        &mut self,
        row: Self::Row,
    ) -> impl std::future::Future<Output = Result<(), ApiError>> + Send;
}

/// Runs a deadline sweep: batch after batch of rows due, each checked, until none is left or a
/// whole batch made no progress (a row changed meanwhile, a 409, waits for the next sweep).
/// Answers how many rows were checked. Shared by every module with clocks (work orders,
/// dispute cases).
pub async fn sweep_batches<S: Sweeper + Send>(s: &mut S) -> Result<usize, ApiError> {
    let mut checked = 0;
    loop {
        let rows = s.due().await?;
        if rows.is_empty() {
            break;
        }
        let mut progressed = false;
        for row in rows {
            checked += 1;
            match s.check(row).await {
                Ok(()) => progressed = true,
                Err(ApiError { status, .. }) if status == axum::http::StatusCode::CONFLICT => {}
                Err(e) => return Err(e),
            }
        }
        if !progressed {
            break;
        }
    }
    Ok(checked)
}
