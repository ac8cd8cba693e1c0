//! Starts the discord channel for `serve` (placeholder until its issue lands).
