//! The fake's REST API: the routes the adapter and serenity call, with token checks, nonce deduplication
//! and programmed failures.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State as Extract};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::payloads::{self, GUILD_ID};
use super::{Ack, Channel, Failure, Sent, State, TOKEN};

type Shared = Arc<State>;

pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/api/v10/gateway", get(gateway))
        .route("/api/v10/users/@me", get(me))
        .route("/api/v10/users/@me/channels", post(open_dm))
        .route("/api/v10/channels/{id}", get(channel))
        .route("/api/v10/channels/{id}/messages", post(create_message))
        .route(
            "/api/v10/channels/{id}/messages/{message}/threads",
            post(create_thread),
        )
        .route(
            "/api/v10/channels/{id}/threads/archived/public",
            get(archived_threads),
        )
        .route("/api/v10/guilds/{id}/threads/active", get(active_threads))
        .route(
            "/api/v10/interactions/{id}/{token}/callback",
            post(interaction_callback),
        )
        .with_state(state)
}

fn error(status: u16, code: u64, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bot {TOKEN}"))
}

macro_rules! check_auth {
    ($headers:expr) => {
        if !authorized(&$headers) {
            return error(401, 0, "401: Unauthorized");
        }
    };
}

fn parse(id: &str) -> u64 {
    id.parse().unwrap_or(0)
}

fn channel_json(id: u64, c: &Channel) -> Value {
    payloads::channel(id, c.kind, c.guild, c.parent, &c.name)
}

async fn gateway(Extract(state): Extract<Shared>) -> Response {
    Json(json!({"url": state.gateway_url})).into_response()
}

async fn me(Extract(_state): Extract<Shared>, headers: HeaderMap) -> Response {
    check_auth!(headers);
    Json(payloads::bot_user()).into_response()
}

async fn open_dm(
    Extract(state): Extract<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    check_auth!(headers);
    let user = body["recipient_id"]
        .as_str()
        .map(parse)
        .or_else(|| body["recipient_id"].as_u64())
        .unwrap_or(0);
    if !state.lock().users.contains_key(&user) {
        return error(404, 10013, "Unknown User");
    }
    let id = state.dm_channel(user);
    let recipient = state
        .lock()
        .users
        .get(&user)
        .cloned()
        .unwrap_or(Value::Null);
    Json(json!({"id": id.to_string(), "type": 1, "recipients": [recipient]})).into_response()
}

async fn channel(
    Extract(state): Extract<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    check_auth!(headers);
    let id = parse(&id);
    let inner = state.lock();
    match inner.channels.get(&id) {
        Some(c) => Json(channel_json(id, c)).into_response(),
        None => error(404, 10003, "Unknown Channel"),
    }
}

async fn create_message(
    Extract(state): Extract<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    check_auth!(headers);
    let channel = parse(&id);
    let mut inner = state.lock();
    inner.message_posts += 1;
    inner.post_times.push(Instant::now());
    if let Some(failure) = inner
        .failures
        .pop_front()
        .filter(|f| !matches!(f, Failure::Pass))
    {
        return match failure {
            Failure::Pass => error(500, 0, "unreachable"),
            Failure::RateLimited(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", format!("{}", secs.ceil() as u64))],
                Json(json!({"message": "You are being rate limited.", "retry_after": secs, "global": false})),
            )
                .into_response(),
            Failure::Status(status) => error(status, 0, "programmed failure"),
        };
    }
    if !inner.channels.contains_key(&channel) {
        return error(404, 10003, "Unknown Channel");
    }
    let content = body["content"].as_str().unwrap_or("");
    if content.encode_utf16().count() > 2000 {
        return error(
            400,
            50035,
            "Invalid Form Body (content: Must be 2000 or fewer in length.)",
        );
    }
    let nonce = body["nonce"].as_str().map(String::from);
    if let (Some(n), true) = (&nonce, body["enforce_nonce"].as_bool() == Some(true)) {
        if let Some(at) = inner.nonces.get(&(channel, n.clone())) {
            return Json(inner.sent[*at].object.clone()).into_response();
        }
    }
    let id = state.id();
    let reply = body["message_reference"]["message_id"]
        .as_str()
        .and_then(|r| {
            inner
                .sent
                .iter()
                .find(|s| s.id.to_string() == r)
                .map(|s| s.object.clone())
        });
    let object = payloads::message(payloads::MessageParts {
        id,
        channel,
        guild: inner.channels.get(&channel).and_then(|c| c.guild),
        author: payloads::bot_user(),
        content,
        mentions: vec![],
        reply_to: reply,
        attachments: vec![],
        components: body.get("components").cloned().unwrap_or(json!([])),
    });
    if let Some(n) = nonce {
        let at = inner.sent.len();
        inner.nonces.insert((channel, n), at);
    }
    inner.sent.push(Sent {
        id,
        channel,
        body,
        object: object.clone(),
    });
    Json(object).into_response()
}

async fn create_thread(
    Extract(state): Extract<Shared>,
    headers: HeaderMap,
    Path((id, message)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    check_auth!(headers);
    let (parent, message) = (parse(&id), parse(&message));
    let mut inner = state.lock();
    if let Some(failure) = inner.thread_failures.pop_front() {
        return match failure {
            Failure::Status(status) => error(status, 0, "programmed failure"),
            _ => error(500, 0, "programmed failure"),
        };
    }
    if !inner
        .sent
        .iter()
        .any(|s| s.id == message && s.channel == parent)
    {
        return error(404, 10008, "Unknown Message");
    }
    if inner.channels.contains_key(&message) {
        return error(
            400,
            160004,
            "A thread has already been created for this message",
        );
    }
    let name = body["name"].as_str().unwrap_or("").to_string();
    let thread = Channel {
        kind: 11,
        guild: Some(GUILD_ID),
        parent: Some(parent),
        name,
        recipient: None,
    };
    let json = channel_json(message, &thread);
    inner.channels.insert(message, thread);
    Json(json).into_response()
}

fn threads_where(state: &State, keep: impl Fn(&Channel) -> bool) -> Value {
    let inner = state.lock();
    let threads: Vec<Value> = inner
        .channels
        .iter()
        .filter(|(_, c)| matches!(c.kind, 10..=12) && keep(c))
        .map(|(id, c)| channel_json(*id, c))
        .collect();
    json!({"threads": threads, "members": [], "has_more": false})
}

async fn active_threads(
    Extract(state): Extract<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    check_auth!(headers);
    let guild = parse(&id);
    Json(threads_where(&state, |c| c.guild == Some(guild))).into_response()
}

async fn archived_threads(Extract(_state): Extract<Shared>, headers: HeaderMap) -> Response {
    check_auth!(headers);
    // The fake never archives threads.
    Json(json!({"threads": [], "members": [], "has_more": false})).into_response()
}

async fn interaction_callback(
    Extract(state): Extract<Shared>,
    Path((id, token)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let id = parse(&id);
    if token != format!("itoken-{id}") {
        return error(401, 50027, "Invalid Webhook Token");
    }
    let mut inner = state.lock();
    let Some(pressed) = inner.pressed_at.get(&id).copied() else {
        return error(404, 10062, "Unknown interaction");
    };
    if inner.acks.iter().any(|a| a.id == id) {
        return error(400, 40060, "Interaction has already been acknowledged.");
    }
    let kind = body["type"].as_u64().unwrap_or(0);
    inner.acks.push(Ack {
        id,
        kind,
        after: Instant::now().duration_since(pressed),
    });
    StatusCode::NO_CONTENT.into_response()
}
