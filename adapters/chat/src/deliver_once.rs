//! Handing a message to the core for platforms that never deliver an event again (a gateway or WebSocket stream):
//! the adapter itself must wait while the core is busy and retry a passing storage failure.

use std::time::Duration;

use crate::{Accepted, Inbound, InboundSink, SinkError};

/// How often a storage failure is tried before the message is given up.
const STORE_ATTEMPTS: u32 = 5;
/// First pause after a storage failure; it doubles each time.
const FIRST_STORE_PAUSE: Duration = Duration::from_millis(200);
/// Pause before offering a message again to a core whose queues are full.
const BUSY_WAIT: Duration = Duration::from_millis(100);

/// Hands `message` to `sink`: waits as long as the core answers [`SinkError::Busy`] (the wait is the
/// back-pressure), tries a [`SinkError::Storage`] failure up to five times with a growing pause, and returns the
/// last error when it gives up or the message is rejected.
pub async fn accept_patiently(
    sink: &dyn InboundSink,
    message: Inbound,
) -> Result<Accepted, SinkError> {
    let mut pause = FIRST_STORE_PAUSE;
    let mut failures = 0;
    loop {
        match sink.accept(message.clone()).await {
            Err(SinkError::Busy) => {
                tracing::debug!(platform = %message.platform, message = %message.id, "the core is busy; waiting to store a message");
                tokio::time::sleep(BUSY_WAIT).await;
            }
            Err(SinkError::Storage(e)) if failures + 1 < STORE_ATTEMPTS => {
                failures += 1;
                tracing::warn!(platform = %message.platform, message = %message.id, attempt = failures, error = %e,
                    "storing a message failed; retrying");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            other => return other,
        }
    }
}
