//! A bounded map that forgets its oldest entries: message ids the bot sent, who asked in a group, which
//! envelope became which message.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;

/// Up to `capacity` entries; inserting past it drops the oldest.
pub struct Recent<K, V> {
    inner: Mutex<(HashMap<K, V>, VecDeque<K>)>,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> Recent<K, V> {
    /// An empty map holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Recent {
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
            capacity: capacity.max(1),
        }
    }

    /// Adds or replaces an entry.
    pub fn insert(&self, key: K, value: V) {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order) = &mut *guard;
        if map.insert(key.clone(), value).is_none() {
            order.push_back(key);
            while order.len() > self.capacity {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<V> {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard.0.get(key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::Recent;

    #[test]
    fn the_oldest_entry_goes_first() {
        let r = Recent::new(2);
        r.insert(1, "a");
        r.insert(2, "b");
        r.insert(1, "c");
        r.insert(3, "d");
        assert_eq!(
            (r.get(&1), r.get(&2), r.get(&3)),
            (None, Some("b"), Some("d"))
        );
    }
}
