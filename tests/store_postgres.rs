//! The PostgreSQL store against a real throw-away cluster (the storage interface's own checks, every record kind
//! among them, run on it from `src/store/postgres/tests.rs`): steps of one conversation queued across two
//! connection pools (two processes), a real collision failing as a conflict, received messages stored once,
//! sequence numbers unique under concurrency, outbox leases taken over after they run out and claimed past locked
//! rows, and the schema migrations (fresh, again, newer refused).
//! Skipped with a message when PostgreSQL is not installed, unless `SUPPORTBOT_REQUIRE_POSTGRES=1`.

mod pg_support;

use std::collections::HashSet;
use std::time::Duration;

use pg_support::*;
use supportbot::store::postgres::PgStore;
use supportbot::store::{Backend, Commit, StoreError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_conversation_is_recognised_until_it_changes() {
    let Some(db) = Db::new("stamp").await else {
        return;
    };
    let store = db.open().await;
    commit_conversation(&store, "web:u1", "first")
        .await
        .unwrap();
    let known = store.conversation("web:u1").await.unwrap().unwrap();
    let step = store.begin_step("web:u1").await.unwrap();
    assert!(step
        .conversation_if_changed("web:u1", &known.stamp)
        .await
        .unwrap()
        .is_none());
    drop(step);
    commit_conversation(&store, "web:u1", "second")
        .await
        .unwrap();
    let step = store.begin_step("web:u1").await.unwrap();
    let now = step
        .conversation_if_changed("web:u1", &known.stamp)
        .await
        .unwrap();
    assert_eq!(now.unwrap().unwrap().name, "second");
    assert!(matches!(
        step.conversation_if_changed("web:none", &known.stamp).await,
        Ok(Some(None))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_of_one_conversation_wait_for_each_other_across_processes() {
    let Some(db) = Db::new("ordering").await else {
        return;
    };
    let (a, b) = (db.open().await, db.open().await);
    let first = a.begin_step("web:u1").await.unwrap();
    let waiting = {
        let b = b.clone();
        tokio::spawn(async move { b.begin_step("web:u1").await })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !waiting.is_finished(),
        "the second step waits for the first"
    );

    // Another conversation is not held up.
    let other = tokio::time::timeout(Duration::from_secs(5), b.begin_step("web:u2"))
        .await
        .expect("a step of another conversation starts at once")
        .unwrap();
    drop(other);

    let mut commit = Commit::default();
    commit
        .writes
        .conversations
        .insert("web:u1".into(), conversation("web:u1", "after the first"));
    first.commit(commit).await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the second step starts once the first committed")
        .unwrap()
        .unwrap();
    let seen = second.conversation("web:u1").await.unwrap().unwrap();
    assert_eq!(
        seen.value.name, "after the first",
        "it reads what the first stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_dropped_or_cancelled_releases_its_conversation() {
    let Some(db) = Db::new("dropped").await else {
        return;
    };
    let (a, b) = (db.open().await, db.open().await);
    let step = a.begin_step("web:u1").await.unwrap();
    let mut commit = Commit::default();
    commit
        .writes
        .conversations
        .insert("web:u1".into(), conversation("web:u1", "never stored"));
    drop(step);
    let again = tokio::time::timeout(Duration::from_secs(5), b.begin_step("web:u1"))
        .await
        .expect("a dropped step lets the next one run")
        .unwrap();
    assert!(again.conversation("web:u1").await.unwrap().is_none());

    // A step given up while it waits for the lock does not keep it once granted.
    let cancelled = tokio::time::timeout(Duration::from_millis(300), a.begin_step("web:u1")).await;
    assert!(cancelled.is_err(), "it was waiting");
    drop(again);
    let third = tokio::time::timeout(Duration::from_secs(5), b.begin_step("web:u1"))
        .await
        .expect("the cancelled request released the lock")
        .unwrap();
    drop(third);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_that_collide_fail_with_a_conflict_and_store_nothing() {
    let Some(db) = Db::new("conflict").await else {
        return;
    };
    let (a, b) = (db.open().await, db.open().await);
    let sa = a.begin_step("web:a").await.unwrap();
    let sb = b.begin_step("web:b").await.unwrap();
    // Both count the same unanswered question from what they read, and both change one shared record.
    assert_eq!(sa.unanswered("how to fly").await.unwrap(), None);
    assert_eq!(sb.unanswered("how to fly").await.unwrap(), None);
    assert!(sa.conversation("web:shared").await.unwrap().is_none());
    assert!(sb.conversation("web:shared").await.unwrap().is_none());
    let mut ca = Commit::default();
    ca.writes.unanswered.insert("how to fly".into(), 1);
    ca.writes
        .conversations
        .insert("web:shared".into(), conversation("web:shared", "a"));
    sa.commit(ca).await.unwrap();
    // Its first statement collides; the ones sent with it fail as "transaction aborted": the cause is reported.
    let mut cb = Commit::default();
    cb.writes.unanswered.insert("how to fly".into(), 1);
    cb.writes
        .conversations
        .insert("web:shared".into(), conversation("web:shared", "b"));
    cb.writes
        .conversations
        .insert("web:b".into(), conversation("web:b", "b"));
    let err = sb.commit(cb).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(
        b.conversation("web:b").await.unwrap().is_none(),
        "nothing of it stored"
    );

    // Run again, it reads the other's count and stores its own.
    let sb = b.begin_step("web:b").await.unwrap();
    let count = sb.unanswered("how to fly").await.unwrap().unwrap_or(0);
    let mut cb = Commit::default();
    cb.writes.unanswered.insert("how to fly".into(), count + 1);
    sb.commit(cb).await.unwrap();
    assert_eq!(
        a.unanswered_questions().await.unwrap(),
        vec![("how to fly".to_string(), 2)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_message_is_stored_once_and_handled_once() {
    let Some(db) = Db::new("dedupe").await else {
        return;
    };
    let (a, b) = (db.open().await, db.open().await);
    assert!(!a.seen("telegram", "m1").await.unwrap());
    let (seq, ticket) = a.store_inbound(&inbound("m1")).await.unwrap().unwrap();
    a.durable(ticket).await.unwrap();
    assert!(b.seen("telegram", "m1").await.unwrap());
    assert!(b.store_inbound(&inbound("m1")).await.unwrap().is_none());
    let (seq2, _) = b.store_inbound(&inbound("m2")).await.unwrap().unwrap();
    assert!(seq2 > seq);
    let unhandled: Vec<(u64, String)> = a
        .unhandled()
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.seq, m.inbound.id))
        .collect();
    assert_eq!(unhandled, vec![(seq, "m1".into()), (seq2, "m2".into())]);

    // Both processes handle m1 (each found it unhandled at start): the second commit stores nothing.
    let sa = a.begin_step("telegram:42").await.unwrap();
    sa.commit(Commit {
        handled: Some(seq),
        ..Commit::default()
    })
    .await
    .unwrap();
    let sb = b.begin_step("telegram:42").await.unwrap();
    let mut commit = Commit {
        handled: Some(seq),
        ..Commit::default()
    };
    commit
        .writes
        .conversations
        .insert("telegram:42".into(), conversation("telegram:42", "twice"));
    commit.outbox.push(outbox_item(0, "42", "twice"));
    let err = sb.commit(commit).await.unwrap_err();
    assert!(matches!(err, StoreError::Handled(s) if s == seq), "{err}");
    assert!(b.conversation("telegram:42").await.unwrap().is_none());
    assert!(b.outbox().await.unwrap().is_empty(), "nothing of it stored");
    // The refused step let go of the conversation: the next one begins at once and stores.
    let next = tokio::time::timeout(Duration::from_secs(5), b.begin_step("telegram:42"))
        .await
        .expect("the conversation was released")
        .unwrap();
    commit_step_conversation(next, "after").await;
    assert_eq!(
        a.conversation("telegram:42")
            .await
            .unwrap()
            .unwrap()
            .value
            .name,
        "after"
    );
    assert!(
        a.seen("telegram", "m1").await.unwrap(),
        "still a duplicate once handled"
    );

    // One platform id redelivered to many tasks of two processes at once is stored once.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            store.store_inbound(&inbound("burst")).await.unwrap()
        }));
    }
    let mut stored = 0;
    for t in tasks {
        stored += usize::from(t.await.unwrap().is_some());
    }
    assert_eq!(stored, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_and_outbox_numbers_are_unique_across_processes() {
    let Some(db) = Db::new("sequences").await else {
        return;
    };
    let stores = [db.open().await, db.open().await];
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = stores[t % 2].clone();
        tasks.push(tokio::spawn(async move {
            let mut numbers = Vec::new();
            let mut seqs = Vec::new();
            for i in 0..20 {
                let step = store.begin_step(&format!("web:t{t}")).await.unwrap();
                numbers.push(step.next_case_number().await.unwrap());
                if i % 5 == 4 {
                    // A failed step's number is not handed out again.
                    drop(step);
                    continue;
                }
                let mut commit = Commit::default();
                commit.outbox.push(outbox_item(0, "u", "a"));
                commit.outbox.push(outbox_item(0, "u", "b"));
                seqs.extend(step.commit(commit).await.unwrap().outbox_seqs);
            }
            (numbers, seqs)
        }));
    }
    let (mut numbers, mut seqs) = (Vec::new(), Vec::new());
    for t in tasks {
        let (n, s) = t.await.unwrap();
        numbers.extend(n);
        seqs.extend(s);
    }
    let unique: HashSet<u64> = numbers.iter().copied().collect();
    assert_eq!(unique.len(), 160, "no case number twice");
    assert_eq!(unique.iter().min(), Some(&1001));
    assert_eq!(unique.iter().max(), Some(&1160));
    let unique: HashSet<u64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), 8 * 16 * 2, "no outbox number twice");
    assert_eq!(stores[0].outbox().await.unwrap().len(), 8 * 16 * 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_items_are_taken_over_when_their_lease_runs_out() {
    let Some(db) = Db::new("leases").await else {
        return;
    };
    let (a, b) = (db.open().await, db.open().await);
    let step = a.begin_step("web:u1").await.unwrap();
    let mut commit = Commit::default();
    for text in ["one", "two", "three"] {
        commit.outbox.push(outbox_item(0, "u1", text));
    }
    let seqs = step.commit(commit).await.unwrap().outbox_seqs;
    assert!(
        a.claim_outbox().await.unwrap().is_empty(),
        "a holds them already"
    );
    assert!(
        b.claim_outbox().await.unwrap().is_empty(),
        "a's leases are live"
    );
    let until = db.lease_seconds_left(a.instance());
    assert!(
        (25..=30).contains(&until),
        "leased for OUTBOX_LEASE: {until}s"
    );

    // a stops renewing (it died): once its leases run out, b takes the items over, in order.
    db.psql("UPDATE outbox SET lease_until = now() - interval '1 second'");
    let taken: Vec<u64> = b
        .claim_outbox()
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(taken, seqs);
    assert!(a.claim_outbox().await.unwrap().is_empty(), "now b's");
    assert!(
        b.claim_outbox().await.unwrap().is_empty(),
        "b has them already"
    );
    db.psql("UPDATE outbox SET lease_until = now() + interval '1 second'");
    b.renew_outbox().await.unwrap();
    assert!(db.lease_seconds_left(b.instance()) >= 25, "renewed");

    b.complete_outbox(seqs[0]).await.unwrap();
    let mut item = b.outbox().await.unwrap()[0].clone();
    item.created_ms = 99;
    b.update_outbox(&item).await.unwrap();
    let left = a.outbox().await.unwrap();
    assert_eq!(left.len(), 2);
    assert_eq!(left[0].created_ms, 99);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_skips_items_another_claim_has_locked() {
    let Some(db) = Db::new("skip_locked").await else {
        return;
    };
    let (a, b) = (db.open().await, db.open().await);
    let step = a.begin_step("web:u1").await.unwrap();
    let mut commit = Commit::default();
    for text in ["one", "two", "three"] {
        commit.outbox.push(outbox_item(0, "u1", text));
    }
    let seqs = step.commit(commit).await.unwrap().outbox_seqs;
    db.psql("UPDATE outbox SET lease_until = now() - interval '1 second'");

    // Another claimer is in the middle of taking the first item.
    let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client.batch_execute("BEGIN").await.unwrap();
    client
        .execute(
            "SELECT seq FROM outbox WHERE seq = $1 FOR UPDATE",
            &[&(seqs[0] as i64)],
        )
        .await
        .unwrap();
    let claimed = tokio::time::timeout(Duration::from_secs(5), b.claim_outbox())
        .await
        .expect("a claim does not wait for locked rows")
        .unwrap();
    let claimed: Vec<u64> = claimed.iter().map(|r| r.seq).collect();
    assert_eq!(claimed, seqs[1..].to_vec());
    client.batch_execute("ROLLBACK").await.unwrap();
    let rest: Vec<u64> = b
        .claim_outbox()
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(
        rest,
        vec![seqs[0]],
        "free again once the other claim is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_is_created_then_left_alone_and_a_newer_one_is_refused() {
    let Some(db) = Db::new("migrations").await else {
        return;
    };
    let store = PgStore::open(&db.database_url()).await.unwrap();
    assert_eq!((store.migrated().from, store.migrated().to), (0, 3));
    commit_conversation(&store, "web:u1", "kept").await.unwrap();
    drop(store);
    let again = PgStore::open(&db.database_url()).await.unwrap();
    assert_eq!((again.migrated().from, again.migrated().to), (3, 3));
    assert_eq!(db.psql("SELECT count(*) FROM schema_version"), "3");
    assert!(again.conversation("web:u1").await.unwrap().is_some());

    let Some(newer) = Db::new("newer_schema").await else {
        return;
    };
    newer.psql(
        "CREATE TABLE schema_version (version integer PRIMARY KEY, name text NOT NULL, \
         applied_at timestamptz NOT NULL DEFAULT now()); \
         INSERT INTO schema_version (version, name) VALUES (99, 'from the future')",
    );
    let err = PgStore::open(&newer.database_url()).await.err().unwrap();
    assert!(
        matches!(
            err,
            StoreError::NewerSchema {
                found: 99,
                known: 3,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("newer"), "{err}");
    assert_eq!(
        newer.psql("SELECT to_regclass('conversations') IS NULL"),
        "t",
        "nothing written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_or_no_server_is_a_clear_error() {
    let Some(db) = Db::new("connect").await else {
        return;
    };
    let wrong = db.url.replace(db.cluster.password(), "not-the-password");
    let err = PgStore::open(&parse_url(&wrong)).await.err().unwrap();
    assert!(matches!(err, StoreError::Connect { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(!text.contains("not-the-password"), "{text}");

    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let nowhere = parse_url(&format!("postgres://bot:pw@127.0.0.1:{port}/supportbot"));
    let err = PgStore::open(&nowhere).await.err().unwrap();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Connect { .. }), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

/// Commits conversation `telegram:42` named `name` in `step`.
async fn commit_step_conversation(step: Box<dyn supportbot::store::Step>, name: &str) {
    let mut commit = Commit::default();
    commit
        .writes
        .conversations
        .insert("telegram:42".into(), conversation("telegram:42", name));
    step.commit(commit).await.unwrap();
}
