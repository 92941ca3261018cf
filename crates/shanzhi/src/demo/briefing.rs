//! The demo's last week of morning and evening briefings (早晚报), written by the same code as
//! the schedule (`crate::briefing::generate`), oldest first so that each holds its change since
//! the one before, for the shallowest nodes the schedule briefs (a city's counties, a town).

use chrono::Duration;
use shanzhi_domain::briefing::Kind;
use shanzhi_domain::calendar::local_date;

use crate::http::state::AppState;

/// Most nodes the demo writes a week of briefings for (the province has over a hundred counties).
pub const MAX_NODES: usize = 20;

/// Writes the briefings of the 7 days before `now_ms` that are due by then; answers how many.
pub async fn write(app: &AppState, now_ms: i64) -> anyhow::Result<usize> {
    let nodes = crate::briefing::scheduled_nodes(app)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let Some(shallowest) = nodes.iter().map(|n| n.path().len()).min() else {
        return Ok(0);
    };
    let nodes: Vec<_> = nodes
        .into_iter()
        .filter(|n| n.path().len() == shallowest)
        .take(MAX_NODES)
        .collect();
    let times = crate::briefing::times(app);
    let today = local_date(now_ms);
    let mut written = 0;
    for back in (0..=7).rev() {
        let day = today - Duration::days(back);
        for kind in [Kind::Morning, Kind::Evening] {
            let period = times.period(kind, day);
            if period.to_ms > now_ms {
                continue;
            }
            for node in &nodes {
                let (_, new) = crate::briefing::generate(app, node, &period, None)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", e.message))?;
                written += usize::from(new);
            }
        }
    }
    Ok(written)
}
