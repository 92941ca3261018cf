//! The outbox worker: a background task of every server that claims due rows of
//! `warning_delivery` under a lease, hands each to its channel's [`Sender`], and marks it sent
//! only after the sender succeeded (at least once), or backs it off and at last gives it up.
//! A row is held by one worker at a time (the lease, re-checked on every mark), so it is not
//! sent twice concurrently; a server that stops mid-send leaves the row pending and the next
//! one resends it when the lease runs out. Rows of a channel this server has no sender for are
//! left alone (and reported once).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use shanzhi_domain::warning::{retry_at, Level};
use shanzhi_store::warning::{Claimed, Warning};
use shanzhi_store::StoreError;
use tokio::sync::Notify;

use super::sender::{Message, Sender};
use crate::http::state::AppState;

/// How long a claim holds a row: far longer than a send may take ([`super::sender::SEND_TIMEOUT`]).
pub const LEASE_MS: i64 = 10 * 60 * 1000;
/// Rows claimed at once.
const BATCH: i64 = 50;

/// The outbox of one server: its senders, its lease owner id and the bell that wakes it.
pub struct Outbox {
    owner: String,
    senders: Vec<Arc<dyn Sender>>,
    wake: Notify,
    reported_idle: AtomicBool,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
}

impl Outbox {
    /// An outbox with these senders and a fresh owner id.
    pub fn new(senders: Vec<Arc<dyn Sender>>) -> Outbox {
        let mut id = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut id);
        Outbox {
            owner: hex::encode(id),
            senders,
            wake: Notify::new(),
            reported_idle: AtomicBool::new(false),
        }
    }

    /// Is there a sender for `channel` on this server?
    pub fn serves(&self, channel: &str) -> bool {
        self.senders.iter().any(|s| s.channel() == channel)
    }

    /// Asks the worker to look at the outbox now (after a warning committed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn sender(&self, channel: &str) -> Option<&Arc<dyn Sender>> {
        self.senders.iter().find(|s| s.channel() == channel)
    }
}

/// Drains the outbox every `poll_ms` and whenever woken, until the task is dropped.
pub async fn run(state: AppState) {
    let every = Duration::from_millis(state.config.warning.poll_ms.max(10));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {},
            _ = state.outbox.wake.notified() => {},
        }
        match drain(&state).await {
            Ok(p) if p.sent + p.retried + p.failed > 0 => tracing::info!(?p, "warning outbox"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "warning outbox pass failed"),
        }
    }
}

/// Sends every due row of the channels this server serves; returns what it did.
pub async fn drain(state: &AppState) -> Result<Pass, StoreError> {
    let outbox = &state.outbox;
    report_unserved(state).await;
    let channels: Vec<&str> = outbox.senders.iter().map(|s| s.channel()).collect();
    let mut pass = Pass::default();
    let mut warnings: HashMap<i64, Warning> = HashMap::new();
    loop {
        let now = state.clock.now_ms();
        let rows = shanzhi_store::warning::claim(
            &state.db,
            &outbox.owner,
            &channels,
            now,
            now + LEASE_MS,
            BATCH,
        )
        .await?;
        if rows.is_empty() {
            return Ok(pass);
        }
        for row in rows {
            if let std::collections::hash_map::Entry::Vacant(e) = warnings.entry(row.warning_id) {
                e.insert(shanzhi_store::warning::get(&state.db, row.warning_id).await?);
            }
            let warning = &warnings[&row.warning_id];
            match deliver(state, &row, warning).await {
                Ok(()) => {
                    let now = state.clock.now_ms();
                    if shanzhi_store::warning::mark_sent(&state.db, row.id, &outbox.owner, now)
                        .await?
                    {
                        pass.sent += 1;
                    } else {
                        tracing::warn!(delivery = row.id, "sent a warning after losing its lease");
                    }
                }
                Err(error) => {
                    let w = &state.config.warning;
                    let now = state.clock.now_ms();
                    let next = retry_at(
                        now,
                        row.attempts + 1,
                        w.backoff_seconds * 1000,
                        w.max_attempts,
                    );
                    shanzhi_store::warning::mark_attempt_failed(
                        &state.db,
                        row.id,
                        &outbox.owner,
                        next,
                        &error,
                    )
                    .await?;
                    // The row id and channel only: the error text holds no address either.
                    tracing::warn!(delivery = row.id, channel = %row.channel, attempts = row.attempts + 1,
                        given_up = next.is_none(), %error, "a warning was not delivered");
                    if next.is_some() {
                        pass.retried += 1;
                    } else {
                        pass.failed += 1;
                    }
                }
            }
        }
    }
}

/// Reads the address (a phone unsealed here, at send time only) and sends one row.
async fn deliver(state: &AppState, row: &Claimed, warning: &Warning) -> Result<(), String> {
    let Some(sender) = state.outbox.sender(&row.channel) else {
        return Err(format!("no sender for channel {}", row.channel));
    };
    let (email, phone) = shanzhi_store::warning::address(&state.db, row.user_id)
        .await
        .map_err(|e| format!("reading the address: {e}"))?;
    let to = match row.channel.as_str() {
        "email" => email.filter(|e| !e.trim().is_empty()),
        "sms" => match phone {
            Some(blob) => Some(
                state
                    .pii
                    .decrypt(&blob)
                    .map_err(|_| "the phone could not be unsealed".to_owned())?,
            ),
            None => None,
        },
        _ => None,
    };
    let Some(to) = to else {
        return Err("the recipient no longer has an address on this channel".into());
    };
    let level = Level::parse(&warning.level)
        .map(Level::zh)
        .unwrap_or("预警");
    let message = Message {
        delivery_id: row.id,
        to,
        subject: format!("【{level}】{}", warning.title),
        body: match row.channel.as_str() {
            "sms" => format!("【{level}】{}：{}", warning.title, warning.message),
            _ => format!(
                "{}\n\n{}\n\n（{} {}）",
                warning.title, warning.message, level, warning.number
            ),
        },
    };
    sender.send(&message).await.map_err(|e| e.0)
}

/// Logs once per server that rows wait for a channel it cannot send.
async fn report_unserved(state: &AppState) {
    if state.outbox.reported_idle.load(Ordering::Relaxed) {
        return;
    }
    if let Ok(pending) = shanzhi_store::warning::pending_by_channel(&state.db).await {
        let waiting: Vec<_> = pending
            .iter()
            .filter(|(c, n)| *n > 0 && !state.outbox.serves(c))
            .collect();
        if !waiting.is_empty() {
            state.outbox.reported_idle.store(true, Ordering::Relaxed);
            tracing::warn!(
                ?waiting,
                "warning messages wait for a channel this server has no sender for (set smtp_host / sms_webhook_url)"
            );
        }
    }
}
