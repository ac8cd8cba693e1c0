//! The WeChat channel as the outbox sees it: a message goes out as customer-service texts (buttons as numbered
//! choices, long texts in parts); a user silent for more than 48 hours cannot be written to, which is a give-up
//! the case's operator is told of.

use async_trait::async_trait;
use supportbot_chat::text::{split_at_lines, with_numbered_choices};
use supportbot_chat::{Adapter, Delivery, Envelope, SendError};

use crate::channel::{WeChatChannel, WINDOW};

/// Longest text sent in one customer-service message; longer answers go in parts.
pub const MAX_CHARS: usize = 600;

#[async_trait]
impl Adapter for WeChatChannel {
    fn name(&self) -> &str {
        &self.inner.settings.platform
    }

    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        let Delivery::Message(out) = &envelope.delivery else {
            return Ok(());
        };
        let inner = &self.inner;
        let last = inner
            .last_seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&out.chat)
            .copied();
        if last.is_some_and(|at| at.elapsed() > WINDOW) {
            return Err(SendError::Permanent(
                "the user last wrote more than 48 hours ago: WeChat accepts no customer-service message until \
                 they write again"
                    .into(),
            ));
        }
        let text = with_numbered_choices(&out.text, &out.buttons);
        if !out.buttons.is_empty() {
            inner
                .choices
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(out.chat.clone(), out.buttons.clone());
        }
        for part in split_at_lines(&text, MAX_CHARS) {
            inner.api.send_text(&out.chat, &part).await?;
        }
        Ok(())
    }
}
