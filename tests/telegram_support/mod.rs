//! Helpers of the Telegram end-to-end tests: the fake Bot API (shared with the adapter crate's tests), and the
//! bot as `serve` runs it — the real engine on sled in a temporary directory, the real Telegram channel on the
//! real teloxide client, and the real web channel serving the Telegram routes and the operator inbox.
#![allow(dead_code)]

#[path = "../../adapters/telegram/tests/support/fake_api.rs"]
pub mod fake_api;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use supportbot::channels::{telegram, web};
use supportbot::config::Config;
use supportbot::engine::Engine;
use supportbot::faq::Faq;
use supportbot_chat::Shutdown;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub use fake_api::{FakeTelegram, BOT_USERNAME};

/// The bot token the fake accepts.
pub const TOKEN: &str = "424242:E2E-telegram-token";
/// The web inbox's operator token.
pub const INBOX_TOKEN: &str = "tg-e2e-operator-token-0123456789abcdef";
/// Generous bound for anything the bot should do.
pub const WAIT: Duration = Duration::from_secs(20);
/// The operator group of every team.
pub const OPS_ROOM: i64 = -100999;
/// Wang, an operator on Telegram.
pub const WANG: i64 = 5001;

/// Always open and never peak (texts do not depend on when the test runs); Wang works on Telegram, Zhao in the
/// web inbox; every team's cards go to the Telegram operator group.
pub fn config_text(fake: &FakeTelegram, web_listen: &str) -> String {
    format!(
        r#"
[bot]
name = "QQ邮箱客服"

[hours]
timezone = "+08:00"
open = "00:00-23:59"
peak = []
off_peak = []

[[operators]]
name = "Wang"
accounts = ["telegram:{WANG}"]
teams = ["mail", "security"]

[[teams]]
name = "security"
categories = ["account"]
rooms = ["telegram:{OPS_ROOM}"]

[[teams]]
name = "mail"
rooms = ["telegram:{OPS_ROOM}"]

[web]
listen = "{web_listen}"
token = "{INBOX_TOKEN}"

[telegram]
token = "{token}"
api_url = "{url}"
poll_timeout_secs = 1

[outbox]
retry_base_ms = 20
retry_max_secs = 2
"#,
        token = fake.token,
        url = fake.url,
    )
}

/// A loopback address nobody listens on right now.
pub fn free_addr() -> String {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    probe.local_addr().expect("addr").to_string()
}

/// The bot as `serve` wires it.
pub struct Stack {
    pub engine: Engine,
    pub shutdown: Shutdown,
    pub web_addr: std::net::SocketAddr,
    runner: JoinHandle<()>,
    web_task: JoinHandle<Result<(), supportbot_web::WebError>>,
    telegram_tasks: Vec<JoinHandle<()>>,
    pub dir: Arc<tempfile::TempDir>,
}

impl Stack {
    /// Starts everything in a fresh data directory.
    pub async fn start(fake: &FakeTelegram) -> Stack {
        Stack::start_in(fake, Arc::new(tempfile::tempdir().unwrap())).await
    }

    /// Starts everything on `dir`'s data directory (kept between runs).
    pub async fn start_in(fake: &FakeTelegram, dir: Arc<tempfile::TempDir>) -> Stack {
        let mut config =
            Config::parse(&config_text(fake, &free_addr()), "telegram-e2e.toml").unwrap();
        config.bot.data_dir = dir.path().join("data");
        let engine = Engine::open(&config, Faq::builtin()).await.unwrap();
        let shutdown = Shutdown::new();
        let tg = telegram::start(&config, &engine, shutdown.clone())
            .await
            .expect("telegram starts");
        assert_eq!(tg.bot.as_deref(), Some(BOT_USERNAME));
        let web = web::start(&config, &engine, tg.router, shutdown.clone())
            .await
            .expect("web starts");
        let runner = {
            let (engine, shutdown) = (engine.clone(), shutdown.clone());
            tokio::spawn(async move { engine.run(shutdown).await.unwrap() })
        };
        Stack {
            engine,
            shutdown,
            web_addr: web.addr,
            runner,
            web_task: web.task,
            telegram_tasks: tg.tasks,
            dir,
        }
    }

    /// A clean stop: the Telegram channel acknowledges what it handled, the store is flushed and released.
    pub async fn stop(mut self) -> Arc<tempfile::TempDir> {
        self.shutdown.cancel();
        for task in std::mem::take(&mut self.telegram_tasks) {
            tokio::time::timeout(WAIT, task)
                .await
                .expect("telegram stops")
                .expect("no panic");
        }
        self.finish().await
    }

    /// The process dies before the Telegram channel could acknowledge anything more: receiving stops at once,
    /// the rest shuts down so the data directory can be opened again.
    pub async fn crash(self) -> Arc<tempfile::TempDir> {
        for task in &self.telegram_tasks {
            task.abort();
        }
        self.shutdown.cancel();
        self.finish().await
    }

    async fn finish(self) -> Arc<tempfile::TempDir> {
        tokio::time::timeout(WAIT, self.runner)
            .await
            .expect("engine stops")
            .expect("no panic");
        let _ = tokio::time::timeout(WAIT, self.web_task)
            .await
            .expect("web stops");
        drop(self.engine);
        self.dir
    }

    /// The operator inbox's WebSocket.
    pub async fn inbox(&self) -> Ws {
        let mut request = format!("ws://{}/inbox/ws", self.web_addr)
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {INBOX_TOKEN}").parse().unwrap(),
        );
        tokio_tungstenite::connect_async(request)
            .await
            .expect("inbox connects")
            .0
    }
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sends one JSON frame.
pub async fn send(ws: &mut Ws, value: Value) {
    ws.send(Message::Text(value.to_string().into()))
        .await
        .expect("frame sent");
}

/// The next JSON frame of this `type` matching `pred`.
pub async fn next_where(ws: &mut Ws, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("ok");
        if let Message::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).expect("JSON frame");
            if value["type"] == kind && pred(&value) {
                return value;
            }
        }
    }
}

/// Texts of the messages the bot sent to one chat.
pub fn texts_to(fake: &FakeTelegram, chat: i64) -> Vec<String> {
    fake.sent_to(chat)
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Waits for a message to `chat` whose text contains `needle`; returns it.
pub async fn wait_text(fake: &FakeTelegram, chat: i64, needle: &str) -> Value {
    let what = format!("a message to {chat} containing {needle:?}");
    fake.wait(WAIT, &what, || {
        fake.sent_to(chat)
            .into_iter()
            .find(|m| m["text"].as_str().is_some_and(|t| t.contains(needle)))
    })
    .await
}

/// Waits until `count` messages went to `chat`; returns them.
pub async fn wait_count(fake: &FakeTelegram, chat: i64, count: usize) -> Vec<Value> {
    let what = format!("{count} messages to {chat}");
    fake.wait(WAIT, &what, || {
        let sent = fake.sent_to(chat);
        (sent.len() >= count).then_some(sent)
    })
    .await
}

/// The labels of a sent message's inline keyboard.
pub fn buttons(message: &Value) -> Vec<String> {
    message["reply_markup"]["inline_keyboard"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r[0]["text"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The callback data of the button labelled `label`.
pub fn data_of(message: &Value, label: &str) -> String {
    let rows = message["reply_markup"]["inline_keyboard"]
        .as_array()
        .expect("a keyboard");
    let row = rows
        .iter()
        .find(|r| r[0]["text"] == label)
        .unwrap_or_else(|| panic!("no button {label}: {message}"));
    row[0]["callback_data"].as_str().unwrap().to_string()
}
