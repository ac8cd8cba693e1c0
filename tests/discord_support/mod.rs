//! End-to-end harness for the Discord channel: the fake Discord, the real engine on a sled store in a
//! temporary directory, the channel started the way `serve` starts it, and a recording `telegram` adapter
//! standing for users on another platform.
#![allow(dead_code)]

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use supportbot::config::Config;
use supportbot::engine::Engine;
use supportbot::faq::Faq;
use supportbot_chat::{
    Adapter, Delivery, Envelope, Inbound, InboundSink, Outbound, SendError, Shutdown,
};
use tokio::task::JoinHandle;

use crate::fake_discord::{FakeDiscord, TOKEN};

/// The operator's Discord account (`discord:7001` in the config).
pub const OPERATOR: u64 = 7001;

/// The built-in FAQ, built once per test binary.
pub fn faq() -> Faq {
    static FAQ: OnceLock<Faq> = OnceLock::new();
    FAQ.get_or_init(Faq::builtin).clone()
}

/// Records what the engine sends to Telegram users.
#[derive(Default)]
pub struct TelegramUsers {
    sent: Mutex<Vec<Outbound>>,
}

#[async_trait]
impl Adapter for TelegramUsers {
    fn name(&self) -> &str {
        "telegram"
    }

    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        if let Delivery::Message(m) = &envelope.delivery {
            self.sent.lock().unwrap().push(m.clone());
        }
        Ok(())
    }
}

impl TelegramUsers {
    /// Messages to `chat`.
    pub fn to(&self, chat: &str) -> Vec<Outbound> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.chat == chat)
            .cloned()
            .collect()
    }
}

/// Everything running.
pub struct World {
    pub fake: FakeDiscord,
    pub engine: Engine,
    pub telegram: Arc<TelegramUsers>,
    /// The mail team's operator room.
    pub room: u64,
    /// A public channel of the guild.
    pub general: u64,
    pub dir: tempfile::TempDir,
    shutdown: Shutdown,
    tasks: Vec<JoinHandle<()>>,
    runner: Option<JoinHandle<()>>,
}

fn config_text(fake: &FakeDiscord, room: u64) -> String {
    format!(
        r#"
[hours]
timezone = "+08:00"
open = "00:00-24:00"
peak = []

[[operators]]
name = "Wang"
accounts = ["discord:{OPERATOR}"]
teams = ["mail", "security"]

[[teams]]
name = "security"
categories = ["account"]
rooms = ["discord:{room}"]

[[teams]]
name = "mail"
rooms = ["discord:{room}"]

[discord]
token = "{TOKEN}"
api_url = "{api}"

[outbox]
retry_base_ms = 50
retry_max_secs = 1
"#,
        api = fake.api_url
    )
}

impl World {
    /// Starts the fake, the engine and the Discord channel (as `serve` does), and waits for the gateway.
    pub async fn start() -> World {
        let fake = FakeDiscord::start().await;
        let room = fake.add_guild_channel("mail-team");
        let general = fake.add_guild_channel("general");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config =
            Config::parse(&config_text(&fake, room), "discord-test.toml").expect("config");
        config.bot.data_dir = dir.path().join("data");
        let engine = Engine::open(&config, faq()).await.expect("engine");
        let telegram = Arc::new(TelegramUsers::default());
        engine.register_adapter(telegram.clone());
        let shutdown = Shutdown::new();
        let tasks = supportbot::channels::discord::start(&config, &engine, shutdown.clone())
            .await
            .expect("discord starts");
        assert_eq!(tasks.len(), 2, "gateway and hand-off tasks");
        let runner = {
            let (engine, shutdown) = (engine.clone(), shutdown.clone());
            tokio::spawn(async move { engine.run(shutdown).await.expect("engine runs") })
        };
        fake.wait_connected().await;
        World {
            fake,
            engine,
            telegram,
            room,
            general,
            dir,
            shutdown,
            tasks,
            runner: Some(runner),
        }
    }

    /// A Telegram user writes to the bot (straight into the engine, as the Telegram adapter would).
    pub async fn telegram_user_writes(&self, user: &str, id: &str, text: &str) {
        let m = Inbound::direct("telegram", user, &format!("tg{user}"), id, text);
        self.engine.accept(m).await.expect("accepted");
    }

    /// Waits until Telegram user `chat` got `n` messages; returns them.
    pub async fn wait_telegram(&self, chat: &str, n: usize) -> Vec<Outbound> {
        for _ in 0..1000 {
            let got = self.telegram.to(chat);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "telegram user {chat} got {:#?}, expected {n} messages",
            self.telegram.to(chat)
        );
    }

    /// Stops everything and waits for it.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        for t in self.tasks.drain(..) {
            let ended = tokio::time::timeout(Duration::from_secs(5), t).await;
            assert!(ended.is_ok(), "a discord task did not stop after shutdown");
        }
        if let Some(r) = self.runner.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), r).await;
        }
    }
}
