//! Durable writes that sled has not received yet. The flusher adds each group once its log record is synced to
//! the active stage and now and then freezes it; the checkpoint thread applies frozen stages to sled, oldest
//! first, in key order and with only the last value per key, while the flusher goes on syncing. Readers look
//! here after the overlay and before sled. Most records
//! the engine writes are short-lived (an inbound waiting to be handled, an outbound waiting to be sent, a
//! conversation rewritten on every message), so a write that a later one replaces before the next application
//! never costs a sled update, and a key created ([`Batch::insert_new`]) and removed in between costs nothing.

use std::sync::Arc;

use sled::IVec;

use super::batch::Batch;
use super::overlay::{layer, sorted_under, Lookup};

/// A key's waiting write.
struct Waiting {
    /// Its value (`None`: removed).
    value: Option<IVec>,
    /// Whether the key was created since the last application, so sled has never held it.
    created: bool,
}

/// Durable values waiting for sled, by key. A hash map: every write adds to it and scans are rare; the keys
/// are sorted once, when the stage is applied.
#[derive(Default)]
pub(crate) struct Stage {
    map: foldhash::HashMap<IVec, Waiting>,
}

impl Stage {
    /// Adds a durable batch (batches arrive in the order they were written).
    pub(crate) fn add(&mut self, batch: &Batch) {
        for (key, value, new_key) in batch.ops_marked() {
            // Most keys are written again before their pass (conversations, recent-line slots): look them up
            // without cloning the key.
            if let Some(waiting) = self.map.get_mut(key) {
                if value.is_none() && waiting.created {
                    // Created since the last pass and removed again: no layer below holds it, so it leaves no
                    // trace (the stage's size counts only what sled will receive).
                    self.map.remove(key);
                } else {
                    waiting.value = value.clone();
                }
            } else {
                self.map.insert(
                    key.clone(),
                    Waiting {
                        value: value.clone(),
                        created: new_key,
                    },
                );
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

    /// Writes every waiting value to sled in key order. The entries stay readable here until
    /// [`Stages::applied`].
    pub(crate) fn apply_to(&self, tree: &sled::Tree) -> Result<(), sled::Error> {
        let mut sorted: Vec<(&IVec, &Waiting)> = self.map.iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (key, waiting) in sorted {
            match &waiting.value {
                Some(value) => {
                    tree.insert(key, value.clone())?;
                }
                None => {
                    tree.remove(key)?;
                }
            }
        }
        Ok(())
    }
}

/// The stage being filled and the frozen ones waiting for their pass into sled, oldest first.
#[derive(Default)]
pub(crate) struct Stages {
    /// The stage the flusher adds to.
    pub(crate) active: Stage,
    frozen: Vec<Arc<Stage>>,
}

impl Stages {
    /// The waiting value of `key`: the active stage's, else the newest frozen one's.
    pub(crate) fn lookup(&self, key: &[u8]) -> Lookup {
        for stage in std::iter::once(&self.active).chain(self.frozen.iter().rev().map(|b| &**b)) {
            if let Lookup::Pending(value) = stage.lookup(key) {
                return Lookup::Pending(value);
            }
        }
        Lookup::Absent
    }

    /// Waiting entries under `prefix`, in key order, newer stages winning.
    pub(crate) fn under(&self, prefix: &[u8]) -> Vec<(IVec, Option<IVec>)> {
        let mut entries = Vec::new();
        for stage in self.frozen.iter().map(|b| &**b).chain([&self.active]) {
            entries = layer(stage.under(prefix), entries);
        }
        entries
    }

    /// Freezes the active stage for its pass into sled (nothing when it is empty).
    pub(crate) fn freeze(&mut self) {
        if self.active.len() > 0 {
            self.frozen.push(Arc::new(std::mem::take(&mut self.active)));
        }
    }

    /// Frozen stages waiting.
    pub(crate) fn frozen(&self) -> usize {
        self.frozen.len()
    }

    /// The oldest frozen stage: the next to apply.
    pub(crate) fn oldest(&self) -> Option<Arc<Stage>> {
        self.frozen.first().cloned()
    }

    /// Forgets `applied` (sled holds it now), which must be the oldest frozen stage.
    pub(crate) fn applied(&mut self, applied: &Arc<Stage>) {
        if self.frozen.first().is_some_and(|b| Arc::ptr_eq(b, applied)) {
            self.frozen.remove(0);
        }
    }

    /// Keys waiting in all stages.
    pub(crate) fn len(&self) -> usize {
        self.active.len() + self.frozen.iter().map(|b| b.len()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_durable_value_of_a_key_reaches_sled() {
        let (_dir, tree) = scratch_tree();
        tree.insert("kept", "old").unwrap();
        let mut stage = Stage::default();
        stage.add(&Batch::of(&[
            ("inbox", Some("message")),
            ("conversation", Some("v1")),
            ("kept", None),
        ]));
        stage.add(&Batch::of(&[("inbox", None), ("conversation", Some("v2"))]));
        assert_eq!(stage.len(), 3);
        stage.apply_to(&tree).unwrap();
        assert_eq!(tree.get("conversation").unwrap().unwrap(), b"v2");
        assert_eq!(tree.get("inbox").unwrap(), None);
        assert_eq!(tree.get("kept").unwrap(), None);
        assert!(matches!(stage.lookup(b"conversation"), Lookup::Pending(Some(v)) if v == b"v2"));
        assert_eq!(stage.under(b"in").len(), 1);
    }

    #[test]
    fn a_key_created_and_removed_between_applications_never_reaches_sled() {
        let (_dir, tree) = scratch_tree();
        let mut stage = Stage::default();
        let mut accept = Batch::default();
        accept.insert_new(b"in/1".to_vec(), b"message".to_vec());
        accept.insert_new(b"in/2".to_vec(), b"message".to_vec());
        stage.add(&accept);
        stage.add(&Batch::of(&[("in/1", None)]));
        assert_eq!(stage.len(), 1, "the created and removed key left no entry");
        assert!(matches!(stage.lookup(b"in/1"), Lookup::Absent));
        stage.apply_to(&tree).unwrap();
        assert_eq!(tree.get("in/1").unwrap(), None);
        assert_eq!(tree.get("in/2").unwrap().unwrap(), b"message");
        let mut stage = Stage::default();
        // Created in an earlier application: the removal reaches sled.
        stage.add(&Batch::of(&[("in/2", None)]));
        stage.apply_to(&tree).unwrap();
        assert_eq!(tree.get("in/2").unwrap(), None);
    }

    /// A sled tree in a temporary directory (kept alive by the returned handle).
    fn scratch_tree() -> (tempfile::TempDir, sled::Tree) {
        let dir = tempfile::tempdir().unwrap();
        let tree = sled::open(dir.path()).unwrap().open_tree("t").unwrap();
        (dir, tree)
    }

    #[test]
    fn readers_see_the_newest_stage_first_and_frozen_ones_until_applied() {
        let (_dir, tree) = scratch_tree();
        let mut stages = Stages::default();
        stages
            .active
            .add(&Batch::of(&[("k/a", Some("1")), ("k/b", Some("1"))]));
        stages.freeze();
        stages
            .active
            .add(&Batch::of(&[("k/a", Some("2")), ("k/b", None)]));
        assert!(matches!(stages.lookup(b"k/a"), Lookup::Pending(Some(v)) if v == b"2"));
        assert!(matches!(stages.lookup(b"k/b"), Lookup::Pending(None)));
        assert_eq!(
            stages.under(b"k/"),
            vec![
                (IVec::from("k/a"), Some(IVec::from("2"))),
                (IVec::from("k/b"), None)
            ]
        );
        stages.freeze();
        assert_eq!((stages.frozen(), stages.len()), (2, 4));
        while let Some(oldest) = stages.oldest() {
            oldest.apply_to(&tree).unwrap();
            stages.applied(&oldest);
        }
        assert!(matches!(stages.lookup(b"k/a"), Lookup::Absent));
        assert_eq!(tree.get("k/a").unwrap().unwrap(), b"2");
        assert_eq!(tree.get("k/b").unwrap(), None);
    }
}
