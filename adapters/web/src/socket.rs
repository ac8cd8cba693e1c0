//! The writing half of a WebSocket: frames from the hub (messages for the chat) and from the socket's own
//! reader (acks, errors) go out in order; on shutdown the socket is closed with "going away". Mailbox messages
//! the page's history already held are skipped.

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use supportbot_chat::Shutdown;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::hub::Pushed;

/// Close code for a server going down (RFC 6455).
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code for a policy violation.
pub const CLOSE_POLICY: u16 = 1008;
/// Close code for a message too big to handle.
pub const CLOSE_TOO_BIG: u16 = 1009;
/// Close code for "try again later" (a limit refused the socket).
pub const CLOSE_TRY_LATER: u16 = 1013;
/// Close code for a socket closed after the idle timeout.
pub const CLOSE_NORMAL: u16 = 1000;
/// Close code for "reconnect" (the server restarted listening for the page's messages).
pub const CLOSE_RESTART: u16 = 1012;

/// Close code for a server that cannot serve the page now (its history could not be read); the page tries again.
pub const CLOSE_UNAVAILABLE: u16 = 1011;

/// Closes a socket whose page cannot be served now (its history could not be read).
pub async fn close_unavailable(sink: &mut SplitSink<WebSocket, Message>) {
    let close = CloseFrame {
        code: CLOSE_UNAVAILABLE,
        reason: "history unavailable, try again".into(),
    };
    let _ = sink.send(Message::Close(Some(close))).await;
}

/// Frames the reader half asks the writer to send, and how to end.
pub enum Out {
    /// A JSON text frame.
    Text(String),
    /// A WebSocket ping (the peer's pong shows it is still there).
    Ping,
    /// Close the socket with this code and reason.
    Close(u16, &'static str),
}

/// Starts the writer task of a socket. Mailbox messages numbered `read_up_to` or lower were in the history the
/// page was sent, and are skipped.
pub fn spawn_writer(
    mut sink: SplitSink<WebSocket, Message>,
    mut hub_rx: mpsc::Receiver<Pushed>,
    mut own_rx: mpsc::Receiver<Out>,
    read_up_to: u64,
    shutdown: Shutdown,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let close = loop {
            let next = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break Some((CLOSE_GOING_AWAY, "server shutting down")),
                own = own_rx.recv() => match own {
                    Some(Out::Text(json)) => json,
                    Some(Out::Ping) => {
                        if sink.send(Message::Ping(Default::default())).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Some(Out::Close(code, reason)) => break Some((code, reason)),
                    None => break None,
                },
                hub = hub_rx.recv() => match hub {
                    Some(Pushed::Frame(json)) => json,
                    Some(Pushed::Letter(n, _)) if n <= read_up_to => continue,
                    Some(Pushed::Letter(_, json)) => json,
                    Some(Pushed::Reconnect) => break Some((CLOSE_RESTART, "reconnect")),
                    // Dropped by the hub (too slow) or detached.
                    None => break Some((CLOSE_POLICY, "too many undelivered frames")),
                },
            };
            if sink.send(Message::Text(next.into())).await.is_err() {
                return;
            }
        };
        if let Some((code, reason)) = close {
            let _ = sink
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })))
                .await;
        }
        let _ = sink.close().await;
    })
}
