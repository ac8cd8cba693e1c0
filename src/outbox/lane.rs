//! One delivery lane: the items of one `order_key`, sent strictly one after the other.

use std::sync::Arc;
use std::time::Duration;

use supportbot_chat::{Adapter, Delivery, SendError, Shutdown};

use super::{lock, platform_of, GiveUp, Item, Outbox};

/// How long one delivery attempt may take before it counts as a transient failure.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

enum Outcome {
    Delivered(Arc<dyn Adapter>),
    GaveUp(String),
    Dropped,
    Shutdown,
}

/// Delivers the lane's items until it is empty or the engine shuts down.
pub(super) async fn run(outbox: Outbox, key: String, shutdown: Shutdown) {
    loop {
        let head = {
            let mut lanes = lock(&outbox.inner.lanes);
            let Some(lane) = lanes.get_mut(&key) else {
                return;
            };
            match lane.items.front() {
                Some(item) => item.clone(),
                None => {
                    lanes.remove(&key);
                    return;
                }
            }
        };
        let outcome = attempt(&outbox, &key, &head, &shutdown).await;
        let inner = &outbox.inner;
        match &outcome {
            Outcome::Shutdown => {
                if let Some(lane) = lock(&inner.lanes).get_mut(&key) {
                    lane.running = false;
                }
                return;
            }
            Outcome::Delivered(adapter) => {
                inner.metrics.outbound(platform_of(&head.envelope));
                remember_message_id(&outbox, adapter.as_ref(), &head).await;
                if let Err(err) = inner.store.complete_outbox(head.seq).await {
                    tracing::error!(error = %err, seq = head.seq, "removing a delivered outbox item failed");
                }
            }
            Outcome::GaveUp(reason) => {
                tracing::warn!(id = %head.envelope.id, destination = %head.envelope.destination, %reason,
                    "outbox item given up");
                inner.metrics.given_up();
                if let Err(err) = inner.store.complete_outbox(head.seq).await {
                    tracing::error!(error = %err, seq = head.seq, "removing a given-up outbox item failed");
                }
                let _ = inner.giveups.send(GiveUp {
                    envelope: head.envelope.clone(),
                    reason: reason.clone(),
                });
            }
            Outcome::Dropped => {}
        }
        {
            let mut lanes = lock(&inner.lanes);
            if let Some(lane) = lanes.get_mut(&key) {
                if lane.items.front().map(|i| i.seq) == Some(head.seq) {
                    lane.items.pop_front();
                    lane.attempts = 0;
                    lane.last_error = None;
                }
            }
        }
        outbox.finished_one();
    }
}

/// How often a lane looks again whether an earlier item of its chat, held by another process, was delivered
/// (doubling up to [`EARLIER_POLL_MAX`]).
const EARLIER_POLL: Duration = Duration::from_millis(10);
const EARLIER_POLL_MAX: Duration = Duration::from_millis(500);

async fn attempt(outbox: &Outbox, key: &str, head: &Item, shutdown: &Shutdown) -> Outcome {
    let inner = &outbox.inner;
    if let Some(ticket) = head.ticket {
        tokio::select! {
            _ = shutdown.cancelled() => return Outcome::Shutdown,
            res = inner.store.durable(ticket) => if let Err(err) = res {
                tracing::error!(error = %err, "the store could not make an outbox item durable; not sending it");
                shutdown.cancelled().await;
                return Outcome::Shutdown;
            }
        }
    }
    // Wait while another process still holds an earlier item of this chat.
    let mut wait = EARLIER_POLL;
    loop {
        match inner
            .store
            .earlier_undelivered(&head.envelope.order_key, head.seq)
            .await
        {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) => {
                tracing::warn!(error = %err, "checking for earlier items of the chat failed");
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Outcome::Shutdown,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(EARLIER_POLL_MAX);
    }
    let mut failures: u32 = 0;
    loop {
        {
            let mut dropped = lock(&inner.dropped);
            if let Some(pos) = dropped.iter().position(|&s| s == head.seq) {
                dropped.remove(pos);
                return Outcome::Dropped;
            }
        }
        if shutdown.is_cancelled() {
            return Outcome::Shutdown;
        }
        let destination = &head.envelope.destination;
        let err = match outbox.adapter_for(destination) {
            Some(a) => match tokio::time::timeout(ATTEMPT_TIMEOUT, a.deliver(&head.envelope)).await
            {
                Ok(Ok(())) => return Outcome::Delivered(a),
                Ok(Err(SendError::Permanent(reason))) => return Outcome::GaveUp(reason),
                Ok(Err(err)) => err,
                Err(_) => SendError::Transient("delivery timed out".into()),
            },
            None => SendError::Transient(format!("no adapter for destination `{destination}`")),
        };
        let delay = match &err {
            SendError::RetryAfter(d) => inner.backoff.retry_after(*d),
            _ => inner.backoff.delay(failures),
        };
        failures += 1;
        if let Some(lane) = lock(&inner.lanes).get_mut(key) {
            lane.attempts = failures;
            lane.last_error = Some(err.to_string());
        }
        let age_ms = (chrono::Utc::now().timestamp_millis() - head.created_ms).max(0) as u128;
        if age_ms + delay.as_millis() > inner.give_up_after.as_millis() {
            return Outcome::GaveUp(err.to_string());
        }
        tracing::debug!(id = %head.envelope.id, %destination, error = %err, ?delay, "delivery failed; retrying");
        tokio::select! {
            _ = shutdown.cancelled() => return Outcome::Shutdown,
            _ = tokio::time::sleep(delay) => {}
            _ = inner.retry_now.notified() => {}
        }
    }
}

/// Keeps the platform message id of a delivered case message, so a reply to it finds the case.
async fn remember_message_id(outbox: &Outbox, adapter: &dyn Adapter, item: &Item) {
    let Delivery::Message(msg) = &item.envelope.delivery else {
        return;
    };
    let Some(case) = &msg.case else { return };
    let store = &outbox.inner.store;
    if !store
        .case_of_message(&item.envelope.id)
        .await
        .is_ok_and(|c| c.is_some())
    {
        return;
    }
    if let Some(id) = adapter.sent_message_id(&item.envelope.id) {
        let reference = format!("pm:{}:{}:{}", msg.platform, msg.chat, id);
        if let Err(err) = store.remember_case_message(&reference, case).await {
            tracing::warn!(error = %err, "remembering a case card's message id failed");
        }
    }
}
