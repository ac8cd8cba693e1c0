//! The chat WebSocket against an in-test core: session frames, answers, reconnect with history, limits.

mod common;

use common::*;
use serde_json::json;
use supportbot_chat::{Adapter, CaseEventKind, Delivery, Envelope, Outbound, SendError, SinkError};

#[tokio::test]
async fn ask_and_get_the_answer_with_buttons() {
    let server = start(|_| {}).await;
    let mut ws = connect(&server.ws_url("/ws")).await;
    let first = next_json(&mut ws).await;
    assert_eq!(first["type"], "session");
    let token = first["session"].as_str().unwrap().to_string();
    let (session_id, _) = token.split_once('.').unwrap();

    send(
        &mut ws,
        json!({"type": "message", "text": "how do I <script>alert(1)</script>", "id": "m1"}),
    )
    .await;
    assert_eq!(next_of(&mut ws, "ack").await["id"], "m1");
    let answer = next_of(&mut ws, "message").await;
    assert_eq!(answer["text"], "echo: how do I <script>alert(1)</script>");
    assert_eq!(answer["buttons"], json!(["Yes", "No"]));
    assert!(answer.get("case").is_none());

    let inbound = server.core.inbound();
    assert_eq!(inbound.len(), 1);
    assert_eq!(inbound[0].platform, "web");
    assert_eq!(inbound[0].chat, session_id);
    assert_eq!(inbound[0].user, session_id);
    assert!(inbound[0].mention && !inbound[0].group);

    send(&mut ws, json!({"type": "button", "value": "Yes"})).await;
    assert_eq!(next_of(&mut ws, "message").await["text"], "echo: Yes");
    assert_eq!(server.core.inbound()[1].text, "Yes");
}

#[tokio::test]
async fn reconnect_continues_the_session_with_its_history() {
    let server = start(|_| {}).await;
    let mut ws = connect(&server.ws_url("/ws")).await;
    let token = next_json(&mut ws).await["session"]
        .as_str()
        .unwrap()
        .to_string();
    send(
        &mut ws,
        json!({"type": "message", "text": "/human", "id": "h1"}),
    )
    .await;
    let opened = next_of(&mut ws, "message").await;
    assert_eq!(opened["case"], "C-1001");
    drop(ws);

    // A message delivered while the page is closed waits in the history.
    let chat = token.split_once('.').unwrap().0.to_string();
    deliver(&server.adapter, &chat, "Wang joined", &[], Some("C-1001")).await;

    let mut ws = connect(&server.ws_url(&format!("/ws?session={token}"))).await;
    let first = next_json(&mut ws).await;
    assert_eq!(first, json!({"type": "session", "session": token}));
    let h1 = next_json(&mut ws).await;
    assert_eq!(
        (
            h1["from"].as_str(),
            h1["text"].as_str(),
            h1["history"].as_bool()
        ),
        (Some("user"), Some("/human"), Some(true))
    );
    let h2 = next_json(&mut ws).await;
    assert_eq!(
        (h2["text"].as_str(), h2["case"].as_str()),
        (Some("Case C-1001 opened"), Some("C-1001"))
    );
    let h3 = next_json(&mut ws).await;
    assert_eq!(h3["text"], "Wang joined");

    // The same client id again is the same message: the core sees it once.
    send(
        &mut ws,
        json!({"type": "message", "text": "/human", "id": "h1"}),
    )
    .await;
    assert_eq!(next_of(&mut ws, "ack").await["id"], "h1");
    assert_eq!(server.core.inbound().len(), 1);

    // Sessions survive a restart of the channel (same data directory, new process state).
    server.shutdown.cancel();
    server.task.await.unwrap().unwrap();
    let again = start_in(server.dir.clone(), |_| {}).await;
    let mut ws = connect(&again.ws_url(&format!("/ws?session={token}"))).await;
    assert_eq!(next_json(&mut ws).await["session"], token.as_str());
    assert_eq!(next_json(&mut ws).await["text"], "/human");
}

#[tokio::test]
async fn forged_or_unknown_session_tokens_start_a_new_session() {
    let server = start(|_| {}).await;
    let mut ws = connect(&server.ws_url("/ws")).await;
    let token = next_json(&mut ws).await["session"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, sig) = token.split_once('.').unwrap();
    let forged = format!("{}.{sig}", "a".repeat(32));
    let mut ws2 = connect(&server.ws_url(&format!("/ws?session={forged}"))).await;
    let fresh = next_json(&mut ws2).await["session"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(fresh, forged);
    assert_ne!(fresh, token);
}

#[tokio::test]
async fn status_frame_tells_the_place_in_the_queue() {
    let server = start(|_| {}).await;
    server.core.cases.lock().unwrap().extend([
        FakeCore::summary("C-1000", "open"),
        FakeCore::summary("C-1001", "open"),
    ]);
    let mut ws = connect(&server.ws_url("/ws")).await;
    next_json(&mut ws).await;
    send(&mut ws, json!({"type": "message", "text": "/human"})).await;
    let status = next_of(&mut ws, "status").await;
    assert_eq!(
        status,
        json!({"type": "status", "case": "C-1001", "status": "open", "position": 2})
    );

    server
        .core
        .cases
        .lock()
        .unwrap()
        .retain(|c| c.id != "C-1000");
    server.core.event("C-1000", CaseEventKind::Closed);
    assert_eq!(next_of(&mut ws, "status").await["position"], 1);

    server.core.cases.lock().unwrap()[0].status = "assigned".into();
    server.core.event("C-1001", CaseEventKind::Assigned);
    let status = next_of(&mut ws, "status").await;
    assert_eq!(
        status,
        json!({"type": "status", "case": "C-1001", "status": "assigned"})
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_answer() {
    let server = start(|s| {
        s.max_text_chars = 10;
        s.messages_per_minute = 1;
        s.burst = 3;
    })
    .await;
    let mut ws = connect(&server.ws_url("/ws?lang=zh")).await;
    next_json(&mut ws).await;

    send(&mut ws, json!({"type": "message", "text": "x".repeat(11)})).await;
    let e = next_of(&mut ws, "error").await;
    assert_eq!(e["code"], "too_long");
    assert!(e["text"].as_str().unwrap().contains("太长"));

    ws.send_text("{not json").await;
    assert_eq!(next_of(&mut ws, "error").await["code"], "bad_frame");
    send(&mut ws, json!({"type": "message", "text": "   "})).await;
    assert_eq!(next_of(&mut ws, "error").await["code"], "empty");

    for i in 0..3 {
        send(&mut ws, json!({"type": "message", "text": format!("q{i}")})).await;
        assert_eq!(
            next_of(&mut ws, "message").await["text"],
            format!("echo: q{i}")
        );
    }
    send(&mut ws, json!({"type": "message", "text": "q4"})).await;
    let e = next_of(&mut ws, "error").await;
    assert_eq!(e["code"], "rate_limited");
    assert_eq!(server.core.inbound().len(), 3);

    // A core that cannot store the message: the page is told, nothing is recorded.
    *server.core.reject_next.lock().unwrap() = Some(SinkError::Storage("disk full".into()));
    let mut ws2 = connect(&server.ws_url("/ws")).await;
    next_json(&mut ws2).await;
    send(&mut ws2, json!({"type": "message", "text": "hello"})).await;
    assert_eq!(next_of(&mut ws2, "error").await["code"], "unavailable");
    let metrics = reqwest::Client::new()
        .get(server.http("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("supportbot_web_rate_limited_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn frames_over_the_hard_cap_close_the_socket() {
    let server = start(|_| {}).await;
    let mut ws = connect(&server.ws_url("/ws")).await;
    next_json(&mut ws).await;
    // Over the polite limit: a clear error, socket stays open.
    send(
        &mut ws,
        json!({"type": "message", "text": "y".repeat(70 * 1024)}),
    )
    .await;
    assert_eq!(next_of(&mut ws, "error").await["code"], "too_long");
    // Over the hard cap: the server closes with 1009.
    send(
        &mut ws,
        json!({"type": "message", "text": "z".repeat(2 * 1024 * 1024)}),
    )
    .await;
    let closed = loop {
        match tokio::time::timeout(
            std::time::Duration::from_secs(5),
            futures_util::StreamExt::next(&mut ws),
        )
        .await
        {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame)))) => {
                break frame.map(|f| u16::from(f.code))
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_))) | Ok(None) => break None,
            Err(_) => panic!("socket not closed"),
        }
    };
    if let Some(code) = closed {
        assert_eq!(code, 1009);
    }
    assert!(server.core.inbound().is_empty());
}

#[tokio::test]
async fn foreign_origins_are_refused() {
    let server = start(|s| s.allowed_origins = vec!["https://shop.example".into()]).await;
    let err = connect_with(&server.ws_url("/ws"), &[("origin", "https://evil.example")])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    let own = format!("http://{}", server.addr);
    assert!(
        connect_with(&server.ws_url("/ws"), &[("origin", own.as_str())])
            .await
            .is_ok()
    );
    assert!(
        connect_with(&server.ws_url("/ws"), &[("origin", "https://shop.example")])
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn deliver_classifies_destinations() {
    let server = start(|_| {}).await;
    let out = |chat: &str| Envelope {
        id: "x".into(),
        destination: "web".into(),
        order_key: "k".into(),
        delivery: Delivery::Message(Outbound {
            platform: "web".into(),
            chat: chat.into(),
            text: "t".into(),
            buttons: vec![],
            reply_to: None,
            case: None,
        }),
    };
    assert_eq!(server.adapter.name(), "web");
    assert!(matches!(
        server.adapter.deliver(&out("../../etc")).await,
        Err(SendError::Permanent(_))
    ));
    assert!(server.adapter.deliver(&out(&"b".repeat(32))).await.is_ok());
}

#[tokio::test]
async fn shutdown_closes_sockets_with_going_away() {
    let server = start(|_| {}).await;
    let mut ws = connect(&server.ws_url("/ws")).await;
    next_json(&mut ws).await;
    server.shutdown.cancel();
    let code = loop {
        match futures_util::StreamExt::next(&mut ws).await {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => {
                break frame.map(|f| u16::from(f.code))
            }
            Some(Ok(_)) => continue,
            _ => break None,
        }
    };
    assert_eq!(code, Some(1001));
    tokio::time::timeout(std::time::Duration::from_secs(5), server.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

trait SendText {
    async fn send_text(&mut self, text: &str);
}

impl SendText for Ws {
    async fn send_text(&mut self, text: &str) {
        futures_util::SinkExt::send(
            self,
            tokio_tungstenite::tungstenite::Message::Text(text.to_string().into()),
        )
        .await
        .unwrap();
    }
}
