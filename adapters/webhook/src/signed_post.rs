//! One signed HTTP POST of an outbox envelope and the classification of its outcome into the outbox's terms:
//! 2xx delivered, 429 wait (`Retry-After`), 5xx / timeout / connection failure transient, other 4xx permanent.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use supportbot_chat::SendError;

use crate::signature::{self, Secret, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// Default time allowed for one delivery attempt (connect, send, response headers and body).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest `Retry-After` honoured; a receiver asking for more is retried after this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// Most of a receiver's answer read (for the error text); the rest is never read, and the connection is
/// dropped instead of reused.
pub const MAX_RESPONSE_BODY: usize = 4 * 1024;
/// Used when a 429 carries no usable `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Why an HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct ClientError(#[from] reqwest::Error);

/// Builds the HTTP client deliveries use: a whole-request timeout, no redirects (a redirected POST would
/// silently lose its body), rustls.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, ClientError> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("supportbot/", env!("CARGO_PKG_VERSION")))
        .build()?;
    Ok(client)
}

/// POSTs `body` (JSON) to `url` with the envelope id as `Idempotency-Key`, signed when a secret is given, and
/// classifies the answer.
pub async fn post_json(
    client: &reqwest::Client,
    url: &str,
    secret: Option<&Secret>,
    idempotency_key: &str,
    body: Vec<u8>,
) -> Result<(), SendError> {
    let mut request = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(IDEMPOTENCY_HEADER, header_safe_key(idempotency_key));
    if let Some(secret) = secret {
        // Signed per attempt, so a retry hours later is not refused as stale.
        let timestamp = signature::now_unix().to_string();
        let sig = signature::sign(secret, &timestamp, &body);
        request = request
            .header(TIMESTAMP_HEADER, timestamp)
            .header(SIGNATURE_HEADER, sig);
    }
    match request.body(body).send().await {
        Ok(mut response) => {
            let status = response.status();
            let headers = response.headers().clone();
            let body = read_head(&mut response, MAX_RESPONSE_BODY).await;
            classify(
                status,
                &headers,
                &String::from_utf8_lossy(&body),
                SystemTime::now(),
            )
        }
        Err(err) => Err(classify_error(&err)),
    }
}

/// At most `cap` bytes of a response's body (less when it ends or fails sooner); the rest is left unread.
pub async fn read_head(response: &mut reqwest::Response, cap: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < cap {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = cap - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    body
}

/// The idempotency key as a header value: visible ASCII is kept, every other byte (and `%`) is
/// percent-encoded, so platform message ids in any script still make a valid, stable, unique header.
pub fn header_safe_key(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if (0x21..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Maps an HTTP answer to the outbox's outcome.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now: SystemTime,
) -> Result<(), SendError> {
    if status.is_success() {
        return Ok(());
    }
    let detail = || {
        let snippet: String = body.chars().take(200).collect();
        if snippet.trim().is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {}", snippet.trim())
        }
    };
    if status == StatusCode::TOO_MANY_REQUESTS {
        let wait = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now))
            .unwrap_or(DEFAULT_RETRY_AFTER);
        return Err(SendError::RetryAfter(wait.min(MAX_RETRY_AFTER)));
    }
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        // A 503 may also say when to come back.
        if let Some(wait) = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now))
        {
            return Err(SendError::RetryAfter(wait.min(MAX_RETRY_AFTER)));
        }
        return Err(SendError::Transient(detail()));
    }
    Err(SendError::Permanent(detail()))
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (a date in the past means "now").
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Maps a transport failure: everything the network can cause is transient, a request we cannot even build is
/// permanent.
fn classify_error(err: &reqwest::Error) -> SendError {
    if err.is_builder() {
        SendError::Permanent(format!("cannot build the request: {err}"))
    } else if err.is_timeout() {
        SendError::Transient("timed out".into())
    } else if err.is_connect() {
        SendError::Transient(format!("cannot connect: {}", root_cause(err)))
    } else {
        SendError::Transient(root_cause(err))
    }
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(retry_after: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = retry_after {
            h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn idempotency_keys_are_valid_header_values() {
        assert_eq!(header_safe_key("forum:m17#0"), "forum:m17#0");
        assert_eq!(
            header_safe_key("forum:消息 1%#0"),
            "forum:%E6%B6%88%E6%81%AF%201%25#0"
        );
        for id in ["a b", "ü", "x\n", "%41"] {
            assert!(
                reqwest::header::HeaderValue::from_str(&header_safe_key(id)).is_ok(),
                "{id}"
            );
        }
        assert_ne!(header_safe_key("%41"), header_safe_key("A"));
    }

    #[test]
    fn success_and_permanent_client_errors() {
        let now = SystemTime::now();
        assert!(classify(StatusCode::OK, &headers(None), "", now).is_ok());
        assert!(classify(StatusCode::NO_CONTENT, &headers(None), "", now).is_ok());
        for code in [400, 401, 403, 404, 410, 422] {
            let status = StatusCode::from_u16(code).unwrap();
            match classify(status, &headers(None), "nope", now) {
                Err(SendError::Permanent(text)) => {
                    assert!(text.contains(&code.to_string()) && text.contains("nope"))
                }
                other => panic!("{code}: {other:?}"),
            }
        }
        assert!(matches!(
            classify(StatusCode::MOVED_PERMANENTLY, &headers(None), "", now),
            Err(SendError::Permanent(_))
        ));
    }

    #[test]
    fn server_errors_are_transient() {
        for code in [500, 502, 503, 504] {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(matches!(
                classify(status, &headers(None), "", SystemTime::now()),
                Err(SendError::Transient(_))
            ));
        }
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, &headers(Some("7")), "", SystemTime::now()),
            Err(SendError::RetryAfter(d)) if d == Duration::from_secs(7)
        ));
    }

    #[test]
    fn too_many_requests_honours_retry_after() {
        let now = at(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        let wait =
            |v: Option<&str>| match classify(StatusCode::TOO_MANY_REQUESTS, &headers(v), "", now) {
                Err(SendError::RetryAfter(d)) => d,
                other => panic!("{other:?}"),
            };
        assert_eq!(wait(Some("3")), Duration::from_secs(3));
        assert_eq!(
            wait(Some("Wed, 21 Oct 2015 07:28:30 GMT")),
            Duration::from_secs(30)
        );
        assert_eq!(wait(Some("Wed, 21 Oct 2015 07:27:00 GMT")), Duration::ZERO);
        assert_eq!(wait(Some("soon")), DEFAULT_RETRY_AFTER);
        assert_eq!(wait(None), DEFAULT_RETRY_AFTER);
        assert_eq!(wait(Some("999999")), MAX_RETRY_AFTER);
    }

    #[test]
    fn retry_after_parses_the_obsolete_date_forms() {
        let now = at(1_445_412_480);
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:28:10 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed Oct 21 07:28:20 2015", now),
            Some(Duration::from_secs(20))
        );
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
