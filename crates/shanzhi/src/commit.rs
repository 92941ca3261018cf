//! Group commit for reports. Concurrent reports queue here and one task writes whatever has
//! queued in a single transaction, so the durable commit (one WAL fsync on SQLite) and the
//! counter and audit-head updates are paid once per group instead of once per report. A report
//! is acknowledged only after its group committed.

use shanzhi_store::event::{insert_reports, ReportWrite};
use shanzhi_store::{Db, StoreError};
use tokio::sync::{mpsc, oneshot};

/// Most reports written in one transaction.
pub const MAX_GROUP: usize = 256;

/// Reports waiting for the committer; more wait in their handlers (back-pressure).
const QUEUE: usize = 4 * MAX_GROUP;

type Reply = oneshot::Sender<Result<(i64, bool), StoreError>>;

/// The queue in front of the committer task.
pub struct ReportQueue {
    db: Db,
    tx: mpsc::Sender<(ReportWrite, Reply)>,
}

impl ReportQueue {
    /// Starts the committer on the current Tokio runtime. It stops when the queue is dropped.
    pub fn start(db: Db) -> ReportQueue {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(db.clone(), rx));
        ReportQueue { db, tx }
    }

    /// Writes one report in the next group; returns its event id and whether it was created
    /// (false: the idempotency key was used before). Returns once the group is committed.
    pub async fn submit(&self, w: ReportWrite) -> Result<(i64, bool), StoreError> {
        let (reply, answer) = oneshot::channel();
        match self.tx.send((w, reply)).await {
            Ok(()) => match answer.await {
                Ok(r) => r,
                Err(_) => Err(StoreError::Other(anyhow::anyhow!(
                    "the report committer stopped before answering"
                ))),
            },
            // The committer is gone (only at shutdown): write this one alone.
            Err(mpsc::error::SendError((w, _))) => {
                let mut out = insert_reports(&self.db, std::slice::from_ref(&w)).await?;
                Ok(out.remove(0))
            }
        }
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<(ReportWrite, Reply)>) {
    let mut jobs: Vec<(ReportWrite, Reply)> = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut jobs, MAX_GROUP).await > 0 {
        let (writes, replies): (Vec<ReportWrite>, Vec<Reply>) = jobs.drain(..).unzip();
        let t0 = std::time::Instant::now();
        let res = insert_reports(&db, &writes).await;
        tracing::debug!(
            group = writes.len(),
            ms = t0.elapsed().as_secs_f64() * 1e3,
            "group commit"
        );
        match res {
            Ok(ids) => {
                for (reply, id) in replies.into_iter().zip(ids) {
                    let _ = reply.send(Ok(id));
                }
            }
            Err(e) if writes.len() == 1 => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(e));
                }
            }
            // One bad report must not fail its neighbours: write them one by one, so each gets
            // its own answer.
            Err(e) => {
                tracing::warn!(error = %e, group = writes.len(), "group commit failed; writing its reports one by one");
                for (w, reply) in writes.iter().zip(replies) {
                    let r = insert_reports(&db, std::slice::from_ref(w))
                        .await
                        .map(|mut v| v.remove(0));
                    let _ = reply.send(r);
                }
            }
        }
    }
}
