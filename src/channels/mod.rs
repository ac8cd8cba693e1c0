//! Wiring of the channel adapters to the engine for `serve`; each channel behind its cargo feature.

#[cfg(feature = "discord")]
pub mod discord;
#[cfg(feature = "onebot")]
pub mod onebot;
#[cfg(feature = "telegram")]
pub mod telegram;
#[cfg(feature = "web")]
pub mod web;
#[cfg(feature = "webhook")]
pub mod webhook;
#[cfg(feature = "wechat")]
pub mod wechat;
