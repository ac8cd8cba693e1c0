//! The outbox's side of the channel: one `Envelope` → one or more Discord messages (escaped, split at 2000
//! characters, no pings, buttons as components), case messages for operator rooms into the case's thread,
//! and every failure classified for the outbox (which does the retrying).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Deserialize;
use serenity::all::{
    ButtonStyle, ChannelId, CreateActionRow, CreateAllowedMentions, CreateButton, CreateMessage,
    MessageId, MessageReference, Nonce,
};
use serenity::http::Route;
use supportbot_chat::{Adapter, Delivery, Envelope, Outbound, SendError};
use tracing::{debug, warn};

use crate::directory::Directory;
use crate::escape::escape_markdown;
use crate::normalize::button_custom_id;
use crate::rest::{Rest, RestError};
use crate::split::{split_message, DISCORD_LIMIT};
use crate::threads::thread_name;

/// Discord allows 5 buttons a row and 5 rows a message.
const BUTTONS_PER_ROW: usize = 5;
const MAX_BUTTONS: usize = 25;
/// Discord's limit on a button label.
const LABEL_LIMIT: usize = 80;
/// Discord's JSON error code for "a thread has already been created for this message".
const THREAD_EXISTS: i64 = 160_004;
/// Cap of the partial-progress memory (entries only live while an envelope is being retried).
const PROGRESS_CAP: usize = 10_000;
/// How many delivered envelopes' message ids are kept for [`Adapter::sent_message_id`].
const SENT_IDS_CAP: usize = 4096;

/// How far a multi-piece envelope got before a failure, so a retry does not repeat pieces.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    channel: u64,
    sent: usize,
    first: Option<u64>,
    /// The whole text went out as a case card; only its thread is missing.
    card_posted: bool,
}

#[derive(Deserialize)]
struct SentMessage {
    id: MessageId,
}

/// The Discord adapter the engine's outbox delivers through.
pub struct DiscordAdapter {
    name: String,
    rest: Rest,
    dir: Arc<Directory>,
    progress: Mutex<HashMap<String, Progress>>,
    sent_ids: Mutex<SentIds>,
}

/// Envelope id → id of the first Discord message it became, for the most recent deliveries.
#[derive(Default)]
struct SentIds {
    by_envelope: HashMap<String, u64>,
    order: VecDeque<String>,
}

impl SentIds {
    fn insert(&mut self, envelope: &str, message: u64) {
        if self
            .by_envelope
            .insert(envelope.to_string(), message)
            .is_none()
        {
            self.order.push_back(envelope.to_string());
        }
        while self.order.len() > SENT_IDS_CAP {
            if let Some(old) = self.order.pop_front() {
                self.by_envelope.remove(&old);
            }
        }
    }
}

impl DiscordAdapter {
    /// An adapter named `name` (the platform name) sending through `rest`.
    pub(crate) fn new(name: String, rest: Rest, dir: Arc<Directory>) -> DiscordAdapter {
        DiscordAdapter {
            name,
            rest,
            dir,
            progress: Mutex::default(),
            sent_ids: Mutex::default(),
        }
    }

    fn progress(&self, id: &str) -> Progress {
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .copied()
            .unwrap_or_default()
    }

    fn save_progress(&self, id: &str, progress: Progress) {
        let mut map = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= PROGRESS_CAP {
            map.clear();
        }
        map.insert(id.to_string(), progress);
    }

    fn clear_progress(&self, id: &str) {
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    async fn deliver_message(&self, id: &str, out: &Outbound) -> Result<(), SendError> {
        let chat = parse_id(&out.chat).ok_or_else(|| {
            SendError::Permanent(format!(
                "`{}` is not a Discord user or channel id",
                out.chat
            ))
        })?;
        if let (Some(case), true) = (out.case.as_deref(), self.dir.is_room(chat)) {
            return self.deliver_to_case(id, chat, case, out).await;
        }
        let channel = self
            .dir
            .target(&self.rest, chat)
            .await
            .map_err(RestError::into_send_error)?;
        self.post(id, channel, out)
            .await
            .map(drop)
            .map_err(RestError::into_send_error)
    }

    /// A case message for an operator room: into the case's thread, or, for the case's first message there,
    /// posted as the card with a thread started from it.
    async fn deliver_to_case(
        &self,
        id: &str,
        room: u64,
        case: &str,
        out: &Outbound,
    ) -> Result<(), SendError> {
        let slot = self.dir.threads.slot(room, case);
        let progress = self.progress(id);
        if progress.card_posted {
            let card = progress.first.or(slot.card).unwrap_or_default();
            return self.finish_card(id, room, case, card, &out.text).await;
        }
        if let Some(thread) = slot.thread {
            return self.post_in_thread(id, thread, out).await;
        }
        if let Some(card) = slot.card {
            // An earlier card whose thread could not be started: try again, else write in the room.
            return match self.start_thread(room, case, card, &out.text).await {
                Ok(thread) => self.post_in_thread(id, thread, out).await,
                Err(e) if e.is_retryable() => Err(e.into_send_error()),
                Err(e) => {
                    warn!(case, room, error = %e, "cannot start the case thread; writing in the room");
                    self.post(id, room, out)
                        .await
                        .map(drop)
                        .map_err(RestError::into_send_error)
                }
            };
        }
        match self.dir.find_case_thread(&self.rest, room, case).await {
            Ok(Some(thread)) => {
                self.dir.learn_case_thread(room, case, thread);
                return self.post_in_thread(id, thread, out).await;
            }
            Ok(None) => {}
            Err(e) if e.is_retryable() => return Err(e.into_send_error()),
            Err(e) => {
                debug!(case, room, error = %e, "case thread lookup failed; posting a new card")
            }
        }
        let first = self
            .post(id, room, out)
            .await
            .map_err(RestError::into_send_error)?;
        let Some(card) = first else { return Ok(()) };
        self.dir.threads.set_card(room, case, card);
        let progress = Progress {
            channel: room,
            sent: 0,
            first: Some(card),
            card_posted: true,
        };
        self.save_progress(id, progress);
        self.finish_card(id, room, case, card, &out.text).await
    }

    /// Starts the thread of a posted card. A failure that may pass is retried by the outbox (the card is not
    /// posted again); one that will not is logged, the card itself having been delivered.
    async fn finish_card(
        &self,
        id: &str,
        room: u64,
        case: &str,
        card: u64,
        text: &str,
    ) -> Result<(), SendError> {
        match self.start_thread(room, case, card, text).await {
            Ok(_) => {}
            Err(e) if e.is_retryable() => return Err(e.into_send_error()),
            Err(e) => {
                warn!(case, room, error = %e, "case card posted but its thread could not be started")
            }
        }
        self.clear_progress(id);
        Ok(())
    }

    async fn post_in_thread(&self, id: &str, thread: u64, out: &Outbound) -> Result<(), SendError> {
        match self.post(id, thread, out).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => {
                self.dir.forget(thread);
                Err(SendError::Transient(format!(
                    "case thread {thread} is gone; a new one will be started"
                )))
            }
            Err(e) => Err(e.into_send_error()),
        }
    }

    async fn start_thread(
        &self,
        room: u64,
        case: &str,
        card: u64,
        text: &str,
    ) -> Result<u64, RestError> {
        let route = Route::ChannelMessageThreads {
            channel_id: ChannelId::new(room.max(1)),
            message_id: MessageId::new(card.max(1)),
        };
        let body = serenity::builder::CreateThread::new(thread_name(case, text))
            .auto_archive_duration(serenity::all::AutoArchiveDuration::OneWeek);
        let thread = match self.rest.post::<SentMessage>(route, &body).await {
            Ok(thread) => thread.id.get(),
            // A thread started from a message has the message's id.
            Err(RestError::Refused {
                code: THREAD_EXISTS,
                ..
            }) => card,
            Err(e) => return Err(e),
        };
        self.dir.learn_case_thread(room, case, thread);
        Ok(thread)
    }

    /// Posts the text (escaped, split) with its buttons on the last piece; returns the first piece's id.
    async fn post(&self, id: &str, channel: u64, out: &Outbound) -> Result<Option<u64>, RestError> {
        if out.text.trim().is_empty() && out.buttons.is_empty() {
            return Ok(None);
        }
        let pieces = split_message(&escape_markdown(&out.text), DISCORD_LIMIT);
        let mut progress = self.progress(id);
        if progress.channel != channel || progress.card_posted {
            progress = Progress {
                channel,
                ..Progress::default()
            };
        }
        let last = pieces.len() - 1;
        for (i, piece) in pieces.iter().enumerate().skip(progress.sent) {
            let mut body = CreateMessage::new()
                .content(piece.as_str())
                .allowed_mentions(CreateAllowedMentions::new().replied_user(false))
                .nonce(Nonce::String(nonce(id, i)))
                .enforce_nonce(true);
            if i == 0 {
                if let Some(reply) = out.reply_to.as_deref().and_then(parse_id) {
                    let reference =
                        MessageReference::from((ChannelId::new(channel), MessageId::new(reply)));
                    body = body.reference_message(reference.fail_if_not_exists(false));
                }
            }
            if i == last && !out.buttons.is_empty() {
                body = body.components(button_rows(&out.buttons));
            }
            let route = Route::ChannelMessages {
                channel_id: ChannelId::new(channel.max(1)),
            };
            match self.rest.post::<SentMessage>(route, &body).await {
                Ok(sent) => {
                    progress.sent = i + 1;
                    progress.first = progress.first.or(Some(sent.id.get()));
                }
                Err(e) => {
                    if progress.sent > 0 {
                        self.save_progress(id, progress);
                    }
                    return Err(e);
                }
            }
        }
        self.clear_progress(id);
        if let Some(first) = progress.first {
            self.sent_ids
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id, first);
        }
        Ok(progress.first)
    }
}

#[async_trait]
impl Adapter for DiscordAdapter {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        match &envelope.delivery {
            Delivery::Message(out) => self.deliver_message(&envelope.id, out).await,
            Delivery::Event(_) => Err(SendError::Permanent(
                "the Discord channel delivers chat messages, not case events".into(),
            )),
        }
    }

    /// The id of the (first) Discord message an envelope became: a card's id lets the engine take a reply to the
    /// card as a reply in its case.
    fn sent_message_id(&self, envelope_id: &str) -> Option<String> {
        let ids = self.sent_ids.lock().unwrap_or_else(|p| p.into_inner());
        ids.by_envelope.get(envelope_id).map(u64::to_string)
    }
}

/// A Discord id (a non-zero number).
pub(crate) fn parse_id(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok().filter(|id| *id > 0)
}

/// A nonce stable for (envelope, piece): a retry within Discord's window returns the message already made.
fn nonce(envelope: &str, piece: usize) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in envelope
        .bytes()
        .chain(b"#".iter().copied())
        .chain(piece.to_string().bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("sb{hash:016x}")
}

fn button_rows(buttons: &[String]) -> Vec<CreateActionRow> {
    if buttons.len() > MAX_BUTTONS {
        warn!(
            count = buttons.len(),
            "more buttons than Discord shows; the rest are dropped"
        );
    }
    let buttons: Vec<CreateButton> = buttons
        .iter()
        .take(MAX_BUTTONS)
        .enumerate()
        .map(|(i, text)| {
            CreateButton::new(button_custom_id(i, text))
                .label(label(text))
                .style(ButtonStyle::Primary)
        })
        .collect();
    buttons
        .chunks(BUTTONS_PER_ROW)
        .map(|row| CreateActionRow::Buttons(row.to_vec()))
        .collect()
}

fn label(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "-".into();
    }
    if text.chars().count() <= LABEL_LIMIT {
        return text.to_string();
    }
    let mut out: String = text.chars().take(LABEL_LIMIT - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_short_stable_and_distinct() {
        let a = nonce("env-1", 0);
        assert_eq!(a, nonce("env-1", 0));
        assert_ne!(a, nonce("env-1", 1));
        assert_ne!(a, nonce("env-2", 0));
        assert!(a.len() <= 25);
    }

    #[test]
    fn buttons_fill_rows_of_five() {
        let texts: Vec<String> = (0..7).map(|i| format!("choice {i}")).collect();
        let rows = serde_json::to_value(button_rows(&texts)).expect("serializes");
        assert_eq!(rows.as_array().map(Vec::len), Some(2));
        assert_eq!(rows[0]["components"].as_array().map(Vec::len), Some(5));
        assert_eq!(rows[1]["components"][1]["custom_id"], "6:choice 6");
        assert_eq!(rows[1]["components"][1]["label"], "choice 6");
    }

    #[test]
    fn labels_fit_discord() {
        assert_eq!(label(&"长".repeat(100)).chars().count(), LABEL_LIMIT);
        assert_eq!(label("  "), "-");
    }

    #[test]
    fn sent_ids_keep_only_the_latest() {
        let mut ids = SentIds::default();
        for i in 0..(SENT_IDS_CAP as u64 + 10) {
            ids.insert(&format!("e{i}"), i + 1);
        }
        assert_eq!(ids.by_envelope.len(), SENT_IDS_CAP);
        assert_eq!(ids.by_envelope.get("e0"), None);
        assert_eq!(
            ids.by_envelope.get(&format!("e{}", SENT_IDS_CAP + 9)),
            Some(&(SENT_IDS_CAP as u64 + 10))
        );
    }

    #[test]
    fn ids_must_be_numbers() {
        assert_eq!(parse_id("123"), Some(123));
        assert_eq!(parse_id("0"), None);
        assert_eq!(parse_id("web:abc"), None);
    }
}
