//! The `web` adapter as the outbox sees it: a message for a visitor is kept in the session's history (so it
//! waits for a closed page) and pushed to its open sockets; a message for the inbox operator goes to the inbox.
//! With shared mailboxes both are posted there, and every process pushes them to the pages it serves.

use async_trait::async_trait;
use supportbot_chat::{Adapter, Delivery, Envelope, SendError};

use crate::channel::WebAdapter;
use crate::frames::{MessageFrame, ServerFrame};
use crate::secrets::is_session_id;
use crate::stats::WebStats;

/// The adapter name, the `destination` of the envelopes this channel delivers.
pub const ADAPTER_NAME: &str = "web";

#[async_trait]
impl Adapter for WebAdapter {
    fn name(&self) -> &str {
        ADAPTER_NAME
    }

    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        let out = match &envelope.delivery {
            Delivery::Message(out) => out,
            // Case events reach the inbox through the case directory's live feed, not the outbox.
            Delivery::Event(_) => return Ok(()),
        };
        let frame = MessageFrame {
            text: out.text.clone(),
            buttons: out.buttons.clone(),
            case: out.case.clone(),
            from: None,
            // Platform ids of web messages are `<session>-<page id>`: give the page its own id back.
            reply_to: out
                .reply_to
                .as_deref()
                .and_then(|r| r.strip_prefix(out.chat.as_str()))
                .and_then(|r| r.strip_prefix('-'))
                .map(str::to_string),
            attachments: vec![],
            history: false,
        };
        if self.out.settings.is_inbox_chat(&out.chat) {
            match &self.out.mail {
                Some(mail) => {
                    self.out
                        .post_to_inbox(mail.as_ref(), &out.chat, &frame)
                        .await
                        .map_err(|e| {
                            SendError::Transient(format!("cannot post the inbox notice: {e}"))
                        })?;
                }
                None => self.out.notify_inbox(&out.chat, frame),
            }
            return Ok(());
        }
        if !is_session_id(&out.chat) {
            return Err(SendError::Permanent(format!("no web chat {:?}", out.chat)));
        }
        let guard = self.out.history.lock(&out.chat).await;
        if let Some(mail) = &self.out.mail {
            let n = self
                .out
                .post_to_chat(mail.as_ref(), &out.chat, &frame, true)
                .await
                .map_err(|e| {
                    SendError::Transient(format!(
                        "cannot post the message for the web session: {e}"
                    ))
                })?;
            WebStats::inc(&self.out.stats.messages_out);
            drop(guard);
            tracing::debug!(chat = %out.chat, envelope = %envelope.id, n, "posted to the web session's mailbox");
            return Ok(());
        }
        self.out.history.append(&guard, &frame).await.map_err(|e| {
            SendError::Transient(format!("cannot store the message for the web session: {e}"))
        })?;
        WebStats::inc(&self.out.stats.messages_out);
        let json = ServerFrame::Message(frame).to_json();
        if self.out.chats.push(&out.chat, &json) > 0 {
            if let Some(case) = &out.case {
                self.out.tracker.watch(&out.chat, case);
            }
        }
        drop(guard);
        tracing::debug!(chat = %out.chat, envelope = %envelope.id, "delivered to web session");
        Ok(())
    }
}
