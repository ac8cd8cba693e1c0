//! Read access to cases for adapters that show them (the web inbox) and the case events they can follow.

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::Attachment;

/// What happened to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseEventKind {
    /// A case was opened.
    Opened,
    /// The user or an operator wrote in the case.
    Message,
    /// An operator took the case.
    Assigned,
    /// An operator released the case back to the queue.
    Released,
    /// The case moved to another team.
    Transferred,
    /// An internal note was added.
    Note,
    /// The case was closed.
    Closed,
    /// The user rated the closed case.
    Rated,
    /// A delivery of this case was given up.
    DeliveryFailed,
}

/// One event of a case, as kept in its history and forwarded to inbox hooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseEvent {
    /// The case number, `C-1001`.
    pub case: String,
    /// What happened.
    pub kind: CaseEventKind,
    /// When, on the engine's clock.
    pub at: DateTime<FixedOffset>,
    /// Who did it: a `platform:id` account, or `bot`.
    pub actor: String,
    /// Display name of the actor.
    #[serde(default)]
    pub actor_name: String,
    /// Text of the message, note, summary or rating.
    #[serde(default)]
    pub text: String,
    /// Files attached to a message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// A row of the queue or case list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSummary {
    /// The case number.
    pub id: String,
    /// `open` (waiting), `assigned` or `closed`.
    pub status: String,
    /// Team the case is routed to.
    pub team: String,
    /// 0 = enterprise (first), 1 = normal.
    pub priority: u8,
    /// `zh` or `en`.
    pub lang: String,
    /// Platform the user writes from.
    pub channel: String,
    /// Display name of the user.
    pub user_name: String,
    /// The operator account holding the case, if any.
    pub assignee: Option<String>,
    /// When the case opened.
    pub opened_at: DateTime<FixedOffset>,
    /// First line of the problem, for the list.
    pub subject: String,
}

/// One line of a case transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseEntry {
    /// When.
    pub at: DateTime<FixedOffset>,
    /// `user`, `operator`, `bot` or `note`.
    pub role: String,
    /// Who (display name).
    pub name: String,
    /// The text.
    pub text: String,
    /// Files attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// Everything the inbox shows about one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseDetail {
    /// The row fields.
    #[serde(flatten)]
    pub summary: CaseSummary,
    /// Error codes found in the user's messages (`554 DT:SPM`).
    pub error_codes: Vec<String>,
    /// FAQ entry ids the matcher would suggest.
    pub suggestions: Vec<String>,
    /// Conversations linked to the case (`platform:chat`), across channels.
    pub conversations: Vec<String>,
    /// Transcript, oldest first.
    pub transcript: Vec<CaseEntry>,
    /// Operator actions and other events, oldest first.
    pub history: Vec<CaseEvent>,
}

/// The core's case store as adapters see it. Operator actions go through the engine as chat commands from
/// the operator's account, so they are checked and recorded in one place.
#[async_trait]
pub trait CaseDirectory: Send + Sync {
    /// Cases in queue order (priority, then age) followed by assigned ones; closed cases only when asked.
    async fn list(&self, include_closed: bool) -> Vec<CaseSummary>;
    /// One case, or `None` for an unknown number.
    async fn get(&self, id: &str) -> Option<CaseDetail>;
    /// Every case event as it happens (for live inbox updates).
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<CaseEvent>;
}
