//! The inbox's working tools over HTTP on port 0: canned replies (read on every request; a broken file is reported
//! with its line), search (filters, a bad date refused), a case's FAQ answers in the user's language, and the
//! stats page (operators only, with a content security policy), and closing with the FAQ entry that answered.

mod common;

use common::*;
use serde_json::Value;

async fn get(server: &Server, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(server.http(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn canned_search_answers_and_stats() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let canned = dir.path().join("canned.toml");
    let path = canned.clone();
    let server = start_in(dir.clone(), move |s| s.canned_path = Some(path)).await;

    // No file yet: no replies. A good file is served as written; a broken one is reported with its line.
    let empty: Value = get(&server, "/api/canned", Some(TOKEN))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(empty["replies"], serde_json::json!([]));
    std::fs::write(
        &canned,
        "[[reply]]\nid = \"hi\"\ntitle = \"Greeting\"\nen = \"Hello {user}, about {case}\"\n",
    )
    .unwrap();
    let good: Value = get(&server, "/api/canned", Some(TOKEN))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(good["replies"][0]["en"], "Hello {user}, about {case}");
    std::fs::write(
        &canned,
        "[[reply]]\nid = \"hi\"\ntitle = \"G\"\nen = \"Hi {nme}\"\n",
    )
    .unwrap();
    let broken = get(&server, "/api/canned", Some(TOKEN)).await;
    assert_eq!(broken.status(), 500);
    let broken: Value = broken.json().await.unwrap();
    assert_eq!(broken["error"], "canned_file");
    let message = broken["message"].as_str().unwrap();
    assert!(
        message.contains("canned.toml:2:") && message.contains("{nme}"),
        "{message}"
    );
    assert_eq!(get(&server, "/api/canned", None).await.status(), 401);

    // Search finds cases from the index the case feed keeps.
    server
        .core
        .cases
        .lock()
        .unwrap()
        .push(FakeCore::summary("C-1001", "closed"));
    server
        .core
        .event("C-1001", supportbot_chat::CaseEventKind::Closed);
    let mut found = Value::Null;
    for _ in 0..50 {
        found = get(&server, "/api/search?q=DT:SPM%20status:closed", Some(TOKEN))
            .await
            .json()
            .await
            .unwrap();
        if found["cases"].as_array().is_some_and(|c| !c.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found["cases"][0]["id"], "C-1001");
    let none: Value = get(&server, "/api/search?q=status:open", Some(TOKEN))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["cases"], serde_json::json!([]));
    let bad = get(&server, "/api/search?q=from:someday", Some(TOKEN)).await;
    assert_eq!(bad.status(), 400);
    assert_eq!(get(&server, "/api/search?q=x", None).await.status(), 401);

    // The case carries its suggestions' answers in the user's language.
    let case: Value = get(&server, "/api/cases/C-1001", Some(TOKEN))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case["suggested_answers"][0]["faq"], "mail-bounce-554");
    assert_eq!(case["suggested_answers"][0]["answer"], "Check the content.");
    assert_eq!(case["earlier_cases"], serde_json::json!([]));

    // Closing with the entry that answered teaches it, for the operator who closes; a bad entry is refused.
    let proto = format!("supportbot.inbox, bearer.{TOKEN}");
    let mut inbox = connect_with(
        &server.ws_url("/inbox/ws"),
        &[("sec-websocket-protocol", proto.as_str())],
    )
    .await
    .unwrap();
    let close = |faq: &str| serde_json::json!({"type": "action", "action": "close", "case": "1001", "faq": faq});
    send(&mut inbox, close("mail-bounce-554")).await;
    loop {
        let frame = next_json(&mut inbox).await;
        if frame["type"] == "message" && frame["text"].as_str().unwrap().starts_with("taught") {
            assert_eq!(
                frame["text"],
                "taught C-1001 to mail-bounce-554 for web:admin"
            );
            break;
        }
    }
    send(&mut inbox, close("nope")).await;
    let refused = next_of(&mut inbox, "error").await;
    assert_eq!(refused["code"], "not_taught");
    assert_eq!(refused["text"], "unknown entry nope");
    // "none" closes without teaching.
    send(&mut inbox, close("none")).await;
    send(&mut inbox, serde_json::json!({"type": "ping"})).await;
    loop {
        let frame = next_json(&mut inbox).await;
        assert_ne!(frame["type"], "error", "{frame}");
        if frame["type"] == "pong" {
            break;
        }
    }
    assert_eq!(
        server
            .core
            .inbound()
            .iter()
            .filter(|m| m.text == "/close C-1001")
            .count(),
        3
    );

    // The dashboard: operators only, locked down.
    assert_eq!(get(&server, "/inbox/stats", None).await.status(), 401);
    let page = get(&server, "/inbox/stats", Some(TOKEN)).await;
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    server.shutdown.cancel();
}
