//! Durable writes that sled has not received yet. The flusher adds each group once its log record is synced and
//! applies the backlog to sled now and then, in key order and with only the last value per key. Most records
//! the engine writes are short-lived (an inbound waiting to be handled, an outbound waiting to be sent, a
//! conversation rewritten on every message), so a write that a later one replaces or removes before the next
//! application never costs a sled update at all.

use std::collections::BTreeMap;

use sled::IVec;

use super::batch::Batch;

/// Durable values waiting for sled: per key the ticket that wrote it last and the value (`None`: removed).
#[derive(Default)]
pub(crate) struct Backlog {
    map: BTreeMap<IVec, (u64, Option<IVec>)>,
}

impl Backlog {
    /// Adds a durable batch written under `ticket` (tickets arrive in increasing order).
    pub(crate) fn add(&mut self, ticket: u64, batch: &Batch) {
        for (key, value) in batch.ops() {
            self.map.insert(key.clone(), (ticket, value.clone()));
        }
    }

    /// Number of keys waiting.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Writes every waiting value to sled in key order. A removal of a key sled never had changes nothing
    /// there. The backlog keeps its entries, so the overlay can be told which tickets sled now holds.
    pub(crate) fn apply_to(&self, tree: &sled::Tree) -> Result<(), sled::Error> {
        for (key, (_, value)) in &self.map {
            match value {
                Some(value) => tree.insert(key, value.clone())?,
                None => tree.remove(key)?,
            };
        }
        Ok(())
    }

    /// The applied entries, emptying the backlog.
    pub(crate) fn take(&mut self) -> BTreeMap<IVec, (u64, Option<IVec>)> {
        std::mem::take(&mut self.map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_durable_value_of_a_key_reaches_sled() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let tree = db.open_tree("t").unwrap();
        tree.insert("kept", "old").unwrap();
        let mut backlog = Backlog::default();
        let mut first = Batch::default();
        first.insert(b"inbox".to_vec(), b"message".to_vec());
        first.insert(b"conversation".to_vec(), b"v1".to_vec());
        first.remove(b"kept".to_vec());
        backlog.add(1, &first);
        let mut second = Batch::default();
        second.remove(b"inbox".to_vec());
        second.insert(b"conversation".to_vec(), b"v2".to_vec());
        backlog.add(2, &second);
        assert_eq!(backlog.len(), 3);
        backlog.apply_to(&tree).unwrap();
        assert_eq!(tree.get("conversation").unwrap().unwrap(), b"v2");
        assert_eq!(tree.get("inbox").unwrap(), None);
        assert_eq!(tree.get("kept").unwrap(), None);
        let applied = backlog.take();
        assert_eq!(applied.get(b"conversation".as_slice()).unwrap().0, 2);
        assert_eq!(backlog.len(), 0);
    }
}
