//! The engine on the in-memory store: a message in, its answer out, redeliveries handled once, a handoff that
//! opens a case, and a step that stores nothing when its message is refused.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use supportbot_chat::{
    Accepted, Adapter, Delivery, Envelope, Inbound, InboundSink, Outbound, SendError, Shutdown,
    SinkError,
};

use super::{Engine, EngineOptions};
use crate::config::Config;
use crate::faq::Faq;
use crate::store::Store;

#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<Outbound>>,
}

#[async_trait]
impl Adapter for Recorder {
    fn name(&self) -> &str {
        "web"
    }
    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        if let Delivery::Message(m) = &envelope.delivery {
            self.sent.lock().unwrap().push(m.clone());
        }
        Ok(())
    }
}

fn dm(id: &str, text: &str) -> Inbound {
    Inbound {
        platform: "web".into(),
        chat: "u1".into(),
        user: "u1".into(),
        name: "Li Lei".into(),
        id: id.into(),
        text: text.into(),
        group: false,
        mention: false,
        reply_to: None,
        ts: Some(chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00+08:00").unwrap()),
        attachments: vec![],
        locale: None,
        operator_room: false,
    }
}

async fn start(store: &Store) -> (Engine, Arc<Recorder>, Shutdown) {
    let config = Config::parse(
        "[[operators]]\nname = \"Wang\"\naccounts = [\"telegram:5001\"]\nteams = [\"mail\"]\n",
        "t.toml",
    )
    .unwrap();
    let options = EngineOptions {
        store: Some(store.clone()),
        ..EngineOptions::default()
    };
    let engine = Engine::open_with(&config, Faq::builtin(), options)
        .await
        .unwrap();
    let recorder = Arc::new(Recorder::default());
    engine.register_adapter(recorder.clone());
    let shutdown = Shutdown::new();
    let (e, s) = (engine.clone(), shutdown.clone());
    tokio::spawn(async move { e.run(s).await.unwrap() });
    (engine, recorder, shutdown)
}

#[tokio::test]
async fn a_question_is_answered_once_however_often_it_is_delivered() {
    let store = Store::memory();
    let (engine, recorder, shutdown) = start(&store).await;
    let first = engine
        .accept(dm("m1", "发送邮件被退回 554 DT:SPM"))
        .await
        .unwrap();
    let again = engine
        .accept(dm("m1", "发送邮件被退回 554 DT:SPM"))
        .await
        .unwrap();
    assert_eq!((first, again), (Accepted::New, Accepted::Duplicate));
    engine.settle().await;
    let sent = recorder.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].reply_to.as_deref(), Some("m1"));
    assert!(
        store.unhandled().await.unwrap().is_empty(),
        "the handled message left the store"
    );
    assert!(
        store.outbox().await.unwrap().is_empty(),
        "the answer left the outbox"
    );
    assert_eq!(
        store
            .conversation("web:u1")
            .await
            .unwrap()
            .unwrap()
            .value
            .asked,
        1
    );
    shutdown.cancel();
}

#[tokio::test]
async fn asking_for_a_person_opens_a_case_in_the_queue() {
    let store = Store::memory();
    let (engine, recorder, shutdown) = start(&store).await;
    engine.accept(dm("m1", "/human")).await.unwrap();
    for (i, text) in ["邮件发不出去", "点发送", "554"].iter().enumerate() {
        engine
            .accept(dm(&format!("m{}", i + 2), text))
            .await
            .unwrap();
    }
    engine.settle().await;
    let cases = store.cases().await.unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].number, 1001);
    assert_eq!(store.waiting().await.unwrap()[0].number, 1001);
    let step = store.begin_step("web:u1").await.unwrap();
    assert_eq!(
        step.open_case_of("web:u1").await.unwrap().as_deref(),
        Some("C-1001")
    );
    let sent = recorder.sent.lock().unwrap().clone();
    assert!(sent.iter().any(|m| m.text.contains("C-1001")), "{sent:?}");
    shutdown.cancel();
}

#[tokio::test]
async fn a_refused_message_stores_nothing() {
    let store = Store::memory();
    let (engine, _recorder, shutdown) = start(&store).await;
    let err = engine.accept(dm("", "hello")).await.unwrap_err();
    assert!(matches!(err, SinkError::Rejected(_)), "{err}");
    assert!(store.unhandled().await.unwrap().is_empty());
    assert!(!store.seen("web", "").await.unwrap());
    shutdown.cancel();
}
