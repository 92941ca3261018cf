//! Logging in and out. A login gives a session token, both as a bearer token for API clients
//! and as an HttpOnly, SameSite cookie for the web (with a CSRF token for cookie writes).

use super::doc::{schema as s, Doc, Routes};
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::user::{after_failed_login, Username};
use shanzhi_store::audit::AuditEntry;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{token_hash, CurrentUser, Json, CSRF_COOKIE, SESSION_COOKIE};
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

async fn login(
    State(app): State<AppState>,
    Json(body): Json<LoginBody>,
) -> ApiResult<impl IntoResponse> {
    let wrong = || ApiError::unauthorized("wrong username or password");
    let username = Username::parse(&body.username)?;
    if body.password.chars().count() > 1024 {
        return Err(ApiError::invalid("password", "too long"));
    }
    let now = app.clock.now_ms();
    let found = shanzhi_store::user::for_login(&app.db, &username).await?;
    let Some((user, hash)) = found else {
        let pw = body.password.clone();
        let _ = tokio::task::spawn_blocking(move || password::verify(&pw, password::decoy_hash()))
            .await;
        return Err(wrong());
    };
    if let Some(until) = user.locked_until.filter(|u| *u > now) {
        let minutes = (until - now + 59_999) / 60_000;
        return Err(ApiError::locked(format!(
            "too many failed logins; the account is locked for {minutes} more minute(s)"
        )));
    }
    let pw = body.password.clone();
    let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &hash))
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    if !ok {
        let failures = if user.locked_until.is_some() {
            0
        } else {
            user.failed_logins
        };
        let (failures, lock) = after_failed_login(failures, now / 1000);
        let lock_ms = lock.map(|s| s * 1000);
        shanzhi_store::user::record_failure(&app.db, user.id, failures, lock_ms, now).await?;
        return Err(match lock_ms {
            Some(_) => {
                ApiError::locked("too many failed logins; the account is locked for 15 minutes")
            }
            None => wrong(),
        });
    }
    if user.disabled {
        return Err(ApiError::forbidden("this account is disabled"));
    }
    shanzhi_store::user::clear_failures(&app.db, user.id).await?;
    let token = random_hex(32);
    let csrf = random_hex(16);
    let expires = now + app.config.session_hours * 3600 * 1000;
    shanzhi_store::session::insert(&app.db, &token_hash(&token), user.id, &csrf, now, expires)
        .await?;
    shanzhi_store::audit::record(
        &app.db,
        &AuditEntry::new(Some(user.id), "user.login", "user", user.id.to_string()),
        now,
    )
    .await?;
    let secure = if app.config.cookie_secure {
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
    ))
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

async fn me(user: CurrentUser) -> ApiResult<impl IntoResponse> {
    let mut v = user.user.to_json();
    v["scope_node"] = json!(user.actor.scope.node().map(|c| c.as_str().to_owned()));
    Ok(axum::Json(v))
}
