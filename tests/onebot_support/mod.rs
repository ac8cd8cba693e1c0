//! A fake OneBot v11 implementation for the QQ channel's tests, written from the protocol's public description:
//! it connects to the bot by reverse WebSocket (or accepts the bot's forward connection), pushes message events,
//! records every action it is sent and answers each with its `echo` (or fails it, or stays silent, on demand).
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

/// The bot's QQ number in the fake.
pub const SELF_ID: i64 = 10001;
/// Generous bound for anything the bot should do.
pub const WAIT: Duration = Duration::from_secs(20);

#[derive(Default)]
struct State {
    actions: Mutex<Vec<Value>>,
    fail_next: Mutex<VecDeque<Value>>,
    silent: AtomicBool,
    next_id: AtomicI64,
    changed: Notify,
    connection: Mutex<Option<mpsc::UnboundedSender<Option<String>>>>,
    authorization: Mutex<Vec<Option<String>>>,
}

/// The fake implementation; cheap to clone.
#[derive(Clone, Default)]
pub struct FakeOneBot {
    state: Arc<State>,
}

impl FakeOneBot {
    /// A fake with no connection yet.
    pub fn new() -> FakeOneBot {
        let fake = FakeOneBot::default();
        fake.state.next_id.store(900, Ordering::SeqCst);
        fake
    }

    /// Connects to the bot's reverse WebSocket URL as a `Universal` client; `Err` with the HTTP status when
    /// the bot refuses the handshake.
    pub async fn connect(&self, url: &str, token: Option<&str>) -> Result<(), u16> {
        let mut request = url.into_client_request().unwrap();
        let headers = request.headers_mut();
        headers.insert("x-self-id", SELF_ID.to_string().parse().unwrap());
        headers.insert("x-client-role", "Universal".parse().unwrap());
        if let Some(token) = token {
            headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => {
                self.run(socket);
                Ok(())
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("cannot reach the bot: {e}"),
        }
    }

    /// Listens for the bot's forward connection on loopback; returns the `ws://` URL.
    // tungstenite's handshake callback returns its large error response type by value.
    #[allow(clippy::result_large_err)]
    pub async fn listen(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let fake = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let seen = fake.state.clone();
                let callback = move |request: &Request, response: Response| {
                    let auth = request
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    seen.authorization.lock().unwrap().push(auth);
                    Ok(response)
                };
                if let Ok(socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await {
                    fake.run(socket);
                }
            }
        });
        url
    }

    /// The `Authorization` headers of the bot's forward connections.
    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.state.authorization.lock().unwrap().clone()
    }

    /// Whether a connection is open that [`FakeOneBot::push`] can send on. A forward connection's
    /// `Authorization` header is recorded during the handshake, a moment before the connection is.
    pub fn connected(&self) -> bool {
        self.state.connection.lock().unwrap().is_some()
    }

    fn run<S>(&self, socket: tokio_tungstenite::WebSocketStream<S>)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (mut write, mut read) = socket.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Option<String>>();
        *self.state.connection.lock().unwrap() = Some(tx.clone());
        tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                match frame {
                    Some(text) => {
                        if write.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    None => {
                        let _ = write.close().await;
                        break;
                    }
                }
            }
        });
        let state = self.state.clone();
        tokio::spawn(async move {
            while let Some(Ok(Message::Text(text))) = read.next().await {
                let mut action: Value = serde_json::from_str(&text).expect("actions are JSON");
                let silent = state.silent.load(Ordering::SeqCst);
                let failure = if silent {
                    None
                } else {
                    state.fail_next.lock().unwrap().pop_front()
                };
                let id = state.next_id.fetch_add(1, Ordering::SeqCst);
                // Recorded with the message id the action is answered with (`_message_id`).
                if !silent && failure.is_none() {
                    action["_message_id"] = json!(id);
                }
                state.actions.lock().unwrap().push(action.clone());
                state.changed.notify_waiters();
                if silent {
                    continue;
                }
                let echo = action["echo"].clone();
                let response = match failure {
                    Some(mut f) => {
                        f["echo"] = echo;
                        f
                    }
                    None => {
                        json!({"status": "ok", "retcode": 0, "data": {"message_id": id}, "echo": echo})
                    }
                };
                if tx.send(Some(response.to_string())).is_err() {
                    break;
                }
            }
        });
    }

    /// Pushes an event over the current connection.
    pub fn push(&self, event: Value) {
        let connection = self.state.connection.lock().unwrap();
        connection
            .as_ref()
            .expect("connected")
            .send(Some(event.to_string()))
            .expect("connection open");
    }

    /// Closes the current connection from the fake's side.
    pub fn drop_connection(&self) {
        if let Some(tx) = self.state.connection.lock().unwrap().take() {
            let _ = tx.send(None);
        }
    }

    /// Answers the next action with this failure (its `echo` is filled in).
    pub fn fail_next(&self, response: Value) {
        self.state.fail_next.lock().unwrap().push_back(response);
    }

    /// Records actions without answering them.
    pub fn set_silent(&self, silent: bool) {
        self.state.silent.store(silent, Ordering::SeqCst);
    }

    /// Every action received.
    pub fn actions(&self) -> Vec<Value> {
        self.state.actions.lock().unwrap().clone()
    }

    /// Actions sending to a private user or a group (`("private", 42)`, `("group", 555)`).
    pub fn sent_to(&self, kind: &str, id: i64) -> Vec<Value> {
        let key = if kind == "group" {
            "group_id"
        } else {
            "user_id"
        };
        let action = if kind == "group" {
            "send_group_msg"
        } else {
            "send_private_msg"
        };
        self.actions()
            .into_iter()
            .filter(|a| a["action"] == action && a["params"][key] == id)
            .collect()
    }

    /// Waits until `probe` finds something.
    pub async fn wait<T>(&self, what: &str, probe: impl Fn(&FakeOneBot) -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        loop {
            let notified = self.state.changed.notified();
            if let Some(found) = probe(self) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; actions: {:#?}",
                self.actions()
            );
            let _ = tokio::time::timeout(Duration::from_millis(50), notified).await;
        }
    }

    /// Waits for a message to a user or group whose text contains `needle`.
    pub async fn wait_text(&self, kind: &str, id: i64, needle: &str) -> Value {
        let what = format!("a message to {kind} {id} containing {needle:?}");
        self.wait(&what, |f| {
            f.sent_to(kind, id)
                .into_iter()
                .find(|a| text_of(a).contains(needle))
        })
        .await
    }
}

/// The text segments of an action's message, joined.
pub fn text_of(action: &Value) -> String {
    action["params"]["message"]
        .as_array()
        .map(|segments| {
            segments
                .iter()
                .filter(|s| s["type"] == "text")
                .filter_map(|s| s["data"]["text"].as_str())
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// A segment of an action's message of this type.
pub fn segment<'a>(action: &'a Value, kind: &str) -> Option<&'a Value> {
    action["params"]["message"]
        .as_array()?
        .iter()
        .find(|s| s["type"] == kind)
}

/// A private message event.
pub fn private(user: i64, message_id: i64, message: Value) -> Value {
    json!({"time": 1764064800, "self_id": SELF_ID, "post_type": "message", "message_type": "private",
           "sub_type": "friend", "message_id": message_id, "user_id": user, "message": message,
           "raw_message": "", "font": 0, "sender": {"user_id": user, "nickname": format!("qq{user}")}})
}

/// A group message event.
pub fn group(group: i64, user: i64, message_id: i64, message: Value) -> Value {
    json!({"time": 1764064800, "self_id": SELF_ID, "post_type": "message", "message_type": "group",
           "sub_type": "normal", "message_id": message_id, "group_id": group, "user_id": user,
           "message": message, "raw_message": "", "font": 0,
           "sender": {"user_id": user, "nickname": format!("qq{user}"), "card": ""}})
}
