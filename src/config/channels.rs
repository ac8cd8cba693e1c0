//! The channel sections: `[web]`, `[telegram]`, `[discord]`, `[[webhooks]]` and `[[forward]]`. Their secrets
//! are never printed by `Debug`.

use std::fmt;

use serde::Deserialize;

use super::{line_at, Config, ConfigError};

/// Shortest HMAC secret accepted for a webhook channel or a forwarder, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;

/// The environment variable a webhook channel's secret may come from.
pub fn webhook_secret_var(channel: &str) -> String {
    format!(
        "SUPPORTBOT_WEBHOOK_SECRET_{}",
        channel.to_uppercase().replace('-', "_")
    )
}

/// The environment variable a forwarder's secret may come from.
pub fn forward_secret_var(name: &str) -> String {
    format!(
        "SUPPORTBOT_FORWARD_SECRET_{}",
        name.to_uppercase().replace('-', "_")
    )
}

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
    /// Bearer token for `/metrics` (also `SUPPORTBOT_METRICS_TOKEN`); without one, `/metrics` on the main
    /// listener takes the operator token.
    pub metrics_token: Option<String>,
    /// A listener of its own for `/metrics` (then not served on `listen`); open to whoever reaches it unless
    /// `metrics_token` is set.
    pub metrics_listen: Option<String>,
    /// Connections served at once (default 16384).
    pub max_connections: Option<u64>,
    /// Connections served at once from one client address (default 256).
    pub max_connections_per_ip: Option<u64>,
    /// Seconds a client has to send a request's headers (default 10).
    pub header_read_timeout_secs: Option<u64>,
    /// Seconds between pings on an open chat socket (default 30).
    pub ws_ping_secs: Option<u64>,
    /// Seconds a chat socket may stay silent, pongs included, before it is closed (default 90).
    pub ws_idle_secs: Option<u64>,
    /// New chat sessions one client address may open per hour (default 60).
    pub new_sessions_per_ip_per_hour: Option<u32>,
    /// New chat sessions all clients together may open per minute (default 300).
    pub new_sessions_per_minute: Option<u32>,
    /// Uploads one client address may send per hour (default 60).
    pub uploads_per_ip_per_hour: Option<u32>,
    /// Uploads all clients together may send per minute (default 60).
    pub uploads_per_minute: Option<u32>,
    /// Cases web sessions of one client address may open per hour (default 10).
    pub case_opens_per_ip_per_hour: Option<u32>,
    /// Cases all web sessions together may open per hour (default 300).
    pub case_opens_per_hour: Option<u32>,
    /// MiB of uploads one chat session may have stored (default 100).
    pub upload_quota_mb: Option<u64>,
    /// Files one chat session may have stored (default 50).
    pub upload_quota_files: Option<u32>,
    /// MiB all uploads together may take (default 10240).
    pub uploads_total_mb: Option<u64>,
    /// Days an upload is kept once no open case refers to it (default 30).
    pub upload_retention_days: Option<u64>,
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
            metrics_token: None,
            metrics_listen: None,
            max_connections: None,
            max_connections_per_ip: None,
            header_read_timeout_secs: None,
            ws_ping_secs: None,
            ws_idle_secs: None,
            new_sessions_per_ip_per_hour: None,
            new_sessions_per_minute: None,
            uploads_per_ip_per_hour: None,
            uploads_per_minute: None,
            case_opens_per_ip_per_hour: None,
            case_opens_per_hour: None,
            upload_quota_mb: None,
            upload_quota_files: None,
            uploads_total_mb: None,
            upload_retention_days: None,
        }
    }
}

impl WebConfig {
    /// The first limit set to something unusable, as (key, problem).
    pub fn check(&self) -> Option<(&'static str, String)> {
        let counts = [
            (
                "messages_per_minute",
                self.messages_per_minute.map(u64::from),
            ),
            ("burst", self.burst.map(u64::from)),
            ("max_connections", self.max_connections),
            ("max_connections_per_ip", self.max_connections_per_ip),
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("ws_ping_secs", self.ws_ping_secs),
            ("ws_idle_secs", self.ws_idle_secs),
            (
                "new_sessions_per_ip_per_hour",
                self.new_sessions_per_ip_per_hour.map(u64::from),
            ),
            (
                "new_sessions_per_minute",
                self.new_sessions_per_minute.map(u64::from),
            ),
            (
                "uploads_per_ip_per_hour",
                self.uploads_per_ip_per_hour.map(u64::from),
            ),
            ("uploads_per_minute", self.uploads_per_minute.map(u64::from)),
            (
                "case_opens_per_ip_per_hour",
                self.case_opens_per_ip_per_hour.map(u64::from),
            ),
            (
                "case_opens_per_hour",
                self.case_opens_per_hour.map(u64::from),
            ),
            ("upload_quota_mb", self.upload_quota_mb),
            ("upload_quota_files", self.upload_quota_files.map(u64::from)),
            ("uploads_total_mb", self.uploads_total_mb),
            ("upload_retention_days", self.upload_retention_days),
        ];
        if let Some((key, _)) = counts.iter().find(|(_, v)| *v == Some(0)) {
            return Some((*key, format!("[web] {key} must be at least 1")));
        }
        let ping = self.ws_ping_secs.unwrap_or(30);
        let idle = self.ws_idle_secs.unwrap_or(90);
        if idle <= ping {
            let key = if self.ws_idle_secs.is_some() {
                "ws_idle_secs"
            } else {
                "ws_ping_secs"
            };
            return Some((
                key,
                format!("[web] ws_idle_secs ({idle}) must be longer than ws_ping_secs ({ping})"),
            ));
        }
        if self
            .metrics_token
            .as_deref()
            .is_some_and(|t| t.trim().len() < 16)
        {
            return Some((
                "metrics_token",
                "[web] metrics_token must be at least 16 characters long".into(),
            ));
        }
        None
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
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .field("metrics_listen", &self.metrics_listen)
            .field("max_connections", &self.max_connections)
            .field("max_connections_per_ip", &self.max_connections_per_ip)
            .field("header_read_timeout_secs", &self.header_read_timeout_secs)
            .field("ws_ping_secs", &self.ws_ping_secs)
            .field("ws_idle_secs", &self.ws_idle_secs)
            .field(
                "new_sessions_per_ip_per_hour",
                &self.new_sessions_per_ip_per_hour,
            )
            .field("new_sessions_per_minute", &self.new_sessions_per_minute)
            .field("uploads_per_ip_per_hour", &self.uploads_per_ip_per_hour)
            .field("uploads_per_minute", &self.uploads_per_minute)
            .field(
                "case_opens_per_ip_per_hour",
                &self.case_opens_per_ip_per_hour,
            )
            .field("case_opens_per_hour", &self.case_opens_per_hour)
            .field("upload_quota_mb", &self.upload_quota_mb)
            .field("upload_quota_files", &self.upload_quota_files)
            .field("uploads_total_mb", &self.uploads_total_mb)
            .field("upload_retention_days", &self.upload_retention_days)
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
    /// HMAC secret, at least [`MIN_SECRET_BYTES`] bytes; when empty, read from
    /// `SUPPORTBOT_WEBHOOK_SECRET_<CHANNEL>` (upper case, `-` as `_`).
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
    /// HMAC secret signing JSON bodies (at least [`MIN_SECRET_BYTES`] bytes); when empty, read from
    /// `SUPPORTBOT_FORWARD_SECRET_<NAME>` (upper case, `-` as `_`); unsigned when neither is set.
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

/// Checks the channel sections of a parsed file: `[web]`'s limits and the length of every secret written in
/// it, located as `file:line`.
pub(super) fn check(config: &Config, text: &str, file: &str) -> Result<(), ConfigError> {
    if let Some((key, message)) = config.web.check() {
        let at = table_key(text, "[web]", 0, key);
        return Err(ConfigError::Invalid {
            location: at.map_or_else(
                || file.to_string(),
                |at| format!("{file}:{}", line_at(text, at)),
            ),
            message,
        });
    }
    let secrets = config
        .webhooks
        .iter()
        .enumerate()
        .map(|(i, h)| {
            (
                "[[webhooks]]",
                i,
                &h.secret,
                format!("webhook channel `{}`", h.channel),
            )
        })
        .chain(
            config
                .forward
                .iter()
                .enumerate()
                .map(|(i, f)| ("[[forward]]", i, &f.secret, format!("forward `{}`", f.name))),
        );
    for (header, index, secret, what) in secrets {
        if !secret.is_empty() && secret.len() < MIN_SECRET_BYTES {
            let at = table_key(text, header, index, "secret");
            return Err(ConfigError::Invalid {
                    location: at.map_or_else(|| file.to_string(), |at| format!("{file}:{}", line_at(text, at))),
                    message: format!(
                        "the secret of {what} must be at least {MIN_SECRET_BYTES} bytes long (it has {}); \
                         a random one: `openssl rand -hex 32`",
                        secret.len()
                    ),
                });
        }
    }
    Ok(())
}

/// Checks the secrets the environment filled in: a short one is an error naming its variable.
pub(super) fn check_env_secrets(config: &Config) -> Result<(), ConfigError> {
    let short = |var: String, what: String, len: usize| ConfigError::Invalid {
        location: var,
        message: format!(
            "the secret of {what} must be at least {MIN_SECRET_BYTES} bytes long (it has {len})"
        ),
    };
    for hook in &config.webhooks {
        if !hook.secret.is_empty() && hook.secret.len() < MIN_SECRET_BYTES {
            return Err(short(
                webhook_secret_var(&hook.channel),
                format!("webhook channel `{}`", hook.channel),
                hook.secret.len(),
            ));
        }
    }
    for target in &config.forward {
        if !target.secret.is_empty() && target.secret.len() < MIN_SECRET_BYTES {
            return Err(short(
                forward_secret_var(&target.name),
                format!("forward `{}`", target.name),
                target.secret.len(),
            ));
        }
    }
    if config
        .web
        .metrics_token
        .as_deref()
        .is_some_and(|t| t.trim().len() < 16)
    {
        return Err(ConfigError::Invalid {
            location: "SUPPORTBOT_METRICS_TOKEN".into(),
            message: "the metrics token must be at least 16 characters long".into(),
        });
    }
    Ok(())
}

/// Where `key = ` is written in the `index`-th table opened by `header` (`[web]`, `[[webhooks]]`), if the
/// file writes it that way.
fn table_key(text: &str, header: &str, index: usize, key: &str) -> Option<usize> {
    let mut offset = 0;
    let mut lines = text.split_inclusive('\n').map(|line| {
        let at = offset;
        offset += line.len();
        (at, line.trim())
    });
    let mut seen = 0;
    let mut inside = false;
    for (at, line) in &mut lines {
        if line.starts_with('[') {
            inside = line.starts_with(header) && {
                seen += 1;
                seen == index + 1
            };
            continue;
        }
        if inside {
            let rest = line.strip_prefix(key).map(str::trim_start);
            if rest.is_some_and(|r| r.starts_with('=')) {
                return Some(at);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_webhook_secrets_are_located_errors() {
        let text = "[[webhooks]]\nchannel = \"a\"\nsecret = \"0123456789abcdef\"\n\
                    [[webhooks]]\nchannel = \"b\"\ncallback_url = \"http://x/\"\nsecret = \"short\"\n";
        let err = Config::parse(text, "w.toml").unwrap_err().to_string();
        assert!(err.starts_with("w.toml:7:"), "{err}");
        assert!(
            err.contains("webhook channel `b`") && err.contains("16 bytes"),
            "{err}"
        );
        assert!(!err.contains("short"), "{err}");
        let err = Config::parse(
            "[[forward]]\nname = \"d\"\nurl = \"http://x/\"\nsecret = \"desk\"\n",
            "f.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("f.toml:4:"), "{err}");
        let mut c = Config::parse("[[webhooks]]\nchannel = \"my-app\"\n", "w.toml").unwrap();
        c.apply_env(|k| (k == "SUPPORTBOT_WEBHOOK_SECRET_MY_APP").then(|| "tiny".to_string()));
        let err = c.check_env_secrets().unwrap_err().to_string();
        assert!(
            err.starts_with("SUPPORTBOT_WEBHOOK_SECRET_MY_APP: "),
            "{err}"
        );
    }

    #[test]
    fn web_limits_are_checked_and_located() {
        let c = Config::parse(
            "[web]\nlisten = \"127.0.0.1:0\"\nmax_connections = 20\nupload_retention_days = 7\n",
            "l.toml",
        )
        .unwrap();
        assert_eq!(c.web.max_connections, Some(20));
        let err = Config::parse(
            "[bot]\nname = \"x\"\n[web]\nuploads_per_minute = 0\n",
            "l.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("l.toml:4:") && err.contains("at least 1"),
            "{err}"
        );
        let err = Config::parse("[web]\nws_ping_secs = 60\nws_idle_secs = 30\n", "l.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("l.toml:3:"), "{err}");
        assert!(Config::parse("[web]\nmetrics_token = \"abc\"\n", "l.toml").is_err());
    }
}
