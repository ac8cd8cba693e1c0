//! The WeChat channel: settings, the state its push endpoint and its adapter share, and `GET`/`POST /wechat`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use supportbot_chat::text::numbered_choice;
use supportbot_chat::{Accepted, InboundSink, SinkError};

use crate::api::Api;
use crate::inbound::{self, Action};
use crate::{crypto, signature};

/// Largest push body accepted.
pub const MAX_BODY: usize = 64 * 1024;
/// WeChat accepts customer-service messages this long after the user's last message.
pub(crate) const WINDOW: Duration = Duration::from_secs(48 * 3600);
/// The answer to a push that is stored (or needs nothing).
const SUCCESS: &str = "success";
/// How many users' choices and last-message times are kept before old ones are dropped.
const REMEMBERED: usize = 50_000;

/// How the channel runs.
pub struct Settings {
    /// Platform name of accounts and chats (`wechat`).
    pub platform: String,
    /// The official account's app id (the safe mode's messages name it).
    pub app_id: String,
    /// The server-configuration token that signs pushes.
    pub token: String,
    /// The safe mode's AES key, when `encoding_aes_key` is set.
    pub aes_key: Option<[u8; 32]>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("platform", &self.platform)
            .field("app_id", &self.app_id)
            .field("token", &"<redacted>")
            .field("aes_key", &self.aes_key.map(|_| "<redacted>"))
            .finish()
    }
}

/// The channel; cheap to clone.
#[derive(Clone)]
pub struct WeChatChannel {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub settings: Settings,
    pub api: Api,
    pub sink: Arc<dyn InboundSink>,
    /// openid → the choices last offered, answered by number.
    pub choices: Mutex<HashMap<String, Vec<String>>>,
    /// openid → when their last message arrived (the 48-hour window).
    pub last_seen: Mutex<HashMap<String, Instant>>,
}

impl WeChatChannel {
    /// A channel storing pushes in `sink` and sending through `api`.
    pub fn new(settings: Settings, api: Api, sink: Arc<dyn InboundSink>) -> WeChatChannel {
        WeChatChannel {
            inner: Arc::new(Inner {
                settings,
                api,
                sink,
                choices: Mutex::new(HashMap::new()),
                last_seen: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn seen(&self, openid: &str) {
        let mut seen = self
            .inner
            .last_seen
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if seen.len() >= REMEMBERED {
            seen.retain(|_, at| at.elapsed() < WINDOW);
        }
        seen.insert(openid.to_string(), Instant::now());
    }
}

#[derive(Deserialize)]
struct Check {
    signature: String,
    timestamp: String,
    nonce: String,
    #[serde(default)]
    echostr: String,
    #[serde(default)]
    encrypt_type: Option<String>,
    #[serde(default)]
    msg_signature: Option<String>,
}

/// `GET /wechat` and `POST /wechat` (bodies up to [`MAX_BODY`]).
pub fn router(channel: WeChatChannel) -> Router {
    Router::new()
        .route("/wechat", get(verify_url).post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(channel)
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, why.to_string()).into_response()
}

/// The server URL check: `echostr` back when the signature is right.
async fn verify_url(
    State(channel): State<WeChatChannel>,
    query: Result<Query<Check>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "signature, timestamp and nonce are required",
        );
    };
    let token = &channel.inner.settings.token;
    if !signature::verify(&q.signature, &[token, &q.timestamp, &q.nonce]) {
        tracing::warn!("WeChat URL check with a wrong signature refused");
        return refuse(StatusCode::UNAUTHORIZED, "wrong signature");
    }
    q.echostr.into_response()
}

async fn receive(
    State(channel): State<WeChatChannel>,
    query: Result<Query<Check>, QueryRejection>,
    body: Bytes,
) -> Response {
    let Ok(Query(q)) = query else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "signature, timestamp and nonce are required",
        );
    };
    let settings = &channel.inner.settings;
    if !signature::verify(&q.signature, &[&settings.token, &q.timestamp, &q.nonce]) {
        tracing::warn!("WeChat push with a wrong signature refused");
        return refuse(StatusCode::UNAUTHORIZED, "wrong signature");
    }
    let Ok(xml) = std::str::from_utf8(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "the push is not UTF-8");
    };
    let mut push = match inbound::parse(xml) {
        Ok(p) => p,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    if let Some(encrypted) = push.encrypt.clone() {
        let Some(key) = settings.aes_key else {
            return refuse(
                StatusCode::BAD_REQUEST,
                "an encrypted push, but no encoding_aes_key is configured",
            );
        };
        let given = q.msg_signature.as_deref().unwrap_or("");
        if !signature::verify(
            given,
            &[&settings.token, &q.timestamp, &q.nonce, &encrypted],
        ) {
            tracing::warn!("WeChat push with a wrong msg_signature refused");
            return refuse(StatusCode::UNAUTHORIZED, "wrong msg_signature");
        }
        let inner = match crypto::decrypt(&key, &encrypted, &settings.app_id) {
            Ok(inner) => inner,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.to_string()),
        };
        push = match inbound::parse(&inner) {
            Ok(p) => p,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.to_string()),
        };
    } else if q.encrypt_type.as_deref() == Some("aes") {
        return refuse(
            StatusCode::BAD_REQUEST,
            "encrypt_type=aes but the push has no Encrypt",
        );
    }
    match inbound::action(&push, &settings.platform) {
        Action::Ignore => SUCCESS.into_response(),
        Action::Unsupported { openid } => {
            channel.seen(&openid);
            let api_channel = channel.clone();
            tokio::spawn(async move {
                let text = "暂不支持语音消息,请直接输入文字。\nVoice messages are not supported; please type your question.";
                if let Err(e) = api_channel.inner.api.send_text(&openid, text).await {
                    tracing::warn!(error = %e, "telling a WeChat user that voice is unsupported failed");
                }
            });
            SUCCESS.into_response()
        }
        Action::Message(mut inbound) => {
            channel.seen(&inbound.user);
            channel.choose_by_number(&mut inbound);
            let id = inbound.id.clone();
            match channel.inner.sink.accept(*inbound).await {
                Ok(Accepted::New) | Ok(Accepted::Duplicate) => SUCCESS.into_response(),
                Err(SinkError::Rejected(reason)) => {
                    tracing::warn!(message = %id, %reason, "the core rejected a WeChat message");
                    SUCCESS.into_response()
                }
                // No answer in time: WeChat sends the push again.
                Err(e) => {
                    tracing::warn!(message = %id, error = %e, "a WeChat push was not stored; WeChat will retry");
                    refuse(StatusCode::SERVICE_UNAVAILABLE, "not stored; retry")
                }
            }
        }
    }
}

impl WeChatChannel {
    /// A number answering the choices last offered to the user becomes the chosen text.
    fn choose_by_number(&self, inbound: &mut supportbot_chat::Inbound) {
        let choices = self.inner.choices.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(choice) = choices
            .get(&inbound.user)
            .and_then(|c| numbered_choice(&inbound.text, c))
        {
            inbound.text = choice.clone();
        }
    }
}
