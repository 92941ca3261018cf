//! 合并 with evidence: likely duplicates of an order for the dispatcher to pick from, and the
//! reports merged into a kept order, with their reporters and photos.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::event::duplicate::{
    bbox, nearest, DEFAULT_DAYS, DEFAULT_METRES, MAX_DAYS, MAX_METRES,
};
use shanzhi_domain::event::state::can_find_duplicates;
use shanzhi_domain::user::Role;
use shanzhi_store::event::NearQuery;

use super::doc::{schema as s, Doc, Routes};
use super::event::to_json;
use crate::event as service;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;

/// A day in milliseconds.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// `/api/v1/events/{id}/duplicates`.
pub fn routes() -> Routes {
    Routes::new().get(
        "/api/v1/events/{id}/duplicates",
        duplicates,
        Doc::new(
            "event",
            "Likely duplicates of an order to merge (dispatchers of its holding centre): same category, open or closed within \
             the window, within `metres` of it and reported at most `days` before it or since, nearest first with `distance_m`",
        )
        .path("id", s::int64())
        .query("metres", s::integer(1, MAX_METRES as i64), "search radius in metres (default 300)")
        .query("days", s::integer(1, MAX_DAYS), "time window in days around the order's report (default 7)")
        .query("limit", s::integer(1, 50), "most suggestions (default 20)"),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DuplicateQuery {
    metres: Option<i64>,
    days: Option<i64>,
    limit: Option<i64>,
}

async fn duplicates(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<DuplicateQuery>,
) -> ApiResult<impl IntoResponse> {
    let metres = q.metres.unwrap_or(DEFAULT_METRES as i64);
    if !(1..=MAX_METRES as i64).contains(&metres) {
        return Err(ApiError::invalid("metres", "must be between 1 and 5000"));
    }
    let days = q.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::invalid("days", "must be between 1 and 90"));
    }
    let limit = q.limit.unwrap_or(20);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 50"));
    }
    let (row, _, ev) = service::visible(&app, &user.actor, id).await?;
    if !can_find_duplicates(&user.actor, &ev) {
        return Err(ApiError::forbidden(
            "only a dispatcher of the holding centre looks for duplicates to merge",
        ));
    }
    if !row.position_known {
        return Err(ApiError::conflict(
            Some("position"),
            "the order has no position yet; set it before looking for duplicates",
        ));
    }
    // The dispatcher's own area: a merge target must be one they can see.
    let Some(area) = user.actor.scope.node() else {
        return Err(ApiError::forbidden("no area"));
    };
    let candidates = shanzhi_store::event::near(
        &app.db,
        &NearQuery {
            under: area.path().to_owned(),
            category_id: row.category_id,
            since: row.created_at - days * DAY_MS,
            bbox: bbox(row.lon, row.lat, metres as f64),
            exclude: row.id,
            limit: 500,
        },
    )
    .await?;
    let points: Vec<(i64, f64, f64)> = candidates.iter().map(|c| (c.id, c.lon, c.lat)).collect();
    let items: Vec<Value> = nearest((row.lon, row.lat), &points, metres as f64)
        .into_iter()
        .take(limit as usize)
        .filter_map(|(cid, d)| {
            let c = candidates.iter().find(|c| c.id == cid)?;
            let mut v = to_json(c);
            v["distance_m"] = json!(d.round() as i64);
            Some(v)
        })
        .collect();
    Ok((
        StatusCode::OK,
        axum::Json(json!({"items": items, "metres": metres, "days": days})),
    ))
}

/// A name as staff see a citizen's: its first character, the rest masked (张三 → 张*).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// The reports merged into a kept order, for its page: id, time, description, the reporter
/// (id and a masked name; a citizen reading sees only their own reports' reporter) and photos.
pub async fn merged_reports(app: &AppState, user: &CurrentUser, id: i64) -> ApiResult<Value> {
    let mut out = Vec::new();
    for (row, name) in shanzhi_store::event::merged_reports(&app.db, id).await? {
        let own = row.reporter_id == Some(user.user.id);
        if user.actor.role == Role::Citizen && !own {
            out.push(
                json!({"id": row.id, "created_at": row.created_at, "description": Value::Null,
                "reporter_id": Value::Null, "reporter_name": Value::Null, "photos": []}),
            );
            continue;
        }
        let photos = shanzhi_store::event::photos(&app.db, row.id).await?;
        out.push(json!({
            "id": row.id, "created_at": row.created_at, "description": row.description, "source": row.source,
            "lon": row.position_known.then_some(row.lon), "lat": row.position_known.then_some(row.lat),
            "reporter_id": row.reporter_id,
            "reporter_name": name.as_deref().map(mask_name),
            "photos": photos.iter().map(|(stage, hash)| json!({"stage": stage, "hash": hash, "url": format!("/api/v1/photos/{hash}")})).collect::<Vec<_>>(),
        }));
    }
    Ok(Value::Array(out))
}

#[cfg(test)]
mod tests {
    use super::mask_name;

    #[test]
    fn names_keep_only_their_first_character() {
        for (name, masked) in [
            ("张三", "张*"),
            ("欧阳娜娜", "欧***"),
            ("李", "李"),
            ("", ""),
            (" Ann ", "A**"),
        ] {
            assert_eq!(mask_name(name), masked);
        }
    }
}
