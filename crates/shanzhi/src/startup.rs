//! Building the application from settings and serving it until SIGTERM or Ctrl-C.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use shanzhi_store::Db;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::commit::ReportQueue;
use crate::config::Config;
use crate::http::state::{AppState, LocatorCell};
use crate::metrics::Metrics;
use crate::reference::Reference;

/// Connects, migrates and loads the grid index: everything a server needs before it listens.
pub async fn build_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let db = Db::connect(&config.database_url, config.max_connections).await?;
    let applied = db.migrate().await.context("migrating the database")?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    // Not fatal: the id sequence enters a month only once its partition exists, and the
    // quarter-hour job tries again.
    match shanzhi_store::partition::ensure(&db).await {
        Ok(made) if made > 0 => tracing::info!(made, "made event partitions"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not make this month's event partitions"),
    }
    let pii = config.keyring()?;
    shanzhi_store::pii::check_keys(&db, &pii).await?;
    let sealed = shanzhi_store::pii::seal_legacy(&db, &pii)
        .await
        .context("sealing phones stored before personal-data encryption")?;
    if sealed > 0 {
        tracing::info!(
            sealed,
            "sealed phones kept in plain text by an earlier version"
        );
    }
    let senders = crate::warning::sender::from_settings(&config.warning)
        .context("the warning senders (smtp_host, sms_webhook_url)")?;
    let state = AppState {
        outbox: Arc::new(crate::warning::outbox::Outbox::new(senders)),
        lease: Arc::new(JobLease::new()),
        replica: match &config.replica_url {
            Some(url) => Some(Arc::new(crate::http::state::Replica::new(
                Db::connect_replica(url, config.max_connections).await?,
            ))),
            None => None,
        },
        pii,
        reports: Arc::new(ReportQueue::start(db.clone())),
        reference: Arc::new(Reference::default()),
        db,
        clock,
        config: Arc::new(config),
        locator: Arc::new(LocatorCell::new()),
        map: Arc::new(crate::map::MapCache::new()),
        metrics: Arc::new(Metrics::default()),
        notices: Arc::new(crate::notification::NoticeHub::new()),
        settled: Arc::default(),
    };
    state
        .locator
        .refresh(&state.db)
        .await
        .context("building the grid index")?;
    Ok(state)
}

/// Serves `state` on `listener` until `shutdown` resolves; requests in flight are finished.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let background = tokio::spawn(housekeeping(state.clone()));
    let outbox = tokio::spawn(crate::warning::outbox::run(state.clone()));
    let folder = tokio::spawn(write_behind(state.db.clone()));
    let notices = tokio::spawn(listen(state.clone()));
    let app = crate::http::router(state.clone());
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("serving HTTP")?;
    background.abort();
    outbox.abort();
    folder.abort();
    notices.abort();
    // Another server takes the jobs at its next tick, not when the lease would have run out.
    state.lease.release(&state).await;
    // Leave the counters whole for whoever opens the database next (they would fold anyway).
    if let Err(e) = shanzhi_store::event::fold_stats(&state.db).await {
        tracing::warn!(error = %e, "could not fold the counter journal at shutdown");
    }
    state.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Adds the counter deltas that reports and moves journaled (`stat_journal`) to the counters,
/// and checkpoints SQLite's WAL ([`shanzhi_store::Db::checkpoint`]), about once a second.
/// Readers of the counters fold first anyway, so the figures never lag; this keeps the journal
/// short, so a read rarely has much to fold. Safe beside other servers folding the same
/// journal: when another server is folding, this one leaves it to that one.
async fn write_behind(db: shanzhi_store::Db) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let t0 = std::time::Instant::now();
        match shanzhi_store::event::fold_stats_behind(&db).await {
            Ok(n) if n > 0 => tracing::debug!(
                deltas = n,
                ms = t0.elapsed().as_secs_f64() * 1e3,
                "folded the counter journal"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not fold the counter journal"),
        }
        if let Err(e) = db.checkpoint().await {
            tracing::warn!(error = %e, "could not checkpoint the database");
        }
    }
}

/// Hears other servers' changes to the tree and the reference data (PostgreSQL's
/// `LISTEN shanzhi_change`) and rebuilds or drops what this server holds at once. While the
/// listening connection is down, the reference data expires after its short TTL and the grid
/// index is polled at every housekeeping tick, as on SQLite; back up, everything is refreshed
/// once, since notices may have been missed.
async fn listen(state: AppState) {
    loop {
        let mut listener = match shanzhi_store::change::listen(&state.db).await {
            Ok(Some(l)) => l,
            Ok(None) => return, // SQLite: polling only.
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other servers' changes; polling");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        state.reference.set_notified(true);
        // Whatever changed before the connection was up.
        refresh_all(&state).await;
        loop {
            match listener.next().await {
                Ok(shanzhi_store::change::Change::Tree) => refresh_tree(&state).await,
                Ok(shanzhi_store::change::Change::Reference) => state.reference.invalidate(),
                Ok(shanzhi_store::change::Change::Missed) => {
                    tracing::warn!("lost the change notices' connection; reconnecting");
                    state.reference.set_notified(false);
                    refresh_all(&state).await;
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "change notices failed; reconnecting");
                    state.reference.set_notified(false);
                    refresh_all(&state).await;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

async fn refresh_tree(state: &AppState) {
    if let Err(e) = state.locator.refresh(&state.db).await {
        tracing::warn!(error = format!("{e:#}"), "could not refresh the grid index");
    }
    // The map's levels and far-out outlines, made before anyone asks (nothing is read when they
    // are current), on a task of their own: the province's take seconds, and the tick goes on.
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = state
            .map
            .warm(
                &state.db,
                &crate::http::api::map::DRAWN_LEVELS,
                &crate::http::api::map::DRAWN_OUTLINES,
            )
            .await
        {
            tracing::warn!(
                error = format!("{e:#}"),
                "could not build the map's level indexes"
            );
        }
    });
}

async fn refresh_all(state: &AppState) {
    state.reference.invalidate();
    refresh_tree(state).await;
}

/// The lease on the timed jobs that must run on one server at a time (the sweeps, the rules'
/// sweep, contract flags, points, briefings, purging sessions) when several servers share a
/// database (`job_lease`). The holder renews it at every housekeeping tick; if it dies, another
/// server takes the jobs once the lease ran out (`job_lease_seconds`, 30 by default, plus one
/// tick), at once after a graceful stop. Servers' clocks must agree to well under a lease.
pub struct JobLease {
    holder: String,
}

const JOBS: &str = "timed-jobs";

impl Default for JobLease {
    fn default() -> Self {
        Self::new()
    }
}

impl JobLease {
    /// A lease request with a fresh holder id (one per server process): the process id, so an
    /// operator can tell which server holds the jobs, and a random part.
    pub fn new() -> JobLease {
        use rand::RngCore;
        let mut id = [0u8; 4];
        rand::rngs::OsRng.fill_bytes(&mut id);
        JobLease {
            holder: format!("pid{}-{}", std::process::id(), hex::encode(id)),
        }
    }

    /// Takes or renews the lease; answers whether this server runs the jobs now. A database
    /// error answers no: better a sweep late than run twice.
    pub async fn hold(&self, state: &AppState) -> bool {
        let now = state.clock.now_ms();
        let until = now + state.config.job_lease_ms();
        match shanzhi_store::lease::take(&state.db, JOBS, &self.holder, now, until).await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, "could not renew the job lease");
                false
            }
        }
    }

    /// This server's holder id (as `job_lease.holder` shows it).
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Gives the lease up.
    pub async fn release(&self, state: &AppState) {
        if let Err(e) = shanzhi_store::lease::release(&state.db, JOBS, &self.holder).await {
            tracing::warn!(error = %e, "could not release the job lease");
        }
    }
}

/// Work on a timer: pick up tree changes made by other instances (every server, when they are
/// not heard as notices); and, on the
/// server holding the job lease, sweep deadlines, write the briefings due, drop expired
/// sessions. A server that takes the lease over from another runs the minute's jobs at once;
/// one that takes it at its start waits for its first minute, as a lone server always has.
async fn housekeeping(state: AppState) {
    let mut tick =
        tokio::time::interval(Duration::from_secs(state.config.tree_poll_seconds.max(1)));
    // After a slow minute's jobs, the next tick comes a period later rather than the missed
    // ones back to back (each would renew the lease and poll the tree once more for nothing).
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u64 = 0;
    let mut held = false;
    let minute = 60 / state.config.tree_poll_seconds.clamp(1, 60);
    let quarter_hour = 900 / state.config.tree_poll_seconds.clamp(1, 900);
    loop {
        tick.tick().await;
        n += 1;
        // Heard at once while PostgreSQL's notices arrive; polled otherwise (and once a minute
        // anyway, a safety net that costs one read of the tree's version).
        if !state.reference.notified() || n.is_multiple_of(minute) {
            refresh_tree(&state).await;
        }
        let was_held = held;
        held = state.lease.hold(&state).await;
        if held != was_held {
            tracing::info!(
                held,
                holder = state.lease.holder(),
                "the timed jobs' lease changed hands"
            );
        }
        if !held {
            continue;
        }
        // About once a minute: the deadline sweep (lights, supervision, escalation). A server
        // that takes the jobs over from another (not at its own start) runs them at once.
        let took_over = !was_held && n > 1;
        if took_over || n.is_multiple_of(minute) {
            let jobs = minute_jobs(&state, n.is_multiple_of(quarter_hour));
            tokio::pin!(jobs);
            // Renewed while the jobs run, at the tick's pace: a slow minute never outlives the
            // lease, so no other server starts the same jobs beside these.
            let mut renew = tokio::time::interval(tick.period());
            renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            renew.tick().await;
            loop {
                tokio::select! {
                    () = &mut jobs => break,
                    _ = renew.tick() => {
                        if !state.lease.hold(&state).await {
                            // A database error (the lease holds until it runs out) or, after
                            // a whole lease of them, a lease another server took.
                            tracing::warn!(
                                holder = state.lease.holder(),
                                "could not renew the timed jobs' lease while running them"
                            );
                        }
                    }
                }
            }
        }
        if n.is_multiple_of(720) {
            match shanzhi_store::session::purge_expired(&state.db, state.clock.now_ms()).await {
                Ok(k) if k > 0 => tracing::info!(sessions = k, "purged expired sessions"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not purge sessions"),
            }
        }
    }
}

/// The minute's timed jobs (on the lease holder): the deadline sweeps (lights, supervision,
/// escalation) of events, disputes and questions, the risk sweep, contract flags, points and the
/// briefings due; with `rules`, also the risk rules' sweep and the event partitions ahead (every
/// quarter hour).
async fn minute_jobs(state: &AppState, rules: bool) {
    let now = state.clock.now_ms();
    match crate::event::sweep(state, now).await {
        Ok(s) if s.yellow + s.red + s.escalated + s.passed_on > 0 => {
            tracing::info!(?s, "deadline sweep")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e.message, "deadline sweep failed"),
    }
    match crate::dispute::sweep(state, now).await {
        Ok(s) if s.yellow + s.red > 0 => tracing::info!(?s, "dispute deadline sweep"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e.message, "dispute deadline sweep failed"),
    }
    match crate::question::sweep(state, now).await {
        Ok(s) if s.supervised > 0 => tracing::info!(?s, "question sweep"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e.message, "question sweep failed"),
    }
    match crate::risk::sweep(state, now).await {
        Ok(s) if s.yellow + s.red + s.lagging > 0 => tracing::info!(?s, "risk sweep"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e.message, "risk sweep failed"),
    }
    // The rules run after each write they watch; their sweep (what a failed evaluation
    // missed, and rises that depend on the date) is a safety net: every quarter hour.
    if rules {
        match crate::risk::rule::sweep(state, now).await {
            Ok(n) if n > 0 => tracing::info!(clues = n, "risk rules raised clues"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e.message, "risk rules sweep failed"),
        }
        // Next month's event partitions, made ahead (PostgreSQL; a month's first quarter hour
        // also moves the id sequence into the new month's range).
        match shanzhi_store::partition::ensure(&state.db).await {
            Ok(n) if n > 0 => tracing::info!(made = n, "made event partitions"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not make event partitions"),
        }
    }
    // Contracts whose term ended are flagged expired (the day's change, seen within
    // the minute; the query finds nothing on most runs).
    match crate::http::api::contract::sweep(state, now).await {
        Ok(n) if n > 0 => tracing::info!(flags = n, "contract flags rechecked"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e.message, "contract recheck failed"),
    }
    // The points of the residents' reports confirmed since the last run (积分制).
    match crate::points::sweep(state, now).await {
        Ok(n) if n > 0 => tracing::info!(awards = n, "points for confirmed reports"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e.message, "points sweep failed"),
    }
    // The morning and evening briefings due (早晚报), once per node and day.
    match crate::briefing::sweep(state, now).await {
        Ok(n) if n > 0 => tracing::info!(briefings = n, "wrote the briefings due"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e.message, "briefing schedule failed"),
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}
