//! The storage interface's rules, checked on every backend: each check is a function of a fresh store, run here
//! on the sled store in a temporary directory and on the in-memory store (other backends run the same checks).

use supportbot_chat::CaseEntry;

use super::fixtures::{case, commit, conversation, inbound, line, now, outbox_item};
use super::records::{CaseLog, Reserved};
use super::{Commit, QueueEntry, RecentSlot, Store};

/// Every kind of record written by one commit is read back, in a step and outside one; removals too.
pub(crate) async fn every_kind_of_record(store: &Store) {
    let mut c = Commit::default();
    let w = &mut c.writes;
    w.conversations
        .insert("web:u1".into(), conversation("web:u1", "Li Lei"));
    w.recent
        .insert(("web:u1".into(), RecentSlot::Ring(3)), Some(line("hello")));
    w.recent.insert(
        ("web:u1".into(), RecentSlot::Numbered(0x1a)),
        Some(line("old")),
    );
    w.cases.insert(1001, case(1001, "mail", "web:u1"));
    let entry = CaseEntry {
        at: now(),
        role: "user".into(),
        name: "Li Lei".into(),
        text: "554".into(),
        attachments: vec![],
    };
    w.case_logs.insert((1001, 0), CaseLog::Entry(entry));
    w.user_cases.insert("web:u1".into(), Some("C-1001".into()));
    w.held.insert(("telegram:5001".into(), 1001), true);
    let entry = QueueEntry {
        priority: 1,
        queued_ms: 5,
        number: 1001,
    };
    w.queue.insert(entry, true);
    let until = now();
    w.reserved.insert(1001, Some(Reserved { until, files: 2 }));
    w.case_messages.insert("env#0".into(), "C-1001".into());
    w.unanswered.insert("how to fly".into(), 3);
    c.outbox.push(outbox_item(0, "u1", "answer"));
    c.outbox.push(outbox_item(0, "u1", "and more"));
    let stored = commit(store, c).await;
    assert_eq!(stored.outbox_seqs.len(), 2);
    assert!(
        stored.outbox_seqs[0] < stored.outbox_seqs[1],
        "numbered in the order given"
    );

    let step = store.begin_step("web:u1").await.unwrap();
    let read = step.conversation("web:u1").await.unwrap().unwrap();
    assert_eq!(read.value.name, "Li Lei");
    let mut slots: Vec<RecentSlot> = step
        .recent_lines("web:u1")
        .await
        .unwrap()
        .iter()
        .map(|(slot, _)| *slot)
        .collect();
    slots.sort();
    assert_eq!(slots, vec![RecentSlot::Ring(3), RecentSlot::Numbered(0x1a)]);
    assert!(
        step.recent_lines("web:u").await.unwrap().is_empty(),
        "keys are not prefixes"
    );
    assert_eq!(step.case(1001).await.unwrap().unwrap().team, "mail");
    assert!(step.case(1002).await.unwrap().is_none());
    assert!(
        matches!(step.case_line(1001, 0).await.unwrap(), Some(CaseLog::Entry(e)) if e.text == "554")
    );
    assert_eq!(
        step.open_case_of("web:u1").await.unwrap().as_deref(),
        Some("C-1001")
    );
    assert_eq!(step.held_cases("telegram:5001").await.unwrap(), vec![1001]);
    assert!(step.held_cases("telegram:500").await.unwrap().is_empty());
    assert_eq!(step.waiting().await.unwrap(), vec![entry]);
    assert_eq!(step.reserved().await.unwrap()[0].1.files, 2);
    assert_eq!(
        step.case_of_message("env#0").await.unwrap().as_deref(),
        Some("C-1001")
    );
    assert_eq!(step.unanswered("how to fly").await.unwrap(), Some(3));
    drop(step);

    assert_eq!(store.case_lines(1001).await.unwrap().len(), 1);
    assert_eq!(store.recent_lines("web:u1").await.unwrap().len(), 2);
    assert_eq!(
        store.unanswered_questions().await.unwrap(),
        vec![("how to fly".into(), 3)]
    );
    assert_eq!(store.conversations().await.unwrap().len(), 1);
    assert_eq!(store.cases().await.unwrap().len(), 1);
    assert_eq!(store.waiting().await.unwrap(), vec![entry]);
    assert_eq!(store.reserved().await.unwrap().len(), 1);
    let outbox: Vec<u64> = store
        .outbox()
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(
        outbox, stored.outbox_seqs,
        "items carry the numbers they were given"
    );
    store
        .remember_case_message("pm:telegram:42:9", "C-1001")
        .await
        .unwrap();
    assert_eq!(
        store
            .case_of_message("pm:telegram:42:9")
            .await
            .unwrap()
            .as_deref(),
        Some("C-1001")
    );

    // Removals.
    let mut c = Commit::default();
    let w = &mut c.writes;
    w.recent
        .insert(("web:u1".into(), RecentSlot::Ring(3)), None);
    w.recent
        .insert(("web:u1".into(), RecentSlot::Numbered(0x1a)), None);
    w.user_cases.insert("web:u1".into(), None);
    w.held.insert(("telegram:5001".into(), 1001), false);
    w.queue.insert(entry, false);
    w.reserved.insert(1001, None);
    commit(store, c).await;
    let step = store.begin_step("web:u1").await.unwrap();
    assert!(step.recent_lines("web:u1").await.unwrap().is_empty());
    assert!(step.open_case_of("web:u1").await.unwrap().is_none());
    assert!(step.held_cases("telegram:5001").await.unwrap().is_empty());
    assert!(step.waiting().await.unwrap().is_empty());
    assert!(step.reserved().await.unwrap().is_empty());
}

/// A platform message is stored once, numbered in arrival order, and leaves with the step that handled it.
pub(crate) async fn inbound_messages(store: &Store) {
    assert!(!store.seen("telegram", "m1").await.unwrap());
    let (first, ticket) = store
        .store_inbound(&inbound("m1"))
        .await
        .unwrap()
        .expect("new");
    store.durable(ticket).await.unwrap();
    assert!(store.seen("telegram", "m1").await.unwrap());
    assert!(
        store.store_inbound(&inbound("m1")).await.unwrap().is_none(),
        "the same platform id again is refused"
    );
    let (second, _) = store
        .store_inbound(&inbound("m2"))
        .await
        .unwrap()
        .expect("new");
    assert!(second > first, "arrival order");
    let seqs: Vec<u64> = store
        .unhandled()
        .await
        .unwrap()
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, vec![first, second]);
    commit(
        store,
        Commit {
            handled: Some(first),
            ..Commit::default()
        },
    )
    .await;
    let seqs: Vec<u64> = store
        .unhandled()
        .await
        .unwrap()
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, vec![second]);
    assert!(
        store.seen("telegram", "m1").await.unwrap(),
        "still a duplicate once handled"
    );
}

/// Case numbers count up from 1001 and are never handed out twice, even by a step that is not committed.
pub(crate) async fn case_numbers(store: &Store) {
    let step = store.begin_step("a").await.unwrap();
    assert_eq!(step.next_case_number().await.unwrap(), 1001);
    drop(step);
    let step = store.begin_step("a").await.unwrap();
    assert_eq!(step.next_case_number().await.unwrap(), 1002);
}

/// A conversation read earlier is recognised by its stamp until a commit changes it.
pub(crate) async fn known_conversations(store: &Store) {
    let mut c = Commit::default();
    let conv = conversation("web:u1", "first");
    c.writes.conversations.insert(conv.key.clone(), conv);
    commit(store, c).await;
    let known = store.conversation("web:u1").await.unwrap().unwrap();
    let step = store.begin_step("web:u1").await.unwrap();
    assert!(step
        .conversation_if_changed("web:u1", &known.stamp)
        .await
        .unwrap()
        .is_none());
    let mut c = Commit::default();
    let conv = conversation("web:u1", "second");
    c.writes.conversations.insert(conv.key.clone(), conv);
    step.commit(c).await.unwrap();
    let step = store.begin_step("web:u1").await.unwrap();
    let now = step
        .conversation_if_changed("web:u1", &known.stamp)
        .await
        .unwrap();
    assert_eq!(now.unwrap().unwrap().name, "second");
}

/// Outbox items get increasing numbers; this process holds the items its steps queued, claims the ones
/// nobody holds once, and completes them.
pub(crate) async fn outbox_items(store: &Store) {
    let mut c = Commit::default();
    c.outbox.push(outbox_item(0, "u1", "a"));
    c.outbox.push(outbox_item(0, "u2", "b"));
    let seqs = commit(store, c).await.outbox_seqs;
    assert_eq!(seqs.len(), 2);
    assert!(seqs[0] < seqs[1]);
    assert!(
        store.claim_outbox().await.unwrap().is_empty(),
        "items a step of this process queued are held by it already"
    );
    store.renew_outbox().await.unwrap();
    store.complete_outbox(seqs[0]).await.unwrap();
    let left: Vec<u64> = store
        .outbox()
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(left, vec![seqs[1]]);

    let mut item = store.outbox().await.unwrap().remove(0);
    item.created_ms = 99;
    store.update_outbox(&item).await.unwrap();
    assert_eq!(store.outbox().await.unwrap()[0].created_ms, 99);

    let mut c = Commit::default();
    c.outbox.push(outbox_item(0, "u1", "c"));
    let later = commit(store, c).await.outbox_seqs;
    assert!(later[0] > seqs[1], "numbers are not reused");
}

/// Runs every check on a fresh store from `open`.
pub(crate) async fn all_checks<F, Fut>(open: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Store>,
{
    every_kind_of_record(&open().await).await;
    inbound_messages(&open().await).await;
    case_numbers(&open().await).await;
    known_conversations(&open().await).await;
    outbox_items(&open().await).await;
}

#[tokio::test]
async fn the_sled_store_keeps_the_interface_rules() {
    let dirs = std::sync::Mutex::new(Vec::new());
    all_checks(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 4).unwrap();
        dirs.lock().unwrap().push(dir);
        async move { store }
    })
    .await;
}

#[tokio::test]
async fn the_memory_store_keeps_the_interface_rules() {
    all_checks(|| async { Store::memory() }).await;
}

#[tokio::test]
async fn a_second_step_of_a_conversation_waits_for_the_first() {
    let store = Store::memory();
    let first = store.begin_step("web:u1").await.unwrap();
    let second = store.begin_step("web:u1");
    tokio::pin!(second);
    let waited = tokio::time::timeout(std::time::Duration::from_millis(50), &mut second).await;
    assert!(waited.is_err(), "the second step began while the first ran");
    drop(first);
    second.await.unwrap();
}

#[tokio::test]
async fn the_sled_store_claims_items_left_by_an_earlier_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let seq = {
        let store = Store::open(dir.path(), 4).unwrap();
        let mut c = Commit::default();
        c.outbox.push(outbox_item(0, "u1", "a"));
        let seq = commit(&store, c).await.outbox_seqs[0];
        store.flush().await.unwrap();
        seq
    };
    super::sled::fault_tests::wait_unlocked(dir.path()).await;
    let store = Store::open(dir.path(), 4).unwrap();
    let claimed: Vec<u64> = store
        .claim_outbox()
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(claimed, vec![seq]);
    assert!(store.claim_outbox().await.unwrap().is_empty(), "held now");
}

#[tokio::test]
async fn recent_lines_stored_under_their_numbers_are_read_from_sled() {
    // Earlier versions kept each recent line under its number (16 hex digits); the sled backend reads them.
    let dir = tempfile::tempdir().unwrap();
    let sled = super::SledStore::open(dir.path(), 4).unwrap();
    let mut batch = super::sled::Batch::default();
    let key = super::sled::keys::recent_numbered("web:u1", 0x1a);
    batch.insert(key, super::encode(&line("old")));
    sled.apply(batch).unwrap();
    let store = Store::new(sled);
    let lines = store.recent_lines("web:u1").await.unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].0, RecentSlot::Numbered(0x1a));

    // And a commit removes it by the same slot.
    let mut c = Commit::default();
    c.writes
        .recent
        .insert(("web:u1".into(), RecentSlot::Numbered(0x1a)), None);
    commit(&store, c).await;
    assert!(store.recent_lines("web:u1").await.unwrap().is_empty());
}
