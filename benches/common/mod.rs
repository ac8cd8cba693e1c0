//! What the engine benchmarks share: an adapter that accepts every delivery (optionally noting when each reply
//! was handed to it), the bench's messages, its configuration and an engine started on a given store.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use supportbot::config::Config;
use supportbot::engine::{Engine, EngineOptions};
use supportbot::faq::{Faq, Lang};
use supportbot::store::Store;
use supportbot_chat::{Adapter, Delivery, Envelope, Inbound, SendError, Shutdown};

/// Delivers nothing and always succeeds; with `replies`, notes when the reply to each message id arrived.
#[derive(Default)]
pub struct Null {
    pub replies: Option<Arc<Mutex<HashMap<String, Instant>>>>,
}

#[async_trait]
impl Adapter for Null {
    fn name(&self) -> &str {
        "null"
    }
    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        if let (Some(replies), Delivery::Message(out)) = (&self.replies, &envelope.delivery) {
            if let Some(to) = &out.reply_to {
                let mut replies = replies.lock().unwrap();
                replies.entry(to.clone()).or_insert_with(Instant::now);
            }
        }
        Ok(())
    }
}

/// A private message of the bench platform.
pub fn msg(chat: &str, id: String, text: &str) -> Inbound {
    Inbound::direct("bench", chat, "Bench", &id, text)
}

/// Every FAQ entry's title in Chinese and English.
pub fn questions(faq: &Faq) -> Vec<String> {
    faq.entries()
        .iter()
        .flat_map(|e| [e.title(Lang::Zh).to_string(), e.title(Lang::En).to_string()])
        .collect()
}

/// The bench configuration, with its data directory in `dir`. The same chats send again in every round: a
/// rate far above the traffic keeps every message answered (the limiter is still asked for each one).
pub fn config(dir: &Path) -> Config {
    let mut config = Config::parse(
        "[[operators]]\nname = \"Op\"\naccounts = [\"bench:op\"]\n[hours]\nopen = \"00:00-24:00\"\npeak = []\n\
         [limits]\nmessages_per_minute = 4000000000\nmessage_burst = 1000000\n",
        "bench.toml",
    )
    .unwrap();
    config.bot.data_dir = dir.join("data");
    config
}

/// An engine on `store` with `workers` (the default when `None`), delivering to `adapter`, running on the
/// current runtime until `shutdown`.
pub async fn engine(
    config: &Config,
    faq: &Faq,
    store: Store,
    workers: Option<usize>,
    adapter: Arc<dyn Adapter>,
    shutdown: &Shutdown,
) -> Engine {
    let options = EngineOptions {
        store: Some(store),
        workers,
        ..EngineOptions::default()
    };
    let engine = Engine::open_with(config, faq.clone(), options)
        .await
        .unwrap();
    engine.register_fallback_adapter(adapter);
    let (e, s) = (engine.clone(), shutdown.clone());
    tokio::spawn(async move { e.run(s).await.unwrap() });
    engine
}
