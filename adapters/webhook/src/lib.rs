//! supportbot webhook channel adapter (placeholder until its issue lands).
