//! The web channel's flood limits through the real server on loopback: new sessions, uploads and case opens
//! per address, the upload quota of a session, the retention of uploads no open case refers to.

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use serde_json::Value;
use supportbot_chat::{Attachment, AttachmentKind, CaseEventKind};
use supportbot_web::WebLimits;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

fn multipart(content: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"log.txt\"\r\n\r\n",
    );
    body.extend_from_slice(content);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    body
}

async fn upload(server: &Server, session: &str, content: &[u8]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(server.http("/upload"))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .header("x-supportbot-session", session)
        .body(multipart(content))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Opens a new chat session; its token.
async fn session(server: &Server) -> (Ws, String) {
    let mut ws = connect(&server.ws_url("/ws")).await;
    let first = next_json(&mut ws).await;
    assert_eq!(first["type"], "session", "{first}");
    let token = first["session"].as_str().unwrap().to_string();
    (ws, token)
}

/// The close frame of a socket (skipping pings and text), within 5 s.
async fn close_of(ws: &mut Ws) -> Option<(CloseCode, String)> {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("the socket ends within 5 s");
        match next {
            Some(Ok(Message::Close(frame))) => {
                return frame.map(|f| (f.code, f.reason.to_string()))
            }
            Some(Ok(_)) => continue,
            None | Some(Err(_)) => return None,
        }
    }
}

async fn metric(server: &Server, name: &str) -> u64 {
    let text = reqwest::Client::new()
        .get(server.http("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

#[tokio::test]
async fn new_sessions_per_address_are_limited() {
    let server = start(|s| {
        s.limits = WebLimits {
            new_sessions_per_ip_per_hour: 3,
            ..WebLimits::default()
        }
    })
    .await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let (_ws, token) = session(&server).await;
        tokens.push(token);
    }
    let mut refused = connect(&server.ws_url("/ws?lang=en")).await;
    let frame = next_json(&mut refused).await;
    assert_eq!(frame["type"], "error", "{frame}");
    assert_eq!(frame["code"], "rate_limited");
    let text = frame["text"].as_str().unwrap();
    assert!(
        text.contains("Too many new chats") && text.contains("try again in"),
        "{text}"
    );
    let (code, _) = close_of(&mut refused).await.expect("a close frame");
    assert_eq!(code, CloseCode::Again);
    // Continuing a session is not a new one.
    let mut again = connect(&server.ws_url(&format!("/ws?session={}", tokens[0]))).await;
    let frame = next_json(&mut again).await;
    assert_eq!(frame["session"], tokens[0].as_str());
    assert_eq!(
        metric(&server, "supportbot_web_limited_sessions_total").await,
        1
    );
}

#[tokio::test]
async fn new_sessions_of_everybody_are_limited() {
    let server = start(|s| {
        s.limits = WebLimits {
            new_sessions_per_minute: 2,
            ..WebLimits::default()
        }
    })
    .await;
    let _a = session(&server).await;
    let _b = session(&server).await;
    let mut refused = connect(&server.ws_url("/ws")).await;
    assert_eq!(next_json(&mut refused).await["code"], "rate_limited");
}

#[tokio::test]
async fn uploads_per_address_are_limited_with_retry_after() {
    let server = start(|s| {
        s.limits = WebLimits {
            uploads_per_ip_per_hour: 2,
            ..WebLimits::default()
        }
    })
    .await;
    let (_a, s1) = session(&server).await;
    let (_b, s2) = session(&server).await;
    assert_eq!(upload(&server, &s1, b"one").await.0, 200);
    assert_eq!(upload(&server, &s2, b"two").await.0, 200);
    let r = reqwest::Client::new()
        .post(server.http("/upload"))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .header("x-supportbot-session", &s2)
        .body(multipart(b"three"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((60..=1800).contains(&wait), "retry after {wait} s");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    assert_eq!(
        server.core.inbound().len(),
        2,
        "the refused file reached nobody"
    );
    let stored = std::fs::read_dir(server.dir.path().join("uploads"))
        .unwrap()
        .count();
    assert_eq!(stored, 4, "two files and their metadata");
}

#[tokio::test]
async fn a_session_has_an_upload_quota() {
    let server = start(|s| {
        s.limits = WebLimits {
            upload_quota_files: 2,
            upload_quota_bytes: 1000,
            ..WebLimits::default()
        }
    })
    .await;
    let (_a, s1) = session(&server).await;
    assert_eq!(upload(&server, &s1, &[b'a'; 700]).await.0, 200);
    let (status, body) = upload(&server, &s1, &[b'b'; 400]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("upload_quota")),
        "{body}"
    );
    assert_eq!(upload(&server, &s1, &[b'c'; 300]).await.0, 200);
    let (status, body) = upload(&server, &s1, b"d").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("upload_quota")),
        "{body}"
    );
    // Another session has its own quota.
    let (_b, s2) = session(&server).await;
    assert_eq!(upload(&server, &s2, &[b'e'; 900]).await.0, 200);
    assert_eq!(
        metric(&server, "supportbot_web_upload_quota_total").await,
        2
    );
}

#[tokio::test]
async fn quotas_survive_a_restart() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let limits = WebLimits {
        upload_quota_files: 1,
        ..WebLimits::default()
    };
    let first = start_in(dir.clone(), |s| s.limits = limits.clone()).await;
    let (_a, s1) = session(&first).await;
    assert_eq!(upload(&first, &s1, b"one").await.0, 200);
    first.shutdown.cancel();
    let _ = first.task.await;
    let second = start_in(dir, |s| s.limits = limits.clone()).await;
    let (status, body) = upload(&second, &s1, b"two").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("upload_quota")),
        "{body}"
    );
}

fn file_id(body: &Value) -> String {
    let url = body["attachment"]["url"].as_str().unwrap();
    url.split("/files/").nth(1).unwrap()[..32].to_string()
}

async fn download_status(server: &Server, id: &str) -> u16 {
    reqwest::Client::new()
        .get(server.http(&format!("/files/{id}")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn uploads_no_open_case_refers_to_are_deleted_after_the_retention_time() {
    let server = start(|s| {
        s.housekeeping = Duration::from_millis(100);
        s.limits = WebLimits {
            upload_retention: Duration::from_secs(1),
            upload_quota_files: 2,
            ..WebLimits::default()
        };
    })
    .await;
    let (_a, s1) = session(&server).await;
    let (status, in_case) = upload(&server, &s1, b"kept while the case is open").await;
    assert_eq!(status, 200);
    let (status, loose) = upload(&server, &s1, b"never in a case").await;
    assert_eq!(status, 200);
    let (kept, gone) = (file_id(&in_case), file_id(&loose));
    {
        let mut case = FakeCore::summary("C-1001", "open");
        case.channel = "web".into();
        server.core.cases.lock().unwrap().push(case);
        let att: Attachment = serde_json::from_value(in_case["attachment"].clone()).unwrap();
        assert_eq!(att.kind, AttachmentKind::File);
        server
            .core
            .files
            .lock()
            .unwrap()
            .insert("C-1001".into(), vec![att]);
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(download_status(&server, &gone).await, 404);
    assert!(!server.dir.path().join("uploads").join(&gone).exists());
    assert_eq!(
        download_status(&server, &kept).await,
        200,
        "its case is open"
    );
    // The quota counts only what is stored: a file's slot is free again.
    assert_eq!(upload(&server, &s1, b"third").await.0, 200);

    server.core.cases.lock().unwrap()[0].status = "closed".into();
    server.core.event("C-1001", CaseEventKind::Closed);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        download_status(&server, &kept).await,
        404,
        "its case closed"
    );
    assert!(!server.dir.path().join("uploads").join(&kept).exists());
}

/// The chat id (`web:<chat>` is the account the core sees) of a session token.
fn chat_of(token: &str) -> &str {
    token.split('.').next().unwrap()
}

#[tokio::test]
async fn cases_opened_from_one_address_are_limited() {
    let server = start(|s| {
        s.limits = WebLimits {
            case_opens_per_ip_per_hour: 1,
            ..WebLimits::default()
        }
    })
    .await;
    let say = |text: &str| serde_json::json!({"type": "message", "text": text});
    let (mut w1, s1) = session(&server).await;
    send(&mut w1, say("/human")).await;
    next_of(&mut w1, "message").await;
    server.core.event_by(
        "C-1",
        CaseEventKind::Opened,
        &format!("web:{}", chat_of(&s1)),
    );
    let (mut w2, s2) = session(&server).await;
    send(&mut w2, say("/human")).await;
    next_of(&mut w2, "message").await;
    server.core.event_by(
        "C-2",
        CaseEventKind::Opened,
        &format!("web:{}", chat_of(&s2)),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A third session from the same address may not start another case.
    let (mut w3, s3) = session(&server).await;
    send(&mut w3, say("/human")).await;
    let refusal = next_json(&mut w3).await;
    assert_eq!(refusal["type"], "error", "{refusal}");
    assert_eq!(refusal["code"], "rate_limited");
    assert!(refusal["text"].as_str().unwrap().contains("Too many cases"));
    assert_eq!(upload(&server, &s3, b"x").await.0, 429);
    assert!(
        !server.core.inbound().iter().any(|m| m.chat == chat_of(&s3)),
        "nothing of the refused session reached the core"
    );
    // A session with an open case goes on.
    send(&mut w1, say("still there?")).await;
    assert_eq!(
        next_of(&mut w1, "message").await["text"],
        "echo: still there?"
    );
    // Once its case is closed, it counts like any other session of that address.
    server
        .core
        .event_by("C-1", CaseEventKind::Closed, "web:admin");
    tokio::time::sleep(Duration::from_millis(300)).await;
    send(&mut w1, say("/human")).await;
    assert_eq!(next_json(&mut w1).await["code"], "rate_limited");
    assert!(metric(&server, "supportbot_web_limited_cases_total").await >= 3);
}
