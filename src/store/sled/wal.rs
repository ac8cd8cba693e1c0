//! The write-ahead log's files. Every applied batch is appended to the current segment as one framed record
//! (length, CRC-32, payload); a group of records is made durable with one `fdatasync`, which costs far less than
//! a sled flush. A checkpoint flushes sled and deletes the segments it covers; at open, the segments left by a
//! previous run are replayed into sled, so nothing acknowledged is lost however the process ended.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::batch::Batch;
use super::stage::Stage;
use super::{perms, StoreError};

/// Directory of the segments, inside the data directory.
pub(crate) const WAL_DIR: &str = "wal";
const SUFFIX: &str = ".wal";
/// Frame header: payload length and CRC-32, both little-endian u32.
const HEADER: usize = 8;

/// The segment being appended to.
pub(crate) struct Segment {
    file: File,
    /// Its number (segments are created in increasing order).
    pub(crate) number: u64,
    /// Its path.
    pub(crate) path: PathBuf,
    /// Bytes written so far.
    pub(crate) bytes: u64,
    /// When it was created.
    pub(crate) opened: Instant,
}

impl Segment {
    /// Creates segment number `number` in `dir` and makes its directory entry durable, so records synced into it
    /// are found after a crash.
    pub(crate) fn create(dir: &Path, number: u64) -> io::Result<Segment> {
        let path = dir.join(format!("{number:020}{SUFFIX}"));
        let file = perms::private_file()
            .create_new(true)
            .append(true)
            .open(&path)?;
        File::open(dir)?.sync_all()?;
        Ok(Segment {
            file,
            number,
            path,
            bytes: 0,
            opened: Instant::now(),
        })
    }

    /// Appends framed records and waits until they are on disk.
    pub(crate) fn append_durably(&mut self, framed: &[u8]) -> io::Result<()> {
        self.file.write_all(framed)?;
        self.file.sync_data()?;
        self.bytes += framed.len() as u64;
        Ok(())
    }
}

/// Appends one framed record holding `batch` to `out`.
pub(crate) fn frame(batch: &Batch, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER]);
    batch.encode_into(out);
    let payload = &out[start + HEADER..];
    let len = (payload.len() as u32).to_le_bytes();
    let crc = crc32fast::hash(payload).to_le_bytes();
    out[start..start + 4].copy_from_slice(&len);
    out[start + 4..start + HEADER].copy_from_slice(&crc);
}

/// The segments in `dir`, oldest first.
pub(crate) fn segments(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.to_string_lossy().ends_with(SUFFIX) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// The number in a segment's file name (0 when it has none).
pub(crate) fn segment_number(path: &Path) -> u64 {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// What [`replay`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Replayed {
    /// Records applied.
    pub(crate) records: usize,
    /// Bytes at the end of the last segment that were not a whole record (a write cut short by a crash).
    pub(crate) torn_bytes: usize,
}

/// Applies every record of the segments in `dir` to `tree`, oldest first, in one pass through a [`Stage`]
/// (last value per key) once every segment has been read, so a corrupt log changes nothing. A cut-short or
/// unreadable record at the end of the last segment was never acknowledged and is skipped; a bad record
/// anywhere else (in an older segment, or followed by a good record) is corruption.
pub(crate) fn replay(dir: &Path, tree: &sled::Tree) -> Result<Replayed, StoreError> {
    let mut replayed = Replayed::default();
    let mut stage = Stage::default();
    let paths = segments(dir).map_err(|e| io_error(dir, e))?;
    for (i, path) in paths.iter().enumerate() {
        let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            match next_record(rest) {
                Some((batch, after)) => {
                    stage.add(&batch);
                    replayed.records += 1;
                    rest = after;
                }
                None if i + 1 == paths.len() && !good_record_follows(rest) => {
                    replayed.torn_bytes = rest.len();
                    break;
                }
                None => {
                    return Err(StoreError::Corrupt {
                        key: path.display().to_string(),
                        message: format!(
                            "unreadable log record at byte {}",
                            bytes.len() - rest.len()
                        ),
                    })
                }
            }
        }
    }
    stage.apply_to(tree)?;
    Ok(replayed)
}

/// Whether the bad record at the start of `bytes` has a whole, good record after it: then it was not the write a
/// crash cut short.
fn good_record_follows(bytes: &[u8]) -> bool {
    let Some((header, rest)) = bytes.split_first_chunk::<HEADER>() else {
        return false;
    };
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    rest.get(len..)
        .is_some_and(|after| next_record(after).is_some())
}

fn next_record(bytes: &[u8]) -> Option<(Batch, &[u8])> {
    let (header, rest) = bytes.split_first_chunk::<HEADER>()?;
    let len = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().ok()?);
    if rest.len() < len {
        return None;
    }
    let (payload, after) = rest.split_at(len);
    if crc32fast::hash(payload) != crc {
        return None;
    }
    Some((Batch::decode(payload)?, after))
}

/// A failed file operation on the log, naming the file.
pub(crate) fn io_error(path: &Path, err: io::Error) -> StoreError {
    StoreError::Io(format!("{}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(key: &str, value: &str) -> Batch {
        Batch::of(&[(key, Some(value))])
    }

    /// The framed records of `batches`, one after another.
    fn framed(batches: &[Batch]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for batch in batches {
            frame(batch, &mut bytes);
        }
        bytes
    }

    fn tree(dir: &Path) -> sled::Tree {
        sled::Config::new()
            .temporary(true)
            .path(dir.join("db"))
            .open()
            .unwrap()
            .open_tree("t")
            .unwrap()
    }

    #[test]
    fn records_are_replayed_in_order_and_a_torn_tail_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Segment::create(dir.path(), 1).unwrap();
        first
            .append_durably(&framed(&[batch("a", "1"), batch("a", "2")]))
            .unwrap();
        let mut second = Segment::create(dir.path(), 3).unwrap();
        let mut bytes = framed(&[batch("b", "3"), batch("c", "4")]);
        bytes.truncate(bytes.len() - 2);
        second.append_durably(&bytes).unwrap();

        let tree = tree(dir.path());
        let replayed = replay(dir.path(), &tree).unwrap();
        assert_eq!(replayed.records, 3);
        assert!(replayed.torn_bytes > 0);
        assert_eq!(tree.get("a").unwrap().unwrap(), b"2".as_slice());
        assert_eq!(tree.get("b").unwrap().unwrap(), b"3".as_slice());
        assert_eq!(tree.get("c").unwrap(), None);
    }

    #[test]
    fn a_damaged_record_before_the_last_segment_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Segment::create(dir.path(), 1).unwrap();
        let mut bytes = framed(&[batch("a", "1")]);
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        first.append_durably(&bytes).unwrap();
        Segment::create(dir.path(), 2).unwrap();

        let err = replay(dir.path(), &tree(dir.path())).unwrap_err();
        assert!(err.to_string().contains("unreadable log record"), "{err}");
    }

    #[test]
    fn a_damaged_record_followed_by_a_good_one_in_the_last_segment_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let mut only = Segment::create(dir.path(), 1).unwrap();
        let mut bytes = framed(&[batch("a", "1"), batch("b", "2"), batch("c", "3")]);
        bytes[HEADER + 2] ^= 0xff; // inside the first record's payload
        only.append_durably(&bytes).unwrap();

        let tree = tree(dir.path());
        let err = replay(dir.path(), &tree).unwrap_err();
        assert!(
            err.to_string().contains("unreadable log record at byte 0"),
            "{err}"
        );
        assert!(
            err.to_string().contains("00000000000000000001.wal"),
            "{err}"
        );
        assert_eq!(
            tree.get("b").unwrap(),
            None,
            "a corrupt log changes nothing"
        );
    }

    #[test]
    fn segments_are_readable_by_the_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let segment = Segment::create(dir.path(), 1).unwrap();
        let mode = std::fs::metadata(&segment.path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
