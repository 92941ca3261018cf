//! The points a resident earns by themselves (积分制): when a citizen's report is confirmed —
//! accepted, handled, verified and closed (结案), not rejected nor merged — the village where it
//! happened gives its `report_confirmed` rule's points to the reporter, if the reporter lives
//! there. Run as a step of the housekeeping sweep, not inside the event's transaction: the
//! sweep reads the reports closed since its watermark, and the unique key on the award's
//! source event gives each report its points once, whichever server runs the step and however
//! often.

use shanzhi_domain::tree::{Level, NaturalLevel, NodeCode};
use shanzhi_store::{Db, StoreError};

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The sweep's watermark in `points_watermark`.
const WATERMARK: &str = "report_confirmed";
/// How far back of the watermark each run looks again: a report closed in a transaction that
/// committed after a later one was read is still found (its award is written once anyway).
const OVERLAP_MS: i64 = 10 * 60 * 1000;
const BATCH: i64 = 200;

/// The village that holds a grid or region code (None above the village level).
pub fn village_of(code: &str) -> Option<String> {
    let c = NodeCode::parse(code).ok()?;
    c.ancestor_codes()
        .into_iter()
        .chain(std::iter::once(c.as_str().to_owned()))
        .find(|a| {
            NodeCode::parse(a)
                .is_ok_and(|v| v.natural_level() == NaturalLevel::Region(Level::Village))
        })
}

/// Gives the points of the reports confirmed since the last run; answers how many awards it
/// wrote. A rule applies to the reports closed after it was published, not to older ones.
pub async fn sweep(app: &AppState, now: i64) -> Result<usize, ApiError> {
    Ok(sweep_db(&app.db, now).await?)
}

/// Does the user live in the village (a resident registered in it)?
async fn lives_in(db: &Db, user_id: i64, village: &str) -> Result<bool, StoreError> {
    Ok(shanzhi_store::warning::home_nodes(db, user_id)
        .await?
        .iter()
        .any(|n| village_of(n).as_deref() == Some(village)))
}

/// [`sweep`] on the database itself (the demo runs it after writing its year of reports).
pub async fn sweep_db(db: &Db, now: i64) -> Result<usize, StoreError> {
    // Reports closed before any rule for them was published earn nothing: start there.
    let Some(first_rule) = shanzhi_store::points::first_report_rule_at(db).await? else {
        return Ok(0);
    };
    let mark = shanzhi_store::points::watermark(db, WATERMARK).await?;
    let mut after = ((mark - OVERLAP_MS).max(first_rule - 1), 0);
    let mut written = 0;
    let mut seen = mark;
    loop {
        let batch = shanzhi_store::points::confirmed_reports(db, after, BATCH).await?;
        for (event_id, grid, reporter, closed_at) in &batch {
            after = (*closed_at, *event_id);
            seen = seen.max(*closed_at);
            let Some(village) = village_of(grid) else {
                continue;
            };
            let Some(rule) = shanzhi_store::points::report_rule(db, &village).await? else {
                continue;
            };
            if rule.created_at > *closed_at {
                continue;
            }
            if !lives_in(db, *reporter, &village).await? {
                continue;
            }
            let award = shanzhi_store::points::NewAward {
                node_code: village.clone(),
                user_id: *reporter,
                rule_id: rule.id,
                points: rule.points,
                note: format!("上报的事件 #{event_id} 经核实结案"),
                evidence: Vec::new(),
                awarded_by: None,
                source_event_id: Some(*event_id),
            };
            if shanzhi_store::points::award(db, &award, now)
                .await?
                .is_some()
            {
                written += 1;
            }
        }
        if (batch.len() as i64) < BATCH {
            break;
        }
    }
    if seen > mark {
        shanzhi_store::points::set_watermark(db, WATERMARK, seen).await?;
    }
    Ok(written)
}
