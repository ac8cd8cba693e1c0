//! State shared by the engine's tasks: config, FAQ, store, operators, outbox and metrics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use supportbot_chat::CaseEvent;
use tokio::sync::{broadcast, mpsc, Notify};

use super::{worker_for, EngineError, EngineOptions, Metrics};
use crate::config::Config;
use crate::faq::{Faq, Lang};
use crate::outbox::{GiveUp, Outbox};
use crate::store::changes::Changes;
use crate::store::records::StoredInbound;
use crate::store::{Store, StoreError};

/// What a worker task takes: the messages an earlier run stored but did not handle, then its queue.
pub(super) type WorkerInput = (Vec<StoredInbound>, mpsc::Receiver<StoredInbound>);

type Receivers = (Vec<WorkerInput>, mpsc::UnboundedReceiver<GiveUp>);

/// Messages per user account over time (`[limits]`).
pub(super) type AccountLimiter = governor::DefaultKeyedRateLimiter<String>;

/// Everything the engine's tasks share.
pub(crate) struct Shared {
    pub config: Config,
    pub faq: RwLock<Faq>,
    pub store: Store,
    /// Operator account → display name.
    pub operators: RwLock<HashMap<String, String>>,
    pub outbox: Outbox,
    pub events: broadcast::Sender<CaseEvent>,
    pub metrics: Arc<Metrics>,
    /// Names of inbox forwarders.
    pub forwarders: RwLock<Vec<String>>,
    /// Language of operator texts.
    pub op_lang: Lang,
    /// One lock per worker, held while a message is checked for a duplicate, stored and queued: a message and
    /// its redelivery, and a conversation's messages, always go to the same worker, so this keeps both the
    /// dedupe and a conversation's arrival order, while different workers' messages are stored at once (a
    /// shared database commits them together).
    pub(super) dedupe: Vec<tokio::sync::Mutex<()>>,
    /// Bounded queues, one per worker: a full one makes `accept` wait, then refuse with `SinkError::Busy`.
    pub(super) workers: Vec<mpsc::Sender<StoredInbound>>,
    pub(super) rate: AccountLimiter,
    pub(super) receivers: Mutex<Option<Receivers>>,
    pub(super) inflight: AtomicUsize,
    pub(super) changed: Notify,
    pub(super) closing: AtomicBool,
}

impl Shared {
    pub(super) async fn open(
        config: &Config,
        faq: Faq,
        options: &EngineOptions,
    ) -> Result<Shared, EngineError> {
        let store = match &options.store {
            Some(store) => store.clone(),
            None => Store::open(&config.bot.data_dir, config.store.cache_mb)?,
        };
        let unhandled = store.unhandled().await?;
        let metrics = Arc::new(Metrics::default());
        let (outbox, giveups) = Outbox::open(
            store.clone(),
            &config.outbox,
            metrics.clone(),
            options.serial_delivery,
        )
        .await?;
        let mut operators = HashMap::new();
        for op in &config.operators {
            for account in &op.accounts {
                operators.insert(account.clone(), op.name.clone());
            }
        }
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let n = options.workers.unwrap_or((cpus * 2).min(8)).max(1);
        let (mut workers, mut receivers) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let (tx, rx) = mpsc::channel(config.limits.queue_per_worker.max(1));
            workers.push(tx);
            receivers.push((Vec::new(), rx));
        }
        let quota = governor::Quota::per_minute(config.limits.messages_per_minute)
            .allow_burst(config.limits.message_burst);
        let (events, _) = broadcast::channel(1024);
        let sh = Shared {
            config: config.clone(),
            faq: RwLock::new(faq),
            store,
            operators: RwLock::new(operators),
            outbox,
            events,
            metrics,
            forwarders: RwLock::new(Vec::new()),
            op_lang: crate::i18n::from_code(&config.bot.operator_lang),
            dedupe: (0..n).map(|_| tokio::sync::Mutex::new(())).collect(),
            workers,
            rate: governor::RateLimiter::keyed(quota),
            receivers: Mutex::new(Some((receivers, giveups))),
            inflight: AtomicUsize::new(0),
            changed: Notify::new(),
            closing: AtomicBool::new(false),
        };
        sh.recover(unhandled);
        Ok(sh)
    }

    /// Queues messages stored by an earlier run but not handled, in arrival order.
    fn recover(&self, unhandled: Vec<StoredInbound>) {
        let mut count = 0usize;
        let mut receivers = self.receivers.lock().unwrap_or_else(|e| e.into_inner());
        let Some((inputs, _)) = receivers.as_mut() else {
            return;
        };
        for stored in unhandled {
            let w = worker_for(&stored.inbound.conversation_key(), self.workers.len());
            self.inflight.fetch_add(1, Ordering::SeqCst);
            // Held beside the bounded queue (not in it), so a long backlog never blocks the start.
            inputs[w].0.push(stored);
            count += 1;
        }
        if count > 0 {
            tracing::info!(
                messages = count,
                "handling messages stored before the last stop"
            );
        }
    }

    /// The current knowledge base.
    pub fn faq(&self) -> Faq {
        self.faq.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The operator name of an account, when it is an operator.
    pub fn operator(&self, account: &str) -> Option<String> {
        self.operators
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(account)
            .cloned()
    }

    /// Whether an account is an operator's.
    pub fn is_operator(&self, account: &str) -> bool {
        self.operators
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(account)
    }

    /// Commits a step and hands its messages to the outbox and its events to subscribers.
    pub async fn commit(&self, changes: Changes) -> Result<(), StoreError> {
        let forwarders = self
            .forwarders
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let committed = super::commit::commit(changes, &forwarders).await?;
        self.outbox.push(committed.items);
        if !committed.events.is_empty() {
            // The step is stored: telling the other processes is best effort (their pages can reload).
            if let Err(err) = self.store.publish_events(&committed.events).await {
                tracing::warn!(error = %err, "passing case events to the other processes failed");
            }
        }
        for event in committed.events {
            let _ = self.events.send(event);
        }
        Ok(())
    }
}
