//! The JSON frames of the chat and inbox WebSockets (docs/web.md describes the chat protocol and the inbox's own).

use serde::{Deserialize, Serialize};
use supportbot_chat::{Attachment, CaseEvent, CaseSummary};

/// What a chat page sends.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// A typed message. `id` (optional, chosen by the page) makes a resend after a reconnect count once.
    Message {
        /// The text.
        text: String,
        /// The page's id for this message.
        #[serde(default)]
        id: Option<String>,
    },
    /// A pressed button.
    Button {
        /// The button's text.
        value: String,
        /// The page's id for this press.
        #[serde(default)]
        id: Option<String>,
    },
    /// Keep-alive; answered with `pong`.
    Ping,
}

/// What the server sends to a chat page or the inbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame of a chat socket: the session token to reconnect with.
    Session {
        /// The token for `/ws?session=`.
        session: String,
    },
    /// A message for the user (or, on the inbox socket, for the operator).
    Message(MessageFrame),
    /// A message from the page was stored (durable) under this id.
    Ack {
        /// The page's id.
        id: String,
    },
    /// The state of the user's open case: number, status and place in the queue.
    Status {
        /// The case number.
        case: String,
        /// `open`, `assigned` or `closed`.
        status: String,
        /// 1-based place among waiting cases, while waiting.
        #[serde(skip_serializing_if = "Option::is_none")]
        position: Option<usize>,
    },
    /// Something the page sent was refused; `code` is stable, `text` is for people.
    Error {
        /// `rate_limited`, `too_long`, `bad_frame`, `rejected`, `unavailable`, `unauthorized`...
        code: String,
        /// A polite sentence in the session's language.
        text: String,
    },
    /// Answer to `ping`.
    Pong,
    /// Inbox: signed in as this operator.
    Ready {
        /// The operator account (`web:wang`; `web:admin` for the shared token).
        operator: String,
        /// The operator's display name.
        name: String,
        /// The operator's teams (for the "my teams" view).
        teams: Vec<String>,
    },
    /// Inbox: the current queue and assigned cases.
    Queue {
        /// Cases in queue order.
        cases: Vec<CaseSummary>,
    },
    /// Inbox: a case event as it happened.
    Event {
        /// The event.
        event: CaseEvent,
    },
    /// Chat: the operator holding the user's case is typing a reply (shown for a few seconds, not stored).
    Typing {
        /// The operator's name.
        name: String,
    },
}

/// A chat message as shown to the user, live or from history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageFrame {
    /// The text (plain; never markup).
    pub text: String,
    /// Choices offered as buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<String>,
    /// The case the message belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// `user` for the user's own messages replayed from history; absent for the bot's and operators'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The page's id of the message this answers (the `id` it sent), when the core answered one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Files the user sent with the message (history only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Set on messages replayed from history after a reconnect.
    #[serde(default, skip_serializing_if = "is_false")]
    pub history: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ServerFrame {
    /// The frame as JSON text.
    pub fn to_json(&self) -> String {
        // Serialising these plain structs cannot fail.
        serde_json::to_string(self)
            .unwrap_or_else(|_| String::from(r#"{"type":"error","code":"internal","text":""}"#))
    }

    /// An error frame.
    pub fn error(code: &str, text: impl Into<String>) -> ServerFrame {
        ServerFrame::Error {
            code: code.to_string(),
            text: text.into(),
        }
    }
}

/// Something a page sent was refused: the stable code and a sentence for people (sent as an `error` frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `rate_limited`, `too_long`, `bad_frame`, `rejected`, `unavailable`...
    pub code: &'static str,
    /// A polite sentence in the page's language.
    pub text: String,
}

impl Refusal {
    /// The `error` frame for it.
    pub fn frame(self) -> ServerFrame {
        ServerFrame::error(self.code, self.text)
    }
}

/// What the inbox page sends.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboxFrame {
    /// A raw operator command line (`/queue`, `/take C-1001`...), sent as is.
    Command {
        /// The command text.
        text: String,
    },
    /// A button action on a case; the server builds the command line from it.
    Action {
        /// `take`, `release`, `close`, `reply`, `note`, `transfer` or `case`.
        action: String,
        /// The case number.
        case: String,
        /// Reply / note / close summary text, or the team for `transfer`.
        #[serde(default)]
        text: String,
        /// With `close`: the FAQ entry that answered the case, whose question variant the user's question
        /// becomes (`none`, or absent: no entry).
        #[serde(default)]
        faq: Option<String>,
    },
    /// The operator is typing a reply in the case (passed on to the user's web chat when the operator holds
    /// the case and `[web] typing_indicator` is on; otherwise ignored).
    Typing {
        /// The case number.
        case: String,
    },
    /// Keep-alive; answered with `pong`.
    Ping,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_message_frame_has_the_design_shape() {
        let frame = ServerFrame::Message(MessageFrame {
            text: "hi".into(),
            buttons: vec!["a".into()],
            case: Some("C-1001".into()),
            from: None,
            reply_to: None,
            attachments: vec![],
            history: false,
        });
        assert_eq!(
            frame.to_json(),
            r#"{"type":"message","text":"hi","buttons":["a"],"case":"C-1001"}"#
        );
        let session = ServerFrame::Session {
            session: "t".into(),
        };
        assert_eq!(session.to_json(), r#"{"type":"session","session":"t"}"#);
    }

    #[test]
    fn client_frames_parse() {
        let m: ClientFrame = serde_json::from_str(r#"{"type":"message","text":"hello"}"#).unwrap();
        assert_eq!(
            m,
            ClientFrame::Message {
                text: "hello".into(),
                id: None
            }
        );
        let b: ClientFrame =
            serde_json::from_str(r#"{"type":"button","value":"Yes","id":"x1"}"#).unwrap();
        assert_eq!(
            b,
            ClientFrame::Button {
                value: "Yes".into(),
                id: Some("x1".into())
            }
        );
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"nope"}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"message"}"#).is_err());
    }
}
