//! The records the store keeps. Every value is stored as a version byte followed by JSON, so a record layout can
//! change later without misreading old data.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use supportbot_chat::{Attachment, CaseEntry, CaseEvent, Envelope, Inbound};

/// A received message waiting to be handled (removed in the batch that records its handling).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredInbound {
    /// Arrival sequence.
    pub seq: u64,
    /// The message; an oversized text is replaced by an empty one.
    pub inbound: Inbound,
    /// The length (in characters) of a text too long to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oversized: Option<usize>,
    /// The sender was over their message rate when it arrived: it is kept (and added to their case) but not
    /// answered or relayed one by one.
    #[serde(default, skip_serializing_if = "is_false")]
    pub throttled: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// Where the bot can write to: a platform chat, and the conversation it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Platform name.
    pub platform: String,
    /// Chat on that platform.
    pub chat: String,
    /// Conversation key (`platform:chat`, or `platform:chat:user` in groups).
    pub conversation: String,
}

/// One line of a conversation's recent history, copied into a case's transcript when it opens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    /// When.
    #[serde(serialize_with = "super::timestamp::serialize")]
    pub at: DateTime<FixedOffset>,
    /// `user` or `bot`.
    pub role: String,
    /// The text.
    pub text: String,
    /// Files the user attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// The line's number in its conversation (set when stored in the ring of recent lines; lines stored by
    /// earlier versions have it in their key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

/// What the bot is waiting for in a conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Mode {
    /// Nothing in particular: the next message is a question.
    #[default]
    Idle,
    /// Candidate questions were offered as buttons: `(faq id, title)`.
    Choose {
        /// The offered entries and their button labels.
        options: Vec<(String, String)>,
        /// The user's question.
        query: String,
    },
    /// An answer was given with "did this help?" buttons.
    Feedback {
        /// The entry answered.
        faq: String,
        /// The user's question.
        query: String,
    },
    /// A handoff to a human was offered.
    Offer,
    /// Collecting the problem description before opening a case.
    Intake(Intake),
    /// A case was closed: a 1–5 rating is asked.
    Rating {
        /// The closed case.
        case: String,
    },
}

/// The handoff intake: symptom, steps, error message, each skippable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Intake {
    /// 0 = symptom, 1 = steps, 2 = error message.
    pub step: u8,
    /// What happens.
    pub symptom: Option<String>,
    /// What the user did.
    pub steps: Option<String>,
    /// The error shown.
    pub error: Option<String>,
    /// Screenshots and logs sent during intake.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// How a conversation ended up, for the deflection figure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// No FAQ answer (yet).
    #[default]
    None,
    /// The last thing was an FAQ answer not rejected.
    Answered,
    /// A case was opened.
    Handoff,
}

/// One conversation: a private chat, or one user in a group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Conversation {
    /// Conversation key.
    pub key: String,
    /// Where the bot answers.
    pub platform: String,
    /// Chat id.
    pub chat: String,
    /// The user's platform id.
    pub user: String,
    /// The user's display name.
    pub name: String,
    /// Whether the chat is a group.
    pub group: bool,
    /// `zh`, `en` or `ja`.
    pub lang: String,
    /// Set by `/lang`: the language no longer follows the user's messages.
    #[serde(default)]
    pub lang_fixed: bool,
    /// What the bot waits for.
    #[serde(default)]
    pub mode: Mode,
    /// Questions in a row the FAQ could not answer.
    #[serde(default)]
    pub misses: u8,
    /// FAQ category of the last matched question (routes a handoff).
    #[serde(default)]
    pub last_category: Option<String>,
    /// Last FAQ entry answered or offered.
    #[serde(default)]
    pub last_faq: Option<String>,
    /// The open case this conversation belongs to.
    #[serde(default)]
    pub case: Option<String>,
    /// The conversation was linked by quoting a case number it did not open.
    #[serde(default)]
    pub unverified: bool,
    /// The code sent to the case's own chat that verifies this linked conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_code: Option<String>,
    /// Wrong codes sent for the current `verify_code`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub verify_misses: u8,
    /// The user was told to slow down and has not sent a message within their rate since.
    #[serde(default, skip_serializing_if = "is_false")]
    pub slowed: bool,
    /// The last closed case (linked to the next one).
    #[serde(default)]
    pub previous_case: Option<String>,
    /// Whether the user was told their message joined the waiting case.
    #[serde(default)]
    pub acked: bool,
    /// Questions asked.
    #[serde(default)]
    pub asked: u32,
    /// How it ended.
    #[serde(default)]
    pub outcome: Outcome,
    /// Recent lines kept inline by earlier versions (lines now have their own records, see `recent_seq`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent: Vec<Line>,
    /// Number of the next recent line (`rl/` records).
    #[serde(default)]
    pub recent_seq: u64,
    /// Last activity.
    #[serde(serialize_with = "super::timestamp::serialize")]
    pub updated_at: DateTime<FixedOffset>,
}

impl Conversation {
    /// Where the bot writes to this conversation.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            platform: self.platform.clone(),
            chat: self.chat.clone(),
            conversation: self.key.clone(),
        }
    }
}

/// State of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Waiting in the queue.
    Open,
    /// An operator holds it.
    Assigned,
    /// Done.
    Closed,
}

impl CaseStatus {
    /// `open`, `assigned` or `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Assigned => "assigned",
            CaseStatus::Closed => "closed",
        }
    }
}

/// A conversation linked to a case from another chat or platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Where the linked conversation is.
    pub endpoint: Endpoint,
    /// The user account that linked it.
    pub account: String,
    /// Whether it is the same account that opened the case (operators' replies go there too).
    pub verified: bool,
}

/// A case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseRecord {
    /// The number (the id is `C-<number>`).
    pub number: u64,
    /// Status.
    pub status: CaseStatus,
    /// Team routed to.
    pub team: String,
    /// 0 = enterprise, 1 = normal.
    pub priority: u8,
    /// `zh`, `en` or `ja`.
    pub lang: String,
    /// The user's `platform:id`.
    pub account: String,
    /// The user's display name.
    pub user_name: String,
    /// The conversation the case was opened from.
    pub origin: Endpoint,
    /// Conversations linked later.
    #[serde(default)]
    pub links: Vec<Link>,
    /// Operator account holding the case.
    #[serde(default)]
    pub assignee: Option<String>,
    /// That operator's name.
    #[serde(default)]
    pub assignee_name: Option<String>,
    /// Where the operator took the case (relays go there).
    #[serde(default)]
    pub assignee_chat: Option<Endpoint>,
    /// Opened (the queue is ordered by priority, then this).
    pub opened_at: DateTime<FixedOffset>,
    /// First operator reply.
    #[serde(default)]
    pub first_reply_at: Option<DateTime<FixedOffset>>,
    /// Closed.
    #[serde(default)]
    pub closed_at: Option<DateTime<FixedOffset>>,
    /// First line of the problem.
    pub subject: String,
    /// FAQ category of the conversation.
    #[serde(default)]
    pub category: Option<String>,
    /// Error codes found in the user's messages.
    #[serde(default)]
    pub error_codes: Vec<String>,
    /// FAQ entries the matcher would suggest.
    #[serde(default)]
    pub suggestions: Vec<String>,
    /// 1–5 from the user.
    #[serde(default)]
    pub rating: Option<u8>,
    /// The operator's closing summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// The user's previous case.
    #[serde(default)]
    pub previous: Option<String>,
    /// Number of transcript and history lines.
    #[serde(default)]
    pub log_len: u32,
    /// When verification codes for links from other accounts were sent (the last hour's only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link_codes: Vec<DateTime<FixedOffset>>,
    /// The customer's account manager (an operator name) the case is kept for until `reserved_until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_for: Option<String>,
    /// Until when only the account manager sees and takes the case; then the team's rooms and queue get it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_until: Option<DateTime<FixedOffset>>,
}

impl CaseRecord {
    /// Whether, at `now`, the case is still kept for an account manager other than `operator` (a name).
    pub fn reserved_from(&self, operator: &str, now: DateTime<FixedOffset>) -> Option<&str> {
        let manager = self.reserved_for.as_deref()?;
        (manager != operator && self.reserved_until.is_some_and(|until| now < until))
            .then_some(manager)
    }
}

impl CaseRecord {
    /// `C-<number>`.
    pub fn id(&self) -> String {
        case_id(self.number)
    }
}

/// `C-<number>`.
pub fn case_id(number: u64) -> String {
    format!("C-{number}")
}

/// One stored line of a case: a transcript entry or a history event.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "log", rename_all = "snake_case")]
pub enum CaseLog {
    /// A transcript line.
    Entry(CaseEntry),
    /// A history event.
    Event(CaseEvent),
}

/// An outbox item.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxRecord {
    /// Sequence (send order).
    pub seq: u64,
    /// When it was first stored (unix ms), for the give-up time.
    pub created_ms: i64,
    /// What to deliver.
    pub envelope: Envelope,
}

/// A case kept for its account manager until its team gets it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reserved {
    /// When the team gets it.
    pub until: DateTime<FixedOffset>,
    /// Attachments of the intake, for the card.
    pub files: usize,
}
