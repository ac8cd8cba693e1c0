//! The normalised inbound and outbound messages (the replay event format, docs/engine.md "Replaying conversations").

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// What kind of file a user attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentKind {
    /// A picture (screenshot, photo).
    Image,
    /// Any other file (logs, archives, documents).
    File,
}

/// A file attached to an inbound message, already reachable at `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// Image or file.
    pub kind: AttachmentKind,
    /// The file name as the user sent it.
    #[serde(default)]
    pub name: String,
    /// Where an operator can download it.
    #[serde(default)]
    pub url: String,
    /// Size in bytes, when the platform tells.
    #[serde(default)]
    pub size: u64,
}

/// One message a user (or operator) sent to the bot, normalised by its adapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inbound {
    /// Platform (or webhook channel) name: `telegram`, `discord`, `web`, ...
    pub platform: String,
    /// The chat the message came from; for a private chat, the user's chat.
    pub chat: String,
    /// The sender's fixed platform id.
    pub user: String,
    /// The sender's display name (never used for authorisation).
    #[serde(default)]
    pub name: String,
    /// The platform's message id, used to handle a redelivered message once.
    pub id: String,
    /// The message text.
    #[serde(default)]
    pub text: String,
    /// Whether the chat is a group.
    #[serde(default)]
    pub group: bool,
    /// Whether the message addresses the bot (mention, reply to the bot, `/command`).
    #[serde(default)]
    pub mention: bool,
    /// The platform message id this message replies to, if any.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// When the message was sent; the engine's clock when present.
    #[serde(default)]
    pub ts: Option<DateTime<FixedOffset>>,
    /// Files attached to the message.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The platform's hint of the user's language (`en`, `zh-CN`: Telegram's `language_code`, the browser's
    /// language), used until the user's own words say otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Set by an adapter that knows the chat is part of an operator room (a Discord case thread under one), so
    /// operator commands work there; a webhook caller cannot set it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub operator_room: bool,
}

impl Inbound {
    /// A private message from `user` (named `name`) on `platform`: the chat is the user's own, with no group,
    /// mention, reply, time, attachment or language hint.
    pub fn direct(platform: &str, user: &str, name: &str, id: &str, text: &str) -> Inbound {
        Inbound {
            platform: platform.into(),
            chat: user.into(),
            user: user.into(),
            name: name.into(),
            id: id.into(),
            text: text.into(),
            group: false,
            mention: false,
            reply_to: None,
            ts: None,
            attachments: vec![],
            locale: None,
            operator_room: false,
        }
    }

    /// Keeps `ts` within `tolerance` of `now` (the time of receipt): a sender's clock that is wrong, or set on
    /// purpose, must not move a case to the head of the queue or skew the figures.
    pub fn clamp_ts(&mut self, now: DateTime<FixedOffset>, tolerance: chrono::Duration) {
        if let Some(ts) = self.ts {
            if ts < now - tolerance || ts > now + tolerance {
                self.ts = Some(now);
            }
        }
    }

    /// The sender as a `platform:id` account, the form operator lists use.
    pub fn account(&self) -> String {
        format!("{}:{}", self.platform, self.user)
    }

    /// The conversation key: one per platform chat and, in groups, per user.
    pub fn conversation_key(&self) -> String {
        if self.group {
            format!("{}:{}:{}", self.platform, self.chat, self.user)
        } else {
            format!("{}:{}", self.platform, self.chat)
        }
    }
}

/// One message the bot sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbound {
    /// Destination platform (or webhook channel).
    pub platform: String,
    /// Destination chat on that platform.
    pub chat: String,
    /// Plain text; adapters must never interpret it as markup.
    pub text: String,
    /// Reply choices offered as buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<String>,
    /// The platform message id this answers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The case this message belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_parses_the_design_example() {
        let line = r#"{"platform": "telegram", "chat": "-100200", "user": "42", "name": "Li Lei", "id": "m17",
 "text": "@bot 554 DT:SPM 怎么办", "group": true, "mention": true,
 "reply_to": null, "ts": "2026-11-25T10:00:00+08:00", "attachments": []}"#;
        let msg: Inbound = serde_json::from_str(line).unwrap();
        assert_eq!(msg.account(), "telegram:42");
        assert_eq!(msg.conversation_key(), "telegram:-100200:42");
        assert_eq!(msg.ts.unwrap().offset().local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn inbound_rejects_unknown_fields() {
        let line = r#"{"platform":"web","chat":"1","user":"1","id":"1","txt":"hi"}"#;
        assert!(serde_json::from_str::<Inbound>(line).is_err());
    }

    #[test]
    fn outbound_omits_empty_optionals() {
        let out = Outbound {
            platform: "web".into(),
            chat: "s1".into(),
            text: "hi".into(),
            buttons: vec![],
            reply_to: None,
            case: None,
        };
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"platform":"web","chat":"s1","text":"hi"}"#
        );
    }
}
