//! Logging in and out. A login gives a session token, both as a bearer token for API clients
//! and as an HttpOnly, SameSite cookie for the web (with a CSRF token for cookie writes).

use super::doc::{schema as s, Doc, Routes};
use axum::extract::{Extension, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::user::{throttle, Password, Username};
use shanzhi_store::audit::AuditEntry;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{token_hash, CurrentUser, Json, CSRF_COOKIE, SESSION_COOKIE};
use crate::http::security::ClientInfo;
use crate::http::state::AppState;
use crate::password;

/// `/api/v1/auth/*` and `/api/v1/me`.
pub fn routes() -> Routes {
    Routes::new()
        .post(
            "/api/v1/auth/login",
            login,
            Doc::new(
                "auth",
                "Log in: bearer token, session cookie and CSRF token",
            )
            .public()
            .body(&[("username", s::username()), ("password", s::text(0, 1024))]),
        )
        .post(
            "/api/v1/auth/logout",
            logout,
            Doc::new("auth", "End this session"),
        )
        .get("/api/v1/me", me, Doc::new("auth", "The logged-in user"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// The throttle keys of a login attempt: the name typed from this address, and this address.
fn throttle_keys(username: &Username, client: &ClientInfo) -> Vec<(String, i64)> {
    vec![
        (
            format!("acct:{}|{}", username.as_str(), client.addr),
            throttle::ACCOUNT_FREE,
        ),
        (format!("addr:{}", client.addr), throttle::ADDRESS_FREE),
    ]
}

/// The prefix of every throttle key of one name (an administrator's unlock clears them).
pub fn account_keys_prefix(username: &str) -> String {
    format!("acct:{username}|")
}

/// Logs in. Unknown names, wrong passwords and disabled accounts get the same answer (401)
/// after the same work (an argon2 check), so no answer tells whether an account exists. Each
/// attempt first passes the throttle (counted under a row lock before the password is
/// checked): after 5 failures of one name from one address, or 20 from one address, the next
/// attempt waits 15 s, then 30 s, … up to 15 minutes (429 with `Retry-After`).
async fn login(
    State(app): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    Json(body): Json<LoginBody>,
) -> ApiResult<Response> {
    let wrong = || ApiError::unauthorized("wrong username or password");
    let username = Username::parse(&body.username)?;
    let typed = Password::typed(&body.password)?;
    let now = app.clock.now_ms();
    let keys = throttle_keys(&username, &client);
    if let Some(wait) = shanzhi_store::throttle::enter(&app.db, &keys, now).await? {
        let mut resp = ApiError::throttled(format!(
            "too many failed logins from here; try again in {wait} second(s)"
        ))
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            resp.headers_mut().insert(RETRY_AFTER, v);
        }
        return Ok(resp);
    }
    let found = shanzhi_store::user::for_login(&app.db, &username).await?;
    let hash = found
        .as_ref()
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| password::decoy_hash().to_owned());
    let ok = tokio::task::spawn_blocking(move || password::verify(typed.expose(), &hash))
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    let user = match found {
        Some((user, _)) if ok && !user.disabled => user,
        Some((user, _)) => {
            let what = if ok {
                "user.login_disabled"
            } else {
                "user.login_failed"
            };
            shanzhi_store::audit::record(
                &app.db,
                &AuditEntry::new(None, what, "user", user.id.to_string())
                    .after(json!({"client": client.addr.to_string()})),
                now,
            )
            .await?;
            return Err(wrong());
        }
        None => return Err(wrong()),
    };
    shanzhi_store::throttle::succeeded(&app.db, &keys[0].0, &keys[1..]).await?;
    let token = random_hex(32);
    let csrf = random_hex(16);
    let expires = now + app.config.session_hours * 3600 * 1000;
    shanzhi_store::session::insert(&app.db, &token_hash(&token), user.id, &csrf, now, expires)
        .await?;
    shanzhi_store::audit::record(
        &app.db,
        &AuditEntry::new(Some(user.id), "user.login", "user", user.id.to_string())
            .after(json!({"client": client.addr.to_string()})),
        now,
    )
    .await?;
    // Secure whenever the request came over HTTPS (directly or through a trusted proxy), or
    // when the operator says so.
    let secure = if app.config.cookie_secure || client.https {
        "; Secure"
    } else {
        ""
    };
    let max_age = app.config.session_hours * 3600;
    let mut headers = HeaderMap::new();
    let cookies = [
        format!(
            "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
        ),
        format!("{CSRF_COOKIE}={csrf}; Path=/; SameSite=Lax; Max-Age={max_age}{secure}"),
    ];
    for c in cookies {
        headers.append(
            SET_COOKIE,
            c.parse()
                .map_err(|_| ApiError::internal(anyhow::anyhow!("bad cookie")))?,
        );
    }
    Ok((
        headers,
        axum::Json(
            json!({"token": token, "csrf_token": csrf, "expires_at": expires, "user": user.to_json()}),
        ),
    )
        .into_response())
}

async fn logout(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    shanzhi_store::session::delete(&app.db, &user.token_hash).await?;
    let now = app.clock.now_ms();
    shanzhi_store::audit::record(
        &app.db,
        &AuditEntry::new(
            Some(user.user.id),
            "user.logout",
            "user",
            user.user.id.to_string(),
        ),
        now,
    )
    .await?;
    let mut headers = HeaderMap::new();
    for name in [SESSION_COOKIE, CSRF_COOKIE] {
        headers.append(
            SET_COOKIE,
            format!("{name}=; Path=/; Max-Age=0")
                .parse()
                .map_err(|_| ApiError::internal(anyhow::anyhow!("bad cookie")))?,
        );
    }
    Ok((headers, axum::Json(json!({"ok": true}))))
}

async fn me(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    let mut v = user.user.to_json();
    v["scope_node"] = json!(user.actor.scope.node().map(|c| c.as_str().to_owned()));
    // How warnings reach the user: the phone masked, the e-mail address as set.
    let (phone, email) = shanzhi_store::user::contact(&app.db, user.user.id).await?;
    v["phone"] = json!(phone);
    v["email"] = json!(email);
    Ok(axum::Json(v))
}
