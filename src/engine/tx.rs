//! One handling step's changes: reads see the step's own writes; writes, outgoing messages and case events are
//! applied together as one atomic sled batch (with the removal of the handled inbound message).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::IVec;
use supportbot_chat::{CaseEvent, Delivery, Envelope, Outbound};

use crate::outbox::{Item, Outbox};
use crate::store::{decode, encode, keys, Store, StoreError};

/// Pending changes of one step.
pub struct Tx {
    store: Store,
    overlay: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// The engine's clock for this step.
    pub now: DateTime<FixedOffset>,
    source: String,
    inbox_seq: Option<u64>,
    sends: Vec<(Envelope, bool)>,
    events: Vec<CaseEvent>,
}

/// What a committed step hands on: outbox items and events to broadcast.
pub struct Committed {
    /// Outbox items (already in the batch).
    pub items: Vec<Item>,
    /// Case events of the step.
    pub events: Vec<CaseEvent>,
}

impl Tx {
    /// A step caused by `source` (the inbound dedupe key, or a system reason); `inbox_seq` is removed on commit.
    pub fn new(
        store: Store,
        now: DateTime<FixedOffset>,
        source: String,
        inbox_seq: Option<u64>,
    ) -> Tx {
        Tx {
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

    /// Reads a record like [`Tx::get`]; `known` is a copy decoded earlier from the stored bytes it holds, taken
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

    /// Builds the batch (state, outbox items, forwarded events, removal of the handled message) and applies it.
    /// Call while holding the engine's state lock so outbox sequence numbers follow commit order.
    pub fn commit(
        mut self,
        outbox: &Outbox,
        forwarders: &[String],
    ) -> Result<Committed, StoreError> {
        let mut batch = crate::store::Batch::default();
        let created_ms = chrono::Utc::now().timestamp_millis();
        for (i, event) in self.events.iter().enumerate() {
            for name in forwarders {
                self.sends.push((
                    Envelope {
                        id: format!("{}#ev{i}:{name}", self.source),
                        destination: name.clone(),
                        order_key: format!("forward:{name}"),
                        delivery: Delivery::Event(event.clone()),
                    },
                    false,
                ));
            }
        }
        let mut items = Vec::with_capacity(self.sends.len());
        for (envelope, case_message) in self.sends {
            if case_message {
                if let Delivery::Message(Outbound {
                    case: Some(case), ..
                }) = &envelope.delivery
                {
                    self.overlay
                        .insert(keys::case_message(&envelope.id), Some(encode(case)));
                }
            }
            let item = Item {
                seq: outbox.next_seq(),
                ticket: None,
                created_ms,
                envelope,
            };
            let (k, v) = Outbox::record(&item);
            batch.insert_new(k, v);
            items.push(item);
        }
        for (k, v) in self.overlay {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        if let Some(seq) = self.inbox_seq {
            batch.remove(keys::inbox(seq));
        }
        let ticket = self.store.apply(batch)?;
        for item in &mut items {
            item.ticket = Some(ticket);
        }
        Ok(Committed {
            items,
            events: self.events,
        })
    }
}

#[cfg(test)]
impl Tx {
    /// A step on a store in a temporary directory (kept alive by the returned handle), for tests.
    pub(crate) fn scratch() -> (tempfile::TempDir, Tx) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 4).unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00+08:00").unwrap();
        (dir, Tx::new(store, now, "test".into(), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_copy_is_used_only_while_the_record_is_unchanged() {
        let (_dir, mut tx) = Tx::scratch();
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
