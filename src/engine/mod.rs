//! The conversation engine: `Inbound` in, `Outbound` out, state in the store. `accept` stores a message durably
//! and routes it by conversation to one of N workers, so one conversation is handled in order and different
//! ones concurrently; each handling step stores its state, case lines and outbox items with one commit.

mod background;
mod bot;
pub mod clock;
mod commit;
mod directory;
mod intake;
mod link;
mod managers;
mod operator;
mod operator_views;
mod recent;
mod shared;
#[cfg(test)]
mod tests;
pub(crate) mod turn;
mod user_cmd;
mod wait;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use supportbot_chat::{Accepted, Adapter, Inbound, InboundSink, Shutdown, SinkError};
use tokio::sync::mpsc;

pub use crate::metrics::{Gauges, Metrics};
pub(crate) use shared::Shared;

use crate::config::Config;
use crate::faq::Faq;
use crate::outbox::ItemInfo;
use crate::store::records::StoredInbound;
use crate::store::{Store, StoreError};

/// Longest text kept; longer messages get a clear answer and are not stored.
pub const MAX_TEXT_CHARS: usize = 4000;

/// Why the engine failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed (including a data directory in use by another process).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `run` was called twice.
    #[error("the engine is already running")]
    AlreadyRunning,
}

/// Tuning of [`Engine::open_with`].
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Worker tasks conversations are spread over (default: twice the CPUs, at most 8).
    pub workers: Option<usize>,
    /// Deliver every outgoing message in one global order instead of one lane per chat (`replay` uses it so
    /// its output is deterministic).
    pub serial_delivery: bool,
    /// The store to run on instead of the sled store in `[bot] data_dir` (tests run on
    /// [`Store::memory`](crate::store::Store::memory)).
    pub store: Option<Store>,
}

/// The engine; cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Engine {
    pub(crate) sh: Arc<Shared>,
}

impl Engine {
    /// Opens the sled store in `config.bot.data_dir` and queues the messages a previous run stored but did not
    /// handle.
    pub async fn open(config: &Config, faq: Faq) -> Result<Engine, EngineError> {
        Engine::open_with(config, faq, EngineOptions::default()).await
    }

    /// [`Engine::open`] with options.
    pub async fn open_with(
        config: &Config,
        faq: Faq,
        options: EngineOptions,
    ) -> Result<Engine, EngineError> {
        let sh = Shared::open(config, faq, &options).await?;
        Ok(Engine { sh: Arc::new(sh) })
    }

    /// Registers the adapter that delivers for its destination name.
    pub fn register_adapter(&self, adapter: Arc<dyn Adapter>) {
        self.sh.outbox.register(adapter);
    }

    /// Registers the adapter used for destinations without their own (replay's stdout).
    pub fn register_fallback_adapter(&self, adapter: Arc<dyn Adapter>) {
        self.sh.outbox.register_fallback(adapter);
    }

    /// Registers an inbox forwarder: it gets an `Envelope{Delivery::Event}` for every case event.
    pub fn register_forwarder(&self, adapter: Arc<dyn Adapter>) {
        let name = adapter.name().to_string();
        self.sh.outbox.register(adapter);
        let mut fw = self
            .sh
            .forwarders
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if !fw.contains(&name) {
            fw.push(name);
        }
    }

    /// Adds an operator account at run time (e.g. the web inbox's `web:admin`).
    pub fn add_operator(&self, name: &str, account: &str) {
        self.sh
            .operators
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(account.to_string(), name.to_string());
    }

    /// The knowledge base in use (a cheap handle; a reload replaces it).
    pub fn faq(&self) -> Faq {
        self.sh.faq()
    }

    /// Replaces the knowledge base (hot reload).
    pub fn set_faq(&self, faq: Faq) {
        *self.sh.faq.write().unwrap_or_else(|e| e.into_inner()) = faq;
    }

    /// The configuration the engine runs with.
    pub fn config(&self) -> &Config {
        &self.sh.config
    }

    /// Runs the workers, the outbox and the give-up handler until `shutdown`, then flushes the store.
    pub async fn run(&self, shutdown: Shutdown) -> Result<(), EngineError> {
        let (receivers, giveups) = self
            .sh
            .receivers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or(EngineError::AlreadyRunning)?;
        self.sh.outbox.start(shutdown.clone());
        let mut tasks = Vec::new();
        for (i, (recovered, mut rx)) in receivers.into_iter().enumerate() {
            let engine = self.clone();
            let stop = shutdown.clone();
            tasks.push(tokio::spawn(async move {
                for stored in recovered {
                    if stop.is_cancelled() {
                        break;
                    }
                    engine.handle(stored).await;
                    tokio::task::yield_now().await;
                }
                loop {
                    let next = tokio::select! {
                        biased;
                        _ = stop.cancelled() => None,
                        m = rx.recv() => m,
                    };
                    let Some(stored) = next else { break };
                    engine.handle(stored).await;
                }
                tracing::debug!(worker = i, "worker stopped");
            }));
        }
        tasks.push(tokio::spawn(background::give_up_loop(
            self.clone(),
            giveups,
            shutdown.clone(),
        )));
        // Kept cases exist only with account managers configured, or left by a run that had them.
        let reserved = !self.sh.store.reserved().await?.is_empty();
        if reserved || !self.sh.config.customers.managers.is_empty() {
            tasks.push(tokio::spawn(managers::release_loop(
                self.clone(),
                shutdown.clone(),
            )));
        }
        if let Some(events) = self.sh.store.other_processes_events() {
            tasks.push(tokio::spawn(background::relay_events(
                self.clone(),
                events,
                shutdown.clone(),
            )));
        }
        tasks.push(tokio::spawn(background::take_over_stalled(
            self.clone(),
            shutdown.clone(),
        )));
        tasks.push(tokio::spawn(background::forget_quiet_accounts(
            self.clone(),
            shutdown.clone(),
        )));
        shutdown.cancelled().await;
        self.sh.closing.store(true, Ordering::SeqCst);
        for t in tasks {
            let _ = t.await;
        }
        self.sh.outbox.stopped(Duration::from_secs(5)).await;
        self.sh.outbox.release_leases().await;
        self.sh.store.flush().await?;
        tracing::info!("engine stopped");
        Ok(())
    }

    async fn handle(&self, stored: StoredInbound) {
        let sh = &self.sh;
        let early = if stored.throttled {
            turn::Early::default()
        } else {
            turn::early_decision(sh, &stored).await
        };
        let key = &stored.inbound.conversation_key();
        let stored = &stored;
        // A step run again decides anew (the early decision went with the first attempt).
        let mut early = Some(early);
        let result = retrying(|| {
            let early = early.take().unwrap_or_default();
            async move {
                loop {
                    let step = sh.store.begin_step(key).await?;
                    // An earlier message of the conversation that another process stored goes first.
                    if let Some(earlier) = step.earlier_unhandled(key, stored.seq).await? {
                        let changes =
                            turn::handle(sh, step, &earlier, turn::Early::default()).await?;
                        match sh.commit(changes).await {
                            Ok(()) | Err(StoreError::Handled(_)) => continue,
                            Err(err) => return Err(err),
                        }
                    }
                    let changes = turn::handle(sh, step, stored, early).await?;
                    return sh.commit(changes).await;
                }
            }
        })
        .await;
        if let Err(StoreError::Handled(seq)) = result {
            tracing::debug!(seq, "the message was handled by another process");
        } else if let Err(err) = result {
            tracing::error!(error = %err, platform = %stored.inbound.platform, id = %stored.inbound.id,
                "handling a message failed; it stays stored and is handled again at the next start");
        }
        sh.inflight.fetch_sub(1, Ordering::SeqCst);
        sh.changed.notify_waiters();
    }

    /// Waits until every accepted message is handled and the outbox is empty (replay and tests use it; with a
    /// failing destination this waits until its messages are delivered or given up), or the store has failed.
    pub async fn settle(&self) {
        loop {
            if self.sh.store.fault().is_some() {
                return;
            }
            let handled = self.sh.changed.notified();
            let sent = self.sh.outbox.changed();
            tokio::pin!(handled, sent);
            handled.as_mut().enable();
            sent.as_mut().enable();
            if self.sh.inflight.load(Ordering::SeqCst) == 0 && self.sh.outbox.pending() == 0 {
                return;
            }
            tokio::select! {
                _ = handled => {}
                _ = sent => {}
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    }

    /// Undelivered outgoing messages per destination.
    pub fn outbox_backlog(&self) -> Vec<(String, usize)> {
        self.sh.outbox.backlog()
    }

    /// Every undelivered outgoing message.
    pub fn outbox_list(&self) -> Vec<ItemInfo> {
        self.sh.outbox.list()
    }

    /// Retries every waiting delivery now.
    pub fn outbox_retry_now(&self) {
        self.sh.outbox.retry_now();
    }

    /// Drops an undelivered message; `false` when there is none with this sequence number.
    pub async fn outbox_drop(&self, seq: u64) -> Result<bool, EngineError> {
        Ok(self.sh.outbox.drop_item(seq).await?)
    }

    /// The engine's counters (for embedding; `/metrics` uses [`supportbot_chat::MetricsSource`]).
    pub fn metrics(&self) -> &Metrics {
        &self.sh.metrics
    }

    /// The store (read-only uses such as `stats`).
    pub fn store(&self) -> &Store {
        &self.sh.store
    }
}

#[async_trait]
impl InboundSink for Engine {
    async fn lead(&self, role: &str) -> supportbot_chat::Lead {
        loop {
            match self.sh.store.lead(role).await {
                Ok(lead) => {
                    tracing::info!(role, "this process runs the receiver");
                    return lead;
                }
                Err(err) => {
                    tracing::warn!(role, error = %err, "asking the store who runs the receiver failed; asking again");
                    tokio::time::sleep(LEAD_RETRY).await;
                }
            }
        }
    }

    async fn accept(&self, mut message: Inbound) -> Result<Accepted, SinkError> {
        let sh = &self.sh;
        if sh.closing.load(Ordering::SeqCst) {
            return Err(SinkError::ShuttingDown);
        }
        for (field, value) in [
            ("platform", &message.platform),
            ("chat", &message.chat),
            ("user", &message.user),
            ("id", &message.id),
        ] {
            if value.trim().is_empty() {
                return Err(SinkError::Rejected(format!("the message has no {field}")));
            }
        }
        let chars = message.text.chars().count();
        let oversized = (chars > MAX_TEXT_CHARS).then(|| {
            message.text.clear();
            chars
        });
        let worker = worker_for(&message.conversation_key(), sh.workers.len());
        let platform = message.platform.clone();
        let deadline = tokio::time::Instant::now() + QUEUE_WAIT;
        let ticket = loop {
            let _guard = sh.dedupe[worker].lock().await;
            if sh
                .store
                .seen(&message.platform, &message.id)
                .await
                .map_err(storage)?
            {
                sh.metrics.duplicate();
                return Ok(Accepted::Duplicate);
            }
            // A place in the worker's queue first: a message is stored only when it can be handed on.
            let permit = match sh.workers[worker].try_reserve() {
                Ok(permit) => permit,
                Err(mpsc::error::TrySendError::Closed(())) => return Err(SinkError::ShuttingDown),
                Err(mpsc::error::TrySendError::Full(())) => {
                    drop(_guard);
                    if tokio::time::Instant::now() >= deadline {
                        sh.metrics.busy();
                        return Err(SinkError::Busy);
                    }
                    tokio::time::sleep(QUEUE_POLL).await;
                    continue;
                }
            };
            let throttled = counts_toward_rate(&message) && {
                let account = message.account();
                !sh.is_operator(&account) && sh.rate.check_key(&account).is_err()
            };
            let mut stored = StoredInbound {
                seq: 0,
                inbound: message,
                oversized,
                throttled,
            };
            let Some((seq, ticket)) = sh.store.store_inbound(&stored).await.map_err(storage)?
            else {
                sh.metrics.duplicate();
                return Ok(Accepted::Duplicate);
            };
            stored.seq = seq;
            sh.inflight.fetch_add(1, Ordering::SeqCst);
            // Sent under the dedupe lock so a conversation's messages reach its worker in arrival order; nothing
            // the worker sends leaves before the same durable flush.
            permit.send(stored);
            break ticket;
        };
        sh.store.durable(ticket).await.map_err(storage)?;
        sh.metrics.inbound(&platform);
        Ok(Accepted::New)
    }
}

/// How long `accept` waits for room in a full worker queue before answering [`SinkError::Busy`].
const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// How often it looks for room meanwhile.
const QUEUE_POLL: Duration = Duration::from_millis(5);

/// Whether a message counts toward its account's rate: group chatter not addressed to the bot does not.
fn counts_toward_rate(message: &Inbound) -> bool {
    !message.group || message.mention
}

/// How long to wait before asking the store again for a receiver's lead after an error.
const LEAD_RETRY: Duration = Duration::from_secs(2);

/// How often a step that collided with a concurrent one is run again before its error is reported.
const STEP_ATTEMPTS: u32 = 8;

/// Runs a step until it is stored: a step that collided with a concurrent one on a shared backend
/// ([`StoreError::Conflict`]; nothing of it was stored) is run again, from its reads on.
pub(crate) async fn retrying<F, Fut>(mut step: F) -> Result<(), StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), StoreError>>,
{
    let mut attempt = 1;
    loop {
        match step().await {
            Err(StoreError::Conflict(why)) if attempt < STEP_ATTEMPTS => {
                tracing::debug!(attempt, why = %why, "step collided with a concurrent one; running it again");
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(u64::from(attempt) * 2)).await;
            }
            other => return other,
        }
    }
}

fn storage(err: StoreError) -> SinkError {
    SinkError::Storage(err.to_string())
}

/// The worker a conversation is handled by.
pub(crate) fn worker_for(conversation: &str, workers: usize) -> usize {
    let mut h = DefaultHasher::new();
    conversation.hash(&mut h);
    (h.finish() % workers.max(1) as u64) as usize
}
