//! The web: embedded assets under `/assets/`, and the pages of the staff console and the
//! citizen portal. Pages are static HTML that read the JSON API; no data is spliced into HTML
//! on the server, so nothing a user typed can become markup.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use super::state::AppState;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// The embedded file at `path` (relative to /assets/).
pub fn asset(path: &str) -> Option<&'static [u8]> {
    assets::ASSETS.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Pages and assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/assets/config.js", get(config_js))
        .route("/assets/{*path}", get(serve_asset))
        .route("/login", get(|| page("pages/login.html")))
        .route("/console", get(|| page("pages/console.html")))
        .route("/console/{*rest}", get(|| page("pages/console.html")))
        .route("/m", get(|| async { Redirect::to("/m/") }))
        .route("/m/", get(|| page("pages/portal.html")))
        .route("/m/{*rest}", get(|| page("pages/portal.html")))
}

/// `window.SHANZHI`: settings the pages read at start. The map's tile URL template comes from
/// the environment variable `SHANZHI_TILE_URL` (e.g. an intranet tile server); without one the
/// map draws the grids on a plain background.
async fn config_js() -> Response {
    let tile_url = std::env::var("SHANZHI_TILE_URL").ok().filter(|u| !u.trim().is_empty());
    let body = format!("window.SHANZHI = {};\n", config_json(tile_url.as_deref()));
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// The settings as JSON (serde_json escapes the value, so it cannot break out of the script).
fn config_json(tile_url: Option<&str>) -> String {
    serde_json::json!({ "tileUrl": tile_url }).to_string()
}

async fn serve_asset(Path(path): Path<String>) -> Response {
    match asset(&path) {
        Some(bytes) => (
            [(header::CONTENT_TYPE, mime(&path)), (header::CACHE_CONTROL, "public, max-age=300")],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

async fn page(path: &'static str) -> Response {
    match asset(path) {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
                (header::HeaderName::from_static("content-security-policy"), "default-src 'self'; img-src 'self' data: blob: https: http:; style-src 'self' 'unsafe-inline'; connect-src 'self'"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "page not built").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_escapes_the_tile_url() {
        assert_eq!(config_json(None), r#"{"tileUrl":null}"#);
        let s = config_json(Some("https://t/{z}/{x}/{y}.png\"</script>"));
        assert_eq!(s, r#"{"tileUrl":"https://t/{z}/{x}/{y}.png\"</script>"}"#);
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["tileUrl"], "https://t/{z}/{x}/{y}.png\"</script>");
    }

    #[test]
    fn every_page_is_embedded() {
        for p in ["pages/login.html", "pages/console.html", "pages/portal.html"] {
            assert!(asset(p).is_some(), "{p}");
        }
    }
}
