//! Figures of the villages' affairs in the open (issue 16, part 8), per village and rolled up
//! over an area: the books (entries posted, expenses and those backed by an invoice image,
//! entries waiting), the villagers' questions (asked, answered, on time, open, supervised), the
//! public notices, the contracts register's flags by clean-up status, and the points awarded
//! (by hand and for confirmed reports) and redeemed, the consultations (topics by state, comments)
//! and the legislative opinions the villages' residents gave (received, adopted, not adopted).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::doc::{schema as s, Doc, Routes};
use super::village::{duties, list_root};
use crate::http::error::ApiResult;
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;

/// `/api/v1/figures/village-affairs`.
pub fn routes() -> Routes {
    Routes::new().get(
        "/api/v1/figures/village-affairs",
        figures,
        Doc::new(
            "figures",
            "Figures of the villages' affairs in the open, per village of an area and rolled up",
        )
        .query(
            "node",
            s::node_code(),
            "an area or a village (default: the user's area)",
        ),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FiguresQuery {
    node: Option<String>,
}

/// Adds `values` under `group` to the village's figures.
fn put(rows: &mut BTreeMap<String, Map<String, Value>>, village: &str, group: &str, values: Value) {
    rows.entry(village.to_owned())
        .or_default()
        .insert(group.to_owned(), values);
}

async fn figures(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FiguresQuery>,
) -> ApiResult<impl IntoResponse> {
    let held = duties(&app, &user).await?;
    let root = list_root(
        &user,
        &held,
        q.node.as_deref(),
        "figures are read by staff of an area",
    )?;
    let under = root.path();
    let db = &app.db;
    let mut rows: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for (v, posted, expenses, invoiced, waiting) in
        shanzhi_store::ledger::figures_by_village(db, under).await?
    {
        put(
            &mut rows,
            &v,
            "ledger",
            json!({"posted": posted, "expenses": expenses, "invoiced": invoiced, "waiting": waiting}),
        );
    }
    for (v, asked, answered, on_time, open, supervised) in
        shanzhi_store::question::figures_by_village(db, under).await?
    {
        put(
            &mut rows,
            &v,
            "questions",
            json!({"asked": asked, "answered": answered, "on_time": on_time, "open": open, "supervised": supervised}),
        );
    }
    for (v, published, pinned) in shanzhi_store::disclosure::figures_by_village(db, under).await? {
        put(
            &mut rows,
            &v,
            "notices",
            json!({"published": published, "pinned": pinned}),
        );
    }
    for (v, contracts, open, rectifying, cleaned) in
        shanzhi_store::contract::figures_by_village(db, under).await?
    {
        put(
            &mut rows,
            &v,
            "contracts",
            json!({"contracts": contracts, "open": open, "rectifying": rectifying, "cleaned": cleaned}),
        );
    }
    for (v, awarded, automatic, redeemed) in
        shanzhi_store::points::figures_by_village(db, under).await?
    {
        put(
            &mut rows,
            &v,
            "points",
            json!({"awarded": awarded, "automatic": automatic, "redeemed": redeemed}),
        );
    }
    for (v, topics, open, held, concluded, comments) in
        shanzhi_store::consultation::figures_by_village(db, under).await?
    {
        put(
            &mut rows,
            &v,
            "consultations",
            json!({"topics": topics, "open": open, "held": held, "concluded": concluded, "comments": comments}),
        );
    }
    for (v, received, adopted, not_adopted) in
        shanzhi_store::opinion::figures_by_village(db, under).await?
    {
        put(
            &mut rows,
            &v,
            "opinions",
            json!({"received": received, "adopted": adopted, "not_adopted": not_adopted}),
        );
    }
    let groups: [(&str, &[&str]); 7] = [
        ("ledger", &["posted", "expenses", "invoiced", "waiting"]),
        (
            "questions",
            &["asked", "answered", "on_time", "open", "supervised"],
        ),
        ("notices", &["published", "pinned"]),
        ("contracts", &["contracts", "open", "rectifying", "cleaned"]),
        ("points", &["awarded", "automatic", "redeemed"]),
        (
            "consultations",
            &["topics", "open", "held", "concluded", "comments"],
        ),
        ("opinions", &["received", "adopted", "not_adopted"]),
    ];
    // Every village with all its groups (zeros where nothing is kept), and their sum.
    let mut total = Map::new();
    for (g, fields) in groups {
        total.insert(
            g.to_owned(),
            json!(fields
                .iter()
                .map(|f| (f.to_string(), json!(0)))
                .collect::<Map<_, _>>()),
        );
        for row in rows.values_mut() {
            let entry = row.entry(g.to_owned()).or_insert_with(|| {
                json!(fields
                    .iter()
                    .map(|f| (f.to_string(), json!(0)))
                    .collect::<Map<_, _>>())
            });
            for f in fields {
                let n = entry[f].as_i64().unwrap_or(0);
                total[g][f] = json!(total[g][f].as_i64().unwrap_or(0) + n);
            }
        }
    }
    let names = super::names::node_names(&app, rows.keys().map(String::as_str)).await?;
    let villages: Vec<Value> = rows
        .into_iter()
        .map(|(code, mut row)| {
            row.insert("name".into(), json!(names.get(&code)));
            row.insert("code".into(), json!(code));
            Value::Object(row)
        })
        .collect();
    Ok(axum::Json(
        json!({"node": root.as_str(), "villages": villages, "total": total}),
    ))
}
