//! Public notices of the villages (四务公开): `/api/v1/disclosures/…` for the village and the
//! staff over it, `/api/v1/me/disclosures` for its residents.
//!
//! The village writes a notice in one of four kinds (party, village, finance, services),
//! publishes it, pins it, and withdraws it with a reason; every move is on its timeline and in
//! the audit. Who writes for a village: its treasurer or committee, the town's agency over it,
//! dispatchers and administrators whose area holds it ([`speaks_for`]). Staff whose area holds
//! the village read everything; its residents read what is published.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::disclosure::{self as rules, Action, Kind, State as NoticeState};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::Role;
use shanzhi_store::audit::AuditEntry;
use shanzhi_store::disclosure::{Disclosure, Filter};
use shanzhi_store::event::LogEntry;
use shanzhi_store::StoreError;

use super::doc::{schema as s, Doc, Routes};
use super::village::{duties, home_villages, list_root, reads, speaks_for, village};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json, Query};
use crate::http::state::AppState;

const KINDS: [&str; 6] = ["party", "village", "finance", "service", "rules", "powers"];
const ACTIONS: [&str; 4] = ["publish", "withdraw", "pin", "unpin"];

fn words_body(with_node: bool) -> Vec<(&'static str, Value)> {
    let mut b = vec![
        ("kind", s::one_of(&KINDS)),
        ("title", s::label(rules::MAX_TITLE_CHARS)),
        ("body", s::note(rules::MAX_BODY_CHARS, true)),
    ];
    if with_node {
        b.insert(0, ("node", s::node_code()));
    } else {
        b.push(("version", s::int64()));
    }
    b
}

/// `/api/v1/disclosures/…`, `/api/v1/me/disclosures`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/disclosures",
            list,
            Doc::new("disclosure", "Notices of the villages of an area (四务公开), newest first")
                .query("node", s::node_code(), "a village, or an area whose villages are listed (default: the user's area)")
                .query("state", s::one_of(&NoticeState::ALL.map(NoticeState::as_str)), "one state")
                .query("kind", s::one_of(&KINDS), "one kind")
                .query("before", s::int64(), "notices with a smaller id (the next page)")
                .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
        .post(
            "/api/v1/disclosures",
            create,
            Doc::new("disclosure", "Write a draft notice for a village (its treasurer or committee, the town's agency, dispatchers and administrators over it)")
                .body(&words_body(true))
                .created(),
        )
        .get(
            "/api/v1/disclosures/{id}",
            show,
            Doc::new("disclosure", "A notice with its timeline").path("id", s::int64()),
        )
        .put(
            "/api/v1/disclosures/{id}",
            replace,
            Doc::new("disclosure", "Change a notice that is not published (a draft or a withdrawn one)")
                .path("id", s::int64())
                .body(&words_body(false)),
        )
        .post(
            "/api/v1/disclosures/{id}/actions",
            act,
            Doc::new("disclosure", "Publish, withdraw (with a reason), pin or unpin a notice")
                .path("id", s::int64())
                .body(&[
                    ("action", s::one_of(&ACTIONS)),
                    ("reason?", s::nullable(s::note(500, false))),
                    ("version", s::int64()),
                ]),
        )
        .get(
            "/api/v1/me/disclosures",
            mine,
            Doc::new("disclosure", "The published notices of the citizen's villages, pinned first")
                .query("kind", s::one_of(&KINDS), "one kind")
                .query("before", s::int64(), "notices with a smaller id (the next page)")
                .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
}

fn kind(raw: &str) -> ApiResult<Kind> {
    Kind::parse(raw).ok_or_else(|| {
        ApiError::invalid("kind", "party, village, finance, service, rules or powers")
    })
}

/// The notice if the user may read it (staff over its village; a resident, when published);
/// else 404.
async fn readable(app: &AppState, user: &CurrentUser, id: i64) -> ApiResult<(Disclosure, bool)> {
    let d = match shanzhi_store::disclosure::get(&app.db, id).await {
        Ok(d) => d,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("notice")),
        Err(e) => return Err(e.into()),
    };
    let node = NodeCode::parse(&d.node_code).map_err(|e| ApiError::internal(e.into()))?;
    if reads(user, &duties(app, user).await?, &node) {
        return Ok((d, true));
    }
    if user.actor.role == Role::Citizen
        && d.state == "published"
        && home_villages(app, user.user.id)
            .await?
            .contains(&d.node_code)
    {
        return Ok((d, false));
    }
    Err(ApiError::not_found("notice"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WordsBody {
    node: Option<String>,
    kind: String,
    title: String,
    body: String,
    version: Option<i64>,
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<WordsBody>,
) -> ApiResult<impl IntoResponse> {
    let node = village(
        b.node
            .as_deref()
            .ok_or_else(|| ApiError::invalid("node", "the village"))?,
        "node",
    )?;
    if !speaks_for(&user, &duties(&app, &user).await?, &node) {
        return Err(ApiError::forbidden(
            "only the village, or the staff over it, writes its notices",
        ));
    }
    if b.version.is_some() {
        return Err(ApiError::invalid("version", "a new notice has no version"));
    }
    let k = kind(&b.kind)?;
    let (title, body) = rules::words(&b.title, &b.body)?;
    let d = shanzhi_store::disclosure::insert(
        &app.db,
        node.as_str(),
        k.as_str(),
        &title,
        &body,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(detail(&app, &d).await?)))
}

async fn replace(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<WordsBody>,
) -> ApiResult<impl IntoResponse> {
    let (d, staff) = readable(&app, &user, id).await?;
    let node = NodeCode::parse(&d.node_code).map_err(|e| ApiError::internal(e.into()))?;
    if !staff || !speaks_for(&user, &duties(&app, &user).await?, &node) {
        return Err(ApiError::forbidden(
            "only the village, or the staff over it, changes its notices",
        ));
    }
    if b.node.is_some() {
        return Err(ApiError::invalid("node", "a notice stays in its village"));
    }
    let version = b
        .version
        .ok_or_else(|| ApiError::invalid("version", "the version read"))?;
    let k = kind(&b.kind)?;
    let (title, body) = rules::words(&b.title, &b.body)?;
    if d.state == "published" {
        return Err(ApiError::conflict(Some("state"), "a published notice is not changed: withdraw it with a reason, correct it and publish it again"));
    }
    shanzhi_store::disclosure::replace(
        &app.db,
        &d,
        version,
        k.as_str(),
        &title,
        &body,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    let d = shanzhi_store::disclosure::get(&app.db, id).await?;
    Ok(axum::Json(detail(&app, &d).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActBody {
    action: String,
    reason: Option<String>,
    version: i64,
}

async fn act(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ActBody>,
) -> ApiResult<impl IntoResponse> {
    let (d, staff) = readable(&app, &user, id).await?;
    let action = match b.action.as_str() {
        "publish" => Action::Publish,
        "withdraw" => Action::Withdraw {
            reason: b.reason.clone().unwrap_or_default(),
        },
        "pin" => Action::Pin,
        "unpin" => Action::Unpin,
        _ => {
            return Err(ApiError::invalid(
                "action",
                "publish, withdraw, pin or unpin",
            ))
        }
    };
    let node = NodeCode::parse(&d.node_code).map_err(|e| ApiError::internal(e.into()))?;
    if !staff || !speaks_for(&user, &duties(&app, &user).await?, &node) {
        return Err(ApiError::forbidden(
            "only the village, or the staff over it, publishes its notices",
        ));
    }
    if b.version != d.version {
        return Err(ApiError::conflict(
            Some("version"),
            "the notice was changed by someone else; reload and try again",
        ));
    }
    let state = NoticeState::parse(&d.state).unwrap_or(NoticeState::Withdrawn);
    let m = rules::transition(state, d.pinned, &action)?;
    let log = LogEntry {
        actor_id: Some(user.user.id),
        action: action.name().to_owned(),
        from_state: Some(d.state.clone()),
        to_state: m.to.as_str().to_owned(),
        note: m.note.clone(),
        data: json!({"pinned": m.pinned}),
    };
    let audit = AuditEntry::new(
        Some(user.user.id),
        &format!("disclosure.{}", action.name()),
        "disclosure",
        id.to_string(),
    )
    .before(json!({"state": d.state, "pinned": d.pinned}))
    .after(json!({"state": m.to.as_str(), "pinned": m.pinned, "reason": m.note}));
    shanzhi_store::disclosure::save_move(
        &app.db,
        &d,
        m.to.as_str(),
        m.pinned,
        &log,
        &audit,
        app.clock.now_ms(),
    )
    .await?;
    let d = shanzhi_store::disclosure::get(&app.db, id).await?;
    Ok(axum::Json(detail(&app, &d).await?))
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let (d, staff) = readable(&app, &user, id).await?;
    if staff {
        Ok(axum::Json(detail(&app, &d).await?))
    } else {
        Ok(axum::Json(d.public_json()))
    }
}

/// A notice for staff, with its timeline.
async fn detail(app: &AppState, d: &Disclosure) -> ApiResult<Value> {
    let mut v = d.to_json();
    v["timeline"] = json!(shanzhi_store::disclosure::timeline(&app.db, d.id)
        .await?
        .iter()
        .map(|r| r.to_json())
        .collect::<Vec<_>>());
    Ok(v)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    state: Option<String>,
    kind: Option<String>,
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
        "citizens read their villages' notices under /api/v1/me/disclosures",
    )?;
    let state = match q.state.as_deref() {
        Some(x) => Some(
            NoticeState::parse(x)
                .ok_or_else(|| ApiError::invalid("state", "draft, published or withdrawn"))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let f = Filter {
        under: root.path().to_owned(),
        villages: None,
        state,
        kind: q
            .kind
            .as_deref()
            .map(kind)
            .transpose()?
            .map(|k| k.as_str().to_owned()),
        pinned_first: false,
        pinned: None,
        before: q.before,
        limit: super::base::limit(q.limit, 50, 200)?,
    };
    page(&app, f, true).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MineQuery {
    kind: Option<String>,
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
            "these are a villager's notices; staff read /api/v1/disclosures",
        ));
    }
    let f = Filter {
        under: String::new(),
        villages: Some(home_villages(&app, user.user.id).await?),
        state: Some("published".to_owned()),
        kind: q
            .kind
            .as_deref()
            .map(kind)
            .transpose()?
            .map(|k| k.as_str().to_owned()),
        // The first page: pinned notices first; the pages after it go on with the others.
        pinned_first: q.before.is_none(),
        pinned: q.before.is_some().then_some(false),
        before: q.before,
        limit: super::base::limit(q.limit, 50, 200)?,
    };
    page(&app, f, false).await
}

async fn page(app: &AppState, f: Filter, staff: bool) -> ApiResult<axum::Json<Value>> {
    let limit = f.limit;
    let mut rows = shanzhi_store::disclosure::list(&app.db, &f).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let names = super::names::node_names(app, rows.iter().map(|r| r.node_code.as_str())).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = if staff { r.to_json() } else { r.public_json() };
            v["node_name"] = json!(names.get(&r.node_code));
            v
        })
        .collect();
    // Pinned first: the next page goes on from the smallest id seen among the unpinned.
    let next = if more {
        rows.iter()
            .filter(|r| !f.pinned_first || !r.pinned)
            .map(|r| r.id)
            .min()
    } else {
        None
    };
    Ok(axum::Json(json!({"items": items, "next_cursor": next})))
}
