//! Starts the telegram channel for `serve` (placeholder until its issue lands).
