//! Pages served by several processes. When the core's store is shared ([`PageMail`]), a message for a
//! visitor's page or an inbox operator's page is posted to that page's mailbox in the store instead of being
//! kept by this process: every process listens for posted messages and pushes them to the pages it serves, and
//! a page (re)connecting to any process reads its history from the mailbox. Each message carries its number in
//! the mailbox; a page skips live messages its history already held, so it gets each once and in order.

use std::sync::Arc;
use std::time::Duration;

use supportbot_chat::{Letter, MailError, MailEvent, PageFiles, PageMail};
use tokio::sync::mpsc;

use crate::frames::{MessageFrame, ServerFrame};
use crate::secrets::random_hex;
use crate::WebChannel;

/// What the web channel needs of a store that every process serving its pages shares.
#[derive(Clone)]
pub struct SharedPages {
    pub(crate) mail: Arc<dyn PageMail>,
    pub(crate) key: String,
    /// Where uploads are kept when the store keeps them too (else in each process's data directory).
    pub(crate) files: Option<Arc<dyn PageFiles>>,
}

impl SharedPages {
    /// The pages' mailboxes in `mail`, with the session key every process uses (made now by the first).
    pub async fn open(mail: Arc<dyn PageMail>) -> Result<SharedPages, MailError> {
        let key = mail.session_key(&random_hex(32)).await?;
        if key.len() < 16 {
            return Err(MailError(
                "the shared session key is shorter than 16 characters".into(),
            ));
        }
        Ok(SharedPages {
            mail,
            key,
            files: None,
        })
    }

    /// The same, with uploaded files kept in `files` (the shared store), so that every process serves them.
    pub fn with_files(self, files: Arc<dyn PageFiles>) -> SharedPages {
        SharedPages {
            files: Some(files),
            ..self
        }
    }
}

/// The mailbox of a visitor's chat session.
pub fn chat_mailbox(session: &str) -> String {
    format!("chat:{session}")
}

/// The mailbox of an inbox operator (by id).
pub fn inbox_mailbox(operator: &str) -> String {
    format!("inbox:{operator}")
}

/// A page's history from its mailbox: the messages (marked as history) and the number of the last one, below
/// which live messages are skipped.
pub(crate) async fn history(
    mail: &dyn PageMail,
    mailbox: &str,
    limit: usize,
) -> Result<(Vec<MessageFrame>, u64), MailError> {
    let letters = mail.recent(mailbox, limit).await?;
    let last = letters.last().map_or(0, |l| l.n);
    let frames = letters
        .iter()
        .filter_map(|l| match serde_json::from_str::<MessageFrame>(&l.body) {
            Ok(frame) => Some(MessageFrame {
                history: true,
                ..frame
            }),
            Err(err) => {
                tracing::warn!(mailbox, n = l.n, error = %err, "an unreadable page message was skipped");
                None
            }
        })
        .collect();
    Ok((frames, last))
}

/// How long serving waits for listening to begin (so that the first pages need not reconnect at once).
const FIRST_LISTEN: Duration = Duration::from_secs(5);

/// Starts listening for the messages every process posts, and waits (up to a few seconds) until it listens;
/// the returned task pushes them to the pages this process serves, until shutdown. When listening starts again
/// after a failure, the pages open before are closed: they reconnect and read what they missed from their
/// mailbox. Without shared mail there is nothing to do.
pub(crate) async fn start(channel: Arc<WebChannel>) -> Option<tokio::task::JoinHandle<()>> {
    let mail = channel.out.mail.clone()?;
    let mut events = mail.listen(channel.shutdown.clone());
    let first = tokio::select! {
        _ = channel.shutdown.cancelled() => None,
        first = tokio::time::timeout(FIRST_LISTEN, events.recv()) => Some(first),
    };
    let pending = match first {
        None => return None,
        Some(Ok(None)) => return None,
        Some(Ok(Some(MailEvent::Listening))) => None,
        Some(Ok(Some(posted))) => Some(posted),
        Some(Err(_)) => {
            tracing::warn!(
                "not listening for page messages yet; pages get them when they reconnect"
            );
            None
        }
    };
    Some(tokio::spawn(run(channel, events, pending)))
}

async fn run(
    channel: Arc<WebChannel>,
    mut events: mpsc::Receiver<MailEvent>,
    mut pending: Option<MailEvent>,
) {
    loop {
        let event = match pending.take() {
            Some(event) => Some(event),
            None => tokio::select! {
                _ = channel.shutdown.cancelled() => break,
                event = events.recv() => event,
            },
        };
        match event {
            None => break,
            Some(MailEvent::Listening) => {
                let closed = channel.out.chats.close_all() + channel.out.inbox.close_all();
                tracing::info!(
                    closed,
                    "listening for page messages again; the pages open before reconnect"
                );
            }
            Some(MailEvent::Posted(letter)) => push(&channel, letter),
            Some(MailEvent::Passing(mailbox, frame)) => {
                if let Some(session) = mailbox.strip_prefix("chat:") {
                    channel.out.chats.push(session, &frame);
                } else if let Some(op) = mailbox.strip_prefix("inbox:") {
                    channel.out.inbox.push(op, &frame);
                }
            }
        }
    }
}

/// Pushes one posted message to this process's sockets of its page.
fn push(channel: &WebChannel, letter: Letter) {
    let frame: MessageFrame = match serde_json::from_str(&letter.body) {
        Ok(frame) => frame,
        Err(err) => {
            tracing::warn!(mailbox = %letter.mailbox, n = letter.n, error = %err, "an unreadable page message was not pushed");
            return;
        }
    };
    let case = frame.case.clone();
    let json = ServerFrame::Message(frame).to_json();
    if let Some(session) = letter.mailbox.strip_prefix("chat:") {
        if channel.out.chats.push_letter(session, letter.n, &json) > 0 {
            if let Some(case) = &case {
                channel.out.tracker.watch(session, case);
            }
        }
    } else if let Some(op) = letter.mailbox.strip_prefix("inbox:") {
        channel.out.inbox.push_letter(op, letter.n, &json);
    }
}
