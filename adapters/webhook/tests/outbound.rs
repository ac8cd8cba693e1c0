//! The callback adapter and the forwarder against a scripted receiver on loopback: what they send (body,
//! signature, idempotency key) and how they classify each answer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use supportbot_chat::{Adapter, CaseEvent, CaseEventKind, Delivery, Envelope, Outbound, SendError};
use supportbot_webhook::{
    signature, verify, CallbackAdapter, ForwardFormat, ForwardTarget, Forwarder, Secret,
};

/// One scripted answer of the receiver.
#[derive(Clone)]
enum Answer {
    Status(u16),
    RetryAfter(&'static str),
    Hang(Duration),
}

#[derive(Default)]
struct Receiver {
    script: Mutex<VecDeque<Answer>>,
    seen: Mutex<Vec<(HeaderMap, Bytes)>>,
}

async fn handle(State(rx): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    rx.seen.lock().unwrap().push((headers, body));
    let answer = rx
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Answer::Status(200));
    match answer {
        Answer::Status(code) => StatusCode::from_u16(code).unwrap().into_response(),
        Answer::RetryAfter(value) => {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", value)]).into_response()
        }
        Answer::Hang(d) => {
            tokio::time::sleep(d).await;
            StatusCode::OK.into_response()
        }
    }
}

async fn receiver(script: Vec<Answer>) -> (String, Arc<Receiver>) {
    let rx = Arc::new(Receiver {
        script: Mutex::new(script.into()),
        seen: Mutex::default(),
    });
    let app = Router::new()
        .route("/hook", post(handle))
        .with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

fn message_envelope(id: &str, text: &str) -> Envelope {
    Envelope {
        id: id.into(),
        destination: "forum".into(),
        order_key: "forum:u1".into(),
        delivery: Delivery::Message(Outbound {
            platform: "forum".into(),
            chat: "u1".into(),
            text: text.into(),
            buttons: vec!["是".into(), "否".into()],
            reply_to: Some("m1".into()),
            case: Some("C-1001".into()),
        }),
    }
}

fn event_envelope(id: &str, kind: CaseEventKind, text: &str) -> Envelope {
    Envelope {
        id: id.into(),
        destination: "forward:desk".into(),
        order_key: "C-1001".into(),
        delivery: Delivery::Event(CaseEvent {
            case: "C-1001".into(),
            kind,
            at: chrono::DateTime::parse_from_rfc3339("2026-11-25T10:00:00+08:00").unwrap(),
            actor: "forum:u1".into(),
            actor_name: "Han".into(),
            text: text.into(),
            attachments: vec![],
        }),
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn replies_are_signed_json_with_an_idempotency_key() {
    let (url, rx) = receiver(vec![]).await;
    let secret = Secret::new("cb-secret");
    let adapter =
        CallbackAdapter::new("forum", url, secret.clone(), Duration::from_secs(5)).unwrap();
    assert_eq!(adapter.name(), "forum");
    adapter
        .deliver(&message_envelope("out-1", "您好 <b>"))
        .await
        .unwrap();
    let seen = rx.seen.lock().unwrap();
    let (headers, body) = &seen[0];
    assert_eq!(header(headers, "idempotency-key"), Some("out-1"));
    assert_eq!(header(headers, "content-type"), Some("application/json"));
    verify(
        &secret,
        header(headers, "x-supportbot-timestamp"),
        header(headers, "x-supportbot-signature"),
        body,
        signature::now_unix(),
    )
    .expect("the receiver can verify the signature");
    let json: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"platform": "forum", "chat": "u1", "text": "您好 <b>", "buttons": ["是", "否"],
                           "reply_to": "m1", "case": "C-1001"})
    );
}

#[tokio::test]
async fn each_failure_is_classified_for_the_outbox() {
    let script = vec![
        Answer::Status(500),
        Answer::RetryAfter("2"),
        Answer::Hang(Duration::from_secs(3)),
        Answer::Status(404),
        Answer::Status(204),
    ];
    let (url, rx) = receiver(script).await;
    let adapter =
        CallbackAdapter::new("forum", url, Secret::new("s"), Duration::from_millis(500)).unwrap();
    let env = message_envelope("out-1", "hi");
    assert!(
        matches!(adapter.deliver(&env).await, Err(SendError::Transient(t)) if t.contains("500"))
    );
    assert!(
        matches!(adapter.deliver(&env).await, Err(SendError::RetryAfter(d)) if d == Duration::from_secs(2))
    );
    assert!(
        matches!(adapter.deliver(&env).await, Err(SendError::Transient(t)) if t.contains("timed out"))
    );
    assert!(
        matches!(adapter.deliver(&env).await, Err(SendError::Permanent(t)) if t.contains("404"))
    );
    adapter.deliver(&env).await.unwrap();
    // Every attempt carried the same idempotency key.
    let seen = rx.seen.lock().unwrap();
    assert_eq!(seen.len(), 5);
    assert!(seen
        .iter()
        .all(|(h, _)| header(h, "idempotency-key") == Some("out-1")));
}

#[tokio::test]
async fn an_unreachable_receiver_is_transient() {
    // Bind then drop: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let adapter =
        CallbackAdapter::new("forum", url, Secret::new("s"), Duration::from_secs(2)).unwrap();
    assert!(matches!(
        adapter.deliver(&message_envelope("x", "hi")).await,
        Err(SendError::Transient(_))
    ));
    // A case event is not something a chat channel can deliver.
    let err = adapter
        .deliver(&event_envelope("e", CaseEventKind::Opened, ""))
        .await;
    assert!(matches!(err, Err(SendError::Permanent(_))));
}

#[tokio::test]
async fn forwarders_post_signed_json_or_slack_text() {
    let (url, rx) = receiver(vec![]).await;
    let secret = Secret::new("desk-secret");
    let json_target = ForwardTarget {
        name: "desk".into(),
        url: url.clone(),
        secret: Some(secret.clone()),
        format: ForwardFormat::Json,
        events: vec![],
    };
    let slack_target = ForwardTarget {
        name: "slack".into(),
        url,
        secret: Some(Secret::new("unused")),
        format: ForwardFormat::Slack,
        events: vec![CaseEventKind::Opened],
    };
    let desk = Forwarder::new(json_target, Duration::from_secs(5)).unwrap();
    let slack = Forwarder::new(slack_target, Duration::from_secs(5)).unwrap();
    assert_eq!(
        (desk.name(), slack.name()),
        ("forward:desk", "forward:slack")
    );
    desk.deliver(&event_envelope("ev-1", CaseEventKind::Opened, "554 & <x>"))
        .await
        .unwrap();
    slack
        .deliver(&event_envelope("ev-1", CaseEventKind::Opened, "554 & <x>"))
        .await
        .unwrap();
    // Filtered out: succeeds without a request.
    slack
        .deliver(&event_envelope("ev-2", CaseEventKind::Note, "internal"))
        .await
        .unwrap();

    let seen = rx.seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    let (h, body) = &seen[0];
    verify(
        &secret,
        header(h, "x-supportbot-timestamp"),
        header(h, "x-supportbot-signature"),
        body,
        signature::now_unix(),
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(
        (
            json["id"].as_str(),
            json["kind"].as_str(),
            json["text"].as_str()
        ),
        (Some("ev-1"), Some("opened"), Some("554 & <x>"))
    );
    let (h, body) = &seen[1];
    assert!(h.get("x-supportbot-signature").is_none());
    assert_eq!(header(h, "idempotency-key"), Some("ev-1"));
    let json: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"text": "*C-1001* opened by Han\n&gt; 554 &amp; &lt;x&gt;"})
    );
}
