//! A fake Telegram Bot API server for tests, on 127.0.0.1:0: enough of `getMe`, `getUpdates` (offset and
//! long-poll timeout), `sendMessage`, `answerCallbackQuery`, `setMyCommands`, `sendChatAction`, `getFile`,
//! webhooks and file downloads for the real teloxide client to run against. It records every call, and can
//! answer the next sends with an error (429 with `retry_after`, 403, ...).
//!
//! Shared by the adapter crate's tests and the root package's end-to-end tests (`#[path]`-included).
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::Notify;

#[path = "fake_wire.rs"]
mod wire;
use wire::{entities_of, multipart_fields, percent_decode};

/// The bot's user id in the fake.
pub const BOT_ID: i64 = 999;
/// The bot's username in the fake.
pub const BOT_USERNAME: &str = "qq_support_bot";

/// One recorded API call.
#[derive(Debug, Clone)]
pub struct Call {
    /// Lower-case method name (`sendmessage`).
    pub method: String,
    /// The JSON body.
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    pending: Vec<(i64, Value)>,
    delivered: Vec<(i64, Value)>,
    next_update: i64,
    highest_offset: i64,
    calls: Vec<Call>,
    sent: Vec<Value>,
    next_message: i64,
    send_failures: VecDeque<Option<(u16, Value)>>,
    files: HashMap<String, (String, Vec<u8>)>,
}

struct Shared {
    token: String,
    inner: Mutex<Inner>,
    changed: Notify,
}

/// A running fake Bot API.
pub struct FakeTelegram {
    /// Base URL (`http://127.0.0.1:port`), for `api_url`.
    pub url: String,
    /// The token it accepts.
    pub token: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeTelegram {
    /// Starts a fake that accepts `token`.
    pub async fn start(token: &str) -> FakeTelegram {
        let shared = Arc::new(Shared {
            token: token.to_string(),
            inner: Mutex::new(Inner {
                next_update: 100,
                next_message: 5000,
                ..Inner::default()
            }),
            changed: Notify::new(),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake telegram");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeTelegram {
            url,
            token: token.to_string(),
            shared,
            server,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap()
    }

    /// Queues a raw update body (everything but `update_id`); returns its update id.
    pub fn push(&self, mut update: Value) -> i64 {
        let id = {
            let mut inner = self.lock();
            let id = inner.next_update;
            inner.next_update += 1;
            update["update_id"] = json!(id);
            inner.pending.push((id, update));
            id
        };
        self.shared.changed.notify_waiters();
        id
    }

    /// A text message from `user` in their private chat.
    pub fn private_text(&self, user: i64, name: &str, text: &str) -> i64 {
        let message = self.message(private_chat(user, name), user, name, text);
        self.push(json!({ "message": message }))
    }

    /// A text message from `user` in the group `chat` (entities for `@names` and a leading `/command`).
    pub fn group_text(&self, chat: i64, user: i64, name: &str, text: &str) -> i64 {
        let message = self.message(group_chat(chat), user, name, text);
        self.push(json!({ "message": message }))
    }

    /// A message in `chat` replying to the message `reply_to` the bot sent there.
    pub fn reply_to_sent(
        &self,
        chat: i64,
        user: i64,
        name: &str,
        text: &str,
        reply_to: i64,
    ) -> i64 {
        let original = self
            .sent_message(reply_to)
            .expect("reply to a message the bot sent");
        let chat_json = if chat > 0 {
            private_chat(user, name)
        } else {
            group_chat(chat)
        };
        let mut message = self.message(chat_json, user, name, text);
        message["reply_to_message"] = original;
        self.push(json!({ "message": message }))
    }

    /// `user` presses the button with `data` under the bot's message `message_id`.
    pub fn press(&self, user: i64, name: &str, message_id: i64, data: &str) -> i64 {
        let original = self
            .sent_message(message_id)
            .expect("press a button of a message the bot sent");
        let query = json!({
            "id": format!("q{}{}", message_id, self.lock().next_update),
            "from": user_json(user, name),
            "message": original,
            "chat_instance": "ci-1",
            "data": data,
        });
        self.push(json!({ "callback_query": query }))
    }

    /// A photo (with an optional caption) from `user` in their private chat; the file is downloadable.
    pub fn private_photo(
        &self,
        user: i64,
        name: &str,
        file_id: &str,
        caption: &str,
        bytes: &[u8],
    ) -> i64 {
        self.add_file(file_id, &format!("photos/{file_id}.jpg"), bytes);
        let mut message = self.message(private_chat(user, name), user, name, "");
        message.as_object_mut().unwrap().remove("text");
        message["photo"] = json!([
            {"file_id": format!("{file_id}-small"), "file_unique_id": "u-small", "file_size": 10, "width": 90, "height": 60},
            {"file_id": file_id, "file_unique_id": format!("u-{file_id}"), "file_size": bytes.len(), "width": 1280, "height": 720},
        ]);
        if !caption.is_empty() {
            message["caption"] = json!(caption);
        }
        self.push(json!({ "message": message }))
    }

    /// A document from `user` in their private chat; the file is downloadable.
    pub fn private_document(
        &self,
        user: i64,
        name: &str,
        file_id: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> i64 {
        self.add_file(file_id, &format!("documents/{file_name}"), bytes);
        let mut message = self.message(private_chat(user, name), user, name, "");
        message.as_object_mut().unwrap().remove("text");
        message["document"] = json!({
            "file_id": file_id, "file_unique_id": format!("u-{file_id}"), "file_size": bytes.len(),
            "file_name": file_name, "mime_type": "text/plain",
        });
        self.push(json!({ "message": message }))
    }

    /// Makes `file_id` resolvable by `getFile` and downloadable.
    pub fn add_file(&self, file_id: &str, path: &str, bytes: &[u8]) {
        self.lock()
            .files
            .insert(file_id.to_string(), (path.to_string(), bytes.to_vec()));
    }

    fn message(&self, chat: Value, user: i64, name: &str, text: &str) -> Value {
        let id = {
            let mut inner = self.lock();
            inner.next_message += 1;
            inner.next_message
        };
        let mut message = json!({
            "message_id": id, "date": 1_764_036_000, "chat": chat, "from": user_json(user, name), "text": text,
        });
        let entities = entities_of(text);
        if !entities.is_empty() {
            message["entities"] = Value::Array(entities);
        }
        message
    }

    /// Every update ever delivered goes back in the queue, as if Telegram never got the acknowledgement.
    pub fn redeliver_all(&self) {
        let mut inner = self.lock();
        let mut again: Vec<(i64, Value)> = inner.delivered.drain(..).collect();
        again.append(&mut inner.pending);
        again.sort_by_key(|(id, _)| *id);
        again.dedup_by_key(|(id, _)| *id);
        inner.pending = again;
        inner.highest_offset = 0;
    }

    /// The next sends fail with this HTTP status and body, one each.
    pub fn fail_next_send(&self, status: u16, body: Value) {
        self.lock().send_failures.push_back(Some((status, body)));
    }

    /// The next send in the failure queue succeeds (to fail a later one).
    pub fn pass_next_send(&self) {
        self.lock().send_failures.push_back(None);
    }

    /// The next send gets 429 with `retry_after`.
    pub fn rate_limit_next_send(&self, retry_after: u64) {
        self.fail_next_send(
            429,
            json!({"ok": false, "error_code": 429, "description": format!("Too Many Requests: retry after {retry_after}"),
                   "parameters": {"retry_after": retry_after}}),
        );
    }

    /// The highest `offset` any `getUpdates` call has sent (updates below it are confirmed).
    pub fn highest_offset(&self) -> i64 {
        self.lock().highest_offset
    }

    /// Updates not yet confirmed.
    pub fn pending_updates(&self) -> usize {
        self.lock().pending.len()
    }

    /// Recorded calls of one method (lower-case name).
    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Messages the bot sent so far (as Telegram returned them, plus `reply_to_id` when it was a reply).
    pub fn sent(&self) -> Vec<Value> {
        self.lock().sent.clone()
    }

    /// Messages the bot sent to one chat.
    pub fn sent_to(&self, chat: i64) -> Vec<Value> {
        self.sent()
            .into_iter()
            .filter(|m| m["chat"]["id"] == json!(chat))
            .collect()
    }

    fn sent_message(&self, id: i64) -> Option<Value> {
        let mut found = self
            .lock()
            .sent
            .iter()
            .find(|m| m["message_id"] == json!(id))
            .cloned()?;
        found.as_object_mut()?.remove("reply_to_id");
        Some(found)
    }

    /// Waits until `check` holds on the sent messages, or panics after `limit`.
    pub async fn wait_sent(
        &self,
        limit: Duration,
        what: &str,
        check: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        self.wait(limit, what, || {
            let sent = self.sent();
            check(&sent).then_some(sent)
        })
        .await
    }

    /// Waits until `probe` returns something, or panics after `limit`.
    pub async fn wait<T>(&self, limit: Duration, what: &str, probe: impl Fn() -> Option<T>) -> T {
        let deadline = Instant::now() + limit;
        loop {
            let notified = self.shared.changed.notified();
            if let Some(found) = probe() {
                return found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "timed out waiting for {what}; sent so far: {:#?}",
                    self.sent()
                );
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(50)), notified).await;
        }
    }
}

/// The user JSON Telegram sends.
pub fn user_json(id: i64, name: &str) -> Value {
    json!({"id": id, "is_bot": false, "first_name": name, "language_code": "zh-hans"})
}

fn private_chat(user: i64, name: &str) -> Value {
    json!({"id": user, "type": "private", "first_name": name})
}

fn group_chat(chat: i64) -> Value {
    json!({"id": chat, "type": "supergroup", "title": format!("group {chat}")})
}

fn ok(result: Value) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"ok": true, "result": result})),
    )
        .into_response()
}

fn error(status: u16, description: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        code,
        axum::Json(json!({"ok": false, "error_code": status, "description": description})),
    )
        .into_response()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let decoded = percent_decode(uri.path());
    let segments: Vec<&str> = decoded.trim_start_matches('/').split('/').collect();
    let expected = format!("bot{}", shared.token);
    if method == Method::GET && segments.first() == Some(&"file") {
        if segments.get(1).copied() != Some(expected.as_str()) {
            return error(401, "Unauthorized");
        }
        let path = segments[2..].join("/");
        let inner = shared.inner.lock().unwrap();
        return match inner.files.values().find(|(p, _)| *p == path) {
            Some((_, bytes)) => (StatusCode::OK, bytes.clone()).into_response(),
            None => error(404, "Not Found"),
        };
    }
    let (Some(bot), Some(name)) = (segments.first(), segments.get(1)) else {
        return error(404, "Not Found");
    };
    if *bot != expected {
        return error(401, "Unauthorized");
    }
    let call = name.to_ascii_lowercase();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let params: Value = if content_type.starts_with("multipart/form-data") {
        multipart_fields(content_type, &body)
    } else {
        serde_json::from_slice(&body).unwrap_or(json!({}))
    };
    shared.inner.lock().unwrap().calls.push(Call {
        method: call.clone(),
        body: params.clone(),
        at: Instant::now(),
    });
    shared.changed.notify_waiters();
    match call.as_str() {
        "getme" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Support", "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
            "has_main_web_app": false,
        })),
        "getupdates" => get_updates(&shared, &params).await,
        "sendmessage" => send_message(&shared, &params),
        "getfile" => {
            let id = params["file_id"].as_str().unwrap_or_default();
            let inner = shared.inner.lock().unwrap();
            match inner.files.get(id) {
                Some((path, bytes)) => ok(json!({
                    "file_id": id, "file_unique_id": format!("u-{id}"), "file_size": bytes.len(), "file_path": path,
                })),
                None => error(400, "Bad Request: invalid file_id"),
            }
        }
        "setmycommands"
        | "sendchataction"
        | "answercallbackquery"
        | "deletewebhook"
        | "setwebhook" => ok(json!(true)),
        _ => error(404, "Not Found"),
    }
}

async fn get_updates(shared: &Shared, params: &Value) -> Response {
    let offset = params["offset"].as_i64().unwrap_or(0);
    let timeout = params["timeout"].as_u64().unwrap_or(0).min(30);
    let deadline = Instant::now() + Duration::from_secs(timeout);
    loop {
        let notified = shared.changed.notified();
        {
            let mut inner = shared.inner.lock().unwrap();
            if offset > 0 {
                inner.highest_offset = inner.highest_offset.max(offset);
                let (gone, keep): (Vec<_>, Vec<_>) =
                    inner.pending.drain(..).partition(|(id, _)| *id < offset);
                inner.delivered.extend(gone);
                inner.pending = keep;
            }
            let limit = params["limit"].as_u64().unwrap_or(100) as usize;
            if !inner.pending.is_empty() {
                let batch: Vec<Value> = inner
                    .pending
                    .iter()
                    .take(limit)
                    .map(|(_, u)| u.clone())
                    .collect();
                return ok(Value::Array(batch));
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return ok(json!([]));
        }
        let _ = tokio::time::timeout(left, notified).await;
    }
}

fn send_message(shared: &Shared, params: &Value) -> Response {
    let mut inner = shared.inner.lock().unwrap();
    if let Some(Some((status, body))) = inner.send_failures.pop_front() {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        return (code, axum::Json(body)).into_response();
    }
    let chat = params["chat_id"].as_i64().unwrap_or(0);
    inner.next_message += 1;
    let chat_json = if chat > 0 {
        json!({"id": chat, "type": "private", "first_name": "user"})
    } else {
        group_chat(chat)
    };
    let mut message = json!({
        "message_id": inner.next_message, "date": 1_764_036_000, "chat": chat_json,
        "from": {"id": BOT_ID, "is_bot": true, "first_name": "Support", "username": BOT_USERNAME},
        "text": params["text"].clone(),
    });
    if !params["reply_markup"].is_null() {
        message["reply_markup"] = params["reply_markup"].clone();
    }
    let answer = message.clone();
    if let Some(reply) = params["reply_parameters"]["message_id"].as_i64() {
        message["reply_to_id"] = json!(reply);
    }
    inner.sent.push(message);
    drop(inner);
    shared.changed.notify_waiters();
    ok(answer)
}
