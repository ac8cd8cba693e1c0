//! Helpers of the web channel's end-to-end tests: the real engine on a sled store in a temporary directory,
//! the real web channel on 127.0.0.1:0, and small WebSocket / HTTP clients.
#![allow(dead_code)]

#[path = "../../adapters/web/tests/common/ws.rs"]
mod ws;
// Each test binary uses its own subset of the client.
#[allow(unused_imports)]
pub use ws::{connect, connect_with, next_json_within, send, Ws};

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use supportbot::channels::web::{start, Router, WebStarted};
use supportbot::config::Config;
use supportbot::engine::Engine;
use supportbot::faq::Faq;
use supportbot_chat::Shutdown;

pub mod cdp;

/// Always open, never peak: the bot's texts do not depend on the time the test runs.
pub const CONFIG: &str = r#"
[bot]
name = "QQ邮箱客服"

[hours]
timezone = "+08:00"
open = "00:00-23:59"
peak = []
off_peak = []

[web]
listen = "127.0.0.1:0"
token = "e2e-operator-token-0123456789abcdef"
"#;

pub const TOKEN: &str = "e2e-operator-token-0123456789abcdef";

/// The bot as `serve` runs it: engine + web channel.
pub struct Stack {
    pub engine: Engine,
    pub web: WebStarted,
    pub shutdown: Shutdown,
    pub runner: tokio::task::JoinHandle<()>,
    pub dir: Arc<tempfile::TempDir>,
}

impl Stack {
    pub async fn start() -> Stack {
        Stack::start_in(Arc::new(tempfile::tempdir().unwrap()), CONFIG).await
    }

    pub async fn start_in(dir: Arc<tempfile::TempDir>, toml: &str) -> Stack {
        Stack::start_with(dir, toml, |_| {}).await
    }

    /// Like [`Stack::start_in`], with the parsed config changed by `tweak` first.
    pub async fn start_with(
        dir: Arc<tempfile::TempDir>,
        toml: &str,
        tweak: impl FnOnce(&mut Config),
    ) -> Stack {
        let mut config = Config::parse(toml, "test.toml").unwrap();
        config.bot.data_dir = dir.path().join("data");
        tweak(&mut config);
        let engine = Engine::open(&config, Faq::builtin()).await.unwrap();
        let shutdown = Shutdown::new();
        let web = start(&config, &engine, Router::new(), shutdown.clone())
            .await
            .unwrap();
        let runner = {
            let (engine, shutdown) = (engine.clone(), shutdown.clone());
            tokio::spawn(async move { engine.run(shutdown).await.unwrap() })
        };
        Stack {
            engine,
            web,
            shutdown,
            runner,
            dir,
        }
    }

    /// Stops everything and waits until the store is flushed and released.
    pub async fn stop(self) -> Arc<tempfile::TempDir> {
        self.shutdown.cancel();
        self.runner.await.unwrap();
        self.web.task.await.unwrap().unwrap();
        drop(self.engine);
        drop(self.web.channel);
        self.dir
    }

    pub fn ws(&self, path: &str) -> String {
        format!("ws://{}{}", self.web.addr, path)
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://{}{}", self.web.addr, path)
    }

    pub async fn chat(&self) -> (Ws, String) {
        let mut ws = connect(&self.ws("/ws?lang=en")).await;
        let first = next_json(&mut ws).await;
        assert_eq!(first["type"], "session");
        (ws, first["session"].as_str().unwrap().to_string())
    }

    pub async fn inbox(&self) -> Ws {
        connect_with(
            &self.ws("/inbox/ws"),
            &[("authorization", &format!("Bearer {TOKEN}"))],
        )
        .await
        .unwrap()
    }

    pub async fn api(&self, path: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(self.http(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
    }
}

/// The next JSON text frame (panics after 10 s).
pub async fn next_json(ws: &mut Ws) -> Value {
    next_json_within(ws, Duration::from_secs(10)).await
}

/// The next frame of a type, skipping others.
pub async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let v = next_json(ws).await;
        if v["type"] == kind {
            return v;
        }
    }
}

/// The next frame of a type that satisfies `pred`, skipping others.
pub async fn next_where(ws: &mut Ws, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let v = next_of(ws, kind).await;
        if pred(&v) {
            return v;
        }
    }
}

/// Waits for two frames that arrive on independent paths (the outbox and the case feed) in either order.
pub async fn both(
    ws: &mut Ws,
    a: impl Fn(&Value) -> bool,
    b: impl Fn(&Value) -> bool,
) -> (Value, Value) {
    let (mut first, mut second) = (None, None);
    while first.is_none() || second.is_none() {
        let frame = next_json(ws).await;
        if first.is_none() && a(&frame) {
            first = Some(frame);
        } else if second.is_none() && b(&frame) {
            second = Some(frame);
        }
    }
    (first.unwrap(), second.unwrap())
}

/// Asks for a human and skips the three intake questions; returns the case number.
pub async fn open_case(ws: &mut Ws) -> String {
    send(ws, serde_json::json!({"type": "message", "text": "/human"})).await;
    for _ in 0..3 {
        let question = next_of(ws, "message").await;
        let skip = question["buttons"][0]
            .as_str()
            .expect("a skip button")
            .to_string();
        send(ws, serde_json::json!({"type": "button", "value": skip})).await;
    }
    let opened = next_where(ws, "message", |m| m.get("case").is_some()).await;
    opened["case"].as_str().unwrap().to_string()
}
