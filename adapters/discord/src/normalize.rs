//! Gateway events → `Inbound`: who wrote, where, whether the bot is addressed, the text without the bot's own
//! mention, attachments, and ids that stay the same when Discord replays an event.

use chrono::{DateTime, FixedOffset};
use serenity::model::application::ComponentInteraction;
use serenity::model::channel::{Message, MessageType};
use serenity::model::user::User;
use supportbot_chat::{Attachment, AttachmentKind, Inbound};

use crate::operator::case_command;

/// Where a message was written, as far as routing is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A private chat with the bot.
    Direct,
    /// A guild channel or thread that is not an operator space.
    Channel,
    /// An operator room; `card_case` is the case whose card the message replies to.
    Room {
        /// The case of the card replied to, if any.
        card_case: Option<String>,
    },
    /// A case thread under an operator room.
    CaseThread(String),
}

/// Prefix of the message ids given to button presses.
pub const INTERACTION_PREFIX: &str = "int:";

/// Turns a message into an `Inbound`, or `None` when the bot must not see it (bots, webhooks, system
/// messages, guild chatter that does not address the bot).
pub fn message_to_inbound(
    platform: &str,
    bot: u64,
    msg: &Message,
    place: &Place,
) -> Option<Inbound> {
    if msg.author.bot || msg.author.system || msg.webhook_id.is_some() || msg.author.id.get() == bot
    {
        return None;
    }
    if !matches!(msg.kind, MessageType::Regular | MessageType::InlineReply) {
        return None;
    }
    let text = clean_text(&msg.content, bot, &msg.mentions);
    let replies_to_bot = msg
        .referenced_message
        .as_ref()
        .is_some_and(|r| r.author.id.get() == bot);
    let mentioned = msg.mentions.iter().any(|u| u.id.get() == bot);
    let command = text.trim_start().starts_with('/');
    let reply_to = msg
        .message_reference
        .as_ref()
        .and_then(|r| r.message_id)
        .or_else(|| msg.referenced_message.as_ref().map(|r| r.id))
        .map(|id| id.to_string());
    let (chat, group, mention, text) = match place {
        Place::Direct => (msg.author.id.to_string(), false, true, text),
        Place::Channel => {
            let addressed = mentioned || replies_to_bot || command;
            if !addressed {
                return None;
            }
            (msg.channel_id.to_string(), true, true, text)
        }
        Place::Room { card_case } => match card_case {
            Some(case) => (
                msg.channel_id.to_string(),
                true,
                true,
                case_command(case, &text),
            ),
            None => {
                if !(mentioned || replies_to_bot || command) {
                    return None;
                }
                (msg.channel_id.to_string(), true, true, text)
            }
        },
        Place::CaseThread(case) => (
            msg.channel_id.to_string(),
            true,
            true,
            case_command(case, &text),
        ),
    };
    Some(Inbound {
        platform: platform.to_string(),
        chat,
        user: msg.author.id.to_string(),
        name: display_name(
            &msg.author,
            msg.member.as_ref().and_then(|m| m.nick.as_deref()),
        ),
        id: msg.id.to_string(),
        text,
        group,
        mention,
        reply_to,
        ts: msg
            .timestamp
            .to_rfc3339()
            .and_then(|t| DateTime::<FixedOffset>::parse_from_rfc3339(&t).ok()),
        attachments: msg.attachments.iter().map(attachment).collect(),
        locale: None,
        operator_room: matches!(place, Place::Room { .. } | Place::CaseThread(_)),
    })
}

/// Turns a button press into an `Inbound` whose text is the button's text and whose id is
/// `int:<interaction id>`.
pub fn button_to_inbound(platform: &str, press: &ComponentInteraction) -> Inbound {
    let user = &press.user;
    let group = press.guild_id.is_some();
    let nick = press.member.as_ref().and_then(|m| m.nick.as_deref());
    Inbound {
        platform: platform.to_string(),
        chat: if group {
            press.channel_id.to_string()
        } else {
            user.id.to_string()
        },
        user: user.id.to_string(),
        name: display_name(user, nick),
        id: format!("{INTERACTION_PREFIX}{}", press.id),
        text: button_text(&press.data.custom_id),
        group,
        mention: true,
        reply_to: Some(press.message.id.to_string()),
        ts: press
            .id
            .created_at()
            .to_rfc3339()
            .and_then(|t| DateTime::<FixedOffset>::parse_from_rfc3339(&t).ok()),
        attachments: Vec::new(),
        locale: Some(press.locale.clone()).filter(|l| !l.is_empty()),
        operator_room: false,
    }
}

/// The `custom_id` of the button at `index` showing `text`: unique in its message, at most 100 characters.
pub fn button_custom_id(index: usize, text: &str) -> String {
    format!("{index}:{text}").chars().take(100).collect()
}

/// The text a pressed button stands for (its `custom_id` without the index).
pub fn button_text(custom_id: &str) -> String {
    match custom_id.split_once(':') {
        Some((index, text)) if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) => {
            text.to_string()
        }
        _ => custom_id.to_string(),
    }
}

fn display_name(user: &User, nick: Option<&str>) -> String {
    nick.or(user.global_name.as_deref())
        .unwrap_or(&user.name)
        .to_string()
}

/// The text with the bot's own mention removed and other user mentions shown as `@name`.
fn clean_text(content: &str, bot: u64, mentions: &[User]) -> String {
    let mut text = content
        .replace(&format!("<@{bot}>"), "")
        .replace(&format!("<@!{bot}>"), "");
    for user in mentions.iter().filter(|u| u.id.get() != bot) {
        let shown = format!("@{}", user.global_name.as_deref().unwrap_or(&user.name));
        text = text
            .replace(&format!("<@{}>", user.id), &shown)
            .replace(&format!("<@!{}>", user.id), &shown);
    }
    text.trim().to_string()
}

fn attachment(a: &serenity::model::channel::Attachment) -> Attachment {
    let image = a
        .content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("image/"))
        || a.height.is_some();
    Attachment {
        kind: if image {
            AttachmentKind::Image
        } else {
            AttachmentKind::File
        },
        name: a.filename.clone(),
        url: a.url.clone(),
        size: u64::from(a.size),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(json: serde_json::Value) -> Message {
        let mut base = serde_json::json!({
            "id": "500", "channel_id": "20", "content": "", "timestamp": "2026-11-25T01:30:00+00:00",
            "author": {"id": "42", "username": "li", "global_name": "Li Lei"},
            "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
            "attachments": [], "embeds": [], "pinned": false, "type": 0
        });
        if let (Some(base), Some(extra)) = (base.as_object_mut(), json.as_object()) {
            for (k, v) in extra {
                base.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(base).expect("test message parses")
    }

    #[test]
    fn a_dm_is_addressed_and_keyed_by_the_user() {
        let m = message(serde_json::json!({"content": "**554** 怎么办"}));
        let i = message_to_inbound("discord", 9, &m, &Place::Direct).expect("kept");
        assert_eq!(
            (i.chat.as_str(), i.user.as_str(), i.id.as_str()),
            ("42", "42", "500")
        );
        assert!(!i.group && i.mention);
        assert_eq!(i.text, "**554** 怎么办");
        assert_eq!(i.name, "Li Lei");
        assert_eq!(i.ts.map(|t| t.timestamp()), Some(1_795_570_200));
    }

    #[test]
    fn guild_messages_need_a_mention_a_reply_or_a_command() {
        let plain = message(serde_json::json!({"content": "hello all", "guild_id": "1"}));
        assert!(message_to_inbound("discord", 9, &plain, &Place::Channel).is_none());
        let mention = message(
            serde_json::json!({"content": "<@9> 554 <@7>", "guild_id": "1",
            "mentions": [{"id": "9", "username": "bot", "bot": true}, {"id": "7", "username": "wang"}]}),
        );
        let i = message_to_inbound("discord", 9, &mention, &Place::Channel).expect("kept");
        assert_eq!(
            (i.text.as_str(), i.chat.as_str(), i.group),
            ("554 @wang", "20", true)
        );
        let text_only = message(serde_json::json!({"content": "hey @bot", "guild_id": "1"}));
        assert!(
            message_to_inbound("discord", 9, &text_only, &Place::Channel).is_none(),
            "mentions[] decides"
        );
        let command = message(serde_json::json!({"content": "/human", "guild_id": "1"}));
        assert!(message_to_inbound("discord", 9, &command, &Place::Channel).is_some());
        let reply = message(
            serde_json::json!({"content": "still broken", "guild_id": "1", "type": 19,
            "message_reference": {"message_id": "400", "channel_id": "20"},
            "referenced_message": {"id": "400", "channel_id": "20", "content": "answer",
                "timestamp": "2026-11-25T01:29:00+00:00", "author": {"id": "9", "username": "bot", "bot": true},
                "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
                "attachments": [], "embeds": [], "pinned": false, "type": 0}}),
        );
        let i = message_to_inbound("discord", 9, &reply, &Place::Channel)
            .expect("reply to the bot kept");
        assert_eq!(i.reply_to.as_deref(), Some("400"));
    }

    #[test]
    fn bots_webhooks_and_system_messages_are_ignored() {
        let bot = message(
            serde_json::json!({"content": "hi", "author": {"id": "77", "username": "x", "bot": true}}),
        );
        assert!(message_to_inbound("discord", 9, &bot, &Place::Direct).is_none());
        let own =
            message(serde_json::json!({"content": "hi", "author": {"id": "9", "username": "me"}}));
        assert!(message_to_inbound("discord", 9, &own, &Place::Direct).is_none());
        let hook = message(serde_json::json!({"content": "hi", "webhook_id": "5"}));
        assert!(message_to_inbound("discord", 9, &hook, &Place::Direct).is_none());
        let pin = message(serde_json::json!({"content": "", "type": 6}));
        assert!(message_to_inbound("discord", 9, &pin, &Place::Direct).is_none());
    }

    #[test]
    fn operator_spaces_turn_text_into_case_commands() {
        let m = message(serde_json::json!({"content": "try again now", "guild_id": "1"}));
        let i =
            message_to_inbound("discord", 9, &m, &Place::CaseThread("C-3".into())).expect("kept");
        assert_eq!(i.text, "/reply C-3 try again now");
        let room = Place::Room {
            card_case: Some("C-4".into()),
        };
        assert_eq!(
            message_to_inbound("discord", 9, &m, &room).map(|i| i.text),
            Some("/reply C-4 try again now".into())
        );
        let chatter = Place::Room { card_case: None };
        assert!(message_to_inbound("discord", 9, &m, &chatter).is_none());
    }

    #[test]
    fn attachments_keep_their_cdn_url() {
        let m = message(serde_json::json!({"attachments": [
            {"id": "1", "filename": "shot.png", "size": 2048, "url": "https://cdn.discordapp.com/a/shot.png",
             "proxy_url": "https://media.discordapp.net/a/shot.png", "content_type": "image/png", "height": 10, "width": 10},
            {"id": "2", "filename": "mail.log", "size": 99, "url": "https://cdn.discordapp.com/a/mail.log",
             "proxy_url": "https://media.discordapp.net/a/mail.log"}]}));
        let i = message_to_inbound("discord", 9, &m, &Place::Direct).expect("kept");
        assert_eq!(i.attachments[0].kind, AttachmentKind::Image);
        assert_eq!(
            i.attachments[0].url,
            "https://cdn.discordapp.com/a/shot.png"
        );
        assert_eq!(
            (i.attachments[1].kind, i.attachments[1].size),
            (AttachmentKind::File, 99)
        );
    }

    #[test]
    fn button_ids_carry_the_text() {
        let id = button_custom_id(2, "Yes, it helped");
        assert_eq!(id, "2:Yes, it helped");
        assert_eq!(button_text(&id), "Yes, it helped");
        assert_eq!(button_text("3:a:b"), "a:b");
        assert_eq!(button_text("plain"), "plain");
        assert_eq!(button_custom_id(1, &"x".repeat(200)).chars().count(), 100);
    }
}
