//! supportbot core: FAQ matching, the conversation engine, cases and their durable store.
//!
//! The binary (`src/main.rs`) wires this core to the channel adapters; the core itself never names a chat
//! platform's SDK.

pub mod cases;
pub mod channels;
pub mod cli;
pub mod config;
pub mod engine;
pub mod faq;
pub mod i18n;
pub mod metrics;
pub mod outbox;
pub mod store;
