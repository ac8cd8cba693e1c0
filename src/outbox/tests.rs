//! The outbox on the in-memory store: delivery order, removal once accepted, recovery of stored items, drops
//! and give-ups.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use supportbot_chat::{Adapter, Delivery, Envelope, SendError, Shutdown};

use super::{Item, Outbox};
use crate::config::OutboxConfig;
use crate::metrics::Metrics;
use crate::store::fixtures::outbox_item;
use crate::store::{Commit, Store};

/// A platform that records what it accepted and refuses texts starting with `refuse`.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<String>>,
}

#[async_trait]
impl Adapter for Recorder {
    fn name(&self) -> &str {
        "web"
    }

    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        let Delivery::Message(m) = &envelope.delivery else {
            return Ok(());
        };
        if m.text.starts_with("refuse") {
            return Err(SendError::Permanent("chat gone".into()));
        }
        self.sent.lock().unwrap().push(m.text.clone());
        Ok(())
    }
}

async fn open(
    store: &Store,
) -> (
    Outbox,
    tokio::sync::mpsc::UnboundedReceiver<super::GiveUp>,
    Arc<Recorder>,
) {
    let config = OutboxConfig {
        retry_base_ms: 1,
        ..OutboxConfig::default()
    };
    let (outbox, giveups) =
        Outbox::open(store.clone(), &config, Arc::new(Metrics::default()), false)
            .await
            .unwrap();
    let recorder = Arc::new(Recorder::default());
    outbox.register(recorder.clone());
    (outbox, giveups, recorder)
}

/// Stores items as a step would and hands them to the outbox.
async fn commit(store: &Store, outbox: &Outbox, texts: &[(&str, &str)]) -> Vec<u64> {
    let mut records = Vec::new();
    for (chat, text) in texts {
        records.push(outbox_item(0, chat, text));
    }
    let stored = crate::store::fixtures::commit(
        store,
        Commit {
            outbox: records.clone(),
            ..Commit::default()
        },
    )
    .await;
    let items = records
        .into_iter()
        .zip(&stored.outbox_seqs)
        .map(|(r, seq)| Item {
            seq: *seq,
            ticket: Some(stored.ticket),
            created_ms: chrono::Utc::now().timestamp_millis(),
            envelope: r.envelope,
        })
        .collect();
    outbox.push(items);
    stored.outbox_seqs
}

async fn settle(outbox: &Outbox) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while outbox.pending() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the outbox settles");
}

#[tokio::test]
async fn items_go_out_in_order_and_leave_the_store_once_accepted() {
    let store = Store::memory();
    let (outbox, _giveups, recorder) = open(&store).await;
    let shutdown = Shutdown::new();
    outbox.start(shutdown.clone());
    commit(
        &store,
        &outbox,
        &[("u1", "one"), ("u1", "two"), ("u2", "three")],
    )
    .await;
    settle(&outbox).await;
    let sent = recorder.sent.lock().unwrap().clone();
    let u1: Vec<_> = sent.iter().filter(|t| *t != "three").collect();
    assert_eq!(u1, vec!["one", "two"], "one chat's items in order");
    assert_eq!(sent.len(), 3);
    assert!(store.outbox().await.unwrap().is_empty());
    shutdown.cancel();
}

#[tokio::test]
async fn items_stored_by_an_earlier_run_are_claimed_and_delivered() {
    // Stored by an earlier run (a run's own commits hold their items already).
    let earlier = crate::store::MemoryStore::default();
    crate::store::fixtures::commit(
        &Store::new(earlier.clone()),
        Commit {
            outbox: vec![outbox_item(0, "u1", "left over")],
            ..Commit::default()
        },
    )
    .await;
    let store = Store::new(earlier.restarted());
    let (outbox, _giveups, recorder) = open(&store).await;
    assert_eq!(outbox.pending(), 1);
    let shutdown = Shutdown::new();
    outbox.start(shutdown.clone());
    settle(&outbox).await;
    assert_eq!(*recorder.sent.lock().unwrap(), vec!["left over"]);
    assert!(store.outbox().await.unwrap().is_empty());
    shutdown.cancel();
}

#[tokio::test]
async fn a_refused_item_is_given_up_and_a_dropped_one_never_sent() {
    let store = Store::memory();
    let (outbox, mut giveups, recorder) = open(&store).await;
    let seqs = commit(&store, &outbox, &[("u1", "refuse me"), ("u2", "drop me")]).await;
    assert!(outbox.drop_item(seqs[1]).await.unwrap());
    assert!(!outbox.drop_item(999).await.unwrap(), "no such item");
    let shutdown = Shutdown::new();
    outbox.start(shutdown.clone());
    let given_up = tokio::time::timeout(Duration::from_secs(5), giveups.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(given_up.reason.contains("chat gone"), "{}", given_up.reason);
    settle(&outbox).await;
    assert!(recorder.sent.lock().unwrap().is_empty());
    assert!(store.outbox().await.unwrap().is_empty());
    shutdown.cancel();
}
