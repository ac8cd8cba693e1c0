//! supportbot's QQ channel through OneBot v11, the protocol QQ bot frameworks (NapCat, Lagrange.OneBot, LLOneBot
//! and others) expose: one "Universal" WebSocket that carries events in and actions out.
//!
//! * [`reverse`]: the implementation connects to `/onebot/v11/ws` on the web listener; [`forward`]: supportbot
//!   connects to the implementation. Either way the access token is checked / sent as a bearer token.
//! * [`inbound`]: private messages, and group messages that address the bot, become [`supportbot_chat::Inbound`]
//!   (accounts `qq:<user_id>`, group chats `group:<group_id>`).
//! * [`OneBotChannel`] is the [`supportbot_chat::Adapter`] that sends the bot's messages as segment arrays.

mod channel;
mod deliver;
pub mod forward;
pub mod inbound;
mod link;
mod pump;
mod recent;
pub mod reverse;
pub mod segment;

pub use channel::{Mode, OneBotChannel, Settings};
pub use deliver::{classify, MAX_CHARS};
pub use inbound::GROUP_PREFIX;

/// The router type [`reverse::router`] returns (axum's).
pub use axum::Router;
