//! The operator's typing indicator in the user's web chat: while the operator holding a case types a reply in
//! the inbox, the case's web chat shows "Wang is typing…". Only the holder's typing is passed on, only to the
//! chat the case was opened from when that is a web chat session, and nothing is stored (with several processes
//! it is announced to all of them, for whichever holds the chat page). `[web] typing_indicator = false` turns
//! it off.

use std::time::{Duration, Instant};

use crate::channel::WebChannel;
use crate::frames::ServerFrame;
use crate::inbox_ws::normalize_case;
use crate::mailroom::chat_mailbox;
use crate::secrets::is_session_id;
use crate::signin::Operator;

/// One typing frame per case and socket at most this often (the page sends one every few seconds).
const EVERY: Duration = Duration::from_secs(2);

/// The last case a socket's operator typed in, and when it was passed on.
#[derive(Default)]
pub struct TypingGate {
    last: Option<(String, Instant)>,
}

impl TypingGate {
    /// Whether typing in `case` now is passed on (not within [`EVERY`] of the last one for it).
    fn open(&mut self, case: &str) -> bool {
        let now = Instant::now();
        match &self.last {
            Some((last, at)) if last == case && now.duration_since(*at) < EVERY => false,
            _ => {
                self.last = Some((case.to_string(), now));
                true
            }
        }
    }
}

/// Tells the user of `case` that `op` is typing, when `op` holds the case and its user is on the web chat.
pub async fn operator_typing(
    channel: &WebChannel,
    gate: &mut TypingGate,
    op: &Operator,
    case: &str,
) {
    if !channel.out.settings.typing_indicator {
        return;
    }
    let Some(case) = normalize_case(case) else {
        return;
    };
    if !gate.open(&case) {
        return;
    }
    let Some(detail) = channel.core.cases.get(&case).await else {
        return;
    };
    let account = format!("web:{}", op.id);
    let summary = &detail.summary;
    if summary.status != "assigned" || summary.assignee.as_deref() != Some(account.as_str()) {
        tracing::debug!(operator = %account, %case, "typing in a case the operator does not hold; not passed on");
        return;
    }
    // The first conversation is the one the case was opened from.
    let Some(session) = detail
        .conversations
        .first()
        .and_then(|c| c.strip_prefix("web:"))
        .filter(|s| is_session_id(s))
    else {
        return;
    };
    let frame = ServerFrame::Typing {
        name: op.name.clone(),
    }
    .to_json();
    match &channel.out.mail {
        // The chat page may be open on another process.
        Some(mail) => {
            if let Err(err) = mail.announce(&chat_mailbox(session), &frame).await {
                tracing::debug!(error = %err, "the typing indicator was not passed on");
            }
        }
        None => {
            channel.out.chats.push(session, &frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_lets_one_frame_per_case_through_every_two_seconds() {
        let mut gate = TypingGate::default();
        assert!(gate.open("C-1"));
        assert!(!gate.open("C-1"));
        assert!(gate.open("C-2"));
        assert!(gate.open("C-1"));
        gate.last = Some(("C-1".into(), Instant::now() - EVERY));
        assert!(gate.open("C-1"));
    }
}
