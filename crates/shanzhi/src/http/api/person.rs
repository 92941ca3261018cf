//! People as others see them over HTTP: names and units in the user's scope, a user's
//! call-back phone, and the reporter's phone revealed for a call-back (回访) with a purpose.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::event::state::MAX_NOTE_CHARS;
use shanzhi_domain::user::person::{can_reveal_reporter_contact, Email, Phone};
use shanzhi_domain::user::Role;
use shanzhi_store::audit::AuditEntry;

use super::doc::{schema as s, Doc, Routes};
use crate::event as service;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json, Query};
use crate::http::state::AppState;

/// Most ids one `GET /api/v1/people` asks for.
const MAX_IDS: usize = 100;
/// Longest purpose of a reveal, in characters.
pub(crate) const MAX_PURPOSE_CHARS: usize = 200;

/// `/api/v1/people`, `/api/v1/users/{id}/phone`, `/api/v1/events/{id}/reporter_contact`.
pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/people", people, Doc::new("user",
            "Names and units of staff in the user's scope (staff only); others are left out")
            .query_required("ids", s::pattern(r"^[0-9]{1,18}(,[0-9]{1,18}){0,99}$"), "comma-separated user ids, at most 100"))
        .put("/api/v1/users/{id}/phone", set_phone, Doc::new("user",
            "Set or clear a call-back phone (the user themselves, or an administrator who manages them); answered masked")
            .path("id", s::int64())
            .body(&[("phone?", s::nullable(s::pattern(r"^[ -]*(\+[ -]*8[ -]*6)?[ -]*1([ -]*[0-9]){10}[ -]*$")))]))
        .put("/api/v1/users/{id}/email", set_email, Doc::new("user",
            "Set or clear the e-mail address warnings are sent to (the user themselves, or an administrator who manages them)")
            .path("id", s::int64())
            .body(&[("email?", s::nullable(s::text(0, 254)))]))
        .post("/api/v1/events/{id}/reporter_contact", reporter_contact, Doc::new("event",
            "Reveal the reporter's phone for a call-back (回访), with a stated purpose that is audited (dispatchers of the holding centre)")
            .path("id", s::int64())
            .body(&[("purpose", s::note(MAX_PURPOSE_CHARS, true))]))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeopleQuery {
    ids: String,
}

async fn people(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<PeopleQuery>,
) -> ApiResult<impl IntoResponse> {
    if user.actor.role == Role::Citizen {
        return Err(ApiError::forbidden("only staff look people up"));
    }
    let ids: Vec<i64> = q
        .ids
        .split(',')
        .map(|p| p.trim().parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::invalid("ids", "comma-separated user ids"))?;
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(ApiError::invalid("ids", "1 to 100 ids"));
    }
    let seen = crate::person::seen(&app, &user.actor, &ids, false).await?;
    let mut items: Vec<_> = seen.values().collect();
    items.sort_by_key(|p| p.id);
    Ok(axum::Json(
        json!({"items": items.iter().map(|p| p.to_json()).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneBody {
    phone: Option<String>,
}

async fn set_phone(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<PhoneBody>,
) -> ApiResult<impl IntoResponse> {
    let target = super::user::managed_user(&app, &user, id).await?;
    let own = target.id == user.user.id;
    if !own && user.actor.role != Role::Admin {
        return Err(ApiError::not_found("user"));
    }
    let phone = b.phone.as_deref().map(Phone::parse).transpose()?;
    let masked = phone.as_ref().map(Phone::masked);
    shanzhi_store::user::set_phone(
        &app.db,
        &app.pii,
        id,
        phone.as_ref().map(Phone::expose),
        Some(user.user.id),
        app.clock.now_ms(),
    )
    .await?;
    Ok(axum::Json(json!({"id": id, "phone": masked})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailBody {
    email: Option<String>,
}

async fn set_email(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<EmailBody>,
) -> ApiResult<impl IntoResponse> {
    let target = super::user::managed_user(&app, &user, id).await?;
    if target.id != user.user.id && user.actor.role != Role::Admin {
        return Err(ApiError::not_found("user"));
    }
    // A blank address clears it, as null does.
    let email = b
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(Email::parse)
        .transpose()?;
    let masked = email.as_ref().map(Email::masked);
    shanzhi_store::user::set_email(
        &app.db,
        id,
        email.as_ref().map(|e| e.as_str()).zip(masked.as_deref()),
        Some(user.user.id),
        app.clock.now_ms(),
    )
    .await?;
    Ok(axum::Json(
        json!({"id": id, "email": email.as_ref().map(Email::as_str)}),
    ))
}

/// The stated purpose of a reveal (回访目的, 查看目的): not blank, at most 200 characters, no
/// control characters but line breaks and tabs.
pub(crate) fn check_purpose(raw: &str) -> Result<&str, ApiError> {
    let purpose = raw.trim();
    if purpose.is_empty() {
        return Err(ApiError::invalid("purpose", "say why you need it (目的)"));
    }
    if purpose.chars().count() > MAX_PURPOSE_CHARS.min(MAX_NOTE_CHARS)
        || purpose
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ApiError::invalid(
            "purpose",
            "at most 200 characters, no control characters",
        ));
    }
    Ok(purpose)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactBody {
    purpose: String,
}

async fn reporter_contact(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ContactBody>,
) -> ApiResult<impl IntoResponse> {
    let (row, _, ev) = service::visible(&app, &user.actor, id).await?;
    if !can_reveal_reporter_contact(&user.actor, &ev) {
        return Err(ApiError::forbidden(
            "only dispatchers of the centre holding the order call its reporter back",
        ));
    }
    let purpose = check_purpose(&b.purpose)?;
    let Some(reporter) = row.reporter_id else {
        return Err(ApiError::not_found("reporter"));
    };
    let Some(phone) = shanzhi_store::user::phone(&app.db, &app.pii, reporter).await? else {
        return Err(ApiError::not_found("phone"));
    };
    // Who saw whose phone, for which order and why; the number itself is not written.
    let entry = AuditEntry::new(
        Some(user.user.id),
        "user.reveal_phone",
        "user",
        reporter.to_string(),
    )
    .after(json!({"event_id": id, "purpose": purpose}));
    shanzhi_store::audit::record(&app.db, &entry, app.clock.now_ms()).await?;
    Ok(axum::Json(json!({"phone": phone})))
}
