//! supportbot's web channel: the chat widget and its WebSocket (`/`, `/ws`), the operator inbox (`/inbox`,
//! `/inbox/ws`), the JSON API, uploads, `/healthz` and `/metrics` — and the `web` [`supportbot_chat::Adapter`]
//! that delivers the core's messages to visitors' sessions and to the inbox.
//!
//! The channel depends on the core only through `supportbot-chat`'s traits ([`Core`]). Sessions are signed
//! tokens (the session id, which is also the chat id, plus an HMAC with the server key kept in the data
//! directory), so a session survives restarts without a table; each session's recent history is kept on disk,
//! or, when several processes serve the pages, in mailboxes of the shared store ([`supportbot_chat::PageMail`]);
//! uploads likewise in the data directory or in the shared store ([`supportbot_chat::PageFiles`]).

mod api;
mod assets;
mod canned;
mod channel;
mod chat_ws;
mod deliver;
mod error;
mod frames;
mod gates;
mod guard;
mod history;
mod hub;
mod i18n;
mod inbox_ws;
mod listen;
mod mailroom;
mod search;
mod secrets;
mod server;
mod settings;
mod sign_ins;
mod signin;
mod signin_http;
mod socket;
mod stats;
mod status;
mod typing;
mod upload_book;
mod upload_store;
mod uploads;

pub use canned::{load as load_canned, Canned};
pub use channel::{Core, WebAdapter, WebChannel};
pub use deliver::ADAPTER_NAME;
pub use error::WebError;
pub use frames::{ClientFrame, InboxFrame, MessageFrame, ServerFrame};
pub use guard::{BEARER_PROTOCOL_PREFIX, INBOX_PROTOCOL};
pub use inbox_ws::{action_command, normalize_case};
pub use mailroom::{chat_mailbox, inbox_mailbox, SharedPages};
pub use secrets::{load_or_create_secret, token_matches};
pub use server::bind;
pub use settings::{MetricsAccess, WebLimits, WebOperator, WebSettings};
pub use signin::COOKIE as SIGNIN_COOKIE;
pub use signin_http::{CSRF_HEADER, CSRF_PROTOCOL_PREFIX};
pub use uploads::SESSION_HEADER;

/// The router type of [`WebChannel::router`] (axum's), so the core can merge routes without naming axum.
pub use axum::Router;
