//! Request checks: the operator token (header or WebSocket subprotocol, constant-time) and the `Origin` of
//! WebSocket upgrades.

use axum::http::header::{AUTHORIZATION, HOST, ORIGIN, SEC_WEBSOCKET_PROTOCOL};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::stats::WebStats;
use crate::WebChannel;

/// Subprotocol prefix a browser uses to present the operator token when opening the inbox socket.
pub const BEARER_PROTOCOL_PREFIX: &str = "bearer.";
/// The subprotocol the inbox socket answers with.
pub const INBOX_PROTOCOL: &str = "supportbot.inbox";

/// The token of an `Authorization: Bearer` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The token offered as a `bearer.<token>` WebSocket subprotocol.
pub fn protocol_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|p| p.strip_prefix(BEARER_PROTOCOL_PREFIX))
}

/// Whether the request carries the operator token, in the header or as a subprotocol.
#[cfg(test)]
pub fn is_operator(headers: &HeaderMap, expected: &str) -> bool {
    bearer(headers)
        .or_else(|| protocol_token(headers))
        .is_some_and(|t| crate::secrets::token_matches(t, expected))
}

/// The 403 answer to a WebSocket upgrade from an origin that may not open `socket` (counted in the stats), or
/// `None` when the origin is fine.
pub(crate) fn refuse_origin(
    channel: &WebChannel,
    headers: &HeaderMap,
    socket: &str,
) -> Option<Response> {
    if origin_ok(headers, &channel.out.settings.allowed_origins) {
        return None;
    }
    WebStats::inc(&channel.out.stats.bad_origin);
    let message = format!("this origin may not open the {socket} socket");
    Some((StatusCode::FORBIDDEN, message).into_response())
}

/// Whether a WebSocket upgrade may proceed: no `Origin` (not a browser), the page's own origin (same host as
/// the `Host` header), or one of the allowed origins.
pub fn origin_ok(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let Some(host) = headers.get(HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    origin_host.is_some_and(|h| h.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn origin_rules() {
        assert!(origin_ok(&headers(&[("host", "127.0.0.1:8080")]), &[]));
        assert!(origin_ok(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080")
            ]),
            &[]
        ));
        assert!(!origin_ok(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://evil.example")
            ]),
            &[]
        ));
        assert!(!origin_ok(
            &headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]),
            &[]
        ));
        let allowed = vec!["https://www.example.com/".to_string()];
        assert!(origin_ok(
            &headers(&[("host", "bot:8080"), ("origin", "https://www.example.com")]),
            &allowed
        ));
    }

    #[test]
    fn tokens_from_header_or_protocol() {
        let tok = "0123456789abcdef0123";
        assert!(is_operator(
            &headers(&[("authorization", &format!("Bearer {tok}"))]),
            tok
        ));
        assert!(is_operator(
            &headers(&[("authorization", &format!("bearer {tok}"))]),
            tok
        ));
        assert!(!is_operator(
            &headers(&[("authorization", "Bearer nope")]),
            tok
        ));
        assert!(!is_operator(&headers(&[("authorization", tok)]), tok));
        assert!(is_operator(
            &headers(&[(
                "sec-websocket-protocol",
                &format!("supportbot.inbox, bearer.{tok}")
            )]),
            tok
        ));
        assert!(!is_operator(&headers(&[]), tok));
    }
}
