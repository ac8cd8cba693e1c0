//! Group commit: batches are applied at once and a single flusher thread makes them durable, so many
//! concurrent writers share one fsync. A writer waits on the ticket its batch got.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use tokio::sync::watch;

/// Identifies an applied batch; durable once the flusher has passed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// What the flusher has made durable so far, or the error that stopped it.
#[derive(Debug, Clone, Default)]
pub struct Flushed {
    /// Highest durable ticket.
    pub durable: u64,
    /// A flush failure (no later ticket becomes durable).
    pub error: Option<String>,
}

pub(crate) struct Committer {
    applied: AtomicU64,
    stop: Mutex<bool>,
    wake: Condvar,
    flushed: watch::Sender<Flushed>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Committer {
    /// Starts the flusher thread for `db`.
    pub(crate) fn start(db: sled::Db) -> Arc<Committer> {
        let (flushed, _) = watch::channel(Flushed::default());
        let committer = Arc::new(Committer {
            applied: AtomicU64::new(0),
            stop: Mutex::new(false),
            wake: Condvar::new(),
            flushed,
            thread: Mutex::new(None),
        });
        let worker = committer.clone();
        let handle = std::thread::Builder::new()
            .name("supportbot-flush".into())
            .spawn(move || worker.flush_loop(db))
            .expect("spawning the flush thread");
        *committer.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        committer
    }

    /// Records that one more batch is applied and wakes the flusher.
    pub(crate) fn applied(&self) -> Ticket {
        let ticket = self.applied.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = self.stop.lock().unwrap_or_else(|e| e.into_inner());
        self.wake.notify_one();
        Ticket(ticket)
    }

    /// Waits until `ticket` is durable.
    pub(crate) async fn wait(&self, ticket: Ticket) -> Result<(), String> {
        let mut rx = self.flushed.subscribe();
        let state = rx
            .wait_for(|s| s.durable >= ticket.0 || s.error.is_some())
            .await
            .map_err(|_| "the store is closed".to_string())?;
        match (&state.error, state.durable >= ticket.0) {
            (_, true) => Ok(()),
            (Some(err), false) => Err(err.clone()),
            (None, false) => Err("the store is closed".into()),
        }
    }

    fn flush_loop(&self, db: sled::Db) {
        let mut durable = 0u64;
        loop {
            {
                let mut stop = self.stop.lock().unwrap_or_else(|e| e.into_inner());
                while self.applied.load(Ordering::SeqCst) <= durable && !*stop {
                    stop = self.wake.wait(stop).unwrap_or_else(|e| e.into_inner());
                }
                if *stop && self.applied.load(Ordering::SeqCst) <= durable {
                    return;
                }
            }
            let target = self.applied.load(Ordering::SeqCst);
            match db.flush() {
                Ok(_) => {
                    durable = target;
                    self.flushed.send_modify(|s| s.durable = target);
                }
                Err(err) => {
                    tracing::error!(error = %err, "flushing the store failed");
                    self.flushed
                        .send_modify(|s| s.error = Some(err.to_string()));
                    return;
                }
            }
        }
    }

    /// Stops the flusher after a last flush and waits for it.
    pub(crate) fn stop(&self) {
        *self.stop.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.wake.notify_all();
        if let Some(handle) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = handle.join();
        }
    }
}
