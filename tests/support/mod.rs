//! Shared test helpers: fake platforms that record deliveries (and fail on demand), an engine harness on a
//! real sled store in a temporary directory (or, with `SUPPORTBOT_TEST_STORE=memory`, on the in-memory
//! store), message builders, and a runner for the real binary.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use supportbot::config::Config;
use supportbot::engine::{Engine, EngineOptions};
use supportbot::faq::Faq;
use supportbot::store::Store;
use supportbot_chat::{
    Accepted, Adapter, Attachment, AttachmentKind, Delivery, Envelope, Inbound, InboundSink,
    Outbound, SendError, Shutdown,
};

/// The store the engine harness runs on: `SUPPORTBOT_TEST_STORE=memory` picks the in-memory backend,
/// `postgres` a fresh database on the test binary's throw-away PostgreSQL cluster; unset or `sled`, the sled
/// store in the test's data directory (`None`: the engine opens it).
pub async fn test_store() -> Option<Store> {
    match std::env::var("SUPPORTBOT_TEST_STORE").as_deref() {
        Ok("memory") => Some(Store::memory()),
        Ok("postgres") => {
            let cluster = tokio::task::spawn_blocking(supportbot_pg_cluster::shared)
                .await
                .unwrap()
                .expect("SUPPORTBOT_TEST_STORE=postgres needs PostgreSQL installed");
            let url = tokio::task::spawn_blocking(move || cluster.database("engine"))
                .await
                .unwrap();
            let url = supportbot::config::DatabaseUrl::parse(&url).unwrap();
            Some(Store::connect(&url).await.unwrap())
        }
        Ok("sled") | Ok("") | Err(_) => None,
        Ok(other) => {
            panic!("SUPPORTBOT_TEST_STORE is `sled`, `memory` or `postgres`, not `{other}`")
        }
    }
}

/// Operators, teams and an enterprise customer used by most tests.
pub const CONFIG: &str = r#"
[hours]
timezone = "+08:00"
open = "09:00-22:00"
peak = ["10:00-12:00", "15:00-17:00"]

[[operators]]
name = "Wang"
accounts = ["discord:7001", "telegram:5001"]
teams = ["mail", "security"]

[[operators]]
name = "Zhao"
accounts = ["web:zhao"]
teams = ["mail"]

[[teams]]
name = "security"
categories = ["account"]
rooms = ["telegram:-100999"]

[[teams]]
name = "mail"
rooms = ["discord:8001"]

[customers]
enterprise = ["telegram:900"]

# The scenarios send a whole conversation at once; the rate limit has tests of its own.
[limits]
messages_per_minute = 6000
message_burst = 1000

[outbox]
retry_base_ms = 20
retry_max_secs = 1
"#;

/// A quiet afternoon: open, not peak.
pub const TS: &str = "2026-11-25T13:30:00+08:00";

/// A recorded delivery attempt's outcome to return.
pub enum Fail {
    RetryAfter(u64),
    Transient,
    Permanent,
}

/// A platform that records what it accepts, in global delivery order.
pub struct FakePlatform {
    name: String,
    log: Arc<Mutex<Vec<Envelope>>>,
    failures: Mutex<VecDeque<Fail>>,
    attempts: Mutex<Vec<(String, std::time::Instant)>>,
    ids: Mutex<HashMap<String, String>>,
}

impl FakePlatform {
    pub fn new(name: &str, log: Arc<Mutex<Vec<Envelope>>>) -> Arc<FakePlatform> {
        Arc::new(FakePlatform {
            name: name.into(),
            log,
            failures: Mutex::new(VecDeque::new()),
            attempts: Mutex::new(Vec::new()),
            ids: Mutex::new(HashMap::new()),
        })
    }

    /// The next deliveries fail like this, in order.
    pub fn fail_next(&self, f: Fail) {
        self.failures.lock().unwrap().push_back(f);
    }

    /// Every attempt: envelope id and when.
    pub fn attempts(&self) -> Vec<(String, std::time::Instant)> {
        self.attempts.lock().unwrap().clone()
    }

    /// The platform message id given to a delivered envelope.
    pub fn message_id(&self, envelope_id: &str) -> Option<String> {
        self.ids.lock().unwrap().get(envelope_id).cloned()
    }
}

#[async_trait]
impl Adapter for FakePlatform {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        self.attempts
            .lock()
            .unwrap()
            .push((envelope.id.clone(), std::time::Instant::now()));
        if let Some(f) = self.failures.lock().unwrap().pop_front() {
            return Err(match f {
                Fail::RetryAfter(ms) => SendError::RetryAfter(std::time::Duration::from_millis(ms)),
                Fail::Transient => SendError::Transient("HTTP 502".into()),
                Fail::Permanent => SendError::Permanent("bot was blocked by the user".into()),
            });
        }
        let mut ids = self.ids.lock().unwrap();
        let n = ids.len() + 1;
        ids.insert(envelope.id.clone(), format!("{}-msg-{n}", self.name));
        self.log.lock().unwrap().push(envelope.clone());
        Ok(())
    }

    fn sent_message_id(&self, envelope_id: &str) -> Option<String> {
        self.ids.lock().unwrap().get(envelope_id).cloned()
    }
}

/// The built-in FAQ, built once per test binary (it takes a while in debug builds).
pub fn faq() -> Faq {
    static FAQ: std::sync::OnceLock<Faq> = std::sync::OnceLock::new();
    FAQ.get_or_init(Faq::builtin).clone()
}

/// A running engine on a temporary data directory with fake telegram, discord and web platforms.
pub struct Bot {
    pub engine: Engine,
    pub dir: tempfile::TempDir,
    pub config: Config,
    pub log: Arc<Mutex<Vec<Envelope>>>,
    pub platforms: HashMap<String, Arc<FakePlatform>>,
    /// The store when it is not the sled store in `dir` (kept across restarts).
    store: Option<Store>,
    shutdown: Shutdown,
    runner: Option<tokio::task::JoinHandle<()>>,
    seen: usize,
}

impl Bot {
    /// Starts with [`CONFIG`].
    pub async fn start() -> Bot {
        Bot::with_config(CONFIG).await
    }

    /// Starts with a config text.
    pub async fn with_config(toml: &str) -> Bot {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::parse(toml, "test.toml").unwrap();
        config.bot.data_dir = dir.path().join("data");
        Bot::open(dir, config).await
    }

    /// Opens an engine on an existing directory and config, on the store [`test_store`] picks.
    pub async fn open(dir: tempfile::TempDir, config: Config) -> Bot {
        Bot::open_on(dir, config, test_store().await).await
    }

    /// Starts with [`CONFIG`] on the sled store in its data directory, whatever [`test_store`] says (for what
    /// only the embedded store has: its directory lock).
    pub async fn start_on_sled() -> Bot {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::parse(CONFIG, "test.toml").unwrap();
        config.bot.data_dir = dir.path().join("data");
        Bot::open_on(dir, config, None).await
    }

    /// Opens an engine on an existing directory and config, on `store` (`None`: the sled store in the
    /// directory).
    pub async fn open_on(dir: tempfile::TempDir, config: Config, store: Option<Store>) -> Bot {
        let options = EngineOptions {
            store: store.clone(),
            ..EngineOptions::default()
        };
        let engine = Engine::open_with(&config, faq(), options).await.unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut platforms = HashMap::new();
        for name in ["telegram", "discord", "web"] {
            let p = FakePlatform::new(name, log.clone());
            engine.register_adapter(p.clone());
            platforms.insert(name.to_string(), p);
        }
        let shutdown = Shutdown::new();
        let runner = {
            let (engine, shutdown) = (engine.clone(), shutdown.clone());
            tokio::spawn(async move { engine.run(shutdown).await.unwrap() })
        };
        Bot {
            engine,
            dir,
            config,
            log,
            platforms,
            store,
            shutdown,
            runner: Some(runner),
            seen: 0,
        }
    }

    /// Stops the engine (waiting for it) and opens it again on the same directory.
    pub async fn restart(mut self) -> Bot {
        self.stop().await;
        let Bot {
            dir,
            config,
            engine,
            store,
            ..
        } = self;
        drop(engine);
        Bot::open_on(dir, config, store).await
    }

    /// Stops the engine and waits for it.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(r) = self.runner.take() {
            r.await.unwrap();
        }
    }

    /// Accepts a message and waits until it is handled and its answers delivered.
    pub async fn send(&self, m: Inbound) -> Accepted {
        let accepted = self.engine.accept(m).await.unwrap();
        self.engine.settle().await;
        accepted
    }

    /// Messages delivered since the last call.
    pub fn take(&mut self) -> Vec<Outbound> {
        let log = self.log.lock().unwrap();
        let out = log[self.seen..]
            .iter()
            .filter_map(|e| match &e.delivery {
                Delivery::Message(m) => Some(m.clone()),
                Delivery::Event(_) => None,
            })
            .collect();
        self.seen = log.len();
        out
    }

    /// Every envelope delivered so far.
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.log.lock().unwrap().clone()
    }

    pub fn platform(&self, name: &str) -> Arc<FakePlatform> {
        self.platforms[name].clone()
    }
}

/// Messages of `out` sent to `platform:chat`.
pub fn to<'a>(out: &'a [Outbound], platform: &str, chat: &str) -> Vec<&'a Outbound> {
    out.iter()
        .filter(|m| m.platform == platform && m.chat == chat)
        .collect()
}

/// The single message sent to `platform:chat` (panics otherwise).
pub fn one<'a>(out: &'a [Outbound], platform: &str, chat: &str) -> &'a Outbound {
    let found = to(out, platform, chat);
    assert_eq!(
        found.len(),
        1,
        "expected one message to {platform}:{chat}, got {out:#?}"
    );
    found[0]
}

/// Asks for a person and answers the intake (a symptom, then two skips): opens a case for `platform:user`.
pub async fn request_case(bot: &Bot, platform: &str, user: &str) {
    bot.send(dm(platform, user, "h", "转人工")).await;
    for (i, text) in ["附件邮件发不出去", "跳过", "跳过"].iter().enumerate() {
        bot.send(dm(platform, user, &format!("i{i}"), text)).await;
    }
}

/// A private message from `user` on `platform`.
pub fn dm(platform: &str, user: &str, id: &str, text: &str) -> Inbound {
    Inbound {
        platform: platform.into(),
        chat: user.into(),
        user: user.into(),
        name: format!("user{user}"),
        id: id.into(),
        text: text.into(),
        group: false,
        mention: false,
        reply_to: None,
        ts: Some(chrono::DateTime::parse_from_rfc3339(TS).unwrap()),
        attachments: vec![],
        locale: None,
        operator_room: false,
    }
}

/// A group message; `mention` says whether it addresses the bot.
pub fn group(
    platform: &str,
    chat: &str,
    user: &str,
    id: &str,
    text: &str,
    mention: bool,
) -> Inbound {
    Inbound {
        chat: chat.into(),
        group: true,
        mention,
        ..dm(platform, user, id, text)
    }
}

/// Sets the message time.
pub fn at(mut m: Inbound, ts: &str) -> Inbound {
    m.ts = Some(chrono::DateTime::parse_from_rfc3339(ts).unwrap());
    m
}

/// An image attachment.
pub fn image(name: &str) -> Attachment {
    Attachment {
        kind: AttachmentKind::Image,
        name: name.into(),
        url: format!("https://files.example/{name}"),
        size: 2048,
    }
}

/// The path of the binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_supportbot")
}

/// Runs `supportbot` with `args` and `stdin`.
pub fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `supportbot replay` on a data directory (and optional config), returning stdout lines as JSON.
pub fn replay(
    data: &Path,
    config: Option<&Path>,
    input: &str,
) -> (Vec<serde_json::Value>, String, Output) {
    let mut args = vec![
        "replay".to_string(),
        "--data".into(),
        data.display().to_string(),
    ];
    if let Some(c) = config {
        args.push("--config".into());
        args.push(c.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args, input);
    let lines = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}"))
        })
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (lines, stderr, out)
}

/// One replay event as a JSON line.
pub fn line(m: &Inbound) -> String {
    serde_json::to_string(m).unwrap()
}

/// Writes [`CONFIG`] to `dir/config.toml` and returns its path.
pub fn write_config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, CONFIG).unwrap();
    path
}
