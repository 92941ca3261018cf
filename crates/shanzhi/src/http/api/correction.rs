//! The citizen's own household (我的家庭) and corrections (更正申请): a citizen reads their
//! household (masked) and asks for a change to one field of one member's record; the grid
//! workers of its node are told, list the requests and decide; accepting changes the record.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::resident::base_access;
use shanzhi_domain::resident::record::{
    parse_ethnicity, parse_identity, parse_person_name, parse_workplace, IdKind,
};
use shanzhi_domain::user::person::Phone;
use shanzhi_domain::user::Role;
use shanzhi_store::correction::{Asked, CorrectionRow};
use shanzhi_store::notification::NewNotification;
use shanzhi_store::resident::{Change, ResidentRow};

use super::doc::{schema as s, Doc, Routes};
use super::resident::{check_note, need_write, node_for, write_error, MAX_NOTE_CHARS};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{next_page, page_limit, CurrentUser, Json, Query};
use crate::http::state::AppState;

/// Fields a citizen may ask to correct.
const FIELDS: &[&str] = &["name", "phone", "id_number", "ethnicity", "workplace"];
/// Most corrections one page lists.
const MAX_LIMIT: i64 = 200;

/// `/api/v1/me/household…`, `/api/v1/corrections…`.
pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/me/household", mine, Doc::new("resident",
            "The citizen's own resident record, household and members (masked), and their correction requests"))
        .post("/api/v1/me/household/corrections", request, Doc::new("resident",
            "Ask the grid workers to correct one field of a member of one's own household")
            .body(&[
                ("resident_id", s::int64()),
                ("field", s::one_of(FIELDS)),
                ("value", s::note(100, true)),
                ("note?", s::nullable(s::note(MAX_NOTE_CHARS, false))),
            ])
            .created())
        .get("/api/v1/corrections", list, Doc::new("resident",
            "Correction requests of a subtree (staff with base-data access), newest first")
            .query("node", s::node_code(), "the subtree (default: the user's area)")
            .query("state", s::one_of(&["pending", "accepted", "rejected"]), "only this state")
            .query("cursor", s::int64(), "next_cursor of the previous page")
            .query("limit", s::integer(1, MAX_LIMIT), "at most 200 (default 50)"))
        .post("/api/v1/corrections/{id}/decide", decide, Doc::new("resident",
            "Accept (the record is changed) or reject a correction request; the citizen is told")
            .path("id", s::int64())
            .body(&[("accept", s::boolean()), ("note?", s::nullable(s::note(MAX_NOTE_CHARS, false)))]))
}

/// The citizen's resident record; 404 when their account is linked to none.
async fn own_record(app: &AppState, user: &CurrentUser) -> ApiResult<ResidentRow> {
    if user.actor.role != Role::Citizen {
        return Err(ApiError::forbidden(
            "only citizens have an own household here",
        ));
    }
    shanzhi_store::resident::of_user(&app.db, user.user.id)
        .await?
        .ok_or_else(|| ApiError::not_found("resident record of this account"))
}

async fn mine(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    let me = own_record(&app, &user).await?;
    let household = match me.household_id {
        Some(h) => match shanzhi_store::household::get(&app.db, h).await? {
            Some(hh) => super::household::with_members(&app, &hh).await?,
            None => Value::Null,
        },
        None => Value::Null,
    };
    let corrections = shanzhi_store::correction::of_requester(&app.db, user.user.id).await?;
    Ok(axum::Json(json!({
        "resident": me.to_json(),
        "household": household,
        "corrections": corrections.iter().map(CorrectionRow::to_json).collect::<Vec<_>>(),
    })))
}

/// The change a correction of `field` to `value` makes to `r`, checked as the register checks
/// it (the error names `value`).
fn change_of(r: &ResidentRow, field: &str, value: &str, now: i64) -> ApiResult<Change> {
    let named = |e: shanzhi_domain::DomainError| -> ApiError {
        match e {
            shanzhi_domain::DomainError::Invalid { reason, .. } => {
                ApiError::invalid("value", reason)
            }
            other => other.into(),
        }
    };
    let mut c = Change::default();
    match field {
        "name" => c.name = Some(parse_person_name(value).map_err(named)?),
        "phone" => c.phone = Some(Some(Phone::parse(value).map_err(named)?)),
        "id_number" => {
            let kind = IdKind::parse(&r.id_kind).map_err(named)?;
            let id = parse_identity(kind, value, now).map_err(named)?;
            if let shanzhi_domain::resident::Identity::Resident(n) = &id {
                c.gender = Some(n.sex().as_str().to_owned());
                c.birth_year = Some(i32::from(n.born().year));
            }
            c.identity = Some(id);
        }
        "ethnicity" => c.ethnicity = Some(Some(parse_ethnicity(value).map_err(named)?)),
        "workplace" => c.workplace = Some(parse_workplace(value).map_err(named)?),
        _ => {
            return Err(ApiError::invalid(
                "field",
                "must be one of: name phone id_number ethnicity workplace",
            ))
        }
    }
    Ok(c)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestBody {
    resident_id: i64,
    field: String,
    value: String,
    note: Option<String>,
}

async fn request(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<RequestBody>,
) -> ApiResult<impl IntoResponse> {
    let me = own_record(&app, &user).await?;
    let target = if b.resident_id == me.id {
        me
    } else {
        let (row, _) = super::resident::visible(&app, &user, b.resident_id).await?;
        row
    };
    let now = app.clock.now_ms();
    let note = check_note(b.note.as_deref())?;
    // Checked now, so the worker decides on a value the register would take.
    let change = change_of(&target, &b.field, &b.value, now)?;
    let asked = match (&change.phone, &change.identity) {
        (Some(Some(p)), _) => Asked::Sealed {
            value: p.expose().to_owned(),
            mask: p.masked(),
        },
        (_, Some(i)) => Asked::Sealed {
            value: i.expose().to_owned(),
            mask: i.masked(),
        },
        _ => Asked::Plain(b.value.trim().to_owned()),
    };
    let workers = shanzhi_store::correction::grid_workers_over(&app.db, &target.node()?).await?;
    let field = b.field.clone();
    let notices = |id: i64| -> Vec<NewNotification> {
        workers
            .iter()
            .map(|w| {
                NewNotification::to_user(
                    *w,
                    "correction_requested",
                    json!({"correction_id": id, "field": field}),
                    format!("更正申请 #{id}：居民申请更正户籍信息"),
                )
            })
            .collect()
    };
    let (row, notes) = shanzhi_store::correction::insert(
        &app.db,
        &app.pii,
        &target,
        user.user.id,
        &b.field,
        &asked,
        &note,
        notices,
        now,
    )
    .await?;
    app.notices.announce(&notes);
    Ok((StatusCode::CREATED, axum::Json(row.to_json())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    state: Option<String>,
    cursor: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let node = node_for(&user, q.node.as_deref(), |a| a.read)?;
    let limit = page_limit(q.limit, 50, MAX_LIMIT)?;
    if q.state
        .as_deref()
        .is_some_and(|s| !["pending", "accepted", "rejected"].contains(&s))
    {
        return Err(ApiError::invalid(
            "state",
            "must be one of: pending accepted rejected",
        ));
    }
    let mut rows = shanzhi_store::correction::list(
        &app.db,
        node.path(),
        q.state.as_deref(),
        q.cursor,
        limit + 1,
    )
    .await?;
    let next = next_page(&mut rows, limit, |r| r.id);
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut v = r.to_json();
        v["resident"] = match shanzhi_store::resident::get(&app.db, r.resident_id).await? {
            Some(res) => json!({"id": res.id, "name": res.name}),
            None => Value::Null,
        };
        items.push(v);
    }
    Ok(axum::Json(json!({"items": items, "next_cursor": next})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideBody {
    accept: bool,
    note: Option<String>,
}

async fn decide(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<DecideBody>,
) -> ApiResult<impl IntoResponse> {
    let row = shanzhi_store::correction::get(&app.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("correction"))?;
    let access = base_access(&user.actor, &row.node()?);
    if !access.read {
        return Err(ApiError::not_found("correction"));
    }
    need_write(&access)?;
    if row.state != "pending" {
        return Err(ApiError::conflict(
            Some("state"),
            format!("this correction was {} already", row.state),
        ));
    }
    let note = check_note(b.note.as_deref())?;
    let now = app.clock.now_ms();
    let change = if b.accept {
        let resident = shanzhi_store::resident::get(&app.db, row.resident_id)
            .await?
            .ok_or_else(|| ApiError::not_found("resident"))?;
        let value = match &row.value {
            Some(v) => v.clone(),
            None => shanzhi_store::correction::sealed_value(&app.db, &app.pii, id)
                .await?
                .unwrap_or_default(),
        };
        Some(change_of(&resident, &row.field, &value, now)?)
    } else {
        None
    };
    let notice = NewNotification::to_user(
        row.requester_id,
        "correction_decided",
        json!({"correction_id": id, "field": row.field, "accept": b.accept, "reason": note}),
        if b.accept {
            format!("更正申请 #{id} 已采纳")
        } else {
            format!("更正申请 #{id} 未采纳")
        },
    );
    let decided = match shanzhi_store::correction::decide(
        &app.db,
        &app.pii,
        id,
        change.as_ref(),
        &note,
        user.user.id,
        &notice,
        now,
    )
    .await
    {
        Ok(d) => d,
        Err(e) => {
            return Err(
                write_error(&app, e, change.as_ref().and_then(|c| c.identity.as_ref())).await,
            )
        }
    };
    let Some(decided) = decided else {
        return Err(ApiError::conflict(
            Some("state"),
            "this correction was decided already",
        ));
    };
    app.notices.announce(std::slice::from_ref(&notice));
    Ok(axum::Json(decided.to_json()))
}
