//! The storage interface on sled: each record kind under its own key prefix (see [`keys`]), a step's commit as
//! one batch through the write-ahead log.

use async_trait::async_trait;
use serde::de::DeserializeOwned;

use super::{keys, Batch, SledStore};
use crate::store::backend::{Commit, Known, QueueEntry, RecentSlot, Stamp, StampKind, Ticket};
use crate::store::embedded::{Embedded, Local};
use crate::store::records::{
    CaseLog, CaseRecord, Conversation, Line, OutboxRecord, Reserved, StoredInbound,
};
use crate::store::{decode, encode, StoreError};

impl SledStore {
    /// Decoded records under a prefix, with what follows the prefix in their keys.
    fn records<T: DeserializeOwned>(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, T)>, StoreError> {
        self.entries(prefix)?
            .into_iter()
            .map(|(key, value)| {
                let value = decode(&key, &value)?;
                Ok((key[prefix.len()..].to_vec(), value))
            })
            .collect()
    }

    fn values<T: DeserializeOwned>(&self, prefix: &[u8]) -> Result<Vec<T>, StoreError> {
        Ok(self
            .records(prefix)?
            .into_iter()
            .map(|(_, value)| value)
            .collect())
    }
}

/// The batch that stores a step.
fn batch_of(commit: Commit) -> Batch {
    let mut batch = Batch::default();
    for record in &commit.outbox {
        batch.insert_new(keys::outbox(record.seq), encode(record));
    }
    let w = commit.writes;
    for (key, conversation) in &w.conversations {
        batch.insert(keys::conversation(key), encode(conversation));
    }
    for ((conversation, slot), line) in &w.recent {
        let key = match *slot {
            RecentSlot::Ring(n) => keys::recent_slot(conversation, n),
            RecentSlot::Numbered(n) => keys::recent_numbered(conversation, n),
        };
        match line {
            Some(line) => batch.insert(key, encode(line)),
            None => batch.remove(key),
        }
    }
    for (number, case) in &w.cases {
        batch.insert(keys::case(*number), encode(case));
    }
    for ((number, line), log) in &w.case_logs {
        batch.insert(keys::case_log(*number, *line), encode(log));
    }
    for (account, case) in &w.user_cases {
        match case {
            Some(case) => batch.insert(keys::user_case(account), encode(case)),
            None => batch.remove(keys::user_case(account)),
        }
    }
    for ((account, number), held) in &w.held {
        let key = keys::held(account, *number);
        match held {
            true => batch.insert(key, encode(&crate::store::records::case_id(*number))),
            false => batch.remove(key),
        }
    }
    for (entry, waiting) in &w.queue {
        let key = keys::queue(entry.priority, entry.queued_ms, entry.number);
        match waiting {
            true => batch.insert(key, encode(&crate::store::records::case_id(entry.number))),
            false => batch.remove(key),
        }
    }
    for (number, reserved) in &w.reserved {
        match reserved {
            Some(reserved) => batch.insert(keys::reserved(*number), encode(reserved)),
            None => batch.remove(keys::reserved(*number)),
        }
    }
    for (reference, case) in &w.case_messages {
        batch.insert(keys::case_message(reference), encode(case));
    }
    for (question, count) in &w.unanswered {
        batch.insert(keys::unanswered(question), encode(count));
    }
    if let Some(seq) = commit.handled {
        batch.remove(keys::inbox(seq));
    }
    batch
}

#[async_trait]
impl Embedded for SledStore {
    fn local(&self) -> &Local {
        &self.inner.local
    }

    fn commit(&self, commit: Commit) -> Result<Ticket, StoreError> {
        self.apply(batch_of(commit))
    }

    async fn durable(&self, ticket: Ticket) -> Result<(), StoreError> {
        self.inner.committer.wait(ticket).await
    }

    fn conversation(&self, key: &str) -> Result<Option<Known<Conversation>>, StoreError> {
        let key = keys::conversation(key);
        let Some(bytes) = self.get_raw(&key)? else {
            return Ok(None);
        };
        let value = decode(&key, &bytes)?;
        Ok(Some(Known {
            stamp: Stamp(StampKind::Bytes(bytes)),
            value,
        }))
    }

    fn conversation_if_changed(
        &self,
        key: &str,
        known: &Stamp,
    ) -> Result<Option<Option<Conversation>>, StoreError> {
        let key = keys::conversation(key);
        match (self.get_raw(&key)?, &known.0) {
            (Some(bytes), StampKind::Bytes(known)) if bytes == *known => Ok(None),
            (Some(bytes), _) => decode(&key, &bytes).map(|c| Some(Some(c))),
            (None, _) => Ok(Some(None)),
        }
    }

    fn recent_lines(&self, conversation: &str) -> Result<Vec<(RecentSlot, Line)>, StoreError> {
        let mut out = Vec::new();
        for (suffix, line) in self.records::<Line>(&keys::recent_prefix(conversation))? {
            let suffix = std::str::from_utf8(&suffix).unwrap_or_default();
            let slot = match suffix.strip_prefix('r') {
                Some(ring) => ring.parse().ok().map(RecentSlot::Ring),
                None => u64::from_str_radix(suffix, 16)
                    .ok()
                    .map(RecentSlot::Numbered),
            };
            if let Some(slot) = slot {
                out.push((slot, line));
            }
        }
        Ok(out)
    }

    fn case(&self, number: u64) -> Result<Option<CaseRecord>, StoreError> {
        self.get(&keys::case(number))
    }

    fn case_line(&self, number: u64, line: u32) -> Result<Option<CaseLog>, StoreError> {
        self.get(&keys::case_log(number, line))
    }

    fn case_lines(&self, number: u64) -> Result<Vec<CaseLog>, StoreError> {
        self.values(&keys::case_log_prefix(number))
    }

    fn next_case_number(&self) -> Result<u64, StoreError> {
        SledStore::next_case_number(self)
    }

    fn open_case_of(&self, account: &str) -> Result<Option<String>, StoreError> {
        self.get(&keys::user_case(account))
    }

    fn held_cases(&self, account: &str) -> Result<Vec<u64>, StoreError> {
        Ok(self
            .entries(&keys::held_prefix(account))?
            .iter()
            .filter_map(|(key, _)| keys::number_at_end(key))
            .collect())
    }

    fn waiting(&self) -> Result<Vec<QueueEntry>, StoreError> {
        Ok(self
            .entries(keys::QUEUE.as_bytes())?
            .iter()
            .filter_map(|(key, _)| keys::parse_queue(key))
            .map(|(priority, queued_ms, number)| QueueEntry {
                priority,
                queued_ms,
                number,
            })
            .collect())
    }

    fn reserved(&self) -> Result<Vec<(u64, Reserved)>, StoreError> {
        let mut out = Vec::new();
        for (suffix, reserved) in self.records::<Reserved>(keys::RESERVED.as_bytes())? {
            if let Some(number) = keys::number_at_end(&suffix) {
                out.push((number, reserved));
            }
        }
        Ok(out)
    }

    fn case_of_message(&self, reference: &str) -> Result<Option<String>, StoreError> {
        self.get(&keys::case_message(reference))
    }

    fn remember_case_message(&self, reference: &str, case: &str) -> Result<(), StoreError> {
        self.insert_lazy(&keys::case_message(reference), encode(&case))
    }

    fn unanswered(&self, question: &str) -> Result<Option<u64>, StoreError> {
        self.get(&keys::unanswered(question))
    }

    fn seen(&self, platform: &str, id: &str) -> Result<bool, StoreError> {
        let key = keys::dedupe(platform, id);
        let mut absent = self.inner.absent.lock().unwrap_or_else(|e| e.into_inner());
        let seen = self.contains(&key)?;
        if !seen {
            absent.insert(key);
        }
        Ok(seen)
    }

    fn store_inbound(&self, stored: &StoredInbound) -> Result<Option<Ticket>, StoreError> {
        let message = &stored.inbound;
        let key = keys::dedupe(&message.platform, &message.id);
        let mut absent = self.inner.absent.lock().unwrap_or_else(|e| e.into_inner());
        if !absent.take(&key) && self.contains(&key)? {
            return Ok(None);
        }
        let mut batch = Batch::default();
        batch.insert(key, stored.seq.to_be_bytes().to_vec());
        batch.insert_new(keys::inbox(stored.seq), encode(stored));
        self.apply(batch).map(Some)
    }

    fn unhandled(&self) -> Result<Vec<StoredInbound>, StoreError> {
        self.values(keys::INBOX.as_bytes())
    }

    fn remove_outbox(&self, seq: u64) -> Result<(), StoreError> {
        self.remove_lazy(&keys::outbox(seq))
    }

    fn update_outbox(&self, record: &OutboxRecord) -> Result<(), StoreError> {
        self.insert_lazy(&keys::outbox(record.seq), encode(record))
    }

    fn outbox(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        self.values(keys::OUTBOX.as_bytes())
    }

    fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        self.values(keys::CONVERSATION.as_bytes())
    }

    fn cases(&self) -> Result<Vec<CaseRecord>, StoreError> {
        self.values(keys::CASE.as_bytes())
    }

    fn unanswered_questions(&self) -> Result<Vec<(String, u64)>, StoreError> {
        Ok(self
            .records::<u64>(keys::UNANSWERED.as_bytes())?
            .into_iter()
            .map(|(question, count)| (String::from_utf8_lossy(&question).into_owned(), count))
            .collect())
    }

    fn fault(&self) -> Option<String> {
        SledStore::fault(self)
    }

    fn flush(&self) -> Result<(), StoreError> {
        SledStore::flush(self)
    }
}
