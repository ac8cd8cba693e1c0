//! Handling of one update, shared by long polling and the webhook: normalise it, hand it to the core, and
//! only when the core has stored it, tell the caller it may be acknowledged (and answer the button press,
//! show "typing").

use std::sync::Arc;

use supportbot_chat::{Accepted, Inbound, InboundSink, SinkError};
use teloxide::requests::Requester;
use teloxide::types::{ChatAction, ChatId, Update, UpdateKind};
use teloxide::Bot;

use crate::error::describe;
use crate::files::FileLinks;
use crate::inbound::{from_callback, from_message, BotIdentity};

/// Everything needed to take in updates.
#[derive(Clone)]
pub struct Receiver {
    pub(crate) bot: Bot,
    pub(crate) token: String,
    pub(crate) me: BotIdentity,
    pub(crate) links: Option<FileLinks>,
    pub(crate) sink: Arc<dyn InboundSink>,
}

impl Receiver {
    /// Handles one update. `Ok` means it may be acknowledged to Telegram: it was stored, was a duplicate,
    /// was invalid for good, or is something the bot ignores. `Err` means it must be delivered again.
    pub async fn handle(&self, update: &Update) -> Result<(), SinkError> {
        match &update.kind {
            UpdateKind::Message(msg) => match from_message(msg, &self.me, self.links.as_ref()) {
                Some(inbound) => {
                    let chat = msg.chat.id;
                    if self.store(update, inbound).await? == Some(Accepted::New) {
                        self.typing(chat).await;
                    }
                    Ok(())
                }
                None => {
                    tracing::trace!(update = update.id.0, "telegram message ignored");
                    Ok(())
                }
            },
            UpdateKind::CallbackQuery(query) => {
                let press = from_callback(query);
                if let Some(inbound) = press.inbound {
                    self.store(update, inbound).await?;
                }
                let answer = self
                    .bot
                    .answer_callback_query(teloxide::types::CallbackQueryId(press.query_id.clone()))
                    .await;
                if let Err(err) = answer {
                    tracing::debug!(query = %press.query_id, error = %describe(&err, &self.token), "answerCallbackQuery failed");
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Stores an inbound message; `Ok(None)` when the core refused it for good (it is acknowledged anyway, or
    /// Telegram would send it forever).
    async fn store(
        &self,
        update: &Update,
        inbound: Inbound,
    ) -> Result<Option<Accepted>, SinkError> {
        let id = inbound.id.clone();
        match self.sink.accept(inbound).await {
            Ok(accepted) => {
                tracing::debug!(update = update.id.0, message = %id, ?accepted, "telegram update stored");
                Ok(Some(accepted))
            }
            Err(SinkError::Rejected(reason)) => {
                tracing::warn!(update = update.id.0, message = %id, %reason, "telegram message rejected by the core");
                Ok(None)
            }
            Err(err) => Err(err),
        }
    }

    async fn typing(&self, chat: ChatId) {
        if let Err(err) = self.bot.send_chat_action(chat, ChatAction::Typing).await {
            tracing::debug!(chat = chat.0, error = %describe(&err, &self.token), "sendChatAction failed");
        }
    }
}
