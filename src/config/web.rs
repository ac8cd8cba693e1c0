//! The `[web]` section: the web channel's listener, tokens and limits. Its tokens are never printed by `Debug`.

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
    /// Hours an operator's inbox sign-in lasts (default 12).
    pub session_hours: Option<u64>,
    /// Failed inbox sign-ins allowed per name and per client address in 15 minutes (default 5).
    pub signin_attempts: Option<u32>,
    /// The team's canned replies file (default `canned.toml` beside the FAQ directory).
    pub canned_replies: Option<std::path::PathBuf>,
    /// Whether a web chat user sees that the operator holding their case is typing (default on).
    pub typing_indicator: Option<bool>,
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
            session_hours: None,
            signin_attempts: None,
            canned_replies: None,
            typing_indicator: None,
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
            ("session_hours", self.session_hours),
            ("signin_attempts", self.signin_attempts.map(u64::from)),
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
            .field("session_hours", &self.session_hours)
            .field("signin_attempts", &self.signin_attempts)
            .field("canned_replies", &self.canned_replies)
            .field("typing_indicator", &self.typing_indicator)
            .finish()
    }
}
