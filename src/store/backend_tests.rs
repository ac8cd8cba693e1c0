//! The storage interface's rules, checked on both backends: the sled store in a temporary directory and the
//! in-memory store.

use std::time::Duration;

use supportbot_chat::{CaseEntry, Inbound};

use super::fixtures::{case, conversation, line, now, outbox_item};
use super::records::{CaseLog, Reserved, StoredInbound};
use super::{Commit, QueueEntry, RecentSlot, Store};

/// Runs `check` on a fresh store of each backend.
fn on_both(check: impl Fn(&Store)) {
    let dir = tempfile::tempdir().unwrap();
    check(&Store::open(dir.path(), 4).unwrap());
    check(&Store::memory());
}

fn inbound(seq: u64, id: &str) -> StoredInbound {
    StoredInbound {
        seq,
        inbound: Inbound {
            platform: "telegram".into(),
            chat: "42".into(),
            user: "42".into(),
            name: "Li Lei".into(),
            id: id.into(),
            text: "你好".into(),
            group: false,
            mention: false,
            reply_to: None,
            ts: None,
            attachments: vec![],
            locale: None,
            operator_room: false,
        },
        oversized: None,
        throttled: false,
    }
}

#[test]
fn a_commit_stores_every_kind_of_record_and_reads_give_them_back() {
    on_both(|store| {
        let mut commit = Commit::default();
        let w = &mut commit.writes;
        w.conversations
            .insert("web:u1".into(), conversation("web:u1", "Li Lei"));
        w.recent
            .insert(("web:u1".into(), RecentSlot::Ring(3)), Some(line("hello")));
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
        commit.outbox.push(outbox_item(7, "u1", "answer"));
        store.commit(commit).unwrap();

        assert_eq!(
            store.conversation("web:u1").unwrap().unwrap().value.name,
            "Li Lei"
        );
        let recent = store.recent_lines("web:u1").unwrap();
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].0, RecentSlot::Ring(3));
        assert!(
            store.recent_lines("web:u").unwrap().is_empty(),
            "keys are not prefixes"
        );
        assert_eq!(store.case(1001).unwrap().unwrap().team, "mail");
        assert!(store.case(1002).unwrap().is_none());
        assert!(
            matches!(store.case_line(1001, 0).unwrap(), Some(CaseLog::Entry(e)) if e.text == "554")
        );
        assert_eq!(store.case_lines(1001).unwrap().len(), 1);
        assert_eq!(
            store.open_case_of("web:u1").unwrap().as_deref(),
            Some("C-1001")
        );
        assert_eq!(store.held_cases("telegram:5001").unwrap(), vec![1001]);
        assert!(store.held_cases("telegram:500").unwrap().is_empty());
        assert_eq!(store.waiting().unwrap(), vec![entry]);
        assert_eq!(store.reserved().unwrap()[0].1.files, 2);
        assert_eq!(
            store.case_of_message("env#0").unwrap().as_deref(),
            Some("C-1001")
        );
        assert_eq!(store.unanswered("how to fly").unwrap(), Some(3));
        assert_eq!(
            store.unanswered_questions().unwrap(),
            vec![("how to fly".into(), 3)]
        );
        assert_eq!(store.conversations().unwrap().len(), 1);
        assert_eq!(store.cases().unwrap().len(), 1);
        assert_eq!(store.outbox().unwrap()[0].seq, 7);

        // Removals.
        let mut commit = Commit::default();
        let w = &mut commit.writes;
        w.recent
            .insert(("web:u1".into(), RecentSlot::Ring(3)), None);
        w.user_cases.insert("web:u1".into(), None);
        w.held.insert(("telegram:5001".into(), 1001), false);
        w.queue.insert(entry, false);
        w.reserved.insert(1001, None);
        store.commit(commit).unwrap();
        assert!(store.recent_lines("web:u1").unwrap().is_empty());
        assert!(store.open_case_of("web:u1").unwrap().is_none());
        assert!(store.held_cases("telegram:5001").unwrap().is_empty());
        assert!(store.waiting().unwrap().is_empty());
        assert!(store.reserved().unwrap().is_empty());
    });
}

#[tokio::test]
async fn a_platform_message_is_stored_once_and_leaves_with_the_step_that_handled_it() {
    let dir = tempfile::tempdir().unwrap();
    for store in [Store::open(dir.path(), 4).unwrap(), Store::memory()] {
        assert!(!store.seen("telegram", "m1").unwrap());
        let ticket = store
            .store_inbound(&inbound(0, "m1"))
            .unwrap()
            .expect("new");
        store.durable(ticket).await.unwrap();
        assert!(store.seen("telegram", "m1").unwrap());
        assert!(
            store.store_inbound(&inbound(1, "m1")).unwrap().is_none(),
            "the same platform id again is refused"
        );
        store
            .store_inbound(&inbound(2, "m2"))
            .unwrap()
            .expect("new");
        let seqs: Vec<u64> = store.unhandled().unwrap().iter().map(|m| m.seq).collect();
        assert_eq!(seqs, vec![0, 2]);
        store
            .commit(Commit {
                handled: Some(0),
                ..Commit::default()
            })
            .unwrap();
        let seqs: Vec<u64> = store.unhandled().unwrap().iter().map(|m| m.seq).collect();
        assert_eq!(seqs, vec![2]);
        assert!(
            store.seen("telegram", "m1").unwrap(),
            "still a duplicate once handled"
        );
    }
}

#[test]
fn case_numbers_count_up_from_1001() {
    on_both(|store| {
        assert_eq!(store.next_case_number().unwrap(), 1001);
        assert_eq!(store.next_case_number().unwrap(), 1002);
    });
}

#[test]
fn a_known_conversation_is_recognised_until_it_changes() {
    on_both(|store| {
        let mut commit = Commit::default();
        let c = conversation("web:u1", "first");
        commit.writes.conversations.insert(c.key.clone(), c);
        store.commit(commit).unwrap();
        let known = store.conversation("web:u1").unwrap().unwrap();
        assert!(store
            .conversation_if_changed("web:u1", &known.stamp)
            .unwrap()
            .is_none());
        let mut commit = Commit::default();
        let c = conversation("web:u1", "second");
        commit.writes.conversations.insert(c.key.clone(), c);
        store.commit(commit).unwrap();
        let now = store
            .conversation_if_changed("web:u1", &known.stamp)
            .unwrap();
        assert_eq!(now.unwrap().unwrap().name, "second");
    });
}

#[test]
fn an_outbox_item_is_held_by_one_sender_until_its_lease_ends_or_it_completes() {
    on_both(|store| {
        let mut commit = Commit::default();
        commit.outbox.push(outbox_item(1, "u1", "a"));
        commit.outbox.push(outbox_item(2, "u2", "b"));
        store.commit(commit).unwrap();

        let lease = Duration::from_secs(60);
        let first: Vec<u64> = store
            .claim_outbox("a", lease)
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
        assert_eq!(first, vec![1, 2]);
        assert!(
            store.claim_outbox("b", lease).unwrap().is_empty(),
            "held by a"
        );
        assert_eq!(
            store.claim_outbox("a", lease).unwrap().len(),
            2,
            "a may claim again"
        );

        store.complete_outbox(1).unwrap();
        assert_eq!(store.outbox().unwrap().len(), 1);
        // A lease that has run out frees the item for another sender.
        let short = store.claim_outbox("a", Duration::ZERO).unwrap();
        assert_eq!(short.len(), 1);
        let taken: Vec<u64> = store
            .claim_outbox("b", lease)
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
        assert_eq!(taken, vec![2]);

        let mut item = outbox_item(2, "u2", "b");
        item.created_ms = 99;
        store.update_outbox(&item).unwrap();
        assert_eq!(store.outbox().unwrap()[0].created_ms, 99);
    });
}

#[test]
fn recent_lines_stored_under_their_numbers_are_read_from_sled() {
    // Earlier versions kept each recent line under its number (16 hex digits); the sled backend reads them.
    let dir = tempfile::tempdir().unwrap();
    let sled = super::SledStore::open(dir.path(), 4).unwrap();
    let mut batch = super::sled::Batch::default();
    let key = super::sled::keys::recent_numbered("web:u1", 0x1a);
    batch.insert(key, super::encode(&line("old")));
    sled.apply(batch).unwrap();
    let store = Store::new(sled);
    let lines = store.recent_lines("web:u1").unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].0, RecentSlot::Numbered(0x1a));

    // And a commit removes it by the same slot.
    let mut commit = Commit::default();
    commit
        .writes
        .recent
        .insert(("web:u1".into(), RecentSlot::Numbered(0x1a)), None);
    store.commit(commit).unwrap();
    assert!(store.recent_lines("web:u1").unwrap().is_empty());
}
