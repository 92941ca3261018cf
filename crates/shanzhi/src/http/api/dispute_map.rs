//! The disputes layer of the people's map: the open cases (intake, accepted, assigned, in
//! session) per holding centre under a node, as GeoJSON points inside each centre's area, with
//! how many are overdue (red). For the staff who read cases of their area (the figures' rule).
//! `/map/disputes` (api/dispute.rs) answers the measures per child region from the counters, for
//! colouring; this one counts the cases still being mediated, which no counter holds.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::IntoResponse;
use geo::InteriorPoint;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::dispute::State as CaseState;
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::Role;
use shanzhi_store::dispute::Filter;

use super::dispute::scope_node;
use super::doc::{schema as s, Doc, Routes};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;

/// Cases read per page, and at most in all (a layer, not an export).
const PAGE: i64 = 2_000;
const MAX_CASES: usize = 50_000;

/// `/api/v1/map/dispute-centres`.
pub fn routes() -> Routes {
    Routes::new().get(
        "/api/v1/map/dispute-centres",
        layer,
        Doc::new("map", "Open dispute cases per holding centre under a node, as GeoJSON points (open, overdue), for the map's disputes layer")
            .query("node", s::region_code(), "region code (default: the user's scope)"),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LayerQuery {
    node: Option<String>,
}

async fn layer(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<LayerQuery>,
) -> ApiResult<impl IntoResponse> {
    if !matches!(
        user.actor.role,
        Role::Admin | Role::Dispatcher | Role::Leader | Role::Analyst
    ) {
        return Err(ApiError::forbidden(
            "the disputes layer is for centres, leaders and analysts",
        ));
    }
    let node = scope_node(&app, &user, q.node.as_deref()).await?;
    // (open, overdue) per holding centre.
    let mut per: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut read = 0usize;
    for state in [
        CaseState::Intake,
        CaseState::Accepted,
        CaseState::Assigned,
        CaseState::InSession,
    ] {
        let mut after = None;
        loop {
            let page = shanzhi_store::dispute::list(
                &app.db,
                &Filter {
                    under: Some(node.path().to_owned()),
                    state: Some(state.as_str().to_owned()),
                    after,
                    limit: PAGE,
                    ..Filter::default()
                },
            )
            .await?;
            read += page.len();
            for c in &page {
                let e = per.entry(c.node_code.clone()).or_default();
                e.0 += 1;
                if c.light == "red" {
                    e.1 += 1;
                }
            }
            after = page.last().map(|c| c.id);
            if (page.len() as i64) < PAGE || read >= MAX_CASES {
                break;
            }
        }
    }
    let mut features: Vec<Value> = Vec::with_capacity(per.len());
    // Open cases of centres without an outline (no point to draw them at).
    let mut unplaced = 0;
    for (code, (open, overdue)) in per {
        let node = match NodeCode::parse(&code) {
            Ok(centre) => Some(shanzhi_store::node::get(&app.db, &centre).await?),
            Err(_) => None,
        };
        let placed = node.and_then(|n| {
            let p = n
                .shape
                .as_ref()
                .and_then(|s| s.geometry().interior_point())?;
            Some((p, n.name))
        });
        let Some((p, name)) = placed else {
            unplaced += open;
            continue;
        };
        features.push(json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [p.x(), p.y()]},
            "properties": {"node_code": code, "name": name, "open": open, "overdue": overdue},
        }));
    }
    Ok(axum::Json(
        json!({"type": "FeatureCollection", "features": features, "unplaced": unplaced}),
    ))
}
