//! supportbot: FAQ matching, the conversation engine, cases and their durable store, and the commands that run
//! them.
//!
//! Modules depend one way (checked by `tests/layering.rs`): `cli` → `channels` → `engine`, `report` → `cases`,
//! `outbox` → `store` → `metrics`, `i18n` → `faq`, `config`. Below `channels`, nothing knows a chat platform: the engine
//! speaks the platform-neutral types of `supportbot-chat`. `channels` wires the adapter crates (each behind its
//! cargo feature) to the engine; the platform SDKs (teloxide, serenity, axum, ...) are named only inside those
//! adapter crates, never in `src/`.

pub mod cases;
pub mod channels;
pub mod cli;
pub mod config;
pub mod engine;
pub mod faq;
pub mod i18n;
pub mod metrics;
pub mod outbox;
pub mod report;
pub mod store;
