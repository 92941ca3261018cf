//! The hotline (12345 热线): an operator files a caller's report with the caller's name, phone
//! and whether they want a call back (回访). Centre dispatchers take the calls (the source
//! their reports get is `hotline`). The phone is answered masked and never logged.

use super::doc::{schema as s, Doc, Routes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::event::caller::{caller_name, Phone, MAX_CALLER_NAME_CHARS};
use shanzhi_domain::event::photo::MAX_PHOTOS;
use shanzhi_domain::user::Role;
use shanzhi_store::caller::{Caller, NewCaller};
use shanzhi_store::event::Attached;

use super::event::{to_json, wgs84};
use super::names::with_names;
use crate::event::{self as service, Report, MAX_DESCRIPTION_CHARS};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json};
use crate::http::state::AppState;

/// `/api/v1/hotline`, `/api/v1/events/{id}/caller`.
pub fn routes() -> Routes {
    Routes::new()
        .post("/api/v1/hotline", create, Doc::new("event", "File a hotline caller's report with the caller's name, phone and call-back wish (dispatchers)")
            .header("Idempotency-Key", s::pattern(r"^[!-~]{1,128}$"), "1 to 128 visible ASCII characters; a retry with the same key answers the first event")
            .body(&[("category_id", s::int64()), ("description", s::note(MAX_DESCRIPTION_CHARS, true)), ("lon", s::number(-180.0, 180.0)), ("lat", s::number(-90.0, 90.0)),
                ("address?", s::nullable(s::note(200, false))), ("photos?", s::array_max(s::photo_hash(), MAX_PHOTOS)), ("crs?", s::nullable(s::crs())),
                ("caller_name", caller_name_schema()), ("caller_phone", s::pattern(PHONE)), ("callback", s::boolean())])
            .created()
            .also(200))
        .get("/api/v1/events/{id}/caller", show, Doc::new("event", "The hotline caller of an event (phone masked), or null")
            .path("id", s::int64()))
}

/// A mobile number or a landline with its area code (what [`Phone::parse`] takes, without spaces).
const PHONE: &str = r"^(1[3-9][0-9]{9}|0[1-9][0-9]{1,2}-?[0-9]{7,8})$";

/// A caller's name: not blank, no control characters, at most 50 characters.
fn caller_name_schema() -> Value {
    let control = r"\x00-\x1f\x7f-\x9f";
    json!({"type": "string", "maxLength": MAX_CALLER_NAME_CHARS,
        "pattern": format!(r"^[^{control}]*[^\s{control}][^{control}]*$")})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HotlineBody {
    category_id: i64,
    description: String,
    lon: f64,
    lat: f64,
    address: Option<String>,
    #[serde(default)]
    photos: Vec<String>,
    crs: Option<String>,
    caller_name: String,
    caller_phone: String,
    callback: bool,
}

/// A caller as the API shows it: the phone masked.
fn caller_json(c: &Caller) -> Value {
    json!({"name": c.name, "phone": c.phone.masked(), "callback": c.callback, "created_at": c.created_at})
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(b): Json<HotlineBody>,
) -> ApiResult<impl IntoResponse> {
    if user.actor.role != Role::Dispatcher {
        return Err(ApiError::forbidden(
            "hotline reports are filed by centre dispatchers",
        ));
    }
    // The caller is checked before anything is filed.
    let name = caller_name(&b.caller_name)?;
    let phone = Phone::parse(&b.caller_phone).map_err(|_| {
        ApiError::invalid(
            "caller_phone",
            "not a mobile or landline number with area code",
        )
    })?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (lon, lat) = wgs84(b.crs.as_deref(), b.lon, b.lat)?;
    let r = Report {
        category_id: b.category_id,
        description: b.description,
        lon,
        lat,
        address: b.address,
        photos: b.photos,
        idempotency_key: key,
        source: Some("hotline".into()),
        unknown_position_in: None,
        // The caller is written with the report, in its transaction.
        attached: Attached::Caller(NewCaller::seal(
            &app.pii,
            &name,
            &phone,
            b.callback,
            user.user.id,
            app.clock.now_ms(),
        )),
    };
    let (row, created) = service::report(&app, &user.actor, &r).await?;
    let caller = shanzhi_store::caller::get(&app.db, &app.pii, row.id).await?;
    let mut items = [to_json(&row)];
    with_names(&app, &mut items).await?;
    let [mut v] = items;
    v["caller"] = caller.as_ref().map_or(Value::Null, caller_json);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(v)))
}

async fn show(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    // Whoever may read the event reads its caller, masked.
    service::visible(&app, &user.actor, id).await?;
    let caller = shanzhi_store::caller::get(&app.db, &app.pii, id).await?;
    Ok(axum::Json(
        json!({"caller": caller.as_ref().map_or(Value::Null, caller_json)}),
    ))
}
