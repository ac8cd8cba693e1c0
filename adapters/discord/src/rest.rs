//! Discord REST calls: serenity builds each request (route, auth, user agent, API base), this module sends it
//! and classifies the answer, keeping what serenity's own error type drops (a 429's `retry_after`).

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serenity::http::{LightMethod, Request, Route};
use supportbot_chat::SendError;

/// Longest wait a 429 may ask for before we treat the value as nonsense and cap it.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Why a REST call failed.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// HTTP 429: wait this long.
    #[error("rate limited by Discord, retry after {0:?}")]
    RateLimited(Duration),
    /// HTTP 5xx.
    #[error("Discord server error {status}: {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// Discord's message, if any.
        message: String,
    },
    /// HTTP 4xx other than 429.
    #[error("Discord refused the request (HTTP {status}, code {code}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Discord's JSON error code (0 when absent).
        code: i64,
        /// Discord's message.
        message: String,
    },
    /// The request did not get an answer (connection refused, reset, timeout).
    #[error("cannot reach Discord: {0}")]
    Network(String),
    /// A success answer that is not what the route returns.
    #[error("unexpected answer from Discord: {0}")]
    Decode(String),
}

impl RestError {
    /// Whether Discord says the target does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, RestError::Refused { status: 404, .. })
    }

    /// Whether the token was refused (HTTP 401).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, RestError::Refused { status: 401, .. })
    }

    /// Whether trying again later may work: everything but a 4xx, except a 401 (the bot's credentials, not the
    /// message) and a 408.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, RestError::Refused { status, .. } if !matches!(status, 401 | 408))
    }

    /// The outbox's view: 429 waits, 5xx and network errors may pass, other 4xx never will.
    pub fn into_send_error(self) -> SendError {
        match self {
            RestError::RateLimited(wait) => SendError::RetryAfter(wait),
            e if e.is_retryable() => SendError::Transient(e.to_string()),
            e => SendError::Permanent(e.to_string()),
        }
    }
}

/// The error body Discord sends with 4xx/5xx and 429 answers.
#[derive(serde::Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    retry_after: Option<f64>,
}

/// A REST client bound to one bot token and API base.
#[derive(Clone)]
pub struct Rest {
    client: reqwest::Client,
    auth: String,
    proxy: Option<String>,
}

impl fmt::Debug for Rest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rest")
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

/// `Bot <token>` as Discord expects it in `Authorization`.
pub fn bot_authorization(token: &str) -> String {
    let token = token.trim();
    if token.starts_with("Bot ") {
        token.to_string()
    } else {
        format!("Bot {token}")
    }
}

impl Rest {
    /// A client for `token`, sending to `proxy` (an API base replacing `https://discord.com`) when given.
    pub fn new(client: reqwest::Client, token: &str, proxy: Option<String>) -> Rest {
        Rest {
            client,
            auth: bot_authorization(token),
            proxy,
        }
    }

    /// A GET on `route`, decoding the JSON answer.
    pub async fn get<T: DeserializeOwned>(&self, route: Route<'_>) -> Result<T, RestError> {
        self.call(Request::new(route, LightMethod::Get)).await
    }

    /// A POST of `body` as JSON on `route`, decoding the JSON answer.
    pub async fn post<T: DeserializeOwned>(
        &self,
        route: Route<'_>,
        body: &impl Serialize,
    ) -> Result<T, RestError> {
        self.call(Request::new(route, LightMethod::Post).body(Some(json_body(body)?)))
            .await
    }

    /// A POST of `body` as JSON on `route` whose answer has no body worth reading (204).
    pub async fn post_empty(
        &self,
        route: Route<'_>,
        body: &impl Serialize,
    ) -> Result<(), RestError> {
        let request = Request::new(route, LightMethod::Post).body(Some(json_body(body)?));
        self.execute(request).await.map(drop)
    }

    /// A GET with query parameters.
    pub async fn get_with<T: DeserializeOwned>(
        &self,
        route: Route<'_>,
        params: Vec<(&'static str, String)>,
    ) -> Result<T, RestError> {
        self.call(Request::new(route, LightMethod::Get).params(Some(params)))
            .await
    }

    async fn call<T: DeserializeOwned>(&self, request: Request<'_>) -> Result<T, RestError> {
        let bytes = self.execute(request).await?;
        serde_json::from_slice(&bytes).map_err(|e| RestError::Decode(e.to_string()))
    }

    async fn execute(&self, request: Request<'_>) -> Result<Vec<u8>, RestError> {
        let builder = request
            .build(&self.client, &self.auth, self.proxy.as_deref())
            .map_err(|e| RestError::Network(format!("cannot build the request: {e}")))?;
        let response = builder
            .send()
            .await
            .map_err(|e| RestError::Network(network_reason(&e)))?;
        let status = response.status().as_u16();
        let header_wait = header_retry_after(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|e| RestError::Network(network_reason(&e)))?;
        if (200..300).contains(&status) {
            return Ok(bytes.to_vec());
        }
        let body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
        Err(match status {
            429 => {
                let secs = body.retry_after.or(header_wait).unwrap_or(1.0);
                RestError::RateLimited(clamp_wait(secs))
            }
            500..=599 => RestError::Server {
                status,
                message: body.message,
            },
            _ => RestError::Refused {
                status,
                code: body.code,
                message: body.message,
            },
        })
    }
}

fn json_body(body: &impl Serialize) -> Result<Vec<u8>, RestError> {
    serde_json::to_vec(body)
        .map_err(|e| RestError::Decode(format!("cannot encode the request: {e}")))
}

fn network_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        // reqwest errors name the URL, never the Authorization header.
        e.to_string()
    }
}

/// `X-RateLimit-Reset-After` (fractional seconds) or `Retry-After` (seconds).
fn header_retry_after(headers: &reqwest::header::HeaderMap) -> Option<f64> {
    ["x-ratelimit-reset-after", "retry-after"]
        .iter()
        .find_map(|name| {
            headers
                .get(*name)?
                .to_str()
                .ok()?
                .trim()
                .parse::<f64>()
                .ok()
        })
}

fn clamp_wait(secs: f64) -> Duration {
    if !secs.is_finite() || secs <= 0.0 {
        return Duration::from_millis(100);
    }
    Duration::from_secs_f64(secs).min(MAX_RETRY_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_gets_the_bot_prefix_once() {
        assert_eq!(bot_authorization(" abc "), "Bot abc");
        assert_eq!(bot_authorization("Bot abc"), "Bot abc");
    }

    #[test]
    fn classification_follows_the_outbox_contract() {
        let wait = RestError::RateLimited(Duration::from_millis(1500)).into_send_error();
        assert!(matches!(wait, SendError::RetryAfter(d) if d == Duration::from_millis(1500)));
        let server = RestError::Server {
            status: 502,
            message: String::new(),
        }
        .into_send_error();
        assert!(matches!(server, SendError::Transient(_)));
        let net = RestError::Network("reset".into()).into_send_error();
        assert!(matches!(net, SendError::Transient(_)));
        let refused = RestError::Refused {
            status: 403,
            code: 50007,
            message: "Cannot send".into(),
        };
        assert!(matches!(refused.into_send_error(), SendError::Permanent(_)));
        let auth = RestError::Refused {
            status: 401,
            code: 0,
            message: "401: Unauthorized".into(),
        };
        assert!(matches!(auth.into_send_error(), SendError::Transient(_)));
    }

    #[test]
    fn waits_are_clamped() {
        assert_eq!(clamp_wait(f64::NAN), Duration::from_millis(100));
        assert_eq!(clamp_wait(-3.0), Duration::from_millis(100));
        assert_eq!(clamp_wait(1e9), MAX_RETRY_AFTER);
        assert_eq!(clamp_wait(0.25), Duration::from_millis(250));
    }
}
