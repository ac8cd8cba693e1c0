//! The QQ channel: settings, the state shared by its connection and its adapter, and the handling of one
//! connection's frames (events to the core, responses to waiting actions).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use supportbot_chat::text::numbered_choice;
use supportbot_chat::{accept_patiently, Inbound, InboundSink, Shutdown};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::inbound::{self, GROUP_PREFIX};
use crate::link::Link;
use crate::recent::Recent;

/// How many message ids, askers and numbered choices are remembered.
const REMEMBERED: usize = 20_000;

/// Who opens the WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The OneBot implementation connects to `/onebot/v11/ws` on the web listener.
    Reverse,
    /// supportbot connects to the implementation's WebSocket URL.
    Forward {
        /// `ws://…` of the implementation.
        url: String,
    },
}

/// How the channel runs.
#[derive(Clone)]
pub struct Settings {
    /// Platform name used in accounts and chats (`qq`).
    pub platform: String,
    /// Reverse or forward.
    pub mode: Mode,
    /// `Authorization: Bearer <token>`, checked on reverse connections and sent on forward ones.
    pub access_token: Option<String>,
    /// How long an action waits for its response.
    pub action_timeout: Duration,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("platform", &self.platform)
            .field("mode", &self.mode)
            .field("access_token", &self.access_token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// The channel; cheap to clone.
#[derive(Clone)]
pub struct OneBotChannel {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub settings: Settings,
    pub link: Link,
    pub sink: Arc<dyn InboundSink>,
    /// Message ids of the bot's own messages (a reply to one addresses the bot).
    pub bot_messages: Recent<String, ()>,
    /// Envelope id → the message id it became.
    pub sent: Recent<String, String>,
    /// A user's message id → the user, to `at` them in the group answer.
    pub askers: Recent<String, String>,
    /// Conversation → the choices last offered there, which the user answers by number.
    pub choices: Recent<String, Vec<String>>,
}

impl OneBotChannel {
    /// A channel handing what it receives to `sink`.
    pub fn new(settings: Settings, sink: Arc<dyn InboundSink>) -> OneBotChannel {
        OneBotChannel {
            inner: Arc::new(Inner {
                settings,
                link: Link::default(),
                sink,
                bot_messages: Recent::new(REMEMBERED),
                sent: Recent::new(REMEMBERED),
                askers: Recent::new(REMEMBERED),
                choices: Recent::new(REMEMBERED),
            }),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Whether a OneBot implementation is connected now.
    pub fn connected(&self) -> bool {
        self.inner.link.connected()
    }

    /// Runs one connection: frames from `incoming` until it ends or `shutdown`; actions go out on `outgoing`.
    pub(crate) async fn session(
        &self,
        mut incoming: mpsc::Receiver<String>,
        outgoing: mpsc::UnboundedSender<String>,
        self_id: Option<String>,
        shutdown: Shutdown,
    ) {
        let inner = &self.inner;
        if let Some(id) = &self_id {
            inner.link.set_self_id(id);
        }
        let number = inner.link.attach(outgoing);
        info!(self_id = %inner.link.self_id(), "OneBot implementation connected");
        loop {
            let frame = tokio::select! {
                _ = shutdown.cancelled() => break,
                f = incoming.recv() => f,
            };
            let Some(frame) = frame else { break };
            let Ok(value) = serde_json::from_str::<Value>(&frame) else {
                warn!("a OneBot frame is not JSON; ignored");
                continue;
            };
            if inner.link.respond(&value) {
                continue;
            }
            self.event(&value).await;
        }
        inner.link.detach(number);
        info!("OneBot connection closed");
    }

    async fn event(&self, value: &Value) {
        let inner = &self.inner;
        if let Some(id) = value.get("self_id") {
            inner.link.set_self_id(id.to_string().trim_matches('"'));
        }
        let self_id = inner.link.self_id();
        let inbound = {
            let sent_by_bot = |id: &str| inner.bot_messages.get(&id.to_string()).is_some();
            let bot = inbound::Bot {
                platform: &inner.settings.platform,
                self_id: &self_id,
                sent_by_bot: &sent_by_bot,
            };
            inbound::to_inbound(value, &bot)
        };
        let Some(mut inbound) = inbound else {
            return;
        };
        if inbound.group {
            inner
                .askers
                .insert(inbound.id.clone(), inbound.user.clone());
        }
        self.choose_by_number(&mut inbound);
        self.store(inbound).await;
    }

    /// A number answering the choices last offered in the conversation becomes the chosen text.
    fn choose_by_number(&self, inbound: &mut Inbound) {
        let key = conversation(&inbound.chat, &inbound.user);
        if let Some(choices) = self.inner.choices.get(&key) {
            if let Some(choice) = numbered_choice(&inbound.text, &choices) {
                inbound.text = choice.clone();
            }
        }
    }

    /// Hands a message to the core (OneBot does not deliver an event twice, so this waits while it is busy).
    async fn store(&self, inbound: Inbound) {
        let id = inbound.id.clone();
        match accept_patiently(self.inner.sink.as_ref(), inbound).await {
            Ok(accepted) => debug!(message = %id, ?accepted, "QQ message stored"),
            Err(e) => warn!(message = %id, error = %e, "a QQ message could not be stored"),
        }
    }
}

/// The key of a conversation's choices: the chat, and the user in a group.
pub(crate) fn conversation(chat: &str, user: &str) -> String {
    if chat.starts_with(GROUP_PREFIX) {
        format!("{chat}/{user}")
    } else {
        chat.to_string()
    }
}
