//! Starts the webhook channel for `serve` (placeholder until its issue lands).
