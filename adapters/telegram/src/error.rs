//! Errors of the Telegram channel, and how a failed Bot API call is classified for the outbox.
//!
//! Bot API errors can carry the request URL, which holds the bot token: every message built here goes
//! through [`redact`] first.

use std::time::Duration;

use supportbot_chat::SendError;
use teloxide::{ApiError, RequestError};

/// Why the Telegram channel could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// `getMe` answered 401/404: the token is wrong or revoked.
    #[error(
        "the Telegram Bot API refused the bot token (401 Unauthorized): check `[telegram] token` or \
         TELEGRAM_BOT_TOKEN"
    )]
    BadToken,
    /// The settings cannot work (a bad URL, webhook mode without a listener).
    #[error("invalid Telegram settings: {0}")]
    Settings(String),
    /// The Bot API server could not be reached or answered something unexpected at start.
    #[error("cannot talk to the Telegram Bot API at {url}: {reason}")]
    Unreachable {
        /// The API base address (no token in it).
        url: String,
        /// What went wrong, with the token removed.
        reason: String,
    },
    /// A start-up call (setMyCommands, setWebhook) failed.
    #[error("Telegram {call} failed: {reason}")]
    Call {
        /// The Bot API method.
        call: &'static str,
        /// What went wrong, with the token removed.
        reason: String,
    },
    /// The channel's HTTP listener could not bind its address.
    #[error("cannot listen on {addr} for Telegram: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Replaces every occurrence of the token in `text` (reqwest errors print the request URL).
pub fn redact(text: &str, token: &str) -> String {
    if token.is_empty() {
        text.to_string()
    } else {
        text.replace(token, "<token>")
    }
}

/// A failed call described in one line without the token.
pub fn describe(err: &RequestError, token: &str) -> String {
    redact(&err.to_string(), token)
}

/// How the outbox should treat a failed send: wait, retry later, or give up.
pub fn classify(err: &RequestError, token: &str) -> SendError {
    match err {
        RequestError::RetryAfter(secs) => SendError::RetryAfter(secs.duration()),
        RequestError::Network(_) | RequestError::InvalidJson { .. } | RequestError::Io(_) => {
            SendError::Transient(describe(err, token))
        }
        RequestError::MigrateToChatId(to) => {
            SendError::Permanent(format!("the group moved to the supergroup {to}"))
        }
        RequestError::Api(api) => classify_api(api, token),
    }
}

fn classify_api(api: &ApiError, token: &str) -> SendError {
    let text = redact(&api.to_string(), token);
    match api {
        // A token problem or a second poller is an operating problem, not this message's: keep it in the
        // outbox (until its give-up time) so it goes out once the bot is fixed and restarted.
        ApiError::InvalidToken
        | ApiError::TerminatedByOtherGetUpdates
        | ApiError::CantGetUpdates => SendError::Transient(text),
        ApiError::Unknown(description) => {
            let d = description.trim_start();
            if d.starts_with("Too Many Requests") {
                SendError::RetryAfter(Duration::from_secs(5))
            } else if d.starts_with("Bad Request") || d.starts_with("Forbidden") {
                SendError::Permanent(text)
            } else {
                // 5xx pages, gateway errors and anything Telegram may add later.
                SendError::Transient(text)
            }
        }
        // Every other known error is a 400 or 403 about this chat or message: retrying cannot help.
        _ => SendError::Permanent(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::Seconds;

    #[test]
    fn retry_after_keeps_the_delay() {
        let err = RequestError::RetryAfter(Seconds::from_seconds(7));
        assert!(
            matches!(classify(&err, "t"), SendError::RetryAfter(d) if d == Duration::from_secs(7))
        );
    }

    #[test]
    fn bad_request_and_forbidden_are_permanent() {
        let blocked = RequestError::Api(ApiError::BotBlocked);
        assert!(matches!(classify(&blocked, "t"), SendError::Permanent(_)));
        let unknown = RequestError::Api(ApiError::Unknown("Bad Request: something new".into()));
        assert!(matches!(classify(&unknown, "t"), SendError::Permanent(_)));
        let forbidden = RequestError::Api(ApiError::Unknown("Forbidden: new reason".into()));
        assert!(matches!(classify(&forbidden, "t"), SendError::Permanent(_)));
    }

    #[test]
    fn server_errors_and_garbage_are_transient() {
        let gateway = RequestError::Api(ApiError::Unknown("Bad Gateway".into()));
        assert!(matches!(classify(&gateway, "t"), SendError::Transient(_)));
        let source = serde_json::from_str::<u8>("<html>").unwrap_err();
        let garbage = RequestError::InvalidJson {
            source: std::sync::Arc::new(source),
            raw: "<html>".into(),
        };
        assert!(matches!(classify(&garbage, "t"), SendError::Transient(_)));
        let token = RequestError::Api(ApiError::InvalidToken);
        assert!(matches!(classify(&token, "t"), SendError::Transient(_)));
    }

    #[test]
    fn token_never_appears() {
        let token = "123:SECRET";
        let err = RequestError::Api(ApiError::Unknown(format!("Bad Request: url /bot{token}/x")));
        let SendError::Permanent(text) = classify(&err, token) else {
            panic!("not permanent")
        };
        assert!(!text.contains("SECRET"), "{text}");
    }
}
