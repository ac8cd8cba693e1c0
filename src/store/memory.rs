//! The in-memory backend: every record kind in its own map behind one lock, commits applied at once and durable
//! at once. It keeps the same rules as the sled backend (a step's commit all at once, case numbers never
//! handed out twice, outbox leases) and nothing survives the process; the engine's tests run on it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::backend::{Commit, Known, QueueEntry, RecentSlot, Stamp, StampKind, Ticket};
use super::embedded::{Embedded, Local};
use super::records::{
    CaseLog, CaseRecord, Conversation, Line, OutboxRecord, Reserved, StoredInbound,
};
use super::{StoreError, FIRST_CASE_NUMBER};

/// The in-memory store; clones share the data.
#[derive(Default, Clone)]
pub struct MemoryStore {
    data: Arc<Mutex<Data>>,
    local: Arc<Local>,
}

#[derive(Default)]
struct Data {
    /// Conversations with the version they were last written at.
    conversations: HashMap<String, (u64, Conversation)>,
    recent: BTreeMap<(String, RecentSlot), Line>,
    cases: BTreeMap<u64, CaseRecord>,
    case_logs: BTreeMap<(u64, u32), CaseLog>,
    user_cases: HashMap<String, String>,
    held: BTreeMap<(String, u64), ()>,
    queue: BTreeMap<QueueEntry, ()>,
    reserved: BTreeMap<u64, Reserved>,
    case_messages: HashMap<String, String>,
    unanswered: BTreeMap<String, u64>,
    seen: HashMap<(String, String), u64>,
    inbox: BTreeMap<u64, StoredInbound>,
    outbox: BTreeMap<u64, OutboxRecord>,
    last_case: u64,
    commits: u64,
}

impl MemoryStore {
    /// The same data as a new run of the process sees it (no step running, no outbox item held).
    #[cfg(test)]
    pub(crate) fn restarted(&self) -> MemoryStore {
        MemoryStore {
            data: self.data.clone(),
            local: Arc::default(),
        }
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Sets (`Some`) or removes (`None`) a map entry.
fn set<K: Ord, V>(map: &mut BTreeMap<K, V>, key: K, value: Option<V>) {
    match value {
        Some(value) => map.insert(key, value),
        None => map.remove(&key),
    };
}

#[async_trait]
impl Embedded for MemoryStore {
    fn local(&self) -> &Local {
        &self.local
    }

    fn commit(&self, commit: Commit) -> Result<Ticket, StoreError> {
        let mut d = self.data();
        d.commits += 1;
        let version = d.commits;
        for record in commit.outbox {
            d.outbox.insert(record.seq, record);
        }
        let w = commit.writes;
        for (key, conversation) in w.conversations {
            d.conversations.insert(key, (version, conversation));
        }
        for (key, line) in w.recent {
            set(&mut d.recent, key, line);
        }
        d.cases.extend(w.cases);
        d.case_logs.extend(w.case_logs);
        for (account, case) in w.user_cases {
            match case {
                Some(case) => d.user_cases.insert(account, case),
                None => d.user_cases.remove(&account),
            };
        }
        for (key, held) in w.held {
            set(&mut d.held, key, held.then_some(()));
        }
        for (entry, waiting) in w.queue {
            set(&mut d.queue, entry, waiting.then_some(()));
        }
        for (number, reserved) in w.reserved {
            set(&mut d.reserved, number, reserved);
        }
        d.case_messages.extend(w.case_messages);
        d.unanswered.extend(w.unanswered);
        if let Some(seq) = commit.handled {
            d.inbox.remove(&seq);
        }
        Ok(Ticket(version))
    }

    async fn durable(&self, _ticket: Ticket) -> Result<(), StoreError> {
        Ok(())
    }

    fn conversation(&self, key: &str) -> Result<Option<Known<Conversation>>, StoreError> {
        Ok(self.data().conversations.get(key).map(|(v, c)| Known {
            stamp: Stamp(StampKind::Version(*v)),
            value: c.clone(),
        }))
    }

    fn conversation_if_changed(
        &self,
        key: &str,
        known: &Stamp,
    ) -> Result<Option<Option<Conversation>>, StoreError> {
        Ok(match (self.data().conversations.get(key), &known.0) {
            (Some((v, _)), StampKind::Version(known)) if v == known => None,
            (found, _) => Some(found.map(|(_, c)| c.clone())),
        })
    }

    fn recent_lines(&self, conversation: &str) -> Result<Vec<(RecentSlot, Line)>, StoreError> {
        Ok(self
            .data()
            .recent
            .iter()
            .filter(|((c, _), _)| c == conversation)
            .map(|((_, slot), line)| (*slot, line.clone()))
            .collect())
    }

    fn case(&self, number: u64) -> Result<Option<CaseRecord>, StoreError> {
        Ok(self.data().cases.get(&number).cloned())
    }

    fn case_line(&self, number: u64, line: u32) -> Result<Option<CaseLog>, StoreError> {
        Ok(self.data().case_logs.get(&(number, line)).cloned())
    }

    fn case_lines(&self, number: u64) -> Result<Vec<CaseLog>, StoreError> {
        Ok(self
            .data()
            .case_logs
            .range((number, 0)..=(number, u32::MAX))
            .map(|(_, log)| log.clone())
            .collect())
    }

    fn next_case_number(&self) -> Result<u64, StoreError> {
        let mut d = self.data();
        d.last_case = d.last_case.max(FIRST_CASE_NUMBER - 1) + 1;
        Ok(d.last_case)
    }

    fn open_case_of(&self, account: &str) -> Result<Option<String>, StoreError> {
        Ok(self.data().user_cases.get(account).cloned())
    }

    fn held_cases(&self, account: &str) -> Result<Vec<u64>, StoreError> {
        Ok(self
            .data()
            .held
            .keys()
            .filter(|(a, _)| a == account)
            .map(|(_, number)| *number)
            .collect())
    }

    fn waiting(&self) -> Result<Vec<QueueEntry>, StoreError> {
        Ok(self.data().queue.keys().copied().collect())
    }

    fn reserved(&self) -> Result<Vec<(u64, Reserved)>, StoreError> {
        Ok(self
            .data()
            .reserved
            .iter()
            .map(|(n, r)| (*n, r.clone()))
            .collect())
    }

    fn case_of_message(&self, reference: &str) -> Result<Option<String>, StoreError> {
        Ok(self.data().case_messages.get(reference).cloned())
    }

    fn remember_case_message(&self, reference: &str, case: &str) -> Result<(), StoreError> {
        self.data()
            .case_messages
            .insert(reference.to_string(), case.to_string());
        Ok(())
    }

    fn unanswered(&self, question: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.data().unanswered.get(question).copied())
    }

    fn seen(&self, platform: &str, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .data()
            .seen
            .contains_key(&(platform.to_string(), id.to_string())))
    }

    fn store_inbound(&self, stored: &StoredInbound) -> Result<Option<Ticket>, StoreError> {
        let mut d = self.data();
        let message = &stored.inbound;
        let id = (message.platform.clone(), message.id.clone());
        if d.seen.contains_key(&id) {
            return Ok(None);
        }
        d.seen.insert(id, stored.seq);
        d.inbox.insert(stored.seq, stored.clone());
        d.commits += 1;
        Ok(Some(Ticket(d.commits)))
    }

    fn unhandled(&self) -> Result<Vec<StoredInbound>, StoreError> {
        Ok(self.data().inbox.values().cloned().collect())
    }

    fn remove_outbox(&self, seq: u64) -> Result<(), StoreError> {
        self.data().outbox.remove(&seq);
        Ok(())
    }

    fn update_outbox(&self, record: &OutboxRecord) -> Result<(), StoreError> {
        self.data().outbox.insert(record.seq, record.clone());
        Ok(())
    }

    fn outbox(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        Ok(self.data().outbox.values().cloned().collect())
    }

    fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        let d = self.data();
        let mut out: Vec<_> = d.conversations.values().map(|(_, c)| c.clone()).collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn cases(&self) -> Result<Vec<CaseRecord>, StoreError> {
        Ok(self.data().cases.values().cloned().collect())
    }

    fn unanswered_questions(&self) -> Result<Vec<(String, u64)>, StoreError> {
        Ok(self
            .data()
            .unanswered
            .iter()
            .map(|(q, n)| (q.clone(), *n))
            .collect())
    }

    fn fault(&self) -> Option<String> {
        None
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
