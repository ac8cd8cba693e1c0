//! The XML WeChat pushes: the outer envelope (with `Encrypt` in safe mode) and the message or event inside, and
//! what becomes of each: text and images go to the core, a subscription starts the conversation (`/start`),
//! voice is answered as unsupported, everything else is acknowledged and dropped.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use serde::Deserialize;
use supportbot_chat::{Attachment, AttachmentKind, Inbound};

/// One push, plain, or the envelope of an encrypted one.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Push {
    /// The official account.
    pub to_user_name: String,
    /// The user's openid.
    pub from_user_name: String,
    /// Unix seconds.
    pub create_time: i64,
    /// `text`, `image`, `voice`, `event`...
    pub msg_type: String,
    /// Text of a text message.
    pub content: Option<String>,
    /// The message id (absent on events).
    pub msg_id: Option<String>,
    /// Picture URL of an image.
    pub pic_url: Option<String>,
    /// `subscribe`, `unsubscribe`, `CLICK`...
    pub event: Option<String>,
    /// Safe mode: the encrypted push.
    pub encrypt: Option<String>,
}

/// Why a body is not a push.
#[derive(Debug, thiserror::Error)]
#[error("the push is not valid XML: {0}")]
pub struct XmlError(String);

/// Parses a push's XML.
pub fn parse(xml: &str) -> Result<Push, XmlError> {
    quick_xml::de::from_str(xml).map_err(|e| XmlError(e.to_string()))
}

/// What to do with a push.
#[derive(Debug)]
pub enum Action {
    /// Hand the message to the core.
    Message(Box<Inbound>),
    /// Tell the user that voice messages are not understood.
    Unsupported {
        /// The user's openid.
        openid: String,
    },
    /// Nothing (other events, an unsubscribe).
    Ignore,
}

fn unix_time(secs: i64) -> Option<DateTime<FixedOffset>> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .map(|t| t.fixed_offset())
}

/// What a push means for the `platform` (`wechat`).
pub fn action(push: &Push, platform: &str) -> Action {
    let openid = push.from_user_name.trim();
    if openid.is_empty() {
        return Action::Ignore;
    }
    let message = |id: String, text: String, attachments: Vec<Attachment>| {
        Action::Message(Box::new(Inbound {
            platform: platform.to_string(),
            chat: openid.to_string(),
            user: openid.to_string(),
            name: String::new(),
            id,
            text,
            group: false,
            mention: true,
            reply_to: None,
            ts: unix_time(push.create_time),
            attachments,
            locale: None,
            operator_room: false,
        }))
    };
    let msg_id = push.msg_id.clone().filter(|id| !id.trim().is_empty());
    match (push.msg_type.as_str(), msg_id) {
        ("text", Some(id)) => message(id, push.content.clone().unwrap_or_default(), vec![]),
        ("image", Some(id)) => message(
            id,
            String::new(),
            vec![Attachment {
                kind: AttachmentKind::Image,
                name: "image.jpg".into(),
                url: push.pic_url.clone().unwrap_or_default(),
                size: 0,
            }],
        ),
        ("voice", Some(_)) => Action::Unsupported {
            openid: openid.to_string(),
        },
        ("event", _) if push.event.as_deref() == Some("subscribe") => message(
            format!("subscribe:{openid}:{}", push.create_time),
            "/start".into(),
            vec![],
        ),
        _ => Action::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_push_becomes_a_message() {
        let xml = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o-user]]></FromUserName>\
                   <CreateTime>1764064800</CreateTime><MsgType><![CDATA[text]]></MsgType>\
                   <Content><![CDATA[退信 554 <b>]]></Content><MsgId>24680</MsgId></xml>";
        let Action::Message(m) = action(&parse(xml).unwrap(), "wechat") else {
            panic!("a message")
        };
        assert_eq!(
            (m.chat.as_str(), m.id.as_str(), m.text.as_str()),
            ("o-user", "24680", "退信 554 <b>")
        );
    }

    #[test]
    fn subscribe_voice_and_other_events() {
        let push = |kind: &str, extra: &str| {
            parse(&format!(
                "<xml><FromUserName>o-u</FromUserName><CreateTime>5</CreateTime><MsgType>{kind}</MsgType>{extra}</xml>"
            ))
            .unwrap()
        };
        let Action::Message(m) = action(&push("event", "<Event>subscribe</Event>"), "wechat")
        else {
            panic!("subscribe starts")
        };
        assert_eq!(m.text, "/start");
        assert!(matches!(
            action(&push("voice", "<MsgId>9</MsgId>"), "wechat"),
            Action::Unsupported { .. }
        ));
        assert!(matches!(
            action(&push("event", "<Event>unsubscribe</Event>"), "wechat"),
            Action::Ignore
        ));
        assert!(parse("<xml><MsgType>text</xml>").is_err());
    }
}
