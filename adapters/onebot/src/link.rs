//! The OneBot connection the channel talks over, whichever side opened it: events arrive as text frames, and an
//! action goes out with an `echo` that the implementation's response carries back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

/// Why an action got no response.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No OneBot implementation is connected.
    #[error("no OneBot connection")]
    NotConnected,
    /// The connection closed, or no response came in time.
    #[error("no response from the OneBot implementation within {0:?}")]
    NoResponse(Duration),
}

/// The current connection's writer and the actions waiting for their response.
#[derive(Default)]
pub struct Link {
    writer: Mutex<Option<(u64, mpsc::UnboundedSender<String>)>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Value>>>,
    next: AtomicU64,
    self_id: RwLock<String>,
}

impl Link {
    /// Makes `writer` the connection actions go to (a newer connection replaces an older one); returns its
    /// number for [`Link::detach`].
    pub fn attach(&self, writer: mpsc::UnboundedSender<String>) -> u64 {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        *self.writer.lock().unwrap_or_else(|e| e.into_inner()) = Some((number, writer));
        number
    }

    /// Forgets connection `number` if it is still the current one.
    pub fn detach(&self, number: u64) {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if writer.as_ref().is_some_and(|(n, _)| *n == number) {
            *writer = None;
        }
    }

    /// Whether an implementation is connected.
    pub fn connected(&self) -> bool {
        self.writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// The bot's QQ number, once the implementation has told it.
    pub fn self_id(&self) -> String {
        self.self_id
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records the bot's QQ number.
    pub fn set_self_id(&self, id: &str) {
        if !id.is_empty() && self.self_id() != id {
            *self.self_id.write().unwrap_or_else(|e| e.into_inner()) = id.to_string();
        }
    }

    /// Sends an action and waits for its response.
    pub async fn call(
        &self,
        action: &str,
        params: Value,
        wait: Duration,
    ) -> Result<Value, CallError> {
        let echo = format!("sb-{}", self.next.fetch_add(1, Ordering::Relaxed));
        let frame = json!({"action": action, "params": params, "echo": echo}).to_string();
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(echo.clone(), tx);
        let sent = {
            let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            writer.as_ref().is_some_and(|(_, w)| w.send(frame).is_ok())
        };
        if !sent {
            self.forget(&echo);
            return Err(CallError::NotConnected);
        }
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(response)) => Ok(response),
            _ => {
                self.forget(&echo);
                Err(CallError::NoResponse(wait))
            }
        }
    }

    fn forget(&self, echo: &str) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(echo);
    }

    /// Hands a response frame to the action waiting for it; `false` when the frame is no response of ours.
    pub fn respond(&self, frame: &Value) -> bool {
        let Some(echo) = frame.get("echo").and_then(Value::as_str) else {
            return false;
        };
        if frame.get("status").is_none() && frame.get("retcode").is_none() {
            return false;
        }
        let waiting = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(echo);
        if let Some(tx) = waiting {
            let _ = tx.send(frame.clone());
        }
        true
    }
}
