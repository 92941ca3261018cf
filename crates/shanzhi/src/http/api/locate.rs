//! `GET /api/v1/locate`: the deepest region and grid under a point, public (the citizen portal
//! needs it before anyone logs in). Only names and codes are revealed, never people.

use super::doc::{schema as s, Doc, Routes};
use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::grid::{Crs, LonLat};
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
            "The deepest region (and grid, when there is one) containing a point, and its chain of ancestors",
        )
        .public()
        .query_required("lon", s::number(-180.0, 180.0), "longitude, in `crs`")
        .query_required("lat", s::number(-90.0, 90.0), "latitude, in `crs`")
        .query("crs", s::crs(), "coordinate system of lon/lat (default wgs84); the answer is WGS-84"),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocateQuery {
    lon: f64,
    lat: f64,
    crs: Option<String>,
}

async fn locate(
    State(app): State<AppState>,
    Query(q): Query<LocateQuery>,
) -> ApiResult<impl IntoResponse> {
    let crs = q
        .crs
        .as_deref()
        .map(Crs::parse)
        .transpose()?
        .unwrap_or_default();
    LonLat::parse(q.lon, q.lat)?;
    let (lon, lat) = crs.to_wgs84(q.lon, q.lat);
    let at = LonLat::parse(lon, lat)?;
    let found = app.locator.current().locate(at);
    let Some(found) = found else {
        return Ok(axum::Json(json!({
            "inside": false,
            "code": "outside_jurisdiction",
            "message": "该位置不在本辖区内 (the position is outside the jurisdiction)",
            "lon": at.lon(), "lat": at.lat(),
        })));
    };
    let code =
        NodeCode::from_path(&found.code).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    let chain = shanzhi_store::node::by_paths(&app.db, &code.ancestor_paths()).await?;
    let brief =
        |n: &shanzhi_store::node::Node| json!({"code": n.code, "name": n.name, "level": n.level});
    let grid = chain.iter().find(|n| n.code == code && n.level.is_grid());
    let region = chain.iter().rev().find(|n| !n.level.is_grid());
    Ok(axum::Json(json!({
        "inside": true,
        "grid": grid.map(brief),
        "region": region.map(brief),
        "chain": chain.iter().map(brief).collect::<Vec<_>>(),
        "lon": at.lon(), "lat": at.lat(),
    })))
}
