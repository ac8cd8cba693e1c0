//! Sending: the [`Adapter`] the core's outbox calls for every envelope addressed to `telegram`.
//!
//! Texts go out as plain text (no `parse_mode`, so nothing a user typed is read as markup), split at 4096
//! UTF-16 units; reply choices become an inline keyboard under the last part. A failure is classified for
//! the outbox (which retries), never retried here. When a long text fails half-way, the parts already
//! accepted are remembered for that envelope so the retry sends only the rest.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use supportbot_chat::{Adapter, Delivery, Envelope, Outbound, SendError};
use teloxide::payloads::SendMessageSetters;
use teloxide::requests::Requester;
use teloxide::types::{ChatId, MessageId, ReplyParameters};
use teloxide::Bot;

use crate::error::classify;
use crate::inbound::{message_ref, PLATFORM};
use crate::keyboard;
use crate::split::{split_text, MAX_MESSAGE};

/// Delivers outbound messages to Telegram chats.
pub struct TelegramAdapter {
    bot: Bot,
    token: String,
    /// Envelope id -> number of its parts Telegram already accepted (only while a delivery is incomplete).
    progress: Mutex<HashMap<String, usize>>,
    /// Envelope id -> `<chat>:<message id>` of its first part, for the most recent deliveries.
    sent_ids: Mutex<RecentIds>,
}

/// How many delivered envelopes' message ids are remembered (the outbox asks right after delivering).
const RECENT_IDS: usize = 1024;

#[derive(Default)]
struct RecentIds {
    ids: HashMap<String, String>,
    order: VecDeque<String>,
}

impl RecentIds {
    fn insert(&mut self, envelope: &str, message: String) {
        if self.ids.insert(envelope.to_string(), message).is_none() {
            self.order.push_back(envelope.to_string());
        }
        while self.order.len() > RECENT_IDS {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
    }
}

impl TelegramAdapter {
    /// An adapter sending through `bot` (whose token is `token`, for redacting errors).
    pub fn new(bot: Bot, token: String) -> TelegramAdapter {
        TelegramAdapter {
            bot,
            token,
            progress: Mutex::new(HashMap::new()),
            sent_ids: Mutex::new(RecentIds::default()),
        }
    }

    async fn send(&self, envelope_id: &str, out: &Outbound) -> Result<(), SendError> {
        let chat: i64 = out.chat.parse().map_err(|_| {
            SendError::Permanent(format!("`{}` is not a Telegram chat id", out.chat))
        })?;
        let parts = split_text(&out.text, MAX_MESSAGE);
        if parts.is_empty() {
            return Err(SendError::Permanent("empty message".into()));
        }
        let done = self.sent_parts(envelope_id);
        let reply = out.reply_to.as_deref().and_then(|r| reply_target(r, chat));
        for (index, part) in parts.iter().enumerate().skip(done) {
            let mut request = self.bot.send_message(ChatId(chat), part.as_str());
            if index == 0 {
                if let Some(id) = reply {
                    request = request
                        .reply_parameters(ReplyParameters::new(id).allow_sending_without_reply());
                }
            }
            if index + 1 == parts.len() && !out.buttons.is_empty() {
                request = request.reply_markup(keyboard::markup(&out.buttons));
            }
            match request.await {
                Ok(sent) if index == 0 => {
                    let mut ids = self.sent_ids.lock().unwrap_or_else(|p| p.into_inner());
                    ids.insert(envelope_id, message_ref(&sent.chat, sent.id));
                }
                Ok(_) => {}
                Err(err) => {
                    self.set_sent_parts(envelope_id, index);
                    let class = classify(&err, &self.token);
                    tracing::warn!(envelope = envelope_id, chat, part = index, error = %class, "telegram send failed");
                    return Err(class);
                }
            }
        }
        self.set_sent_parts(envelope_id, 0);
        tracing::debug!(
            envelope = envelope_id,
            chat,
            parts = parts.len(),
            "telegram message sent"
        );
        Ok(())
    }

    fn sent_parts(&self, envelope_id: &str) -> usize {
        let progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        progress.get(envelope_id).copied().unwrap_or(0)
    }

    fn set_sent_parts(&self, envelope_id: &str, parts: usize) {
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        if parts == 0 {
            progress.remove(envelope_id);
        } else {
            progress.insert(envelope_id.to_string(), parts);
        }
    }
}

/// The Telegram message to reply to, when `reply_to` names a message of this chat (`<chat>:<message>`).
fn reply_target(reply_to: &str, chat: i64) -> Option<MessageId> {
    let (in_chat, message) = reply_to.rsplit_once(':')?;
    if in_chat.parse::<i64>().ok()? != chat {
        return None;
    }
    message.parse::<i32>().ok().map(MessageId)
}

#[async_trait]
impl Adapter for TelegramAdapter {
    fn name(&self) -> &str {
        PLATFORM
    }

    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        match &envelope.delivery {
            Delivery::Message(out) => self.send(&envelope.id, out).await,
            Delivery::Event(_) => Err(SendError::Permanent(
                "the telegram channel delivers chat messages only".into(),
            )),
        }
    }

    /// `<chat>:<message id>` of the (first part of the) message an envelope became, the form
    /// [`supportbot_chat::Inbound::reply_to`] takes when someone replies to it.
    fn sent_message_id(&self, envelope_id: &str) -> Option<String> {
        let ids = self.sent_ids.lock().unwrap_or_else(|p| p.into_inner());
        ids.ids.get(envelope_id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_ids_are_bounded() {
        let mut recent = RecentIds::default();
        for i in 0..RECENT_IDS + 10 {
            recent.insert(&format!("e{i}"), format!("42:{i}"));
        }
        assert_eq!(recent.ids.len(), RECENT_IDS);
        assert!(!recent.ids.contains_key("e0"));
        assert_eq!(
            recent
                .ids
                .get(&format!("e{}", RECENT_IDS + 9))
                .map(String::as_str),
            Some("42:1033")
        );
    }

    #[test]
    fn reply_targets_only_messages_of_the_same_chat() {
        assert_eq!(reply_target("-100200:17", -100200), Some(MessageId(17)));
        assert_eq!(reply_target("42:5", -100200), None);
        assert_eq!(reply_target("cb:abc", 42), None);
        assert_eq!(reply_target("m17", 42), None);
    }
}
