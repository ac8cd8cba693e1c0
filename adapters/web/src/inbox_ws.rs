//! `GET /inbox/ws`: the operator inbox's socket (a signed-in operator with the session's CSRF token, or the
//! operator token). It streams the queue and case events live and the core's messages for that operator; the
//! page's actions become operator commands sent through the core from the operator's own account (`web:<name>`),
//! exactly as an operator on a chat platform would type them. The socket closes when its sign-in ends (sign-out
//! or expiry).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::StreamExt;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use crate::channel::INBOX_RECENT;
use crate::frames::{InboxFrame, Refusal, ServerFrame};
use crate::guard::{refuse_origin, INBOX_PROTOCOL};
use crate::mailroom;
use crate::signin::Operator;
use crate::socket::{close_unavailable, spawn_writer, Out, CLOSE_NORMAL, CLOSE_POLICY};
use crate::stats::WebStats;
use crate::WebChannel;

/// Pause after a case event before the queue is sent again, so a burst of events sends it once.
const QUEUE_DEBOUNCE: Duration = Duration::from_millis(150);

/// Upgrades to the inbox socket after the origin and sign-in checks (401 without a sign-in or token, 403 for a
/// sign-in without its CSRF token).
pub async fn inbox_ws(
    State(channel): State<Arc<WebChannel>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refusal) = refuse_origin(&channel, &headers, "inbox") {
        return refusal;
    }
    let op = match channel.socket_operator(&headers).await {
        Ok(op) => op,
        Err(refusal) => return axum::response::IntoResponse::into_response(refusal),
    };
    ws.protocols([INBOX_PROTOCOL])
        .read_buffer_size(crate::chat_ws::READ_BUFFER)
        .write_buffer_size(crate::chat_ws::WRITE_BUFFER)
        .max_write_buffer_size(crate::chat_ws::MAX_WRITE_BUFFER)
        .max_message_size(channel.out.settings.max_frame_bytes)
        .max_frame_size(channel.out.settings.max_frame_bytes)
        .on_upgrade(move |socket| run(channel, op, socket))
}

async fn run(channel: Arc<WebChannel>, op: Operator, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let account = format!("web:{}", op.id);
    let mut events = channel.core.cases.subscribe();
    let (conn, hub_rx) = channel.out.inbox.attach(&op.id);
    let mut first = vec![
        ServerFrame::Ready {
            operator: account.clone(),
            name: op.name.clone(),
            teams: op.teams.clone(),
        }
        .to_json(),
        ServerFrame::Queue {
            cases: channel.core.cases.list(false).await,
        }
        .to_json(),
    ];
    let mut read_up_to = 0;
    match &channel.out.mail {
        Some(mail) => {
            let mailbox = mailroom::inbox_mailbox(&op.id);
            match mailroom::history(mail.as_ref(), &mailbox, INBOX_RECENT).await {
                Ok((recent, last)) => {
                    read_up_to = last;
                    first.extend(
                        recent
                            .into_iter()
                            .map(|m| ServerFrame::Message(m).to_json()),
                    );
                }
                Err(err) => {
                    tracing::warn!(operator = %account, error = %err, "cannot read the inbox notices");
                    channel.out.inbox.detach(&op.id, conn);
                    close_unavailable(&mut sink).await;
                    return;
                }
            }
        }
        None => {
            let recent = channel
                .out
                .inbox_recent
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            first.extend(
                recent
                    .get(&op.id)
                    .into_iter()
                    .flatten()
                    .map(|m| ServerFrame::Message(m.clone()).to_json()),
            );
        }
    }
    for json in first {
        if futures_util::SinkExt::send(&mut sink, Message::Text(json.into()))
            .await
            .is_err()
        {
            channel.out.inbox.detach(&op.id, conn);
            return;
        }
    }
    let (own_tx, own_rx) = mpsc::channel::<Out>(64);
    let writer = spawn_writer(sink, hub_rx, own_rx, read_up_to, channel.shutdown.clone());
    tracing::info!(operator = %account, "inbox opened");

    // Case events and queue refreshes for this page.
    let feed = {
        let channel = channel.clone();
        let tx = own_tx.clone();
        tokio::spawn(async move {
            loop {
                let got = tokio::select! {
                    _ = channel.shutdown.cancelled() => break,
                    got = events.recv() => got,
                };
                match got {
                    Ok(event) => {
                        if tx
                            .send(Out::Text(ServerFrame::Event { event }.to_json()))
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
                tokio::time::sleep(QUEUE_DEBOUNCE).await;
                while let Ok(event) = events.try_recv() {
                    let _ = tx
                        .send(Out::Text(ServerFrame::Event { event }.to_json()))
                        .await;
                }
                let queue = ServerFrame::Queue {
                    cases: channel.core.cases.list(false).await,
                };
                if tx.send(Out::Text(queue.to_json())).await.is_err() {
                    break;
                }
            }
        })
    };

    // Like chat sockets: pinged, and closed when nothing (not even a pong) arrives for the idle timeout.
    let limits = &channel.out.settings.limits;
    let idle_timeout = limits.ws_idle_timeout;
    let mut ping = tokio::time::interval_at(
        tokio::time::Instant::now() + limits.ws_ping_interval,
        limits.ws_ping_interval,
    );
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let idle = tokio::time::sleep(idle_timeout);
    tokio::pin!(idle);
    let mut typing = crate::typing::TypingGate::default();
    loop {
        let next = tokio::select! {
            _ = channel.shutdown.cancelled() => break,
            next = stream.next() => next,
            _ = ping.tick() => {
                if !still_signed_in(&channel, &op).await {
                    tracing::info!(operator = %account, "inbox sign-in ended, closing its socket");
                    let _ = own_tx.send(Out::Close(CLOSE_POLICY, "signed out")).await;
                    break;
                }
                if own_tx.send(Out::Ping).await.is_err() {
                    break;
                }
                continue;
            }
            _ = &mut idle => {
                WebStats::inc(&channel.out.stats.idle_closed);
                tracing::debug!("inbox socket idle, closing it");
                let _ = own_tx.send(Out::Close(CLOSE_NORMAL, "idle timeout")).await;
                break;
            }
        };
        idle.as_mut()
            .reset(tokio::time::Instant::now() + idle_timeout);
        let text = match next {
            None | Some(Ok(Message::Close(_))) | Some(Err(_)) => break,
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(_)) => continue,
        };
        let reply = match serde_json::from_str::<InboxFrame>(text.as_str()) {
            Err(_) => Some(ServerFrame::error(
                "bad_frame",
                "That frame could not be read.",
            )),
            Ok(_) if !still_signed_in(&channel, &op).await => {
                let _ = own_tx.send(Out::Close(CLOSE_POLICY, "signed out")).await;
                break;
            }
            Ok(InboxFrame::Ping) => Some(ServerFrame::Pong),
            Ok(InboxFrame::Typing { case }) => {
                crate::typing::operator_typing(&channel, &mut typing, &op, &case).await;
                None
            }
            Ok(InboxFrame::Command { text }) => channel
                .operator_command(&op, text)
                .await
                .err()
                .map(Refusal::frame),
            Ok(InboxFrame::Action {
                action,
                case,
                text,
                faq,
            }) => match action_command(&action, &case, &text) {
                Ok(command) => match channel.operator_command(&op, command).await {
                    Err(refusal) => Some(refusal.frame()),
                    Ok(()) => match faq.filter(|f| action == "close" && f != "none") {
                        Some(faq) => Some(teach(&channel, &op, &case, faq).await),
                        None => None,
                    },
                },
                Err(problem) => Some(ServerFrame::error("bad_action", problem)),
            },
        };
        if let Some(reply) = reply {
            if own_tx.send(Out::Text(reply.to_json())).await.is_err() {
                break;
            }
        }
    }
    feed.abort();
    drop(own_tx);
    channel.out.inbox.detach(&op.id, conn);
    let _ = writer.await;
    tracing::info!(operator = %account, "inbox closed");
}

/// Teaches the FAQ from a case being closed: the answer to send back to the operator's page.
async fn teach(channel: &Arc<WebChannel>, op: &Operator, case: &str, faq: String) -> ServerFrame {
    let Some(case) = normalize_case(case) else {
        return ServerFrame::error("bad_action", "not a case number");
    };
    let answers = channel.core.answers.clone();
    let account = format!("web:{}", op.id);
    let who = account.clone();
    let done = tokio::task::spawn_blocking(move || answers.teach(&case, &faq, &who)).await;
    match done {
        Ok(Ok(text)) => {
            tracing::info!(operator = %account, %text, "FAQ taught from a case");
            ServerFrame::Message(crate::frames::MessageFrame {
                text,
                buttons: vec![],
                case: None,
                from: None,
                reply_to: None,
                attachments: vec![],
                history: false,
            })
        }
        Ok(Err(problem)) => ServerFrame::error("not_taught", problem),
        Err(_) => ServerFrame::error("not_taught", "teaching failed"),
    }
}

/// Whether the socket's sign-in is still live (always, for the operator token).
async fn still_signed_in(channel: &WebChannel, op: &Operator) -> bool {
    match &op.session {
        None => true,
        Some(key) => channel.sessions.find_key(key).await.is_some(),
    }
}

/// `C-1001`, `c-1001` or `1001` as `C-1001`.
pub fn normalize_case(case: &str) -> Option<String> {
    let case = case.trim();
    let digits = case
        .strip_prefix("C-")
        .or_else(|| case.strip_prefix("c-"))
        .unwrap_or(case);
    (!digits.is_empty() && digits.len() <= 12 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("C-{digits}"))
}

/// The operator command line for an inbox button.
pub fn action_command(action: &str, case: &str, text: &str) -> Result<String, String> {
    let case = normalize_case(case).ok_or_else(|| format!("{case:?} is not a case number"))?;
    let text = text.trim();
    match action {
        "take" | "release" | "case" => Ok(format!("/{action} {case}")),
        "close" if text.is_empty() => Ok(format!("/close {case}")),
        "close" | "reply" | "note" if !text.is_empty() => Ok(format!("/{action} {case} {text}")),
        "reply" => Err("a reply needs a text".to_string()),
        "note" => Err("a note needs a text".to_string()),
        "transfer" => {
            let ok = !text.is_empty()
                && text.len() <= 40
                && text
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
            if ok {
                Ok(format!("/transfer {case} {text}"))
            } else {
                Err("a team name is one word (letters, digits, - or _)".to_string())
            }
        }
        other => Err(format!("unknown action {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_commands() {
        assert_eq!(action_command("take", "1001", "").unwrap(), "/take C-1001");
        assert_eq!(
            action_command("reply", "C-7", " hi there ").unwrap(),
            "/reply C-7 hi there"
        );
        assert_eq!(action_command("close", "c-7", "").unwrap(), "/close C-7");
        assert_eq!(
            action_command("close", "C-7", "fixed").unwrap(),
            "/close C-7 fixed"
        );
        assert_eq!(
            action_command("transfer", "C-7", "security").unwrap(),
            "/transfer C-7 security"
        );
        assert!(action_command("transfer", "C-7", "a b").is_err());
        assert!(action_command("reply", "C-7", "  ").is_err());
        assert!(action_command("take", "C-7 /close C-8", "").is_err());
        assert!(action_command("delete", "C-7", "").is_err());
    }
}
