//! The durable store: one sled tree with prefixed keys (see [`keys`]), versioned records (see [`records`]),
//! atomic batches, and group commit through a write-ahead log (`wal/` in the data directory) that makes a batch
//! durable with one shared `fdatasync` instead of a sled flush. Durable writes reach sled later, in passes that
//! keep only each key's last value (see `backlog`). A second process on the same data directory gets
//! [`StoreError::Locked`]. The first write or sync fault stops the store for good ([`StoreError::Failed`], see
//! `fault`); the data directory is readable by its owner only (see [`perms`]).

mod backlog;
mod batch;
pub mod changes;
mod commit;
mod fault;
#[cfg(test)]
mod fault_tests;
pub mod keys;
mod overlay;
pub mod perms;
pub mod records;
mod recover;
mod timestamp;
mod wal;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use batch::Batch;
use commit::Committer;
pub use commit::{Flushed, Ticket};

/// Layout version of the records; the first byte of every value.
pub const RECORD_VERSION: u8 = 1;
/// Layout version of the key space, kept under `meta/schema`.
pub const SCHEMA_VERSION: u8 = 1;
/// The first case number handed out.
pub const FIRST_CASE_NUMBER: u64 = 1001;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the data directory.
    #[error("the data directory {0} is in use by another supportbot process")]
    Locked(PathBuf),
    /// The directory could not be created or opened.
    #[error("cannot open the data directory {dir}: {message}")]
    Open {
        /// The data directory.
        dir: PathBuf,
        /// What failed.
        message: String,
    },
    /// The data was written by a newer version.
    #[error("the data directory {dir} was written by a newer supportbot (layout version {found})")]
    Schema {
        /// The data directory.
        dir: PathBuf,
        /// The version found.
        found: u8,
    },
    /// sled failed.
    #[error("storage failure: {0}")]
    Sled(#[from] sled::Error),
    /// A record could not be decoded.
    #[error("stored record {key} is unreadable: {message}")]
    Corrupt {
        /// Its key.
        key: String,
        /// Why.
        message: String,
    },
    /// Flushing to disk failed.
    #[error("storage failure: {0}")]
    Flush(String),
    /// A write or sync failed earlier (the file and the system's error); the store accepts nothing more until
    /// it is opened again.
    #[error("the store stopped at a write failure and accepts nothing more: {0}")]
    Failed(String),
}

/// Encodes a record: version byte, then JSON.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(RECORD_VERSION);
    // Serialising our own record types to a Vec cannot fail (no maps with non-string keys, no I/O).
    serde_json::to_writer(&mut out, value).expect("records serialise to JSON");
    out
}

/// Decodes a record written by [`encode`].
pub fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        message,
    };
    match bytes.split_first() {
        Some((&RECORD_VERSION, json)) => {
            serde_json::from_slice(json).map_err(|e| corrupt(e.to_string()))
        }
        Some((v, _)) => Err(corrupt(format!("unknown record version {v}"))),
        None => Err(corrupt("empty record".into())),
    }
}

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    committer: Arc<Committer>,
    dir: PathBuf,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.committer.stop();
    }
}

impl Store {
    /// Opens (creating) the store in `dir`, with `cache_mb` MiB of page cache.
    pub fn open(dir: &Path, cache_mb: u64) -> Result<Store, StoreError> {
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
        Ok(Store {
            inner: Arc::new(Inner {
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
    pub fn get_raw(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        self.inner.committer.get(key)
    }

    /// Whether a key exists.
    pub fn contains(&self, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.inner.committer.get(key)?.is_some())
    }

    /// Raw entries under a prefix, in key order.
    pub fn entries(&self, prefix: &[u8]) -> Result<Vec<(sled::IVec, sled::IVec)>, StoreError> {
        self.inner.committer.scan(prefix)
    }

    /// Decoded records under a prefix, in key order.
    pub fn scan<T: DeserializeOwned + 'static>(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(sled::IVec, T), StoreError>> + '_ {
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
    pub fn keys(&self, prefix: &[u8]) -> impl Iterator<Item = Result<sled::IVec, StoreError>> + '_ {
        let (entries, error) = split(self.entries(prefix));
        error
            .map(Err)
            .into_iter()
            .chain(entries.into_iter().map(|(key, _)| Ok(key)))
    }

    /// The last key under a prefix.
    pub fn last_key(&self, prefix: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
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
        self.inner.committer.apply_with(|read| {
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

    #[test]
    fn a_second_open_of_the_same_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = Store::open(dir.path(), 4).unwrap();
        let err = Store::open(dir.path(), 4).err().expect("locked");
        assert!(matches!(err, StoreError::Locked(_)), "{err}");
        assert!(err.to_string().contains(&dir.path().display().to_string()));
        drop(first);
        Store::open(dir.path(), 4).expect("reopens after the first handle is gone");
    }

    #[test]
    fn case_numbers_start_at_1001_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), 4).unwrap();
            assert_eq!(store.next_case_number().unwrap(), 1001);
            assert_eq!(store.next_case_number().unwrap(), 1002);
        }
        let store = Store::open(dir.path(), 4).unwrap();
        assert_eq!(store.next_case_number().unwrap(), 1003);
    }

    #[test]
    fn records_are_versioned() {
        let bytes = encode(&vec![1, 2]);
        assert_eq!(bytes[0], RECORD_VERSION);
        assert_eq!(decode::<Vec<i32>>(b"k", &bytes).unwrap(), vec![1, 2]);
        let mut future = bytes.clone();
        future[0] = 9;
        assert!(decode::<Vec<i32>>(b"k", &future)
            .unwrap_err()
            .to_string()
            .contains("version 9"));
    }

    #[tokio::test]
    async fn applied_batches_become_durable() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 4).unwrap();
        let mut batch = Batch::default();
        batch.insert(b"a".to_vec(), encode(&1u8));
        let ticket = store.apply(batch).unwrap();
        store.durable(ticket).await.unwrap();
        assert_eq!(store.get::<u8>(b"a").unwrap(), Some(1));
    }
}
