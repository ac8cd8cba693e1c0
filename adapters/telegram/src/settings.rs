//! What the Telegram channel needs to know to start: token, Bot API server, receiving mode and its listener.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// Settings of the Telegram channel, filled by the root package from `[telegram]`.
#[derive(Clone)]
pub struct Settings {
    /// The bot token from @BotFather. Never logged.
    pub token: String,
    /// Another Bot API server (a self-hosted Bot API, or the tests' fake); `None` for Telegram's own.
    pub api_url: Option<String>,
    /// How long one `getUpdates` call waits for updates when there are none (long polling).
    pub poll_timeout: Duration,
    /// Webhook mode: the public HTTPS address Telegram posts updates to (it must reach the channel's routes at
    /// `/telegram/webhook`, on [`Settings::listen`] or the listener that serves them). `None`: long polling.
    pub webhook_url: Option<String>,
    /// Address of the channel's own HTTP listener for its routes (webhook, attachment downloads); `None` when
    /// another listener serves them (the web channel's) or nobody does.
    pub listen: Option<SocketAddr>,
    /// Public base address where the routes are reached, used in attachment links (`http://<listen>` when
    /// unset and `listen` is set; no links when neither is known).
    pub public_url: Option<String>,
}

impl Settings {
    /// Settings for long polling with Telegram's defaults and no listener.
    pub fn new(token: impl Into<String>) -> Settings {
        Settings {
            token: token.into(),
            api_url: None,
            poll_timeout: Duration::from_secs(10),
            webhook_url: None,
            listen: None,
            public_url: None,
        }
    }

    /// The base address of attachment links, when the listener runs.
    pub fn file_link_base(&self) -> Option<String> {
        match (&self.public_url, self.listen) {
            (Some(url), _) => Some(url.trim_end_matches('/').to_string()),
            (None, Some(addr)) => Some(format!("http://{addr}")),
            (None, None) => None,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("token", &"<redacted>")
            .field("api_url", &self.api_url)
            .field("poll_timeout", &self.poll_timeout)
            .field("webhook_url", &self.webhook_url)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_token() {
        let s = Settings::new("123:SECRET");
        assert!(!format!("{s:?}").contains("SECRET"));
    }

    #[test]
    fn link_base_prefers_the_public_url() {
        let mut s = Settings::new("t");
        assert_eq!(s.file_link_base(), None);
        s.listen = Some("127.0.0.1:8081".parse().unwrap());
        assert_eq!(s.file_link_base().as_deref(), Some("http://127.0.0.1:8081"));
        s.public_url = Some("https://bot.example.com/".into());
        assert_eq!(
            s.file_link_base().as_deref(),
            Some("https://bot.example.com")
        );
    }
}
