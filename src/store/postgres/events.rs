//! Case events between processes: a process publishes the events of each committed step with `NOTIFY` on one
//! channel, and every process listens on a connection of its own and passes on the events of the others, so that
//! an inbox served by one process sees cases opened and changed through another.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use supportbot_chat::CaseEvent;
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;

use super::{db_error, error_text, PgStore};
use crate::store::StoreError;

/// The `LISTEN` / `NOTIFY` channel.
const CHANNEL: &str = "supportbot_case_events";
/// PostgreSQL refuses payloads of 8,000 bytes or more; a longer event text is cut to fit.
const MAX_PAYLOAD: usize = 7_000;
/// How long to wait before listening again after the connection failed.
const RETRY: Duration = Duration::from_secs(2);
/// Events waiting for the engine.
const QUEUE: usize = 1024;

/// What goes over the channel.
#[derive(Serialize, Deserialize)]
struct Notice {
    /// The publishing process (its own notices are skipped).
    from: String,
    event: CaseEvent,
}

/// The notice of `event`, its text cut (at a character boundary) to keep the payload under the limit.
fn payload(from: &str, event: &CaseEvent) -> String {
    let mut notice = Notice {
        from: from.to_string(),
        event: event.clone(),
    };
    loop {
        let text = serde_json::to_string(&notice).expect("case events serialise to JSON");
        if text.len() < MAX_PAYLOAD || notice.event.text.is_empty() {
            return text;
        }
        let over = text.len() - MAX_PAYLOAD + 16;
        let keep = notice.event.text.len().saturating_sub(over);
        let cut = (0..=keep)
            .rev()
            .find(|&i| notice.event.text.is_char_boundary(i))
            .unwrap_or(0);
        notice.event.text.truncate(cut);
        notice.event.text.push('…');
    }
}

impl PgStore {
    /// Publishes a committed step's case events to the other processes.
    pub(super) async fn publish_events(&self, events: &[CaseEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let payloads: Vec<String> = events.iter().map(|e| payload(self.instance(), e)).collect();
        let conn = self.conn().await?;
        conn.execute(
            "SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n",
            &[&CHANNEL, &payloads],
        )
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// The other processes' case events, from a listening connection that is opened again when it fails.
    pub(super) fn listen_events(&self) -> mpsc::Receiver<CaseEvent> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let store = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(err) = store.relay_events(&tx).await {
                    tracing::warn!(error = %err, "listening for other processes' case events failed; listening again");
                }
                if tx.is_closed() {
                    return;
                }
                tokio::time::sleep(RETRY).await;
            }
        });
        rx
    }

    /// Listens on one connection and passes the other processes' events to `tx` until the connection fails or
    /// nobody receives them any more.
    async fn relay_events(&self, tx: &mpsc::Sender<CaseEvent>) -> Result<(), StoreError> {
        let mut listening = self.listen_on(CHANNEL).await?;
        while let Some(text) = listening.notices.recv().await {
            let notice: Notice = match serde_json::from_str(&text) {
                Ok(notice) => notice,
                Err(err) => {
                    tracing::warn!(error = %err, "an unreadable case event notice was skipped");
                    continue;
                }
            };
            if notice.from == self.instance() {
                continue;
            }
            if tx.send(notice.event).await.is_err() {
                break;
            }
        }
        Ok(())
    }

    /// A connection of its own listening on `channel`: its notices' payloads, in the order they were sent,
    /// until the connection fails (the receiver then ends).
    pub(super) async fn listen_on(&self, channel: &str) -> Result<Listening, StoreError> {
        let (client, mut connection) = self
            .inner
            .settings
            .connect(self.inner.connector.clone())
            .await
            .map_err(|e| StoreError::Database(error_text(&e)))?;
        let (found, notices) = mpsc::unbounded_channel();
        let name = channel.to_string();
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(n)) => {
                        if found.send(n.payload().to_string()).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(channel = %name, error = %error_text(&err), "a listening connection failed");
                        return;
                    }
                }
            }
        });
        client
            .batch_execute(&format!("LISTEN {channel}"))
            .await
            .map_err(db_error)?;
        Ok(Listening {
            _client: client,
            notices,
            driver,
        })
    }
}

/// A connection listening on one channel; closed when dropped.
pub(super) struct Listening {
    _client: tokio_postgres::Client,
    /// The payloads of its notices.
    pub(super) notices: mpsc::UnboundedReceiver<String>,
    driver: tokio::task::JoinHandle<()>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_event_text_is_cut_to_fit_a_notice() {
        let event: CaseEvent = serde_json::from_value(serde_json::json!({
            "case": "C-1001", "kind": "message", "at": "2026-11-26T10:00:00+08:00", "actor": "web:u1",
            "text": "邮".repeat(5000),
        }))
        .unwrap();
        let text = payload("host:1:ab", &event);
        assert!(text.len() < MAX_PAYLOAD, "{}", text.len());
        let back: Notice = serde_json::from_str(&text).unwrap();
        assert!(back.event.text.ends_with('…'));
        assert!(back.event.text.starts_with("邮邮邮"));
        let short = payload(
            "host:1:ab",
            &CaseEvent {
                text: "hi".into(),
                ..event
            },
        );
        let back: Notice = serde_json::from_str(&short).unwrap();
        assert_eq!(back.event.text, "hi");
    }
}
