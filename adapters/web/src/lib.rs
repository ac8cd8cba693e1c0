//! supportbot web channel adapter (placeholder until its issue lands).
