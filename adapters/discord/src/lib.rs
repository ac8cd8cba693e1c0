//! supportbot discord channel adapter (placeholder until its issue lands).
