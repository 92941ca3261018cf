//! The names people read for the codes and ids in events as JSON: places for grid codes,
//! departments for department ids (lists, the order page, exports, the hotline's answer).

use serde_json::{json, Value};

use crate::http::error::ApiResult;
use crate::http::state::AppState;

/// Adds the names people read to events as JSON: `place` (village › grid) for `grid` and
/// `department` for `department_id`, so no screen shows a 15-digit code or a department id.
pub async fn with_names(app: &AppState, items: &mut [Value]) -> ApiResult<()> {
    let mut grids: Vec<&str> = items.iter().filter_map(|v| v["grid"].as_str()).collect();
    grids.sort_unstable();
    grids.dedup();
    let nodes = shanzhi_store::node::names(&app.db, &grids).await?;
    let mut parents: Vec<&str> = nodes.iter().filter_map(|(_, _, p)| p.as_deref()).collect();
    parents.sort_unstable();
    parents.dedup();
    let above: std::collections::HashMap<String, String> =
        shanzhi_store::node::names(&app.db, &parents)
            .await?
            .into_iter()
            .map(|(code, name, _)| (code, name))
            .collect();
    let places: std::collections::HashMap<String, String> = nodes
        .iter()
        .map(|(code, name, parent)| {
            let place = match parent.as_ref().and_then(|p| above.get(p)) {
                Some(p) => format!("{p} › {name}"),
                None => name.clone(),
            };
            (code.clone(), place)
        })
        .collect();
    let summoned = |v: &Value| -> Vec<i64> {
        v["summoned"].as_array().map_or_else(Vec::new, |a| {
            a.iter()
                .filter_map(|s| s["department_id"].as_i64())
                .collect()
        })
    };
    let mut ids: Vec<i64> = items
        .iter()
        .flat_map(|v| v["department_id"].as_i64().into_iter().chain(summoned(v)))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let deps: std::collections::HashMap<i64, String> =
        shanzhi_store::department::by_ids(&app.db, &ids)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect();
    for v in items.iter_mut() {
        let place = v["grid"].as_str().and_then(|g| places.get(g)).cloned();
        v["place"] = json!(place);
        let dep = v["department_id"]
            .as_i64()
            .and_then(|d| deps.get(&d))
            .cloned();
        v["department"] = json!(dep);
        if let Some(list) = v["summoned"].as_array_mut() {
            for s in list {
                let name = s["department_id"]
                    .as_i64()
                    .and_then(|d| deps.get(&d))
                    .cloned();
                s["name"] = json!(name);
            }
        }
    }
    Ok(())
}

/// The names of the nodes `codes` (each once, in any order): code → name.
pub async fn node_names<'a>(
    app: &AppState,
    codes: impl IntoIterator<Item = &'a str>,
) -> ApiResult<std::collections::HashMap<String, String>> {
    let mut codes: Vec<&str> = codes.into_iter().collect();
    codes.sort_unstable();
    codes.dedup();
    Ok(shanzhi_store::node::names(&app.db, &codes)
        .await?
        .into_iter()
        .map(|(code, name, _)| (code, name))
        .collect())
}
