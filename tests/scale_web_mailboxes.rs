//! The PostgreSQL store's mailboxes of web pages, as two processes see them: numbers increase within a
//! mailbox, a mailbox keeps its last letters, live letters reach every listening process in order (long ones
//! too), letters kept only for history are not announced, both processes get one session key and see each
//! other's inbox sign-ins, and silent mailboxes and expired sign-ins are pruned.

mod pg_support;

use std::time::Duration;

use pg_support::Db;
use supportbot_chat::{Letter, MailEvent, PageMail, Shutdown};
use tokio::sync::mpsc;

async fn next(events: &mut mpsc::Receiver<MailEvent>) -> MailEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("an event within 10 s")
        .expect("listening")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn letters_are_numbered_kept_and_announced_to_every_process() {
    let Some(db) = Db::new("page_mail").await else {
        return;
    };
    let (a, b) = (db.open().await, db.open().await);
    let shutdown = Shutdown::new();
    let mut heard_a = a.listen(shutdown.clone());
    let mut heard_b = b.listen(shutdown.clone());
    assert_eq!(next(&mut heard_a).await, MailEvent::Listening);
    assert_eq!(next(&mut heard_b).await, MailEvent::Listening);

    // Letters posted through both processes: numbered in the order stored, the last three kept.
    let mut numbers = Vec::new();
    for i in 0..5 {
        let store = if i % 2 == 0 { &a } else { &b };
        let n = store
            .post("chat:s1", &format!("{{\"text\":\"m{i}\"}}"), i != 2, 3)
            .await
            .unwrap();
        numbers.push(n);
    }
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    let kept: Vec<String> = b
        .recent("chat:s1", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.body)
        .collect();
    assert_eq!(
        kept,
        [
            "{\"text\":\"m2\"}",
            "{\"text\":\"m3\"}",
            "{\"text\":\"m4\"}"
        ]
    );
    assert_eq!(a.recent("chat:s1", 2).await.unwrap().len(), 2);
    assert!(a.recent("chat:other", 10).await.unwrap().is_empty());

    // Every process hears every live letter, in order; m2 was kept for history only.
    for heard in [&mut heard_a, &mut heard_b] {
        for i in [0, 1, 3, 4] {
            assert_eq!(
                next(heard).await,
                MailEvent::Posted(Letter {
                    mailbox: "chat:s1".into(),
                    n: numbers[i],
                    body: format!("{{\"text\":\"m{i}\"}}"),
                })
            );
        }
    }

    // A letter too long for a notice is read from the table by the listener.
    let long = format!("{{\"text\":\"{}\"}}", "邮".repeat(4000));
    let n = a.post("inbox:admin", &long, true, 100).await.unwrap();
    for heard in [&mut heard_a, &mut heard_b] {
        assert_eq!(
            next(heard).await,
            MailEvent::Posted(Letter {
                mailbox: "inbox:admin".into(),
                n,
                body: long.clone(),
            })
        );
    }

    // A passing notice reaches every process and is stored nowhere.
    a.announce("chat:s3", "{\"type\":\"typing\"}")
        .await
        .unwrap();
    for heard in [&mut heard_a, &mut heard_b] {
        assert_eq!(
            next(heard).await,
            MailEvent::Passing("chat:s3".into(), "{\"type\":\"typing\"}".into())
        );
    }
    assert!(b.recent("chat:s3", 10).await.unwrap().is_empty());

    // One session key for every process: the first one proposed.
    let key = a.session_key("first-proposed-key-0123").await.unwrap();
    assert_eq!(key, "first-proposed-key-0123");
    assert_eq!(
        b.session_key("second-proposed-key-4567").await.unwrap(),
        key
    );

    // A sign-in saved by one process is found by the other until it ends or expires.
    let in_an_hour = (std::time::SystemTime::now() + Duration::from_secs(3600))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    a.save_sign_in("k1", "{\"login\":\"zhao\"}", in_an_hour)
        .await
        .unwrap();
    a.save_sign_in("k2", "{\"login\":\"lee\"}", in_an_hour - 7_200_000)
        .await
        .unwrap();
    assert_eq!(
        b.find_sign_in("k1").await.unwrap().as_deref(),
        Some("{\"login\":\"zhao\"}")
    );
    assert_eq!(b.find_sign_in("k2").await.unwrap(), None, "expired");
    b.end_sign_in("k1").await.unwrap();
    assert_eq!(a.find_sign_in("k1").await.unwrap(), None, "signed out");

    // Only mailboxes silent for longer than the age go (and expired sign-ins).
    assert_eq!(a.prune(Duration::from_secs(3600)).await.unwrap(), 0);
    db.psql(
        "UPDATE page_mail SET posted_at = now() - interval '2 hours' WHERE mailbox = 'chat:s1'",
    );
    assert_eq!(a.prune(Duration::from_secs(3600)).await.unwrap(), 1);
    assert!(a.recent("chat:s1", 10).await.unwrap().is_empty());
    assert_eq!(a.recent("inbox:admin", 10).await.unwrap().len(), 1);
    assert_eq!(db.psql("SELECT count(*) FROM page_sign_ins"), "0");

    // Listening again after its connection was killed starts with `Listening`.
    db.psql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE query LIKE 'LISTEN supportbot_page_mail%' AND pid <> pg_backend_pid()",
    );
    assert_eq!(next(&mut heard_a).await, MailEvent::Listening);
    let n = b
        .post("chat:s2", "{\"text\":\"after\"}", true, 10)
        .await
        .unwrap();
    loop {
        match next(&mut heard_a).await {
            MailEvent::Listening => continue,
            MailEvent::Posted(letter) => {
                assert_eq!((letter.mailbox.as_str(), letter.n), ("chat:s2", n));
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    shutdown.cancel();
}
