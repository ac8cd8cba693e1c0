//! Group commit through the write-ahead log. A writer frames its batch into the pending group, records its
//! values in the overlay (where readers see them at once) and gets a ticket. The flusher thread takes the whole
//! pending group, appends it to the log and `fdatasync`s it (every writer waiting at that moment shares the
//! one sync; when busy, it first waits half a millisecond for more writers), publishes the durable ticket, and
//! moves the group from the overlay to the active stage. When that stage is large, a little old, or the
//! flusher has nothing else to do, the flusher freezes it and the checkpoint thread applies it to sled in one
//! pass, so syncs never wait for sled. Now and then the flusher starts a new log segment; the checkpoint thread
//! then applies what was frozen before it, flushes sled and deletes the segments the flush covers. The first
//! write, sync or sled fault stops all of it (see `fault`).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::batch::Batch;
use super::fault::Fault;
use super::overlay::{self, Lookup, Overlay};
use super::stage::Stages;
use super::wal::{self, Segment};
use super::{perms, recover, StoreError, Ticket};

#[path = "checkpoint.rs"]
mod checkpoint;

/// A segment this large is checkpointed.
const CHECKPOINT_BYTES: u64 = 32 * 1024 * 1024;
/// A segment this old is checkpointed after its next write.
const CHECKPOINT_AFTER: Duration = Duration::from_secs(10);
/// After a group of at least this many batches, the flusher waits [`GATHER`] before cutting the next one.
const GATHER_FROM: usize = 8;
/// How long a busy flusher lets batches gather. Each sync costs CPU time whatever it carries (about 0.3 ms
/// of a core on the test machines), so under load one sync per dozens of batches is far cheaper than one per
/// few; at light load groups are small and nothing waits.
const GATHER: Duration = Duration::from_micros(500);
/// A stage with this many keys is frozen and applied to sled.
const STAGE_KEYS: usize = 32 * 1024;
/// A stage is frozen and applied once it is this old, or after the flusher has been idle this long. Longer
/// passes would spare sled a few more rewrites, but each pass's burst of sled work then delays the answers of a
/// busy web chat (1 s gave a paced round-trip p99 of 9–11 ms where 0.2 s gave 5–6 ms).
const STAGE_AGE: Duration = Duration::from_millis(200);

/// How long closing a failed store waits for its threads.
const STOP_AFTER_FAULT: Duration = Duration::from_secs(2);

/// What the flusher has made durable so far, or the error that stopped it.
#[derive(Debug, Clone, Default)]
pub struct Synced {
    /// Highest durable ticket.
    pub durable: u64,
    /// A failure writing the log (no later ticket becomes durable).
    pub error: Option<String>,
}

/// Batches accepted but not yet written to the log.
#[derive(Default)]
struct Pending {
    framed: Vec<u8>,
    batches: Vec<(u64, Batch)>,
    applied: u64,
    flusher_idle: bool,
    stop: bool,
}

/// What the flusher writes to: the log segment, and when the stage received its oldest group.
struct Writer {
    segment: Segment,
    stage_since: Instant,
}

/// One group cut from [`Pending`].
#[derive(Default)]
struct Group {
    framed: Vec<u8>,
    batches: Vec<(u64, Batch)>,
    last: u64,
}

pub(crate) struct Committer {
    tree: sled::Tree,
    db: sled::Db,
    /// sled's configuration, which holds the I/O error sled recorded, if any.
    sled_config: sled::Config,
    /// The data directory (sled's files).
    data_dir: PathBuf,
    /// The log's directory.
    dir: PathBuf,
    /// Set at the first write, sync or sled fault; nothing is written after it.
    fault: Fault,
    /// Test hook: the next log sync fails as `fdatasync` does when the device reports an error.
    #[cfg(test)]
    pub(crate) fail_next_sync: std::sync::atomic::AtomicBool,
    pending: Mutex<Pending>,
    wake: Condvar,
    /// Every value not yet durable. Locked last: after `pending`, `writer` or `stages` when held with them.
    overlay: Mutex<Overlay>,
    /// Durable values not yet in sled. Added to only by whoever holds `writer`; readers take it after the
    /// overlay (never both at once), so a value moving overlay → stage → sled is never missed.
    stages: RwLock<Stages>,
    /// Held while a frozen stage is applied, so they reach sled one at a time, oldest first.
    applying: Mutex<()>,
    /// The log segment. Held from cutting a group until it is in the stage, and taken while `pending` is held,
    /// so groups reach the log and sled in the order they were cut.
    writer: Mutex<Writer>,
    synced: watch::Sender<Synced>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Requests to the checkpoint thread: apply the frozen stages, then (with a segment number) flush sled and
    /// delete the segments up to that one.
    checkpoints: Mutex<Option<mpsc::Sender<Option<u64>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

/// [`wal::io_error`] for `map_err`.
fn io_error(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| wal::io_error(path, e)
}

impl Committer {
    /// Opens the log a previous run left (see `recover`; `fresh`: sled held no schema mark) and starts the
    /// flusher and checkpoint threads.
    pub(crate) fn start(
        db: sled::Db,
        tree: sled::Tree,
        sled_config: sled::Config,
        data_dir: &Path,
        fresh: bool,
    ) -> Result<Arc<Committer>, StoreError> {
        let dir = data_dir.join(wal::WAL_DIR);
        perms::private_dir(&dir).map_err(io_error(&dir))?;
        let segment = recover::open_log(&db, &tree, &sled_config, data_dir, fresh)?;
        let (synced, _) = watch::channel(Synced::default());
        let (checkpoints, requests) = mpsc::channel();
        let committer = Arc::new(Committer {
            tree,
            db,
            sled_config,
            data_dir: data_dir.to_path_buf(),
            dir,
            fault: Fault::default(),
            #[cfg(test)]
            fail_next_sync: Default::default(),
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            overlay: Mutex::new(Overlay::default()),
            stages: RwLock::new(Stages::default()),
            applying: Mutex::new(()),
            writer: Mutex::new(Writer {
                segment,
                stage_since: Instant::now(),
            }),
            synced,
            threads: Mutex::new(Vec::new()),
            checkpoints: Mutex::new(Some(checkpoints)),
        });
        let flusher = committer.clone();
        let checkpointer = committer.clone();
        let handles = [
            spawn("supportbot-flush", move || flusher.flush_loop())?,
            spawn("supportbot-checkpoint", move || {
                while let Ok(retired) = requests.recv() {
                    if checkpointer.fault.get().is_some() {
                        continue;
                    }
                    let done = checkpointer.apply_frozen().and_then(|()| match retired {
                        Some(retired) => checkpointer.flush_sled_and_retire(retired),
                        None => Ok(()),
                    });
                    if let Err(err) = done {
                        checkpointer.fail(err);
                    }
                }
            })?,
        ];
        lock(&committer.threads).extend(handles);
        Ok(committer)
    }

    /// Queues `batch`; readers see it at once, and the ticket is durable after the next group sync. Fails at
    /// once when the store has failed.
    pub(crate) fn apply(&self, batch: Batch) -> Result<Ticket, StoreError> {
        let mut pending = lock(&self.pending);
        self.fault.check()?;
        Ok(self.push(&mut pending, batch))
    }

    /// What failed, once the store has failed.
    pub(crate) fn fault(&self) -> Option<&str> {
        self.fault.get()
    }

    /// Runs `change` with a reader of the current values and queues the batch it returns, under the same lock as
    /// [`Committer::apply`], so read-modify-write changes such as counters never interleave. An empty batch is
    /// not queued (its ticket is the last one queued).
    pub(crate) fn apply_with<T>(
        &self,
        change: impl FnOnce(
            &dyn Fn(&[u8]) -> Result<Option<sled::IVec>, StoreError>,
        ) -> Result<(T, Batch), StoreError>,
    ) -> Result<(T, Ticket), StoreError> {
        let mut pending = lock(&self.pending);
        self.fault.check()?;
        let (value, batch) = change(&|key| self.get(key))?;
        let ticket = match batch.is_empty() {
            true => Ticket(pending.applied),
            false => self.push(&mut pending, batch),
        };
        Ok((value, ticket))
    }

    fn push(&self, pending: &mut Pending, batch: Batch) -> Ticket {
        pending.applied += 1;
        let ticket = pending.applied;
        wal::frame(&batch, &mut pending.framed);
        lock(&self.overlay).record(ticket, &batch);
        pending.batches.push((ticket, batch));
        if pending.flusher_idle {
            self.wake.notify_one();
        }
        Ticket(ticket)
    }

    /// The current value of `key`: pending, waiting in the stage, or else sled's.
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        // Checked in the order values move (an entry leaves a layer only after the next one has it).
        if let Lookup::Pending(value) = lock(&self.overlay).lookup(key) {
            return Ok(value);
        }
        if let Lookup::Pending(value) = read(&self.stages).lookup(key) {
            return Ok(value);
        }
        Ok(self.tree.get(key)?)
    }

    /// Every current entry under `prefix`, in key order.
    pub(crate) fn scan(&self, prefix: &[u8]) -> Result<Vec<(sled::IVec, sled::IVec)>, StoreError> {
        let pending = lock(&self.overlay).under(prefix);
        let waiting = read(&self.stages).under(prefix);
        Ok(overlay::merge(
            self.tree.scan_prefix(prefix),
            overlay::layer(pending, waiting),
        )?)
    }

    /// Waits until `ticket` is durable; fails as soon as the store has failed without making it durable.
    pub(crate) async fn wait(&self, ticket: Ticket) -> Result<(), StoreError> {
        let closed = || StoreError::Io("the store is closed".into());
        let mut rx = self.synced.subscribe();
        let state = rx
            .wait_for(|s| s.durable >= ticket.0 || s.error.is_some())
            .await
            .map_err(|_| closed())?;
        match (&state.error, state.durable >= ticket.0) {
            (_, true) => Ok(()),
            (Some(err), false) => Err(StoreError::Failed(err.clone())),
            (None, false) => Err(closed()),
        }
    }

    fn flush_loop(&self) {
        let mut spare = Group::default();
        let mut last_group = 0;
        loop {
            let mut writer = {
                let mut pending = lock(&self.pending);
                while pending.framed.is_empty() && !pending.stop {
                    pending.flusher_idle = true;
                    let stage = read(&self.stages).active.len();
                    if stage == 0 {
                        pending = self.wake.wait(pending).unwrap_or_else(|e| e.into_inner());
                    } else {
                        let (guard, timeout) = self
                            .wake
                            .wait_timeout(pending, STAGE_AGE)
                            .unwrap_or_else(|e| e.into_inner());
                        pending = guard;
                        if timeout.timed_out() && pending.framed.is_empty() {
                            // Idle: a good moment to bring sled up to date.
                            self.freeze(None);
                        }
                    }
                    pending.flusher_idle = false;
                }
                if pending.framed.is_empty() || self.fault.get().is_some() {
                    return;
                }
                if last_group >= GATHER_FROM && !pending.stop {
                    // Busy: let more writers join this sync instead of paying one sync per few batches.
                    drop(pending);
                    std::thread::sleep(GATHER);
                    pending = lock(&self.pending);
                }
                last_group = pending.batches.len();
                cut(&mut pending, &mut spare);
                lock(&self.writer)
            };
            if let Err(err) = self.commit_group(&mut writer, &mut spare) {
                self.fail(err);
                return;
            }
            let segment = &writer.segment;
            if segment.bytes >= CHECKPOINT_BYTES || segment.opened.elapsed() >= CHECKPOINT_AFTER {
                match self.rotate(&mut writer) {
                    // Everything in the retired segment is in the stage: freeze it all for the checkpoint.
                    Ok(retired) => self.freeze(Some(retired)),
                    Err(err) => {
                        self.fail(err);
                        return;
                    }
                }
            } else if read(&self.stages).active.len() >= STAGE_KEYS
                || writer.stage_since.elapsed() >= STAGE_AGE
            {
                self.freeze(None);
            }
        }
    }

    /// Freezes the active stage and asks the checkpoint thread to apply it (and then, with `retired`, to
    /// checkpoint). Without `retired`, it waits while two frozen stages are still waiting for sled.
    fn freeze(&self, retired: Option<u64>) {
        {
            let mut stages = write(&self.stages);
            if retired.is_none() && stages.frozen() >= 2 {
                return;
            }
            stages.freeze();
        }
        if let Some(checkpoints) = lock(&self.checkpoints).as_ref() {
            let _ = checkpoints.send(retired);
        }
    }

    /// Puts the store into its failed state (the first fault is kept): every waiter and every later write gets
    /// the fault, and the flusher stops before its next group. Returns the error callers report.
    fn fail(&self, err: StoreError) -> StoreError {
        let detail = match err {
            StoreError::Io(detail) | StoreError::Failed(detail) => detail,
            StoreError::Sled(err) => format!("{}: {err}", self.data_dir.display()),
            other => other.to_string(),
        };
        let (first, new) = self.fault.set(detail);
        if new {
            tracing::error!(fault = %first,
                "the store failed; it accepts nothing more (everything acknowledged is in its log)");
        }
        self.synced.send_modify(|s| {
            s.error.get_or_insert_with(|| first.to_string());
        });
        StoreError::Failed(first.to_string())
    }

    /// Writes and syncs a group, publishes its durable ticket and moves it from the overlay to the stage.
    /// Leaves `group` empty for reuse.
    fn commit_group(&self, writer: &mut Writer, group: &mut Group) -> Result<(), StoreError> {
        #[cfg(test)]
        if self
            .fail_next_sync
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            let err = std::io::Error::from_raw_os_error(5); // EIO, as a failed fdatasync reports it
            return Err(wal::io_error(&writer.segment.path, err));
        }
        if let Err(err) = writer.segment.append_durably(&group.framed) {
            return Err(wal::io_error(&writer.segment.path, err));
        }
        let last = group.last;
        self.synced.send_modify(|s| s.durable = s.durable.max(last));
        {
            let mut stages = write(&self.stages);
            if stages.active.len() == 0 {
                writer.stage_since = Instant::now();
            }
            for (_, batch) in &group.batches {
                stages.active.add(batch);
            }
        }
        {
            let mut overlay = lock(&self.overlay);
            for (ticket, batch) in &group.batches {
                overlay.forget(*ticket, batch);
            }
        }
        group.framed.clear();
        group.batches.clear();
        Ok(())
    }

    /// Values written but not yet in sled (a gauge of how far sled lags the log).
    pub(crate) fn unapplied_len(&self) -> usize {
        lock(&self.overlay).len() + read(&self.stages).len()
    }

    /// Bytes sled uses on disk.
    pub(crate) fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// Stops the threads after writing what is pending, then checkpoints a last time.
    pub(crate) fn stop(&self) {
        lock(&self.pending).stop = true;
        self.wake.notify_all();
        lock(&self.checkpoints).take();
        for handle in std::mem::take(&mut *lock(&self.threads)) {
            // After a fault a thread may still be inside a failed sled call: it gets a moment, then is left to
            // end with the process.
            let deadline = Instant::now() + STOP_AFTER_FAULT;
            while self.fault.get().is_some() && !handle.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if self.fault.get().is_none() || handle.is_finished() {
                let _ = handle.join();
            }
        }
        // After a fault nothing more is written: the log keeps what was acknowledged for the next start.
        if self.fault.get().is_none() {
            // A failure is logged by `fail`.
            let _ = self.checkpoint();
        }
    }
}

/// Moves everything pending into `group` (which must be empty).
fn cut(pending: &mut Pending, group: &mut Group) {
    std::mem::swap(&mut group.framed, &mut pending.framed);
    std::mem::swap(&mut group.batches, &mut pending.batches);
    group.last = pending.applied;
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, StoreError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| StoreError::Io(format!("starting the {name} thread: {e}")))
}

#[cfg(test)]
#[path = "commit_tests.rs"]
mod tests;
