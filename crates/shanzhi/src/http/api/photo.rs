//! Photos: uploaded once, stored under the SHA-256 of their bytes, typed by their content.

use super::doc::{schema as s, Doc, Routes};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::json;
use sha2::{Digest, Sha256};
use shanzhi_domain::event::photo::{sniff, MAX_PHOTO_BYTES};
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
            Doc::new("event", "A photo by its hash")
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
    _user: CurrentUser,
    Path(hash): Path<String>,
) -> ApiResult<impl IntoResponse> {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::not_found("photo"));
    }
    match shanzhi_store::event::photo(&app.db, &hash).await {
        Ok((ct, bytes)) => Ok((
            [
                (header::CONTENT_TYPE, ct),
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
