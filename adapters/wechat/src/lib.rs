//! supportbot's WeChat Official Account channel.
//!
//! * [`router`] serves `GET /wechat` (the server URL check) and `POST /wechat` (pushes: text, image, voice,
//!   subscribe), plain or in the AES safe mode, and answers `success` once a push is stored.
//! * [`WeChatChannel`] is the [`supportbot_chat::Adapter`] that sends the bot's messages through the
//!   customer-service message API with a cached `access_token`.
pub mod api;
mod channel;
pub mod crypto;
mod deliver;
pub mod inbound;
pub mod signature;

pub use channel::{router, Settings, WeChatChannel, MAX_BODY};
pub use deliver::MAX_CHARS;

/// The router type [`router`] returns (axum's).
pub use axum::Router;
