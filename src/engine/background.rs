//! The engine's background tasks beside its workers: recording given-up deliveries, taking over messages a
//! stopped process left, passing on other processes' case events, and forgetting the rate state of quiet
//! accounts. Each runs until shutdown.

use std::sync::atomic::Ordering;
use std::time::Duration;

use supportbot_chat::{CaseEvent, Shutdown};
use tokio::sync::mpsc;

use super::{retrying, turn, worker_for, Engine};
use crate::outbox::GiveUp;

/// How long a stored message may stay unhandled before another process takes it over (its own process
/// handles it within moments unless it stopped).
const STALLED_AFTER: Duration = Duration::from_secs(30);
/// How often the store is asked for such messages.
const STALLED_EVERY: Duration = Duration::from_secs(10);

/// Hands messages that a stopped process accepted but did not handle to this process's workers (on a store
/// shared by several processes; the embedded stores have none), until `shutdown`. A message its own process
/// handles meanwhile is stored as handled once ([`StoreError::Handled`]).
pub(super) async fn take_over_stalled(engine: Engine, shutdown: Shutdown) {
    let sh = &engine.sh;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(STALLED_EVERY) => {}
        }
        let stalled = match sh.store.stalled_inbound(STALLED_AFTER).await {
            Ok(stalled) => stalled,
            Err(err) => {
                tracing::warn!(error = %err, "looking for messages a stopped process left failed");
                continue;
            }
        };
        if !stalled.is_empty() {
            tracing::info!(
                messages = stalled.len(),
                "taking over messages a stopped process accepted"
            );
        }
        for stored in stalled {
            let w = worker_for(&stored.inbound.conversation_key(), sh.workers.len());
            sh.inflight.fetch_add(1, Ordering::SeqCst);
            let sent = tokio::select! {
                _ = shutdown.cancelled() => false,
                sent = sh.workers[w].send(stored) => sent.is_ok(),
            };
            if !sent {
                sh.inflight.fetch_sub(1, Ordering::SeqCst);
                return;
            }
        }
    }
}

/// Drops the rate state of accounts that have been quiet for a while, so the limiter's memory stays bounded.
pub(super) async fn forget_quiet_accounts(engine: Engine, shutdown: Shutdown) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
        engine.sh.rate.retain_recent();
        engine.sh.rate.shrink_to_fit();
    }
}

/// Records each given-up delivery in its case (and tells the operator holding it), until `shutdown`.
pub(super) async fn give_up_loop(
    engine: Engine,
    mut rx: mpsc::UnboundedReceiver<GiveUp>,
    shutdown: Shutdown,
) {
    loop {
        let next = tokio::select! {
            _ = shutdown.cancelled() => None,
            g = rx.recv() => g,
        };
        let Some(give_up) = next else { break };
        let sh = &engine.sh;
        let key = format!("giveup:{}", give_up.envelope.order_key);
        let result = retrying(|| async {
            let step = sh.store.begin_step(&key).await?;
            let changes = turn::delivery_failed(sh, step, &give_up).await?;
            sh.commit(changes).await
        })
        .await;
        if let Err(err) = result {
            tracing::error!(error = %err, "recording a given-up delivery failed");
        }
    }
}

/// Passes the case events of other processes sharing the store to this process's subscribers (the inbox),
/// until `shutdown`.
pub(super) async fn relay_events(
    engine: Engine,
    mut events: mpsc::Receiver<CaseEvent>,
    shutdown: Shutdown,
) {
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => break,
            event = events.recv() => event,
        };
        let Some(event) = event else { break };
        let _ = engine.sh.events.send(event);
    }
}
