//! The people's map (民情地图): one level of the tree at a time, in view, with simplified
//! outlines and a figure per shape to colour by; events as points.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::tree::{Level, NodeCode, GRID_SEGMENT_LEN, REGION_CODE_LEN};

use super::doc::{schema as s, Doc, Routes};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;
use crate::map::{Answer, AnswerKey, FiguresKey, GroupsKey, InView};

/// Most shapes or points in one answer.
const MAX_FEATURES: usize = 6000;

/// The figures a map shape can carry.
const FIGURES: [&str; 6] = [
    "open",
    "overdue",
    "reported",
    "closed",
    "on_time_rate",
    "satisfaction",
];

/// Four numbers in degrees (the order of each pair and the ranges are checked by the handler).
pub(super) fn bbox() -> Value {
    let n = r"-?[0-9]{1,3}(\.[0-9]{1,12})?";
    s::pattern(&format!("^{n},{n},{n},{n}$"))
}

/// `/api/v1/map/*`.
pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/map/nodes", nodes, Doc::new("map", "One level of the tree in view as GeoJSON, outlines simplified for the zoom, with a figure per shape")
            .query_required("level", s::one_of(&["province", "city", "county", "town", "village", "grid"]), "the level shown")
            .query_required("bbox", bbox(), "min_lon,min_lat,max_lon,max_lat")
            .query("zoom", s::integer(0, 255), "map zoom (0–20): sets the simplification")
            .query("figure", s::one_of(&FIGURES), "the figure per shape (default open)")
            .query("days", s::int64(), "window of the counted figures, days back from today (default 30, 1 to 3660)"))
        .get("/api/v1/map/events", events, Doc::new("map", "Events in view as GeoJSON points (department handlers: orders sent to their department)")
            .query_required("bbox", bbox(), "min_lon,min_lat,max_lon,max_lat")
            .query("open", s::boolean(), "open orders only (default true)")
            .query("days", s::int64(), "created within so many days (default 365, 1 to 3660)")
            .query("zoom", s::integer(0, 255), "the map's zoom: below 12 the orders come counted per square cell of 90/2^zoom degrees, 64 pixels wide (features with count, red and the orders' mean position; the box is widened to whole cells) instead of one point each; on SQLite, where those counts are kept while nothing is written, the `days` window then starts on a whole minute (up to a minute longer)")
            .query("categories", s::pattern("^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17}){0,999}$"), "comma-separated category ids: only orders of these categories (default all)"))
        .get("/api/v1/map/card", card, Doc::new("map", "A node's card: name, chain, staff, figures (department handlers: their department's orders, no staff)").query_required("code", s::node_code(), "region or grid code"))
}

pub(super) fn parse_bbox(s: &str) -> ApiResult<[f64; 4]> {
    let parts: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::invalid("bbox", "four numbers: min_lon,min_lat,max_lon,max_lat"))?;
    match parts.as_slice() {
        [a, b, c, d]
            if a <= c
                && b <= d
                && a.is_finite()
                && d.is_finite()
                && (-180.0..=180.0).contains(a)
                && (-180.0..=180.0).contains(c)
                && (-90.0..=90.0).contains(b)
                && (-90.0..=90.0).contains(d) =>
        {
            Ok([*a, *b, *c, *d])
        }
        _ => Err(ApiError::invalid(
            "bbox",
            "four numbers: min_lon,min_lat,max_lon,max_lat, with min <= max",
        )),
    }
}

/// The levels the map draws, coarsest first, with the length of their codes: a region's
/// significant digits, and for a grid its village's code and its own first segment.
const MAP_LEVELS: [(&str, Level, usize); 6] = [
    ("province", Level::Province, digits(Level::Province)),
    ("city", Level::City, digits(Level::City)),
    ("county", Level::County, digits(Level::County)),
    ("town", Level::Town, digits(Level::Town)),
    ("village", Level::Village, digits(Level::Village)),
    ("grid", Level::Small, REGION_CODE_LEN + GRID_SEGMENT_LEN),
];

/// The path length of each level the console's map draws (counties, towns, villages, grids;
/// see `levelForZoom` in web/src/js/console/map.js): the levels whose indexes are built at
/// start ([`crate::map::MapCache::warm`]).
pub const DRAWN_LEVELS: [i64; 4] = [
    digits(Level::County) as i64,
    digits(Level::Town) as i64,
    digits(Level::Village) as i64,
    (REGION_CODE_LEN + GRID_SEGMENT_LEN) as i64,
];

/// The outlines made at start too (path length, first and last zoom): the counties at the
/// zooms the console draws them at (5–10: `levelForZoom` floors the zoom, the request rounds
/// it) and the towns at 10–12. A province's few thousand shapes, so that a far-out view does
/// not wait for its outlines the first time (≈ 50 ms a view).
pub const DRAWN_OUTLINES: [(i64, u8, u8); 2] = [
    (digits(Level::County) as i64, 5, 10),
    (digits(Level::Town) as i64, 10, 12),
];

const fn digits(level: Level) -> usize {
    level.region_digits().unwrap()
}

fn level_len(level: &str) -> ApiResult<(Level, i64)> {
    MAP_LEVELS
        .iter()
        .find(|(name, ..)| *name == level)
        .map(|&(_, l, len)| (l, len as i64))
        .ok_or_else(|| {
            let names: Vec<&str> = MAP_LEVELS.iter().map(|(name, ..)| *name).collect();
            ApiError::invalid("level", format!("one of {}", names.join(", ")))
        })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodesQuery {
    level: String,
    bbox: String,
    zoom: Option<u8>,
    figure: Option<String>,
    days: Option<i64>,
}

/// The most subtrees the open orders of a view are counted under.
const COUNT_ROOTS: usize = 32;

/// The subtrees whose open orders a view counts: the shapes' own codes cut to the longest code
/// level at which at most [`COUNT_ROOTS`] distinct prefixes remain (a town's 343 grids: their
/// few towns), none a prefix of another. A view across a border counts the parts in view; the
/// longest common prefix counted the whole province above both (7,500 orders for 343 grids).
/// Only with more than 32 provinces in view does it fall back to that prefix.
fn count_roots<'a>(paths: &[&'a str]) -> Vec<&'a str> {
    for &(_, _, len) in MAP_LEVELS.iter().rev() {
        let mut cut: Vec<&str> = paths.iter().map(|p| &p[..p.len().min(len)]).collect();
        cut.sort_unstable();
        let mut roots: Vec<&str> = Vec::new();
        for p in cut {
            if roots.last().is_none_or(|r| !p.starts_with(r)) {
                roots.push(p);
            }
        }
        if roots.len() <= COUNT_ROOTS {
            return roots;
        }
    }
    vec![common_prefix(paths.iter().copied())]
}

/// The longest prefix of all `paths` ("" for none).
fn common_prefix<'a>(mut paths: impl Iterator<Item = &'a str>) -> &'a str {
    let Some(mut p) = paths.next() else {
        return "";
    };
    for q in paths {
        let n = p.bytes().zip(q.bytes()).take_while(|(a, b)| a == b).count();
        p = &p[..n];
    }
    p
}

async fn nodes(
    State(app): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(q): Query<NodesQuery>,
) -> ApiResult<Response> {
    let Some(root) = user.actor.scope.node().cloned() else {
        return Err(ApiError::forbidden("citizens use the portal map"));
    };
    let bbox = parse_bbox(&q.bbox)?;
    let (_, len) = level_len(&q.level)?;
    let zoom = q.zoom.unwrap_or(12);
    let figure = q.figure.as_deref().unwrap_or("open");
    let days = q.days.unwrap_or(30).clamp(1, 3660);
    // A department handler's figures count their department's orders only.
    let dep = user.department();
    if !FIGURES.contains(&figure) {
        return Err(ApiError::invalid(
            "figure",
            "one of open, overdue, reported, closed, on_time_rate, satisfaction",
        ));
    }
    // Where the figures are counted, and its data version read before anything of them is:
    // while it stays, the same shapes count the same figures, kept (on SQLite; PostgreSQL
    // has no such number and counts every time).
    let counted_on = match figure {
        "open" | "overdue" => app.reader(&user).await,
        _ => &app.db,
    };
    let data = counted_on.data_version()?;
    let view = app
        .map
        .in_view(&app.db, root.path(), len, bbox, zoom, MAX_FEATURES)
        .await
        .map_err(ApiError::internal)?;
    let days_counted = match figure {
        "open" | "overdue" => (0, 0),
        _ => {
            let now = app.clock.now_ms();
            (
                crate::calendar::day_of(now - days * 86_400_000),
                crate::calendar::day_of(now),
            )
        }
    };
    let figures_key = data.map(|data| FiguresKey {
        data,
        version: view.version,
        path_len: len,
        figure: figure.to_owned(),
        department: dep,
        days: days_counted,
        shown: view.shown.iter().map(|(i, _)| *i).collect(),
    });
    let kept = figures_key.as_ref().and_then(|k| app.map.figures(k));
    let shown_values = match kept {
        Some(v) => v,
        None => {
            let v =
                Arc::new(shown_figures(counted_on, &view, len, figure, days_counted, dep).await?);
            if let Some(k) = figures_key {
                app.map.keep_figures(k, v.clone());
            }
            v
        }
    };
    // The same shapes with the same figures are the same answer: kept whole, and gzipped once.
    let key = AnswerKey {
        version: view.version,
        path_len: len,
        zoom: view.zoom,
        figure: figure.to_owned(),
        truncated: view.truncated,
        shown: view.shown.iter().map(|(i, _)| *i).collect(),
        values: shown_values.iter().map(|v| v.map(f64::to_bits)).collect(),
    };
    let gzip = crate::http::gzip::accepted(&headers);
    let answer = match app.map.answer(&key) {
        Some(a) => a,
        None => {
            let a = Arc::new(Answer::new(view.answer_json(figure, &shown_values)));
            if gzip {
                a.gzip();
            }
            app.map.keep(key, a.clone());
            a
        }
    };
    Ok(send(&answer, gzip))
}

/// A kept answer as JSON, gzipped if the client takes it.
fn send(answer: &Answer, gzip: bool) -> Response {
    let vary = (header::VARY, HeaderValue::from_static("accept-encoding"));
    let json = (
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if gzip {
        let encoding = (header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        ([json, vary, encoding], answer.gzip()).into_response()
    } else {
        ([json, vary], answer.json()).into_response()
    }
}

/// Each shown shape's figure, counted: open orders (or of them overdue) under the shapes in
/// view only, not the whole of the user's area; the counters over the days `from..=to` for
/// the others. A shape with nothing counted shows 0 for a count and nothing for a rate.
async fn shown_figures(
    counted_on: &shanzhi_store::Db,
    view: &InView,
    len: i64,
    figure: &str,
    (from, to): (i64, i64),
    dep: Option<i64>,
) -> ApiResult<Vec<Option<f64>>> {
    let (dim, dim_id) = match dep {
        Some(d) => ("department", d),
        None => ("all", 0),
    };
    let shown: Vec<&str> = view
        .shown
        .iter()
        .map(|(i, _)| view.index[*i].path.as_str())
        .collect();
    let mut values: HashMap<String, Option<f64>> = HashMap::new();
    match figure {
        _ if view.shown.is_empty() => {}
        "open" | "overdue" => {
            for (key, open, red) in
                shanzhi_store::event::open_counts_under(counted_on, &count_roots(&shown), len, dep)
                    .await?
            {
                let n = if figure == "overdue" { red } else { open };
                values.insert(key, Some(n as f64));
            }
        }
        "reported" | "closed" | "on_time_rate" | "satisfaction" => {
            for (path, c) in
                shanzhi_store::event::counters_of_nodes(counted_on, &shown, from, to, dim, dim_id)
                    .await?
            {
                let f = shanzhi_domain::event::figures::Figures::from_counters(c);
                let v = match figure {
                    "reported" => Some(c.reported as f64),
                    "closed" => Some(c.closed as f64),
                    "on_time_rate" => f.on_time_rate.value,
                    _ => f.satisfaction_mean.value,
                };
                values.insert(path, v);
            }
        }
        _ => {
            return Err(ApiError::invalid(
                "figure",
                "one of open, overdue, reported, closed, on_time_rate, satisfaction",
            ))
        }
    }
    let zero_default = matches!(figure, "open" | "overdue" | "reported" | "closed");
    Ok(view
        .shown
        .iter()
        .map(|(i, _)| {
            values
                .get(&view.index[*i].path)
                .cloned()
                .unwrap_or(if zero_default { Some(0.0) } else { None })
        })
        .collect())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    bbox: String,
    open: Option<bool>,
    days: Option<i64>,
    zoom: Option<u8>,
    categories: Option<String>,
}

/// Below this zoom the map's orders are counted per cell rather than sent one by one: a
/// province or a county holds more open orders than a browser can draw as points at once.
const GROUP_BELOW_ZOOM: u8 = 12;

/// The side of a cell at a zoom, in degrees: 64 pixels wide on a map of 256-pixel tiles (and
/// taller by 1/cos(latitude) on its Web Mercator projection, ≈ 70 pixels in Guangdong).
fn cell_degrees(zoom: u8) -> f64 {
    90.0 / 2f64.powi(i32::from(zoom.min(30)))
}

/// `1,2,3` → the ids (as the OpenAPI pattern says: no signs, spaces or leading zeros, at most
/// 1,000); anything else is refused.
fn parse_categories(s: &str) -> ApiResult<Vec<i64>> {
    let bad = || ApiError::invalid("categories", "comma-separated category ids");
    let id = |p: &str| {
        let digits = !p.is_empty() && p.len() <= 18 && p.bytes().all(|b| b.is_ascii_digit());
        (digits && !p.starts_with('0'))
            .then(|| p.parse::<i64>().ok())
            .flatten()
    };
    let ids: Vec<i64> = s
        .split(',')
        .map(id)
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    if ids.len() > 1000 {
        return Err(bad());
    }
    Ok(ids)
}

/// The box widened to whole cells, so that no cell at its edge is counted in part.
fn whole_cells(bbox: [f64; 4], cell: f64) -> [f64; 4] {
    let down = |v: f64, offset: f64| ((v + offset) / cell).floor() * cell - offset;
    let up = |v: f64, offset: f64| ((v + offset) / cell).ceil() * cell - offset;
    [
        down(bbox[0], 180.0).max(-180.0),
        down(bbox[1], 90.0).max(-90.0),
        up(bbox[2], 180.0).min(180.0),
        up(bbox[3], 90.0).min(90.0),
    ]
}

async fn events(
    State(app): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> ApiResult<Response> {
    let Some(root) = user.actor.scope.node().cloned() else {
        return Err(ApiError::forbidden("citizens use the portal map"));
    };
    let bbox = parse_bbox(&q.bbox)?;
    let days = q.days.unwrap_or(365).clamp(1, 3660);
    let since = app.clock.now_ms() - days * 86_400_000;
    let categories = match &q.categories {
        Some(c) => parse_categories(c)?,
        None => Vec::new(),
    };
    let view = shanzhi_store::event::InView {
        path: root.path(),
        bbox,
        open_only: q.open.unwrap_or(true),
        since,
        categories: &categories,
        department: user.department(),
    };
    if let Some(zoom) = q.zoom.filter(|z| *z < GROUP_BELOW_ZOOM) {
        let cell = cell_degrees(zoom);
        let counted_on = app.reader(&user).await;
        // Read before counting: while it stays, the same view counts the same groups, kept (on
        // SQLite). Where answers are kept, the window starts on a whole minute (up to a minute
        // longer than `days`), so that a kept answer serves for a minute.
        let data = counted_on.data_version()?;
        let view = shanzhi_store::event::InView {
            bbox: whole_cells(bbox, cell),
            since: match data {
                Some(_) => since - since.rem_euclid(60_000),
                None => since,
            },
            ..view
        };
        let key = data.map(|data| GroupsKey {
            data,
            root: view.path.to_owned(),
            bbox: view.bbox.map(f64::to_bits),
            cell: cell.to_bits(),
            open_only: view.open_only,
            since: view.since,
            categories: categories.clone(),
            department: view.department,
        });
        let gzip = crate::http::gzip::accepted(&headers);
        if let Some(a) = key.as_ref().and_then(|k| app.map.groups(k)) {
            return Ok(send(&a, gzip));
        }
        let groups =
            shanzhi_store::event::groups_in_bbox(counted_on, &view, cell, MAX_FEATURES as i64)
                .await?;
        let features: Vec<Value> = groups
            .iter()
            .map(|g| {
                json!({
                    "type": "Feature",
                    "properties": {"count": g.count, "red": g.red},
                    "geometry": {"type": "Point", "coordinates": [g.lon, g.lat]},
                })
            })
            .collect();
        let a = Arc::new(Answer::new(
            json!({
                "type": "FeatureCollection", "grouped": true, "cell": cell,
                "truncated": features.len() >= MAX_FEATURES, "features": features,
            })
            .to_string(),
        ));
        if gzip {
            a.gzip();
        }
        if let Some(k) = key {
            app.map.keep_groups(k, a.clone());
        }
        return Ok(send(&a, gzip));
    }
    let rows =
        shanzhi_store::event::in_bbox(app.reader(&user).await, &view, MAX_FEATURES as i64).await?;
    let features: Vec<Value> = rows
        .iter()
        .map(|e| {
            let short: String = e.description.chars().take(40).collect();
            json!({
                "type": "Feature",
                "properties": {"id": e.id, "state": e.state, "light": e.light, "category_id": e.category_id, "grid": e.grid_code,
                    "description": short, "created_at": e.created_at, "supervision": e.supervision},
                "geometry": {"type": "Point", "coordinates": [e.lon, e.lat]},
            })
        })
        .collect();
    Ok(axum::Json(
        json!({"type": "FeatureCollection", "truncated": features.len() >= MAX_FEATURES, "features": features}),
    )
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardQuery {
    code: String,
}

async fn card(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CardQuery>,
) -> ApiResult<impl IntoResponse> {
    let code = NodeCode::parse(&q.code).map_err(|_| ApiError::not_found("node"))?;
    let node = super::node::visible_node(&app, &user, &code).await?;
    let chain = shanzhi_store::node::by_paths(&app.db, &code.ancestor_paths()).await?;
    // A department handler sees no staff roster and only their department's orders.
    let dep = user.department();
    let staff = match dep {
        Some(_) => Vec::new(),
        None => shanzhi_store::node::staff(&app.db, &code).await?,
    };
    let now = app.clock.now_ms();
    let sums = crate::counters::Sums::read(&app).await?;
    let days = (
        crate::calendar::day_of(now - 29 * 86_400_000),
        crate::calendar::day_of(now),
    );
    let figures = super::figures::node_figures(&sums, code.path(), days, dep).await?;
    let open = shanzhi_store::event::open_under(app.reader(&user).await, code.path(), dep).await?;
    Ok(axum::Json(json!({
        "code": node.code, "name": node.name, "level": node.level,
        "chain": chain.iter().map(|n| json!({"code": n.code, "name": n.name})).collect::<Vec<_>>(),
        "staff": staff.iter().map(|(name, role)| json!({"name": name, "role": role})).collect::<Vec<_>>(),
        "open": open.len(), "overdue": open.iter().filter(|(_, l)| l == "red").count(),
        "figures_30_days": figures,
    })))
}

#[cfg(test)]
mod tests {
    use super::{count_roots, parse_categories, whole_cells, COUNT_ROOTS};

    #[test]
    fn open_orders_are_counted_under_the_fewest_subtrees_that_hold_the_view() {
        // Few shapes: their own codes.
        let few = ["441502001001", "441502001002", "441503002001"];
        assert_eq!(count_roots(&few), few.to_vec());
        // 80 grids of seven villages in two cities: the villages, not the province above both.
        let grids: Vec<String> = (0..40)
            .map(|i| format!("441502001{:03}{:03}", i % 4, i))
            .chain((0..40).map(|i| format!("440103002{:03}{:03}", i % 3, i)))
            .collect();
        let paths: Vec<&str> = grids.iter().map(String::as_str).collect();
        let villages = ["440103002000", "440103002001", "440103002002"]
            .into_iter()
            .chain([
                "441502001000",
                "441502001001",
                "441502001002",
                "441502001003",
            ]);
        assert_eq!(count_roots(&paths), villages.collect::<Vec<_>>());
        // More villages than the cap: their towns.
        let grids: Vec<String> = (0..40)
            .map(|i| format!("441502001{i:03}001"))
            .chain((0..40).map(|i| format!("440103002{i:03}001")))
            .collect();
        let paths: Vec<&str> = grids.iter().map(String::as_str).collect();
        assert_eq!(count_roots(&paths), vec!["440103002", "441502001"]);
        // No root is under another, whatever the lengths.
        assert_eq!(
            count_roots(&["4415", "441502", "4401"]),
            vec!["4401", "4415"]
        );
        // Never more than the cap.
        let many: Vec<String> = (0..500)
            .map(|i| format!("44{:02}{:02}", i / 50, i % 50))
            .collect();
        let paths: Vec<&str> = many.iter().map(String::as_str).collect();
        let roots = count_roots(&paths);
        assert!(roots.len() <= COUNT_ROOTS, "{roots:?}");
        assert_eq!(roots.len(), 10);
        assert!(count_roots(&[]).is_empty());
    }

    #[test]
    fn category_lists_are_plain_ids() {
        let cases: &[(&str, Option<&[i64]>)] = &[
            ("1", Some(&[1])),
            ("3,12,7", Some(&[3, 12, 7])),
            ("", None),
            ("0", None),
            ("01", None),
            ("+1", None),
            (" 1", None),
            ("1,,2", None),
            ("1,", None),
            ("abc", None),
            ("1234567890123456789", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_categories(text).ok().as_deref(), *want, "{text:?}");
        }
        let many = vec!["5"; 1001].join(",");
        assert!(parse_categories(&many).is_err());
    }

    #[test]
    fn a_box_widens_to_whole_cells_and_stays_on_the_globe() {
        let cell = 90.0 / 16.0;
        let b = whole_cells([115.3, 22.78, 115.34, 22.81], cell);
        // 295.3 / 5.625 = 52.5…: the cell 52 from lon −180 spans 112.5 to 118.125.
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(b[0], 112.5) && close(b[2], 118.125), "{b:?}");
        assert!(close(b[1], 22.5) && close(b[3], 28.125), "{b:?}");
        assert_eq!(
            whole_cells([-180.0, -90.0, 180.0, 90.0], 90.0),
            [-180.0, -90.0, 180.0, 90.0]
        );
        // A box already on cell edges stays as it is.
        assert_eq!(
            whole_cells([0.0, 0.0, 90.0, 45.0], 45.0),
            [0.0, 0.0, 90.0, 45.0]
        );
    }
}
