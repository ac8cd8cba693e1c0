//! `GET /ws`: the visitor's chat socket. First frame is the session token; `?session=` continues a session and
//! replays its recent history; messages and button presses go to the core through [`WebChannel::submit`].

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::channel::{limited_notice, notice};
use crate::frames::{ClientFrame, ServerFrame};
use crate::gates::Limited;
use crate::guard::refuse_origin;
use crate::i18n::{Lang, Notice};
use crate::listen::{peer_ip, Peer};
use crate::mailroom;
use crate::socket::{
    close_unavailable, spawn_writer, Out, CLOSE_NORMAL, CLOSE_TOO_BIG, CLOSE_TRY_LATER,
};
use crate::stats::WebStats;
use crate::WebChannel;

/// A hard cap far above the polite limit: frames between the two get a clear answer, bigger ones a close.
const HARD_FRAME_CAP: usize = 1024 * 1024;
/// Initial read buffer of a socket (tungstenite's default, 128 KiB, would cost that much per idle visitor; the
/// buffer grows for the rare large frame).
pub(crate) const READ_BUFFER: usize = 4 * 1024;
/// Frames are written out as they are sent (each send flushes anyway); the buffer only grows past this when the
/// peer does not read, up to [`MAX_WRITE_BUFFER`].
pub(crate) const WRITE_BUFFER: usize = 0;
/// Backpressure limit of a socket's write buffer.
pub(crate) const MAX_WRITE_BUFFER: usize = 1024 * 1024;

/// Query of `/ws`.
#[derive(Debug, Deserialize)]
pub struct ChatQuery {
    /// Session token from an earlier `session` frame.
    session: Option<String>,
    /// Interface language of the page (`zh`, `en`).
    lang: Option<String>,
}

/// Upgrades to the chat socket after the origin check. A new session counts against its address's and
/// everybody's budget of new sessions; over it, the socket gets an error frame and is closed with 1013.
pub async fn chat_ws(
    State(channel): State<Arc<WebChannel>>,
    Query(query): Query<ChatQuery>,
    peer: Peer,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refusal) = refuse_origin(&channel, &headers, "chat") {
        return refusal;
    }
    let accept = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let lang = Lang::pick(query.lang.as_deref(), accept);
    let resumed = query
        .session
        .as_deref()
        .and_then(|t| channel.signer.session_id(t).map(|id| (t.to_string(), id)));
    let ip = peer_ip(&peer);
    if resumed.is_none() {
        if let Err(limited) = channel.gates.new_session(ip) {
            WebStats::inc(&channel.out.stats.limited_sessions);
            tracing::info!(%ip, "new chat session refused: too many from this address or in all");
            return ws
                .read_buffer_size(READ_BUFFER)
                .max_message_size(READ_BUFFER)
                .on_upgrade(move |socket| refuse(socket, limited, lang));
        }
    }
    let (token, session) = resumed.unwrap_or_else(|| channel.signer.new_session());
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(HARD_FRAME_CAP)
        .max_frame_size(HARD_FRAME_CAP)
        .on_upgrade(move |socket| run(channel, socket, token, session, lang, ip))
}

/// Tells a socket refused by a limit why, and closes it.
async fn refuse(mut socket: WebSocket, limited: Limited, lang: Lang) {
    let frame = limited_notice(limited, lang).frame().to_json();
    let close = axum::extract::ws::CloseFrame {
        code: CLOSE_TRY_LATER,
        reason: "too many new sessions".into(),
    };
    if socket.send(Message::Text(frame.into())).await.is_ok() {
        let _ = socket.send(Message::Close(Some(close))).await;
    }
}

async fn run(
    channel: Arc<WebChannel>,
    socket: WebSocket,
    token: String,
    session: String,
    lang: Lang,
    ip: IpAddr,
) {
    let (mut sink, mut stream) = socket.split();
    let (conn, hub_rx, recent, read_up_to) = match &channel.out.mail {
        // Shared mailboxes: join the hub first, then read the history; live messages up to the last one read
        // are skipped by the writer.
        Some(mail) => {
            let (conn, rx) = channel.out.chats.attach(&session);
            let mailbox = mailroom::chat_mailbox(&session);
            let limit = channel.out.settings.history_len;
            match mailroom::history(mail.as_ref(), &mailbox, limit).await {
                Ok((recent, last)) => (conn, rx, recent, last),
                Err(err) => {
                    tracing::warn!(session, error = %err, "cannot read the session history");
                    channel.out.chats.detach(&session, conn);
                    close_unavailable(&mut sink).await;
                    return;
                }
            }
        }
        // Read the history and join the hub under the session lock: every message is then either in the
        // replayed history or pushed live, never both, never neither.
        None => {
            let guard = channel.out.history.lock(&session).await;
            let recent = match channel.out.history.recent(&guard).await {
                Ok(recent) => recent,
                Err(err) => {
                    tracing::warn!(session, error = %err, "cannot read the session history");
                    Vec::new()
                }
            };
            let (conn, rx) = channel.out.chats.attach(&session);
            (conn, rx, recent, 0)
        }
    };
    let mut first = vec![ServerFrame::Session { session: token }.to_json()];
    let open_case = recent.iter().rev().find_map(|m| m.case.clone());
    first.extend(
        recent
            .into_iter()
            .map(|m| ServerFrame::Message(m).to_json()),
    );
    let mut failed = false;
    for json in first {
        if futures_util::SinkExt::send(&mut sink, Message::Text(json.into()))
            .await
            .is_err()
        {
            failed = true;
            break;
        }
    }
    if let Some(case) = open_case.filter(|_| !failed) {
        channel.out.tracker.rewatch(&session, &case);
    }
    let (own_tx, own_rx) = mpsc::channel::<Out>(32);
    let writer = spawn_writer(sink, hub_rx, own_rx, read_up_to, channel.shutdown.clone());
    tracing::debug!(session, "chat socket open");

    if !failed {
        read_frames(&channel, &session, &mut stream, &own_tx, lang, ip).await;
    }
    drop(own_tx);
    if channel.out.chats.detach(&session, conn) {
        channel.out.tracker.forget(&session);
    }
    let _ = writer.await;
    tracing::debug!(session, "chat socket closed");
}

/// Reads the page's frames until it closes, the connection fails, shutdown, or the page sends nothing (not
/// even a pong to the pings sent every `ws_ping_interval`) for `ws_idle_timeout`.
async fn read_frames(
    channel: &WebChannel,
    session: &str,
    stream: &mut SplitStream<WebSocket>,
    own_tx: &mpsc::Sender<Out>,
    lang: Lang,
    ip: IpAddr,
) {
    let limits = &channel.out.settings.limits;
    let idle_timeout = limits.ws_idle_timeout;
    let mut ping = tokio::time::interval_at(
        tokio::time::Instant::now() + limits.ws_ping_interval,
        limits.ws_ping_interval,
    );
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let idle = tokio::time::sleep(idle_timeout);
    tokio::pin!(idle);
    loop {
        let next = tokio::select! {
            _ = channel.shutdown.cancelled() => break,
            next = stream.next() => next,
            _ = ping.tick() => {
                if own_tx.send(Out::Ping).await.is_err() {
                    break;
                }
                continue;
            }
            _ = &mut idle => {
                WebStats::inc(&channel.out.stats.idle_closed);
                tracing::debug!(session, "chat socket idle, closing it");
                let _ = own_tx.send(Out::Close(CLOSE_NORMAL, "idle timeout")).await;
                break;
            }
        };
        idle.as_mut()
            .reset(tokio::time::Instant::now() + idle_timeout);
        let text = match next {
            None | Some(Ok(Message::Close(_))) => break,
            Some(Err(err)) => {
                tracing::debug!(session, error = %err, "chat socket read failed");
                let _ = own_tx
                    .send(Out::Close(CLOSE_TOO_BIG, "frame too large or malformed"))
                    .await;
                break;
            }
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                let _ = own_tx
                    .send(Out::Text(notice(Notice::BadFrame, lang).frame().to_json()))
                    .await;
                continue;
            }
            Some(Ok(_)) => continue,
        };
        if let Some(reply) = handle(channel, session, text.as_str(), lang, ip).await {
            if own_tx.send(Out::Text(reply.to_json())).await.is_err() {
                break;
            }
        }
    }
}

/// Handles one text frame; returns the frame to answer with, if any.
async fn handle(
    channel: &WebChannel,
    session: &str,
    text: &str,
    lang: Lang,
    ip: IpAddr,
) -> Option<ServerFrame> {
    if text.len() > channel.out.settings.max_frame_bytes {
        return Some(notice(Notice::TooLong, lang).frame());
    }
    let frame: ClientFrame = match serde_json::from_str(text) {
        Ok(frame) => frame,
        Err(_) => return Some(notice(Notice::BadFrame, lang).frame()),
    };
    let (text, id) = match frame {
        ClientFrame::Ping => return Some(ServerFrame::Pong),
        ClientFrame::Message { text, id } => (text, id),
        ClientFrame::Button { value, id } => (value, id),
    };
    if let Err(refusal) = channel
        .validate(&text, false, lang)
        .and_then(|()| channel.check_rate(session, lang))
        .and_then(|()| channel.check_case_budget(session, ip, lang))
    {
        return Some(refusal.frame());
    }
    match channel
        .submit(session, text, id.clone(), Vec::new(), lang)
        .await
    {
        Ok(()) => id.map(|id| ServerFrame::Ack { id }),
        Err(refusal) => Some(refusal.frame()),
    }
}
