//! The web channel end to end with the real engine (sled in a temporary directory): ask → answer, handoff →
//! case, an operator answering from the inbox socket, reconnects and restarts keeping the conversation.
#![cfg(feature = "web")]

mod web_support;

use serde_json::json;
use web_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_gets_the_faq_answer() {
    let stack = Stack::start().await;
    let (mut ws, _) = stack.chat().await;
    send(
        &mut ws,
        json!({"type": "message", "text": "my mail bounced with 554 DT:SPM", "id": "q1"}),
    )
    .await;
    assert_eq!(next_of(&mut ws, "ack").await["id"], "q1");
    let answer = next_of(&mut ws, "message").await;
    assert!(
        answer["text"].as_str().unwrap().contains("smtp"),
        "{answer}"
    );
    assert_eq!(answer["buttons"], json!(["Yes, thanks", "No"]));
    assert_eq!(
        answer["reply_to"], "q1",
        "the page learns which message was answered"
    );
    assert!(answer.get("case").is_none());

    send(&mut ws, json!({"type": "button", "value": "Yes, thanks"})).await;
    let thanks = next_of(&mut ws, "message").await;
    assert!(!thanks["text"].as_str().unwrap().is_empty());

    let metrics = reqwest::Client::new()
        .get(stack.http("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("supportbot_messages_in_total{platform=\"web\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("supportbot_web_messages_in_total 2"),
        "{metrics}"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handoff_then_the_inbox_operator_answers_the_user() {
    let stack = Stack::start().await;
    let mut inbox = stack.inbox().await;
    assert_eq!(next_json(&mut inbox).await["operator"], "web:admin");
    assert_eq!(next_of(&mut inbox, "queue").await["cases"], json!([]));

    let (mut user, _) = stack.chat().await;
    send(
        &mut user,
        json!({"type": "message", "text": "I cannot log in, it says <script>alert(1)</script>"}),
    )
    .await;
    next_of(&mut user, "message").await;
    let case = open_case(&mut user).await;
    assert!(case.starts_with("C-"), "{case}");
    let status = next_of(&mut user, "status").await;
    assert_eq!(
        status,
        json!({"type": "status", "case": case, "status": "open", "position": 1})
    );

    // The inbox sees the case arrive, and the API serves it.
    let queue = next_where(&mut inbox, "queue", |q| {
        !q["cases"].as_array().unwrap().is_empty()
    })
    .await;
    assert_eq!(queue["cases"][0]["id"], case.as_str());
    assert_eq!(queue["cases"][0]["channel"], "web");
    let detail: serde_json::Value = stack
        .api(&format!("/api/cases/{case}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["status"], "open");
    let transcript = detail["transcript"].to_string();
    assert!(
        transcript.contains("<script>alert(1)</script>"),
        "raw text kept as data: {transcript}"
    );

    // Take, then reply from the inbox: the user gets both, the assigned status follows.
    send(
        &mut inbox,
        json!({"type": "action", "action": "take", "case": case}),
    )
    .await;
    let (joined, assigned) = both(
        &mut user,
        |m| m["type"] == "message" && m["case"] == case.as_str(),
        |s| s["type"] == "status" && s["status"] == "assigned",
    )
    .await;
    assert!(joined["text"].as_str().unwrap().contains(&case));
    assert!(assigned.get("position").is_none());

    send(
        &mut inbox,
        json!({"type": "action", "action": "reply", "case": case, "text": "Hi, <b>Wang</b> here"}),
    )
    .await;
    let reply = next_where(&mut user, "message", |m| {
        m["text"].as_str().unwrap().contains("<b>Wang</b>")
    })
    .await;
    assert_eq!(reply["case"], case.as_str());

    // The user's answer is relayed to the inbox operator.
    send(
        &mut user,
        json!({"type": "message", "text": "thanks, still broken"}),
    )
    .await;
    let relayed = next_where(&mut inbox, "message", |m| {
        m["text"].as_str().unwrap().contains("still broken")
    })
    .await;
    assert_eq!(relayed["case"], case.as_str());

    // Close from the inbox: the user is asked for a rating, the case leaves the queue.
    send(
        &mut inbox,
        json!({"type": "action", "action": "close", "case": case, "text": "fixed"}),
    )
    .await;
    let (rating, _closed) = both(
        &mut user,
        |m| m["type"] == "message" && m["buttons"].as_array().is_some_and(|b| b.len() == 5),
        |s| s["type"] == "status" && s["status"] == "closed",
    )
    .await;
    assert_eq!(rating["case"], case.as_str());
    let open: Vec<serde_json::Value> = stack.api("/api/cases").await.json().await.unwrap();
    assert!(open.is_empty(), "{open:?}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_and_restarting_keep_the_conversation() {
    let stack = Stack::start().await;
    let (mut ws, token) = stack.chat().await;
    let case = open_case(&mut ws).await;
    drop(ws);

    let mut ws = connect(&stack.ws(&format!("/ws?session={token}"))).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "session", "session": token})
    );
    // The history comes back, the user's own messages marked as theirs.
    let mut replayed = Vec::new();
    loop {
        let frame = next_json(&mut ws).await;
        if frame["type"] != "message" {
            break;
        }
        assert_eq!(frame["history"], true);
        replayed.push(frame);
        if replayed.last().unwrap().get("case").is_some() {
            break;
        }
    }
    assert_eq!(replayed[0]["from"], "user");
    assert_eq!(replayed[0]["text"], "/human");
    assert_eq!(replayed.last().unwrap()["case"], case.as_str());

    // Asking for a human again points to the same case: the engine sees the same conversation.
    send(&mut ws, json!({"type": "message", "text": "/human"})).await;
    let again = next_where(&mut ws, "message", |m| m.get("history").is_none()).await;
    assert!(again["text"].as_str().unwrap().contains(&case), "{again}");
    drop(ws);

    // A restart of the whole bot on the same data directory.
    let dir = stack.stop().await;
    let stack = Stack::start_in(dir, CONFIG).await;
    let mut ws = connect(&stack.ws(&format!("/ws?session={token}"))).await;
    assert_eq!(next_json(&mut ws).await["session"], token.as_str());
    let status = next_of(&mut ws, "status").await;
    assert_eq!(status["case"], case.as_str());
    send(&mut ws, json!({"type": "message", "text": "/human"})).await;
    let again = next_where(&mut ws, "message", |m| m.get("history").is_none()).await;
    assert!(again["text"].as_str().unwrap().contains(&case), "{again}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_reach_the_case_and_only_operators_fetch_them() {
    let stack = Stack::start().await;
    let (mut ws, token) = stack.chat().await;
    send(&mut ws, json!({"type": "message", "text": "/human"})).await;
    next_of(&mut ws, "message").await;

    let boundary = "B0undary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nsending fails\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"smtp.log\"\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(b"550 relay denied\n");
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = reqwest::Client::new()
        .post(stack.http("/upload"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("x-supportbot-session", &token)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for _ in 0..2 {
        let q = next_of(&mut ws, "message").await;
        send(&mut ws, json!({"type": "button", "value": q["buttons"][0]})).await;
    }
    let case = next_where(&mut ws, "message", |m| m.get("case").is_some()).await["case"]
        .as_str()
        .unwrap()
        .to_string();
    let detail: serde_json::Value = stack
        .api(&format!("/api/cases/{case}"))
        .await
        .json()
        .await
        .unwrap();
    let text = detail.to_string();
    assert!(text.contains("smtp.log"), "{text}");
    let url = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["attachments"].as_array().cloned().unwrap_or_default())
        .chain(
            detail["transcript"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|e| e["attachments"].as_array().cloned().unwrap_or_default()),
        )
        .find_map(|a| a["url"].as_str().map(str::to_string))
        .expect("an attachment url in the case");
    assert_eq!(
        reqwest::get(&url).await.unwrap().text().await.unwrap(),
        "550 relay denied\n"
    );
    let bare = url.split('?').next().unwrap();
    assert_eq!(reqwest::get(bare).await.unwrap().status(), 401);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_get_nothing() {
    let stack = Stack::start().await;
    assert_eq!(
        reqwest::get(stack.http("/api/cases"))
            .await
            .unwrap()
            .status(),
        401
    );
    let err = connect_with(&stack.ws("/inbox/ws"), &[]).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let err = connect_with(&stack.ws("/ws"), &[("origin", "https://evil.example")])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");

    // A visitor typing operator commands is refused and learns nothing.
    let (mut user, _) = stack.chat().await;
    let (mut other, _) = stack.chat().await;
    let case = open_case(&mut other).await;
    send(
        &mut user,
        json!({"type": "message", "text": format!("/case {case}")}),
    )
    .await;
    let refused = next_of(&mut user, "message").await;
    let text = refused["text"].as_str().unwrap();
    assert!(
        !text.contains(&case) && !text.contains("visitor"),
        "{refused}"
    );
    assert!(refused.get("case").is_none(), "{refused}");
    stack.stop().await;
}
