//! Failover between two `serve` processes on one PostgreSQL database: one is SIGKILLed with its replies waiting
//! in its outbox (the receiver refusing them) and messages in flight. Every message it acknowledged is answered
//! exactly once, by the survivor: the replies it had queued once their leases run out, the messages it had
//! stored but not handled once they are left long enough.
#![cfg(all(feature = "webhook", feature = "web"))]

mod scale_support;
mod webhook_support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use scale_support::*;
use webhook_support::*;

/// Conversations whose replies wait in the killed process's outbox.
const QUEUED: usize = 20;
/// Messages posted at once just before the kill.
const BURST: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_killed_instance_acknowledged_is_answered_by_the_survivor() {
    let Some(cluster) = supportbot_pg_cluster::shared() else {
        return;
    };
    let url = cluster.database("failover");
    let rx = Receiver::start(&[("/cb", SECRET)], vec![]).await;
    rx.set_refusing(true);
    let dir = tempfile::tempdir().unwrap();
    let callback = format!("{}/cb", rx.base);
    let mut a = start(dir.path(), "a", &url, &callback);
    let _b = start(dir.path(), "b", &url, &callback);

    // Replies queued on A and refused by the receiver.
    let mut acknowledged = Vec::new();
    for c in 0..QUEUED {
        let (chat, id) = (format!("q{c}"), format!("q{c}-1"));
        say(&a.base, &chat, &id, "554 DT:SPM 怎么办").await;
        acknowledged.push(id);
    }
    wait_until("A tried its replies", Duration::from_secs(30), || {
        let tried: HashSet<String> = rx
            .attempts()
            .iter()
            .filter_map(|t| t.body["chat"].as_str().map(String::from))
            .collect();
        tried.len() >= QUEUED
    })
    .await;

    // A burst of messages to A, killed while they arrive: some acknowledged and handled, some acknowledged
    // only, some never acknowledged.
    let mut burst = Vec::new();
    for c in 0..BURST {
        let base = a.base.clone();
        burst.push(tokio::spawn(async move {
            let (chat, id) = (format!("b{c}"), format!("b{c}-1"));
            (
                id.clone(),
                post(&base, &chat, &id, "怎么设置邮件自动回复").await,
            )
        }));
        if c == BURST / 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    for sent in burst {
        let (id, status) = sent.await.unwrap();
        if status == 200 {
            acknowledged.push(id);
        }
    }
    assert!(
        acknowledged.len() > QUEUED,
        "some of the burst was acknowledged before the kill"
    );
    rx.accept_all();

    // B takes over A's leases (30 s) and the messages A left unhandled (30 s), looking every 10 s.
    let wanted: HashSet<String> = acknowledged.iter().cloned().collect();
    wait_until(
        "every acknowledged message answered",
        Duration::from_secs(120),
        || {
            let answered: HashSet<String> = rx
                .accepted("/cb")
                .iter()
                .filter_map(|a| a.body["reply_to"].as_str().map(String::from))
                .collect();
            wanted.is_subset(&answered)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut answers: HashMap<String, usize> = HashMap::new();
    for a in rx.accepted("/cb") {
        if let Some(to) = a.body["reply_to"].as_str() {
            *answers.entry(to.to_string()).or_default() += 1;
        }
    }
    for id in &acknowledged {
        assert_eq!(answers.get(id), Some(&1), "{id} answered once");
    }
    let keys: Vec<String> = rx.accepted("/cb").iter().map(|a| a.key.clone()).collect();
    let unique: HashSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "an item was delivered twice");
}
