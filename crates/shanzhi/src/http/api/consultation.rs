//! Consultations (协商议事): `/api/v1/consultations/…` for the village and the staff over it,
//! `/api/v1/me/consultations` for its residents.
//!
//! Whoever speaks for a village ([`speaks_for`]) puts a topic to its residents; the residents
//! (and the village, as itself) comment while it is open; the meeting's record closes the
//! comments; the outcome is published and every resident who commented hears of it. Topics,
//! comments, records and outcomes are public to the village's residents, the commenters unnamed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::consultation::{self as rules, Action, Decision, State as CState};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::Role;
use shanzhi_store::consultation::{Change, Consultation, Filter};
use shanzhi_store::notification::NewNotification;
use shanzhi_store::StoreError;

use super::doc::{schema as s, Doc, Routes};
use super::village::{duties, home_villages, list_root, newest_first, reads, speaks_for, village};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json, Query};
use crate::http::state::AppState;

const STATES: [&str; 4] = ["open", "held", "concluded", "withdrawn"];
const DECISIONS: [&str; 3] = ["agreed", "rejected", "deferred"];

/// `/api/v1/consultations/…`, `/api/v1/me/consultations`.
pub fn routes() -> Routes {
    let paged = |d: Doc| {
        d.query(
            "before",
            s::int64(),
            "topics with a smaller id (the next page)",
        )
        .query("limit", s::integer(1, 200), "page size (default 50)")
    };
    Routes::new()
        .get(
            "/api/v1/consultations",
            list,
            paged(
                Doc::new(
                    "consultation",
                    "Consultation topics in an area (协商议事), newest first",
                )
                .query(
                    "node",
                    s::node_code(),
                    "a village, or an area whose villages are listed (default: the user's area)",
                )
                .query("state", s::one_of(&STATES), "one state"),
            ),
        )
        .post(
            "/api/v1/consultations",
            open,
            Doc::new(
                "consultation",
                "Put a topic to a village's residents (the village, or the staff over it)",
            )
            .body(&[
                ("node", s::node_code()),
                ("title", s::note(rules::MAX_TITLE_CHARS, true)),
                ("body", s::note(rules::MAX_BODY_CHARS, true)),
            ])
            .created(),
        )
        .get(
            "/api/v1/consultations/{id}",
            show,
            Doc::new(
                "consultation",
                "A topic with its comments, record and outcome (and, for staff, its timeline)",
            )
            .path("id", s::int64()),
        )
        .post(
            "/api/v1/consultations/{id}/comments",
            comment,
            Doc::new(
                "consultation",
                "Comment on an open topic (its village's residents, or the village itself)",
            )
            .path("id", s::int64())
            .body(&[("text", s::note(rules::MAX_COMMENT_CHARS, true))])
            .created(),
        )
        .post(
            "/api/v1/consultations/{id}/hold",
            hold,
            Doc::new(
                "consultation",
                "Record the meeting on a topic (议事记录); closes its comments",
            )
            .path("id", s::int64())
            .body(&[
                ("held_at", s::int64()),
                ("place", s::label(100)),
                ("attendees", s::integer(1, rules::MAX_ATTENDEES)),
                ("record", s::note(rules::MAX_RECORD_CHARS, true)),
                ("version", s::int64()),
            ]),
        )
        .post(
            "/api/v1/consultations/{id}/conclude",
            conclude,
            Doc::new(
                "consultation",
                "Publish the outcome of a topic after its meeting",
            )
            .path("id", s::int64())
            .body(&[
                ("decision", s::one_of(&DECISIONS)),
                ("text", s::note(rules::MAX_OUTCOME_CHARS, true)),
                ("version", s::int64()),
            ]),
        )
        .post(
            "/api/v1/consultations/{id}/withdraw",
            withdraw,
            Doc::new("consultation", "Withdraw an open topic, with a reason")
                .path("id", s::int64())
                .body(&[("reason", s::note(500, true)), ("version", s::int64())]),
        )
        .get(
            "/api/v1/me/consultations",
            mine,
            paged(Doc::new(
                "consultation",
                "The consultation topics of the citizen's villages, newest first",
            )),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenBody {
    node: String,
    title: String,
    body: String,
}

async fn open(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<OpenBody>,
) -> ApiResult<impl IntoResponse> {
    let node = village(&b.node, "node")?;
    if !speaks_for(&user, &duties(&app, &user).await?, &node) {
        return Err(ApiError::forbidden(
            "only the village, or the staff over it, puts topics to its residents",
        ));
    }
    let (title, body) = rules::words(&b.title, &b.body)?;
    let c = shanzhi_store::consultation::insert(
        &app.db,
        node.as_str(),
        &title,
        &body,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(c.to_json())))
}

/// Who reads a topic: staff over its village (`Some(speaks)`: may they speak for it), or its
/// residents (`None`); to anyone else it does not exist.
async fn readable(
    app: &AppState,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<(Consultation, Option<bool>)> {
    let c = match shanzhi_store::consultation::get(&app.db, id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("consultation")),
        Err(e) => return Err(e.into()),
    };
    let node = NodeCode::parse(&c.node_code).map_err(|e| ApiError::internal(e.into()))?;
    let held = duties(app, user).await?;
    if reads(user, &held, &node) {
        let speaks = speaks_for(user, &held, &node);
        return Ok((c, Some(speaks)));
    }
    if user.actor.role == Role::Citizen
        && home_villages(app, user.user.id)
            .await?
            .contains(&c.node_code)
    {
        return Ok((c, None));
    }
    Err(ApiError::not_found("consultation"))
}

async fn detail(
    app: &AppState,
    c: &Consultation,
    user: &CurrentUser,
    staff: bool,
) -> ApiResult<Value> {
    let mut v = c.to_json();
    let comments = shanzhi_store::consultation::comments(&app.db, c.id).await?;
    let me = user.user.id;
    v["comment_list"] = json!(comments
        .iter()
        .map(|x| if staff {
            x.to_json(me)
        } else {
            x.public_json(me)
        })
        .collect::<Vec<_>>());
    if staff {
        v["created_by"] = json!(c.created_by);
        v["timeline"] = json!(shanzhi_store::consultation::timeline(&app.db, c.id)
            .await?
            .iter()
            .map(|r| r.to_json())
            .collect::<Vec<_>>());
    }
    Ok(v)
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let (c, staff) = readable(&app, &user, id).await?;
    Ok(axum::Json(detail(&app, &c, &user, staff.is_some()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    text: String,
}

async fn comment(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<CommentBody>,
) -> ApiResult<impl IntoResponse> {
    let (c, staff) = readable(&app, &user, id).await?;
    let by_village = match staff {
        None => false,
        Some(true) => true,
        Some(false) => {
            return Err(ApiError::forbidden(
                "the village's residents comment, and the village itself",
            ))
        }
    };
    let text = rules::comment_text(&b.text)?;
    let now = app.clock.now_ms();
    let st = CState::parse(&c.state).unwrap_or(CState::Withdrawn);
    rules::transition(st, c.opened_at, &Action::Comment, now)?;
    if shanzhi_store::consultation::comments_of(&app.db, id, user.user.id).await?
        >= rules::MAX_COMMENTS_PER_PERSON
    {
        return Err(ApiError::conflict(
            None,
            format!(
                "at most {} comments each on a topic",
                rules::MAX_COMMENTS_PER_PERSON
            ),
        ));
    }
    let row = match shanzhi_store::consultation::comment(
        &app.db,
        id,
        user.user.id,
        by_village,
        &text,
        now,
    )
    .await
    {
        Ok(r) => r,
        Err(StoreError::Stale) => {
            return Err(ApiError::conflict(
                Some("version"),
                "the topic was changed meanwhile; reload and try again",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(row.public_json(user.user.id)),
    ))
}

/// The topic if the user may move it: staff who speak for its village, at its version.
async fn movable(
    app: &AppState,
    user: &CurrentUser,
    id: i64,
    version: i64,
) -> ApiResult<(Consultation, CState)> {
    let (c, staff) = readable(app, user, id).await?;
    if staff != Some(true) {
        return Err(ApiError::forbidden(
            "only the village, or the staff over it, moves its topics",
        ));
    }
    if version != c.version {
        return Err(ApiError::conflict(
            Some("version"),
            "the topic was changed meanwhile; reload and try again",
        ));
    }
    let st = CState::parse(&c.state).unwrap_or(CState::Withdrawn);
    Ok((c, st))
}

/// Writes a move; a topic changed meanwhile is a conflict.
#[allow(clippy::too_many_arguments)]
async fn save(
    app: &AppState,
    c: &Consultation,
    action: &Action,
    to: CState,
    change: &Change,
    note: Option<&str>,
    user: &CurrentUser,
    notes: &[NewNotification],
    now: i64,
) -> ApiResult<axum::Json<Value>> {
    match shanzhi_store::consultation::moved(
        &app.db,
        c,
        action.name(),
        to.as_str(),
        change,
        note,
        user.user.id,
        notes,
        now,
    )
    .await
    {
        Ok(()) => {}
        Err(StoreError::Stale) => {
            return Err(ApiError::conflict(
                Some("version"),
                "the topic was changed meanwhile; reload and try again",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let c = shanzhi_store::consultation::get(&app.db, c.id).await?;
    Ok(axum::Json(detail(app, &c, user, true).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldBody {
    held_at: i64,
    place: String,
    attendees: i64,
    record: String,
    version: i64,
}

async fn hold(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<HoldBody>,
) -> ApiResult<impl IntoResponse> {
    let (c, st) = movable(&app, &user, id, b.version).await?;
    let now = app.clock.now_ms();
    let m = rules::meeting(b.held_at, &b.place, b.attendees, &b.record)?;
    let action = Action::Hold(m.clone());
    let moved = rules::transition(st, c.opened_at, &action, now)?;
    let change = Change {
        held_at: Some(m.held_at),
        place: Some(m.place),
        attendees: Some(m.attendees),
        record: Some(m.record),
        ..Change::default()
    };
    save(
        &app,
        &c,
        &action,
        moved.to,
        &change,
        moved.note.as_deref(),
        &user,
        &[],
        now,
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConcludeBody {
    decision: String,
    text: String,
    version: i64,
}

async fn conclude(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ConcludeBody>,
) -> ApiResult<impl IntoResponse> {
    let (c, st) = movable(&app, &user, id, b.version).await?;
    let decision = Decision::parse(&b.decision)
        .ok_or_else(|| ApiError::invalid("decision", "agreed, rejected or deferred"))?;
    let now = app.clock.now_ms();
    let action = Action::Conclude {
        decision,
        text: b.text.clone(),
    };
    let moved = rules::transition(st, c.opened_at, &action, now)?;
    let change = Change {
        decision: Some(decision.as_str().to_owned()),
        outcome: Some(b.text.trim().to_owned()),
        ..Change::default()
    };
    // Every resident who commented hears of the outcome.
    let notes: Vec<NewNotification> = shanzhi_store::consultation::commenters(&app.db, id)
        .await?
        .into_iter()
        .map(|u| {
            NewNotification::to_user(
                u,
                "consultation_concluded",
                json!({"consultation_id": c.id, "title": c.title, "decision": decision.as_str()}),
                format!("您参与讨论的议题“{}”有了结果", c.title),
            )
        })
        .collect();
    save(
        &app,
        &c,
        &action,
        moved.to,
        &change,
        moved.note.as_deref(),
        &user,
        &notes,
        now,
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WithdrawBody {
    reason: String,
    version: i64,
}

async fn withdraw(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<WithdrawBody>,
) -> ApiResult<impl IntoResponse> {
    let (c, st) = movable(&app, &user, id, b.version).await?;
    let now = app.clock.now_ms();
    let action = Action::Withdraw {
        reason: b.reason.clone(),
    };
    let moved = rules::transition(st, c.opened_at, &action, now)?;
    let change = Change {
        reason: moved.note.clone(),
        ..Change::default()
    };
    save(
        &app,
        &c,
        &action,
        moved.to,
        &change,
        moved.note.as_deref(),
        &user,
        &[],
        now,
    )
    .await
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
        "citizens read their villages' topics under /api/v1/me/consultations",
    )?;
    let state = match q.state.as_deref() {
        Some(x) => Some(
            CState::parse(x)
                .ok_or_else(|| ApiError::invalid("state", "open, held, concluded or withdrawn"))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let f = Filter {
        under: root.path().to_owned(),
        villages: None,
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
            "these are a villager's topics; staff read /api/v1/consultations",
        ));
    }
    let f = Filter {
        under: String::new(),
        villages: Some(home_villages(&app, user.user.id).await?),
        state: None,
        before: q.before,
        limit: super::base::limit(q.limit, 50, 200)?,
    };
    page(&app, f).await
}

async fn page(app: &AppState, f: Filter) -> ApiResult<axum::Json<Value>> {
    let rows = shanzhi_store::consultation::list(&app.db, &f).await?;
    Ok(axum::Json(newest_first(
        rows,
        f.limit,
        |r| r.id,
        Consultation::to_json,
    )))
}
