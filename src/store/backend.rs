//! The storage interface: what the engine, the cases and the outbox need from a store, in their own words.
//! Two backends implement it: [`SledStore`](super::sled::SledStore) (sled and a write-ahead log on disk, the
//! default) and [`MemoryStore`](super::memory::MemoryStore) (the same rules in memory, for tests).
//!
//! A handling step begins with [`Backend::begin_step`], reads through [`Changes`](super::changes::Changes) and
//! stores everything it changed with one [`Step::commit`]: nothing of a step is stored unless all of it is. A
//! commit returns a [`Ticket`]; [`Backend::durable`] resolves once the ticket survives a crash. Outbox items are
//! delivered by whichever sender holds their lease ([`Backend::claim_outbox`], [`OUTBOX_LEASE`]).

use std::collections::BTreeMap;
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

/// What a commit stored: its place in the store's order and the sequence numbers the store gave its outbox
/// items (in the order of [`Commit::outbox`]).
#[derive(Debug, Clone, Default)]
pub struct Stored {
    /// Durable once [`Backend::durable`] resolves for it.
    pub ticket: Ticket,
    /// The outbox items' sequence numbers.
    pub outbox_seqs: Vec<u64>,
}

/// How long an outbox item stays with the sender that claimed it (or whose step queued it) unless renewed;
/// after that another sender may take it over.
pub const OUTBOX_LEASE: Duration = Duration::from_secs(30);

/// One handling step: its reads see the state as it was when the step began plus nothing of concurrent steps,
/// and [`Step::commit`] stores all of its changes at once. Dropping a step without committing changes nothing.
///
/// Steps of one conversation run one at a time, in the order they began ([`Backend::begin_step`]). Whether
/// steps of different conversations run at once is the backend's choice: the embedded backends, which one
/// process owns, run one step at a time; a backend shared by several processes runs each step in a transaction
/// of its own and fails a step that collided with another with [`StoreError::Conflict`], to be run again.
#[async_trait]
pub trait Step: Send + Sync {
    /// A conversation, with the stamp of its stored form.
    async fn conversation(&self, key: &str) -> Result<Option<Known<Conversation>>, StoreError>;

    /// `None` when the conversation is still stored exactly as `known` was read; else what it is now.
    async fn conversation_if_changed(
        &self,
        key: &str,
        known: &Stamp,
    ) -> Result<Option<Option<Conversation>>, StoreError>;

    /// A conversation's recent lines, in slot order.
    async fn recent_lines(&self, conversation: &str)
        -> Result<Vec<(RecentSlot, Line)>, StoreError>;

    /// A case.
    async fn case(&self, number: u64) -> Result<Option<CaseRecord>, StoreError>;

    /// One line of a case's transcript and history.
    async fn case_line(&self, number: u64, line: u32) -> Result<Option<CaseLog>, StoreError>;

    /// The next case number (1001, 1002, ...); never handed out twice, even when the step fails.
    async fn next_case_number(&self) -> Result<u64, StoreError>;

    /// The open case (`C-…`) of a user account.
    async fn open_case_of(&self, account: &str) -> Result<Option<String>, StoreError>;

    /// The cases an operator account holds, by number.
    async fn held_cases(&self, account: &str) -> Result<Vec<u64>, StoreError>;

    /// The waiting queue, in order.
    async fn waiting(&self) -> Result<Vec<QueueEntry>, StoreError>;

    /// Cases kept for account managers, by number.
    async fn reserved(&self) -> Result<Vec<(u64, Reserved)>, StoreError>;

    /// The case a message stands for (see [`Writes::case_messages`]).
    async fn case_of_message(&self, reference: &str) -> Result<Option<String>, StoreError>;

    /// How often an unanswered question was asked.
    async fn unanswered(&self, question: &str) -> Result<Option<u64>, StoreError>;

    /// The oldest message of conversation `key` stored before arrival number `seq` and not handled yet, when
    /// another process stored it: a conversation's messages are handled in arrival order even when they
    /// reached different processes.
    async fn earlier_unhandled(
        &self,
        key: &str,
        seq: u64,
    ) -> Result<Option<StoredInbound>, StoreError>;

    /// Stores the step's changes at once and ends it. The outbox items are leased to this process for
    /// [`OUTBOX_LEASE`]. A handled inbound message that is no longer stored (another process handled it)
    /// fails the commit with [`StoreError::Handled`] and stores nothing.
    async fn commit(self: Box<Self>, commit: Commit) -> Result<Stored, StoreError>;
}

/// A store the engine runs on.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    // --- Steps ---

    /// Begins a step for the conversation `key` (waiting while another step of it runs).
    async fn begin_step(&self, key: &str) -> Result<Box<dyn Step>, StoreError>;

    /// Waits until a commit (and every one before it) survives a crash.
    async fn durable(&self, ticket: Ticket) -> Result<(), StoreError>;

    // --- Reads outside a step (views, reports) ---

    /// A conversation, with the stamp of its stored form (a step may take it as is while it is unchanged:
    /// [`Step::conversation_if_changed`]).
    async fn conversation(&self, key: &str) -> Result<Option<Known<Conversation>>, StoreError>;

    /// A conversation's recent lines, in slot order.
    async fn recent_lines(&self, conversation: &str)
        -> Result<Vec<(RecentSlot, Line)>, StoreError>;

    /// A case.
    async fn case(&self, number: u64) -> Result<Option<CaseRecord>, StoreError>;

    /// Every line of a case's transcript and history, in order.
    async fn case_lines(&self, number: u64) -> Result<Vec<CaseLog>, StoreError>;

    /// The waiting queue, in order.
    async fn waiting(&self) -> Result<Vec<QueueEntry>, StoreError>;

    /// Cases kept for account managers, by number.
    async fn reserved(&self) -> Result<Vec<(u64, Reserved)>, StoreError>;

    /// The case a message stands for (see [`Writes::case_messages`]).
    async fn case_of_message(&self, reference: &str) -> Result<Option<String>, StoreError>;

    /// Records that a delivered message (by its platform id) stands for a case; durable with the next commit.
    async fn remember_case_message(&self, reference: &str, case: &str) -> Result<(), StoreError>;

    // --- Inbound messages ---

    /// Whether a platform message was stored before (redeliveries are handled once).
    async fn seen(&self, platform: &str, id: &str) -> Result<bool, StoreError>;

    /// Stores a received message and marks its platform id as seen, at once, giving it the next arrival
    /// sequence number (`stored.seq` is ignored); `None` (and nothing stored) when the id was seen already.
    async fn store_inbound(
        &self,
        stored: &StoredInbound,
    ) -> Result<Option<(u64, Ticket)>, StoreError>;

    /// Messages stored but not handled yet, in arrival order.
    async fn unhandled(&self) -> Result<Vec<StoredInbound>, StoreError>;

    /// Messages stored more than `older_than` ago and still not handled, in arrival order: on a store shared by
    /// several processes, those a stopped process had accepted. The embedded backends have none (the one
    /// process hands everything it stored to its steps).
    async fn stalled_inbound(&self, older_than: Duration)
        -> Result<Vec<StoredInbound>, StoreError>;

    // --- Outbox ---

    /// Claims for this process the undelivered items that no live lease holds (their sender stopped), until
    /// [`OUTBOX_LEASE`] has passed; in order.
    async fn claim_outbox(&self) -> Result<Vec<OutboxRecord>, StoreError>;

    /// Whether an undelivered item of the same chat (`order_key`) with a lower number is held by another
    /// sender: its chat's later items wait for it, so that a chat's messages go out in order across processes.
    async fn earlier_undelivered(&self, order_key: &str, seq: u64) -> Result<bool, StoreError>;

    /// Extends the leases of every item this process holds by [`OUTBOX_LEASE`] from now.
    async fn renew_outbox(&self) -> Result<(), StoreError>;

    /// Gives up every lease this process holds (at shutdown): another process may take the items at once.
    async fn release_outbox(&self) -> Result<(), StoreError>;

    /// Removes an item that was delivered, given up or dropped (durable with the next commit).
    async fn complete_outbox(&self, seq: u64) -> Result<(), StoreError>;

    /// Replaces a stored item (`outbox retry` gives it a fresh give-up time).
    async fn update_outbox(&self, record: &OutboxRecord) -> Result<(), StoreError>;

    /// Every undelivered item, in order, claimed or not.
    async fn outbox(&self) -> Result<Vec<OutboxRecord>, StoreError>;

    // --- Scans for `cases`, `stats` and `outbox` ---

    /// Every conversation.
    async fn conversations(&self) -> Result<Vec<Conversation>, StoreError>;

    /// Every case, by number.
    async fn cases(&self) -> Result<Vec<CaseRecord>, StoreError>;

    /// Every unanswered question with its count.
    async fn unanswered_questions(&self) -> Result<Vec<(String, u64)>, StoreError>;

    // --- Case events between processes ---

    /// Passes a committed step's case events to the other processes sharing the store (the embedded stores
    /// have none).
    async fn publish_events(&self, events: &[supportbot_chat::CaseEvent])
        -> Result<(), StoreError>;

    /// The case events other processes publish, as they come (`None` for a store only this process uses).
    fn other_processes_events(
        &self,
    ) -> Option<tokio::sync::mpsc::Receiver<supportbot_chat::CaseEvent>>;

    /// Mailboxes of web pages that every process sharing the store reads (`None` for a store only this
    /// process uses: the web channel then keeps its pages' history in its data directory).
    fn page_mail(&self) -> Option<std::sync::Arc<dyn supportbot_chat::PageMail>> {
        None
    }

    /// Files uploaded in the web chat, kept where every process sharing the store reads them (`None` for a
    /// store only this process uses: the web channel then keeps uploads in its data directory).
    fn page_files(&self) -> Option<std::sync::Arc<dyn supportbot_chat::PageFiles>> {
        None
    }

    // --- Single receivers ---

    /// Waits until this process leads `role` (a receiver that must run once across the processes sharing the
    /// store); the lead ends when dropped, or is lost when the store can no longer vouch for it.
    async fn lead(&self, role: &str) -> Result<supportbot_chat::Lead, StoreError>;

    // --- Health ---

    /// What failed once a write or sync has failed (the store then accepts nothing more).
    fn fault(&self) -> Option<String>;

    /// Makes everything durable now (at shutdown and after offline changes).
    async fn flush(&self) -> Result<(), StoreError>;
}
