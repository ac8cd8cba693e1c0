//! The web channel's own counters, appended to the core's figures on `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of the web channel.
#[derive(Default)]
pub struct WebStats {
    /// Chat messages (and button presses) received from pages and stored.
    pub messages_in: AtomicU64,
    /// Messages delivered to sessions (stored in their history).
    pub messages_out: AtomicU64,
    /// Messages refused by the per-session rate limit.
    pub rate_limited: AtomicU64,
    /// Files uploaded.
    pub uploads: AtomicU64,
    /// Bytes uploaded.
    pub upload_bytes: AtomicU64,
    /// Requests refused for a missing or wrong operator token.
    pub unauthorized: AtomicU64,
    /// WebSocket upgrades refused for a foreign `Origin`.
    pub bad_origin: AtomicU64,
    /// New chat sessions refused by the per-address or global limit.
    pub limited_sessions: AtomicU64,
    /// Uploads refused by the per-address or global limit.
    pub limited_uploads: AtomicU64,
    /// Messages refused because their address opened too many cases.
    pub limited_cases: AtomicU64,
    /// Uploads refused by a session's quota or the limit of all uploads.
    pub upload_quota: AtomicU64,
    /// Chat sockets closed for sending nothing (not even a pong) for the idle timeout.
    pub idle_closed: AtomicU64,
    /// Operators signed in to the inbox.
    pub signins: AtomicU64,
    /// Inbox sign-ins refused for a wrong name or password.
    pub signin_failed: AtomicU64,
    /// Inbox sign-ins refused after too many failures.
    pub signin_limited: AtomicU64,
    /// State changes refused for a missing or wrong CSRF token.
    pub csrf_refused: AtomicU64,
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
    );
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

impl WebStats {
    /// The counters, plus the given socket gauges, as Prometheus text.
    pub fn prometheus(&self, chat_sockets: usize, inbox_sockets: usize) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        gauge(
            &mut out,
            "supportbot_web_chat_sockets",
            "Open chat WebSockets.",
            chat_sockets as u64,
        );
        gauge(
            &mut out,
            "supportbot_web_inbox_sockets",
            "Open inbox WebSockets.",
            inbox_sockets as u64,
        );
        counter(
            &mut out,
            "supportbot_web_messages_in_total",
            "Chat messages received and stored.",
            get(&self.messages_in),
        );
        counter(
            &mut out,
            "supportbot_web_messages_out_total",
            "Messages delivered to chat sessions.",
            get(&self.messages_out),
        );
        counter(
            &mut out,
            "supportbot_web_rate_limited_total",
            "Messages refused by the per-session rate limit.",
            get(&self.rate_limited),
        );
        counter(
            &mut out,
            "supportbot_web_uploads_total",
            "Files uploaded.",
            get(&self.uploads),
        );
        counter(
            &mut out,
            "supportbot_web_upload_bytes_total",
            "Bytes uploaded.",
            get(&self.upload_bytes),
        );
        counter(
            &mut out,
            "supportbot_web_unauthorized_total",
            "Requests refused for a missing or wrong operator token.",
            get(&self.unauthorized),
        );
        counter(
            &mut out,
            "supportbot_web_bad_origin_total",
            "WebSocket upgrades refused for a foreign Origin.",
            get(&self.bad_origin),
        );
        for (name, help, value) in [
            (
                "supportbot_web_limited_sessions_total",
                "New chat sessions refused by the per-address or global limit.",
                &self.limited_sessions,
            ),
            (
                "supportbot_web_limited_uploads_total",
                "Uploads refused by the per-address or global limit.",
                &self.limited_uploads,
            ),
            (
                "supportbot_web_limited_cases_total",
                "Messages refused because their address opened too many cases.",
                &self.limited_cases,
            ),
            (
                "supportbot_web_upload_quota_total",
                "Uploads refused by a session's quota or the limit of all uploads.",
                &self.upload_quota,
            ),
            (
                "supportbot_web_idle_closed_total",
                "Chat sockets closed after the idle timeout.",
                &self.idle_closed,
            ),
            (
                "supportbot_web_signins_total",
                "Operators signed in to the inbox.",
                &self.signins,
            ),
            (
                "supportbot_web_signin_failed_total",
                "Inbox sign-ins refused for a wrong name or password.",
                &self.signin_failed,
            ),
            (
                "supportbot_web_signin_limited_total",
                "Inbox sign-ins refused after too many failures.",
                &self.signin_limited,
            ),
            (
                "supportbot_web_csrf_refused_total",
                "Inbox state changes refused for a missing or wrong CSRF token.",
                &self.csrf_refused,
            ),
        ] {
            counter(&mut out, name, help, get(value));
        }
        out
    }

    /// Adds one to a counter.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
