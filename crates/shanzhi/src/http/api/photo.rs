//! Photos: uploaded once, stored under the SHA-256 of their bytes, typed by their checked content.
//!
//! A photo is read by those who may read an event it is attached to, and by its uploaders while
//! it is attached to none; to anyone else it does not exist (404). It is served with its checked
//! type and `nosniff`, so a browser never takes it for anything else.

use super::doc::{schema as s, Doc, Routes};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::json;
use sha2::{Digest, Sha256};
use shanzhi_domain::event::photo::{sniff, MAX_PHOTO_BYTES};
use shanzhi_domain::resident::access::base_access;
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::StoreError;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::CurrentUser;
use crate::http::state::AppState;

/// `/api/v1/photos`.
pub fn routes() -> Routes {
    Routes::new()
        .route(
            "post",
            "/api/v1/photos",
            post(upload).layer(DefaultBodyLimit::max(MAX_PHOTO_BYTES + 1024)),
            Doc::new(
                "event",
                "Upload a photo (JPEG, PNG or WebP, up to 8 MB); answers its content hash",
            )
            .raw_body(&["image/jpeg", "image/png", "image/webp"], None)
            .created(),
        )
        .get(
            "/api/v1/photos/{hash}",
            download,
            Doc::new("event", "A photo by its hash, for readers of an event it is attached to (and its uploader before that)")
                .path("hash", s::photo_hash())
                .produces("image/*"),
        )
}

async fn upload(
    State(app): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let content_type = sniff(&body)?;
    let hash = hex::encode(Sha256::digest(&body));
    shanzhi_store::event::insert_photo(
        &app.db,
        &hash,
        content_type,
        &body,
        user.user.id,
        app.clock.now_ms(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(
            json!({"hash": hash, "content_type": content_type, "size": body.len(), "url": format!("/api/v1/photos/{hash}")}),
        ),
    ))
}

async fn download(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(hash): Path<String>,
) -> ApiResult<impl IntoResponse> {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::not_found("photo"));
    }
    let hash = hash.to_ascii_lowercase();
    if !may_read(&app, &user, &hash).await? {
        return Err(ApiError::not_found("photo"));
    }
    match shanzhi_store::event::photo(&app.db, &hash).await {
        Ok((ct, bytes)) => Ok((
            [
                (header::CONTENT_TYPE, ct),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
                (
                    header::CACHE_CONTROL,
                    "private, max-age=31536000, immutable".to_owned(),
                ),
            ],
            bytes,
        )),
        Err(StoreError::NotFound) => Err(ApiError::not_found("photo")),
        Err(e) => Err(e.into()),
    }
}

/// May `actor` read the photo `hash`? Yes if they may read an event it is attached to (the
/// event detail's own rule) or base data where a visit it is attached to was made, or, while
/// it is attached to none, if they uploaded it. Invoice images of the books and evidence photos of
/// points awards have their own readers.
async fn may_read(app: &AppState, user: &CurrentUser, hash: &str) -> ApiResult<bool> {
    let actor = &user.actor;
    // A photo of a visit (走访): whoever may read base data where the visit was.
    let visits = shanzhi_store::visit::photo_nodes(&app.db, hash).await?;
    if visits
        .iter()
        .filter_map(|c| NodeCode::parse(c).ok())
        .any(|node| base_access(actor, &node).read)
    {
        return Ok(true);
    }
    // An invoice image of the village books (三资): whoever reads those books.
    let ledgers = shanzhi_store::ledger::invoice_nodes(&app.db, hash).await?;
    if super::village::reads_invoices_of(app, user, &ledgers).await? {
        return Ok(true);
    }
    // A contract's attachment (集体合同): whoever reads the village's contracts.
    let contracts = shanzhi_store::contract::photo_nodes(&app.db, hash).await?;
    if super::village::reads_invoices_of(app, user, &contracts).await? {
        return Ok(true);
    }
    // An evidence photo of a points award (积分制): the village's staff and the resident awarded.
    let awards = shanzhi_store::points::evidence_awards(&app.db, hash).await?;
    if super::points::reads_evidence_of(app, user, &awards).await? {
        return Ok(true);
    }
    let events = shanzhi_store::event::photo_events(&app.db, hash).await?;
    if events.is_empty()
        && visits.is_empty()
        && ledgers.is_empty()
        && contracts.is_empty()
        && awards.is_empty()
    {
        let mine =
            shanzhi_store::event::photos_uploaded_by(&app.db, &[hash.to_owned()], actor.user_id)
                .await?;
        return Ok(mine == 1);
    }
    for id in events {
        match crate::event::visible(app, actor, id).await {
            Ok(_) => return Ok(true),
            Err(e) if e.status == StatusCode::NOT_FOUND => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}
