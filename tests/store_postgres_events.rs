//! Case events between processes on the PostgreSQL store: an engine sees the cases another engine on the same
//! database opens (its inbox is live for them), and a process does not get its own events back.
//! Skipped with a message when PostgreSQL is not installed, unless `SUPPORTBOT_REQUIRE_POSTGRES=1`.

mod pg_support;
mod support;

use std::time::Duration;

use supportbot::config::Config;
use supportbot::store::{Backend, Store};
use supportbot_chat::{CaseDirectory, CaseEventKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_sees_the_cases_another_engine_opens() {
    let Some(db) = pg_support::Db::new("events").await else {
        return;
    };
    let open = |store: Store| async move {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::parse(support::CONFIG, "test.toml").unwrap();
        config.bot.data_dir = dir.path().join("data");
        support::Bot::open_on(dir, config, Some(store)).await
    };
    let a = open(Store::new(db.open().await)).await;
    let b = open(Store::new(db.open().await)).await;
    let mut seen_by_b = b.engine.subscribe();
    let mut seen_by_a = a.engine.subscribe();
    // Give B's listening connection a moment to start listening.
    tokio::time::sleep(Duration::from_millis(500)).await;

    support::request_case(&a, "telegram", "42").await;
    let opened = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let event = seen_by_b.recv().await.unwrap();
            if event.kind == CaseEventKind::Opened {
                return event;
            }
        }
    })
    .await
    .expect("B sees the case A opened");
    assert_eq!(opened.case, "C-1001");
    // A sees its own event once (from itself, not back through the database).
    let mut own = 0;
    while let Ok(Ok(event)) =
        tokio::time::timeout(Duration::from_millis(1500), seen_by_a.recv()).await
    {
        if event.kind == CaseEventKind::Opened {
            own += 1;
        }
    }
    assert_eq!(own, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_passes_on_other_processes_events_only() {
    let Some(db) = pg_support::Db::new("events_store").await else {
        return;
    };
    let (a, b) = (db.open().await, db.open().await);
    let mut from_a = a.other_processes_events().unwrap();
    let mut from_b = b.other_processes_events().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let event: supportbot_chat::CaseEvent = serde_json::from_value(serde_json::json!({
        "case": "C-1007", "kind": "note", "at": "2026-11-26T10:00:00+08:00", "actor": "telegram:5001",
        "text": "客户已回电",
    }))
    .unwrap();
    a.publish_events(std::slice::from_ref(&event))
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(10), from_b.recv())
        .await
        .expect("b gets a's event")
        .unwrap();
    assert_eq!(got, event);
    assert!(
        tokio::time::timeout(Duration::from_millis(1000), from_a.recv())
            .await
            .is_err(),
        "a does not get its own event back"
    );
}
