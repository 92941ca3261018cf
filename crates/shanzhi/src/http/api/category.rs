//! Categories of events and the working-time calendar (administrators change them).

use super::doc::{schema as s, Doc, Routes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_domain::calendar::WorkCalendar;
use shanzhi_domain::tree::{parse_name, Level};
use shanzhi_store::category::{Category, CategoryInput};
use shanzhi_store::StoreError;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json};
use crate::http::state::AppState;

/// `/api/v1/categories…`, `/api/v1/calendar`.
pub fn routes() -> Routes {
    let minutes = || s::integer(1, MAX_MINUTES);
    let body = &[
        ("code", s::code()),
        ("name", s::name()),
        ("parent_id?", s::nullable(s::int64())),
        (
            "department_kind?",
            s::nullable(s::pattern(r"^\s*[a-z0-9_]{0,32}\s*$")),
        ),
        ("accept_minutes", minutes()),
        ("handle_minutes", minutes()),
        ("verify_minutes", minutes()),
        ("priority", s::integer(1, 3)),
        ("on_spot", s::boolean()),
        ("escalate_after_minutes?", s::nullable(minutes())),
        ("active?", s::boolean()),
        ("grid_first?", s::boolean()),
    ];
    let centre_levels: Vec<&str> = Level::ALL
        .iter()
        .filter(|l| !l.is_grid())
        .map(|l| l.as_str())
        .collect();
    Routes::new()
        .get(
            "/api/v1/categories",
            list,
            Doc::new(
                "category",
                "Categories of events with their clocks and default departments",
            )
            .public(),
        )
        .post(
            "/api/v1/categories",
            create,
            Doc::new("category", "Create a category (administrators)")
                .body(body)
                .created(),
        )
        .patch(
            "/api/v1/categories/{id}",
            update,
            Doc::new("category", "Change a category (administrators)")
                .path("id", s::int64())
                .body(body),
        )
        .put(
            "/api/v1/categories/{id}/levels/{level}",
            set_level,
            Doc::new(
                "category",
                "Override a category's clocks for centres of one level",
            )
            .path("id", s::int64())
            .path("level", s::one_of(&centre_levels))
            .body(&[
                ("accept_minutes", minutes()),
                ("handle_minutes", minutes()),
                ("verify_minutes", minutes()),
            ]),
        )
        .get(
            "/api/v1/calendar",
            calendar,
            Doc::new(
                "category",
                "The working-time calendar: holidays, make-up working days, hours",
            ),
        )
        .put(
            "/api/v1/calendar",
            set_calendar,
            Doc::new(
                "category",
                "Replace the working-time calendar (administrators)",
            )
            .body(&[
                ("holidays", s::array(s::date())),
                ("workdays", s::array(s::date())),
                (
                    "periods",
                    json!({"type": "array", "minItems": 1,
                        "description": "working periods, sorted, not overlapping",
                        "items": {"type": "array", "minItems": 2, "maxItems": 2,
                            "items": s::pattern(r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")}}),
                ),
            ]),
        )
}

/// Public: the citizen portal lists categories before anyone logs in.
async fn list(State(app): State<AppState>) -> ApiResult<impl IntoResponse> {
    let rows = shanzhi_store::category::list(&app.db).await?;
    Ok(axum::Json(
        json!({"items": rows.iter().map(Category::to_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    code: String,
    name: String,
    parent_id: Option<i64>,
    department_kind: Option<String>,
    accept_minutes: i64,
    handle_minutes: i64,
    verify_minutes: i64,
    priority: i64,
    on_spot: bool,
    escalate_after_minutes: Option<i64>,
    #[serde(default = "yes")]
    active: bool,
    /// 网格接单: reports go to the grid first where the jurisdiction runs the rule.
    #[serde(default)]
    grid_first: bool,
}

fn yes() -> bool {
    true
}

/// Categories and the calendar are shared by the whole tree: only its administrators change
/// them (a county administrator would otherwise change the clocks of every other county).
async fn admin(app: &AppState, user: &CurrentUser) -> ApiResult<()> {
    user.require_root_admin(
        app,
        "only administrators of the whole jurisdiction manage categories and the calendar",
    )
    .await
}

/// Longest clock of a category: a year of working minutes.
const MAX_MINUTES: i64 = 60 * 24 * 365;

fn minutes(field: &str, v: i64) -> ApiResult<i64> {
    if (1..=MAX_MINUTES).contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::invalid(
            field,
            "must be between 1 and 525600 working minutes",
        ))
    }
}

/// A code of letters, digits, '-', '_' and '.', at most 64 of them.
fn is_code(s: &str) -> bool {
    s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c))
}

fn input(b: Body) -> ApiResult<CategoryInput> {
    let code = b.code.trim().to_owned();
    if code.is_empty() || !is_code(&code) {
        return Err(ApiError::invalid(
            "code",
            "must be 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    if !(1..=3).contains(&b.priority) {
        return Err(ApiError::invalid(
            "priority",
            "must be 1 (urgent), 2 (high) or 3 (normal)",
        ));
    }
    Ok(CategoryInput {
        code,
        parent_id: b.parent_id,
        name: parse_name(&b.name)?,
        department_kind: b
            .department_kind
            .as_deref()
            .map(department_kind)
            .transpose()?
            .flatten(),
        accept_minutes: minutes("accept_minutes", b.accept_minutes)?,
        handle_minutes: minutes("handle_minutes", b.handle_minutes)?,
        verify_minutes: minutes("verify_minutes", b.verify_minutes)?,
        priority: b.priority,
        on_spot: b.on_spot,
        escalate_after_minutes: b
            .escalate_after_minutes
            .map(|m| minutes("escalate_after_minutes", m))
            .transpose()?,
        active: b.active,
        grid_first: b.grid_first,
    })
}

/// A department kind: the stem of the default department's code (`<kind>-<region path>`, e.g.
/// `cg` for 城管): 1 to 32 lowercase ASCII letters, digits or `_`. Empty means none.
fn department_kind(k: &str) -> ApiResult<Option<String>> {
    let k = k.trim();
    if k.is_empty() {
        return Ok(None);
    }
    if k.len() > 32
        || !k
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
    {
        return Err(ApiError::invalid(
            "department_kind",
            "must be 1 to 32 lowercase letters, digits or '_' (the stem of a department code)",
        ));
    }
    Ok(Some(k.to_owned()))
}

fn conflict(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict { constraint } if constraint.contains("code") => {
            ApiError::conflict(Some("code"), "a category with this code exists")
        }
        StoreError::Conflict { .. } => ApiError::invalid("parent_id", "no such parent category"),
        other => other.into(),
    }
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<Body>,
) -> ApiResult<impl IntoResponse> {
    admin(&app, &user).await?;
    let c = input(b)?;
    let row = shanzhi_store::category::insert(&app.db, &c, Some(user.user.id), app.clock.now_ms())
        .await
        .map_err(conflict)?;
    app.reference.invalidate();
    Ok((StatusCode::CREATED, axum::Json(row.to_json())))
}

async fn update(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<Body>,
) -> ApiResult<impl IntoResponse> {
    admin(&app, &user).await?;
    let c = input(b)?;
    if c.parent_id == Some(id) {
        return Err(ApiError::invalid(
            "parent_id",
            "a category cannot be its own parent",
        ));
    }
    let updated =
        shanzhi_store::category::update(&app.db, id, &c, user.user.id, app.clock.now_ms()).await;
    app.reference.invalidate();
    match updated {
        Ok(row) => Ok(axum::Json(row.to_json())),
        Err(StoreError::NotFound) => Err(ApiError::not_found("category")),
        Err(e) => Err(conflict(e)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Clocks {
    accept_minutes: i64,
    handle_minutes: i64,
    verify_minutes: i64,
}

async fn set_level(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, level)): Path<(i64, String)>,
    Json(b): Json<Clocks>,
) -> ApiResult<impl IntoResponse> {
    admin(&app, &user).await?;
    let level = Level::parse(&level).map_err(|_| ApiError::not_found("level"))?;
    if level.is_grid() {
        return Err(ApiError::invalid(
            "level",
            "centres sit at village level or above",
        ));
    }
    match shanzhi_store::category::get(&app.db, id).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(ApiError::not_found("category")),
        Err(e) => return Err(e.into()),
    }
    let clocks = (
        minutes("accept_minutes", b.accept_minutes)?,
        minutes("handle_minutes", b.handle_minutes)?,
        minutes("verify_minutes", b.verify_minutes)?,
    );
    shanzhi_store::category::set_level_clocks(
        &app.db,
        id,
        level.as_str(),
        clocks,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    app.reference.invalidate();
    Ok(axum::Json(
        json!({"category_id": id, "level": level, "accept_minutes": clocks.0, "handle_minutes": clocks.1, "verify_minutes": clocks.2}),
    ))
}

async fn calendar(State(app): State<AppState>, _user: CurrentUser) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(crate::calendar::calendar(&app).await?.to_json()))
}

async fn set_calendar(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(body): Json<Value>,
) -> ApiResult<impl IntoResponse> {
    admin(&app, &user).await?;
    let cal = WorkCalendar::from_json(&body)?;
    // PUT replaces the whole calendar: a key left out is a mistake, not "the default".
    if let Some(key) = ["holidays", "workdays", "periods"]
        .into_iter()
        .find(|k| body.get(k).is_none())
    {
        return Err(ApiError::invalid(
            key,
            "is required: the calendar is replaced as a whole",
        ));
    }
    shanzhi_store::category::set_calendar(
        &app.db,
        &cal.to_json(),
        Some(user.user.id),
        app.clock.now_ms(),
    )
    .await?;
    app.reference.invalidate();
    Ok(axum::Json(cal.to_json()))
}
