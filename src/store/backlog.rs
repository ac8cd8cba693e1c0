//! Durable writes that sled has not received yet. The flusher adds each group once its log record is synced and
//! applies the backlog to sled now and then, in key order and with only the last value per key. Readers look
//! here after the overlay and before sled. Most records
//! the engine writes are short-lived (an inbound waiting to be handled, an outbound waiting to be sent, a
//! conversation rewritten on every message), so a write that a later one replaces before the next application
//! never costs a sled update, and a key created ([`Batch::insert_new`]) and removed in between costs nothing.

use std::collections::hash_map::Entry;

use sled::IVec;

use super::batch::Batch;
use super::overlay::{sorted_under, Lookup};

/// A key's waiting write.
struct Waiting {
    /// Its value (`None`: removed).
    value: Option<IVec>,
    /// Whether the key was created since the last application, so sled has never held it.
    created: bool,
}

/// Durable values waiting for sled, by key. A hash map: every write adds to it and scans are rare; the keys
/// are sorted once, when the backlog is applied.
#[derive(Default)]
pub(crate) struct Backlog {
    map: foldhash::HashMap<IVec, Waiting>,
}

impl Backlog {
    /// Adds a durable batch (batches arrive in the order they were written).
    pub(crate) fn add(&mut self, batch: &Batch) {
        for (key, value, new_key) in batch.ops_marked() {
            match self.map.entry(key.clone()) {
                Entry::Occupied(mut waiting) => {
                    let waiting = waiting.get_mut();
                    waiting.value = value.clone();
                }
                Entry::Vacant(slot) => {
                    slot.insert(Waiting {
                        value: value.clone(),
                        created: new_key,
                    });
                }
            }
        }
    }

    /// Number of keys waiting.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// The waiting value of `key`.
    pub(crate) fn lookup(&self, key: &[u8]) -> Lookup {
        match self.map.get(key) {
            Some(waiting) => Lookup::Pending(waiting.value.clone()),
            None => Lookup::Absent,
        }
    }

    /// Waiting entries under `prefix`, in key order.
    pub(crate) fn under(&self, prefix: &[u8]) -> Vec<(IVec, Option<IVec>)> {
        sorted_under(self.map.iter().map(|(k, w)| (k, &w.value)), prefix)
    }

    /// Writes every waiting value to sled in key order, skipping removals of keys created since the last
    /// application. The entries stay readable here until [`Backlog::clear`].
    pub(crate) fn apply_to(&self, tree: &sled::Tree) -> Result<(), sled::Error> {
        let mut sorted: Vec<(&IVec, &Waiting)> = self.map.iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (key, waiting) in sorted {
            match &waiting.value {
                Some(value) => {
                    tree.insert(key, value.clone())?;
                }
                None if waiting.created => {}
                None => {
                    tree.remove(key)?;
                }
            }
        }
        Ok(())
    }

    /// Forgets everything (sled holds it now).
    pub(crate) fn clear(&mut self) {
        self.map.clear();
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
        backlog.add(&first);
        let mut second = Batch::default();
        second.remove(b"inbox".to_vec());
        second.insert(b"conversation".to_vec(), b"v2".to_vec());
        backlog.add(&second);
        assert_eq!(backlog.len(), 3);
        backlog.apply_to(&tree).unwrap();
        assert_eq!(tree.get("conversation").unwrap().unwrap(), b"v2");
        assert_eq!(tree.get("inbox").unwrap(), None);
        assert_eq!(tree.get("kept").unwrap(), None);
        assert!(matches!(backlog.lookup(b"conversation"), Lookup::Pending(Some(v)) if v == b"v2"));
        assert_eq!(backlog.under(b"in").len(), 1);
        backlog.clear();
        assert!(matches!(backlog.lookup(b"conversation"), Lookup::Absent));
    }

    #[test]
    fn a_key_created_and_removed_between_applications_never_reaches_sled() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let tree = db.open_tree("t").unwrap();
        let mut backlog = Backlog::default();
        let mut accept = Batch::default();
        accept.insert_new(b"in/1".to_vec(), b"message".to_vec());
        accept.insert_new(b"in/2".to_vec(), b"message".to_vec());
        backlog.add(&accept);
        let mut handle = Batch::default();
        handle.remove(b"in/1".to_vec());
        backlog.add(&handle);
        backlog.apply_to(&tree).unwrap();
        assert_eq!(tree.get("in/1").unwrap(), None);
        assert_eq!(tree.get("in/2").unwrap().unwrap(), b"message");
        backlog.clear();
        // Created in an earlier application: the removal reaches sled.
        backlog.add(&handle_of(b"in/2"));
        backlog.apply_to(&tree).unwrap();
        assert_eq!(tree.get("in/2").unwrap(), None);
    }

    fn handle_of(key: &[u8]) -> Batch {
        let mut batch = Batch::default();
        batch.remove(key.to_vec());
        batch
    }
}
