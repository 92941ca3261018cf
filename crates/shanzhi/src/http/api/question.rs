//! Villagers' questions (我要监督): `/api/v1/questions/…` for the village and the staff over it,
//! `/api/v1/me/questions` for its residents.
//!
//! A resident asks about a posted entry of the books or a published notice of their village;
//! the village answers within `ANSWER_DAYS` working days (the shared calendar), or the sweep
//! raises supervision at the town (`crate::question`). Questions and answers are public to the
//! village's residents, the asker unnamed. Who answers: whoever speaks for the village
//! ([`speaks_for`]). A suggestion (建言献策) is a question about the village itself: it names the
//! village instead of an entry or a notice, and is answered the same way.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::question::{self as rules, Action, Facts, Outcome, State as QState, Subject};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::Role;
use shanzhi_store::notification::NewNotification;
use shanzhi_store::question::{Asked, Filter, Question};
use shanzhi_store::StoreError;

use super::doc::{schema as s, Doc, Routes};
use super::village::{duties, home_villages, list_root, newest_first, reads, speaks_for, village};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json, Query};
use crate::http::state::AppState;

const SUBJECTS: [&str; 3] = ["entry", "disclosure", "suggestion"];

/// `/api/v1/questions/…`, `/api/v1/me/questions`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/questions",
            list,
            Doc::new(
                "question",
                "Villagers' questions in an area (我要监督), newest first",
            )
            .query(
                "node",
                s::node_code(),
                "a village, or an area whose villages are listed (default: the user's area)",
            )
            .query("state", s::one_of(&["open", "answered"]), "one state")
            .query(
                "supervised",
                s::boolean(),
                "only those supervised (true) or not (false)",
            )
            .query(
                "subject",
                s::one_of(&SUBJECTS),
                "what they are about (with subject_id)",
            )
            .query("subject_id", s::int64(), "the entry's or the notice's id")
            .query(
                "before",
                s::int64(),
                "questions with a smaller id (the next page)",
            )
            .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
        .post(
            "/api/v1/questions",
            ask,
            Doc::new(
                "question",
                "Ask about a posted entry or a published notice of one's village (citizens)",
            )
            .body(&[
                ("subject", s::one_of(&SUBJECTS)),
                ("subject_id?", s::nullable(s::int64())),
                ("node?", s::nullable(s::node_code())),
                ("text", s::note(rules::MAX_QUESTION_CHARS, true)),
            ])
            .created(),
        )
        .get(
            "/api/v1/questions/{id}",
            show,
            Doc::new(
                "question",
                "A question with its answer (and, for staff, its timeline)",
            )
            .path("id", s::int64()),
        )
        .post(
            "/api/v1/questions/{id}/answer",
            answer,
            Doc::new(
                "question",
                "Answer a question (the village, or the staff over it)",
            )
            .path("id", s::int64())
            .body(&[
                ("text", s::note(rules::MAX_ANSWER_CHARS, true)),
                ("version", s::int64()),
            ]),
        )
        .get(
            "/api/v1/me/questions",
            mine,
            Doc::new(
                "question",
                "The questions and answers of the citizen's villages, newest first",
            )
            .query(
                "subject",
                s::one_of(&SUBJECTS),
                "what they are about (with subject_id)",
            )
            .query("subject_id", s::int64(), "the entry's or the notice's id")
            .query(
                "before",
                s::int64(),
                "questions with a smaller id (the next page)",
            )
            .query("limit", s::integer(1, 200), "page size (default 50)"),
        )
}

/// The village of a subject a citizen may ask about: a posted entry or a published notice of
/// one of their villages; else 404 (what they cannot read does not exist for them).
async fn subject_village(
    app: &AppState,
    subject: Subject,
    id: i64,
    villages: &[String],
) -> ApiResult<String> {
    let (node, public) = match subject {
        Subject::Entry => match shanzhi_store::ledger::get(&app.db, id).await {
            Ok(e) => (e.node_code, e.state == "posted"),
            Err(StoreError::NotFound) => return Err(ApiError::not_found("entry")),
            Err(e) => return Err(e.into()),
        },
        Subject::Disclosure => match shanzhi_store::disclosure::get(&app.db, id).await {
            Ok(d) => (d.node_code, d.state == "published"),
            Err(StoreError::NotFound) => return Err(ApiError::not_found("notice")),
            Err(e) => return Err(e.into()),
        },
        // A suggestion names its village, not a subject (see `ask`).
        Subject::Suggestion => return Err(ApiError::not_found("subject")),
    };
    if !public || !villages.contains(&node) {
        return Err(ApiError::not_found(subject.as_str()));
    }
    Ok(node)
}

fn subject(raw: &str) -> ApiResult<Subject> {
    Subject::parse(raw)
        .ok_or_else(|| ApiError::invalid("subject", "entry, disclosure or suggestion"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AskBody {
    subject: String,
    subject_id: Option<i64>,
    node: Option<String>,
    text: String,
}

async fn ask(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<AskBody>,
) -> ApiResult<impl IntoResponse> {
    if user.actor.role != Role::Citizen {
        return Err(ApiError::forbidden("villagers ask; the village answers"));
    }
    let subj = subject(&b.subject)?;
    let text = rules::question_text(&b.text)?;
    let villages = home_villages(&app, user.user.id).await?;
    let (node, subject_id) =
        match (subj, b.subject_id) {
            (Subject::Suggestion, Some(_)) => return Err(ApiError::invalid(
                "subject_id",
                "a suggestion is about the village itself: name the village (node), not a subject",
            )),
            (Subject::Suggestion, None) => {
                let node = match (b.node.as_deref(), villages.as_slice()) {
                    (Some(raw), _) => village(raw, "node")?.as_str().to_owned(),
                    (None, [only]) => only.clone(),
                    (None, _) => {
                        return Err(ApiError::invalid(
                            "node",
                            "name the village (村、社区) the suggestion is for",
                        ))
                    }
                };
                if !villages.contains(&node) {
                    return Err(ApiError::not_found("village"));
                }
                (node, 0)
            }
            (_, None) => {
                return Err(ApiError::invalid(
                    "subject_id",
                    "the id of the entry or the notice asked about",
                ))
            }
            (_, Some(id)) => {
                if b.node.is_some() {
                    return Err(ApiError::invalid(
                        "node",
                        "an entry or a notice names its village itself",
                    ));
                }
                (subject_village(&app, subj, id, &villages).await?, id)
            }
        };
    if shanzhi_store::question::open_of(&app.db, user.user.id).await? >= rules::MAX_OPEN_PER_ASKER {
        return Err(ApiError::conflict(
            None,
            format!(
                "{} of your questions wait for their answers: ask again once they are answered",
                rules::MAX_OPEN_PER_ASKER
            ),
        ));
    }
    let now = app.clock.now_ms();
    let cal = crate::calendar::calendar(&app).await?;
    let due = crate::question::due_at(&cal, now);
    let note = NewNotification::to_centre(
        &node,
        "question_asked",
        json!({"subject": subj.as_str(), "subject_id": subject_id, "node": node}),
        format!(
            "{}，请在 {} 个工作日内答复",
            match subj {
                Subject::Entry => "村民就账目提出了问题",
                Subject::Disclosure => "村民就公开事项提出了问题",
                Subject::Suggestion => "村民提出了建议（建言献策）",
            },
            rules::ANSWER_DAYS
        ),
    );
    let q = shanzhi_store::question::insert(
        &app.db,
        &Asked {
            node: &node,
            subject: subj.as_str(),
            subject_id,
            text: &text,
            due_at: due,
        },
        user.user.id,
        &note,
        now,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(q.public_json(Some(user.user.id))),
    ))
}

/// The question if the user may read it: staff over its village, or its village's residents.
async fn readable(app: &AppState, user: &CurrentUser, id: i64) -> ApiResult<(Question, bool)> {
    let q = match shanzhi_store::question::get(&app.db, id).await {
        Ok(q) => q,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("question")),
        Err(e) => return Err(e.into()),
    };
    let node = NodeCode::parse(&q.node_code).map_err(|e| ApiError::internal(e.into()))?;
    if reads(user, &duties(app, user).await?, &node) {
        return Ok((q, true));
    }
    if user.actor.role == Role::Citizen
        && home_villages(app, user.user.id)
            .await?
            .contains(&q.node_code)
    {
        return Ok((q, false));
    }
    Err(ApiError::not_found("question"))
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let (q, staff) = readable(&app, &user, id).await?;
    if !staff {
        return Ok(axum::Json(q.public_json(Some(user.user.id))));
    }
    let mut v = q.to_json();
    v["timeline"] = json!(shanzhi_store::question::timeline(&app.db, id)
        .await?
        .iter()
        .map(|r| r.to_json())
        .collect::<Vec<_>>());
    Ok(axum::Json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    text: String,
    version: i64,
}

async fn answer(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<AnswerBody>,
) -> ApiResult<impl IntoResponse> {
    let (q, staff) = readable(&app, &user, id).await?;
    let node = NodeCode::parse(&q.node_code).map_err(|e| ApiError::internal(e.into()))?;
    if !staff || !speaks_for(&user, &duties(&app, &user).await?, &node) {
        return Err(ApiError::forbidden(
            "the village, or the staff over it, answers its villagers",
        ));
    }
    if b.version != q.version {
        return Err(ApiError::conflict(
            Some("version"),
            "the question was changed meanwhile; reload and try again",
        ));
    }
    let now = app.clock.now_ms();
    let facts = Facts {
        state: QState::parse(&q.state).unwrap_or(QState::Answered),
        supervised: q.supervised_at.is_some(),
        due_at: q.due_at,
    };
    let Outcome::Answered { text, late } = rules::transition(
        &facts,
        &Action::Answer {
            text: b.text.clone(),
        },
        now,
    )?
    else {
        return Err(ApiError::conflict(
            Some("state"),
            "the question was answered already",
        ));
    };
    let note = NewNotification::to_user(
        q.asked_by,
        "question_answered",
        json!({"question_id": q.id, "subject": q.subject, "subject_id": q.subject_id}),
        "村里答复了您的问题".to_owned(),
    );
    shanzhi_store::question::answer(&app.db, &q, &text, late, user.user.id, &note, now).await?;
    let q = shanzhi_store::question::get(&app.db, id).await?;
    Ok(axum::Json(q.to_json()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    state: Option<String>,
    supervised: Option<bool>,
    subject: Option<String>,
    subject_id: Option<i64>,
    before: Option<i64>,
    limit: Option<i64>,
}

fn subject_filter(subj: Option<&str>, id: Option<i64>) -> ApiResult<Option<(String, Option<i64>)>> {
    match (subj.map(subject).transpose()?, id) {
        (Some(x), Some(id)) => Ok(Some((x.as_str().to_owned(), Some(id)))),
        (Some(Subject::Suggestion), None) => Ok(Some(("suggestion".to_owned(), None))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ApiError::invalid(
            "subject_id",
            "the id of the entry or the notice, with subject",
        )),
        (None, Some(_)) => Err(ApiError::invalid(
            "subject",
            "entry or disclosure, with subject_id",
        )),
    }
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
        "citizens read their villages' questions under /api/v1/me/questions",
    )?;
    let state = match q.state.as_deref() {
        Some(x) => Some(
            QState::parse(x)
                .ok_or_else(|| ApiError::invalid("state", "open or answered"))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let f = Filter {
        under: root.path().to_owned(),
        villages: None,
        subject: subject_filter(q.subject.as_deref(), q.subject_id)?,
        state,
        supervised: q.supervised,
        before: q.before,
        limit: super::base::limit(q.limit, 50, 200)?,
    };
    page(&app, f, None).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MineQuery {
    subject: Option<String>,
    subject_id: Option<i64>,
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
            "these are a villager's questions; staff read /api/v1/questions",
        ));
    }
    let f = Filter {
        under: String::new(),
        villages: Some(home_villages(&app, user.user.id).await?),
        subject: subject_filter(q.subject.as_deref(), q.subject_id)?,
        state: None,
        supervised: None,
        before: q.before,
        limit: super::base::limit(q.limit, 50, 200)?,
    };
    page(&app, f, Some(user.user.id)).await
}

/// A page of questions: staff's (`reader` none) or the public's, the asker unnamed.
async fn page(app: &AppState, f: Filter, reader: Option<i64>) -> ApiResult<axum::Json<Value>> {
    let rows = shanzhi_store::question::list(&app.db, &f).await?;
    Ok(axum::Json(newest_first(
        rows,
        f.limit,
        |r| r.id,
        |r| {
            if reader.is_some() {
                r.public_json(reader)
            } else {
                r.to_json()
            }
        },
    )))
}
