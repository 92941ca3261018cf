//! Open311 GeoReport v2 under `/open311/v2`: any Open311 app or aggregator can be a citizen
//! front end of the closed loop.
//!
//! - `discovery.{xml,json}`: where the endpoint is and what it speaks.
//! - `services.{fmt}`, `services/{code}.{fmt}`: our categories and their attributes.
//! - `requests.{fmt}`: POST files a report as an event (form-encoded, multipart with `media`,
//!   or JSON), through [`crate::event::report`] like every other report; GET queries requests
//!   by id, service_code, start_date, end_date, status, with `page`/`page_size`.
//! - `requests/{id}.{fmt}`: one request, as a one-element list.
//! - `tokens/{token}.{fmt}`: requests are created in real time, so no token ever exists.
//! - `servicerequestupdates.{fmt}`: the changes of status with notes since a date, which
//!   FixMyStreet-style integrations poll.
//! - `media/{hash}`: photos sent with Open311 requests (the `media_url` of a request).
//!
//! Reading is open to anyone, as the spec intends, so the read side lists only requests that
//! came in through Open311 and never shows the submitter's contact fields; an `api_key` sent
//! with a read must still be a valid one (else 403, as for a POST). `jurisdiction_id`, when
//! given, is the code of a region of our tree: it must exist (else 404) and it scopes
//! everything to the grids under that region. An empty parameter counts as absent. Text that
//! is not UTF-8 is refused (400), never stored with replacement characters.
//!
//! Browser apps on other origins may call these routes when their origin is configured
//! (`open311_cors_origins`, `SHANZHI_OPEN311_CORS_ORIGINS`): the answers then carry the
//! `Access-Control-*` headers and an `OPTIONS` preflight is answered. None by default.
//!
//! Every answer is a list (a JSON array, an XML element of repeated items), a single request
//! and a POST's answer included; discovery and a service definition are single objects, as the
//! spec shows them and clients read them. The extension picks the format; none means XML.

pub mod create;
pub mod date;
pub mod form;
pub mod ratelimit;
pub mod reply;
pub mod request;
pub mod service;
pub mod xml;

use std::collections::{BTreeMap, HashMap};

use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::StoreError;
use tower_http::cors::{AllowOrigin, CorsLayer};

use self::reply::{Format, Open311Error, Open311Result, Reply};
use self::xml::Node;
use crate::config::Config;
use crate::http::state::AppState;

/// The specification this endpoint implements, as discovery names it.
pub const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// Most requests in one answer (the spec's default limit).
pub const MAX_PAGE_SIZE: i64 = 1000;
/// Longest span of a requests query, in days (the spec's rule).
pub const MAX_SPAN_DAYS: i64 = 90;
/// Largest POST body: a few photos sent as multipart.
pub const POST_LIMIT: usize = 24 * 1024 * 1024;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// `/open311/v2/…`, with CORS for the configured origins.
pub fn router(config: &Config) -> Router<AppState> {
    let v2 = Router::new()
        .route(
            "/{file}",
            get(top_get)
                .post(top_post)
                .layer(DefaultBodyLimit::max(POST_LIMIT))
                .fallback(wrong_method),
        )
        .route(
            "/services/{file}",
            get(service_definition).fallback(wrong_method),
        )
        .route(
            "/requests/{file}",
            get(request::one_request).fallback(wrong_method),
        )
        .route("/tokens/{file}", get(token).fallback(wrong_method))
        .route("/media/{file}", get(media).fallback(wrong_method))
        .fallback(unknown);
    let open311 = Router::new().nest("/open311/v2", v2);
    match cors(&config.open311_cors_origins) {
        Some(layer) => open311.layer(layer),
        None => open311,
    }
}

/// The CORS layer for browser apps on the configured origins (`*`: any), or none.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::ACCEPT_LANGUAGE])
            .expose_headers([
                header::RETRY_AFTER,
                HeaderName::from_static("idempotent-replay"),
            ])
            .max_age(std::time::Duration::from_secs(3600)),
    )
}

/// A new api_key and the hash stored for it: 32 random bytes, hex-encoded.
pub fn new_api_key() -> (String, String) {
    use rand::RngCore;
    let mut buf = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut buf);
    let key = hex::encode(buf);
    let hash = key_hash(&key);
    (key, hash)
}

/// The hash under which an api_key is stored (hex SHA-256).
pub fn key_hash(key: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The language of the answer's human-readable text: Chinese unless the client prefers English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    fn of(headers: &HeaderMap) -> Lang {
        let first = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .unwrap_or("");
        if first.trim().to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
}

/// Query parameters: empty ones are absent, repeated ones are joined with commas (the spec's
/// lists may be "declared multiple times, comma delimited").
#[derive(Debug, Default)]
struct Params(BTreeMap<String, String>);

impl Params {
    fn parse(query: Option<&str>, format: Format) -> Open311Result<Params> {
        let mut m: BTreeMap<String, String> = BTreeMap::new();
        let pairs = form::urlencoded(query.unwrap_or("").as_bytes())
            .map_err(|e| Open311Error::bad_request(format, e.0))?;
        for (k, v) in pairs {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            m.entry(k)
                .and_modify(|e| {
                    e.push(',');
                    e.push_str(v);
                })
                .or_insert_with(|| v.to_owned());
        }
        Ok(Params(m))
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    fn list(&self, k: &str) -> Vec<&str> {
        self.get(k)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Reading needs no api_key, but one that is sent must belong to an enabled client: a client
/// with a wrong key hears so at once (403), as it would on a POST.
async fn check_key(app: &AppState, params: &Params, format: Format) -> Open311Result<()> {
    let Some(key) = params.get("api_key") else {
        return Ok(());
    };
    match shanzhi_store::open311::client_by_key_hash(&app.db, &key_hash(key)).await {
        Ok(Some(c)) if !c.disabled => Ok(()),
        Ok(_) => Err(Open311Error::forbidden(
            format,
            "invalid api_key: no registered client has it",
        )),
        Err(e) => Err(Open311Error::from_store(format, e)),
    }
}

/// The region a `jurisdiction_id` names, if one was given.
async fn jurisdiction(
    app: &AppState,
    id: Option<&str>,
    format: Format,
) -> Open311Result<Option<NodeCode>> {
    let Some(id) = id else { return Ok(None) };
    let missing = || {
        Open311Error::not_found(
            format,
            format!("jurisdiction_id '{id}' not found: use the code of a region of this server"),
        )
    };
    let code = NodeCode::parse(id).map_err(|_| missing())?;
    if code.is_grid() {
        return Err(missing());
    }
    match shanzhi_store::node::get(&app.db, &code).await {
        Ok(_) => Ok(Some(code)),
        Err(StoreError::NotFound) => Err(missing()),
        Err(e) => Err(Open311Error::from_store(format, e)),
    }
}

/// `scheme://host/open311/v2` as the client reached us (for discovery and media links).
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !host_ok {
        return "/open311/v2".to_owned();
    }
    let proto = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{proto}://{host}/open311/v2")
}

fn file_of(path: Result<Path<String>, PathRejection>) -> Open311Result<(String, Format)> {
    let Path(file) =
        path.map_err(|e| Open311Error::bad_request(Format::Xml, format!("bad path: {e}")))?;
    let (name, format) = Format::split(&file)?;
    Ok((name.to_owned(), format))
}

fn respond(r: Open311Result<Reply>) -> Response {
    match r {
        Ok(reply) => reply.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn top_get(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let (name, format) = file_of(path)?;
            let params = Params::parse(q.as_deref(), format)?;
            check_key(&app, &params, format).await?;
            match name.as_str() {
                "discovery" => discovery(&app, format, &headers).await,
                "services" => services(&app, format, &params, &headers).await,
                "requests" => request::list_requests(&app, format, &params, &headers).await,
                "servicerequestupdates" => request::updates(&app, format, &params, &headers).await,
                _ => Err(Open311Error::not_found(
                    format,
                    format!("no resource '{name}'"),
                )),
            }
        }
        .await,
    )
}

async fn top_post(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    respond(
        async {
            let (name, format) = file_of(path)?;
            match name.as_str() {
                "requests" => create::create(&app, format, req).await,
                "discovery" | "services" | "servicerequestupdates" => Err(
                    Open311Error::bad_request(format, format!("{name} is read with GET")),
                ),
                _ => Err(Open311Error::not_found(
                    format,
                    format!("no resource '{name}'"),
                )),
            }
        }
        .await,
    )
}

async fn wrong_method(req: Request) -> Response {
    let format = if req.uri().path().ends_with(".json") {
        Format::Json
    } else {
        Format::Xml
    };
    Open311Error::bad_request(
        format,
        format!("{} is not supported on this resource", req.method()),
    )
    .into_response()
}

async fn unknown(req: Request) -> Response {
    let format = if req.uri().path().ends_with(".json") {
        Format::Json
    } else {
        Format::Xml
    };
    Open311Error::not_found(format, "no such Open311 resource; start from discovery.xml")
        .into_response()
}

async fn discovery(app: &AppState, format: Format, headers: &HeaderMap) -> Open311Result<Reply> {
    let lang = Lang::of(headers);
    let changed = shanzhi_store::open311::services_changed_at(&app.db)
        .await
        .map_err(|e| Open311Error::from_store(format, e))?;
    let changeset = changed.map(date::format).unwrap_or_default();
    let formats = Node::List(
        "format",
        vec![Node::text("text/xml"), Node::text("application/json")],
    );
    let endpoint = Node::Obj(vec![
        ("specification", Node::text(SPECIFICATION)),
        ("url", Node::Text(base_url(headers))),
        ("changeset", Node::Text(changeset.clone())),
        ("type", Node::text("production")),
        ("formats", formats),
    ]);
    let (contact, key_service) = match lang {
        Lang::Zh => ("请联系本辖区社会治理中心。", "API 密钥由本服务器管理员签发：shanzhi open311 add-client 名称 --user 服务账号"),
        Lang::En => (
            "Contact the governance centre of this jurisdiction.",
            "API keys are issued by this server's administrator: shanzhi open311 add-client NAME --user ACCOUNT",
        ),
    };
    let body = Node::Obj(vec![
        ("changeset", Node::Text(changeset)),
        ("contact", Node::text(contact)),
        ("key_service", Node::text(key_service)),
        ("endpoints", Node::List("endpoint", vec![endpoint])),
    ]);
    Ok(Reply::ok(format, "discovery", body))
}

async fn services(
    app: &AppState,
    format: Format,
    params: &Params,
    headers: &HeaderMap,
) -> Open311Result<Reply> {
    jurisdiction(app, params.get("jurisdiction_id"), format).await?;
    let lang = Lang::of(headers);
    let all = shanzhi_store::category::list(&app.db)
        .await
        .map_err(|e| Open311Error::from_store(format, e))?;
    let by_id: HashMap<i64, &shanzhi_store::category::Category> =
        all.iter().map(|c| (c.id, c)).collect();
    let items = all
        .iter()
        .filter(|c| c.active)
        .map(|c| service::list_item(c, c.parent_id.and_then(|p| by_id.get(&p).copied()), lang))
        .collect();
    Ok(Reply::ok(format, "services", Node::List("service", items)))
}

/// The active category with this code, or the spec's 404.
async fn service_by_code(
    app: &AppState,
    code: &str,
    format: Format,
) -> Open311Result<shanzhi_store::category::Category> {
    let all = shanzhi_store::category::list(&app.db)
        .await
        .map_err(|e| Open311Error::from_store(format, e))?;
    all.into_iter()
        .find(|c| c.active && c.code == code)
        .ok_or_else(|| Open311Error::not_found(format, format!("service_code '{code}' not found")))
}

async fn service_definition(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let (code, format) = file_of(path)?;
            let params = Params::parse(q.as_deref(), format)?;
            check_key(&app, &params, format).await?;
            jurisdiction(&app, params.get("jurisdiction_id"), format).await?;
            let c = service_by_code(&app, &code, format).await?;
            Ok(Reply::ok(
                format,
                "service_definition",
                service::definition(&c, Lang::of(&headers)),
            ))
        }
        .await,
    )
}

async fn token(path: Result<Path<String>, PathRejection>) -> Response {
    respond(match file_of(path) {
        Ok((t, format)) => {
            Err(Open311Error::not_found(format, format!("token '{t}' not found: this server creates requests in real time and issues no tokens")))
        }
        Err(e) => Err(e),
    })
}

async fn media(State(app): State<AppState>, path: Result<Path<String>, PathRejection>) -> Response {
    let Ok(Path(hash)) = path else {
        return Open311Error::not_found(Format::Xml, "no such media").into_response();
    };
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Open311Error::not_found(Format::Xml, "no such media").into_response();
    }
    match shanzhi_store::open311::media(&app.db, &hash).await {
        Ok(Some((ct, bytes))) => (
            [
                (header::CONTENT_TYPE, ct),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
                (
                    header::CACHE_CONTROL,
                    "public, max-age=31536000, immutable".to_owned(),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => Open311Error::not_found(Format::Xml, "no such media").into_response(),
        Err(e) => Open311Error::from_store(Format::Xml, e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_parameters_are_absent_and_repeated_ones_are_joined() {
        let p = Params::parse(
            Some("status=open&status=closed&service_code=&jurisdiction_id=%20"),
            Format::Json,
        )
        .unwrap();
        assert_eq!(p.list("status"), vec!["open", "closed"]);
        assert_eq!(p.get("service_code"), None);
        assert_eq!(p.get("jurisdiction_id"), None);
        assert!(Params::parse(Some("jurisdiction_id=%FF"), Format::Json).is_err());
    }
}
