//! The tag catalogue (关爱/关注对象) and the tags on residents over HTTP. Every staff role
//! reads the catalogue; administrators of the whole tree add tags and change them (of builtin
//! tags only the visit interval and whether they mark vulnerable people). Tagging is base-data
//! writing: `base_access` at the resident's node decides.

use super::doc::{schema as s, Doc, Routes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::delete;
use serde::{Deserialize, Deserializer};
use serde_json::json;
use shanzhi_domain::resident::access::base_access;
use shanzhi_domain::tag::{check_visit_days, TagCode, TagKind};
use shanzhi_domain::tree::{parse_name, NodeCode};
use shanzhi_domain::user::{Role, Scope};
use shanzhi_store::tag::Tag;
use shanzhi_store::visit::Subject;
use shanzhi_store::StoreError;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Json};
use crate::http::state::AppState;

/// `/api/v1/tags…`, `/api/v1/residents/{id}/tags…`.
pub fn routes() -> Routes {
    let code = super::resident::schema::tag;
    let days = || s::nullable(s::integer(1, 365));
    let kind = || s::one_of(&["care", "attention"]);
    Routes::new()
        .get(
            "/api/v1/tags",
            list,
            Doc::new("tag", "The tag catalogue: care and attention tags with their visit intervals (calendar days)"),
        )
        .post(
            "/api/v1/tags",
            create,
            Doc::new("tag", "Add a tag (administrators of the whole tree)")
                .body(&[
                    ("code", code()),
                    ("name_zh", s::name()),
                    ("name_en", s::name()),
                    ("kind", kind()),
                    ("visit_days?", days()),
                    ("vulnerable?", s::boolean()),
                ])
                .created(),
        )
        .patch(
            "/api/v1/tags/{code}",
            update,
            Doc::new("tag", "Change a tag (administrators of the whole tree; of a builtin tag only visit_days and vulnerable)")
                .path("code", code())
                .body(&[
                    ("name_zh?", s::name()),
                    ("name_en?", s::name()),
                    ("kind?", kind()),
                    ("visit_days?", days()),
                    ("vulnerable?", s::boolean()),
                ]),
        )
        .get(
            "/api/v1/residents/{id}/tags",
            of_resident,
            Doc::new("tag", "A resident's tags with when each one's next visit falls due")
                .path("id", s::int64()),
        )
        .post(
            "/api/v1/residents/{id}/tags",
            put_on,
            Doc::new("tag", "Put a tag on a resident; the first visit falls due one interval from now")
                .path("id", s::int64())
                .body(&[("tag", code())])
                .created(),
        )
        .route(
            "delete",
            "/api/v1/residents/{id}/tags/{tag}",
            delete(take_off),
            Doc::new("tag", "Take a tag off a resident (idempotent: `removed` says whether they had it)")
                .path("id", s::int64())
                .path("tag", code()),
        )
}

/// A resident the actor may read (else 404) and, when `write`, change (else 403), with their
/// node. The one scope check of every care route about a person.
pub(super) async fn resident_for(
    app: &AppState,
    user: &CurrentUser,
    id: i64,
    write: bool,
) -> ApiResult<(Subject, NodeCode)> {
    let subject = match shanzhi_store::visit::subject(&app.db, id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("resident")),
        Err(e) => return Err(e.into()),
    };
    let node = NodeCode::parse(&subject.node_code)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("resident {id}: {e}")))?;
    let access = base_access(&user.actor, &node);
    if !access.read {
        return Err(ApiError::not_found("resident"));
    }
    if write && !access.write {
        return Err(ApiError::forbidden(
            "you may read this resident's record but not change it",
        ));
    }
    Ok((subject, node))
}

async fn list(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    if user.actor.role == Role::Citizen
        || !matches!(user.actor.scope, Scope::Node(_) | Scope::Department { .. })
    {
        return Err(ApiError::forbidden("the tag catalogue is for staff"));
    }
    let tags = shanzhi_store::tag::list(&app.db).await?;
    Ok(axum::Json(
        json!({"items": tags.iter().map(Tag::to_json).collect::<Vec<_>>()}),
    ))
}

async fn admin(app: &AppState, user: &CurrentUser) -> ApiResult<()> {
    user.require_root_admin(
        app,
        "only administrators of the whole jurisdiction manage the tag catalogue",
    )
    .await
}

/// `Some(v)` for a field that was sent (`v` may be null), `None` for one left out.
fn sent<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    code: String,
    name_zh: String,
    name_en: String,
    kind: String,
    visit_days: Option<i64>,
    vulnerable: Option<bool>,
}

async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    admin(&app, &user).await?;
    let code = TagCode::parse(&b.code).map_err(|e| field_error(e, "code"))?;
    let tag = Tag {
        code: code.as_str().to_owned(),
        name_zh: parse_name(&b.name_zh).map_err(|e| field_error(e, "name_zh"))?,
        name_en: parse_name(&b.name_en).map_err(|e| field_error(e, "name_en"))?,
        kind: TagKind::parse(&b.kind)?.as_str().to_owned(),
        visit_days: check_visit_days(b.visit_days)?,
        vulnerable: b.vulnerable.unwrap_or(false),
        builtin: false,
        version: 1,
        created_at: 0,
        updated_at: 0,
    };
    match shanzhi_store::tag::insert(&app.db, &tag, user.user.id, app.clock.now_ms()).await {
        Ok(t) => Ok((StatusCode::CREATED, axum::Json(t.to_json()))),
        Err(StoreError::Conflict { .. }) => Err(ApiError::conflict(
            Some("code"),
            "a tag with this code exists",
        )),
        Err(e) => Err(e.into()),
    }
}

/// A domain error about a field parsed under another name (`name` checks answer `name`).
fn field_error(e: shanzhi_domain::DomainError, field: &str) -> ApiError {
    match e {
        shanzhi_domain::DomainError::Invalid { reason, .. } => ApiError::invalid(field, reason),
        other => other.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    name_zh: Option<String>,
    name_en: Option<String>,
    kind: Option<String>,
    #[serde(default, deserialize_with = "sent")]
    visit_days: Option<Option<i64>>,
    vulnerable: Option<bool>,
}

async fn update(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Json(b): Json<UpdateBody>,
) -> ApiResult<impl IntoResponse> {
    admin(&app, &user).await?;
    let before = match shanzhi_store::tag::get(&app.db, &code).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("tag")),
        Err(e) => return Err(e.into()),
    };
    let mut after = before.clone();
    if before.builtin {
        for (field, given) in [
            ("name_zh", b.name_zh.is_some()),
            ("name_en", b.name_en.is_some()),
            ("kind", b.kind.is_some()),
        ] {
            if given {
                return Err(ApiError::conflict(
                    Some(field),
                    "a builtin tag keeps its names and kind; only visit_days and vulnerable change",
                ));
            }
        }
    }
    if let Some(n) = &b.name_zh {
        after.name_zh = parse_name(n).map_err(|e| field_error(e, "name_zh"))?;
    }
    if let Some(n) = &b.name_en {
        after.name_en = parse_name(n).map_err(|e| field_error(e, "name_en"))?;
    }
    if let Some(k) = &b.kind {
        after.kind = TagKind::parse(k)?.as_str().to_owned();
    }
    if let Some(days) = b.visit_days {
        after.visit_days = check_visit_days(days)?;
    }
    if let Some(v) = b.vulnerable {
        after.vulnerable = v;
    }
    let t = shanzhi_store::tag::update(&app.db, &before, &after, user.user.id, app.clock.now_ms())
        .await?;
    Ok(axum::Json(t.to_json()))
}

async fn of_resident(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let (subject, _) = resident_for(&app, &user, id, false).await?;
    let tags = shanzhi_store::tag::of_resident(&app.db, id).await?;
    Ok(axum::Json(json!({
        "resident_id": id,
        "name": subject.name,
        "node": subject.node_code,
        "items": tags.iter().map(|t| t.to_json()).collect::<Vec<_>>(),
        "next_visit_at": shanzhi_domain::tag::person_due_at(tags.iter().map(|t| t.next_visit_at)),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagBody {
    tag: String,
}

async fn put_on(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<TagBody>,
) -> ApiResult<impl IntoResponse> {
    let (subject, node) = resident_for(&app, &user, id, true).await?;
    if subject.status != "present" {
        return Err(ApiError::conflict(
            Some("tag"),
            "the resident has moved out or died; they are not tagged any more",
        ));
    }
    let code = TagCode::parse(&b.tag)?;
    let tag = match shanzhi_store::tag::get(&app.db, code.as_str()).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("tag").with_field("tag")),
        Err(e) => return Err(e.into()),
    };
    let now = app.clock.now_ms();
    match shanzhi_store::tag::put_on(&app.db, id, &node, &tag, user.user.id, now).await? {
        Some(row) => Ok((StatusCode::CREATED, axum::Json(row.to_json()))),
        None => Err(ApiError::conflict(
            Some("tag"),
            "the resident already has this tag",
        )),
    }
}

async fn take_off(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, tag)): Path<(i64, String)>,
) -> ApiResult<impl IntoResponse> {
    resident_for(&app, &user, id, true).await?;
    let tag = TagCode::parse(&tag)?.as_str().to_owned();
    let gone =
        shanzhi_store::tag::take_off(&app.db, id, &tag, user.user.id, app.clock.now_ms()).await?;
    // Idempotent: taking off a tag the person does not have changes nothing and says so.
    Ok(axum::Json(
        json!({"resident_id": id, "tag": tag, "removed": gone.is_some()}),
    ))
}
