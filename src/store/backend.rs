//! The storage interface: what the engine, the cases and the outbox need from a store, in their own words.
//! Two backends implement it: [`SledStore`](super::sled::SledStore) (sled and a write-ahead log on disk, the
//! default) and [`MemoryStore`](super::memory::MemoryStore) (the same rules in memory, for tests).
//!
//! A handling step runs under [`Backend::lock_steps`], reads through [`Changes`](super::changes::Changes) and
//! stores everything it changed with one [`Backend::commit`]: nothing of a step is stored unless all of it is.
//! A commit returns a [`Ticket`]; [`Backend::durable`] resolves once the ticket survives a crash. Outbox items
//! are delivered by whichever sender holds their lease ([`Backend::claim_outbox`]).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_trait::async_trait;

use super::records::{
    CaseLog, CaseRecord, Conversation, Line, OutboxRecord, Reserved, StoredInbound,
};
use super::StoreError;

/// A commit's place in the store's order; durable once [`Backend::durable`] says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Ticket(pub u64);

/// What identifies the stored form of a record read earlier, so that a later read can tell whether it changed
/// without decoding it again (see [`Backend::conversation_if_changed`]).
#[derive(Debug, Clone)]
pub struct Stamp(pub(super) StampKind);

#[derive(Debug, Clone)]
pub(super) enum StampKind {
    /// The stored bytes (sled hands them out without copying).
    Bytes(::sled::IVec),
    /// A version number counted by the backend.
    Version(u64),
}

/// A record with the stamp of the stored form it was decoded from.
#[derive(Debug, Clone)]
pub struct Known<T> {
    /// The stored form.
    pub stamp: Stamp,
    /// The record.
    pub value: T,
}

/// Where a conversation's recent line is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecentSlot {
    /// Slot `n` of the ring of recent lines.
    Ring(u64),
    /// A line stored under its own number by earlier versions (read until a case takes it over).
    Numbered(u64),
}

/// A waiting case's place in the queue: priority (lower first), then when it was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueEntry {
    /// 0 for enterprise customers, higher for others.
    pub priority: u8,
    /// When it was queued (unix ms).
    pub queued_ms: i64,
    /// The case number.
    pub number: u64,
}

/// Everything a step writes, keyed the way the engine looks it up. `None` removes.
#[derive(Debug, Default)]
pub struct Writes {
    /// Conversations by conversation key.
    pub conversations: BTreeMap<String, Conversation>,
    /// Recent lines by conversation key and slot.
    pub recent: BTreeMap<(String, RecentSlot), Option<Line>>,
    /// Cases by number.
    pub cases: BTreeMap<u64, CaseRecord>,
    /// New transcript and history lines by case number and line number.
    pub case_logs: BTreeMap<(u64, u32), CaseLog>,
    /// The open case (`C-…`) of a user account.
    pub user_cases: BTreeMap<String, Option<String>>,
    /// Cases an operator account holds.
    pub held: BTreeMap<(String, u64), bool>,
    /// The waiting queue.
    pub queue: BTreeMap<QueueEntry, bool>,
    /// Cases kept for an account manager.
    pub reserved: BTreeMap<u64, Option<Reserved>>,
    /// Messages standing for a case (an envelope id, or `pm:<platform>:<chat>:<message id>`) → `C-…`.
    pub case_messages: BTreeMap<String, String>,
    /// Unanswered questions and how often they were asked.
    pub unanswered: BTreeMap<String, u64>,
}

/// One step's changes as the store takes them.
#[derive(Debug, Default)]
pub struct Commit {
    /// The state it changed.
    pub writes: Writes,
    /// Outgoing messages it queued (delivered once the commit is durable).
    pub outbox: Vec<OutboxRecord>,
    /// The inbound message it handled (removed with the commit).
    pub handled: Option<u64>,
}

/// Held while a step reads and commits; released on drop.
pub struct StepLock<'a> {
    _held: Box<dyn Held + 'a>,
}

/// Anything a backend holds for a step.
trait Held {}
impl<T> Held for T {}

impl<'a> StepLock<'a> {
    /// Wraps whatever the backend holds for the step (a mutex guard, a transaction).
    pub fn new(held: impl Sized + 'a) -> StepLock<'a> {
        StepLock {
            _held: Box::new(held),
        }
    }
}

/// A store the engine runs on.
///
/// Ordering and isolation: one step runs at a time per [`Backend::lock_steps`] (the embedded backends, which
/// one process owns, hold one lock for every step; a backend shared by several processes gives each step a
/// transaction instead). Steps never read data of another step that is not committed yet.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    // --- Steps ---

    /// Taken around one step's reads and its commit.
    fn lock_steps(&self) -> Result<StepLock<'_>, StoreError>;

    /// Stores a step's changes at once; they are durable when [`Backend::durable`] resolves for the ticket.
    fn commit(&self, commit: Commit) -> Result<Ticket, StoreError>;

    /// Waits until a commit (and every one before it) survives a crash.
    async fn durable(&self, ticket: Ticket) -> Result<(), StoreError>;

    // --- Conversations ---

    /// A conversation, with the stamp of its stored form.
    fn conversation(&self, key: &str) -> Result<Option<Known<Conversation>>, StoreError>;

    /// `None` when the conversation is still stored exactly as `known` was read; else what it is now.
    fn conversation_if_changed(
        &self,
        key: &str,
        known: &Stamp,
    ) -> Result<Option<Option<Conversation>>, StoreError>;

    /// A conversation's recent lines, in slot order.
    fn recent_lines(&self, conversation: &str) -> Result<Vec<(RecentSlot, Line)>, StoreError>;

    // --- Cases ---

    /// A case.
    fn case(&self, number: u64) -> Result<Option<CaseRecord>, StoreError>;

    /// One line of a case's transcript and history.
    fn case_line(&self, number: u64, line: u32) -> Result<Option<CaseLog>, StoreError>;

    /// Every line of a case's transcript and history, in order.
    fn case_lines(&self, number: u64) -> Result<Vec<CaseLog>, StoreError>;

    /// The next case number (1001, 1002, ...); never handed out twice, even when the step that took it fails.
    fn next_case_number(&self) -> Result<u64, StoreError>;

    /// The open case (`C-…`) of a user account.
    fn open_case_of(&self, account: &str) -> Result<Option<String>, StoreError>;

    /// The cases an operator account holds, by number.
    fn held_cases(&self, account: &str) -> Result<Vec<u64>, StoreError>;

    /// The waiting queue, in order.
    fn waiting(&self) -> Result<Vec<QueueEntry>, StoreError>;

    /// Cases kept for account managers, by number.
    fn reserved(&self) -> Result<Vec<(u64, Reserved)>, StoreError>;

    /// The case a message stands for (see [`Writes::case_messages`]).
    fn case_of_message(&self, reference: &str) -> Result<Option<String>, StoreError>;

    /// Records that a delivered message (by its platform id) stands for a case; durable with the next commit.
    fn remember_case_message(&self, reference: &str, case: &str) -> Result<(), StoreError>;

    /// How often an unanswered question was asked.
    fn unanswered(&self, question: &str) -> Result<Option<u64>, StoreError>;

    // --- Inbound messages ---

    /// Whether a platform message was stored before (redeliveries are handled once).
    fn seen(&self, platform: &str, id: &str) -> Result<bool, StoreError>;

    /// Stores a received message and marks its platform id as seen, at once; `None` (and nothing stored) when
    /// the id was seen already.
    fn store_inbound(&self, stored: &StoredInbound) -> Result<Option<Ticket>, StoreError>;

    /// Messages stored but not handled yet, in arrival order.
    fn unhandled(&self) -> Result<Vec<StoredInbound>, StoreError>;

    // --- Outbox ---

    /// Claims the undelivered items no live lease holds, for `owner`, until `lease` has passed; in order.
    fn claim_outbox(&self, owner: &str, lease: Duration) -> Result<Vec<OutboxRecord>, StoreError>;

    /// Removes an item that was delivered, given up or dropped (durable with the next commit).
    fn complete_outbox(&self, seq: u64) -> Result<(), StoreError>;

    /// Replaces a stored item (`outbox retry` gives it a fresh give-up time).
    fn update_outbox(&self, record: &OutboxRecord) -> Result<(), StoreError>;

    /// Every undelivered item, in order, claimed or not.
    fn outbox(&self) -> Result<Vec<OutboxRecord>, StoreError>;

    // --- Scans for `cases`, `stats` and `outbox` ---

    /// Every conversation.
    fn conversations(&self) -> Result<Vec<Conversation>, StoreError>;

    /// Every case, by number.
    fn cases(&self) -> Result<Vec<CaseRecord>, StoreError>;

    /// Every unanswered question with its count.
    fn unanswered_questions(&self) -> Result<Vec<(String, u64)>, StoreError>;

    // --- Health ---

    /// What failed once a write or sync has failed (the store then accepts nothing more).
    fn fault(&self) -> Option<String>;

    /// Makes everything durable now (at shutdown and after offline changes).
    fn flush(&self) -> Result<(), StoreError>;
}

/// Leases of outbox items, for the embedded backends (which one process owns, so they are kept in memory).
#[derive(Default)]
pub(super) struct Leases {
    held: std::sync::Mutex<HashMap<u64, (String, std::time::Instant)>>,
}

impl Leases {
    /// Keeps the items no other live lease holds and leases them to `owner`.
    pub(super) fn claim(
        &self,
        owner: &str,
        lease: Duration,
        items: Vec<OutboxRecord>,
    ) -> Vec<OutboxRecord> {
        let now = std::time::Instant::now();
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let mut claimed = Vec::with_capacity(items.len());
        for item in items {
            let free = match held.get(&item.seq) {
                Some((by, until)) => by == owner || *until <= now,
                None => true,
            };
            if free {
                held.insert(item.seq, (owner.to_string(), now + lease));
                claimed.push(item);
            }
        }
        claimed
    }

    /// Forgets the lease of a completed item.
    pub(super) fn release(&self, seq: u64) {
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&seq);
    }
}
