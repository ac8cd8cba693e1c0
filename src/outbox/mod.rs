//! The durable outbox every adapter sends through. An item is stored with the same commit as the state change
//! that produced it, delivered once that commit is durable, and removed when the adapter reports it accepted.
//! Items left by an earlier run are claimed from the store with a lease, so that only one sender holds one. Items with the same `order_key` go out in order (one lane per key); failures are retried with
//! backoff and jitter, honouring `RetryAfter`, until the configured give-up time.

mod backoff;
mod lane;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;
use supportbot_chat::{Adapter, Delivery, Envelope, Shutdown};
use tokio::sync::{mpsc, Notify};

pub use backoff::Backoff;

use crate::config::OutboxConfig;
use crate::metrics::Metrics;
use crate::store::records::OutboxRecord;
use crate::store::{Store, StoreError, Ticket, OUTBOX_LEASE};

/// How often this process renews the leases of the items it holds and claims items whose sender stopped
/// (a third of the lease, so that a live sender never loses one).
const LEASE_EVERY: Duration = Duration::from_secs(OUTBOX_LEASE.as_secs() / 3);

/// One item waiting in a lane.
#[derive(Debug, Clone)]
pub struct Item {
    /// Outbox sequence.
    pub seq: u64,
    /// The batch that stored it (delivered once durable); `None` when recovered from disk.
    pub ticket: Option<Ticket>,
    /// When it was first stored (unix ms).
    pub created_ms: i64,
    /// The delivery.
    pub envelope: Envelope,
}

/// An item that was given up, for the engine to tell the case's operator.
#[derive(Debug, Clone)]
pub struct GiveUp {
    /// What could not be delivered.
    pub envelope: Envelope,
    /// The last error.
    pub reason: String,
}

/// A row of `supportbot outbox list`.
#[derive(Debug, Clone, Serialize)]
pub struct ItemInfo {
    /// Outbox sequence (the handle for drop).
    pub seq: u64,
    /// Envelope id.
    pub id: String,
    /// Adapter name.
    pub destination: String,
    /// Ordering key.
    pub order_key: String,
    /// When it was stored (unix ms).
    pub created_ms: i64,
    /// Failed attempts so far in this process.
    pub attempts: u32,
    /// Last error, if any.
    pub last_error: Option<String>,
}

#[derive(Default)]
struct Lane {
    items: VecDeque<Item>,
    running: bool,
    attempts: u32,
    last_error: Option<String>,
}

/// The outbox dispatcher; cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    adapters: RwLock<HashMap<String, Arc<dyn Adapter>>>,
    fallback: RwLock<Option<Arc<dyn Adapter>>>,
    lanes: Mutex<HashMap<String, Lane>>,
    started: Mutex<Option<Shutdown>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    backoff: Backoff,
    give_up_after: Duration,
    pending: AtomicUsize,
    changed: Notify,
    retry_now: Notify,
    dropped: Mutex<Vec<u64>>,
    giveups: mpsc::UnboundedSender<GiveUp>,
    metrics: Arc<Metrics>,
    serial: bool,
}

impl Item {
    /// An item read back from the store (delivered without waiting for a commit).
    fn recovered(record: OutboxRecord) -> Item {
        Item {
            seq: record.seq,
            ticket: None,
            created_ms: record.created_ms,
            envelope: record.envelope,
        }
    }
}

impl Outbox {
    /// Creates the dispatcher and loads the items left in the store by a previous run (in order).
    pub async fn open(
        store: Store,
        config: &OutboxConfig,
        metrics: Arc<Metrics>,
        serial: bool,
    ) -> Result<(Outbox, mpsc::UnboundedReceiver<GiveUp>), StoreError> {
        let stored = store.claim_outbox().await?;
        let (giveups, rx) = mpsc::unbounded_channel();
        let outbox = Outbox {
            inner: Arc::new(Inner {
                store: store.clone(),
                adapters: RwLock::new(HashMap::new()),
                fallback: RwLock::new(None),
                lanes: Mutex::new(HashMap::new()),
                started: Mutex::new(None),
                tasks: Mutex::new(Vec::new()),
                backoff: Backoff {
                    base: Duration::from_millis(config.retry_base_ms.max(1)),
                    max: Duration::from_secs(config.retry_max_secs.max(1)),
                },
                give_up_after: Duration::from_secs(config.give_up_after_secs),
                pending: AtomicUsize::new(0),
                changed: Notify::new(),
                retry_now: Notify::new(),
                dropped: Mutex::new(Vec::new()),
                giveups,
                metrics,
                serial,
            }),
        };
        let recovered: Vec<Item> = stored.into_iter().map(Item::recovered).collect();
        if !recovered.is_empty() {
            tracing::info!(
                items = recovered.len(),
                "outbox items recovered from the store"
            );
        }
        outbox.push(recovered);
        Ok((outbox, rx))
    }

    /// Registers the adapter delivering for `adapter.name()`.
    pub fn register(&self, adapter: Arc<dyn Adapter>) {
        let name = adapter.name().to_string();
        write(&self.inner.adapters).insert(name, adapter);
        self.inner.retry_now.notify_waiters();
    }

    /// Registers the adapter used for destinations no other adapter claims (`replay`'s stdout).
    pub fn register_fallback(&self, adapter: Arc<dyn Adapter>) {
        *write(&self.inner.fallback) = Some(adapter);
        self.inner.retry_now.notify_waiters();
    }

    /// The stored form of an item (stored by the caller with its own commit).
    pub fn record(item: &Item) -> OutboxRecord {
        OutboxRecord {
            seq: item.seq,
            created_ms: item.created_ms,
            envelope: item.envelope.clone(),
        }
    }

    /// Queues stored items for delivery; each chat's items are delivered in sequence order.
    pub fn push(&self, items: Vec<Item>) {
        if items.is_empty() {
            return;
        }
        let started = lock(&self.inner.started).clone();
        let mut lanes = lock(&self.inner.lanes);
        for item in items {
            self.inner.pending.fetch_add(1, Ordering::SeqCst);
            let key = if self.inner.serial {
                String::from("*")
            } else {
                item.envelope.order_key.clone()
            };
            let lane = lanes.entry(key.clone()).or_default();
            // In sequence order: items taken over from a stopped sender go before later ones of the same chat
            // (the head stays where it is while its delivery runs).
            match lane.items.back() {
                Some(last) if last.seq > item.seq => {
                    let at = (usize::from(lane.running)..lane.items.len())
                        .find(|&n| lane.items[n].seq > item.seq)
                        .unwrap_or(lane.items.len());
                    lane.items.insert(at, item);
                }
                _ => lane.items.push_back(item),
            }
            if let Some(shutdown) = &started {
                if !lane.running {
                    lane.running = true;
                    self.spawn_lane(key, shutdown.clone());
                }
            }
        }
    }

    /// Starts delivering (lanes run until `shutdown`).
    pub fn start(&self, shutdown: Shutdown) {
        *lock(&self.inner.started) = Some(shutdown.clone());
        let mut lanes = lock(&self.inner.lanes);
        for (key, lane) in lanes.iter_mut() {
            if !lane.items.is_empty() && !lane.running {
                lane.running = true;
                self.spawn_lane(key.clone(), shutdown.clone());
            }
        }
        drop(lanes);
        let outbox = self.clone();
        let handle = tokio::spawn(async move { outbox.keep_leases(shutdown).await });
        lock(&self.inner.tasks).push(handle);
    }

    /// Renews the leases of this process's items and takes on items whose sender stopped (on a store shared by
    /// several processes), until `shutdown`.
    async fn keep_leases(&self, shutdown: Shutdown) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(LEASE_EVERY) => {}
            }
            if let Err(err) = self.inner.store.renew_outbox().await {
                tracing::warn!(error = %err, "renewing outbox leases failed");
            }
            match self.inner.store.claim_outbox().await {
                Ok(claimed) if !claimed.is_empty() => {
                    tracing::info!(
                        items = claimed.len(),
                        "outbox items taken over from a stopped sender"
                    );
                    self.push(claimed.into_iter().map(Item::recovered).collect());
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "claiming outbox items failed"),
            }
        }
    }

    fn spawn_lane(&self, key: String, shutdown: Shutdown) {
        let outbox = self.clone();
        let handle = tokio::spawn(async move { lane::run(outbox, key, shutdown).await });
        let mut tasks = lock(&self.inner.tasks);
        tasks.retain(|t| !t.is_finished());
        tasks.push(handle);
    }

    /// Waits (up to `limit`) for the lanes to stop after shutdown.
    pub async fn stopped(&self, limit: Duration) {
        let tasks: Vec<_> = std::mem::take(&mut *lock(&self.inner.tasks));
        let _ = tokio::time::timeout(limit, async {
            for t in tasks {
                let _ = t.await;
            }
        })
        .await;
    }

    /// Items not yet delivered (including those waiting for a retry).
    pub fn pending(&self) -> usize {
        self.inner.pending.load(Ordering::SeqCst)
    }

    /// Resolves when [`Outbox::pending`] may have changed.
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.changed.notified()
    }

    /// Undelivered items per destination.
    pub fn backlog(&self) -> Vec<(String, usize)> {
        let lanes = lock(&self.inner.lanes);
        let mut by_dest: BTreeMap<String, usize> = BTreeMap::new();
        for lane in lanes.values() {
            for item in &lane.items {
                *by_dest
                    .entry(item.envelope.destination.clone())
                    .or_default() += 1;
            }
        }
        by_dest.into_iter().collect()
    }

    /// Every undelivered item, in sequence order.
    pub fn list(&self) -> Vec<ItemInfo> {
        let lanes = lock(&self.inner.lanes);
        let mut out: Vec<ItemInfo> = lanes
            .values()
            .flat_map(|lane| {
                lane.items
                    .iter()
                    .enumerate()
                    .map(move |(i, item)| ItemInfo {
                        seq: item.seq,
                        id: item.envelope.id.clone(),
                        destination: item.envelope.destination.clone(),
                        order_key: item.envelope.order_key.clone(),
                        created_ms: item.created_ms,
                        attempts: if i == 0 { lane.attempts } else { 0 },
                        last_error: if i == 0 {
                            lane.last_error.clone()
                        } else {
                            None
                        },
                    })
            })
            .collect();
        out.sort_by_key(|i| i.seq);
        out
    }

    /// Ends every waiting backoff now.
    pub fn retry_now(&self) {
        self.inner.retry_now.notify_waiters();
    }

    /// Drops an undelivered item for good; `false` when there is none with this sequence.
    pub async fn drop_item(&self, seq: u64) -> Result<bool, StoreError> {
        if !self.unqueue(seq) {
            return Ok(false);
        }
        self.inner.store.complete_outbox(seq).await?;
        Ok(true)
    }

    /// Takes an item out of its lane (or marks it dropped when its lane is working on it); `false` when no
    /// lane has it.
    fn unqueue(&self, seq: u64) -> bool {
        let mut lanes = lock(&self.inner.lanes);
        for lane in lanes.values_mut() {
            if let Some(pos) = lane.items.iter().position(|i| i.seq == seq) {
                if pos == 0 && lane.running {
                    // The lane is working on it: it checks this list before its next attempt.
                    lock(&self.inner.dropped).push(seq);
                    self.inner.retry_now.notify_waiters();
                } else {
                    lane.items.remove(pos);
                    self.finished_one();
                }
                return true;
            }
        }
        false
    }

    fn finished_one(&self) {
        self.inner.pending.fetch_sub(1, Ordering::SeqCst);
        self.inner.changed.notify_waiters();
    }

    fn adapter_for(&self, destination: &str) -> Option<Arc<dyn Adapter>> {
        read(&self.inner.adapters)
            .get(destination)
            .cloned()
            .or_else(|| read(&self.inner.fallback).clone())
    }
}

/// A platform name for metrics: the message's platform, or the destination of an event.
fn platform_of(envelope: &Envelope) -> &str {
    match &envelope.delivery {
        Delivery::Message(m) => &m.platform,
        Delivery::Event(_) => &envelope.destination,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests;
