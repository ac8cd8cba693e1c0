//! Test harness shared by the channel tests: a recording sink in place of the engine, and helpers to start
//! the channel against the fake Discord and build envelopes.
#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use supportbot_chat::{
    Accepted, Delivery, Envelope, Inbound, InboundSink, Outbound, Shutdown, SinkError,
};
use supportbot_discord::{connect, DiscordAdapter, DiscordSettings};
use tokio::task::JoinHandle;

use crate::fake_discord::{FakeDiscord, BOT_ID, TOKEN};

/// Stands in for the engine: stores every message, answers Duplicate for an id seen before.
#[derive(Default)]
pub struct Recorder {
    seen: Mutex<Vec<(Inbound, Accepted)>>,
    ids: Mutex<HashSet<String>>,
}

#[async_trait]
impl InboundSink for Recorder {
    async fn accept(&self, message: Inbound) -> Result<Accepted, SinkError> {
        let fresh = self
            .ids
            .lock()
            .unwrap()
            .insert(format!("{}:{}", message.platform, message.id));
        let accepted = if fresh {
            Accepted::New
        } else {
            Accepted::Duplicate
        };
        self.seen.lock().unwrap().push((message, accepted));
        Ok(accepted)
    }
}

impl Recorder {
    pub fn new_messages(&self) -> Vec<Inbound> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, a)| *a == Accepted::New)
            .map(|(m, _)| m.clone())
            .collect()
    }

    pub fn all(&self) -> Vec<(Inbound, Accepted)> {
        self.seen.lock().unwrap().clone()
    }

    pub async fn wait_new(&self, n: usize) -> Vec<Inbound> {
        for _ in 0..1000 {
            let got = self.new_messages();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "the sink got {:#?}, expected {n} messages",
            self.new_messages()
        );
    }
}

pub struct Running {
    pub adapter: Arc<DiscordAdapter>,
    pub sink: Arc<Recorder>,
    pub shutdown: Shutdown,
    pub tasks: Vec<JoinHandle<()>>,
}

impl Running {
    pub async fn stop(self) {
        self.shutdown.cancel();
        for t in self.tasks {
            let ended = tokio::time::timeout(Duration::from_secs(5), t).await;
            assert!(ended.is_ok(), "a channel task did not stop after shutdown");
        }
    }
}

pub fn settings(fake: &FakeDiscord, rooms: &[u64]) -> DiscordSettings {
    let mut s = DiscordSettings::new(TOKEN);
    s.api_url = Some(fake.api_url.clone());
    s.operator_rooms = rooms.to_vec();
    s
}

pub async fn start(fake: &FakeDiscord, rooms: &[u64]) -> Running {
    let sink = Arc::new(Recorder::default());
    let channel = connect(settings(fake, rooms), sink.clone())
        .await
        .expect("connects");
    assert_eq!(channel.bot_id(), BOT_ID);
    let adapter = channel.adapter();
    let shutdown = Shutdown::new();
    let tasks = channel.spawn(shutdown.clone());
    fake.wait_connected().await;
    Running {
        adapter,
        sink,
        shutdown,
        tasks,
    }
}

pub fn envelope(id: &str, out: Outbound) -> Envelope {
    Envelope {
        id: id.into(),
        destination: "discord".into(),
        order_key: format!("discord:{}", out.chat),
        delivery: Delivery::Message(out),
    }
}

pub fn outbound(chat: u64, text: &str) -> Outbound {
    Outbound {
        platform: "discord".into(),
        chat: chat.to_string(),
        text: text.into(),
        buttons: vec![],
        reply_to: None,
        case: None,
    }
}
