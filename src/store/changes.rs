//! The changes one handling step makes. Reads go to the store and see the step's own writes; the writes, the
//! messages to send and the case events are collected here and stored together by one commit (see the engine's
//! `commit`), so that a step's effects are stored all at once or not at all.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset};
use supportbot_chat::{CaseEvent, Delivery, Envelope, Outbound};

use super::backend::{Known, QueueEntry, RecentSlot, Step, Writes};
use super::records::{CaseLog, CaseRecord, Conversation, Line, Reserved};
use super::StoreError;

/// The changes of one step, not stored yet.
pub struct Changes {
    step: Box<dyn Step>,
    writes: Writes,
    /// The engine's clock for this step.
    pub now: DateTime<FixedOffset>,
    source: String,
    inbox_seq: Option<u64>,
    sends: Vec<(Envelope, bool)>,
    events: Vec<CaseEvent>,
}

/// A step's changes, taken apart for committing ([`Changes::into_parts`]).
pub struct Parts {
    /// The step the changes were made in (it commits them).
    pub step: Box<dyn Step>,
    /// What the step wrote.
    pub writes: Writes,
    /// What caused the step (envelope ids are derived from it).
    pub source: String,
    /// The handled inbound message, removed with the step.
    pub inbox_seq: Option<u64>,
    /// Messages to send; `true` marks a message standing for its case.
    pub sends: Vec<(Envelope, bool)>,
    /// Case events of the step.
    pub events: Vec<CaseEvent>,
}

impl Changes {
    /// A step caused by `source` (the inbound dedupe key, or a system reason); `inbox_seq` is removed on commit.
    pub fn new(
        step: Box<dyn Step>,
        now: DateTime<FixedOffset>,
        source: String,
        inbox_seq: Option<u64>,
    ) -> Changes {
        Changes {
            step,
            writes: Writes::default(),
            now,
            source,
            inbox_seq,
            sends: Vec::new(),
            events: Vec::new(),
        }
    }

    // --- Conversations ---

    /// A conversation.
    pub async fn conversation(&self, key: &str) -> Result<Option<Conversation>, StoreError> {
        match self.writes.conversations.get(key) {
            Some(c) => Ok(Some(c.clone())),
            None => Ok(self.step.conversation(key).await?.map(|k| k.value)),
        }
    }

    /// A conversation like [`Changes::conversation`]; `known` is a copy read earlier, taken as is when the
    /// stored record has not changed since (a comparison instead of decoding it again).
    pub async fn conversation_known(
        &self,
        key: &str,
        known: Option<Known<Conversation>>,
    ) -> Result<Option<Conversation>, StoreError> {
        if self.writes.conversations.contains_key(key) {
            return self.conversation(key).await;
        }
        match known {
            Some(known) => match self.step.conversation_if_changed(key, &known.stamp).await? {
                None => Ok(Some(known.value)),
                Some(now) => Ok(now),
            },
            None => self.conversation(key).await,
        }
    }

    /// Saves a conversation.
    pub fn save_conversation(&mut self, conversation: Conversation) {
        self.writes
            .conversations
            .insert(conversation.key.clone(), conversation);
    }

    /// A conversation's recent lines by slot, in slot order.
    pub async fn recent_lines(
        &self,
        conversation: &str,
    ) -> Result<Vec<(RecentSlot, Line)>, StoreError> {
        let mut lines: std::collections::BTreeMap<RecentSlot, Line> = self
            .step
            .recent_lines(conversation)
            .await?
            .into_iter()
            .collect();
        let from = (conversation.to_string(), RecentSlot::Ring(0));
        for ((c, slot), line) in self.writes.recent.range(from..) {
            if c != conversation {
                break;
            }
            match line {
                Some(line) => lines.insert(*slot, line.clone()),
                None => lines.remove(slot),
            };
        }
        Ok(lines.into_iter().collect())
    }

    /// Writes (`Some`) or removes (`None`) a recent line.
    pub fn set_recent_line(&mut self, conversation: &str, slot: RecentSlot, line: Option<Line>) {
        self.writes
            .recent
            .insert((conversation.to_string(), slot), line);
    }

    // --- Cases ---

    /// A case.
    pub async fn case(&self, number: u64) -> Result<Option<CaseRecord>, StoreError> {
        match self.writes.cases.get(&number) {
            Some(case) => Ok(Some(case.clone())),
            None => self.step.case(number).await,
        }
    }

    /// The next case number (never handed out twice, even when the step is not committed).
    pub async fn next_case_number(&self) -> Result<u64, StoreError> {
        self.step.next_case_number().await
    }

    /// Saves a case.
    pub fn save_case(&mut self, case: &CaseRecord) {
        self.writes.cases.insert(case.number, case.clone());
    }

    /// One line of a case's transcript and history.
    pub async fn case_line(&self, number: u64, line: u32) -> Result<Option<CaseLog>, StoreError> {
        match self.writes.case_logs.get(&(number, line)) {
            Some(log) => Ok(Some(log.clone())),
            None => self.step.case_line(number, line).await,
        }
    }

    /// Adds line `line` to a case's transcript and history.
    pub fn append_case_line(&mut self, number: u64, line: u32, log: CaseLog) {
        self.writes.case_logs.insert((number, line), log);
    }

    /// The open case (`C-…`) of a user account.
    pub async fn open_case_of(&self, account: &str) -> Result<Option<String>, StoreError> {
        match self.writes.user_cases.get(account) {
            Some(case) => Ok(case.clone()),
            None => self.step.open_case_of(account).await,
        }
    }

    /// Sets (`Some`) or clears (`None`) the open case of a user account.
    pub fn set_open_case(&mut self, account: &str, case: Option<String>) {
        self.writes.user_cases.insert(account.to_string(), case);
    }

    /// The cases an operator account holds, in number order.
    pub async fn held_cases(&self, account: &str) -> Result<Vec<u64>, StoreError> {
        let mut held: BTreeSet<u64> = self.step.held_cases(account).await?.into_iter().collect();
        let from = (account.to_string(), 0);
        for ((a, number), holds) in self.writes.held.range(from..) {
            if a != account {
                break;
            }
            match holds {
                true => held.insert(*number),
                false => held.remove(number),
            };
        }
        Ok(held.into_iter().collect())
    }

    /// Records that an operator account holds (`true`) or no longer holds a case.
    pub fn set_held(&mut self, account: &str, number: u64, holds: bool) {
        self.writes
            .held
            .insert((account.to_string(), number), holds);
    }

    /// The waiting queue, in order.
    pub async fn waiting(&self) -> Result<Vec<QueueEntry>, StoreError> {
        let mut queue: BTreeSet<QueueEntry> = self.step.waiting().await?.into_iter().collect();
        for (entry, waiting) in &self.writes.queue {
            match waiting {
                true => queue.insert(*entry),
                false => queue.remove(entry),
            };
        }
        Ok(queue.into_iter().collect())
    }

    /// Puts a case in (`true`) or takes it out of the waiting queue.
    pub fn set_waiting(&mut self, entry: QueueEntry, waiting: bool) {
        self.writes.queue.insert(entry, waiting);
    }

    /// Cases kept for account managers, by number.
    pub async fn reserved(&self) -> Result<Vec<(u64, Reserved)>, StoreError> {
        let mut all: std::collections::BTreeMap<u64, Reserved> =
            self.step.reserved().await?.into_iter().collect();
        for (number, reserved) in &self.writes.reserved {
            match reserved {
                Some(r) => all.insert(*number, r.clone()),
                None => all.remove(number),
            };
        }
        Ok(all.into_iter().collect())
    }

    /// Keeps a case for its account manager (`Some`) or gives it to its team (`None`).
    pub fn set_reserved(&mut self, number: u64, reserved: Option<Reserved>) {
        self.writes.reserved.insert(number, reserved);
    }

    /// The case a message stands for.
    pub async fn case_of_message(&self, reference: &str) -> Result<Option<String>, StoreError> {
        match self.writes.case_messages.get(reference) {
            Some(case) => Ok(Some(case.clone())),
            None => self.step.case_of_message(reference).await,
        }
    }

    // --- Questions ---

    /// How often an unanswered question was asked.
    pub async fn unanswered(&self, question: &str) -> Result<Option<u64>, StoreError> {
        match self.writes.unanswered.get(question) {
            Some(n) => Ok(Some(*n)),
            None => self.step.unanswered(question).await,
        }
    }

    /// Sets how often an unanswered question was asked.
    pub fn set_unanswered(&mut self, question: &str, count: u64) {
        self.writes.unanswered.insert(question.to_string(), count);
    }

    // --- Messages and events ---

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
            step: self.step,
            writes: self.writes,
            source: self.source,
            inbox_seq: self.inbox_seq,
            sends: self.sends,
            events: self.events,
        }
    }
}

#[cfg(test)]
impl Changes {
    /// A step on an empty in-memory store, for tests.
    pub(crate) async fn scratch() -> Changes {
        let store = super::Store::memory();
        Changes::new(
            store.begin_step("test").await.unwrap(),
            test_now(),
            "test".into(),
            None,
        )
    }
}

#[cfg(test)]
fn test_now() -> DateTime<FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00+08:00").unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::backend::Commit;
    use crate::store::Store;

    fn conversation(key: &str, name: &str) -> Conversation {
        serde_json::from_value(serde_json::json!({
            "key": key, "platform": "web", "chat": "u1", "user": "u1", "name": name, "group": false,
            "lang": "zh", "updated_at": "2026-11-26T10:00:00+08:00",
        }))
        .unwrap()
    }

    async fn store_conversation(store: &Store, c: &Conversation) {
        let mut commit = Commit::default();
        commit.writes.conversations.insert(c.key.clone(), c.clone());
        let step = store.begin_step(&c.key).await.unwrap();
        step.commit(commit).await.unwrap();
    }

    async fn step(store: &Store) -> Changes {
        Changes::new(
            store.begin_step("web:u1").await.unwrap(),
            test_now(),
            "test".into(),
            None,
        )
    }

    #[tokio::test]
    async fn a_known_copy_is_used_only_while_the_record_is_unchanged() {
        let store = Store::memory();
        store_conversation(&store, &conversation("web:u1", "stored")).await;
        let known = store.conversation("web:u1").await.unwrap().unwrap();

        // Unchanged: the known copy is taken as is (it differs from the record only to show that).
        let mut copy = known.clone();
        copy.value.name = "known".into();
        let ch = step(&store).await;
        let got = ch
            .conversation_known("web:u1", Some(copy))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.name, "known");
        drop(ch);
        // Changed since: the stored record is read.
        store_conversation(&store, &conversation("web:u1", "newer")).await;
        let mut ch = step(&store).await;
        let got = ch
            .conversation_known("web:u1", Some(known.clone()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.name, "newer");
        // The step's own write wins over both.
        ch.save_conversation(conversation("web:u1", "written"));
        let got = ch
            .conversation_known("web:u1", Some(known))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.name, "written");
    }

    #[tokio::test]
    async fn reads_see_the_steps_own_writes_and_removals() {
        let store = Store::memory();
        let entry = |number| QueueEntry {
            priority: 1,
            queued_ms: number as i64,
            number,
        };
        let mut commit = Commit::default();
        commit.writes.queue.insert(entry(1001), true);
        commit.writes.queue.insert(entry(1002), true);
        commit.writes.held.insert(("op".into(), 1003), true);
        store
            .begin_step("x")
            .await
            .unwrap()
            .commit(commit)
            .await
            .unwrap();

        let mut ch = step(&store).await;
        ch.set_waiting(entry(1001), false);
        ch.set_waiting(entry(1004), true);
        ch.set_held("op", 1003, false);
        ch.set_held("op", 1005, true);
        ch.set_held("op2", 1006, true);
        let waiting: Vec<u64> = ch
            .waiting()
            .await
            .unwrap()
            .iter()
            .map(|e| e.number)
            .collect();
        assert_eq!(waiting, vec![1002, 1004]);
        assert_eq!(ch.held_cases("op").await.unwrap(), vec![1005]);
        drop(ch);
        // Nothing reached the store without a commit.
        assert_eq!(store.waiting().await.unwrap().len(), 2);
        let ch = step(&store).await;
        assert_eq!(ch.held_cases("op").await.unwrap(), vec![1003]);
    }
}
