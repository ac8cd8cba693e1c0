//! The store: the storage interface the engine runs on ([`Backend`], in [`backend`]), the changes one handling
//! step makes ([`changes`]), the records kept ([`records`]) and three backends: [`sled`] (sled and a write-ahead
//! log in the data directory; the default), [`postgres`] (a PostgreSQL database several processes share) and
//! [`memory`] (everything in memory, for tests). A [`Store`] is a cheap handle on one backend.

pub mod backend;
#[cfg(test)]
mod backend_tests;
pub mod changes;
mod embedded;
#[doc(hidden)]
pub mod fixtures;
pub mod memory;
pub mod perms;
pub mod postgres;
pub mod records;
pub mod sled;
mod timestamp;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use self::sled::SledStore;
pub use backend::{
    Backend, Commit, Known, QueueEntry, RecentSlot, Stamp, Step, Stored, Ticket, Writes,
    OUTBOX_LEASE,
};
pub use memory::MemoryStore;

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
    Sled(#[from] ::sled::Error),
    /// A record could not be decoded.
    #[error("stored record {key} is unreadable: {message}")]
    Corrupt {
        /// Its key.
        key: String,
        /// Why.
        message: String,
    },
    /// Writing or syncing a file failed, or the store is closed.
    #[error("storage failure: {0}")]
    Io(String),
    /// A write or sync failed earlier (the file and the system's error); the store accepts nothing more until
    /// it is opened again.
    #[error("the store stopped at a write failure and accepts nothing more: {0}")]
    Failed(String),
    /// The step collided with a concurrent one (a backend shared by several processes); nothing of it was
    /// stored and it may be run again.
    #[error("the step collided with a concurrent one: {0}")]
    Conflict(String),
    /// The inbound message the step handled was handled already (by another process); nothing was stored.
    #[error("inbound message {0} was handled already")]
    Handled(u64),
    /// The PostgreSQL database could not be reached, or refused the connection.
    #[error("cannot connect to the PostgreSQL {target}: {message}")]
    Connect {
        /// The database (without the password).
        target: String,
        /// What failed.
        message: String,
    },
    /// The database's schema was made by a newer supportbot.
    #[error(
        "the PostgreSQL {target} has schema version {found}, newer than this supportbot knows ({known}); \
         nothing was changed"
    )]
    NewerSchema {
        /// The database (without the password).
        target: String,
        /// The version found.
        found: i32,
        /// The newest version this binary knows.
        known: i32,
    },
    /// A database statement failed.
    #[error("database failure: {0}")]
    Database(String),
}

/// The web channel's page mailboxes report a store's failure in its words.
impl From<StoreError> for supportbot_chat::MailError {
    fn from(err: StoreError) -> Self {
        supportbot_chat::MailError(err.to_string())
    }
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

/// A handle on the backend the engine runs on; cheap to clone.
#[derive(Clone)]
pub struct Store(Arc<dyn Backend>);

impl Store {
    /// A handle on `backend`.
    pub fn new(backend: impl Backend) -> Store {
        Store(Arc::new(backend))
    }

    /// Opens (creating) the sled store in `dir`, with `cache_mb` MiB of page cache.
    pub fn open(dir: &Path, cache_mb: u64) -> Result<Store, StoreError> {
        SledStore::open(dir, cache_mb).map(Store::new)
    }

    /// Connects to the PostgreSQL database at `url`, creating or migrating its schema (see [`postgres`]).
    pub async fn connect(url: &crate::config::DatabaseUrl) -> Result<Store, StoreError> {
        postgres::PgStore::open(url).await.map(Store::new)
    }

    /// An empty store in memory.
    pub fn memory() -> Store {
        Store::new(MemoryStore::default())
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Deref for Store {
    type Target = dyn Backend;

    fn deref(&self) -> &(dyn Backend + 'static) {
        self.0.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
