//! Delivering the outbox to the platform: every row is sent with its idempotency key, a
//! failure is retried later with exponential back-off and jitter, and a row is marked
//! delivered only after the platform confirmed it. Together with the platform's
//! de-duplication by key, the platform sees each application exactly once, across crashes
//! and restarts (the state is all in the store).

pub mod tools;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::store::{OutboxRow, Store, StoreError};

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The platform has it (first time or recognised repeat).
    Delivered,
    /// Not now (unreachable, timed out, 5xx): try again later.
    Retry(String),
    /// The platform refused it (4xx): retrying at once would only be refused again; it is
    /// parked for a day and shown to staff.
    Rejected(String),
}

/// Sends one outbox row to the platform.
pub trait Deliver: Send + Sync + 'static {
    fn deliver(&self, row: OutboxRow, store: Arc<Store>) -> impl Future<Output = Outcome> + Send;
}

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How many rows (of different applications) are sent at once.
    pub in_flight: usize,
    /// The first retry delay; it doubles per failed attempt up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// When idle, look again at least this often.
    pub idle_poll: Duration,
    /// A refused row waits this long before the next try.
    pub rejected_delay: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            in_flight: 16,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_mins(10),
            idle_poll: Duration::from_secs(5),
            rejected_delay: Duration::from_hours(24),
        }
    }
}

/// The worker's view of the platform, for the journeys that need it live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncState {
    pub reachable: bool,
    pub pending: u64,
}

/// The retry delay after `attempts` failures: doubling, capped, with up to 20 % jitter so
/// that kiosks coming back online do not all retry in the same second.
pub fn retry_delay(attempts: u32, options: &WorkerOptions) -> Duration {
    let factor = 2u32.saturating_pow(attempts.min(20));
    let base = options
        .base_delay
        .saturating_mul(factor)
        .min(options.max_delay);
    let jitter_ms = u64::try_from(base.as_millis() / 5).unwrap_or(u64::MAX);
    base + Duration::from_millis(if jitter_ms == 0 {
        0
    } else {
        rand::random_range(0..=jitter_ms)
    })
}

/// The outbox worker. Wake it with [`Worker::notify`] after queuing something.
pub struct Worker<D: Deliver> {
    store: Arc<Store>,
    deliver: Arc<D>,
    options: WorkerOptions,
    wake: Arc<Notify>,
    state: watch::Sender<SyncState>,
}

impl<D: Deliver> Worker<D> {
    pub fn new(store: Arc<Store>, deliver: D, options: WorkerOptions) -> Self {
        let (state, _) = watch::channel(SyncState {
            reachable: true,
            pending: 0,
        });
        Worker {
            store,
            deliver: Arc::new(deliver),
            options,
            wake: Arc::new(Notify::new()),
            state,
        }
    }

    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub fn state(&self) -> watch::Receiver<SyncState> {
        self.state.subscribe()
    }

    /// Runs for ever.
    pub async fn run(self) {
        loop {
            match self.drain_once().await {
                Ok(0) => {
                    let wait = self.idle_wait().await;
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = self.wake.notified() => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "outbox: store error; retrying shortly");
                    tokio::time::sleep(self.options.idle_poll).await;
                }
            }
        }
    }

    /// Delivers everything due now; returns how many rows were attempted.
    pub async fn drain_once(&self) -> Result<usize, StoreError> {
        let now = now_ms();
        let store = self.store.clone();
        let limit = self.options.in_flight.max(1);
        let rows = blocking(move || store.due(now, limit)).await?;
        if rows.is_empty() {
            self.publish(None).await;
            return Ok(0);
        }
        let count = rows.len();
        let mut tasks = tokio::task::JoinSet::new();
        for row in rows {
            let deliver = self.deliver.clone();
            let store = self.store.clone();
            tasks.spawn(async move {
                let (id, attempts) = (row.id, row.attempts);
                (id, attempts, deliver.deliver(row, store).await)
            });
        }
        let mut results = Vec::with_capacity(count);
        while let Some(done) = tasks.join_next().await {
            if let Ok(result) = done {
                results.push(result);
            }
        }
        let reachable = results
            .iter()
            .any(|(_, _, o)| !matches!(o, Outcome::Retry(_)));
        crate::failpoint::point("outbox.after-send");
        let store = self.store.clone();
        let options = self.options.clone();
        blocking(move || {
            let now = now_ms();
            for (id, attempts, outcome) in results {
                match outcome {
                    Outcome::Delivered => store.mark_delivered(id, now)?,
                    Outcome::Retry(why) => {
                        let delay = retry_delay(attempts, &options);
                        tracing::warn!(row = id, attempts = attempts + 1, retry_in_ms = millis(delay), reason = %why, "outbox: delivery failed");
                        store.mark_failed(id, &why, now + millis(delay))?;
                    }
                    Outcome::Rejected(why) => {
                        tracing::error!(row = id, reason = %why, "outbox: the platform refused a row; parked for staff");
                        store.mark_failed(id, &format!("refused: {why}"), now + millis(options.rejected_delay))?;
                    }
                }
            }
            Ok(())
        })
        .await?;
        crate::failpoint::point("outbox.after-mark");
        self.publish(Some(reachable)).await;
        Ok(count)
    }

    async fn publish(&self, reachable: Option<bool>) {
        let store = self.store.clone();
        let pending = blocking(move || store.outbox_stats())
            .await
            .map_or(0, |s| s.pending);
        self.state.send_modify(|s| {
            s.pending = pending;
            if let Some(r) = reachable {
                s.reachable = r;
            }
        });
    }

    async fn idle_wait(&self) -> Duration {
        let store = self.store.clone();
        let next = blocking(move || store.next_due_ms()).await.ok().flatten();
        match next {
            Some(at) => {
                let wait = u64::try_from(at - now_ms()).unwrap_or(0);
                Duration::from_millis(wait)
                    .min(self.options.idle_poll)
                    .max(Duration::from_millis(10))
            }
            None => self.options.idle_poll,
        }
    }
}

pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Runs store work on the blocking pool (SQLite waits for the disk).
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Data(format!("store task failed: {e}")))?
}

#[cfg(test)]
mod tests;
