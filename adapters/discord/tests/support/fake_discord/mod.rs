//! A fake Discord for tests: the REST API (axum) and the gateway (WebSocket) on 127.0.0.1:0, enough of both
//! for the real serenity client and the supportbot adapter to run against it. Tests drive it (users write,
//! press buttons, the gateway drops) and read what the bot sent.
#![allow(dead_code)]

mod gateway;
pub mod payloads;
mod rest;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::mpsc;

pub use payloads::{BOT_ID, GUILD_ID};

/// The token the fake accepts.
pub const TOKEN: &str = "fake-discord-token";
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// A programmed failure of the next `POST .../messages`.
#[derive(Debug, Clone, Copy)]
pub enum Failure {
    /// No failure: this post goes through (to fail a later one).
    Pass,
    /// HTTP 429 with this `retry_after` in seconds.
    RateLimited(f64),
    /// This HTTP status (500, 403, ...).
    Status(u16),
}

/// A message the bot created.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Its id.
    pub id: u64,
    /// Where it was posted.
    pub channel: u64,
    /// The request body as the bot sent it.
    pub body: Value,
    /// The full message object as the fake returned it.
    pub object: Value,
}

impl Sent {
    /// The `content`.
    pub fn content(&self) -> &str {
        self.body["content"].as_str().unwrap_or("")
    }

    /// The buttons as (custom_id, label).
    pub fn buttons(&self) -> Vec<(String, String)> {
        let rows = self.body["components"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        rows.iter()
            .flat_map(|r| r["components"].as_array().cloned().unwrap_or_default())
            .map(|b| {
                (
                    b["custom_id"].as_str().unwrap_or("").into(),
                    b["label"].as_str().unwrap_or("").into(),
                )
            })
            .collect()
    }

    /// The message it replies to.
    pub fn reply_to(&self) -> Option<String> {
        self.body["message_reference"]["message_id"]
            .as_str()
            .map(String::from)
    }
}

/// An interaction answer the bot gave.
#[derive(Debug, Clone)]
pub struct Ack {
    /// Interaction id.
    pub id: u64,
    /// Response type (6 = deferred update).
    pub kind: u64,
    /// Time from the press to the answer.
    pub after: Duration,
}

struct Channel {
    kind: u8,
    guild: Option<u64>,
    parent: Option<u64>,
    name: String,
    /// For DM channels: the user.
    recipient: Option<u64>,
}

#[derive(Default)]
struct Inner {
    channels: HashMap<u64, Channel>,
    users: HashMap<u64, Value>,
    dm_of_user: HashMap<u64, u64>,
    sent: Vec<Sent>,
    nonces: HashMap<(u64, String), usize>,
    failures: VecDeque<Failure>,
    thread_failures: VecDeque<Failure>,
    acks: Vec<Ack>,
    pressed_at: HashMap<u64, Instant>,
    message_posts: usize,
    post_times: Vec<Instant>,
    // gateway
    session: Option<String>,
    seq: u64,
    log: Vec<(u64, String)>,
    live: Option<mpsc::UnboundedSender<gateway::WsCmd>>,
    identifies: usize,
    resumes: usize,
    resume_overlap: u64,
}

pub(crate) struct State {
    inner: Mutex<Inner>,
    next_id: AtomicU64,
    gateway_url: String,
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh snowflake, increasing.
    fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::SeqCst)
    }

    /// The DM channel of `user`, created on first use.
    fn dm_channel(&self, user: u64) -> u64 {
        let existing = self.lock().dm_of_user.get(&user).copied();
        existing.unwrap_or_else(|| {
            let id = self.id();
            let mut inner = self.lock();
            inner.channels.insert(
                id,
                Channel {
                    kind: 1,
                    guild: None,
                    parent: None,
                    name: String::new(),
                    recipient: Some(user),
                },
            );
            inner.dm_of_user.insert(user, id);
            id
        })
    }

    /// Sends (or, while disconnected, only logs) one dispatch event.
    fn dispatch(&self, kind: &str, data: Value) {
        let mut inner = self.lock();
        inner.seq += 1;
        let payload = json!({"op": 0, "t": kind, "s": inner.seq, "d": data}).to_string();
        let seq = inner.seq;
        inner.log.push((seq, payload.clone()));
        if let Some(live) = &inner.live {
            let _ = live.send(gateway::WsCmd::Text(payload));
        }
    }
}

/// The running fake.
pub struct FakeDiscord {
    /// The REST base to give the adapter as `api_url`.
    pub api_url: String,
    state: Arc<State>,
}

/// A message a user writes.
pub struct UserMessage {
    pub channel: u64,
    pub user: u64,
    pub name: String,
    pub text: String,
    pub mention_bot: bool,
    pub reply_to: Option<u64>,
    pub attachments: Vec<Value>,
    pub author_is_bot: bool,
}

impl UserMessage {
    /// `user` writes `text` in `channel`.
    pub fn new(channel: u64, user: u64, text: &str) -> UserMessage {
        UserMessage {
            channel,
            user,
            name: format!("user{user}"),
            text: text.into(),
            mention_bot: false,
            reply_to: None,
            attachments: Vec::new(),
            author_is_bot: false,
        }
    }
}

impl FakeDiscord {
    /// Starts REST and gateway listeners on 127.0.0.1:0.
    pub async fn start() -> FakeDiscord {
        let gw = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gateway");
        let gateway_url = format!("ws://{}", gw.local_addr().expect("gateway addr"));
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(DISCORD_EPOCH_MS);
        let state = Arc::new(State {
            inner: Mutex::new(Inner::default()),
            next_id: AtomicU64::new((now_ms - DISCORD_EPOCH_MS) << 22),
            gateway_url,
        });
        tokio::spawn(gateway::serve(gw, state.clone()));
        let api = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind rest");
        let api_url = format!("http://{}", api.local_addr().expect("rest addr"));
        let app = rest::router(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(api, app).await;
        });
        FakeDiscord { api_url, state }
    }

    /// A text channel of the guild.
    pub fn add_guild_channel(&self, name: &str) -> u64 {
        let id = self.state.id();
        let channel = Channel {
            kind: 0,
            guild: Some(GUILD_ID),
            parent: None,
            name: name.into(),
            recipient: None,
        };
        self.state.lock().channels.insert(id, channel);
        id
    }

    /// A user the bot may DM (also learned when the user writes).
    pub fn add_user(&self, user: u64, name: &str) {
        self.state
            .lock()
            .users
            .insert(user, payloads::user(user, name, false));
    }

    /// The DM channel of `user`, created on first use.
    pub fn dm_channel(&self, user: u64) -> u64 {
        self.state.dm_channel(user)
    }

    /// A user writes; returns the message id.
    pub fn user_writes(&self, m: UserMessage) -> u64 {
        let id = self.state.id();
        let author = payloads::user(m.user, &m.name, m.author_is_bot);
        let (guild, reply) = {
            let mut inner = self.state.lock();
            inner.users.entry(m.user).or_insert_with(|| author.clone());
            let guild = inner.channels.get(&m.channel).and_then(|c| c.guild);
            let reply = m.reply_to.and_then(|r| {
                inner
                    .sent
                    .iter()
                    .find(|s| s.id == r)
                    .map(|s| s.object.clone())
            });
            (guild, reply)
        };
        let mentions = if m.mention_bot {
            vec![payloads::bot_user()]
        } else {
            vec![]
        };
        let content = if m.mention_bot {
            format!("<@{BOT_ID}> {}", m.text)
        } else {
            m.text.clone()
        };
        let object = payloads::message(payloads::MessageParts {
            id,
            channel: m.channel,
            guild,
            author,
            content: &content,
            mentions,
            reply_to: reply,
            attachments: m.attachments,
            components: json!([]),
        });
        self.state.dispatch("MESSAGE_CREATE", object);
        id
    }

    /// `user` writes `text` to the bot in a DM; returns the message id.
    pub fn dm(&self, user: u64, text: &str) -> u64 {
        let channel = self.dm_channel(user);
        self.user_writes(UserMessage::new(channel, user, text))
    }

    /// `user` presses the button `custom_id` on the bot's message `message`; returns the interaction id.
    pub fn press(&self, user: u64, message: u64, custom_id: &str) -> u64 {
        let id = self.state.id();
        let (object, channel, guild) = {
            let mut inner = self.state.lock();
            inner.pressed_at.insert(id, Instant::now());
            let sent = inner
                .sent
                .iter()
                .find(|s| s.id == message)
                .cloned()
                .expect("pressed message exists");
            let guild = inner.channels.get(&sent.channel).and_then(|c| c.guild);
            (sent.object, sent.channel, guild)
        };
        let presser = payloads::user(user, &format!("user{user}"), false);
        self.state.dispatch(
            "INTERACTION_CREATE",
            payloads::interaction(id, channel, guild, presser, custom_id, object),
        );
        id
    }

    /// Makes the next message posts fail, in order.
    pub fn fail_next_posts(&self, failures: &[Failure]) {
        self.state.lock().failures.extend(failures.iter().copied());
    }

    /// Makes the next thread creations fail, in order.
    pub fn fail_next_threads(&self, failures: &[Failure]) {
        self.state
            .lock()
            .thread_failures
            .extend(failures.iter().copied());
    }

    /// Deletes a channel or thread (as a moderator would).
    pub fn delete_channel(&self, id: u64) {
        self.state.lock().channels.remove(&id);
    }

    /// Closes the live gateway connection with `code` (4000: resumable). Events dispatched until the client is
    /// back are only logged, and replayed on RESUME.
    pub fn drop_gateway(&self, code: u16) {
        if let Some(live) = self.state.lock().live.take() {
            let _ = live.send(gateway::WsCmd::Close(code));
        }
    }

    /// On RESUME, also replay this many events the client had already seen (Discord may redeliver).
    pub fn set_resume_overlap(&self, events: u64) {
        self.state.lock().resume_overlap = events;
    }

    /// (IDENTIFY count, RESUME count).
    pub fn sessions(&self) -> (usize, usize) {
        let inner = self.state.lock();
        (inner.identifies, inner.resumes)
    }

    /// Whether a client is connected and identified or resumed.
    pub fn connected(&self) -> bool {
        self.state.lock().live.is_some()
    }

    /// Everything the bot posted, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.state.lock().sent.clone()
    }

    /// What the bot posted in `channel`.
    pub fn sent_in(&self, channel: u64) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|s| s.channel == channel)
            .collect()
    }

    /// Number of `POST .../messages` requests, failed ones included.
    pub fn message_posts(&self) -> usize {
        self.state.lock().message_posts
    }

    /// When each `POST .../messages` arrived, failed ones included.
    pub fn post_times(&self) -> Vec<Instant> {
        self.state.lock().post_times.clone()
    }

    /// Interaction answers.
    pub fn acks(&self) -> Vec<Ack> {
        self.state.lock().acks.clone()
    }

    /// (parent, name) of a thread.
    pub fn thread(&self, id: u64) -> Option<(u64, String)> {
        let inner = self.state.lock();
        inner
            .channels
            .get(&id)
            .filter(|c| matches!(c.kind, 10..=12))
            .map(|c| (c.parent.unwrap_or(0), c.name.clone()))
    }

    /// Waits until `check` returns something, polling; panics with `what` after `timeout`.
    pub async fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&FakeDiscord) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = check(self) {
                return v;
            }
            if Instant::now() > deadline {
                let sent: Vec<String> = self
                    .sent()
                    .iter()
                    .map(|s| format!("{}: {}", s.channel, s.content()))
                    .collect();
                panic!("timed out waiting for {what}; the bot sent: {sent:#?}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits for the client to be connected.
    pub async fn wait_connected(&self) {
        self.wait_for("the gateway connection", Duration::from_secs(10), |f| {
            f.connected().then_some(())
        })
        .await;
    }

    /// Waits until the bot posted at least `n` messages in `channel`; returns them.
    pub async fn wait_sent_in(&self, channel: u64, n: usize) -> Vec<Sent> {
        let what = format!("{n} messages in channel {channel}");
        self.wait_for(&what, Duration::from_secs(10), |f| {
            let sent = f.sent_in(channel);
            (sent.len() >= n).then_some(sent)
        })
        .await
    }
}
