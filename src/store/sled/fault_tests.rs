//! Tests of the store's failed state (a log sync that fails) and of the data directory's permissions.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::*;
use crate::store::encode;

fn put(store: &SledStore, key: &str, value: u32) -> Result<Ticket, StoreError> {
    let mut batch = Batch::default();
    batch.insert(key.as_bytes().to_vec(), encode(&value));
    store.apply(batch)
}

#[tokio::test]
async fn a_failed_log_sync_stops_the_store_at_once_and_keeps_what_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open(dir.path(), 4).unwrap();
        let ticket = put(&store, "acked", 1).unwrap();
        store.durable(ticket).await.unwrap();
        assert_eq!(store.fault(), None);

        store
            .inner
            .committer
            .fail_next_sync
            .store(true, Ordering::SeqCst);
        let ticket = put(&store, "lost", 2).unwrap();
        let started = Instant::now();
        let err = store.durable(ticket).await.unwrap_err();
        assert!(matches!(err, StoreError::Failed(_)), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("wal/") && text.contains(".wal"),
            "names the segment: {text}"
        );
        assert!(text.contains("Input/output error"), "{text}");
        assert_eq!(StoreError::Failed(store.fault().unwrap()).to_string(), text);

        // Every later write and wait fails at once, with the same fault.
        let err = put(&store, "after", 3).unwrap_err();
        assert_eq!(err.to_string(), text);
        let err = store.next_case_number().unwrap_err();
        assert_eq!(err.to_string(), text);
        assert_eq!(store.flush().unwrap_err().to_string(), text);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        // What was acknowledged is still readable.
        assert_eq!(store.get::<u32>(b"acked").unwrap(), Some(1));
    }
    // Opened again (the disk works now), the store holds what was acknowledged and accepts writes.
    let store = SledStore::open(dir.path(), 4).unwrap();
    assert_eq!(store.fault(), None);
    assert_eq!(store.get::<u32>(b"acked").unwrap(), Some(1));
    assert_eq!(store.get::<u32>(b"lost").unwrap(), None);
    let ticket = put(&store, "later", 4).unwrap();
    store.durable(ticket).await.unwrap();
    assert_eq!(store.get::<u32>(b"later").unwrap(), Some(4));
}

/// Every directory under `dir` (and `dir`) is 0700 and every file 0600; returns how many files were checked.
fn assert_private(dir: &Path) -> usize {
    let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{}", dir.display());
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            files += assert_private(&path);
        } else {
            let mode = meta.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
            files += 1;
        }
    }
    files
}

#[tokio::test]
async fn a_fresh_data_directory_and_its_files_are_private() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("a/data");
    {
        let store = SledStore::open(&dir, 4).unwrap();
        let ticket = put(&store, "k", 1).unwrap();
        store.durable(ticket).await.unwrap();
        store.flush().unwrap();
        assert!(assert_private(&dir) >= 3, "sled's files and the log");
    }
    // Closing writes sled's last files; opening again finds everything private too.
    drop(reopen(&dir));
    assert!(assert_private(&dir) >= 3);
}

/// Opens the store in `dir` again after it was dropped: sled's own I/O threads let go of the directory's lock a
/// moment after the last handle is dropped.
pub(super) fn reopen(dir: &Path) -> SledStore {
    for _ in 0..100 {
        match SledStore::open(dir, 4) {
            Err(StoreError::Locked(_)) => std::thread::sleep(Duration::from_millis(20)),
            other => return other.unwrap(),
        }
    }
    panic!("{} still locked after 2 s", dir.display());
}

/// Waits until no handle holds sled's lock on `dir` (sled's I/O threads let go of it a moment after the last handle
/// is dropped), so that its files can be copied whole or the directory opened again.
pub(in crate::store) async fn wait_unlocked(dir: &Path) {
    let lock_file = dir.join("db");
    for _ in 0..100 {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&lock_file)
            .unwrap();
        if file.try_lock().is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{} still locked after 2 s", dir.display());
}

/// Copies the files directly in `from` (sled's, not the log's) to `to`.
fn copy_sled_files(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

#[tokio::test]
async fn sled_files_older_than_the_log_stop_the_start_and_change_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let old = root.path().join("old");
    std::fs::create_dir_all(&old).unwrap();
    for round in 0..3u32 {
        let store = reopen(&dir);
        let ticket = put(&store, &format!("k{round}"), round).unwrap();
        store.durable(ticket).await.unwrap();
        drop(store);
        wait_unlocked(&dir).await;
        if round == 0 {
            copy_sled_files(&dir, &old);
        }
    }
    // sled's files from the first round with the log of the third: the second round's changes are missing.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::remove_file(path).unwrap();
        }
    }
    copy_sled_files(&old, &dir);
    let wal_before: Vec<_> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for _ in 0..2 {
        // A refused start closes sled again; the next attempt waits for its lock like a restarted process would.
        wait_unlocked(&dir).await;
        let err = SledStore::open(&dir, 4).err().expect("refused");
        let text = err.to_string();
        assert!(
            text.contains("sled's files are damaged or older than the log"),
            "{text}"
        );
        assert!(text.contains(&dir.display().to_string()), "{text}");
    }
    let wal_after: Vec<_> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(wal_before, wal_after, "the log is left as it was");
}
