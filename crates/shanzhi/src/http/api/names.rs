//! The names people read for the codes and ids in events as JSON: places for grid codes,
//! departments for department ids (lists, the order page, exports, the hotline's answer).

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::http::error::ApiResult;
use crate::http::state::AppState;

/// The names people read for the grids and departments of some events.
pub struct Names {
    /// Grid code → "village › grid".
    places: HashMap<String, String>,
    /// Department id → name.
    departments: HashMap<i64, String>,
}

impl Names {
    /// The names of `grids` and `departments` (any order, repeats allowed).
    pub async fn load(
        app: &AppState,
        mut grids: Vec<&str>,
        mut departments: Vec<i64>,
    ) -> ApiResult<Names> {
        grids.sort_unstable();
        grids.dedup();
        let nodes = shanzhi_store::node::names(&app.db, &grids).await?;
        let mut parents: Vec<&str> = nodes.iter().filter_map(|(_, _, p)| p.as_deref()).collect();
        parents.sort_unstable();
        parents.dedup();
        let above: HashMap<String, String> = shanzhi_store::node::names(&app.db, &parents)
            .await?
            .into_iter()
            .map(|(code, name, _)| (code, name))
            .collect();
        let places = nodes
            .iter()
            .map(|(code, name, parent)| {
                let place = match parent.as_ref().and_then(|p| above.get(p)) {
                    Some(p) => format!("{p} › {name}"),
                    None => name.clone(),
                };
                (code.clone(), place)
            })
            .collect();
        departments.sort_unstable();
        departments.dedup();
        let departments = shanzhi_store::department::by_ids(&app.db, &departments)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect();
        Ok(Names {
            places,
            departments,
        })
    }

    /// The names for events as JSON: their `grid`s, `department_id`s and summoned departments.
    pub async fn of_json(app: &AppState, items: &[Value]) -> ApiResult<Names> {
        let grids = items.iter().filter_map(|v| v["grid"].as_str()).collect();
        let ids = items
            .iter()
            .flat_map(|v| {
                v["department_id"]
                    .as_i64()
                    .into_iter()
                    .chain(summoned(&v["summoned"]))
            })
            .collect();
        Names::load(app, grids, ids).await
    }

    pub fn place(&self, grid: &str) -> Option<&str> {
        self.places.get(grid).map(String::as_str)
    }

    pub fn department(&self, id: Option<i64>) -> Option<&str> {
        id.and_then(|d| self.departments.get(&d))
            .map(String::as_str)
    }

    /// Names each department of a `summoned` list (`[{department_id, …}]`) under `name`.
    pub fn name_summoned(&self, list: &mut Value) {
        for s in list.as_array_mut().into_iter().flatten() {
            let name = self.department(s["department_id"].as_i64());
            s["name"] = json!(name);
        }
    }
}

/// The departments a `summoned` list names.
pub fn summoned(list: &Value) -> impl Iterator<Item = i64> + '_ {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["department_id"].as_i64())
}

/// Adds the names people read to events as JSON: `place` (village › grid) for `grid` and
/// `department` for `department_id`, so no screen shows a 15-digit code or a department id.
pub async fn with_names(app: &AppState, items: &mut [Value]) -> ApiResult<()> {
    let names = Names::of_json(app, items).await?;
    for v in items.iter_mut() {
        let place = v["grid"]
            .as_str()
            .and_then(|g| names.place(g))
            .map(str::to_owned);
        v["place"] = json!(place);
        v["department"] = json!(names.department(v["department_id"].as_i64()));
        names.name_summoned(&mut v["summoned"]);
    }
    Ok(())
}

/// The names of the nodes `codes` (each once, in any order): code → name.
pub async fn node_names<'a>(
    app: &AppState,
    codes: impl IntoIterator<Item = &'a str>,
) -> ApiResult<HashMap<String, String>> {
    let mut codes: Vec<&str> = codes.into_iter().collect();
    codes.sort_unstable();
    codes.dedup();
    Ok(shanzhi_store::node::names(&app.db, &codes)
        .await?
        .into_iter()
        .map(|(code, name, _)| (code, name))
        .collect())
}
