//! Long polling: `getUpdates` with an offset that moves past an update only once the core has stored it.
//!
//! Telegram forgets updates below the offset of the next `getUpdates` call, so an update the core has not
//! stored yet (store failure, shutdown) stays at Telegram and comes again; one that was stored but not yet
//! acknowledged when the process died comes again too, and the core's dedupe handles it once.

use std::time::Duration;

use supportbot_chat::Shutdown;
use teloxide::payloads::GetUpdatesSetters;
use teloxide::requests::Requester;
use teloxide::types::{AllowedUpdate, Update};
use teloxide::{ApiError, RequestError};

use crate::error::describe;
use crate::receive::Receiver;

/// The update kinds the bot asks for.
pub fn wanted_updates() -> Vec<AllowedUpdate> {
    vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery]
}

/// Long-polls while this process leads `telegram:polling` (one process of a deployment polls; another takes
/// over when it stops or loses the lead), until `shutdown`.
pub async fn run_led(receiver: Receiver, poll_timeout: Duration, shutdown: Shutdown) {
    loop {
        let lead = tokio::select! {
            _ = shutdown.cancelled() => return,
            lead = receiver.sink.lead(POLLING) => lead,
        };
        let polling = shutdown.child_token();
        let lost = lead.lost().clone();
        let stop = polling.clone();
        let watch = tokio::spawn(async move {
            tokio::select! {
                _ = lost.cancelled() => stop.cancel(),
                _ = stop.cancelled() => {}
            }
        });
        run(receiver.clone(), poll_timeout, polling.clone()).await;
        polling.cancel();
        let _ = watch.await;
        drop(lead);
        if shutdown.is_cancelled() {
            return;
        }
        tracing::warn!("this process lost the lead of Telegram polling; waiting to lead again");
    }
}

/// The role whose lead runs long polling.
const POLLING: &str = "telegram:polling";

/// Polls until `shutdown`, handing every update to `receiver` in order.
pub async fn run(receiver: Receiver, poll_timeout: Duration, shutdown: Shutdown) {
    let timeout = u32::try_from(poll_timeout.as_secs()).unwrap_or(50);
    let mut offset: i32 = 0;
    let mut acknowledged = offset;
    let mut failures: u32 = 0;
    tracing::info!(bot = %receiver.me.username, timeout, "telegram long polling started");
    loop {
        let request = receiver
            .bot
            .get_updates()
            .offset(offset)
            .timeout(timeout)
            .allowed_updates(wanted_updates());
        let result = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            result = request => result,
        };
        acknowledged = offset;
        let updates = match result {
            Ok(updates) => {
                failures = 0;
                updates
            }
            Err(err) => {
                failures += 1;
                let wait = poll_error_wait(&err, failures);
                log_poll_error(&err, &receiver.token, wait);
                if pause(&shutdown, wait).await {
                    break;
                }
                continue;
            }
        };
        for update in &updates {
            if shutdown.is_cancelled() {
                break;
            }
            match receiver.handle(update).await {
                Ok(()) => offset = next_offset(update).max(offset),
                Err(err) => {
                    // Not stored: stop here, so this update and the ones after it come again in order.
                    tracing::warn!(update = update.id.0, error = %err, "telegram update not stored; will poll it again");
                    failures += 1;
                    pause(&shutdown, backoff(failures)).await;
                    break;
                }
            }
        }
    }
    if offset != acknowledged {
        acknowledge(&receiver, offset).await;
    }
    tracing::info!("telegram long polling stopped");
}

/// Confirms the updates handled since the last call, so a restart does not receive them again.
async fn acknowledge(receiver: &Receiver, offset: i32) {
    let call = receiver
        .bot
        .get_updates()
        .offset(offset)
        .timeout(0)
        .limit(1)
        .allowed_updates(wanted_updates());
    match tokio::time::timeout(Duration::from_secs(3), call).await {
        Ok(Ok(_)) => tracing::debug!(offset, "telegram updates acknowledged at shutdown"),
        Ok(Err(err)) => {
            tracing::debug!(offset, error = %describe(&err, &receiver.token), "final acknowledge failed")
        }
        Err(_) => tracing::debug!(offset, "final acknowledge timed out"),
    }
}

fn next_offset(update: &Update) -> i32 {
    i32::try_from(update.id.0)
        .unwrap_or(i32::MAX)
        .saturating_add(1)
}

/// Sleeps unless shut down first; returns whether shutdown came.
async fn pause(shutdown: &Shutdown, wait: Duration) -> bool {
    tokio::select! {
        biased;
        _ = shutdown.cancelled() => true,
        _ = tokio::time::sleep(wait) => false,
    }
}

/// 1 s, 2 s, 4 s ... up to 60 s.
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

fn poll_error_wait(err: &RequestError, failures: u32) -> Duration {
    match err {
        RequestError::RetryAfter(secs) => secs.duration(),
        RequestError::Api(ApiError::InvalidToken) => Duration::from_secs(60),
        _ => backoff(failures),
    }
}

fn log_poll_error(err: &RequestError, token: &str, wait: Duration) {
    let error = describe(err, token);
    match err {
        RequestError::Api(ApiError::TerminatedByOtherGetUpdates) => tracing::error!(
            %error, ?wait,
            "another process is polling Telegram with this bot token; only one instance may run"
        ),
        RequestError::Api(ApiError::CantGetUpdates) => {
            tracing::error!(%error, ?wait, "a webhook is set for this bot; polling cannot work until it is removed")
        }
        RequestError::Api(ApiError::InvalidToken) => {
            tracing::error!(%error, ?wait, "Telegram no longer accepts the bot token")
        }
        _ => tracing::warn!(%error, ?wait, "telegram getUpdates failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(30), Duration::from_secs(60));
    }
}
