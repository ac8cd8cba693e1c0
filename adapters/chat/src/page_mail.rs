//! Mailboxes of web pages in a store that several processes share: a visitor's or an inbox operator's page may
//! be connected to any process, so every message for it is numbered in its mailbox, stored, and announced to
//! every process, which pushes it to the pages it serves. The key chat sessions are signed with and the inbox's
//! sign-ins are kept there too. The store implements [`PageMail`]; the web channel uses it. The embedded stores
//! have no such mailboxes: their one process keeps its pages' history and sign-ins itself.

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::Shutdown;

/// One stored message of a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// The mailbox (one page's owner: a chat session, an inbox operator).
    pub mailbox: String,
    /// Its number: increasing within the mailbox in the order the messages were stored.
    pub n: u64,
    /// What the page is sent (JSON).
    pub body: String,
}

/// What the listener reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailEvent {
    /// Listening (again): announcements made while not listening were missed, so a page attached before this
    /// must read its mailbox again.
    Listening,
    /// A letter posted live by some process (this one included), in the order of its mailbox.
    Posted(Letter),
    /// A passing notice for a mailbox's pages (stored nowhere): its mailbox and body.
    Passing(String, String),
}

/// A store's failure, in its words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MailError(pub String);

/// Mailboxes of web pages in a shared store.
#[async_trait]
pub trait PageMail: Send + Sync {
    /// Stores `body` in `mailbox` after every earlier letter, keeps the last `keep` letters of the mailbox, and,
    /// when `live`, announces it to every process. Returns its number once it is durable.
    async fn post(
        &self,
        mailbox: &str,
        body: &str,
        live: bool,
        keep: usize,
    ) -> Result<u64, MailError>;

    /// Tells every process to pass `body` to the pages of `mailbox` that are open now, storing nothing.
    async fn announce(&self, mailbox: &str, body: &str) -> Result<(), MailError>;

    /// The last `limit` letters of `mailbox`, oldest first.
    async fn recent(&self, mailbox: &str, limit: usize) -> Result<Vec<Letter>, MailError>;

    /// The live letters of every process as they are posted, from a listening connection opened again when it
    /// fails (each time with [`MailEvent::Listening`] first), until `shutdown` or the receiver is dropped.
    fn listen(&self, shutdown: Shutdown) -> mpsc::Receiver<MailEvent>;

    /// The key every process signs the pages' sessions with: the stored one, or `proposed` (stored now) when
    /// there is none yet.
    async fn session_key(&self, proposed: &str) -> Result<String, MailError>;

    /// Stores an inbox sign-in (`record`, under the digest of its cookie) until `expires_ms` (unix ms).
    async fn save_sign_in(&self, key: &str, record: &str, expires_ms: u64)
        -> Result<(), MailError>;

    /// The record of a sign-in that has neither expired nor ended.
    async fn find_sign_in(&self, key: &str) -> Result<Option<String>, MailError>;

    /// Ends a sign-in.
    async fn end_sign_in(&self, key: &str) -> Result<(), MailError>;

    /// Removes the mailboxes that got no letter for longer than `age`, and the expired sign-ins; returns how
    /// many mailboxes.
    async fn prune(&self, age: Duration) -> Result<u64, MailError>;
}
