//! Request signing of the webhook channel (docs/webhook.md): `X-Supportbot-Timestamp` (unix seconds) and
//! `X-Supportbot-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, checked in constant time.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Header carrying the signing time, in unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-supportbot-timestamp";
/// Header carrying `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-supportbot-signature";
/// Header carrying the envelope id of an outgoing delivery, so receivers can drop duplicates.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// How far a request's timestamp may be from our clock, either way.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

const PREFIX: &str = "sha256=";

type HmacSha256 = Hmac<Sha256>;

/// A shared HMAC secret. Its `Debug` output never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps the secret's bytes.
    pub fn new(value: impl Into<Vec<u8>>) -> Secret {
        Secret(value.into())
    }

    /// Whether the secret is empty (an unusable configuration).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn mac(&self, timestamp: &str, body: &[u8]) -> HmacSha256 {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Why a signed request was refused (answered with 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A signing header is absent.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// The timestamp is not a whole number of seconds.
    #[error("X-Supportbot-Timestamp is not unix seconds")]
    BadTimestamp,
    /// The timestamp is more than five minutes away from our clock.
    #[error("X-Supportbot-Timestamp is more than 5 minutes away from the server's clock")]
    StaleTimestamp,
    /// The signature is not `sha256=<hex>`.
    #[error("X-Supportbot-Signature is not sha256=<hex>")]
    MalformedSignature,
    /// The signature does not match the body and timestamp.
    #[error("signature does not match")]
    BadSignature,
}

/// The current time in unix seconds.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The `X-Supportbot-Signature` value for a body signed at `timestamp` (unix seconds, as sent).
pub fn sign(secret: &Secret, timestamp: &str, body: &[u8]) -> String {
    let tag = secret.mac(timestamp, body).finalize().into_bytes();
    format!("{PREFIX}{}", hex::encode(tag))
}

/// Checks a request's signing headers against its raw body, with `now` in unix seconds.
///
/// The timestamp must be within [`MAX_SKEW_SECS`] of `now` (in the past or the future) and the signature is
/// compared in constant time.
pub fn verify(
    secret: &Secret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), AuthError> {
    let timestamp = timestamp
        .ok_or(AuthError::MissingHeader("X-Supportbot-Timestamp"))?
        .trim();
    let signature = signature
        .ok_or(AuthError::MissingHeader("X-Supportbot-Signature"))?
        .trim();
    let secs: i64 = timestamp.parse().map_err(|_| AuthError::BadTimestamp)?;
    if now.abs_diff(secs) > MAX_SKEW_SECS as u64 {
        return Err(AuthError::StaleTimestamp);
    }
    let hex_tag = signature
        .strip_prefix(PREFIX)
        .ok_or(AuthError::MalformedSignature)?;
    let tag = hex::decode(hex_tag).map_err(|_| AuthError::MalformedSignature)?;
    secret
        .mac(timestamp, body)
        .verify_slice(&tag)
        .map_err(|_| AuthError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_064_800;

    fn secret() -> Secret {
        Secret::new("s3cret")
    }

    #[test]
    fn signs_timestamp_dot_body() {
        // Independent computation of the same HMAC over the documented string.
        let mut mac = HmacSha256::new_from_slice(b"s3cret").unwrap();
        mac.update(b"1764064800.{\"a\":1}");
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(sign(&secret(), "1764064800", br#"{"a":1}"#), expected);
        assert_eq!(expected.len(), 7 + 64);
    }

    #[test]
    fn accepts_a_fresh_correct_signature() {
        let sig = sign(&secret(), "1764064800", b"body");
        assert_eq!(
            verify(
                &secret(),
                Some("1764064800"),
                Some(&sig),
                b"body",
                NOW + 299
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                &secret(),
                Some("1764064800"),
                Some(&sig),
                b"body",
                NOW - 299
            ),
            Ok(())
        );
    }

    #[test]
    fn refuses_old_and_future_timestamps() {
        let sig = sign(&secret(), "1764064800", b"body");
        assert_eq!(
            verify(
                &secret(),
                Some("1764064800"),
                Some(&sig),
                b"body",
                NOW + 301
            ),
            Err(AuthError::StaleTimestamp)
        );
        assert_eq!(
            verify(
                &secret(),
                Some("1764064800"),
                Some(&sig),
                b"body",
                NOW - 301
            ),
            Err(AuthError::StaleTimestamp)
        );
    }

    #[test]
    fn refuses_tampering_and_other_secrets() {
        let sig = sign(&secret(), "1764064800", b"body");
        let check = |s: &Secret, ts: &str, body: &[u8]| verify(s, Some(ts), Some(&sig), body, NOW);
        assert_eq!(
            check(&secret(), "1764064800", b"bodY"),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            check(&secret(), "1764064801", b"body"),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            check(&Secret::new("other"), "1764064800", b"body"),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn refuses_malformed_headers() {
        let sig = sign(&secret(), "1764064800", b"b");
        let bare = sig.trim_start_matches("sha256=").to_string();
        assert_eq!(
            verify(&secret(), None, Some(&sig), b"b", NOW),
            Err(AuthError::MissingHeader("X-Supportbot-Timestamp"))
        );
        assert_eq!(
            verify(&secret(), Some("1764064800"), None, b"b", NOW),
            Err(AuthError::MissingHeader("X-Supportbot-Signature"))
        );
        assert_eq!(
            verify(&secret(), Some("soon"), Some(&sig), b"b", NOW),
            Err(AuthError::BadTimestamp)
        );
        assert_eq!(
            verify(&secret(), Some("1764064800"), Some(&bare), b"b", NOW),
            Err(AuthError::MalformedSignature)
        );
        assert_eq!(
            verify(&secret(), Some("1764064800"), Some("sha256=zz"), b"b", NOW),
            Err(AuthError::MalformedSignature)
        );
        assert_eq!(
            verify(
                &secret(),
                Some("1764064800"),
                Some("sha256=abcd"),
                b"b",
                NOW
            ),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        assert!(!format!("{:?}", secret()).contains("s3cret"));
    }
}
