//! The operator's typing indicator, real engine and web channel on port 0: typing in a case the inbox operator
//! holds reaches that case's web chat as `{"type":"typing","name":…}`; typing in a case nobody holds reaches
//! nobody; `[web] typing_indicator = false` turns it off.
#![cfg(feature = "web")]

mod web_support;

use serde_json::{json, Value};
use web_support::*;

/// The frames `ws` gets up to and including the first message containing `marker`.
async fn frames_until(ws: &mut Ws, marker: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let frame = next_json(ws).await;
        let done = frame["type"] == "message"
            && frame["text"].as_str().is_some_and(|t| t.contains(marker));
        seen.push(frame);
        if done {
            return seen;
        }
    }
}

fn typing_frames(frames: &[Value]) -> Vec<&Value> {
    frames.iter().filter(|f| f["type"] == "typing").collect()
}

async fn act(inbox: &mut Ws, action: &str, case: &str, text: &str) {
    send(
        inbox,
        json!({"type": "action", "action": action, "case": case, "text": text}),
    )
    .await;
}

#[tokio::test]
async fn the_user_sees_the_holder_typing_and_nothing_else() {
    let stack = Stack::start().await;
    let mut inbox = stack.inbox().await;
    let (mut held_user, _) = stack.chat().await;
    let held = open_case(&mut held_user).await;
    let (mut other_user, _) = stack.chat().await;
    let other = open_case(&mut other_user).await;

    act(&mut inbox, "take", &held, "").await;
    next_where(&mut held_user, "status", |s| s["status"] == "assigned").await;
    // Nobody holds `other`: typing in it goes nowhere.
    send(&mut inbox, json!({"type": "typing", "case": other})).await;
    send(&mut inbox, json!({"type": "typing", "case": held})).await;
    let typing = next_of(&mut held_user, "typing").await;
    assert_eq!(typing, json!({"type": "typing", "name": typing["name"]}));
    assert!(!typing["name"].as_str().unwrap().is_empty(), "{typing}");

    act(&mut inbox, "take", &other, "").await;
    act(&mut inbox, "reply", &other, "marker-one").await;
    let frames = frames_until(&mut other_user, "marker-one").await;
    assert!(typing_frames(&frames).is_empty(), "{frames:?}");
    // One typing frame, one indicator: nothing more arrives with the next reply.
    act(&mut inbox, "reply", &held, "marker-two").await;
    let frames = frames_until(&mut held_user, "marker-two").await;
    assert!(typing_frames(&frames).is_empty(), "{frames:?}");
}

#[tokio::test]
async fn typing_indicator_off_sends_nothing() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    // CONFIG ends in its [web] section.
    let config = format!("{CONFIG}typing_indicator = false\n");
    let stack = Stack::start_in(dir, &config).await;
    let mut inbox = stack.inbox().await;
    let (mut user, _) = stack.chat().await;
    let case = open_case(&mut user).await;
    act(&mut inbox, "take", &case, "").await;
    next_where(&mut user, "status", |s| s["status"] == "assigned").await;
    send(&mut inbox, json!({"type": "typing", "case": case})).await;
    act(&mut inbox, "reply", &case, "marker").await;
    let frames = frames_until(&mut user, "marker").await;
    assert!(typing_frames(&frames).is_empty(), "{frames:?}");
}
