//! The web: embedded assets under `/assets/`, and the pages of the staff console and the
//! citizen portal. Pages are static HTML that read the JSON API; no data is spliced into HTML
//! on the server, so nothing a user typed can become markup.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use shanzhi_domain::grid::Crs;

use super::state::AppState;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// The embedded file at `path` (relative to /assets/).
pub fn asset(path: &str) -> Option<&'static [u8]> {
    assets::ASSETS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, b)| *b)
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
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// Pages and assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/assets/config.js", get(config_js))
        .route("/sw.js", get(service_worker))
        .route("/assets/{*path}", get(serve_asset))
        .route(
            "/login",
            get(|uri: Uri| login_page(uri, "/login", "pages/login.html")),
        )
        .route("/console", get(|| page("pages/console.html")))
        .route("/console/{*rest}", get(|| page("pages/console.html")))
        .route("/m", get(|| async { Redirect::to("/m/") }))
        .route("/m/", get(|| page("pages/portal.html")))
        .route(
            "/m/login",
            get(|uri: Uri| login_page(uri, "/m/login", "pages/portal.html")),
        )
        .route("/m/{*rest}", get(|| page("pages/portal.html")))
}

/// The service worker (web/src/sw.js) with its cache version and the assets it keeps: the phone
/// pages then open without a signal. The version is a hash of every embedded asset, so a new build
/// replaces the phones' caches; the big assets only the desk pages use (charts, fonts) are left out.
async fn service_worker() -> Response {
    static BODY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = BODY.get_or_init(|| {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        let mut keep = Vec::new();
        for (path, bytes) in assets::ASSETS {
            hash.update(path.as_bytes());
            hash.update(bytes);
            let desk_only = path.starts_with("pages/")
                || *path == "sw.js"
                || path.contains("echarts")
                || path.ends_with(".woff2")
                || path.ends_with(".woff");
            if !desk_only {
                keep.push(format!("/assets/{path}"));
            }
        }
        let version: String = hash.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let source = std::str::from_utf8(asset("sw.js").unwrap_or_default()).unwrap_or_default();
        source.replace("__VERSION__", &version).replace(
            "__PRECACHE__",
            &serde_json::to_string(&keep).unwrap_or_else(|_| "[]".into()),
        )
    });
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body.clone(),
    )
        .into_response()
}

/// `window.SHANZHI`: settings the pages read at start. The map's tile URL template comes from
/// the environment variable `SHANZHI_TILE_URL` (e.g. an intranet tile server); without one the
/// maps draw the grids on a plain background. `SHANZHI_TILE_CRS` says which coordinate system the
/// tiles are drawn in (wgs84 by default; gcj02 for 高德/腾讯 tiles, bd09 for 百度's), so that the
/// pages shift the stored WGS-84 outlines onto them. `home` is the jurisdiction's extent (public: the
/// citizen portal opens its map there before anyone logs in).
async fn config_js(State(app): State<AppState>) -> Response {
    let tile_url = std::env::var("SHANZHI_TILE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    let tile_crs = match std::env::var("SHANZHI_TILE_CRS") {
        Ok(c) if !c.trim().is_empty() => Crs::parse(&c).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "SHANZHI_TILE_CRS is not a coordinate system; taking wgs84");
            Crs::Wgs84
        }),
        _ => Crs::Wgs84,
    };
    let home = home(&app).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot read the jurisdiction's extent for the pages");
        None
    });
    let body = format!(
        "window.SHANZHI = {};\n",
        config_json(tile_url.as_deref(), tile_crs, home.as_ref())
    );
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The jurisdiction's name and extent: from the root of the tree down the chain of only
/// children (province › city › county › town in a one-town deployment) to the first node that
/// has a shape; none when the tree branches before any shape.
async fn home(app: &AppState) -> Result<Option<Home>, shanzhi_store::StoreError> {
    let roots = shanzhi_store::node::roots(&app.db).await?;
    let [root] = roots.as_slice() else {
        return Ok(None);
    };
    let mut code = root.code.clone();
    for _ in 0..8 {
        let node = shanzhi_store::node::get(&app.db, &code).await?;
        if let Some(shape) = &node.shape {
            return Ok(Some(Home::of(node.name, shape)));
        }
        let children = shanzhi_store::node::children(&app.db, &code, false).await?;
        let [only] = children.as_slice() else {
            return Ok(None);
        };
        code = only.code.clone();
    }
    Ok(None)
}

/// The jurisdiction as the portal's map shows it: a name, a bounding box, and an outline
/// simplified to about a 500th of its size (a few hundred bytes, whatever the real border).
struct Home {
    name: String,
    bbox: [f64; 4],
    outline: serde_json::Value,
}

impl Home {
    fn of(name: String, shape: &shanzhi_domain::grid::Shape) -> Home {
        use geo::Simplify;
        let bbox = shape.main_bbox();
        let tolerance = (bbox[2] - bbox[0]).max(bbox[3] - bbox[1]) / 500.0;
        let simple = shanzhi_domain::grid::Shape::new(shape.geometry().simplify(tolerance))
            .unwrap_or_else(|_| shape.clone());
        Home {
            name,
            bbox,
            outline: simple.to_geojson(),
        }
    }
}

/// The settings as JSON (serde_json escapes every value, so none can break out of the script).
fn config_json(tile_url: Option<&str>, tile_crs: Crs, home: Option<&Home>) -> String {
    let home =
        home.map(|h| serde_json::json!({ "name": h.name, "bbox": h.bbox, "outline": h.outline }));
    serde_json::json!({ "tileUrl": tile_url, "tileCrs": tile_crs.as_str(), "home": home })
        .to_string()
}

async fn serve_asset(Path(path): Path<String>) -> Response {
    match asset(&path) {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, mime(&path)),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Is `next` a path on this site, safe to send the browser to after a login? One leading `/`,
/// no second `/` or `\\` (both make a host of what follows), no white space or control
/// characters (browsers drop tab, CR and LF, so `/\t/evil.example` would become
/// `//evil.example`), at most 512 bytes. The pages apply the same rule (`safePath` in dom.js).
pub fn safe_next(next: &str) -> bool {
    let b = next.as_bytes();
    next.len() <= 512
        && b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/') | Some(b'\\'))
        && !next
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
}

/// A login page; a `next` that is not a safe path on this site is dropped by a redirect, so
/// the page never even sees it.
async fn login_page(uri: Uri, here: &'static str, file: &'static str) -> Response {
    let query = uri.query().unwrap_or("");
    let bad = form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "next" && !safe_next(&v));
    if bad {
        return Redirect::to(here).into_response();
    }
    page(file).await
}

async fn page(path: &'static str) -> Response {
    match asset(path) {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
                (header::HeaderName::from_static("content-security-policy"), "default-src 'self'; img-src 'self' data: blob: https: http:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"),
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
    fn config_escapes_the_tile_url_and_carries_the_home_view() {
        let none: serde_json::Value =
            serde_json::from_str(&config_json(None, Crs::Wgs84, None)).unwrap();
        assert_eq!(
            none,
            serde_json::json!({"tileUrl": null, "tileCrs": "wgs84", "home": null})
        );
        let url = "https://t/{z}/{x}/{y}.png\"; alert(1); \"";
        let home = Home {
            name: "碣石镇".to_owned(),
            bbox: [115.0, 22.0, 116.0, 23.0],
            outline: serde_json::json!(null),
        };
        let s = config_json(Some(url), Crs::Gcj02, Some(&home));
        assert!(!s.contains(url), "the quote must be escaped: {s}");
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["tileUrl"], url);
        assert_eq!(back["tileCrs"], "gcj02");
        assert_eq!(
            back["home"],
            serde_json::json!({"name": "碣石镇", "bbox": [115.0, 22.0, 116.0, 23.0], "outline": null})
        );
    }

    #[test]
    fn only_paths_on_this_site_are_safe_after_a_login() {
        for ok in [
            "/console",
            "/console/events/3?state=open",
            "/m/",
            "/m/track/12",
        ] {
            assert!(safe_next(ok), "{ok}");
        }
        for bad in [
            "//example.invalid/x",
            "/\t/example.invalid/x",
            "/\\example.invalid",
            "https://example.invalid/",
            "/ /example.invalid",
            "/\r\n/example.invalid",
            "",
            "console",
            "javascript:alert(1)",
        ] {
            assert!(!safe_next(bad), "{bad:?}");
        }
    }

    #[test]
    fn every_page_is_embedded() {
        for p in [
            "pages/login.html",
            "pages/console.html",
            "pages/portal.html",
        ] {
            assert!(asset(p).is_some(), "{p}");
        }
    }
}
