//! The channel sections `[telegram]`, `[discord]`, `[[webhooks]]` and `[[forward]]` (`[web]` is in `web.rs`), and
//! the checks of all channel sections at load. Their secrets are never printed by `Debug`.

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

    #[test]
    fn the_typing_indicator_is_on_unless_turned_off() {
        assert_eq!(
            Config::parse("", "t.toml").unwrap().web.typing_indicator,
            None
        );
        let off = Config::parse("[web]\ntyping_indicator = false\n", "t.toml").unwrap();
        assert_eq!(off.web.typing_indicator, Some(false));
        let err = Config::parse("[web]\ntyping_indicator = \"no\"\n", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.toml:2"), "{err}");
    }
}
