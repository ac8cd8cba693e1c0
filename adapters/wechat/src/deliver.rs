//! The WeChat channel as the outbox sees it: a message goes out as customer-service texts (buttons as numbered
//! choices, long texts in parts); a user silent for more than 48 hours cannot be written to, which is a give-up
//! the case's operator is told of.

use async_trait::async_trait;
use supportbot_chat::{Adapter, Delivery, Envelope, SendError};

use crate::channel::{WeChatChannel, WINDOW};

/// Longest text sent in one customer-service message; longer answers go in parts.
pub const MAX_CHARS: usize = 600;

/// `text` in parts of at most `max` characters, cut at a line break where there is one.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest: &str = text;
    while rest.chars().count() > max {
        let cut = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        let at = rest[..cut].rfind('\n').filter(|&i| i > 0).unwrap_or(cut);
        parts.push(rest[..at].to_string());
        rest = rest[at..].trim_start_matches('\n');
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_string());
    }
    parts
}

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
        let mut text = out.text.clone();
        if !out.buttons.is_empty() {
            let list: Vec<String> = out
                .buttons
                .iter()
                .enumerate()
                .map(|(i, b)| format!("{}. {b}", i + 1))
                .collect();
            text = format!("{text}\n\n{}", list.join("\n"));
            inner
                .choices
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(out.chat.clone(), out.buttons.clone());
        }
        for part in split(&text, MAX_CHARS) {
            inner.api.send_text(&out.chat, &part).await?;
        }
        Ok(())
    }
}
