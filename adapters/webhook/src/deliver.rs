//! Replies to a webhook channel's users: an [`Adapter`] named by the channel that POSTs each outbound message
//! (the replay output line, docs/engine.md) to the channel's `callback_url`, signed, with the envelope id as
//! `Idempotency-Key`.

use std::time::Duration;

use async_trait::async_trait;
use supportbot_chat::{Adapter, Delivery, Envelope, SendError};

use crate::signature::Secret;
use crate::signed_post::{self, ClientError};

/// The sending half of one `[[webhooks]]` channel.
pub struct CallbackAdapter {
    channel: String,
    callback_url: String,
    secret: Secret,
    client: reqwest::Client,
}

impl CallbackAdapter {
    /// An adapter for `channel` posting to `callback_url`, each attempt limited to `timeout`.
    pub fn new(
        channel: impl Into<String>,
        callback_url: impl Into<String>,
        secret: Secret,
        timeout: Duration,
    ) -> Result<CallbackAdapter, ClientError> {
        Ok(CallbackAdapter {
            channel: channel.into(),
            callback_url: callback_url.into(),
            secret,
            client: signed_post::http_client(timeout)?,
        })
    }
}

#[async_trait]
impl Adapter for CallbackAdapter {
    fn name(&self) -> &str {
        &self.channel
    }

    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        let Delivery::Message(message) = &envelope.delivery else {
            return Err(SendError::Permanent(format!(
                "channel {} only delivers chat messages",
                self.channel
            )));
        };
        let body = serde_json::to_vec(message)
            .map_err(|e| SendError::Permanent(format!("cannot encode the message: {e}")))?;
        let result = signed_post::post_json(
            &self.client,
            &self.callback_url,
            Some(&self.secret),
            &envelope.id,
            body,
        )
        .await;
        match &result {
            Ok(()) => {
                tracing::debug!(channel = %self.channel, id = %envelope.id, "webhook reply delivered")
            }
            Err(err) => {
                tracing::warn!(channel = %self.channel, id = %envelope.id, error = %err, "webhook reply not delivered")
            }
        }
        result
    }
}
