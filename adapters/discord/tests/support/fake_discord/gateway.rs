//! The fake's gateway: HELLO, IDENTIFY → READY, RESUME → replay + RESUMED, heartbeats, and a way for tests
//! to drop the connection.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::payloads;
use super::{State, TOKEN};

/// What the connection's writer sends.
pub(crate) enum WsCmd {
    /// A JSON text frame.
    Text(String),
    /// A close frame with this code, then the end.
    Close(u16),
}

pub(crate) async fn serve(listener: TcpListener, state: Arc<State>) {
    while let Ok((stream, _)) = listener.accept().await {
        let state = state.clone();
        tokio::spawn(async move {
            if let Ok(ws) = tokio_tungstenite::accept_async(stream).await {
                connection(ws, state).await;
            }
        });
    }
}

fn token_ok(d: &Value) -> bool {
    let token = d["token"].as_str().unwrap_or("");
    token.strip_prefix("Bot ").unwrap_or(token) == TOKEN
}

async fn connection(
    ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    state: Arc<State>,
) {
    let (mut write, mut read) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<WsCmd>();
    let writer = tokio::spawn(async move {
        while let Some(cmd) = rx.recv().await {
            match cmd {
                WsCmd::Text(text) => {
                    if write.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                WsCmd::Close(code) => {
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: "test drop".into(),
                    };
                    let _ = write.send(Message::Close(Some(frame))).await;
                    break;
                }
            }
        }
    });
    let _ = tx.send(WsCmd::Text(
        json!({"op": 10, "d": {"heartbeat_interval": 41250}}).to_string(),
    ));
    while let Some(Ok(frame)) = read.next().await {
        let Message::Text(text) = frame else {
            if matches!(frame, Message::Close(_)) {
                break;
            }
            continue;
        };
        let Ok(payload) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        let d = &payload["d"];
        match payload["op"].as_u64() {
            Some(1) => {
                let _ = tx.send(WsCmd::Text(json!({"op": 11}).to_string()));
            }
            Some(2) => {
                if !token_ok(d) {
                    let _ = tx.send(WsCmd::Close(4004));
                    break;
                }
                identify(&state, &tx);
            }
            Some(6) => {
                if !token_ok(d) {
                    let _ = tx.send(WsCmd::Close(4004));
                    break;
                }
                resume(&state, &tx, d);
            }
            _ => {}
        }
    }
    // The connection is gone: stop sending to it.
    {
        let mut inner = state.lock();
        if inner.live.as_ref().is_some_and(|l| l.same_channel(&tx)) {
            inner.live = None;
        }
    }
    drop(tx);
    let _ = writer.await;
}

fn identify(state: &State, tx: &mpsc::UnboundedSender<WsCmd>) {
    let session = format!("session-{}", state.id());
    {
        let mut inner = state.lock();
        inner.identifies += 1;
        inner.session = Some(session.clone());
        inner.seq = 0;
        inner.log.clear();
        inner.live = Some(tx.clone());
    }
    state.dispatch("READY", payloads::ready(&session, &state.gateway_url));
}

fn resume(state: &State, tx: &mpsc::UnboundedSender<WsCmd>, d: &Value) {
    let mut inner = state.lock();
    let same = inner.session.as_deref() == d["session_id"].as_str();
    if !same {
        let _ = tx.send(WsCmd::Text(json!({"op": 9, "d": false}).to_string()));
        return;
    }
    inner.resumes += 1;
    let from = d["seq"]
        .as_u64()
        .unwrap_or(0)
        .saturating_sub(inner.resume_overlap);
    for (seq, payload) in &inner.log {
        // Discord replays dispatches, not the session's READY/RESUMED.
        let session_event =
            payload.contains("\"t\":\"READY\"") || payload.contains("\"t\":\"RESUMED\"");
        if *seq > from && !session_event {
            let _ = tx.send(WsCmd::Text(payload.clone()));
        }
    }
    inner.live = Some(tx.clone());
    drop(inner);
    state.dispatch("RESUMED", json!({}));
}
