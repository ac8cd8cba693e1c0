//! Inbox forwarding: an [`Adapter`] the engine registers as a forwarder, which POSTs every case event to a
//! helpdesk URL as signed JSON, or as a Slack-compatible incoming-webhook message.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use supportbot_chat::{Adapter, CaseEvent, CaseEventKind, Delivery, Envelope, SendError};

use crate::signature::Secret;
use crate::signed_post::{self, ClientError};
use crate::slack;

/// Prefix of a forwarder's destination name: `forward:<name>`.
pub const DESTINATION_PREFIX: &str = "forward:";

/// The shape of the POSTed body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardFormat {
    /// `{"id", "case", "kind", "at", "actor", "actor_name", "text", "attachments"}`, signed when a secret is set.
    #[default]
    Json,
    /// `{"text": ...}` for Slack (and Mattermost, Rocket.Chat...) incoming webhooks.
    Slack,
}

impl FromStr for ForwardFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(ForwardFormat::Json),
            "slack" => Ok(ForwardFormat::Slack),
            other => Err(format!(
                "unknown forward format `{other}` (expected \"json\" or \"slack\")"
            )),
        }
    }
}

/// What one forward destination needs.
#[derive(Debug, Clone)]
pub struct ForwardTarget {
    /// The `[[forward]]` name; the adapter is called `forward:<name>`.
    pub name: String,
    /// Where events are POSTed.
    pub url: String,
    /// Signs JSON bodies like the webhook channel when present.
    pub secret: Option<Secret>,
    /// JSON or Slack.
    pub format: ForwardFormat,
    /// Only these kinds are forwarded; every kind when empty.
    pub events: Vec<CaseEventKind>,
}

/// The JSON body of a forwarded event: the envelope id (also the `Idempotency-Key`) and the event.
#[derive(Serialize)]
struct ForwardBody<'a> {
    id: &'a str,
    #[serde(flatten)]
    event: &'a CaseEvent,
}

/// An inbox forwarder.
pub struct Forwarder {
    destination: String,
    target: ForwardTarget,
    client: reqwest::Client,
}

impl Forwarder {
    /// A forwarder for `target`, each attempt limited to `timeout`.
    pub fn new(target: ForwardTarget, timeout: Duration) -> Result<Forwarder, ClientError> {
        Ok(Forwarder {
            destination: format!("{DESTINATION_PREFIX}{}", target.name),
            target,
            client: signed_post::http_client(timeout)?,
        })
    }

    fn wants(&self, kind: CaseEventKind) -> bool {
        self.target.events.is_empty() || self.target.events.contains(&kind)
    }

    /// The body POSTed for one envelope; `None` when this forwarder skips the event.
    pub fn body(&self, envelope: &Envelope) -> Result<Option<Vec<u8>>, SendError> {
        let Delivery::Event(event) = &envelope.delivery else {
            return Err(SendError::Permanent(format!(
                "{} only forwards case events",
                self.destination
            )));
        };
        if !self.wants(event.kind) {
            return Ok(None);
        }
        let encoded = match self.target.format {
            ForwardFormat::Json => serde_json::to_vec(&ForwardBody {
                id: &envelope.id,
                event,
            }),
            ForwardFormat::Slack => serde_json::to_vec(&slack::message_for(event)),
        };
        encoded
            .map(Some)
            .map_err(|e| SendError::Permanent(format!("cannot encode the event: {e}")))
    }
}

#[async_trait]
impl Adapter for Forwarder {
    fn name(&self) -> &str {
        &self.destination
    }

    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        let Some(body) = self.body(envelope)? else {
            return Ok(());
        };
        let secret = match self.target.format {
            ForwardFormat::Json => self.target.secret.as_ref(),
            ForwardFormat::Slack => None,
        };
        let result =
            signed_post::post_json(&self.client, &self.target.url, secret, &envelope.id, body)
                .await;
        match &result {
            Ok(()) => {
                tracing::debug!(forward = %self.target.name, id = %envelope.id, "case event forwarded")
            }
            Err(err) => {
                tracing::warn!(forward = %self.target.name, id = %envelope.id, error = %err, "case event not forwarded")
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(kind: CaseEventKind) -> Envelope {
        Envelope {
            id: "e-1".into(),
            destination: "forward:desk".into(),
            order_key: "C-1001".into(),
            delivery: Delivery::Event(CaseEvent {
                case: "C-1001".into(),
                kind,
                at: chrono::DateTime::parse_from_rfc3339("2026-11-25T10:00:00+08:00").unwrap(),
                actor: "telegram:5001".into(),
                actor_name: "Wang".into(),
                text: "a <b>".into(),
                attachments: vec![],
            }),
        }
    }

    fn forwarder(format: ForwardFormat, events: Vec<CaseEventKind>) -> Forwarder {
        let target = ForwardTarget {
            name: "desk".into(),
            url: "http://127.0.0.1:9/".into(),
            secret: None,
            format,
            events,
        };
        Forwarder::new(target, Duration::from_secs(1)).unwrap()
    }

    #[test]
    fn json_body_carries_the_id_and_the_event() {
        let f = forwarder(ForwardFormat::Json, vec![]);
        assert_eq!(f.name(), "forward:desk");
        let body: serde_json::Value =
            serde_json::from_slice(&f.body(&envelope(CaseEventKind::Note)).unwrap().unwrap())
                .unwrap();
        assert_eq!(body["id"], "e-1");
        assert_eq!(body["case"], "C-1001");
        assert_eq!(body["kind"], "note");
        assert_eq!(body["actor"], "telegram:5001");
        assert_eq!(body["text"], "a <b>");
        assert_eq!(body["at"], "2026-11-25T10:00:00+08:00");
    }

    #[test]
    fn slack_body_is_escaped_text_only() {
        let f = forwarder(ForwardFormat::Slack, vec![]);
        let body: serde_json::Value =
            serde_json::from_slice(&f.body(&envelope(CaseEventKind::Closed)).unwrap().unwrap())
                .unwrap();
        let obj = body.as_object().unwrap();
        assert_eq!(obj.len(), 1);
        assert_eq!(obj["text"], "*C-1001* closed by Wang\n&gt; a &lt;b&gt;");
    }

    #[test]
    fn event_filter_and_wrong_delivery_kind() {
        let f = forwarder(
            ForwardFormat::Json,
            vec![CaseEventKind::Opened, CaseEventKind::Closed],
        );
        assert!(f.body(&envelope(CaseEventKind::Opened)).unwrap().is_some());
        assert!(f.body(&envelope(CaseEventKind::Note)).unwrap().is_none());
        let mut env = envelope(CaseEventKind::Opened);
        env.delivery = Delivery::Message(supportbot_chat::Outbound {
            platform: "x".into(),
            chat: "1".into(),
            text: "t".into(),
            buttons: vec![],
            reply_to: None,
            case: None,
        });
        assert!(matches!(f.body(&env), Err(SendError::Permanent(_))));
        assert_eq!("slack".parse::<ForwardFormat>(), Ok(ForwardFormat::Slack));
        assert!("xml".parse::<ForwardFormat>().is_err());
    }
}
