//! A fake WeChat server for the WeChat channel's tests, written from the public protocol description: it pushes
//! signed XML (plain, or encrypted in the safe mode) to the bot's `/wechat`, serves `cgi-bin/token`, and records
//! the customer-service messages the bot sends (answering an expired token or a closed 48-hour window on demand).
#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aes::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

pub const APP_ID: &str = "wx0123456789abcdef";
pub const APP_SECRET: &str = "app-secret-of-the-test-account";
pub const SERVER_TOKEN: &str = "wechat-server-token";
pub const AES_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
pub const WAIT: Duration = Duration::from_secs(20);

#[derive(Default)]
struct State_ {
    tokens_issued: AtomicUsize,
    expired: Mutex<HashSet<String>>,
    closed_window: Mutex<HashSet<String>>,
    sent: Mutex<Vec<(String, Value)>>,
}

/// The fake API; cheap to clone.
#[derive(Clone, Default)]
pub struct FakeWeChat {
    state: Arc<State_>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    appid: String,
    secret: String,
}

#[derive(serde::Deserialize)]
struct SendQuery {
    access_token: String,
}

async fn token(State(s): State<Arc<State_>>, Query(q): Query<TokenQuery>) -> Json<Value> {
    if q.appid != APP_ID || q.secret != APP_SECRET {
        return Json(json!({"errcode": 40125, "errmsg": "invalid appsecret"}));
    }
    let n = s.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
    Json(json!({"access_token": format!("token-{n}"), "expires_in": 7200}))
}

async fn custom_send(
    State(s): State<Arc<State_>>,
    Query(q): Query<SendQuery>,
    Json(body): Json<Value>,
) -> Json<Value> {
    if q.access_token.is_empty() || s.expired.lock().unwrap().contains(&q.access_token) {
        return Json(json!({"errcode": 42001, "errmsg": "access_token expired"}));
    }
    let to = body["touser"].as_str().unwrap_or_default().to_string();
    if s.closed_window.lock().unwrap().contains(&to) {
        return Json(
            json!({"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}),
        );
    }
    s.sent.lock().unwrap().push((q.access_token, body));
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}

impl FakeWeChat {
    /// Serves the API on loopback.
    pub async fn start() -> FakeWeChat {
        let state = Arc::new(State_::default());
        let app = Router::new()
            .route("/cgi-bin/token", get(token))
            .route("/cgi-bin/message/custom/send", post(custom_send))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeWeChat { state, url }
    }

    /// Access tokens handed out so far.
    pub fn tokens_issued(&self) -> usize {
        self.state.tokens_issued.load(Ordering::SeqCst)
    }

    /// Makes every token handed out so far expired.
    pub fn expire_tokens(&self) {
        let n = self.tokens_issued();
        let mut expired = self.state.expired.lock().unwrap();
        for i in 1..=n {
            expired.insert(format!("token-{i}"));
        }
    }

    /// Answers 45015 (48-hour window closed) for this user.
    pub fn close_window(&self, openid: &str) {
        self.state
            .closed_window
            .lock()
            .unwrap()
            .insert(openid.to_string());
    }

    /// `(access_token, text)` of every accepted customer-service message to `openid`.
    pub fn sent_to(&self, openid: &str) -> Vec<(String, String)> {
        self.state
            .sent
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, b)| b["touser"] == openid && b["msgtype"] == "text")
            .map(|(t, b)| {
                (
                    t.clone(),
                    b["text"]["content"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect()
    }

    /// Waits until `probe` finds something.
    pub async fn wait<T>(&self, what: &str, probe: impl Fn() -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(found) = probe() {
                return found;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Waits for a message to `openid` containing `needle`.
    pub async fn wait_text(&self, openid: &str, needle: &str) -> (String, String) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(found) = self
                .sent_to(openid)
                .into_iter()
                .find(|(_, t)| t.contains(needle))
            {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no message to {openid} containing {needle:?}: {:?}",
                self.sent_to(openid)
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
}

/// SHA-1 hex of the sorted, joined parts.
pub fn sign(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort();
    let digest = Sha1::digest(sorted.concat().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A text push from `openid`.
pub fn text_xml(openid: &str, msg_id: u64, text: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>\
         <CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>\
         <MsgId>{msg_id}</MsgId></xml>",
        chrono::Utc::now().timestamp()
    )
}

/// The safe mode's envelope of `inner`: AES-256-CBC, key from the EncodingAESKey, IV its first 16 bytes,
/// PKCS#7 to 32-byte blocks over 16 random bytes + length + message + app id.
pub fn encrypt(inner: &str) -> String {
    let key = base64::engine::general_purpose::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::general_purpose::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true),
    )
    .decode(format!("{AES_KEY}="))
    .unwrap();
    let mut plain = b"0123456789abcdef".to_vec();
    plain.extend((inner.len() as u32).to_be_bytes());
    plain.extend(inner.as_bytes());
    plain.extend(APP_ID.as_bytes());
    let pad = 32 - plain.len() % 32;
    plain.extend(std::iter::repeat_n(pad as u8, pad));
    let len = plain.len();
    let cipher = cbc::Encryptor::<aes::Aes256>::new(key[..].into(), key[..16].into())
        .encrypt_padded_mut::<NoPadding>(&mut plain, len)
        .unwrap()
        .to_vec();
    base64::engine::general_purpose::STANDARD.encode(cipher)
}

/// POSTs a push to the bot's `/wechat` with a right (or, with `token`, another) signature; the status and body.
pub async fn push(base: &str, xml: &str, token: &str, safe: bool) -> (u16, String) {
    let (timestamp, nonce) = (
        chrono::Utc::now().timestamp().to_string(),
        "nonce42".to_string(),
    );
    let signature = sign(&[token, &timestamp, &nonce]);
    let (body, extra) = if safe {
        let encrypted = encrypt(xml);
        let msg_signature = sign(&[token, &timestamp, &nonce, &encrypted]);
        (
            format!("<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"),
            format!("&encrypt_type=aes&msg_signature={msg_signature}"),
        )
    } else {
        (xml.to_string(), String::new())
    };
    let url = format!(
        "{base}/wechat?signature={signature}&timestamp={timestamp}&nonce={nonce}&openid=x{extra}"
    );
    let response = reqwest::Client::new()
        .post(url)
        .body(body)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}
