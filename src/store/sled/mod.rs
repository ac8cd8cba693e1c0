//! The embedded backend: sled, with a write-ahead log in front of it (`wal/` in the data directory).
//!
//! Durability: a batch is durable once it is in the log and the log is synced, not once sled has it. Writers
//! share syncs (group commit, see `commit`): every writer waiting when the flusher thread cuts a group is made
//! durable by one `fdatasync`. Durable writes reach sled later, in passes that keep only each key's last value
//! (see `stage`), and a checkpoint now and then flushes sled and deletes the log segments it covers; at the
//! next open, the log is replayed over sled (see `recover`). The log exists because a sled flush per group of
//! writers, the design before it, carried about 2,500 messages a second on the project's test machine, where
//! the log carries 20,000 and more (see `docs/benchmarks.md`).
//!
//! Keys are prefixed by kind (see [`keys`]) and values are [`records`](super::records) encoded by
//! [`encode`](super::encode). A second process on the same data directory gets [`StoreError::Locked`]. The
//! first write or sync fault stops the store for good ([`StoreError::Failed`], see `fault`); the data
//! directory is readable by its owner only (see [`perms`]).

mod backend;
mod batch;
mod commit;
mod fault;
#[cfg(test)]
pub(super) mod fault_tests;
pub mod keys;
mod overlay;
mod recover;
mod stage;
mod wal;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ::sled::IVec;
use serde::de::DeserializeOwned;

pub use batch::Batch;
use commit::Committer;
pub use commit::Synced;

use super::backend::Ticket;
use super::embedded::Local;
use super::{decode, perms, StoreError, FIRST_CASE_NUMBER, SCHEMA_VERSION};

/// Dedupe marks that `seen` found absent. Only `store_inbound` writes dedupe marks and one process owns the
/// store, so a mark found absent stays absent until `store_inbound` writes it: storing a message right after
/// its check then needs no second lookup. Both run under the one lock around this set.
#[derive(Default)]
pub(super) struct Absent {
    keys: foldhash::HashSet<Vec<u8>>,
}

impl Absent {
    /// Marks checked and not yet stored are few (the engine stores each right after its check); a burst of
    /// checks without stores (duplicates from a platform) is bounded.
    const MAX: usize = 4096;

    pub(super) fn insert(&mut self, key: Vec<u8>) {
        if self.keys.len() >= Self::MAX {
            self.keys.clear();
        }
        self.keys.insert(key);
    }

    /// Whether `key` was found absent and not written since; it is forgotten either way.
    pub(super) fn take(&mut self, key: &[u8]) -> bool {
        self.keys.remove(key)
    }
}

/// The sled store; cheap to clone.
#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
}

struct Inner {
    committer: Arc<Committer>,
    /// The step lock, sequence numbers and outbox leases (one process owns the directory).
    local: Local,
    /// Dedupe marks found absent by `seen` and not written since (see [`Absent`]).
    absent: Mutex<Absent>,
    dir: PathBuf,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.committer.stop();
    }
}

impl SledStore {
    /// Opens (creating) the store in `dir`, with `cache_mb` MiB of page cache.
    pub fn open(dir: &Path, cache_mb: u64) -> Result<SledStore, StoreError> {
        let open_err = |message: String| StoreError::Open {
            dir: dir.to_path_buf(),
            message,
        };
        perms::private_dir(dir).map_err(|e| open_err(e.to_string()))?;
        let sled_config = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_mb.max(1) * 1024 * 1024)
            .mode(sled::Mode::HighThroughput)
            // The write-ahead log makes writes durable; sled is flushed at checkpoints only.
            .flush_every_ms(None);
        let db = sled_config.open().map_err(|err| match err {
            sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                StoreError::Locked(dir.to_path_buf())
            }
            other => open_err(other.to_string()),
        })?;
        let tree = db.open_tree("supportbot")?;
        // A store without its schema mark is new (the mark is written once the log is checked, see `recover`).
        let schema = tree.get(keys::SCHEMA)?;
        let fresh = schema.is_none();
        if let Some(found) = schema.and_then(|v| v.first().copied()) {
            if found > SCHEMA_VERSION {
                return Err(StoreError::Schema {
                    dir: dir.to_path_buf(),
                    found,
                });
            }
        }
        let committer = Committer::start(db, tree, sled_config, dir, fresh)?;
        // What sled and earlier versions created with the process's umask.
        perms::tighten(dir, true).map_err(|e| open_err(e.to_string()))?;
        Ok(SledStore {
            inner: Arc::new(Inner {
                local: Local::default(),
                absent: Mutex::new(Absent::default()),
                committer,
                dir: dir.to_path_buf(),
            }),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// What failed (the file or directory and the system's error) once a write or sync has failed; from then on
    /// every write and every wait for durability fails at once with [`StoreError::Failed`].
    pub fn fault(&self) -> Option<String> {
        self.inner.committer.fault().map(str::to_string)
    }

    /// Reads and decodes one record.
    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.inner.committer.get(key)? {
            Some(bytes) => decode(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Raw bytes of a key.
    pub fn get_raw(&self, key: &[u8]) -> Result<Option<IVec>, StoreError> {
        self.inner.committer.get(key)
    }

    /// Whether a key exists.
    pub fn contains(&self, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.inner.committer.get(key)?.is_some())
    }

    /// Raw entries under a prefix, in key order.
    pub fn entries(&self, prefix: &[u8]) -> Result<Vec<(IVec, IVec)>, StoreError> {
        self.inner.committer.scan(prefix)
    }

    /// Decoded records under a prefix, in key order.
    pub fn scan<T: DeserializeOwned + 'static>(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(IVec, T), StoreError>> + '_ {
        let (entries, error) = split(self.entries(prefix));
        error
            .map(Err)
            .into_iter()
            .chain(entries.into_iter().map(|(key, value)| {
                let decoded = decode(&key, &value)?;
                Ok((key, decoded))
            }))
    }

    /// Keys under a prefix, in order.
    pub fn keys(&self, prefix: &[u8]) -> impl Iterator<Item = Result<IVec, StoreError>> + '_ {
        let (entries, error) = split(self.entries(prefix));
        error
            .map(Err)
            .into_iter()
            .chain(entries.into_iter().map(|(key, _)| Ok(key)))
    }

    /// The last key under a prefix.
    pub fn last_key(&self, prefix: &[u8]) -> Result<Option<IVec>, StoreError> {
        Ok(self.entries(prefix)?.pop().map(|(key, _)| key))
    }

    /// Applies a batch atomically; the ticket becomes durable at the next group sync of the log.
    pub fn apply(&self, batch: Batch) -> Result<Ticket, StoreError> {
        self.inner.committer.apply(batch)
    }

    /// Waits until a ticket is on disk.
    pub async fn durable(&self, ticket: Ticket) -> Result<(), StoreError> {
        self.inner.committer.wait(ticket).await
    }

    /// Removes a key without waiting for durability (it is on disk after the next group sync).
    pub fn remove_lazy(&self, key: &[u8]) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.remove(key);
        self.apply(batch).map(drop)
    }

    /// Writes a key without waiting for durability.
    pub fn insert_lazy(&self, key: &[u8], value: Vec<u8>) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.insert(key, value);
        self.apply(batch).map(drop)
    }

    /// The next case number (1001, 1002, ...); never handed out twice.
    pub fn next_case_number(&self) -> Result<u64, StoreError> {
        self.inner
            .committer
            .apply_with(|read| {
                let current = match read(keys::CASE_COUNTER.as_bytes())? {
                    None => FIRST_CASE_NUMBER - 1,
                    Some(bytes) => <[u8; 8]>::try_from(bytes.as_ref())
                        .map(u64::from_be_bytes)
                        .map_err(|_| StoreError::Corrupt {
                            key: keys::CASE_COUNTER.into(),
                            message: "bad counter".into(),
                        })?,
                };
                let next = current + 1;
                let mut batch = Batch::default();
                batch.insert(keys::CASE_COUNTER, &next.to_be_bytes()[..]);
                Ok((next, batch))
            })
            .map(|(next, _)| next)
    }

    /// Writes everything to disk now and checkpoints (sled flushed, the log emptied).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.committer.checkpoint()
    }

    /// Written values that sled does not hold yet (readable; in the log once their group is synced).
    pub fn pending_values(&self) -> usize {
        self.inner.committer.unapplied_len()
    }

    /// Bytes sled uses on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.inner.committer.size_on_disk()
    }
}

/// An entry list, or the error that stopped it, as parts an iterator can chain.
fn split<T>(result: Result<Vec<T>, StoreError>) -> (Vec<T>, Option<StoreError>) {
    match result {
        Ok(entries) => (entries, None),
        Err(err) => (Vec::new(), Some(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::encode;

    #[test]
    fn a_second_open_of_the_same_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = SledStore::open(dir.path(), 4).unwrap();
        let err = SledStore::open(dir.path(), 4).err().expect("locked");
        assert!(matches!(err, StoreError::Locked(_)), "{err}");
        assert!(err.to_string().contains(&dir.path().display().to_string()));
        drop(first);
        super::fault_tests::reopen(dir.path());
    }

    #[test]
    fn case_numbers_start_at_1001_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path(), 4).unwrap();
            assert_eq!(store.next_case_number().unwrap(), 1001);
            assert_eq!(store.next_case_number().unwrap(), 1002);
        }
        let store = super::fault_tests::reopen(dir.path());
        assert_eq!(store.next_case_number().unwrap(), 1003);
    }

    #[tokio::test]
    async fn applied_batches_become_durable() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), 4).unwrap();
        let mut batch = Batch::default();
        batch.insert(b"a".to_vec(), encode(&1u8));
        let ticket = store.apply(batch).unwrap();
        store.durable(ticket).await.unwrap();
        assert_eq!(store.get::<u8>(b"a").unwrap(), Some(1));
    }
}
