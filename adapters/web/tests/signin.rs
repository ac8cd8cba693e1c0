//! Personal inbox sign-in from outside, on a channel bound to port 0: passwords, cookie flags, CSRF on the socket
//! and on sign-out, expiry, the failed sign-in limit, foreign origins, sign-ins across a restart, and each
//! operator's actions and notifications under their own account.

mod common;

use std::time::Duration;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use common::*;
use serde_json::{json, Value};
use supportbot_web::{WebOperator, WebSettings};

fn operator(login: &str, name: &str, password: &str, teams: &[&str]) -> WebOperator {
    let salt = SaltString::encode_b64(b"signin-test-salt").unwrap();
    WebOperator {
        login: login.into(),
        name: name.into(),
        teams: teams.iter().map(|t| t.to_string()).collect(),
        password_hash: Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string(),
    }
}

fn team(settings: &mut WebSettings) {
    settings.operators = vec![
        operator("wang", "Wang", "wang-password-1", &["mail"]),
        operator("lee", "Lee", "lee-password-22", &["security"]),
    ];
    settings.limits.ws_ping_interval = Duration::from_millis(200);
    settings.limits.ws_idle_timeout = Duration::from_secs(5);
}

struct SignedIn {
    cookie: String,
    set_cookie: String,
    csrf: String,
    body: Value,
}

async fn login(server: &Server, name: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.http("/inbox/login"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn sign_in(server: &Server, name: &str, password: &str) -> SignedIn {
    let resp = login(server, name, password).await;
    assert_eq!(resp.status(), 200);
    let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let body: Value = resp.json().await.unwrap();
    SignedIn {
        cookie,
        set_cookie,
        csrf: body["csrf"].as_str().unwrap().to_string(),
        body,
    }
}

async fn get(server: &Server, path: &str, cookie: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(server.http(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

async fn inbox_socket(
    server: &Server,
    cookie: &str,
    csrf: Option<&str>,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let protocols = match csrf {
        Some(c) => format!("supportbot.inbox, csrf.{c}"),
        None => "supportbot.inbox".to_string(),
    };
    connect_with(
        &server.ws_url("/inbox/ws"),
        &[("cookie", cookie), ("sec-websocket-protocol", &protocols)],
    )
    .await
}

fn refused_with(err: tokio_tungstenite::tungstenite::Error, status: u16) {
    match err {
        tokio_tungstenite::tungstenite::Error::Http(resp) => assert_eq!(resp.status(), status),
        other => panic!("expected HTTP {status}, got {other:?}"),
    }
}

#[tokio::test]
async fn operators_sign_in_and_act_as_themselves() {
    let server = start(team).await;
    server
        .core
        .cases
        .lock()
        .unwrap()
        .push(FakeCore::summary("C-1001", "open"));

    // Wrong passwords and unknown names are refused alike.
    for (name, password) in [("wang", "lee-password-22"), ("nobody", "wang-password-1")] {
        let resp = login(&server, name, password).await;
        assert_eq!(resp.status(), 401);
        assert_eq!(
            resp.json::<Value>().await.unwrap()["error"],
            "bad_credentials"
        );
    }
    let bad = reqwest::Client::new()
        .post(server.http("/inbox/login"))
        .body("name=wang")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // The name is case-insensitive; the cookie is HttpOnly, SameSite=Strict, not Secure over http.
    let wang = sign_in(&server, "Wang", "wang-password-1").await;
    assert_eq!(wang.body["operator"], "web:wang");
    assert_eq!(wang.body["name"], "Wang");
    assert_eq!(wang.body["teams"], json!(["mail"]));
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(wang.set_cookie.contains(flag), "{}", wang.set_cookie);
    }
    assert!(!wang.set_cookie.contains("Secure"), "{}", wang.set_cookie);

    // The cookie opens the API and tells the page who it is; no cookie, no API.
    let me: Value = get(&server, "/inbox/me", &wang.cookie)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["operator"], "web:wang");
    assert_eq!(me["csrf"], wang.csrf.as_str());
    assert_eq!(get(&server, "/api/cases", &wang.cookie).await.status(), 200);
    assert_eq!(
        get(&server, "/api/cases", "supportbot_inbox=forged")
            .await
            .status(),
        401
    );
    assert_eq!(get(&server, "/inbox/me", "").await.status(), 401);
    // The shared token keeps working for scripts.
    let scripted = reqwest::Client::new()
        .get(server.http("/api/cases"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(scripted.status(), 200);

    // The socket needs the session's CSRF token besides the cookie.
    refused_with(
        inbox_socket(&server, &wang.cookie, None).await.unwrap_err(),
        403,
    );
    refused_with(
        inbox_socket(&server, &wang.cookie, Some("0000"))
            .await
            .unwrap_err(),
        403,
    );
    refused_with(
        inbox_socket(&server, "supportbot_inbox=forged", Some(&wang.csrf))
            .await
            .unwrap_err(),
        401,
    );
    let mut wang_ws = inbox_socket(&server, &wang.cookie, Some(&wang.csrf))
        .await
        .unwrap();
    let ready = next_of(&mut wang_ws, "ready").await;
    assert_eq!(ready["operator"], "web:wang");
    assert_eq!(ready["name"], "Wang");
    let lee = sign_in(&server, "lee", "lee-password-22").await;
    let mut lee_ws = inbox_socket(&server, &lee.cookie, Some(&lee.csrf))
        .await
        .unwrap();
    assert_eq!(next_of(&mut lee_ws, "ready").await["operator"], "web:lee");

    // Wang's action goes to the core from Wang's own account; the core's answer reaches Wang only.
    send(
        &mut wang_ws,
        json!({"type": "action", "action": "take", "case": "C-1001"}),
    )
    .await;
    let answer = next_of(&mut wang_ws, "message").await;
    assert_eq!(answer["text"], "echo: /take C-1001");
    let sent = server.core.inbound();
    let take = sent.iter().find(|m| m.text == "/take C-1001").unwrap();
    assert_eq!(
        (
            take.platform.as_str(),
            take.user.as_str(),
            take.chat.as_str(),
            take.name.as_str()
        ),
        ("web", "wang", "wang", "Wang")
    );
    send(&mut lee_ws, json!({"type": "ping"})).await;
    assert_eq!(next_of(&mut lee_ws, "pong").await["type"], "pong");
    assert!(
        tokio::time::timeout(Duration::from_millis(400), next_of(&mut lee_ws, "message"))
            .await
            .is_err(),
        "Lee does not see Wang's notifications"
    );

    // Sign-out needs the CSRF header; then the cookie is dead and the open socket closes.
    let client = reqwest::Client::new();
    let forged = client
        .post(server.http("/inbox/logout"))
        .header("cookie", &wang.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(get(&server, "/inbox/me", &wang.cookie).await.status(), 200);
    let out = client
        .post(server.http("/inbox/logout"))
        .header("cookie", &wang.cookie)
        .header("x-csrf-token", &wang.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(get(&server, "/inbox/me", &wang.cookie).await.status(), 401);
    assert_eq!(get(&server, "/api/cases", &wang.cookie).await.status(), 401);
    let closed = tokio::time::timeout(Duration::from_secs(3), async {
        use futures_util::StreamExt;
        loop {
            match wang_ws.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => {
                    return frame.map(|f| u16::from(f.code))
                }
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the signed-out socket closes");
    // Close code 1008, unless the client's queued pongs hit the closed connection before it read the close.
    assert!(matches!(closed, Some(1008) | None), "{closed:?}");
    // The server holds Lee's inbox socket only.
    let mut sockets = String::new();
    for _ in 0..60 {
        let metrics = reqwest::Client::new()
            .get(server.http("/metrics"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        sockets = metrics
            .lines()
            .find(|l| l.starts_with("supportbot_web_inbox_sockets "))
            .unwrap()
            .to_string();
        if sockets.ends_with(" 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sockets, "supportbot_web_inbox_sockets 1");
    // Lee is still signed in.
    assert_eq!(get(&server, "/inbox/me", &lee.cookie).await.status(), 200);
    server.shutdown.cancel();
}

#[tokio::test]
async fn failed_sign_ins_are_limited_and_foreign_origins_refused() {
    let server = start(|s| {
        team(s);
        s.signin_attempts = 3;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(
            login(&server, "wang", "guess-guess-guess").await.status(),
            401
        );
    }
    // Now even the right password waits, and says how long.
    let limited = login(&server, "wang", "wang-password-1").await;
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
    // Another name from the same address is limited too (the address is).
    assert_eq!(login(&server, "lee", "lee-password-22").await.status(), 429);

    let foreign = reqwest::Client::new()
        .post(server.http("/inbox/login"))
        .header("origin", "http://evil.example")
        .json(&json!({"name": "lee", "password": "lee-password-22"}))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    server.shutdown.cancel();
}

#[tokio::test]
async fn sessions_expire_survive_restarts_and_are_secure_over_https() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let server = start_in(dir.clone(), |s| {
        team(s);
        s.session_ttl = Duration::from_secs(5);
    })
    .await;
    let wang = sign_in(&server, "wang", "wang-password-1").await;
    assert!(wang.set_cookie.contains("Max-Age=5"), "{}", wang.set_cookie);
    let lee_then = sign_in(&server, "lee", "lee-password-22").await;
    server.shutdown.cancel();
    let _ = server.task.await;

    // A restart keeps the sign-in (public URL now https: new cookies are Secure); Lee's new password ends
    // Lee's older sign-in.
    let server = start_in(dir.clone(), |s| {
        team(s);
        s.operators[1].password_hash =
            operator("lee", "Lee", "a-new-password-3", &[]).password_hash;
        s.session_ttl = Duration::from_secs(5);
        s.public_url = "https://support.example.com".into();
    })
    .await;
    assert_eq!(get(&server, "/api/cases", &wang.cookie).await.status(), 200);
    assert_eq!(
        get(&server, "/api/cases", &lee_then.cookie).await.status(),
        401
    );
    let lee = sign_in(&server, "lee", "a-new-password-3").await;
    // The session was made before the answer came back.
    let lee_at = std::time::Instant::now();
    assert!(lee.set_cookie.ends_with("; Secure"), "{}", lee.set_cookie);

    // After its lifetime the sign-in is refused everywhere.
    tokio::time::sleep(
        (lee_at + Duration::from_millis(5200)).saturating_duration_since(std::time::Instant::now()),
    )
    .await;
    assert_eq!(get(&server, "/api/cases", &wang.cookie).await.status(), 401);
    assert_eq!(get(&server, "/inbox/me", &lee.cookie).await.status(), 401);
    refused_with(
        inbox_socket(&server, &lee.cookie, Some(&lee.csrf))
            .await
            .unwrap_err(),
        401,
    );
    server.shutdown.cancel();
}
