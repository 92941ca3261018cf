//! `GET /api/v1/locate`: the deepest grid under a point, public (the citizen portal needs it
//! before anyone logs in). Only names and codes are revealed, never people.

use super::doc::{schema as s, Doc, Routes};
use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::grid::LonLat;
use shanzhi_domain::tree::NodeCode;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::state::AppState;

/// `/api/v1/locate`.
pub fn routes() -> Routes {
    Routes::new().get(
        "/api/v1/locate",
        locate,
        Doc::new(
            "tree",
            "The deepest grid containing a point, and its chain of ancestors",
        )
        .public()
        .query_required("lon", s::number(-180.0, 180.0), "longitude, WGS-84")
        .query_required("lat", s::number(-90.0, 90.0), "latitude, WGS-84"),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocateQuery {
    lon: f64,
    lat: f64,
}

async fn locate(
    State(app): State<AppState>,
    Query(q): Query<LocateQuery>,
) -> ApiResult<impl IntoResponse> {
    let at = LonLat::parse(q.lon, q.lat)?;
    let found = app.locator.current().locate(at);
    let Some(found) = found else {
        return Ok(axum::Json(json!({
            "inside": false,
            "code": "outside_jurisdiction",
            "message": "该位置不在本辖区任何网格内 (the position is outside the jurisdiction)",
            "lon": q.lon, "lat": q.lat,
        })));
    };
    let code =
        NodeCode::parse(&found.code).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    let chain = shanzhi_store::node::by_paths(&app.db, &code.ancestor_paths()).await?;
    let grid = chain.iter().find(|n| n.code == code);
    Ok(axum::Json(json!({
        "inside": true,
        "grid": grid.map(|g| json!({"code": g.code, "name": g.name, "level": g.level})),
        "chain": chain.iter().map(|n| json!({"code": n.code, "name": n.name, "level": n.level})).collect::<Vec<_>>(),
        "lon": q.lon, "lat": q.lat,
    })))
}
