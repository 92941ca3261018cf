//! Notifications over HTTP: the user's list with the unread count, marking read, and a live
//! stream of server-sent events.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use shanzhi_store::notification::{NotificationRow, Reader};
use shanzhi_store::StoreError;
use tokio::sync::broadcast::error::RecvError;

use super::doc::{schema as s, Doc, Routes};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;
use crate::notification::{reader_of, STREAM_POLL};

/// A stream ends after this long; the browser's EventSource reconnects, which checks the
/// session again (a logged-out or disabled user stops receiving).
const STREAM_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// `/api/v1/notifications…`.
pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/notifications", list, Doc::new("notification",
            "The user's notices (their own, their department's, their centre's), newest first, with the unread count")
            .query("before", s::int64(), "id of the last notice seen (from next_before)")
            .query("unread", s::boolean(), "only unread notices")
            .query("limit", s::integer(1, 200), "page size (default 50)"))
        .post("/api/v1/notifications/read_all", read_all, Doc::new("notification", "Mark every notice of the user read"))
        .post("/api/v1/notifications/{id}/read", read_one, Doc::new("notification", "Mark one notice read (for this user)")
            .path("id", s::int64()))
        .get("/api/v1/notifications/stream", stream, Doc::new("notification",
            "Server-sent events: `unread` (the count) on connect and after each change, `notification` for each new notice")
            .produces("text/event-stream"))
}

/// A notice as clients see it.
pub fn to_json(n: &NotificationRow) -> Value {
    json!({
        "id": n.id, "event_id": n.event_id, "kind": n.kind,
        "params": serde_json::from_str::<Value>(&n.params).unwrap_or(Value::Null),
        "message": n.message, "created_at": n.created_at, "read": n.read,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    before: Option<i64>,
    unread: Option<bool>,
    limit: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let limit = crate::http::extract::page_limit(q.limit, 50, 200)?;
    let reader = reader_of(&user);
    let rows = shanzhi_store::notification::list(
        &app.db,
        &reader,
        q.before,
        q.unread.unwrap_or(false),
        limit,
    )
    .await?;
    let unread = shanzhi_store::notification::unread_count(&app.db, &reader).await?;
    let next = if rows.len() as i64 == limit {
        rows.last().map(|n| n.id)
    } else {
        None
    };
    Ok(axum::Json(json!({
        "items": rows.iter().map(to_json).collect::<Vec<_>>(),
        "unread": unread,
        "next_before": next,
    })))
}

async fn read_one(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let reader = reader_of(&user);
    match shanzhi_store::notification::mark_read(&app.db, &reader, id, app.clock.now_ms()).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(ApiError::not_found("notification")),
        Err(e) => return Err(e.into()),
    }
    let unread = shanzhi_store::notification::unread_count(&app.db, &reader).await?;
    Ok(axum::Json(json!({"unread": unread})))
}

async fn read_all(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    let reader = reader_of(&user);
    let marked =
        shanzhi_store::notification::mark_all_read(&app.db, &reader, app.clock.now_ms()).await?;
    let unread = shanzhi_store::notification::unread_count(&app.db, &reader).await?;
    Ok(axum::Json(json!({"marked": marked, "unread": unread})))
}

/// What a live stream holds between two events.
struct Live {
    app: AppState,
    reader: Reader,
    wake: tokio::sync::broadcast::Receiver<crate::notification::Address>,
    /// Id of the newest notice sent (or there at connect).
    last: i64,
    pending: VecDeque<Event>,
    /// When to look in the database next, woken or not.
    next_poll: tokio::time::Instant,
    ends_at: tokio::time::Instant,
}

impl Live {
    /// Queues the notices newer than the last one sent, and the unread count after them.
    async fn catch_up(&mut self, always_count: bool) -> Result<(), StoreError> {
        let rows =
            shanzhi_store::notification::since(&self.app.db, &self.reader, self.last, 100).await?;
        for n in &rows {
            self.last = self.last.max(n.id);
            self.pending.push_back(
                Event::default()
                    .event("notification")
                    .id(n.id.to_string())
                    .data(to_json(n).to_string()),
            );
        }
        if always_count || !rows.is_empty() {
            let unread =
                shanzhi_store::notification::unread_count(&self.app.db, &self.reader).await?;
            self.pending.push_back(
                Event::default()
                    .event("unread")
                    .data(json!({"unread": unread}).to_string()),
            );
        }
        Ok(())
    }

    /// The next event, or None when the stream ends.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Live)> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Some((Ok(e), self));
            }
            let woke = tokio::select! {
                r = self.wake.recv() => match r {
                    Ok(address) => address.reaches(&self.reader),
                    // Missed some: look in the database.
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return None,
                },
                // Notices made by another server instance.
                _ = tokio::time::sleep_until(self.next_poll) => {
                    self.next_poll = tokio::time::Instant::now() + STREAM_POLL;
                    true
                }
                _ = tokio::time::sleep_until(self.ends_at) => return None,
            };
            if woke {
                if let Err(e) = self.catch_up(false).await {
                    tracing::warn!(error = %e, "notification stream could not read; it ends");
                    return None;
                }
            }
        }
    }
}

async fn stream(State(app): State<AppState>, user: CurrentUser) -> ApiResult<impl IntoResponse> {
    let reader = reader_of(&user);
    // Subscribe before reading the last id, so nothing committed in between is missed.
    let wake = app.notices.subscribe();
    let last = shanzhi_store::notification::last_id(&app.db, &reader).await?;
    let mut live = Live {
        app,
        reader,
        wake,
        last,
        pending: VecDeque::new(),
        next_poll: tokio::time::Instant::now() + STREAM_POLL,
        ends_at: tokio::time::Instant::now() + STREAM_LIFETIME,
    };
    // The count first, so a client shows the badge right away.
    live.catch_up(true).await?;
    let events = futures_util::stream::unfold(live, Live::next);
    // A reverse proxy (nginx) must pass each event on at once, not buffer the stream.
    Ok((
        [("x-accel-buffering", "no")],
        Sse::new(events).keep_alive(KeepAlive::default()),
    ))
}
