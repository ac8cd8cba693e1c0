//! The storage interface on a store that one process owns (sled, memory): every step runs under one lock, the
//! backend's reads are plain function calls, and sequence numbers and outbox leases are kept in memory, which is
//! enough because no other process can use the same data.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::OwnedMutexGuard;

use super::backend::{Backend, Commit, Known, QueueEntry, RecentSlot, Stamp, Step, Stored, Ticket};
use super::records::{
    CaseLog, CaseRecord, Conversation, Line, OutboxRecord, Reserved, StoredInbound,
};
use super::StoreError;

/// What the embedded backends keep beside their data: the step lock, the next sequence numbers, and which
/// outbox items this process has taken on.
#[derive(Default)]
pub(super) struct Local {
    steps: Arc<tokio::sync::Mutex<()>>,
    counters: Mutex<Counters>,
    /// Outbox items handed to this process's sender (by a commit or a claim) and not completed yet.
    leased: Mutex<HashSet<u64>>,
}

#[derive(Default)]
struct Counters {
    /// Next outbox sequence number, read from the store on first use.
    outbox: Option<u64>,
    /// Next inbound sequence number, read from the store on first use.
    inbound: Option<u64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A store one process owns, with synchronous reads (see the module docs). [`Backend`] is implemented for
/// every such store.
#[async_trait]
pub(super) trait Embedded: Clone + Send + Sync + 'static {
    /// The step lock, counters and leases.
    fn local(&self) -> &Local;
    /// Stores a step's changes at once (its outbox items carry their sequence numbers already).
    fn commit(&self, commit: Commit) -> Result<Ticket, StoreError>;
    /// Waits until a commit (and every one before it) survives a crash.
    async fn durable(&self, ticket: Ticket) -> Result<(), StoreError>;
    /// See [`Step::conversation`].
    fn conversation(&self, key: &str) -> Result<Option<Known<Conversation>>, StoreError>;
    /// See [`Step::conversation_if_changed`].
    fn conversation_if_changed(
        &self,
        key: &str,
        known: &Stamp,
    ) -> Result<Option<Option<Conversation>>, StoreError>;
    /// See [`Step::recent_lines`].
    fn recent_lines(&self, conversation: &str) -> Result<Vec<(RecentSlot, Line)>, StoreError>;
    /// See [`Step::case`].
    fn case(&self, number: u64) -> Result<Option<CaseRecord>, StoreError>;
    /// See [`Step::case_line`].
    fn case_line(&self, number: u64, line: u32) -> Result<Option<CaseLog>, StoreError>;
    /// See [`Backend::case_lines`].
    fn case_lines(&self, number: u64) -> Result<Vec<CaseLog>, StoreError>;
    /// See [`Step::next_case_number`].
    fn next_case_number(&self) -> Result<u64, StoreError>;
    /// See [`Step::open_case_of`].
    fn open_case_of(&self, account: &str) -> Result<Option<String>, StoreError>;
    /// See [`Step::held_cases`].
    fn held_cases(&self, account: &str) -> Result<Vec<u64>, StoreError>;
    /// See [`Step::waiting`].
    fn waiting(&self) -> Result<Vec<QueueEntry>, StoreError>;
    /// See [`Step::reserved`].
    fn reserved(&self) -> Result<Vec<(u64, Reserved)>, StoreError>;
    /// See [`Step::case_of_message`].
    fn case_of_message(&self, reference: &str) -> Result<Option<String>, StoreError>;
    /// See [`Backend::remember_case_message`].
    fn remember_case_message(&self, reference: &str, case: &str) -> Result<(), StoreError>;
    /// See [`Step::unanswered`].
    fn unanswered(&self, question: &str) -> Result<Option<u64>, StoreError>;
    /// See [`Backend::seen`].
    fn seen(&self, platform: &str, id: &str) -> Result<bool, StoreError>;
    /// Stores a received message (its sequence number set) and its dedupe mark; `None` when seen already.
    fn store_inbound(&self, stored: &StoredInbound) -> Result<Option<Ticket>, StoreError>;
    /// See [`Backend::unhandled`].
    fn unhandled(&self) -> Result<Vec<StoredInbound>, StoreError>;
    /// Removes an outbox item.
    fn remove_outbox(&self, seq: u64) -> Result<(), StoreError>;
    /// See [`Backend::update_outbox`].
    fn update_outbox(&self, record: &OutboxRecord) -> Result<(), StoreError>;
    /// See [`Backend::outbox`].
    fn outbox(&self) -> Result<Vec<OutboxRecord>, StoreError>;
    /// See [`Backend::conversations`].
    fn conversations(&self) -> Result<Vec<Conversation>, StoreError>;
    /// See [`Backend::cases`].
    fn cases(&self) -> Result<Vec<CaseRecord>, StoreError>;
    /// See [`Backend::unanswered_questions`].
    fn unanswered_questions(&self) -> Result<Vec<(String, u64)>, StoreError>;
    /// See [`Backend::fault`].
    fn fault(&self) -> Option<String>;
    /// See [`Backend::flush`].
    fn flush(&self) -> Result<(), StoreError>;
}

/// A step on an embedded store: the store and the step lock.
struct EmbeddedStep<T> {
    store: T,
    _steps: OwnedMutexGuard<()>,
}

#[async_trait]
impl<T: Embedded> Step for EmbeddedStep<T> {
    async fn conversation(&self, key: &str) -> Result<Option<Known<Conversation>>, StoreError> {
        self.store.conversation(key)
    }

    async fn conversation_if_changed(
        &self,
        key: &str,
        known: &Stamp,
    ) -> Result<Option<Option<Conversation>>, StoreError> {
        self.store.conversation_if_changed(key, known)
    }

    async fn recent_lines(
        &self,
        conversation: &str,
    ) -> Result<Vec<(RecentSlot, Line)>, StoreError> {
        self.store.recent_lines(conversation)
    }

    async fn case(&self, number: u64) -> Result<Option<CaseRecord>, StoreError> {
        self.store.case(number)
    }

    async fn case_line(&self, number: u64, line: u32) -> Result<Option<CaseLog>, StoreError> {
        self.store.case_line(number, line)
    }

    async fn next_case_number(&self) -> Result<u64, StoreError> {
        self.store.next_case_number()
    }

    async fn open_case_of(&self, account: &str) -> Result<Option<String>, StoreError> {
        self.store.open_case_of(account)
    }

    async fn held_cases(&self, account: &str) -> Result<Vec<u64>, StoreError> {
        self.store.held_cases(account)
    }

    async fn waiting(&self) -> Result<Vec<QueueEntry>, StoreError> {
        self.store.waiting()
    }

    async fn reserved(&self) -> Result<Vec<(u64, Reserved)>, StoreError> {
        self.store.reserved()
    }

    async fn case_of_message(&self, reference: &str) -> Result<Option<String>, StoreError> {
        self.store.case_of_message(reference)
    }

    async fn unanswered(&self, question: &str) -> Result<Option<u64>, StoreError> {
        self.store.unanswered(question)
    }

    async fn earlier_unhandled(
        &self,
        _key: &str,
        _seq: u64,
    ) -> Result<Option<StoredInbound>, StoreError> {
        // No other process stores messages here; this one hands a conversation's messages to its steps in
        // arrival order itself.
        Ok(None)
    }

    async fn commit(self: Box<Self>, mut commit: Commit) -> Result<Stored, StoreError> {
        let local = self.store.local();
        let first = {
            let mut counters = lock(&local.counters);
            let next = match counters.outbox {
                Some(next) => next,
                None => self.store.outbox()?.last().map_or(0, |r| r.seq + 1),
            };
            counters.outbox = Some(next + commit.outbox.len() as u64);
            next
        };
        let outbox_seqs: Vec<u64> = (first..first + commit.outbox.len() as u64).collect();
        for (record, seq) in commit.outbox.iter_mut().zip(&outbox_seqs) {
            record.seq = *seq;
        }
        let ticket = self.store.commit(commit)?;
        lock(&local.leased).extend(outbox_seqs.iter().copied());
        Ok(Stored {
            ticket,
            outbox_seqs,
        })
    }
}

#[async_trait]
impl<T: Embedded> Backend for T {
    async fn begin_step(&self, _key: &str) -> Result<Box<dyn Step>, StoreError> {
        let guard = self.local().steps.clone().lock_owned().await;
        Ok(Box::new(EmbeddedStep {
            store: self.clone(),
            _steps: guard,
        }))
    }

    async fn durable(&self, ticket: Ticket) -> Result<(), StoreError> {
        Embedded::durable(self, ticket).await
    }

    async fn conversation(&self, key: &str) -> Result<Option<Known<Conversation>>, StoreError> {
        Embedded::conversation(self, key)
    }

    async fn recent_lines(
        &self,
        conversation: &str,
    ) -> Result<Vec<(RecentSlot, Line)>, StoreError> {
        Embedded::recent_lines(self, conversation)
    }

    async fn case(&self, number: u64) -> Result<Option<CaseRecord>, StoreError> {
        Embedded::case(self, number)
    }

    async fn case_lines(&self, number: u64) -> Result<Vec<CaseLog>, StoreError> {
        Embedded::case_lines(self, number)
    }

    async fn waiting(&self) -> Result<Vec<QueueEntry>, StoreError> {
        Embedded::waiting(self)
    }

    async fn reserved(&self) -> Result<Vec<(u64, Reserved)>, StoreError> {
        Embedded::reserved(self)
    }

    async fn case_of_message(&self, reference: &str) -> Result<Option<String>, StoreError> {
        Embedded::case_of_message(self, reference)
    }

    async fn remember_case_message(&self, reference: &str, case: &str) -> Result<(), StoreError> {
        Embedded::remember_case_message(self, reference, case)
    }

    async fn seen(&self, platform: &str, id: &str) -> Result<bool, StoreError> {
        Embedded::seen(self, platform, id)
    }

    async fn store_inbound(
        &self,
        stored: &StoredInbound,
    ) -> Result<Option<(u64, Ticket)>, StoreError> {
        let mut counters = lock(&self.local().counters);
        let seq = match counters.inbound {
            Some(next) => next,
            None => Embedded::unhandled(self)?.last().map_or(0, |m| m.seq + 1),
        };
        let mut stored = stored.clone();
        stored.seq = seq;
        let ticket = Embedded::store_inbound(self, &stored)?;
        if ticket.is_some() {
            counters.inbound = Some(seq + 1);
        }
        Ok(ticket.map(|ticket| (seq, ticket)))
    }

    async fn unhandled(&self) -> Result<Vec<StoredInbound>, StoreError> {
        Embedded::unhandled(self)
    }

    async fn stalled_inbound(
        &self,
        _older_than: std::time::Duration,
    ) -> Result<Vec<StoredInbound>, StoreError> {
        Ok(Vec::new())
    }

    async fn claim_outbox(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut leased = lock(&self.local().leased);
        let mut claimed = Embedded::outbox(self)?;
        claimed.retain(|record| leased.insert(record.seq));
        Ok(claimed)
    }

    async fn earlier_undelivered(&self, _order_key: &str, _seq: u64) -> Result<bool, StoreError> {
        // Every item is this process's, and its lanes keep each chat's order.
        Ok(false)
    }

    async fn renew_outbox(&self) -> Result<(), StoreError> {
        // Nobody else can take this process's items: nothing to renew.
        Ok(())
    }

    async fn complete_outbox(&self, seq: u64) -> Result<(), StoreError> {
        Embedded::remove_outbox(self, seq)?;
        lock(&self.local().leased).remove(&seq);
        Ok(())
    }

    async fn update_outbox(&self, record: &OutboxRecord) -> Result<(), StoreError> {
        Embedded::update_outbox(self, record)
    }

    async fn outbox(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        Embedded::outbox(self)
    }

    async fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        Embedded::conversations(self)
    }

    async fn cases(&self) -> Result<Vec<CaseRecord>, StoreError> {
        Embedded::cases(self)
    }

    async fn unanswered_questions(&self) -> Result<Vec<(String, u64)>, StoreError> {
        Embedded::unanswered_questions(self)
    }

    async fn publish_events(
        &self,
        _events: &[supportbot_chat::CaseEvent],
    ) -> Result<(), StoreError> {
        Ok(())
    }

    fn other_processes_events(
        &self,
    ) -> Option<tokio::sync::mpsc::Receiver<supportbot_chat::CaseEvent>> {
        None
    }

    async fn lead(&self, _role: &str) -> Result<supportbot_chat::Lead, StoreError> {
        // The only process on this store.
        Ok(supportbot_chat::Lead::sole())
    }

    fn fault(&self) -> Option<String> {
        Embedded::fault(self)
    }

    async fn flush(&self) -> Result<(), StoreError> {
        Embedded::flush(self)
    }
}
