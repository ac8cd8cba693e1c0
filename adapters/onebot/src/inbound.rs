//! OneBot v11 `message` events → [`Inbound`]: private messages always, group messages only when they address the
//! bot (an `at` of its own QQ number, a reply to one of its messages, or a `/command`).

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use serde_json::Value;
use supportbot_chat::{Attachment, AttachmentKind, Inbound};

use crate::segment::{self, Segment};

/// The prefix of group chats: a group's chat is `group:<group_id>`, so its rooms read `qq:group:<group_id>`.
pub const GROUP_PREFIX: &str = "group:";

/// What the conversion needs to know of the bot.
pub struct Bot<'a> {
    /// The platform name (`qq`).
    pub platform: &'a str,
    /// The bot's own QQ number.
    pub self_id: &'a str,
    /// Whether a message id is one of the bot's own messages.
    pub sent_by_bot: &'a dyn Fn(&str) -> bool,
}

fn id_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The message an event carries, or `None` for events the bot does not handle (meta events, notices, requests,
/// its own messages, group chatter that does not address it).
pub fn to_inbound(event: &Value, bot: &Bot<'_>) -> Option<Inbound> {
    if event.get("post_type").and_then(Value::as_str) != Some("message") {
        return None;
    }
    let group = match event.get("message_type").and_then(Value::as_str)? {
        "private" => None,
        "group" => Some(id_of(event.get("group_id"))?),
        _ => return None,
    };
    let user = id_of(event.get("user_id"))?;
    if user == bot.self_id {
        return None;
    }
    let id = id_of(event.get("message_id"))?;
    let message = event
        .get("message")
        .filter(|m| !m.is_null())
        .or_else(|| event.get("raw_message"))?;
    let mut text = String::new();
    let (mut at_bot, mut reply_to, mut attachments) = (false, None, Vec::new());
    for seg in segment::parse(message) {
        match seg {
            Segment::Text(t) => text.push_str(&t),
            Segment::At(qq) if qq == bot.self_id => at_bot = true,
            Segment::At(qq) => {
                text.push('@');
                text.push_str(&qq);
                text.push(' ');
            }
            Segment::Reply(to) => reply_to = Some(to),
            Segment::Image { name, url } => attachments.push(Attachment {
                kind: AttachmentKind::Image,
                name,
                url,
                size: 0,
            }),
            Segment::File { name, url, size } => attachments.push(Attachment {
                kind: AttachmentKind::File,
                name,
                url,
                size,
            }),
            Segment::Other => {}
        }
    }
    let text = text.trim().to_string();
    let replies_to_bot = reply_to.as_deref().is_some_and(|r| (bot.sent_by_bot)(r));
    let command = text.starts_with('/');
    let mention = group.is_none() || at_bot || replies_to_bot || command;
    if !mention || (text.is_empty() && attachments.is_empty()) {
        return None;
    }
    let sender = event.get("sender");
    let name = ["card", "nickname"]
        .iter()
        .filter_map(|k| sender.and_then(|s| s.get(*k)).and_then(Value::as_str))
        .find(|n| !n.is_empty())
        .unwrap_or_default()
        .to_string();
    Some(Inbound {
        platform: bot.platform.to_string(),
        chat: match &group {
            Some(g) => format!("{GROUP_PREFIX}{g}"),
            None => user.clone(),
        },
        user,
        name,
        id,
        text,
        group: group.is_some(),
        mention,
        reply_to,
        ts: event
            .get("time")
            .and_then(Value::as_i64)
            .and_then(unix_time),
        attachments,
        locale: None,
        operator_room: false,
    })
}

fn unix_time(secs: i64) -> Option<DateTime<FixedOffset>> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .map(|t| t.fixed_offset())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bot_sent(id: &str) -> bool {
        id == "900"
    }

    fn bot() -> Bot<'static> {
        Bot {
            platform: "qq",
            self_id: "10001",
            sent_by_bot: &bot_sent,
        }
    }

    #[test]
    fn a_private_message_is_for_the_bot() {
        let e = json!({"post_type": "message", "message_type": "private", "user_id": 42, "message_id": 7,
                       "time": 1764064800, "message": "退信 554", "sender": {"nickname": "Li"}});
        let m = to_inbound(&e, &bot()).unwrap();
        assert_eq!(
            (
                m.chat.as_str(),
                m.user.as_str(),
                m.id.as_str(),
                m.text.as_str()
            ),
            ("42", "42", "7", "退信 554")
        );
        assert!(!m.group && m.mention);
        assert_eq!(m.name, "Li");
    }

    #[test]
    fn group_chatter_is_ignored_and_an_at_or_reply_or_command_is_not() {
        let base = |message: Value| {
            json!({"post_type": "message", "message_type": "group", "group_id": 555, "user_id": 42,
                   "message_id": 8, "message": message, "sender": {"card": "小李", "nickname": "Li"}})
        };
        assert!(to_inbound(&base(json!("大家好")), &bot()).is_none());
        let at = to_inbound(&base(json!("[CQ:at,qq=10001] 退信 554")), &bot()).unwrap();
        assert_eq!(
            (at.chat.as_str(), at.text.as_str(), at.name.as_str()),
            ("group:555", "退信 554", "小李")
        );
        let reply = to_inbound(&base(json!([{"type": "reply", "data": {"id": "900"}}, {"type": "text", "data": {"text": "还是不行"}}])), &bot()).unwrap();
        assert_eq!(reply.reply_to.as_deref(), Some("900"));
        let to_someone_else = base(
            json!([{"type": "reply", "data": {"id": "901"}}, {"type": "text", "data": {"text": "同意"}}]),
        );
        assert!(to_inbound(&to_someone_else, &bot()).is_none());
        assert!(to_inbound(&base(json!("/status")), &bot()).is_some());
    }

    #[test]
    fn other_events_and_the_bots_own_messages_are_not_messages() {
        assert!(to_inbound(
            &json!({"post_type": "meta_event", "meta_event_type": "heartbeat"}),
            &bot()
        )
        .is_none());
        let own = json!({"post_type": "message", "message_type": "private", "user_id": 10001, "message_id": 9, "message": "x"});
        assert!(to_inbound(&own, &bot()).is_none());
    }
}
