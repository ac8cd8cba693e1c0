//! Starts the web channel for `serve` (placeholder until its issue lands).
