//! What every response carries for safety, and who the client is.
//!
//! - [`ClientInfo`]: the client's address and whether it came over HTTPS: the TCP peer, or, when
//!   the peer is a trusted proxy (`trusted_proxies`, loopback by default), what its
//!   `X-Forwarded-For` / `X-Forwarded-Proto` say. Login throttling, `/metrics` and `Secure`
//!   cookies read it.
//! - Headers: `nosniff` and a referrer policy everywhere; pages may not be framed; API answers
//!   are not stored by caches unless the handler said otherwise; HSTS over HTTPS.
//! - Errors from the framework (a body over the limit, an unparsable path id, a wrong method)
//!   come as plain text: under `/api/` they are rewritten into our `{code, message, field}`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::state::AppState;

/// The client of a request, as far as the server can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address (the proxy's idea of it when a trusted proxy forwarded the request).
    pub addr: IpAddr,
    /// The request reached us (or the trusted proxy in front of us) over HTTPS.
    pub https: bool,
}

impl ClientInfo {
    /// Works out the client from the TCP peer and, for a trusted peer, the forwarding headers.
    pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> ClientInfo {
        if !trusted.contains(&peer) {
            return ClientInfo {
                addr: peer,
                https: false,
            };
        }
        // The rightmost address that is not itself a trusted proxy: anything to its left was
        // written by the client and may be forged.
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        let addr = forwarded
            .iter()
            .rev()
            .find(|a| !trusted.contains(a))
            .copied()
            .unwrap_or(peer);
        let https = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
        ClientInfo { addr, https }
    }
}

/// Resolves [`ClientInfo`] into the request's extensions.
pub async fn client_info(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    let info = ClientInfo::resolve(peer, req.headers(), &app.config.trusted_proxies);
    req.extensions_mut().insert(info);
    let https = info.https;
    let mut resp = next.run(req).await;
    if https {
        resp.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    resp
}

/// Adds the safety headers every response carries and turns the framework's plain-text API
/// errors into our JSON shape.
pub async fn harden(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let resp = next.run(req).await;
    let mut resp = if api { json_errors(resp).await } else { resp };
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if api && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Largest framework error body kept as the message.
const MAX_MESSAGE: usize = 300;

async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    // Compressed or already ours: leave it (this layer runs inside the compression).
    if is_json || resp.headers().contains_key(header::CONTENT_ENCODING) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let text = text.trim();
    let (code, fallback) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "the request could not be read"),
        StatusCode::NOT_FOUND => ("not_found", "not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this method is not allowed here"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "unsupported content type")
        }
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid", "the request has unacceptable values"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        s if s.is_server_error() => ("internal", "internal error; it has been logged"),
        _ => ("error", "the request was refused"),
    };
    let message = if text.is_empty() || text.len() > MAX_MESSAGE || status.is_server_error() {
        fallback.to_owned()
    } else {
        text.to_owned()
    };
    let mut out = ApiError {
        status,
        code,
        message,
        field: None,
        details: None,
        cause: None,
    }
    .into_response();
    // Keep headers such as `Allow` on a 405.
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH && k != header::CONTENT_ENCODING
        {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

/// A plain-text response, as the framework makes them, for tests of [`json_errors`].
#[cfg(test)]
fn plain(status: StatusCode, text: &'static str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(axum::body::Body::from(text))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_proxy() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.9"),
        );
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let trusted = [ip("127.0.0.1")];
        let direct = ClientInfo::resolve(ip("198.51.100.7"), &h, &trusted);
        assert_eq!(
            direct,
            ClientInfo {
                addr: ip("198.51.100.7"),
                https: false
            }
        );
        let proxied = ClientInfo::resolve(ip("127.0.0.1"), &h, &trusted);
        assert_eq!(
            proxied,
            ClientInfo {
                addr: ip("203.0.113.9"),
                https: true
            }
        );
        let bare = ClientInfo::resolve(ip("127.0.0.1"), &HeaderMap::new(), &trusted);
        assert_eq!(
            bare,
            ClientInfo {
                addr: ip("127.0.0.1"),
                https: false
            }
        );
    }

    #[tokio::test]
    async fn plain_text_errors_become_json() {
        let r = json_errors(plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Failed to buffer the request body: length limit exceeded",
        ))
        .await;
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = axum::body::to_bytes(r.into_body(), 10_000).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["code"], "too_large");
        assert!(v.get("field").is_some());
    }
}
