//! Order across processes on the PostgreSQL store: a step finds an earlier message of its conversation that
//! another process stored, a chat's later outbox item waits for an earlier one another process holds, and the
//! lead of a single receiver passes to a waiting process when the leader lets go or its connection dies.
//! Skipped with a message when PostgreSQL is not installed, unless `SUPPORTBOT_REQUIRE_POSTGRES=1`.

mod pg_support;

use std::time::Duration;

use pg_support::*;
use supportbot::store::{Backend, Commit};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_finds_the_earlier_message_another_process_stored() {
    let Some(db) = Db::new("earlier_inbound").await else {
        return;
    };
    let (a, b) = (db.open().await, db.open().await);
    let (first, _) = a.store_inbound(&inbound("m1")).await.unwrap().unwrap();
    let (second, _) = b.store_inbound(&inbound("m2")).await.unwrap().unwrap();
    let mut other = inbound("x1");
    other.inbound.chat = "43".into();
    other.inbound.user = "43".into();
    b.store_inbound(&other).await.unwrap().unwrap();

    let step = b.begin_step("telegram:42").await.unwrap();
    let earlier = step.earlier_unhandled("telegram:42", second).await.unwrap();
    assert_eq!(
        earlier.map(|m| (m.seq, m.inbound.id)),
        Some((first, "m1".to_string()))
    );
    assert!(
        step.earlier_unhandled("telegram:42", first)
            .await
            .unwrap()
            .is_none(),
        "nothing before the first"
    );
    assert!(
        step.earlier_unhandled("telegram:43", second)
            .await
            .unwrap()
            .is_none(),
        "another conversation's message is not earlier"
    );
    step.commit(Commit {
        handled: Some(first),
        ..Commit::default()
    })
    .await
    .unwrap();
    let step = b.begin_step("telegram:42").await.unwrap();
    assert!(
        step.earlier_unhandled("telegram:42", second)
            .await
            .unwrap()
            .is_none(),
        "handled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chats_later_item_waits_for_an_earlier_one_another_process_holds() {
    let Some(db) = Db::new("earlier_outbox").await else {
        return;
    };
    let (a, b) = (db.open().await, db.open().await);
    let mut commit = Commit::default();
    commit.outbox.push(outbox_item(0, "u1", "first"));
    let held_by_a = a
        .begin_step("web:u1")
        .await
        .unwrap()
        .commit(commit)
        .await
        .unwrap()
        .outbox_seqs[0];
    let mut commit = Commit::default();
    commit.outbox.push(outbox_item(0, "u1", "second"));
    commit.outbox.push(outbox_item(0, "u2", "other chat"));
    let held_by_b = b
        .begin_step("web:u1")
        .await
        .unwrap()
        .commit(commit)
        .await
        .unwrap()
        .outbox_seqs;
    assert!(b.earlier_undelivered("web:u1", held_by_b[0]).await.unwrap());
    assert!(
        !b.earlier_undelivered("web:u2", held_by_b[1]).await.unwrap(),
        "another chat does not wait"
    );
    assert!(
        !a.earlier_undelivered("web:u1", held_by_a).await.unwrap(),
        "nothing before the first"
    );
    a.complete_outbox(held_by_a).await.unwrap();
    assert!(!b.earlier_undelivered("web:u1", held_by_b[0]).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lead_of_a_receiver_passes_to_a_waiting_process() {
    let Some(db) = Db::new("lead").await else {
        return;
    };
    let (a, b) = (db.open().await, db.open().await);
    let lead = a.lead("telegram:polling").await.unwrap();
    let waiting = tokio::spawn(async move { b.lead("telegram:polling").await.unwrap() });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!waiting.is_finished(), "two processes led at once");
    let other_role = a.lead("discord:gateway").await.unwrap();
    drop(lead);
    let lead_b = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the waiting process leads once the first lets go")
        .unwrap();
    assert!(!lead_b.lost().is_cancelled());
    drop(other_role);

    // A leader whose connection is killed loses the lead, and the lock is free again.
    let c = db.open().await;
    let d = db.open().await;
    let lead_c = c.lead("wechat:test").await.unwrap();
    db.psql(
        "SELECT pg_terminate_backend(pid) FROM pg_locks \
         WHERE locktype = 'advisory' AND classid = x'53420002'::int AND granted",
    );
    tokio::time::timeout(Duration::from_secs(10), lead_c.lost().cancelled())
        .await
        .expect("the lead is lost with its connection");
    let lead_d = tokio::time::timeout(Duration::from_secs(10), d.lead("wechat:test"))
        .await
        .expect("another process leads then")
        .unwrap();
    drop(lead_d);
}
