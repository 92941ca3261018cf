//! Figures of base data (Σ/Σ) for a node and each of its children: residents by residence type
//! and by tag, households (from the tally, kept in the same transaction as each change), and
//! visits on schedule against visits overdue (time-bound, so counted by an indexed query).
//! Places with overdue safety checks join when the places register lands.

use std::collections::BTreeMap;

use super::doc::{schema as s, Doc, Routes};
use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::resident::access::base_access;
use shanzhi_domain::tree::NodeCode;

use super::node::visible_node;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;

/// `/api/v1/figures/base`.
pub fn routes() -> Routes {
    Routes::new().get(
        "/api/v1/figures/base",
        figures,
        Doc::new("figures", "Base-data figures of a node and each child: residents by residence and by tag, households, visits on schedule and overdue, places and those with overdue safety checks")
            .query("node", s::node_code(), "region or grid code (default: the user's scope)"),
    )
}

/// Tally kinds this answer reads.
const KINDS: [&str; 5] = ["resident", "residence", "tag", "household", "place"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FiguresQuery {
    node: Option<String>,
}

/// The figures of one node path, from the tally rows and schedule counts read for it.
#[derive(Default)]
struct Counts {
    by_kind: BTreeMap<String, BTreeMap<String, i64>>,
    on_schedule: i64,
    overdue: i64,
    places_overdue: i64,
}

impl Counts {
    fn to_json(&self) -> Value {
        let kind = |k: &str| self.by_kind.get(k).cloned().unwrap_or_default();
        let one = |k: &str| kind(k).get("").copied().unwrap_or(0);
        json!({
            "residents": one("resident"),
            "residence": kind("residence"),
            "tags": kind("tag"),
            "households": one("household"),
            "places": {"total": kind("place").values().sum::<i64>(), "by_kind": kind("place"),
                       "overdue_checks": self.places_overdue},
            "visits": {"on_schedule": self.on_schedule, "overdue": self.overdue,
                       "total": self.on_schedule + self.overdue},
        })
    }
}

async fn figures(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FiguresQuery>,
) -> ApiResult<impl IntoResponse> {
    let code = match &q.node {
        Some(c) => NodeCode::parse(c)
            .map_err(|_| ApiError::invalid("node", "not a region or grid code"))?,
        None => match user.actor.scope.node() {
            Some(c) => c.clone(),
            None => return Err(ApiError::forbidden("base-data figures are for grid staff")),
        },
    };
    let node = visible_node(&app, &user, &code).await?;
    if !base_access(&user.actor, &code).read {
        return Err(ApiError::forbidden("base-data figures are for grid staff"));
    }
    let children = shanzhi_store::node::children(&app.db, &code, false).await?;
    let now = app.clock.now_ms();
    let path = code.path().to_owned();
    // One read per kind and per path length (the node's own, and its children's: children
    // of one node share a level, and so a length, as a rule; mixed ones are read per length).
    let mut lens: Vec<usize> = children.iter().map(|c| c.code.path().len()).collect();
    lens.push(path.len());
    lens.sort_unstable();
    lens.dedup();
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    for len in lens {
        for kind in KINDS {
            for (p, key, n) in
                shanzhi_store::tally::of_level(&app.db, &path, len as i64, kind).await?
            {
                counts
                    .entry(p)
                    .or_default()
                    .by_kind
                    .entry(kind.to_owned())
                    .or_default()
                    .insert(key, n);
            }
        }
        for (p, on, over) in
            shanzhi_store::tag::schedule_counts(&app.db, &path, len as i64, now).await?
        {
            let c = counts.entry(p).or_default();
            c.on_schedule = on;
            c.overdue = over;
        }
        let (total, per_child) =
            shanzhi_store::place::overdue_counts(&app.db, &path, len as i64, now).await?;
        if len == path.len() {
            counts.entry(path.clone()).or_default().places_overdue = total;
        } else {
            for (p, n) in per_child {
                counts.entry(p).or_default().places_overdue = n;
            }
        }
    }
    let of = |p: &str| {
        counts
            .get(p)
            .map(Counts::to_json)
            .unwrap_or_else(|| Counts::default().to_json())
    };
    let mut out = of(&path);
    out["node"] = json!({"code": node.code, "name": node.name, "level": node.level});
    out["children"] = Value::Array(
        children
            .iter()
            .map(|c| {
                let mut v = of(c.code.path());
                v["code"] = json!(c.code);
                v["name"] = json!(c.name);
                v
            })
            .collect(),
    );
    Ok(axum::Json(out))
}
