//! Legislative-opinion collection (立法意见征集): `/api/v1/draft-laws/…` and
//! `/api/v1/opinions/{id}/mark` for the collectors, `/api/v1/me/draft-laws` for residents.
//!
//! A collector — a dispatcher or administrator whose area holds the contact point — puts out a
//! draft, article by article, with a closing date; the residents of the area give opinions on
//! an article (or on the draft as a whole, article 0) until then; once the collector closes the
//! collection, each opinion is marked adopted or not with a reason, its author hears of it, and
//! the draft is finished when none is left unmarked. Residents read the draft, how many
//! opinions each article drew and what became of them, and their own opinions in full; the
//! collector reads every opinion with its author's village.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::opinion::{self as rules, Action, DraftState};
use shanzhi_domain::tree::{NaturalLevel, NodeCode};
use shanzhi_domain::user::Role;
use shanzhi_store::notification::NewNotification;
use shanzhi_store::opinion::{Draft, Filter, NewDraft};
use shanzhi_store::StoreError;

use super::doc::{schema as s, Doc, Routes};
use super::village::{duties, home_villages, list_root, newest_first};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json, Query};
use crate::http::state::AppState;

const STATES: [&str; 3] = ["open", "closed", "done"];

/// `/api/v1/draft-laws/…`, `/api/v1/opinions/{id}/mark`, `/api/v1/me/draft-laws`.
pub fn routes() -> Routes {
    let paged = |d: Doc| {
        d.query(
            "before",
            s::int64(),
            "drafts with a smaller id (the next page)",
        )
        .query("limit", s::integer(1, 200), "page size (default 50)")
    };
    let mut articles = s::array_max(s::note(rules::MAX_ARTICLE_CHARS, true), rules::MAX_ARTICLES);
    articles["minItems"] = json!(1);
    Routes::new()
        .get(
            "/api/v1/draft-laws",
            list,
            paged(
                Doc::new(
                    "opinion",
                    "Drafts put out for opinions in an area (立法意见征集), newest first",
                )
                .query(
                    "node",
                    s::node_code(),
                    "an area: the drafts put out at it or below it (default: the user's area)",
                )
                .query("state", s::one_of(&STATES), "one state"),
            ),
        )
        .post(
            "/api/v1/draft-laws",
            create,
            Doc::new(
                "opinion",
                "Put a draft out for the opinions of an area's residents (a dispatcher or administrator over it)",
            )
            .body(&[
                ("node", s::region_code()),
                ("title", s::note(rules::MAX_TITLE_CHARS, true)),
                ("issuer", s::note(rules::MAX_ISSUER_CHARS, true)),
                ("summary?", s::nullable(s::note(rules::MAX_SUMMARY_CHARS, false))),
                ("articles", articles),
                ("closes_on", s::date()),
            ])
            .created(),
        )
        .get(
            "/api/v1/draft-laws/{id}",
            show,
            Doc::new(
                "opinion",
                "A draft with its articles and the opinions each drew (all of them for its collector, one's own for a resident)",
            )
            .path("id", s::int64()),
        )
        .post(
            "/api/v1/draft-laws/{id}/opinions",
            give,
            Doc::new(
                "opinion",
                "Give an opinion on an article of an open draft, or on the draft as a whole (article 0) (residents of its area)",
            )
            .path("id", s::int64())
            .body(&[
                ("article", s::integer(0, rules::MAX_ARTICLES as i64)),
                ("text", s::note(rules::MAX_OPINION_CHARS, true)),
            ])
            .created(),
        )
        .post(
            "/api/v1/draft-laws/{id}/close",
            close,
            Doc::new("opinion", "Close the collection of a draft (its collector)")
                .path("id", s::int64())
                .body(&[("version", s::int64())]),
        )
        .post(
            "/api/v1/draft-laws/{id}/finish",
            finish,
            Doc::new(
                "opinion",
                "Finish a closed draft once every opinion is marked (its collector)",
            )
            .path("id", s::int64())
            .body(&[("version", s::int64())]),
        )
        .post(
            "/api/v1/opinions/{id}/mark",
            mark,
            Doc::new(
                "opinion",
                "Mark an opinion adopted or not, with a reason (the draft's collector, once the collection is closed)",
            )
            .path("id", s::int64())
            .body(&[
                ("adopted", s::boolean()),
                ("reason", s::note(rules::MAX_REASON_CHARS, true)),
                ("version", s::int64()),
            ]),
        )
        .get(
            "/api/v1/me/draft-laws",
            mine,
            paged(Doc::new(
                "opinion",
                "The drafts put out for the citizen's villages and the areas above them, newest first",
            )),
        )
}

/// May the user collect opinions at `node` (put out drafts, close, mark, finish)?
fn collects(user: &CurrentUser, node: &NodeCode) -> bool {
    matches!(user.actor.role, Role::Dispatcher | Role::Admin) && user.actor.reaches(node)
}

/// The nodes whose drafts a citizen reads: their villages and every area above them.
async fn citizen_nodes(app: &AppState, user_id: i64) -> ApiResult<(Vec<String>, Vec<String>)> {
    let villages = home_villages(app, user_id).await?;
    let mut nodes: Vec<String> = Vec::new();
    for v in &villages {
        if let Ok(c) = NodeCode::parse(v) {
            for a in c.ancestor_codes().into_iter().chain([v.clone()]) {
                if !nodes.contains(&a) {
                    nodes.push(a);
                }
            }
        }
    }
    Ok((villages, nodes))
}

/// How the user reads a draft: as its collector (`true`), or as a resident of its area or staff
/// inside it (`false`); to anyone else it does not exist.
async fn readable(app: &AppState, user: &CurrentUser, id: i64) -> ApiResult<(Draft, bool)> {
    let d = match shanzhi_store::opinion::get(&app.db, id).await {
        Ok(d) => d,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("draft")),
        Err(e) => return Err(e.into()),
    };
    let node = NodeCode::parse(&d.node_code).map_err(|e| ApiError::internal(e.into()))?;
    if user.actor.role == Role::Citizen {
        let (_, nodes) = citizen_nodes(app, user.user.id).await?;
        if nodes.contains(&d.node_code) {
            return Ok((d, false));
        }
        return Err(ApiError::not_found("draft"));
    }
    // A department's handler has no part in the collection.
    if user.actor.role == Role::Handler {
        return Err(ApiError::not_found("draft"));
    }
    if user.actor.reaches(&node) {
        return Ok((d, user.actor.role != Role::GridWorker));
    }
    // Staff inside the area (a village's grid worker under a town's draft) read it as residents do.
    if user.actor.scope.node().is_some_and(|n| node.contains(n)) {
        return Ok((d, false));
    }
    Err(ApiError::not_found("draft"))
}

async fn detail(app: &AppState, d: &Draft, user: &CurrentUser, all: bool) -> ApiResult<Value> {
    let mut v = d.to_json();
    let tally = shanzhi_store::opinion::tally(&app.db, d.id).await?;
    let count = |n: i64| {
        tally
            .iter()
            .find(|t| t.0 == n)
            .map(|t| json!({"received": t.1, "adopted": t.2, "not_adopted": t.3}))
            .unwrap_or_else(|| json!({"received": 0, "adopted": 0, "not_adopted": 0}))
    };
    let mut items = vec![json!({"number": 0, "text": null, "opinions": count(0)})];
    for (n, text) in shanzhi_store::opinion::articles(&app.db, d.id).await? {
        items.push(json!({"number": n, "text": text, "opinions": count(n)}));
    }
    v["article_list"] = json!(items);
    let sum = |i: usize| tally.iter().map(|t| [t.1, t.2, t.3][i]).sum::<i64>();
    v["opinions"] = json!({"received": sum(0), "adopted": sum(1), "not_adopted": sum(2)});
    let own = shanzhi_store::opinion::opinions(&app.db, d.id, Some(user.user.id)).await?;
    v["mine"] = json!(own.iter().map(|o| o.public_json()).collect::<Vec<_>>());
    if all {
        let every = shanzhi_store::opinion::opinions(&app.db, d.id, None).await?;
        v["opinion_list"] = json!(every.iter().map(|o| o.to_json()).collect::<Vec<_>>());
        v["created_by"] = json!(d.created_by);
        v["timeline"] = json!(shanzhi_store::opinion::timeline(&app.db, d.id)
            .await?
            .iter()
            .map(|r| r.to_json())
            .collect::<Vec<_>>());
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    node: String,
    title: String,
    issuer: String,
    summary: Option<String>,
    articles: Vec<String>,
    closes_on: String,
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let node =
        NodeCode::parse(&b.node).map_err(|_| ApiError::invalid("node", "not a region code"))?;
    if !matches!(node.natural_level(), NaturalLevel::Region(_)) {
        return Err(ApiError::invalid(
            "node",
            "a draft is put out at a region (a county, a town, a village), not a grid",
        ));
    }
    if !collects(&user, &node) {
        return Err(ApiError::forbidden(
            "drafts are put out by the dispatchers and administrators over the area",
        ));
    }
    match shanzhi_store::node::get(&app.db, &node).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(ApiError::not_found("node")),
        Err(e) => return Err(e.into()),
    }
    let now = app.clock.now_ms();
    let (title, issuer, summary) =
        rules::words(&b.title, &b.issuer, b.summary.as_deref().unwrap_or(""))?;
    let articles = rules::articles(&b.articles)?;
    let closes_at = rules::closes_at(&b.closes_on, now)?;
    let d = shanzhi_store::opinion::insert(
        &app.db,
        &NewDraft {
            node: node.as_str(),
            title: &title,
            issuer: &issuer,
            summary: summary.as_deref(),
            articles: &articles,
            closes_at,
        },
        user.user.id,
        now,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(detail(&app, &d, &user, true).await?),
    ))
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let (d, all) = readable(&app, &user, id).await?;
    Ok(axum::Json(detail(&app, &d, &user, all).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GiveBody {
    article: i64,
    text: String,
}

async fn give(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<GiveBody>,
) -> ApiResult<impl IntoResponse> {
    let (d, _) = readable(&app, &user, id).await?;
    if user.actor.role != Role::Citizen {
        return Err(ApiError::forbidden(
            "opinions are given by the residents of the draft's area",
        ));
    }
    let node = NodeCode::parse(&d.node_code).map_err(|e| ApiError::internal(e.into()))?;
    let (villages, _) = citizen_nodes(&app, user.user.id).await?;
    // The author's village for the figures: the first of theirs inside the draft's area.
    let Some(village) = villages
        .iter()
        .find(|v| NodeCode::parse(v).is_ok_and(|c| node.contains(&c)))
    else {
        return Err(ApiError::not_found("draft"));
    };
    let text = rules::opinion(b.article, d.articles, &b.text)?;
    let now = app.clock.now_ms();
    let st = DraftState::parse(&d.state).unwrap_or(DraftState::Done);
    rules::transition(st, d.closes_at, &Action::Give { now })?;
    if shanzhi_store::opinion::opinions_of(&app.db, id, user.user.id).await?
        >= rules::MAX_OPINIONS_PER_PERSON
    {
        return Err(ApiError::conflict(
            None,
            format!(
                "at most {} opinions each on a draft",
                rules::MAX_OPINIONS_PER_PERSON
            ),
        ));
    }
    match shanzhi_store::opinion::give(&app.db, &d, b.article, user.user.id, village, &text, now)
        .await
    {
        Ok(o) => Ok((StatusCode::CREATED, axum::Json(o.public_json()))),
        Err(StoreError::Stale) => Err(ApiError::conflict(
            Some("state"),
            "the collection has ended: its closing date has passed",
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionBody {
    version: i64,
}

/// The draft if the user collects at its node, at its version.
async fn movable(
    app: &AppState,
    user: &CurrentUser,
    id: i64,
    version: i64,
) -> ApiResult<(Draft, DraftState)> {
    let (d, _) = readable(app, user, id).await?;
    let node = NodeCode::parse(&d.node_code).map_err(|e| ApiError::internal(e.into()))?;
    if !collects(user, &node) {
        return Err(ApiError::forbidden(
            "only the draft's collector (a dispatcher or administrator over its area) moves it",
        ));
    }
    if version != d.version {
        return Err(ApiError::conflict(
            Some("version"),
            "the draft was changed meanwhile; reload and try again",
        ));
    }
    let st = DraftState::parse(&d.state).unwrap_or(DraftState::Done);
    Ok((d, st))
}

async fn step(
    app: &AppState,
    user: &CurrentUser,
    id: i64,
    version: i64,
    finish: bool,
) -> ApiResult<axum::Json<Value>> {
    let (d, st) = movable(app, user, id, version).await?;
    let action = if finish {
        let unmarked = shanzhi_store::opinion::tally(&app.db, id)
            .await?
            .iter()
            .map(|t| t.1 - t.2 - t.3)
            .sum();
        Action::Finish { unmarked }
    } else {
        Action::Close
    };
    let moved = rules::transition(st, d.closes_at, &action)?;
    let now = app.clock.now_ms();
    match shanzhi_store::opinion::moved(
        &app.db,
        &d,
        action.name(),
        moved.to.as_str(),
        user.user.id,
        now,
    )
    .await
    {
        Ok(()) => {}
        Err(StoreError::Stale) => {
            return Err(ApiError::conflict(
                Some("version"),
                "the draft was changed meanwhile; reload and try again",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let d = shanzhi_store::opinion::get(&app.db, id).await?;
    Ok(axum::Json(detail(app, &d, user, true).await?))
}

async fn close(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<VersionBody>,
) -> ApiResult<impl IntoResponse> {
    step(&app, &user, id, b.version, false).await
}

async fn finish(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<VersionBody>,
) -> ApiResult<impl IntoResponse> {
    step(&app, &user, id, b.version, true).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkBody {
    adopted: bool,
    reason: String,
    version: i64,
}

async fn mark(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<MarkBody>,
) -> ApiResult<impl IntoResponse> {
    let o = match shanzhi_store::opinion::opinion(&app.db, id).await {
        Ok(o) => o,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("opinion")),
        Err(e) => return Err(e.into()),
    };
    let (d, all) = readable(&app, &user, o.draft_id)
        .await
        .map_err(|_| ApiError::not_found("opinion"))?;
    if !all {
        return Err(ApiError::not_found("opinion"));
    }
    let node = NodeCode::parse(&d.node_code).map_err(|e| ApiError::internal(e.into()))?;
    if !collects(&user, &node) {
        return Err(ApiError::forbidden(
            "only the draft's collector (a dispatcher or administrator over its area) moves it",
        ));
    }
    if b.version != o.version {
        return Err(ApiError::conflict(
            Some("version"),
            "the opinion was changed meanwhile; reload and try again",
        ));
    }
    let st = DraftState::parse(&d.state).unwrap_or(DraftState::Done);
    let moved = rules::transition(
        st,
        d.closes_at,
        &Action::Mark {
            adopted: b.adopted,
            reason: b.reason.clone(),
        },
    )?;
    let (Some(verdict), Some(reason)) = (moved.verdict, moved.note) else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "a mark without a verdict"
        )));
    };
    let note = NewNotification::to_user(
        o.author_id,
        "opinion_marked",
        json!({"draft_id": d.id, "title": d.title, "verdict": verdict.as_str()}),
        format!(
            "您对《{}》的意见{}",
            d.title,
            if b.adopted {
                "已被采纳"
            } else {
                "未被采纳"
            }
        ),
    );
    let now = app.clock.now_ms();
    match shanzhi_store::opinion::mark(
        &app.db,
        &o,
        verdict.as_str(),
        &reason,
        user.user.id,
        &note,
        now,
    )
    .await
    {
        Ok(()) => {}
        Err(StoreError::Stale) => {
            return Err(ApiError::conflict(
                Some("version"),
                "the opinion was changed meanwhile; reload and try again",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(axum::Json(
        shanzhi_store::opinion::opinion(&app.db, id)
            .await?
            .to_json(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    state: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let held = duties(&app, &user).await?;
    let root = list_root(
        &user,
        &held,
        q.node.as_deref(),
        "citizens read the drafts of their area under /api/v1/me/draft-laws",
    )?;
    let state = match q.state.as_deref() {
        Some(x) => Some(
            DraftState::parse(x)
                .ok_or_else(|| ApiError::invalid("state", "open, closed or done"))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let f = Filter {
        under: root.path().to_owned(),
        nodes: None,
        state,
        before: q.before,
        limit: super::base::limit(q.limit, 50, 200)?,
    };
    page(&app, f).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MineQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

async fn mine(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<MineQuery>,
) -> ApiResult<impl IntoResponse> {
    if user.actor.role != Role::Citizen {
        return Err(ApiError::forbidden(
            "these are a resident's drafts; staff read /api/v1/draft-laws",
        ));
    }
    let (_, nodes) = citizen_nodes(&app, user.user.id).await?;
    let f = Filter {
        under: String::new(),
        nodes: Some(nodes),
        state: None,
        before: q.before,
        limit: super::base::limit(q.limit, 50, 200)?,
    };
    page(&app, f).await
}

async fn page(app: &AppState, f: Filter) -> ApiResult<axum::Json<Value>> {
    let rows = shanzhi_store::opinion::list(&app.db, &f).await?;
    Ok(axum::Json(newest_first(
        rows,
        f.limit,
        |r| r.id,
        Draft::to_json,
    )))
}
