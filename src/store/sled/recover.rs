//! Opening the write-ahead log: checks that sled's files hold everything a checkpoint took out of the log,
//! replays the segments a previous run left, folds them into sled and starts the next segment. sled keeps, under
//! [`keys::CHECKPOINTED`], the number of the newest segment whose changes it holds; segments up to that number are
//! deleted only after sled is flushed with it, so the oldest segment left is never more than one past it. sled
//! files that lost data (damaged, or replaced by an older copy) hold a smaller number, or none: the start stops
//! there, before anything is written.

use std::path::Path;

use super::fault;
use super::keys;
use super::wal::{self, Segment};
use super::StoreError;

/// The newest segment whose changes sled holds, when recorded.
fn checkpointed(tree: &sled::Tree) -> Result<Option<u64>, StoreError> {
    Ok(tree
        .get(keys::CHECKPOINTED)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map(u64::from_be_bytes))
}

/// Records that sled holds the changes of segment `number` and older (kept at the highest number recorded).
pub(crate) fn mark_checkpointed(tree: &sled::Tree, number: u64) -> Result<(), StoreError> {
    tree.fetch_and_update(keys::CHECKPOINTED, |old| {
        let old = old
            .and_then(|v| <[u8; 8]>::try_from(v).ok())
            .map_or(0, u64::from_be_bytes);
        Some(old.max(number).to_be_bytes().to_vec())
    })?;
    Ok(())
}

/// Checks sled against the log in `dir`, replays the log into sled, flushes sled, deletes the replayed segments
/// and creates the next one. `fresh` says that sled held no schema mark when it was opened: it gets one here,
/// once the log is checked, so a refused start leaves a damaged store recognisable.
pub(crate) fn open_log(
    db: &sled::Db,
    tree: &sled::Tree,
    sled_config: &sled::Config,
    data_dir: &Path,
    fresh: bool,
) -> Result<Segment, StoreError> {
    let dir = data_dir.join(wal::WAL_DIR);
    let paths = wal::segments(&dir).map_err(|e| wal::io_error(&dir, e))?;
    let oldest = paths.first().map(|p| wal::segment_number(p));
    let held = checkpointed(tree)?;
    // A data directory of an earlier version has its schema mark but no checkpoint mark: nothing to compare.
    let lost = match (oldest, held) {
        (Some(oldest), Some(held)) => held + 1 < oldest,
        (Some(_), None) => fresh,
        (None, _) => false,
    };
    if lost {
        return Err(StoreError::Open {
            dir: data_dir.to_path_buf(),
            message: format!(
                "sled's files are damaged or older than the log: they lack changes already taken out of {}; \
                 restore the data directory from a backup",
                dir.display()
            ),
        });
    }
    if fresh {
        tree.insert(keys::SCHEMA, &[super::SCHEMA_VERSION])?;
    }
    let replayed = wal::replay(&dir, tree)?;
    if replayed.records > 0 || replayed.torn_bytes > 0 {
        tracing::info!(
            records = replayed.records,
            torn_bytes = replayed.torn_bytes,
            "replayed the write-ahead log"
        );
    }
    let newest = paths.iter().map(|p| wal::segment_number(p)).max();
    let number = newest.unwrap_or(0).max(held.unwrap_or(0));
    mark_checkpointed(tree, number)?;
    fault::flush_sled(db, sled_config)?;
    for path in &paths {
        std::fs::remove_file(path).map_err(|e| wal::io_error(path, e))?;
    }
    Segment::create(&dir, number + 1).map_err(|e| wal::io_error(&dir, e))
}
