//! The QQ channel as the outbox sees it: a message becomes `send_private_msg` or `send_group_msg` (a reply to the
//! user's message, an `at` of the asker in groups, buttons as numbered choices, long texts in parts), and the
//! implementation's retcode decides between done, retry and give up.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};
use supportbot_chat::text::{split_at_lines, with_numbered_choices};
use supportbot_chat::{Adapter, Delivery, Envelope, Outbound, SendError};

use crate::channel::{conversation, OneBotChannel};
use crate::inbound::GROUP_PREFIX;
use crate::link::CallError;
use crate::segment;

/// Longest text sent in one QQ message; longer answers go in parts.
pub const MAX_CHARS: usize = 1500;
/// How long to wait after the implementation reports a rate limit.
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(5);

/// What a response's status and retcode mean for the outbox.
pub fn classify(response: &Value) -> Result<Option<String>, SendError> {
    let status = response.get("status").and_then(Value::as_str).unwrap_or("");
    let retcode = response
        .get("retcode")
        .and_then(Value::as_i64)
        .unwrap_or(-1);
    if status == "ok" || status == "async" || retcode == 0 || retcode == 1 {
        let id = response
            .get("data")
            .and_then(|d| d.get("message_id"))
            .map(|v| v.to_string().trim_matches('"').to_string());
        return Ok(id);
    }
    let why = ["wording", "msg", "message"]
        .iter()
        .find_map(|k| response.get(*k).and_then(Value::as_str))
        .unwrap_or("")
        .to_string();
    let lower = why.to_lowercase();
    if lower.contains("rate") || lower.contains("频率") || lower.contains("too fast") {
        return Err(SendError::RetryAfter(RATE_LIMIT_WAIT));
    }
    match retcode {
        // Bad parameters, and the data the action needs is not there (not a friend, muted, no such group):
        // sending again will not help.
        100 | 102 | 201 => Err(SendError::Permanent(format!(
            "OneBot retcode {retcode}: {why}"
        ))),
        _ => Err(SendError::Transient(format!(
            "OneBot retcode {retcode}: {why}"
        ))),
    }
}

impl OneBotChannel {
    async fn send(&self, envelope_id: &str, out: &Outbound) -> Result<(), SendError> {
        let inner = &self.inner;
        let number = |s: &str| {
            s.parse::<i64>()
                .map_err(|_| SendError::Permanent(format!("no QQ chat {s:?}")))
        };
        let (action, target, asker) = match out.chat.strip_prefix(GROUP_PREFIX) {
            Some(group) => {
                let asker = out.reply_to.as_ref().and_then(|r| inner.askers.get(r));
                ("send_group_msg", json!({"group_id": number(group)?}), asker)
            }
            None => (
                "send_private_msg",
                json!({"user_id": number(&out.chat)?}),
                None,
            ),
        };
        if !out.buttons.is_empty() {
            let user = asker.clone().unwrap_or_else(|| out.chat.clone());
            inner
                .choices
                .insert(conversation(&out.chat, &user), out.buttons.clone());
        }
        let text = with_numbered_choices(&out.text, &out.buttons);
        let mut first = None;
        for (i, part) in split_at_lines(&text, MAX_CHARS).iter().enumerate() {
            let (reply, at) = if i == 0 {
                (out.reply_to.as_deref(), asker.as_deref())
            } else {
                (None, None)
            };
            let mut params = target.clone();
            params["message"] = segment::outgoing(reply, at, part);
            let response = inner
                .link
                .call(action, params, inner.settings.action_timeout)
                .await
                .map_err(|e| match e {
                    CallError::NotConnected => SendError::Transient(e.to_string()),
                    CallError::NoResponse(_) => SendError::Transient(e.to_string()),
                })?;
            if let Some(id) = classify(&response)? {
                inner.bot_messages.insert(id.clone(), ());
                first.get_or_insert(id);
            }
        }
        if let Some(id) = first {
            inner.sent.insert(envelope_id.to_string(), id);
        }
        Ok(())
    }
}

#[async_trait]
impl Adapter for OneBotChannel {
    fn name(&self) -> &str {
        &self.inner.settings.platform
    }

    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        match &envelope.delivery {
            Delivery::Message(out) => self.send(&envelope.id, out).await,
            Delivery::Event(_) => Ok(()),
        }
    }

    fn sent_message_id(&self, envelope_id: &str) -> Option<String> {
        self.inner.sent.get(&envelope_id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retcodes_map_to_done_retry_and_give_up() {
        let ok =
            classify(&json!({"status": "ok", "retcode": 0, "data": {"message_id": 12}})).unwrap();
        assert_eq!(ok.as_deref(), Some("12"));
        assert!(matches!(
            classify(&json!({"status": "failed", "retcode": 102, "wording": "not a friend"})),
            Err(SendError::Permanent(_))
        ));
        assert!(matches!(
            classify(&json!({"status": "failed", "retcode": 103, "msg": "timeout"})),
            Err(SendError::Transient(_))
        ));
        assert!(matches!(
            classify(&json!({"status": "failed", "retcode": 103, "wording": "发送频率过快"})),
            Err(SendError::RetryAfter(_))
        ));
    }
}
