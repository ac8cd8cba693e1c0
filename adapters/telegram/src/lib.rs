//! supportbot telegram channel adapter (placeholder until its issue lands).
