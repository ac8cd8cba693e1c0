//! Fail-stop storage. The first write, sync or sled fault puts the store into a failed state for good: every
//! later write and every wait for durability fails at once with that fault, nothing more reaches the log or
//! sled, and what was acknowledged before it stays in the log for the next start. Also guards sled's flush
//! against a wait that sled's own I/O errors can leave without a wake-up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use super::StoreError;

/// How often a running sled flush checks whether sled has recorded an I/O error.
const WATCH_EVERY: Duration = Duration::from_millis(100);

/// The first fault, once there is one.
#[derive(Default)]
pub(crate) struct Fault {
    first: OnceLock<String>,
}

impl Fault {
    /// What failed (the file or directory, and the system's error), once the store has failed.
    pub(crate) fn get(&self) -> Option<&str> {
        self.first.get().map(String::as_str)
    }

    /// Records `detail` unless a fault is already recorded; returns the recorded fault and whether it is new.
    pub(crate) fn set(&self, detail: String) -> (&str, bool) {
        let mut new = false;
        let first = self.first.get_or_init(|| {
            new = true;
            detail
        });
        (first, new)
    }

    /// `Ok` while the store works; the fault as an error once it has failed.
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        match self.get() {
            Some(detail) => Err(StoreError::Failed(detail.to_string())),
            None => Ok(()),
        }
    }
}

/// Flushes sled. sled 0.34 records an I/O error of a background write (such as ENOSPC) without waking a flush
/// that is already waiting for that write, which would then wait for ever; a watcher thread sees the recorded
/// error and starts a second flush, which finds it and wakes every waiter, so the flush returns the error.
pub(crate) fn flush_sled(db: &sled::Db, config: &sled::Config) -> Result<(), sled::Error> {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            while !done.load(Ordering::Acquire) {
                std::thread::park_timeout(WATCH_EVERY);
                if !done.load(Ordering::Acquire) && config.global_error().is_err() {
                    let _ = db.flush();
                }
            }
        });
        let result = db.flush().map(drop);
        done.store(true, Ordering::Release);
        watcher.thread().unpark();
        result
    })
}
