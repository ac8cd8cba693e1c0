//! supportbot's generic HTTP channel and inbox forwarding.
//!
//! * Inbound: [`router`] serves `POST /webhook/{channel}` (docs/webhook.md): signed events in the
//!   replay format go to the core's [`supportbot_chat::InboundSink`].
//! * Outbound: one [`CallbackAdapter`] per channel POSTs replies to its `callback_url`, signed the same way.
//! * Forwarding: a [`Forwarder`] POSTs case events to a helpdesk as signed JSON or a Slack-compatible payload.
//!
//! Deliveries never retry by themselves: they classify the outcome and the core's outbox retries.

mod deliver;
mod forward;
mod inbound;
mod setup;
pub mod signature;
mod signed_post;
pub mod slack;

pub use deliver::CallbackAdapter;
pub use forward::{ForwardFormat, ForwardTarget, Forwarder, DESTINATION_PREFIX};
pub use inbound::{router, router_with_limit, InboundChannel, DEFAULT_MAX_BODY};
pub use setup::{check_channel_name, check_forward_name, check_url, SetupError};
pub use signed_post::{
    classify, header_safe_key, http_client, parse_retry_after, read_head, ClientError,
    DEFAULT_TIMEOUT, MAX_RESPONSE_BODY, MAX_RETRY_AFTER,
};

/// The router type [`router`] returns (axum's), re-exported so the core can name it without depending on axum.
pub use axum::Router;
pub use signature::{sign, verify, AuthError, Secret};
