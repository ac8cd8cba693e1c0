//! The operator inbox socket and the JSON API against an in-test core: tokens, queue, actions as commands.

mod common;

use common::*;
use serde_json::json;
use supportbot_chat::CaseEventKind;

/// A GET with the operator token.
async fn as_operator(client: &reqwest::Client, url: String) -> reqwest::Response {
    client.get(url).bearer_auth(TOKEN).send().await.unwrap()
}

#[tokio::test]
async fn api_needs_the_operator_token() {
    let server = start(|_| {}).await;
    server
        .core
        .cases
        .lock()
        .unwrap()
        .push(FakeCore::summary("C-1001", "open"));
    let client = reqwest::Client::new();

    let r = client.get(server.http("/api/cases")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let r = client
        .get(server.http("/api/cases"))
        .bearer_auth("wrong-token-wrong-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .get(server.http("/api/cases/C-1001"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let list: serde_json::Value = as_operator(&client, server.http("/api/cases"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["id"], "C-1001");
    assert_eq!(list[0]["subject"], "<b>cannot send</b>");

    let detail: serde_json::Value = as_operator(&client, server.http("/api/cases/1001"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["id"], "C-1001");
    assert_eq!(detail["error_codes"], json!(["554 DT:SPM"]));
    assert_eq!(detail["suggestions"], json!(["mail-bounce-554"]));

    let r = as_operator(&client, server.http("/api/cases/C-9999")).await;
    assert_eq!(r.status(), 404);
    let r = as_operator(&client, server.http("/api/cases/DROP%20TABLE")).await;
    assert_eq!(r.status(), 400);

    server
        .core
        .cases
        .lock()
        .unwrap()
        .push(FakeCore::summary("C-1002", "closed"));
    let all: Vec<serde_json::Value> = as_operator(&client, server.http("/api/cases?closed=1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
}

#[tokio::test]
async fn health_and_pages_need_no_token_metrics_does() {
    let server = start(|_| {}).await;
    let health: serde_json::Value = reqwest::get(server.http("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let r = reqwest::get(server.http("/metrics")).await.unwrap();
    assert_eq!(r.status(), 401, "metrics without a token");
    let r = reqwest::Client::new()
        .get(server.http("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = r.text().await.unwrap();
    assert!(
        text.contains("supportbot_fake_total 7"),
        "core figures: {text}"
    );
    assert!(
        text.contains("# TYPE supportbot_web_chat_sockets gauge"),
        "{text}"
    );
    for (path, needle) in [
        ("/", "chat.js"),
        ("/inbox", "inbox.js"),
        ("/assets/chat.js", "textContent"),
    ] {
        let r = reqwest::get(server.http(path)).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let csp = r
            .headers()
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap().to_string());
        let body = r.text().await.unwrap();
        assert!(body.contains(needle), "{path}");
        if path != "/assets/chat.js" {
            assert!(csp.unwrap().contains("script-src 'self'"));
        }
    }
    assert_eq!(
        reqwest::get(server.http("/assets/../Cargo.toml"))
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn the_pages_never_put_text_into_markup() {
    // The scripts are served as they are in the source tree; none of them may use an HTML sink.
    for (name, js) in [
        ("chat.js", include_str!("../src/assets/chat.js")),
        ("inbox.js", include_str!("../src/assets/inbox.js")),
        ("common.js", include_str!("../src/assets/common.js")),
        (
            "inbox-canned.js",
            include_str!("../src/assets/inbox-canned.js"),
        ),
        ("inbox-feed.js", include_str!("../src/assets/inbox-feed.js")),
    ] {
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!js.contains(sink), "{name} uses {sink}");
        }
    }
}

#[tokio::test]
async fn inbox_socket_refuses_without_token() {
    let server = start(|_| {}).await;
    let err = connect_with(&server.ws_url("/inbox/ws"), &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let err = connect_with(
        &server.ws_url("/inbox/ws"),
        &[(
            "sec-websocket-protocol",
            "supportbot.inbox, bearer.nope-nope-nope",
        )],
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
}

#[tokio::test]
async fn inbox_follows_the_queue_and_sends_commands() {
    let server = start(|_| {}).await;
    server
        .core
        .cases
        .lock()
        .unwrap()
        .push(FakeCore::summary("C-1001", "open"));
    // A browser presents the token as a subprotocol.
    let proto = format!("supportbot.inbox, bearer.{TOKEN}");
    let mut inbox = connect_with(
        &server.ws_url("/inbox/ws"),
        &[("sec-websocket-protocol", proto.as_str())],
    )
    .await
    .unwrap();
    assert_eq!(
        next_json(&mut inbox).await,
        json!({"type": "ready", "operator": "web:admin", "name": "Inbox", "teams": []})
    );
    let queue = next_json(&mut inbox).await;
    assert_eq!(queue["type"], "queue");
    assert_eq!(queue["cases"][0]["id"], "C-1001");

    send(
        &mut inbox,
        json!({"type": "action", "action": "take", "case": "1001"}),
    )
    .await;
    let done = next_of(&mut inbox, "message").await;
    assert_eq!(done["text"], "done: /take C-1001");
    let inbound = server.core.inbound();
    assert_eq!(inbound[0].account(), "web:admin");
    assert_eq!(inbound[0].chat, "admin");

    send(
        &mut inbox,
        json!({"type": "action", "action": "reply", "case": "C-1001", "text": "<img src=x onerror=alert(1)>"}),
    )
    .await;
    assert_eq!(
        next_of(&mut inbox, "message").await["text"],
        "done: /reply C-1001 <img src=x onerror=alert(1)>"
    );
    send(&mut inbox, json!({"type": "command", "text": "/queue"})).await;
    assert_eq!(next_of(&mut inbox, "message").await["text"], "done: /queue");
    send(
        &mut inbox,
        json!({"type": "action", "action": "transfer", "case": "C-1001", "text": "x; /close C-1"}),
    )
    .await;
    assert_eq!(next_of(&mut inbox, "error").await["code"], "bad_action");

    // Live: an event comes through, then the refreshed queue.
    server.core.cases.lock().unwrap()[0].status = "assigned".into();
    server.core.event("C-1001", CaseEventKind::Assigned);
    let event = next_of(&mut inbox, "event").await;
    assert_eq!(event["event"]["case"], "C-1001");
    assert_eq!(event["event"]["kind"], "assigned");
    let queue = next_of(&mut inbox, "queue").await;
    assert_eq!(queue["cases"][0]["status"], "assigned");

    // A page opened later sees the recent notifications.
    let mut later = connect_with(
        &server.ws_url("/inbox/ws"),
        &[("authorization", &format!("Bearer {TOKEN}"))],
    )
    .await
    .unwrap();
    next_of(&mut later, "queue").await;
    let old = next_of(&mut later, "message").await;
    assert_eq!(old["history"], true);
    assert_eq!(old["text"], "done: /take C-1001");

    // Visitors never receive inbox traffic.
    let mut visitor = connect(&server.ws_url("/ws")).await;
    next_json(&mut visitor).await;
    server.core.event("C-1001", CaseEventKind::Note);
    next_of(&mut inbox, "event").await;
    assert!(tokio::time::timeout(
        std::time::Duration::from_millis(300),
        next_json(&mut visitor)
    )
    .await
    .is_err());
}
