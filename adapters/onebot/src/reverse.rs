//! Reverse WebSocket: the OneBot implementation connects to `GET /onebot/v11/ws` on the web listener as a
//! `Universal` client, with `X-Self-ID` and, when a token is configured, `Authorization: Bearer <token>`.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use supportbot_chat::Shutdown;

use crate::channel::{Mode, OneBotChannel};
use crate::pump::{self, Frame};

/// The path implementations connect to.
pub const PATH: &str = "/onebot/v11/ws";

#[derive(Deserialize)]
struct TokenQuery {
    access_token: Option<String>,
}

#[derive(Clone)]
struct Reverse {
    channel: OneBotChannel,
    shutdown: Shutdown,
}

/// The route for reverse connections (refused with 404 in forward mode).
pub fn router(channel: OneBotChannel, shutdown: Shutdown) -> Router {
    Router::new()
        .route(PATH, get(upgrade))
        .with_state(Reverse { channel, shutdown })
}

/// Whether the request carries the configured token (header, or `?access_token=` as some implementations send).
fn authorised(expected: Option<&str>, headers: &HeaderMap, query: Option<&str>) -> bool {
    let Some(expected) = expected else {
        return true;
    };
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("Token "))
        })
        .or(query)
        .unwrap_or("");
    given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

async fn upgrade(
    State(state): State<Reverse>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let settings = state.channel.settings();
    if settings.mode != Mode::Reverse {
        return StatusCode::NOT_FOUND.into_response();
    }
    if !authorised(
        settings.access_token.as_deref(),
        &headers,
        query.access_token.as_deref(),
    ) {
        tracing::warn!("a OneBot connection with a wrong access token was refused");
        return (StatusCode::UNAUTHORIZED, "wrong access token").into_response();
    }
    let role = headers
        .get("x-client-role")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Universal");
    if !role.eq_ignore_ascii_case("universal") {
        return (
            StatusCode::BAD_REQUEST,
            "only Universal connections are supported",
        )
            .into_response();
    }
    let self_id = headers
        .get("x-self-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    ws.on_upgrade(move |socket| run(state, socket, self_id))
}

async fn run(state: Reverse, socket: WebSocket, self_id: Option<String>) {
    let text = |text: String| Message::Text(text.into());
    pump::run(
        &state.channel,
        socket,
        frame,
        text,
        self_id,
        state.shutdown.clone(),
    )
    .await;
}

fn frame(message: Message) -> Frame {
    match message {
        Message::Text(t) => Frame::Text(t.to_string()),
        Message::Binary(b) => Frame::Text(String::from_utf8_lossy(&b).into_owned()),
        Message::Close(_) => Frame::Close,
        _ => Frame::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_checked_in_the_header_or_the_query() {
        let mut h = HeaderMap::new();
        assert!(authorised(None, &h, None));
        assert!(!authorised(Some("s3cret"), &h, None));
        assert!(authorised(Some("s3cret"), &h, Some("s3cret")));
        h.insert("authorization", "Bearer s3cret".parse().unwrap());
        assert!(authorised(Some("s3cret"), &h, None));
        h.insert("authorization", "Bearer s3cre".parse().unwrap());
        assert!(!authorised(Some("s3cret"), &h, None));
    }
}
