//! The two directions between core and adapters: adapters push [`Inbound`] into an [`InboundSink`], and the
//! core's durable outbox hands each [`Envelope`] to the [`Adapter`] that owns its destination.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{CaseEvent, Inbound, Outbound};

/// What an adapter is asked to deliver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Delivery {
    /// A chat message to a user or an operator room.
    Message(Outbound),
    /// A case event for inbox forwarding (helpdesks, Slack-compatible hooks).
    Event(CaseEvent),
}

/// One outbox item: a delivery, its destination adapter, and a stable id receivers can deduplicate on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Unique, stable across retries and restarts (an idempotency key).
    pub id: String,
    /// Name of the adapter that delivers it (`telegram`, `web`, a webhook channel, `forward:<name>`).
    pub destination: String,
    /// Ordering key: deliveries with the same key are sent in order (usually `platform:chat`).
    pub order_key: String,
    /// The payload.
    pub delivery: Delivery,
}

/// Why a delivery failed. The outbox retries everything but [`SendError::Permanent`].
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The platform asked us to wait (HTTP 429 and its `retry_after` / `Retry-After`).
    #[error("rate limited, retry after {0:?}")]
    RetryAfter(Duration),
    /// A failure that may pass (network, 5xx, timeout).
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The platform will never accept this delivery (chat gone, bot blocked, bad request).
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// A channel adapter as the core sees it when sending.
#[async_trait]
pub trait Adapter: Send + Sync {
    /// The destination name this adapter delivers for (matches [`Envelope::destination`]).
    fn name(&self) -> &str;

    /// Delivers one envelope; `Ok` means the platform accepted it and it may leave the outbox.
    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError>;

    /// The platform's message id of an envelope this adapter delivered, when it knows it (asked by the outbox
    /// right after a successful [`Adapter::deliver`]). It lets the core recognise an operator's reply to a case
    /// card (`Inbound::reply_to` = that id). Adapters that cannot tell keep the default.
    fn sent_message_id(&self, envelope_id: &str) -> Option<String> {
        let _ = envelope_id;
        None
    }
}

/// The result of handing an inbound message to the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Stored durably for the first time; it will be handled.
    New,
    /// The same platform message id was already stored; nothing more happens.
    Duplicate,
}

/// Why the core could not take an inbound message. The adapter must not acknowledge it to the platform.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The message is invalid (too long, missing ids); retrying will not help.
    #[error("rejected: {0}")]
    Rejected(String),
    /// The store failed; the platform should redeliver later.
    #[error("storage failure: {0}")]
    Storage(String),
    /// The core is shutting down.
    #[error("shutting down")]
    ShuttingDown,
    /// The core has more messages waiting than it holds; the platform should deliver this one again later.
    #[error("busy: too many messages are waiting; deliver again later")]
    Busy,
}

/// The core as adapters see it when receiving.
#[async_trait]
pub trait InboundSink: Send + Sync {
    /// Durably stores the message and queues it for handling. Returns once the message is on disk, so the
    /// adapter may then acknowledge it to its platform (advance an offset, answer 200).
    async fn accept(&self, message: Inbound) -> Result<Accepted, SinkError>;

    /// Waits until this process is the one that runs the single receiver `role` (e.g. `telegram:polling`).
    /// A core that runs as one process leads at once.
    async fn lead(&self, _role: &str) -> crate::Lead {
        crate::Lead::sole()
    }
}
