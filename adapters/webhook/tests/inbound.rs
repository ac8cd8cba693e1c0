//! The inbound router served on loopback, driven over HTTP, with a recording in-test sink.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use supportbot_chat::{Accepted, Inbound, InboundSink, SinkError};
use supportbot_webhook::{router_with_limit, sign, InboundChannel, Secret};

/// Stores messages in memory; a message id seen before is a duplicate; `fail` simulates a broken store.
#[derive(Default)]
struct MemorySink {
    stored: Mutex<Vec<Inbound>>,
    fail: Mutex<Option<SinkError>>,
}

#[async_trait]
impl InboundSink for MemorySink {
    async fn accept(&self, message: Inbound) -> Result<Accepted, SinkError> {
        if let Some(err) = self.fail.lock().unwrap().take() {
            return Err(err);
        }
        let mut stored = self.stored.lock().unwrap();
        if stored
            .iter()
            .any(|m| m.platform == message.platform && m.id == message.id)
        {
            return Ok(Accepted::Duplicate);
        }
        stored.push(message);
        Ok(Accepted::New)
    }
}

struct Server {
    base: String,
    sink: Arc<MemorySink>,
    client: reqwest::Client,
}

const SECRET: &str = "forum-secret";

async fn start() -> Server {
    let sink = Arc::new(MemorySink::default());
    let channels = vec![
        InboundChannel {
            name: "forum".into(),
            secret: Secret::new(SECRET),
        },
        InboundChannel {
            name: "app".into(),
            secret: Secret::new("app-secret"),
        },
    ];
    let app = router_with_limit(channels, sink.clone(), 4096);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        sink,
        client: reqwest::Client::new(),
    }
}

fn now() -> i64 {
    supportbot_webhook::signature::now_unix()
}

fn event(id: &str, text: &str) -> String {
    serde_json::json!({"platform": "forum", "chat": "u1", "user": "u1", "name": "Han Meimei", "id": id, "text": text})
        .to_string()
}

impl Server {
    async fn post(
        &self,
        channel: &str,
        body: &str,
        secret: &str,
        ts: i64,
    ) -> (u16, serde_json::Value) {
        let ts = ts.to_string();
        let sig = sign(&Secret::new(secret), &ts, body.as_bytes());
        self.post_raw(channel, body, Some(&ts), Some(&sig)).await
    }

    async fn post_raw(
        &self,
        channel: &str,
        body: &str,
        ts: Option<&str>,
        sig: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .client
            .post(format!("{}/webhook/{channel}", self.base))
            .body(body.to_string());
        if let Some(ts) = ts {
            req = req.header("X-Supportbot-Timestamp", ts);
        }
        if let Some(sig) = sig {
            req = req.header("X-Supportbot-Signature", sig);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let json = resp.json().await.unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    fn stored_ids(&self) -> Vec<String> {
        self.sink
            .stored
            .lock()
            .unwrap()
            .iter()
            .map(|m| m.id.clone())
            .collect()
    }
}

#[tokio::test]
async fn a_signed_event_is_stored_once() {
    let s = start().await;
    let body = event("m1", "邮件发不出去 554");
    assert_eq!(
        s.post("forum", &body, SECRET, now()).await,
        (200, serde_json::json!({"status": "accepted"}))
    );
    assert_eq!(
        s.post("forum", &body, SECRET, now()).await,
        (200, serde_json::json!({"status": "duplicate"}))
    );
    let stored = s.sink.stored.lock().unwrap().clone();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].text, "邮件发不出去 554");
    assert_eq!(stored[0].account(), "forum:u1");
}

#[tokio::test]
async fn bad_signatures_and_stale_timestamps_store_nothing() {
    let s = start().await;
    let body = event("m1", "hi");
    // Wrong secret, another channel's secret, a stale and a future timestamp.
    for (secret, ts) in [
        ("wrong", now()),
        ("app-secret", now()),
        (SECRET, now() - 301),
        (SECRET, now() + 301),
    ] {
        let (status, json) = s.post("forum", &body, secret, ts).await;
        assert_eq!(status, 401, "{secret} {ts}: {json}");
        assert!(json["error"].is_string());
    }
    // Signed body, then tampered with.
    let ts = now().to_string();
    let sig = sign(&Secret::new(SECRET), &ts, body.as_bytes());
    let tampered = body.replace("hi", "ho");
    assert_eq!(
        s.post_raw("forum", &tampered, Some(&ts), Some(&sig))
            .await
            .0,
        401
    );
    assert_eq!(s.post_raw("forum", &body, None, Some(&sig)).await.0, 401);
    assert_eq!(s.post_raw("forum", &body, Some(&ts), None).await.0, 401);
    assert!(s.stored_ids().is_empty());
    // A timestamp within the window is fine.
    assert_eq!(s.post("forum", &body, SECRET, now() - 250).await.0, 200);
    assert_eq!(s.stored_ids(), ["m1"]);
}

#[tokio::test]
async fn malformed_events_get_400_with_the_reason() {
    let s = start().await;
    let (status, json) = s
        .post("forum", "{\"platform\": \"forum\", ", SECRET, now())
        .await;
    assert_eq!(status, 400);
    assert!(json["error"].as_str().unwrap().contains("EOF"), "{json}");
    let (status, json) = s
        .post(
            "forum",
            r#"{"platform":"forum","chat":"1","user":"1"}"#,
            SECRET,
            now(),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        json["error"]
            .as_str()
            .unwrap()
            .contains("missing field `id`"),
        "{json}"
    );
    let (status, json) = s
        .post(
            "forum",
            r#"{"platform":"forum","chat":"1","user":"1","id":"x","txt":"a"}"#,
            SECRET,
            now(),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        json["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `txt`"),
        "{json}"
    );
    // Signed correctly for its own channel, but claiming to be another platform.
    let spoof = event("m2", "hi").replace("\"forum\"", "\"telegram\"");
    let (status, json) = s.post("forum", &spoof, SECRET, now()).await;
    assert_eq!(status, 400);
    assert!(
        json["error"].as_str().unwrap().contains("platform must be"),
        "{json}"
    );
    assert!(s.stored_ids().is_empty());
}

#[tokio::test]
async fn oversized_bodies_get_413_and_unknown_channels_404() {
    let s = start().await;
    let big = event("m1", &"x".repeat(5000));
    let (status, _) = s.post("forum", &big, SECRET, now()).await;
    assert_eq!(status, 413);
    let (status, _) = s.post("nochannel", &event("m1", "hi"), SECRET, now()).await;
    assert_eq!(status, 404);
    assert!(s.stored_ids().is_empty());
}

#[tokio::test]
async fn sink_failures_are_not_acknowledged() {
    let s = start().await;
    *s.sink.fail.lock().unwrap() = Some(SinkError::Storage("disk full".into()));
    let body = event("m1", "hi");
    let (status, json) = s.post("forum", &body, SECRET, now()).await;
    assert_eq!(status, 503, "{json}");
    *s.sink.fail.lock().unwrap() = Some(SinkError::Rejected("text too long".into()));
    let (status, json) = s.post("forum", &body, SECRET, now()).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (400, Some("text too long"))
    );
    // The sender retries after the failure and it goes through.
    assert_eq!(s.post("forum", &body, SECRET, now()).await.0, 200);
    assert_eq!(s.stored_ids(), ["m1"]);
}
