//! Figures of the closed loop for any node and day range, from the maintained counters.

use super::doc::{schema as s, Doc, Routes};
use axum::extract::State;
use axum::response::IntoResponse;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shanzhi_domain::event::figures::{quantile, Figures};
use shanzhi_domain::tree::NodeCode;

use super::node::visible_node_head;
use crate::counters::Sums;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;

/// `/api/v1/figures`.
pub fn routes() -> Routes {
    Routes::new().get("/api/v1/figures", figures, Doc::new("figures", "Figures of a node over days: counts, Σ/Σ rates, shares per level, time to close, by category and department")
        .query("node", s::node_code(), "region or grid code (default: the user's scope)")
        .query("from", s::date(), "first day (default: 29 days before `to`); at most ten years before `to`")
        .query("to", s::date(), "last day (default: today)")
        .query("children", s::boolean(), "also per child node").query("daily", s::boolean(), "also per day")
        .query("departments", s::one_of(&["all", "chain"]), "`all` (default: every department with work under the node, wherever it is based) or `chain` (only departments based at the node or above it)"))
}

/// The query of the figures (and of their Excel export).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FiguresQuery {
    node: Option<String>,
    /// First day, YYYY-MM-DD (China time); default 30 days before `to`.
    from: Option<String>,
    /// Last day, included; default today.
    to: Option<String>,
    /// Also per child node (for rankings of lower regions).
    #[serde(default)]
    pub(super) children: bool,
    /// Also per day (for trends).
    #[serde(default)]
    daily: bool,
    /// Which departments `by_department` ranks: `all` (default) or `chain`.
    departments: Option<String>,
}

/// A day `YYYY-MM-DD` with four digits of year, as the OpenAPI document's `format: date` says
/// (chrono's `%Y` also takes signed and longer years, whose day keys would fall outside the
/// counters' positive day keys and into the month and year rows).
fn parse_day(field: &str, s: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| (0..=9999).contains(&d.year()) && s.len() == 10)
        .ok_or_else(|| ApiError::invalid(field, "must be a date YYYY-MM-DD"))
}

/// Figures as JSON: counters, Σ/Σ rates, percentiles of time to close. With `department`,
/// only that department's orders (the histogram of time to close is kept per node only, so
/// its percentiles are then null).
pub async fn node_figures(
    sums: &Sums<'_>,
    path: &str,
    days: (i64, i64),
    department: Option<i64>,
) -> ApiResult<Value> {
    if let Some(d) = department {
        let c = sums.counters(path, days, "department", d).await?;
        let mut v = serde_json::to_value(Figures::from_counters(c))
            .map_err(|e| ApiError::internal(e.into()))?;
        v["median_close_minutes"] = Value::Null;
        v["p90_close_minutes"] = Value::Null;
        return Ok(v);
    }
    let (c, hist) = tokio::try_join!(
        sums.counters(path, days, "all", 0),
        sums.close_histogram(path, days),
    )?;
    let mut v = serde_json::to_value(Figures::from_counters(c))
        .map_err(|e| ApiError::internal(e.into()))?;
    v["median_close_minutes"] = json!(quantile(&hist, 0.5));
    v["p90_close_minutes"] = json!(quantile(&hist, 0.9));
    Ok(v)
}

async fn figures(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FiguresQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(figures_json(&app, &user, &q).await?))
}

/// The figures as the API answers them: written straight from the ranked rows (a province
/// ranks a thousand departments), not through a `serde_json::Value` per row.
#[derive(Serialize)]
pub(super) struct FiguresAnswer {
    by_category: Vec<Ranked>,
    by_department: Vec<Ranked>,
    #[serde(skip_serializing_if = "Option::is_none")]
    children: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    daily: Option<Value>,
    /// A department handler's own department.
    #[serde(skip_serializing_if = "Option::is_none")]
    department: Option<Value>,
    figures: Value,
    from: String,
    node: Value,
    to: String,
}

/// One category's or department's figures in a ranking.
#[derive(Serialize)]
pub(super) struct Ranked {
    #[serde(skip_serializing_if = "Option::is_none")]
    category_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    department_id: Option<i64>,
    figures: Figures,
    name: Option<String>,
}

impl FiguresAnswer {
    /// The answer as a JSON value (for the Excel export).
    pub(super) fn to_value(&self) -> ApiResult<Value> {
        serde_json::to_value(self).map_err(|e| ApiError::internal(e.into()))
    }
}

/// The figures as the API answers them.
pub(super) async fn figures_json(
    app: &AppState,
    user: &CurrentUser,
    q: &FiguresQuery,
) -> ApiResult<FiguresAnswer> {
    let node = match &q.node {
        Some(n) => NodeCode::parse(n).map_err(|_| ApiError::not_found("node"))?,
        None => user
            .actor
            .scope
            .node()
            .cloned()
            .ok_or_else(|| ApiError::forbidden("citizens have no figures"))?,
    };
    let n = visible_node_head(app, user, &node).await?;
    let today = shanzhi_domain::calendar::local_date(app.clock.now_ms());
    let to = match &q.to {
        Some(s) => parse_day("to", s)?,
        None => today,
    };
    let from = match &q.from {
        Some(s) => parse_day("from", s)?,
        None => to - chrono::Days::new(29),
    };
    if from > to {
        return Err(ApiError::invalid("from", "must not be after to"));
    }
    if (to - from).num_days() > 3660 {
        return Err(ApiError::invalid("from", "at most ten years at once"));
    }
    let (f, t) = (
        crate::calendar::day_number(from),
        crate::calendar::day_number(to),
    );
    let path = node.path().to_owned();
    // Every department with work under the node by default: a city's dashboard ranks the
    // county and town departments that did its work (few departments sit at the city itself).
    // `chain` keeps to the departments based at this node and above it.
    let all_departments = match q.departments.as_deref().unwrap_or("all") {
        "chain" => false,
        "all" => true,
        _ => return Err(ApiError::invalid("departments", "must be 'chain' or 'all'")),
    };
    let sums = Sums::read(app).await?;
    // A department handler reads the figures of their own department's orders only.
    if let Some(dep) = user.department() {
        return department_figures(&sums, &n, &node, (from, to), (f, t), dep, q).await;
    }
    // The parts read different counters: run them side by side on the pool.
    let by_category = async {
        let categories = app.reference.get(&app.db).await?;
        let by = sums.counters_by(&path, (f, t), "category", None).await?;
        Ok::<_, ApiError>((categories, by))
    };
    let by_department = async {
        if all_departments {
            // The counters say which departments worked here; only their names are read.
            let by = sums.counters_by(&path, (f, t), "department", None).await?;
            let ids: Vec<i64> = by.iter().map(|(id, _)| *id).collect();
            let deps = shanzhi_store::department::by_ids(&app.db, &ids).await?;
            Ok::<_, ApiError>((deps, by))
        } else {
            let deps = shanzhi_store::department::based_on_chain(&app.db, &node).await?;
            let ids: Vec<i64> = deps.iter().map(|d| d.id).collect();
            let by = sums
                .counters_by(&path, (f, t), "department", Some(&ids))
                .await?;
            Ok((deps, by))
        }
    };
    let (figures, (categories, by_cat), (deps, by_dep)) = tokio::try_join!(
        node_figures(&sums, &path, (f, t), None),
        by_category,
        by_department
    )?;
    let by_category = by_cat
        .into_iter()
        .map(|(id, c)| Ranked {
            category_id: Some(id),
            department_id: None,
            name: categories.category(id).map(|x| x.name.clone()),
            figures: Figures::from_counters(c),
        })
        .collect();
    let mut names: std::collections::HashMap<i64, String> =
        deps.into_iter().map(|d| (d.id, d.name)).collect();
    let children = if q.children {
        Some(children_figures(&sums, &node, (f, t), ("all", 0)).await?)
    } else {
        None
    };
    let daily = if q.daily {
        Some(daily_json(app, &path, (f, t), ("all", 0)).await?)
    } else {
        None
    };
    Ok(FiguresAnswer {
        by_category,
        by_department: department_ranking(by_dep, &mut names),
        children,
        daily,
        department: None,
        figures,
        from: from.to_string(),
        node: json!({"code": n.code, "name": n.name, "level": n.level}),
        to: to.to_string(),
    })
}

/// The counters of a node per day, for trends.
async fn daily_json(
    app: &AppState,
    path: &str,
    (f, t): (i64, i64),
    (dim, dim_id): (&str, i64),
) -> ApiResult<Value> {
    let days = shanzhi_store::event::counters_by_day(&app.db, path, f, t, dim, dim_id).await?;
    Ok(Value::Array(
        days.into_iter()
            .map(|(d, c)| json!({"day": d, "counters": c}))
            .collect(),
    ))
}

/// The figures of each child of `node` over days `(f, t)` for one dimension value, read in one
/// query.
async fn children_figures(
    sums: &Sums<'_>,
    node: &NodeCode,
    (f, t): (i64, i64),
    (dim, dim_id): (&str, i64),
) -> ApiResult<Value> {
    let children = shanzhi_store::node::children(&sums.app().db, node, false).await?;
    let paths: Vec<&str> = children.iter().map(|c| c.code.path()).collect();
    let mut counted: std::collections::HashMap<String, _> = sums
        .counters_of_nodes(&paths, (f, t), (dim, dim_id))
        .await?
        .into_iter()
        .collect();
    Ok(Value::Array(
        children
            .iter()
            .map(|child| {
                let c = counted.remove(child.code.path()).unwrap_or_default();
                json!({"code": child.code, "name": child.name, "level": child.level, "figures": Figures::from_counters(c)})
            })
            .collect(),
    ))
}

/// Departments ranked by on-time rate (best first; none closed yet last), then by orders closed.
fn department_ranking(
    by: Vec<(i64, shanzhi_domain::event::figures::Counters)>,
    names: &mut std::collections::HashMap<i64, String>,
) -> Vec<Ranked> {
    let mut rows: Vec<(Figures, i64)> = by
        .into_iter()
        .map(|(id, c)| (Figures::from_counters(c), id))
        .collect();
    let key = |f: &Figures| (f.on_time_rate.value.unwrap_or(-1.0), f.counters.closed);
    rows.sort_by(|(a, ai), (b, bi)| {
        let (ra, ca) = key(a);
        let (rb, cb) = key(b);
        rb.total_cmp(&ra).then(cb.cmp(&ca)).then(ai.cmp(bi))
    });
    rows.into_iter()
        .map(|(figures, id)| Ranked {
            category_id: None,
            department_id: Some(id),
            name: names.remove(&id),
            figures,
        })
        .collect()
}

/// The figures a department handler may read: their department's orders under the node (per
/// child and per day on request), no other department and no breakdown by category (the
/// counters do not cross category with department).
async fn department_figures(
    sums: &Sums<'_>,
    n: &shanzhi_store::node::Node,
    node: &NodeCode,
    (from, to): (NaiveDate, NaiveDate),
    (f, t): (i64, i64),
    dep: i64,
    q: &FiguresQuery,
) -> ApiResult<FiguresAnswer> {
    let path = node.path();
    let figures = node_figures(sums, path, (f, t), Some(dep)).await?;
    let me = shanzhi_store::department::get(&sums.app().db, dep).await?;
    let c = sums.counters(path, (f, t), "department", dep).await?;
    let app = sums.app();
    let children = if q.children {
        Some(children_figures(sums, node, (f, t), ("department", dep)).await?)
    } else {
        None
    };
    let daily = if q.daily {
        Some(daily_json(app, path, (f, t), ("department", dep)).await?)
    } else {
        None
    };
    Ok(FiguresAnswer {
        by_category: Vec::new(),
        by_department: vec![Ranked {
            category_id: None,
            department_id: Some(me.id),
            name: Some(me.name.clone()),
            figures: Figures::from_counters(c),
        }],
        children,
        daily,
        department: Some(json!({"id": me.id, "name": me.name})),
        figures,
        from: from.to_string(),
        node: json!({"code": n.code, "name": n.name, "level": n.level}),
        to: to.to_string(),
    })
}

/// A Σ/Σ rate, or null when nothing was counted below the line.
pub(super) fn rate(n: i64, d: i64) -> Value {
    if d > 0 {
        json!(n as f64 / d as f64)
    } else {
        Value::Null
    }
}

/// A module's figures at one node from its tally counters (disputes, risks): `{node, <measure>:
/// n…, <name>: {<value>: {<measure>: n}}…}`, with `kind`'s keys as the measures and each of
/// `groups` (tally kind, answer name) keyed "<value>|<measure>". Answers the totals too, for the
/// module's rates.
pub(super) async fn tally_figures(
    app: &AppState,
    node: &NodeCode,
    kind: &str,
    measures: &[&str],
    groups: &[(&str, &str)],
) -> ApiResult<(Value, std::collections::BTreeMap<String, i64>)> {
    let path = node.path();
    let totals = shanzhi_store::tally::at(&app.db, path, kind).await?;
    let mut out = json!({"node": node.as_str()});
    for m in measures {
        out[*m] = json!(totals.get(*m).copied().unwrap_or(0));
    }
    for (kind, name) in groups {
        let rows = shanzhi_store::tally::at(&app.db, path, kind).await?;
        let mut by: serde_json::Map<String, Value> = serde_json::Map::new();
        for (key, n) in rows {
            if let Some((value, measure)) = key.split_once('|') {
                let entry = by.entry(value.to_owned()).or_insert_with(|| json!({}));
                entry[measure] = json!(n);
            }
        }
        out[*name] = Value::Object(by);
    }
    Ok((out, totals))
}
