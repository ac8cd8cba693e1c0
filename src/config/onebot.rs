//! The `[onebot]` section: QQ through a OneBot v11 implementation, by reverse or forward WebSocket. The access
//! token is never printed by `Debug`.

use std::fmt;

use serde::Deserialize;

/// `[onebot]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OneBotConfig {
    /// `reverse` (the implementation connects to `ws://<[web] listen>/onebot/v11/ws`) or `forward` (supportbot
    /// connects to `url`).
    pub mode: String,
    /// The implementation's WebSocket URL (forward mode only).
    pub url: Option<String>,
    /// `Authorization: Bearer <token>` both ways (also `ONEBOT_ACCESS_TOKEN`).
    pub access_token: Option<String>,
    /// Seconds an action (sending a message) waits for the implementation's response.
    pub action_timeout_secs: u64,
}

impl Default for OneBotConfig {
    fn default() -> Self {
        OneBotConfig {
            mode: "reverse".into(),
            url: None,
            access_token: None,
            action_timeout_secs: 15,
        }
    }
}

impl OneBotConfig {
    /// What is wrong with the section, as `(key to point at, message)`.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        match self.mode.as_str() {
            "reverse" => None,
            "forward" => match self.url.as_deref() {
                Some(url) if url.starts_with("ws://") || url.starts_with("wss://") => None,
                Some(url) => Some((
                    "url",
                    format!("[onebot] url must start with ws:// or wss:// (got `{url}`)"),
                )),
                None => Some(("mode", "[onebot] mode = \"forward\" needs a url".into())),
            },
            other => Some((
                "mode",
                format!("[onebot] mode must be \"reverse\" or \"forward\" (got `{other}`)"),
            )),
        }
    }
}

impl fmt::Debug for OneBotConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneBotConfig")
            .field("mode", &self.mode)
            .field("url", &self.url)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("action_timeout_secs", &self.action_timeout_secs)
            .finish()
    }
}
