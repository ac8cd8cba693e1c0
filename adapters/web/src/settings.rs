//! Settings of the web channel: where it keeps its files, who the inbox operator is, and its limits.

use std::path::PathBuf;
use std::time::Duration;

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
    pub history_retention: Duration,
    /// Limits on what visitors may open, upload and hold, and on connections.
    pub limits: WebLimits,
    /// Where `/metrics` is served and who may read it.
    pub metrics: MetricsAccess,
    /// How often idle limiter entries, session locks, old histories and expired uploads are swept.
    pub housekeeping: Duration,
    /// Operators who sign in to the inbox with their own name and password.
    pub operators: Vec<WebOperator>,
    /// How long an inbox sign-in lasts.
    pub session_ttl: Duration,
    /// Failed sign-ins allowed per name and per client address within `signin_window`; more are refused
    /// until the window has passed.
    pub signin_attempts: u32,
    /// The window of `signin_attempts`.
    pub signin_window: Duration,
    /// The team's canned replies file (read on every request); `None`: no canned replies.
    pub canned_path: Option<PathBuf>,
    /// Whether a web chat user sees "Wang is typing…" while the operator holding their case types a reply.
    pub typing_indicator: bool,
}

/// An operator with an inbox login. `Debug` leaves the password hash out.
#[derive(Clone)]
pub struct WebOperator {
    /// The login and `web:` account id (`wang`).
    pub login: String,
    /// The display name users see (`Wang`).
    pub name: String,
    /// The operator's teams.
    pub teams: Vec<String>,
    /// Argon2 hash of the password (PHC string).
    pub password_hash: String,
}

impl std::fmt::Debug for WebOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebOperator")
            .field("login", &self.login)
            .field("name", &self.name)
            .field("teams", &self.teams)
            .finish_non_exhaustive()
    }
}

/// Who may read `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsAccess {
    /// On the main listener, for `Authorization: Bearer <token>` (the metrics token, or the operator token
    /// when none is configured).
    Bearer(Option<String>),
    /// Only on a listener of its own ([`crate::WebChannel::serve_metrics`]), for everyone who can reach it or,
    /// with a token, for that bearer token; the main listener answers 404.
    Separate(Option<String>),
}

/// Limits that keep one visitor (or one address) from filling the disk, the queue or the server's sockets.
/// Rates are token buckets: the figure is also the burst, refilled evenly over the period.
#[derive(Debug, Clone)]
pub struct WebLimits {
    /// New chat sessions one client address may open per hour.
    pub new_sessions_per_ip_per_hour: u32,
    /// New chat sessions all clients together may open per minute.
    pub new_sessions_per_minute: u32,
    /// Uploads one client address may send per hour.
    pub uploads_per_ip_per_hour: u32,
    /// Uploads all clients together may send per minute.
    pub uploads_per_minute: u32,
    /// Cases web sessions of one client address may open per hour.
    pub case_opens_per_ip_per_hour: u32,
    /// Cases all web sessions together may open per hour.
    pub case_opens_per_hour: u32,
    /// Bytes one session may have stored in uploads.
    pub upload_quota_bytes: u64,
    /// Files one session may have stored in uploads.
    pub upload_quota_files: u32,
    /// Bytes all uploads together may take on disk.
    pub upload_total_bytes: u64,
    /// An upload no open case refers to is deleted this long after it was last seen in one (or after it
    /// was uploaded, when no case ever referred to it).
    pub upload_retention: Duration,
    /// Connections served at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Connections served at once from one client address; more are closed at once.
    pub max_connections_per_ip: usize,
    /// Time a client has to send a request's headers before the connection is closed.
    pub header_read_timeout: Duration,
    /// How often an open chat socket is pinged.
    pub ws_ping_interval: Duration,
    /// A chat socket that sent nothing (not even a pong) for this long is closed.
    pub ws_idle_timeout: Duration,
}

impl Default for WebLimits {
    fn default() -> Self {
        WebLimits {
            new_sessions_per_ip_per_hour: 60,
            new_sessions_per_minute: 300,
            uploads_per_ip_per_hour: 60,
            uploads_per_minute: 60,
            case_opens_per_ip_per_hour: 10,
            case_opens_per_hour: 300,
            upload_quota_bytes: 100 * 1024 * 1024,
            upload_quota_files: 50,
            upload_total_bytes: 10 * 1024 * 1024 * 1024,
            upload_retention: Duration::from_secs(30 * 24 * 3600),
            max_connections: 16_384,
            max_connections_per_ip: 256,
            header_read_timeout: Duration::from_secs(10),
            ws_ping_interval: Duration::from_secs(30),
            ws_idle_timeout: Duration::from_secs(90),
        }
    }
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
            history_retention: Duration::from_secs(90 * 24 * 3600),
            limits: WebLimits::default(),
            metrics: MetricsAccess::Bearer(None),
            housekeeping: Duration::from_secs(600),
            operators: Vec::new(),
            session_ttl: Duration::from_secs(12 * 3600),
            signin_attempts: 5,
            signin_window: Duration::from_secs(15 * 60),
            canned_path: None,
            typing_indicator: true,
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

    /// Whether a `web` chat id is an inbox operator's (the shared token's or a signed-in operator's).
    pub fn is_inbox_chat(&self, chat: &str) -> bool {
        chat == self.inbox_operator || self.operators.iter().any(|o| o.login == chat)
    }

    /// Whether session cookies must be `Secure` (the channel is served over https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
    }
}
