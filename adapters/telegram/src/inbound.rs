//! Turns Telegram updates into normalised [`Inbound`] messages: who wrote, where, whether the bot is
//! addressed, the text without the bot's own @mention, attachments, and pressed buttons.
//!
//! Ids: Telegram numbers messages per chat, so a message's id is `<chat id>:<message id>` (unique for the
//! platform, as the engine's dedupe needs); a pressed button is `cb:<callback query id>`.

use chrono::{DateTime, FixedOffset, Utc};
use supportbot_chat::{Attachment, AttachmentKind, Inbound};
use teloxide::types::{
    CallbackQuery, Chat, FileMeta, MaybeInaccessibleMessage, Message, MessageEntityKind,
    MessageEntityRef, UserId,
};

use crate::files::FileLinks;
use crate::keyboard;

/// The platform name of this channel.
pub const PLATFORM: &str = "telegram";

/// Who the bot is, from `getMe`.
#[derive(Debug, Clone)]
pub struct BotIdentity {
    /// The bot's user id.
    pub id: UserId,
    /// The bot's username, without `@`.
    pub username: String,
}

/// What a callback query (a pressed inline button) turns into.
#[derive(Debug, Clone)]
pub struct Press {
    /// The query id, to answer it.
    pub query_id: String,
    /// The button press as a message, when its label could be recovered.
    pub inbound: Option<Inbound>,
}

/// The message id the engine sees for a Telegram message.
pub fn message_ref(chat: &Chat, message: teloxide::types::MessageId) -> String {
    format!("{}:{}", chat.id.0, message.0)
}

/// Converts a message; `None` for what the bot ignores (its own and other bots' messages, channel posts,
/// service messages, group messages that do not address it).
pub fn from_message(msg: &Message, me: &BotIdentity, links: Option<&FileLinks>) -> Option<Inbound> {
    let from = msg.from.as_ref()?;
    if from.is_bot || msg.chat.is_channel() {
        return None;
    }
    let (raw_text, entities) = match msg.text() {
        Some(text) => (text, msg.parse_entities().unwrap_or_default()),
        None => (
            msg.caption().unwrap_or(""),
            msg.parse_caption_entities().unwrap_or_default(),
        ),
    };
    let group = !msg.chat.is_private();
    let replied_to_bot = msg
        .reply_to_message()
        .and_then(|r| r.from.as_ref())
        .is_some_and(|author| author.id == me.id);
    let (text, addressed) = clean_text(raw_text, &entities, me);
    let mention = !group || addressed || replied_to_bot;
    if group && !mention {
        return None;
    }
    let attachments = attachments(msg, links);
    if text.is_empty() && attachments.is_empty() {
        return None;
    }
    Some(Inbound {
        platform: PLATFORM.into(),
        chat: msg.chat.id.0.to_string(),
        user: from.id.0.to_string(),
        name: from.full_name(),
        id: message_ref(&msg.chat, msg.id),
        text,
        group,
        mention,
        reply_to: msg.reply_to_message().map(|r| message_ref(&r.chat, r.id)),
        ts: Some(utc(msg.date)),
        attachments,
        locale: from.language_code.clone(),
        operator_room: false,
    })
}

/// Converts a pressed inline button into a message whose text is the button's label.
pub fn from_callback(query: &CallbackQuery) -> Press {
    let query_id = query.id.0.clone();
    let from = &query.from;
    let (Some(message), Some(data)) = (query.message.as_ref(), query.data.as_deref()) else {
        return Press {
            query_id,
            inbound: None,
        };
    };
    if from.is_bot {
        return Press {
            query_id,
            inbound: None,
        };
    }
    let (chat, message_id) = match message {
        MaybeInaccessibleMessage::Regular(m) => (&m.chat, m.id),
        MaybeInaccessibleMessage::Inaccessible(m) => (&m.chat, m.message_id),
    };
    let markup = message.regular_message().and_then(|m| m.reply_markup());
    let Some(label) = keyboard::label_of(data, markup) else {
        return Press {
            query_id,
            inbound: None,
        };
    };
    let inbound = Inbound {
        platform: PLATFORM.into(),
        chat: chat.id.0.to_string(),
        user: from.id.0.to_string(),
        name: from.full_name(),
        id: format!("cb:{query_id}"),
        text: label,
        group: !chat.is_private(),
        mention: true,
        reply_to: Some(message_ref(chat, message_id)),
        ts: Some(utc(Utc::now())),
        attachments: Vec::new(),
        locale: from.language_code.clone(),
        operator_room: false,
    };
    Press {
        query_id,
        inbound: Some(inbound),
    }
}

/// The text with the bot's own @mention removed and `/cmd@botname` shortened to `/cmd`, and whether any of
/// those (or a bare `/command`, which Telegram only delivers to the bot it is meant for) addressed the bot.
fn clean_text(text: &str, entities: &[MessageEntityRef<'_>], me: &BotIdentity) -> (String, bool) {
    let mut addressed = false;
    let mut cuts: Vec<std::ops::Range<usize>> = Vec::new();
    for entity in entities {
        match entity.kind() {
            MessageEntityKind::Mention => {
                let name = entity.text().trim_start_matches('@');
                if name.eq_ignore_ascii_case(&me.username) {
                    addressed = true;
                    cuts.push(entity.range());
                }
            }
            MessageEntityKind::TextMention { user } if user.id == me.id => addressed = true,
            MessageEntityKind::BotCommand => match entity.text().split_once('@') {
                Some((_, name)) if name.eq_ignore_ascii_case(&me.username) => {
                    addressed = true;
                    let at = entity.start() + entity.text().len() - name.len() - 1;
                    cuts.push(at..entity.end());
                }
                Some(_) => {}
                None => addressed |= entity.start() == 0,
            },
            _ => {}
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for cut in cuts {
        if cut.start >= from && cut.end <= text.len() {
            out.push_str(&text[from..cut.start]);
            from = cut.end;
        }
    }
    out.push_str(&text[from..]);
    let cleaned = out
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (cleaned.trim().to_string(), addressed)
}

fn attachments(msg: &Message, links: Option<&FileLinks>) -> Vec<Attachment> {
    let mut found = Vec::new();
    if let Some(largest) = msg
        .photo()
        .and_then(|sizes| sizes.iter().max_by_key(|p| p.width * p.height))
    {
        let name = format!("photo-{}.jpg", largest.file.unique_id.0);
        found.push(attachment(
            AttachmentKind::Image,
            name,
            &largest.file,
            links,
        ));
    }
    if let Some(doc) = msg.document() {
        let is_image = doc.mime_type.as_ref().is_some_and(|m| m.type_() == "image");
        let kind = if is_image {
            AttachmentKind::Image
        } else {
            AttachmentKind::File
        };
        let name = doc
            .file_name
            .clone()
            .unwrap_or_else(|| format!("document-{}", doc.file.unique_id.0));
        found.push(attachment(kind, name, &doc.file, links));
    }
    if let Some(video) = msg.video() {
        let name = video
            .file_name
            .clone()
            .unwrap_or_else(|| format!("video-{}.mp4", video.file.unique_id.0));
        found.push(attachment(AttachmentKind::File, name, &video.file, links));
    }
    found
}

fn attachment(
    kind: AttachmentKind,
    name: String,
    file: &FileMeta,
    links: Option<&FileLinks>,
) -> Attachment {
    let url = links.map(|l| l.link(&file.id.0, &name)).unwrap_or_default();
    let size = if file.size == u32::MAX {
        0
    } else {
        u64::from(file.size)
    };
    Attachment {
        kind,
        name,
        url,
        size,
    }
}

fn utc(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.fixed_offset()
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
