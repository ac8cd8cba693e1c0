//! The changes one handling step makes: reads see the step's own writes; the writes, the messages to send and
//! the case events are collected here and handed to the store together (see the engine's `commit`), so that a
//! step's effects are stored all at once or not at all.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::IVec;
use supportbot_chat::{CaseEvent, Delivery, Envelope, Outbound};

use super::{decode, encode, Store, StoreError};

/// The changes of one step, not yet stored.
pub struct Changes {
    store: Store,
    overlay: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// The engine's clock for this step.
    pub now: DateTime<FixedOffset>,
    source: String,
    inbox_seq: Option<u64>,
    sends: Vec<(Envelope, bool)>,
    events: Vec<CaseEvent>,
}

impl Changes {
    /// A step caused by `source` (the inbound dedupe key, or a system reason); `inbox_seq` is removed on commit.
    pub fn new(
        store: Store,
        now: DateTime<FixedOffset>,
        source: String,
        inbox_seq: Option<u64>,
    ) -> Changes {
        Changes {
            store,
            overlay: BTreeMap::new(),
            now,
            source,
            inbox_seq,
            sends: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Reads a record, seeing this step's writes.
    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.overlay.get(key) {
            Some(Some(bytes)) => decode(key, bytes).map(Some),
            Some(None) => Ok(None),
            None => self.store.get(key),
        }
    }

    /// Reads a record like [`Changes::get`]; `known` is a copy decoded earlier from the stored bytes it holds, taken
    /// as is when the record still has exactly those bytes (a comparison instead of decoding it again).
    pub fn get_known<T: DeserializeOwned>(
        &self,
        key: &[u8],
        known: Option<(IVec, T)>,
    ) -> Result<Option<T>, StoreError> {
        if self.overlay.contains_key(key) {
            return self.get(key);
        }
        match (self.store.get_raw(key)?, known) {
            (Some(bytes), Some((known_bytes, value))) if bytes == known_bytes => Ok(Some(value)),
            (Some(bytes), _) => decode(key, &bytes).map(Some),
            (None, _) => Ok(None),
        }
    }

    /// Writes a record.
    pub fn put<T: Serialize + ?Sized>(&mut self, key: Vec<u8>, value: &T) {
        self.overlay.insert(key, Some(encode(&value)));
    }

    /// Deletes a key.
    pub fn del(&mut self, key: Vec<u8>) {
        self.overlay.insert(key, None);
    }

    /// Keys under a prefix, in order, seeing this step's writes.
    pub fn keys(&self, prefix: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut set: BTreeSet<Vec<u8>> = BTreeSet::new();
        for key in self.store.keys(prefix) {
            set.insert(key?.to_vec());
        }
        for (k, v) in self.overlay.range(prefix.to_vec()..) {
            if !k.starts_with(prefix) {
                break;
            }
            match v {
                Some(_) => set.insert(k.clone()),
                None => set.remove(k),
            };
        }
        Ok(set.into_iter().collect())
    }

    /// Queues a message; returns its envelope id. `case_message` marks it as standing for its case (a card or
    /// a relay), so that an operator replying to it replies in the case.
    pub fn send(&mut self, out: Outbound, case_message: bool) -> String {
        let id = format!("{}#{}", self.source, self.sends.len());
        let envelope = Envelope {
            id: id.clone(),
            destination: out.platform.clone(),
            order_key: format!("{}:{}", out.platform, out.chat),
            delivery: Delivery::Message(out),
        };
        self.sends.push((envelope, case_message));
        id
    }

    /// Records a case event (also forwarded to inbox hooks).
    pub fn event(&mut self, event: CaseEvent) {
        self.events.push(event);
    }

    /// Takes the collected changes apart for committing.
    pub fn into_parts(self) -> Parts {
        Parts {
            store: self.store,
            writes: self.overlay,
            source: self.source,
            inbox_seq: self.inbox_seq,
            sends: self.sends,
            events: self.events,
        }
    }
}

/// A step's changes, taken apart for committing ([`Changes::into_parts`]).
pub struct Parts {
    /// The store the step read from.
    pub store: Store,
    /// Written (`Some`) and deleted (`None`) keys.
    pub writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// What caused the step (envelope ids are derived from it).
    pub source: String,
    /// The handled inbound message, removed with the step.
    pub inbox_seq: Option<u64>,
    /// Messages to send; `true` marks a message standing for its case.
    pub sends: Vec<(Envelope, bool)>,
    /// Case events of the step.
    pub events: Vec<CaseEvent>,
}

#[cfg(test)]
impl Changes {
    /// A step on a store in a temporary directory (kept alive by the returned handle), for tests.
    pub(crate) fn scratch() -> (tempfile::TempDir, Changes) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 4).unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00+08:00").unwrap();
        (dir, Changes::new(store, now, "test".into(), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_copy_is_used_only_while_the_record_is_unchanged() {
        let (_dir, mut tx) = Changes::scratch();
        let key = b"cv/web:u1".to_vec();
        let mut batch = crate::store::Batch::default();
        batch.insert(key.clone(), encode(&"stored"));
        tx.store.apply(batch).unwrap();
        let bytes = tx.store.get_raw(&key).unwrap().unwrap();

        // The same bytes: the known copy is taken as is (it differs from the record only to show that).
        let known = Some((bytes.clone(), "known".to_string()));
        assert_eq!(tx.get_known(&key, known).unwrap().as_deref(), Some("known"));
        // Other bytes: the stored record is decoded.
        let stale = Some((IVec::from(encode(&"older")), "older".to_string()));
        assert_eq!(
            tx.get_known(&key, stale).unwrap().as_deref(),
            Some("stored")
        );
        // The step's own write wins over both.
        tx.put(key.clone(), &"written");
        let known = Some((bytes, "known".to_string()));
        assert_eq!(
            tx.get_known(&key, known).unwrap().as_deref(),
            Some("written")
        );
    }
}
