//! A Japanese browser on the chat WebSocket: its language reaches the core as the locale hint, and the
//! channel's own refusals are in Japanese.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn a_japanese_page_passes_its_locale_and_gets_japanese_refusals() {
    let server = start(|s| s.max_text_chars = 10).await;
    let mut ws = connect(&server.ws_url("/ws?lang=ja")).await;
    assert_eq!(next_json(&mut ws).await["type"], "session");

    send(
        &mut ws,
        json!({"type": "message", "text": "こんにちは", "id": "m1"}),
    )
    .await;
    assert_eq!(next_of(&mut ws, "ack").await["id"], "m1");
    let inbound = server.core.inbound();
    assert_eq!(inbound[0].locale.as_deref(), Some("ja"));

    send(&mut ws, json!({"type": "message", "text": "あ".repeat(11)})).await;
    let e = next_of(&mut ws, "error").await;
    assert_eq!(e["code"], "too_long");
    assert!(
        e["text"]
            .as_str()
            .unwrap()
            .contains("メッセージが長すぎます"),
        "{e}"
    );
    assert_eq!(
        server.core.inbound().len(),
        1,
        "the refused message is not passed on"
    );
}
