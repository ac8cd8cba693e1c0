//! The channel sections: `[web]`, `[telegram]`, `[discord]`, `[[webhooks]]` and `[[forward]]`. Their secrets
//! are never printed by `Debug`.

use std::fmt;

use serde::Deserialize;

/// `[web]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Listen address of the web channel (chat, inbox, API, webhooks, metrics).
    pub listen: String,
    /// Bearer token for `/api/cases` (also `SUPPORTBOT_WEB_TOKEN`).
    pub token: Option<String>,
    /// Public base URL of the web channel (`https://support.example.com`), used in attachment links sent to
    /// operators; default `http://<listen>`.
    pub public_url: Option<String>,
    /// Other origins allowed to open the chat WebSocket (a site embedding the widget).
    pub allowed_origins: Vec<String>,
    /// Messages a chat session may send per minute on average (default 30).
    pub messages_per_minute: Option<u32>,
    /// Messages a chat session may send in a quick burst (default 10).
    pub burst: Option<u32>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            listen: "127.0.0.1:8080".into(),
            token: None,
            public_url: None,
            allowed_origins: Vec::new(),
            messages_per_minute: None,
            burst: None,
        }
    }
}

impl fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebConfig")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("public_url", &self.public_url)
            .field("allowed_origins", &self.allowed_origins)
            .field("messages_per_minute", &self.messages_per_minute)
            .field("burst", &self.burst)
            .finish()
    }
}

/// `[telegram]`.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    /// Bot token (also `TELEGRAM_BOT_TOKEN`).
    pub token: String,
    /// Another Bot API server (tests, self-hosted).
    pub api_url: Option<String>,
    /// Seconds one long-polling `getUpdates` call waits when there is nothing (default 10).
    pub poll_timeout_secs: Option<u64>,
    /// Webhook mode instead of long polling: the public HTTPS URL Telegram posts to, reaching
    /// `/telegram/webhook` on the web listener (or on `listen`).
    pub webhook_url: Option<String>,
    /// A listener of the Telegram channel's own for its routes (webhook, attachment links); by default they
    /// are served on the web channel's listener.
    pub listen: Option<String>,
    /// Public base URL of the listener serving the routes, for attachment links (default: the web channel's
    /// `public_url`, or `http://<listen>`).
    pub public_url: Option<String>,
}

impl fmt::Debug for TelegramConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramConfig")
            .field("token", &"<redacted>")
            .field("api_url", &self.api_url)
            .field("poll_timeout_secs", &self.poll_timeout_secs)
            .field("webhook_url", &self.webhook_url)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// `[discord]`.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    /// Bot token (also `DISCORD_BOT_TOKEN`).
    pub token: String,
    /// Another REST + gateway base (tests).
    pub api_url: Option<String>,
}

impl fmt::Debug for DiscordConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscordConfig")
            .field("token", &"<redacted>")
            .field("api_url", &self.api_url)
            .finish()
    }
}

/// One `[[webhooks]]` channel.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Channel name: the platform name of its users and the path `/webhook/{channel}`.
    pub channel: String,
    /// HMAC secret; when empty, read from `SUPPORTBOT_WEBHOOK_SECRET_<CHANNEL>` (upper case, `-` as `_`).
    #[serde(default)]
    pub secret: String,
    /// Where replies to the channel's users are POSTed.
    #[serde(default)]
    pub callback_url: String,
    /// Time allowed for one delivery attempt to `callback_url`, in seconds.
    #[serde(default = "default_http_timeout")]
    pub timeout_secs: u64,
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("channel", &self.channel)
            .field("secret", &"<redacted>")
            .field("callback_url", &self.callback_url)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// One `[[forward]]` inbox forwarding destination.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardConfig {
    /// Destination name; its outbox destination is `forward:<name>`.
    pub name: String,
    /// Where case events are POSTed.
    pub url: String,
    /// HMAC secret signing JSON bodies; when empty, read from `SUPPORTBOT_FORWARD_SECRET_<NAME>` (upper case,
    /// `-` as `_`); unsigned when neither is set.
    #[serde(default)]
    pub secret: String,
    /// `json` (signed case events) or `slack` (incoming-webhook `{"text": ...}`).
    #[serde(default)]
    pub format: ForwardFormat,
    /// Only these event kinds (`opened`, `message`, `assigned`, `note`, `closed`, `rated`...); all when empty.
    #[serde(default)]
    pub events: Vec<supportbot_chat::CaseEventKind>,
    /// Time allowed for one delivery attempt, in seconds.
    #[serde(default = "default_http_timeout")]
    pub timeout_secs: u64,
}

fn default_http_timeout() -> u64 {
    10
}

impl fmt::Debug for ForwardConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForwardConfig")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("format", &self.format)
            .field("events", &self.events)
            .finish()
    }
}

/// Body format of a `[[forward]]` destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForwardFormat {
    /// Case events as signed JSON.
    #[default]
    Json,
    /// Slack-compatible incoming-webhook payloads.
    Slack,
}
