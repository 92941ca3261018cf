//! Extractors: JSON and query strings that fail with our error shape, and the current user.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Method};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::{Actor, Role, Scope};
use shanzhi_store::user::UserRow;

use super::error::ApiError;
use super::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "shanzhi_session";
/// Name of the (script-readable) CSRF cookie the web pages echo in `X-CSRF-Token`.
pub const CSRF_COOKIE: &str = "shanzhi_csrf";

/// A JSON body whose errors name the offending field.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("");
            if !ct.starts_with("application/json") && !ct.starts_with("application/geo+json") {
                return Err(ApiError::bad_request(
                    None,
                    "the body must be JSON (Content-Type: application/json)",
                ));
            }
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError {
                        status: e.status(),
                        ..ApiError::bad_request(None, "the body is too large")
                    }
                } else {
                    ApiError::bad_request(None, format!("cannot read the body: {e}"))
                }
            })?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses JSON, naming the field of the first error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = inner.to_string();
        // "unknown field `x`, expected …" names the field itself.
        let field = if let Some(rest) = msg.strip_prefix("unknown field `") {
            rest.split('`').next().map(str::to_owned)
        } else if let Some(rest) = msg.strip_prefix("missing field `") {
            rest.split('`').next().map(str::to_owned)
        } else if path == "." {
            None
        } else {
            Some(path)
        };
        if inner.is_syntax() || inner.is_eof() {
            ApiError::bad_request(None, format!("malformed JSON: {msg}"))
        } else {
            ApiError::bad_request(field, msg)
        }
    })
}

/// For `#[serde(default, deserialize_with = "present")]` on an optional field: the field may be
/// left out, but an explicit `null` is refused (a change to nothing is not a change).
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// The page size a list asks for: `given`, or `default`; 422 outside `1..=max`.
pub fn page_limit(given: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    let limit = given.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {max}"),
        ));
    }
    Ok(limit)
}

/// Keyset paging: `rows` was read with one row more than `limit`; cuts it to `limit` and
/// answers the cursor of the next page (the key of the last row kept), if there is one.
pub fn next_page<T>(rows: &mut Vec<T>, limit: i64, key: impl Fn(&T) -> i64) -> Option<i64> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    if more {
        rows.last().map(key)
    } else {
        None
    }
}

/// A query string whose errors come back in our shape.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        // No text of ours holds NUL (PostgreSQL refuses it outright): refuse it at the door.
        if let Some((k, _)) = form_urlencoded::parse(q.as_bytes()).find(|(_, v)| v.contains('\0')) {
            return Err(ApiError::bad_request(
                Some(k.into_owned()),
                "bad query parameter: NUL characters are not allowed",
            ));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                let msg = e.into_inner().to_string();
                let field = if let Some(rest) = msg.strip_prefix("missing field `") {
                    rest.split('`').next().map(str::to_owned)
                } else if path == "." {
                    None
                } else {
                    Some(path)
                };
                ApiError::bad_request(field, format!("bad query parameter: {msg}"))
            })
    }
}

/// The authenticated user of a request: from `Authorization: Bearer <token>` or the session
/// cookie. Cookie-authenticated writes must carry the session's CSRF token in `X-CSRF-Token`.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub actor: Actor,
    pub user: UserRow,
    pub token_hash: String,
    /// The primary's WAL position after this session's last write, if a replica serves reads.
    pub wrote_lsn: Option<u64>,
}

/// The session token a request carries: its bearer token, else its session cookie (and
/// whether it came as the cookie).
pub fn session_token(headers: &axum::http::HeaderMap) -> Option<(String, bool)> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match bearer {
        Some(t) => Some((t.to_owned(), false)),
        None => cookie_in(headers, SESSION_COOKIE).map(|t| (t.to_owned(), true)),
    }
}

/// SHA-256 of a session token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The value of one cookie in the request.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    cookie_in(&parts.headers, name)
}

/// The value of one cookie in these headers.
pub fn cookie_in<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some((token, via_cookie)) = session_token(&parts.headers) else {
            return Err(ApiError::unauthorized("log in first"));
        };
        let hash = token_hash(&token);
        let found = shanzhi_store::session::find(&app.db, &hash, app.clock.now_ms()).await?;
        let Some(shanzhi_store::session::Found {
            user,
            csrf_token: csrf,
            wrote_lsn,
        }) = found
        else {
            return Err(ApiError::unauthorized(
                "the session has expired or does not exist; log in again",
            ));
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via_cookie && !safe {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            if sent != Some(csrf.as_str()) {
                return Err(ApiError::forbidden(
                    "missing or wrong X-CSRF-Token for a cookie-authenticated write",
                ));
            }
        }
        let actor = actor_of(app, &user).await?;
        Ok(CurrentUser {
            actor,
            user,
            token_hash: hash,
            wrote_lsn: wrote_lsn.as_deref().and_then(shanzhi_store::db::parse_lsn),
        })
    }
}

/// Builds the domain's view of a stored user.
pub async fn actor_of(app: &AppState, user: &UserRow) -> Result<Actor, ApiError> {
    let role = Role::parse(&user.role)
        .map_err(|_| ApiError::internal(anyhow::anyhow!("user {} has a bad role", user.id)))?;
    let bad_scope = || ApiError::internal(anyhow::anyhow!("user {} has a bad scope", user.id));
    let scope = match (role, &user.scope_code, user.department_id) {
        (Role::Citizen, _, _) => Scope::Own,
        (_, _, Some(dep)) => {
            let d = shanzhi_store::department::get(&app.db, dep).await?;
            Scope::Department {
                id: d.id,
                region: NodeCode::parse(&d.region_code).map_err(|_| bad_scope())?,
            }
        }
        (_, Some(code), None) => Scope::Node(NodeCode::parse(code).map_err(|_| bad_scope())?),
        _ => return Err(bad_scope()),
    };
    Ok(Actor {
        user_id: user.id,
        role,
        scope,
    })
}

impl CurrentUser {
    /// The department a department handler works for: what they see of the map and the
    /// figures is that department's orders only, never the whole region's.
    pub fn department(&self) -> Option<i64> {
        match self.actor.scope {
            Scope::Department { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Refuses (403, saying `why`) anyone but an administrator of the whole tree: shared
    /// settings such as categories, the calendar and the tag catalogue.
    pub async fn require_root_admin(&self, app: &AppState, why: &str) -> Result<(), ApiError> {
        if self.actor.role == Role::Admin
            && shanzhi_domain::user::permission::can_change_shared_settings(
                &self.actor,
                self.at_root(app).await?,
            )
        {
            Ok(())
        } else {
            Err(ApiError::forbidden(why))
        }
    }

    /// Is this user's scope a root of the stored tree (an administrator of the whole tree may
    /// change shared settings and manage citizens)? One small read: the tree has few roots.
    pub async fn at_root(&self, app: &AppState) -> Result<bool, ApiError> {
        let Scope::Node(code) = &self.actor.scope else {
            return Ok(false);
        };
        let roots = shanzhi_store::node::roots(&app.db).await?;
        Ok(roots.iter().any(|r| &r.code == code))
    }
}
