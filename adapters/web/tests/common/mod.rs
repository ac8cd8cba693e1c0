//! A small in-test core (sink, case directory, metrics) and WebSocket helpers for the web channel's tests.
//! The fake core answers like a tiny bot: it stores every inbound, replies "echo: <text>" through the
//! channel's real `Adapter::deliver`, and opens a case for "/human".
#![allow(dead_code)]

mod ws;
// Each test binary uses its own subset of the client.
#[allow(unused_imports)]
pub use ws::{connect, connect_with, next_json_within, send, Ws};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{FixedOffset, TimeZone};
use serde_json::Value;
use supportbot_chat::{
    Accepted, Adapter, AnswerBook, CaseDetail, CaseDirectory, CaseEvent, CaseEventKind,
    CaseSummary, Delivery, Envelope, Inbound, InboundSink, MetricsSource, Outbound, Shutdown,
    SinkError, StatsPage, SuggestedAnswer,
};
use supportbot_web::{Core, SharedPages, WebAdapter, WebChannel, WebSettings};
use tokio::sync::broadcast;

pub const TOKEN: &str = "test-operator-token-0123456789";

/// The fake core.
pub struct FakeCore {
    pub inbound: Mutex<Vec<Inbound>>,
    pub seen: Mutex<std::collections::HashSet<String>>,
    pub cases: Mutex<Vec<CaseSummary>>,
    pub events: broadcast::Sender<CaseEvent>,
    pub channel: Mutex<Option<Arc<WebAdapter>>>,
    pub reject_next: Mutex<Option<SinkError>>,
    /// Files each case's transcript shows.
    pub files: Mutex<std::collections::HashMap<String, Vec<supportbot_chat::Attachment>>>,
}

impl FakeCore {
    pub fn new() -> Arc<FakeCore> {
        Arc::new(FakeCore {
            inbound: Mutex::new(Vec::new()),
            seen: Mutex::new(Default::default()),
            cases: Mutex::new(Vec::new()),
            events: broadcast::channel(64).0,
            channel: Mutex::new(None),
            reject_next: Mutex::new(None),
            files: Mutex::new(Default::default()),
        })
    }

    pub fn adapter(&self) -> Arc<WebAdapter> {
        self.channel.lock().unwrap().clone().expect("channel set")
    }

    pub fn inbound(&self) -> Vec<Inbound> {
        self.inbound.lock().unwrap().clone()
    }

    pub fn summary(id: &str, status: &str) -> CaseSummary {
        CaseSummary {
            id: id.into(),
            status: status.into(),
            team: "mail".into(),
            priority: 1,
            lang: "en".into(),
            channel: "web".into(),
            user_name: "visitor".into(),
            assignee: None,
            opened_at: FixedOffset::east_opt(8 * 3600)
                .unwrap()
                .with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
                .unwrap(),
            subject: "<b>cannot send</b>".into(),
        }
    }

    pub fn event(&self, case: &str, kind: CaseEventKind) {
        self.event_by(case, kind, "bot");
    }

    /// A case event done by `actor` (`web:<session>` for a case a visitor opened).
    pub fn event_by(&self, case: &str, kind: CaseEventKind, actor: &str) {
        let _ = self.events.send(CaseEvent {
            case: case.into(),
            kind,
            at: FixedOffset::east_opt(0)
                .unwrap()
                .with_ymd_and_hms(2026, 11, 25, 2, 0, 0)
                .unwrap(),
            actor: actor.into(),
            actor_name: String::new(),
            text: String::new(),
            attachments: vec![],
        });
    }
}

pub async fn deliver(
    channel: &WebAdapter,
    chat: &str,
    text: &str,
    buttons: &[&str],
    case: Option<&str>,
) {
    let env = Envelope {
        id: format!("e-{}", text.len()),
        destination: "web".into(),
        order_key: format!("web:{chat}"),
        delivery: Delivery::Message(Outbound {
            platform: "web".into(),
            chat: chat.into(),
            text: text.into(),
            buttons: buttons.iter().map(|b| b.to_string()).collect(),
            reply_to: None,
            case: case.map(str::to_string),
        }),
    };
    channel.deliver(&env).await.expect("delivered");
}

#[async_trait]
impl InboundSink for FakeCore {
    async fn accept(&self, message: Inbound) -> Result<Accepted, SinkError> {
        if let Some(err) = self.reject_next.lock().unwrap().take() {
            return Err(err);
        }
        if !self.seen.lock().unwrap().insert(message.id.clone()) {
            return Ok(Accepted::Duplicate);
        }
        self.inbound.lock().unwrap().push(message.clone());
        let channel = self.adapter();
        // Answer after returning, as the engine does.
        tokio::spawn(async move {
            if message.user == "admin" {
                deliver(
                    &channel,
                    "admin",
                    &format!("done: {}", message.text),
                    &[],
                    None,
                )
                .await;
            } else if message.text == "/human" {
                deliver(
                    &channel,
                    &message.chat,
                    "Case C-1001 opened",
                    &[],
                    Some("C-1001"),
                )
                .await;
            } else {
                deliver(
                    &channel,
                    &message.chat,
                    &format!("echo: {}", message.text),
                    &["Yes", "No"],
                    None,
                )
                .await;
            }
        });
        Ok(Accepted::New)
    }
}

#[async_trait]
impl CaseDirectory for FakeCore {
    async fn list(&self, include_closed: bool) -> Vec<CaseSummary> {
        self.cases
            .lock()
            .unwrap()
            .iter()
            .filter(|c| include_closed || c.status != "closed")
            .cloned()
            .collect()
    }

    async fn get(&self, id: &str) -> Option<CaseDetail> {
        let summary = self
            .cases
            .lock()
            .unwrap()
            .iter()
            .find(|c| c.id == id)
            .cloned()?;
        Some(CaseDetail {
            summary,
            error_codes: vec!["554 DT:SPM".into()],
            suggestions: vec!["mail-bounce-554".into()],
            conversations: vec!["web:x".into()],
            transcript: self
                .files
                .lock()
                .unwrap()
                .get(id)
                .map(|files| {
                    vec![supportbot_chat::CaseEntry {
                        at: FixedOffset::east_opt(0)
                            .unwrap()
                            .with_ymd_and_hms(2026, 11, 25, 2, 0, 0)
                            .unwrap(),
                        role: "user".into(),
                        name: "visitor".into(),
                        text: String::new(),
                        attachments: files.clone(),
                    }]
                })
                .unwrap_or_default(),
            history: vec![],
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<CaseEvent> {
        self.events.subscribe()
    }
}

/// The fake dashboard: a fixed page.
impl StatsPage for FakeCore {
    fn dashboard_html(&self) -> Result<String, String> {
        Ok("<!doctype html><title>stats</title><svg id=\"by-hour\"></svg>".into())
    }
}

/// The fake knowledge base knows one entry, in both languages.
impl AnswerBook for FakeCore {
    fn answer(&self, faq: &str, lang: &str) -> Option<SuggestedAnswer> {
        (faq == "mail-bounce-554").then(|| SuggestedAnswer {
            faq: faq.into(),
            question: if lang == "zh" {
                "退信 554"
            } else {
                "Bounce 554"
            }
            .into(),
            answer: if lang == "zh" {
                "请检查内容。"
            } else {
                "Check the content."
            }
            .into(),
            lang: if lang == "zh" { "zh" } else { "en" }.into(),
        })
    }

    fn teach(&self, case: &str, faq: &str, operator: &str) -> Result<String, String> {
        if faq == "mail-bounce-554" {
            Ok(format!("taught {case} to {faq} for {operator}"))
        } else {
            Err(format!("unknown entry {faq}"))
        }
    }
}

#[async_trait::async_trait]
impl MetricsSource for FakeCore {
    async fn prometheus(&self) -> String {
        "# TYPE supportbot_fake_total counter\nsupportbot_fake_total 7\n".into()
    }
}

/// A running channel on 127.0.0.1:0.
pub struct Server {
    pub core: Arc<FakeCore>,
    pub channel: Arc<WebChannel>,
    pub adapter: Arc<WebAdapter>,
    pub addr: std::net::SocketAddr,
    pub shutdown: Shutdown,
    pub task: tokio::task::JoinHandle<Result<(), supportbot_web::WebError>>,
    pub dir: Arc<tempfile::TempDir>,
}

impl Server {
    pub fn http(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }
}

pub async fn start(tweak: impl FnOnce(&mut WebSettings)) -> Server {
    start_in(Arc::new(tempfile::tempdir().unwrap()), tweak).await
}

pub async fn start_in(dir: Arc<tempfile::TempDir>, tweak: impl FnOnce(&mut WebSettings)) -> Server {
    start_with(dir, None, tweak).await
}

/// A channel in `dir` whose pages go through `shared` mailboxes when given (as with several processes).
pub async fn start_with(
    dir: Arc<tempfile::TempDir>,
    shared: Option<SharedPages>,
    tweak: impl FnOnce(&mut WebSettings),
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = WebSettings::new(dir.path(), format!("http://{addr}"), TOKEN);
    tweak(&mut settings);
    let core = FakeCore::new();
    let shutdown = Shutdown::new();
    let channel = WebChannel::open_with_mail(
        settings,
        Core {
            sink: core.clone(),
            cases: core.clone(),
            metrics: core.clone(),
            answers: core.clone(),
            stats: core.clone(),
        },
        shared,
        shutdown.clone(),
    )
    .unwrap();
    let adapter = channel.adapter();
    *core.channel.lock().unwrap() = Some(adapter.clone());
    let task = tokio::spawn(channel.clone().serve(listener, axum::Router::new()));
    Server {
        core,
        channel,
        adapter,
        addr,
        shutdown,
        task,
        dir,
    }
}

/// The next JSON text frame (panics after 5 s).
pub async fn next_json(ws: &mut Ws) -> Value {
    next_json_within(ws, Duration::from_secs(5)).await
}

/// The next frame of a given type, skipping others.
pub async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let v = next_json(ws).await;
        if v["type"] == kind {
            return v;
        }
    }
}
