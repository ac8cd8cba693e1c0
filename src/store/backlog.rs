//! Durable writes that sled has not received yet. The flusher adds each group once its log record is synced and
//! applies the backlog to sled now and then, in key order and with only the last value per key. Most records
//! the engine writes are short-lived (an inbound waiting to be handled, an outbound waiting to be sent, a
//! conversation rewritten on every message), so a write that a later one replaces before the next application
//! never costs a sled update, and a key created ([`Batch::insert_new`]) and removed in between costs nothing.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use sled::IVec;

use super::batch::Batch;

/// A key's waiting write.
struct Waiting {
    /// The ticket that wrote it last.
    ticket: u64,
    /// Its value (`None`: removed).
    value: Option<IVec>,
    /// Whether the key was created since the last application, so sled has never held it.
    created: bool,
}

/// Durable values waiting for sled, by key.
#[derive(Default)]
pub(crate) struct Backlog {
    map: BTreeMap<IVec, Waiting>,
}

/// Per key, the ticket whose value sled received.
pub(crate) type Applied = BTreeMap<IVec, u64>;

impl Backlog {
    /// Adds a durable batch written under `ticket` (tickets arrive in increasing order).
    pub(crate) fn add(&mut self, ticket: u64, batch: &Batch) {
        for (key, value, new_key) in batch.ops_marked() {
            match self.map.entry(key.clone()) {
                Entry::Occupied(mut waiting) => {
                    let waiting = waiting.get_mut();
                    waiting.ticket = ticket;
                    waiting.value = value.clone();
                }
                Entry::Vacant(slot) => {
                    slot.insert(Waiting {
                        ticket,
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

    /// Writes every waiting value to sled in key order, skipping removals of keys created since the last
    /// application. The backlog keeps its entries, so the overlay can be told which tickets sled now holds.
    pub(crate) fn apply_to(&self, tree: &sled::Tree) -> Result<(), sled::Error> {
        for (key, waiting) in &self.map {
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

    /// Empties the backlog, returning per key the ticket sled now holds.
    pub(crate) fn take(&mut self) -> Applied {
        std::mem::take(&mut self.map)
            .into_iter()
            .map(|(key, waiting)| (key, waiting.ticket))
            .collect()
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
        assert_eq!(applied.get(b"conversation".as_slice()), Some(&2));
        assert_eq!(backlog.len(), 0);
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
        backlog.add(1, &accept);
        let mut handle = Batch::default();
        handle.remove(b"in/1".to_vec());
        backlog.add(2, &handle);
        backlog.apply_to(&tree).unwrap();
        assert_eq!(tree.get("in/1").unwrap(), None);
        assert_eq!(tree.get("in/2").unwrap().unwrap(), b"message");
        assert_eq!(backlog.take().get(b"in/1".as_slice()), Some(&2));
        // Created in an earlier application: the removal reaches sled.
        backlog.add(3, &handle_of(b"in/2"));
        backlog.apply_to(&tree).unwrap();
        assert_eq!(tree.get("in/2").unwrap(), None);
    }

    fn handle_of(key: &[u8]) -> Batch {
        let mut batch = Batch::default();
        batch.remove(key.to_vec());
        batch
    }
}
