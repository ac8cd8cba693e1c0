//! Shared parts of the webhook end-to-end tests: a scripted HTTP receiver on 127.0.0.1:0 that checks
//! signatures on its own (hmac/sha2, not the adapter's code), a signing client, and an in-process bot (real
//! engine, sled in a tempdir, the webhook router on loopback).
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use supportbot::config::Config;
use supportbot::engine::Engine;
use supportbot_chat::{Adapter, Envelope, SendError, Shutdown};

/// Signs as docs/webhook.md describes: `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`.
pub fn signature(secret: &str, ts: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Answer with this status.
    Status(u16),
    /// 429 with this `Retry-After` value.
    RetryAfter(String),
    /// Wait this long before answering (longer than the sender's timeout).
    Hang(Duration),
}

/// One request the receiver saw.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The request path (`/cb`, `/desk`...).
    pub path: String,
    /// `Idempotency-Key`.
    pub key: String,
    /// When it arrived.
    pub at: Instant,
    /// What was answered (`200`, `500`, `429`, `hang`).
    pub answer: String,
    /// Signature check against the path's secret: `None` for unsigned paths.
    pub signature_ok: Option<bool>,
    /// The JSON body.
    pub body: serde_json::Value,
}

#[derive(Default)]
struct RxState {
    script: Mutex<VecDeque<Answer>>,
    secrets: HashMap<String, String>,
    attempts: Mutex<Vec<Attempt>>,
    refuse: AtomicBool,
    accept_budget: Mutex<Option<usize>>,
}

/// A helpdesk / platform bridge on loopback.
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    state: Arc<RxState>,
}

impl Receiver {
    /// Starts a receiver; `secrets` maps a path to the secret its requests must be signed with.
    pub async fn start(secrets: &[(&str, &str)], script: Vec<Answer>) -> Receiver {
        let state = Arc::new(RxState {
            script: Mutex::new(script.into()),
            secrets: secrets
                .iter()
                .map(|(p, s)| (p.to_string(), s.to_string()))
                .collect(),
            ..Default::default()
        });
        let app = Router::new()
            .route("/{*path}", post(handle))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            base: format!("http://{addr}"),
            state,
        }
    }

    /// Answers 503 to everything (after the script) while set.
    pub fn set_refusing(&self, refuse: bool) {
        self.state.refuse.store(refuse, Ordering::SeqCst);
    }

    /// Accepts only this many more requests, then refuses (503) everything.
    pub fn accept_only(&self, n: usize) {
        *self.state.accept_budget.lock().unwrap() = Some(n);
    }

    /// Accepts everything again.
    pub fn accept_all(&self) {
        self.set_refusing(false);
        *self.state.accept_budget.lock().unwrap() = None;
    }

    /// Every request so far.
    pub fn attempts(&self) -> Vec<Attempt> {
        self.state.attempts.lock().unwrap().clone()
    }

    /// Requests answered 2xx on `path`, in arrival order.
    pub fn accepted(&self, path: &str) -> Vec<Attempt> {
        self.attempts()
            .into_iter()
            .filter(|a| a.path == path && a.answer == "200")
            .collect()
    }
}

async fn handle(
    State(rx): State<Arc<RxState>>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/{path}");
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let signature_ok = rx.secrets.get(&path).map(|secret| {
        let ts = header("x-supportbot-timestamp");
        let fresh = ts
            .parse::<i64>()
            .map(|t| (now() - t).abs() <= 300)
            .unwrap_or(false);
        fresh && header("x-supportbot-signature") == signature(secret, &ts, &body)
    });
    let scripted = rx.script.lock().unwrap().pop_front();
    let refuse = rx.refuse.load(Ordering::SeqCst) || {
        let mut budget = rx.accept_budget.lock().unwrap();
        match budget.as_mut() {
            Some(0) => true,
            Some(n) if scripted.is_none() => {
                *n -= 1;
                false
            }
            _ => false,
        }
    };
    let answer = match (&scripted, refuse) {
        (Some(Answer::Status(code)), _) => code.to_string(),
        (Some(Answer::RetryAfter(_)), _) => "429".into(),
        (Some(Answer::Hang(_)), _) => "hang".into(),
        (None, true) => "503".into(),
        (None, false) => "200".into(),
    };
    rx.attempts.lock().unwrap().push(Attempt {
        path,
        key: header("idempotency-key"),
        at: Instant::now(),
        answer,
        signature_ok,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    match scripted {
        Some(Answer::Status(code)) => StatusCode::from_u16(code).unwrap().into_response(),
        Some(Answer::RetryAfter(v)) => {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", v)]).into_response()
        }
        Some(Answer::Hang(d)) => {
            tokio::time::sleep(d).await;
            StatusCode::OK.into_response()
        }
        None if refuse => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        None => StatusCode::OK.into_response(),
    }
}

/// POSTs a signed event; returns the status and the JSON answer.
pub async fn post_signed(url: &str, secret: &str, body: &str, ts: i64) -> (u16, serde_json::Value) {
    let ts = ts.to_string();
    let sig = signature(secret, &ts, body.as_bytes());
    let resp = reqwest::Client::new()
        .post(url)
        .header("X-Supportbot-Timestamp", &ts)
        .header("X-Supportbot-Signature", sig)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

/// A user's event of the `forum` channel.
pub fn event(chat: &str, id: &str, text: &str) -> String {
    serde_json::json!({"platform": "forum", "chat": chat, "user": chat, "name": format!("user {chat}"), "id": id,
                       "text": text})
    .to_string()
}

/// Config text for a bot whose data lives in `data`, open all day, with the repository's FAQ, plus `extra`.
pub fn config_text(data: &Path, extra: &str) -> String {
    format!(
        "[bot]\ndata_dir = {:?}\nfaq_dir = {:?}\n[hours]\nopen = \"00:00-24:00\"\npeak = []\n{extra}",
        data.display().to_string(),
        concat!(env!("CARGO_MANIFEST_DIR"), "/faq"),
    )
}

/// An adapter that records what it is asked to deliver and accepts it (stands in for Telegram).
pub struct Recorder {
    name: String,
    /// Everything delivered, in order.
    pub seen: Mutex<Vec<Envelope>>,
}

impl Recorder {
    /// A recorder for destination `name`.
    pub fn new(name: &str) -> Arc<Recorder> {
        Arc::new(Recorder {
            name: name.into(),
            seen: Mutex::new(Vec::new()),
        })
    }

    /// Texts of the chat messages delivered so far.
    pub fn texts(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match &e.delivery {
                supportbot_chat::Delivery::Message(m) => Some(m.text.clone()),
                _ => None,
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl Adapter for Recorder {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        self.seen.lock().unwrap().push(envelope.clone());
        Ok(())
    }
}

/// The real engine with the webhook channels of its config, the router served on loopback.
pub struct Bot {
    /// The engine.
    pub engine: Engine,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    shutdown: Shutdown,
    runner: tokio::task::JoinHandle<()>,
}

impl Bot {
    /// Opens the engine on `config`, registers the webhook channel and forwarders, and runs everything.
    pub async fn start(config: &Config, extra: Vec<Arc<dyn Adapter>>) -> Bot {
        let faq = supportbot::faq::Faq::load_or_builtin(&config.bot.faq_dir).unwrap();
        let engine = Engine::open(config, faq).await.unwrap();
        for adapter in extra {
            engine.register_adapter(adapter);
        }
        let hooks = supportbot::channels::webhook::start(config, &engine).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = Shutdown::new();
        let stop = shutdown.clone();
        let router = hooks.router;
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
                .unwrap()
        });
        let runner = {
            let (engine, shutdown) = (engine.clone(), shutdown.clone());
            tokio::spawn(async move { engine.run(shutdown).await.unwrap() })
        };
        Bot {
            engine,
            base,
            shutdown,
            runner,
        }
    }

    /// `POST /webhook/forum` URL.
    pub fn hook(&self) -> String {
        format!("{}/webhook/forum", self.base)
    }

    /// Stops the engine and waits for it.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.runner.await;
    }
}

/// Polls `cond` every 50 ms until it holds; panics with `what` after `limit`.
pub async fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A `supportbot serve` process started with a config file, killed when dropped.
pub struct Serve {
    /// The process.
    pub child: std::process::Child,
    /// Its chat address (`http://127.0.0.1:PORT`).
    pub base: String,
}

impl Serve {
    /// Starts `serve --config CONFIG` in the config's directory (relative paths in it are relative to it)
    /// with its log in `log`; waits for the chat address it prints.
    pub fn start(config: &Path, log: &Path) -> Serve {
        use std::io::{BufRead, BufReader};
        let stderr = std::fs::File::create(log).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_supportbot"))
            .args(["serve", "--config"])
            .arg(config)
            .current_dir(config.parent().unwrap_or(Path::new(".")))
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let Some(Ok(line)) = lines.next() else {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!("serve stopped before printing its address:\n{log}");
            };
            if let Some(url) = line.trim().strip_prefix("chat:") {
                break url.trim().trim_end_matches('/').to_string();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Serve { child, base }
    }

    /// Stops it with SIGTERM; it must exit within 30 seconds.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let started = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "serve hung on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
