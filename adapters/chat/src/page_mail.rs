//! Mailboxes of web pages in a store that several processes share: a visitor's or an inbox operator's page may
//! be connected to any process, so every message for it is numbered in its mailbox, stored, and announced to
//! every process, which pushes it to the pages it serves. The key chat sessions are signed with and the inbox's
//! sign-ins are kept there too. The files visitors upload are kept in the same store ([`PageFiles`]), so that a
//! link to one works on every process. The store implements [`PageMail`] and [`PageFiles`]; the web channel uses
//! them. The embedded stores have neither: their one process keeps its pages' history, sign-ins and uploads
//! itself.

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::{AttachmentKind, Shutdown};

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

/// An uploaded file's record in a shared store: everything of it but its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageFile {
    /// Its id in `/files/{id}`: 32 hex digits.
    pub id: String,
    /// The file name as the visitor sent it (cleaned).
    pub name: String,
    /// A picture or any other file.
    pub kind: AttachmentKind,
    /// Size in bytes.
    pub size: u64,
    /// The `Content-Type` it is served with.
    pub content_type: String,
    /// The chat session that uploaded it (its quota), when known.
    pub session: Option<String>,
    /// Unix seconds since when no open case has referred to it (unset while one does, and before the first
    /// sweep after the upload).
    pub unreferenced_since: Option<u64>,
}

/// What uploads may take in a shared store: per chat session, and all together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileQuota {
    /// Bytes one session may have stored.
    pub session_bytes: u64,
    /// Files one session may have stored.
    pub session_files: u64,
    /// Bytes all uploads together may take.
    pub total_bytes: u64,
}

/// What uploads take in a shared store now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileUsage {
    /// Bytes the session has stored.
    pub session_bytes: u64,
    /// Files the session has stored.
    pub session_files: u64,
    /// Bytes all uploads take together.
    pub total_bytes: u64,
}

/// What became of a file offered to [`PageFiles::keep_file`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKept {
    /// Stored (or stored already under its id); durable.
    Kept,
    /// Not stored: its session would have more than its quota.
    SessionFull,
    /// Not stored: all uploads together would take more than their limit.
    AllFull,
}

/// What one sweep of the shared uploads did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileSweep {
    /// Files found unreferenced for the first time (their retention starts now).
    pub marked: u64,
    /// Files referenced again (their retention no longer runs).
    pub unmarked: u64,
    /// Files deleted after being unreferenced for the retention time.
    pub deleted: u64,
}

/// Uploaded files in a store that every process serving the pages shares.
#[async_trait]
pub trait PageFiles: Send + Sync {
    /// Stores `file` with its `bytes`, when `quota` (if given) leaves room for it counted with everything
    /// stored already by every process. Returns once it is durable. A file whose id is stored already is left
    /// as it is ([`FileKept::Kept`]), so storing it again is harmless.
    async fn keep_file(
        &self,
        file: &PageFile,
        bytes: &[u8],
        quota: Option<&FileQuota>,
    ) -> Result<FileKept, MailError>;

    /// A stored file with its bytes.
    async fn file(&self, id: &str) -> Result<Option<(PageFile, Vec<u8>)>, MailError>;

    /// What `session`'s uploads and all uploads take now.
    async fn file_usage(&self, session: &str) -> Result<FileUsage, MailError>;

    /// One sweep, which any process may run at any time: the files in `referenced` (ids an open case refers
    /// to) are unmarked, every other file not marked yet is marked unreferenced from now, and the files marked
    /// `retention` ago or longer (and not in `referenced`) are deleted.
    async fn sweep_files(
        &self,
        referenced: &[String],
        retention: Duration,
    ) -> Result<FileSweep, MailError>;
}
