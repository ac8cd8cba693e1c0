//! Checkpoints: the frozen stages applied to sled, sled flushed, and the log segments the flush covers deleted.
//! The checkpoint thread runs them as the log grows and ages; [`Committer::checkpoint`] runs one at once.

use super::super::wal::{self, Segment};
use super::super::{fault, perms, recover};
use super::{cut, io_error, lock, read, write, Committer, Group, StoreError, Writer};

impl Committer {
    /// Applies the frozen stages to sled, oldest first, each forgotten once sled holds it.
    pub(super) fn apply_frozen(&self) -> Result<(), StoreError> {
        let _applying = lock(&self.applying);
        loop {
            // Bound first: the read guard must be gone before the write lock below.
            let oldest = read(&self.stages).oldest();
            let Some(oldest) = oldest else {
                return Ok(());
            };
            oldest.apply_to(&self.tree)?;
            write(&self.stages).applied(&oldest);
        }
    }

    /// Starts the next segment; returns the number of the one it replaces.
    pub(super) fn rotate(&self, writer: &mut Writer) -> Result<u64, StoreError> {
        let segment = &mut writer.segment;
        let next = Segment::create(&self.dir, segment.number + 1).map_err(io_error(&self.dir))?;
        Ok(std::mem::replace(segment, next).number)
    }

    /// Flushes sled, which then holds every batch of segment `retired` and older (they were frozen when the
    /// segment was retired, and applied since), and deletes those segments.
    pub(super) fn flush_sled_and_retire(&self, retired: u64) -> Result<(), StoreError> {
        recover::mark_checkpointed(&self.tree, retired)?;
        fault::flush_sled(&self.db, &self.sled_config)?;
        // Files sled created since the last checkpoint (blobs) get the data directory's modes.
        for dir in [self.data_dir.clone(), self.data_dir.join("blobs")] {
            match perms::tighten(&dir, false) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io_error(&dir)(e))
                }
                _ => {}
            }
        }
        for path in wal::segments(&self.dir).map_err(io_error(&self.dir))? {
            if wal::segment_number(&path) <= retired {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    // A concurrent checkpoint got there first.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_error(&path)(e)),
                }
            }
        }
        Ok(())
    }

    /// Writes and applies everything pending, then checkpoints: sled flushed and the log emptied.
    pub(crate) fn checkpoint(&self) -> Result<(), StoreError> {
        self.fault.check()?;
        self.checkpoint_now().map_err(|err| self.fail(err))
    }

    fn checkpoint_now(&self) -> Result<(), StoreError> {
        let mut group = Group::default();
        let mut writer = {
            let mut pending = lock(&self.pending);
            cut(&mut pending, &mut group);
            lock(&self.writer)
        };
        if !group.framed.is_empty() {
            self.commit_group(&mut writer, &mut group)?;
        }
        write(&self.stages).freeze();
        self.apply_frozen()?;
        let retired = self.rotate(&mut writer)?;
        drop(writer);
        self.flush_sled_and_retire(retired)
    }
}
