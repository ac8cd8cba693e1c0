//! Settings of the web channel: where it keeps its files, who the inbox operator is, and its limits.

use std::path::PathBuf;

/// Everything the web channel needs to know besides the core it talks to.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// The bot's data directory; the channel uses `web/` (server key, session histories) and `uploads/` in it.
    pub data_dir: PathBuf,
    /// Base URL the channel is reachable at (`http://127.0.0.1:8080`), used in attachment links for operators.
    pub public_url: String,
    /// The operator token that opens the inbox and the JSON API.
    pub operator_token: String,
    /// The inbox operator's user id on the `web` platform (the account is `web:<id>`).
    pub inbox_operator: String,
    /// The inbox operator's display name.
    pub inbox_operator_name: String,
    /// The bot's name, shown in the chat page's title bar.
    pub bot_name: String,
    /// Extra origins allowed to open the WebSocket besides the page's own (`https://www.example.com`).
    pub allowed_origins: Vec<String>,
    /// Longest message text accepted, in characters.
    pub max_text_chars: usize,
    /// Largest WebSocket message accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// Messages (and uploads) a session may send per minute on average.
    pub messages_per_minute: u32,
    /// Messages a session may send in a quick burst.
    pub burst: u32,
    /// Messages of recent history kept per session and sent again on reconnect.
    pub history_len: usize,
    /// A session silent this long loses its history (its token then starts a new conversation).
    pub history_retention: std::time::Duration,
}

impl WebSettings {
    /// Defaults for a data directory and listening URL; the token must be filled in.
    pub fn new(
        data_dir: impl Into<PathBuf>,
        public_url: impl Into<String>,
        operator_token: impl Into<String>,
    ) -> Self {
        WebSettings {
            data_dir: data_dir.into(),
            public_url: public_url.into(),
            operator_token: operator_token.into(),
            inbox_operator: "admin".to_string(),
            inbox_operator_name: "Inbox".to_string(),
            bot_name: "supportbot".to_string(),
            allowed_origins: Vec::new(),
            max_text_chars: 4000,
            max_frame_bytes: 64 * 1024,
            max_upload_bytes: 20 * 1024 * 1024,
            messages_per_minute: 30,
            burst: 10,
            history_len: 50,
            history_retention: std::time::Duration::from_secs(90 * 24 * 3600),
        }
    }

    /// Directory of the channel's own state (server key, session histories).
    pub fn state_dir(&self) -> PathBuf {
        self.data_dir.join("web")
    }

    /// Directory where uploads are kept.
    pub fn uploads_dir(&self) -> PathBuf {
        self.data_dir.join("uploads")
    }

    /// The inbox operator's account, `web:<id>`.
    pub fn inbox_account(&self) -> String {
        format!("web:{}", self.inbox_operator)
    }
}
