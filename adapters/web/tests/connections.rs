//! Connection limits of the real server on loopback: a cap on concurrent connections (WebSockets included),
//! a deadline for request headers, pings and an idle timeout on chat and inbox sockets, and who may read
//! `/metrics`.

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use supportbot_web::{MetricsAccess, WebLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

async fn health_within(server: &Server, limit: Duration) -> Option<u16> {
    let client = reqwest::Client::builder().timeout(limit).build().unwrap();
    client
        .get(server.http("/healthz"))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let server = start(|s| {
        s.limits = WebLimits {
            max_connections: 2,
            ..WebLimits::default()
        }
    })
    .await;
    let mut a = connect(&server.ws_url("/ws")).await;
    next_json(&mut a).await;
    let mut b = connect(&server.ws_url("/ws")).await;
    next_json(&mut b).await;
    assert_eq!(
        health_within(&server, Duration::from_millis(800)).await,
        None,
        "a third connection is not served while two sockets are open"
    );
    a.close(None).await.unwrap();
    drop(a);
    assert_eq!(
        health_within(&server, Duration::from_secs(5)).await,
        Some(200)
    );
}

#[tokio::test]
async fn connections_from_one_address_beyond_its_cap_are_closed() {
    let server = start(|s| {
        s.limits = WebLimits {
            max_connections_per_ip: 2,
            ..WebLimits::default()
        }
    })
    .await;
    // One session token, many sockets: resuming a session is free, so only the cap holds them back.
    let mut a = connect(&server.ws_url("/ws")).await;
    let token = next_json(&mut a).await["session"]
        .as_str()
        .unwrap()
        .to_string();
    let resume = server.ws_url(&format!("/ws?session={token}"));
    let mut b = connect(&resume).await;
    next_json(&mut b).await;
    assert!(
        connect_with(&resume, &[]).await.is_err(),
        "a third socket from the same address is refused"
    );
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(2), tcp.read_to_end(&mut buf)).await;
    assert!(matches!(closed, Ok(Ok(0))), "closed at once: {closed:?}");
    b.close(None).await.unwrap();
    drop(b);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut c = connect(&resume).await;
    assert_eq!(next_json(&mut c).await["session"], token.as_str());
}

#[tokio::test]
async fn a_client_too_slow_with_its_headers_is_cut_off() {
    let server = start(|s| {
        s.limits = WebLimits {
            header_read_timeout: Duration::from_millis(500),
            ..WebLimits::default()
        }
    })
    .await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), tcp.read_to_end(&mut rest)).await;
    assert!(
        read.is_ok(),
        "the connection is still open 3 s after half a request"
    );
    // A complete request in time is served as usual.
    assert_eq!(
        health_within(&server, Duration::from_secs(5)).await,
        Some(200)
    );
}

#[tokio::test]
async fn chat_sockets_are_pinged_and_silent_ones_closed() {
    let server = start(|s| {
        s.limits = WebLimits {
            ws_ping_interval: Duration::from_millis(200),
            ws_idle_timeout: Duration::from_millis(900),
            ..WebLimits::default()
        }
    })
    .await;
    // A live client: tungstenite answers every ping while the socket is read.
    let mut live = connect(&server.ws_url("/ws")).await;
    next_json(&mut live).await;
    // A dead one: never read again, so it never answers.
    let mut dead = connect(&server.ws_url("/ws")).await;
    next_json(&mut dead).await;

    let mut pings = 0;
    let until = tokio::time::Instant::now() + Duration::from_millis(2500);
    while let Ok(next) = tokio::time::timeout_at(until, live.next()).await {
        match next {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Close(frame))) => panic!("a live socket was closed: {frame:?}"),
            Some(Ok(_)) => {}
            other => panic!("a live socket ended: {other:?}"),
        }
    }
    assert!(pings >= 5, "{pings} pings in 2.5 s");

    // The silent one was closed: its reader sees the close frame, or (answering the queued pings on a
    // socket the server already shut) a broken pipe.
    loop {
        match tokio::time::timeout(Duration::from_secs(2), dead.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => {
                let frame = frame.expect("a close frame with a code");
                assert_eq!(frame.code, CloseCode::Normal);
                assert_eq!(frame.reason.as_str(), "idle timeout");
                break;
            }
            Ok(Some(Ok(_))) => continue,
            Ok(_) => break,
            Err(_) => panic!("the silent socket is still open"),
        }
    }
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
        metrics.contains("supportbot_web_idle_closed_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("supportbot_web_chat_sockets 1"),
        "{metrics}"
    );
}

async fn get_metrics(url: String, token: Option<&str>) -> u16 {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn metrics_need_the_metrics_token() {
    let server =
        start(|s| s.metrics = MetricsAccess::Bearer(Some("metrics-token-0123456789".into()))).await;
    let url = || server.http("/metrics");
    assert_eq!(get_metrics(url(), None).await, 401);
    assert_eq!(get_metrics(url(), Some(TOKEN)).await, 401);
    assert_eq!(
        get_metrics(url(), Some("metrics-token-0123456789")).await,
        200
    );
}

#[tokio::test]
async fn metrics_on_a_listener_of_their_own() {
    for token in [None, Some("metrics-token-0123456789")] {
        let server = start(|s| s.metrics = MetricsAccess::Separate(token.map(String::from))).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(server.channel.clone().serve_metrics(listener));
        assert_eq!(
            get_metrics(server.http("/metrics"), Some(TOKEN)).await,
            404,
            "not on the main listener"
        );
        let url = format!("http://{addr}/metrics");
        match token {
            None => assert_eq!(get_metrics(url, None).await, 200),
            Some(token) => {
                assert_eq!(get_metrics(url.clone(), None).await, 401);
                assert_eq!(get_metrics(url, Some(token)).await, 200);
            }
        }
        assert_eq!(
            get_metrics(format!("http://{addr}/healthz"), None).await,
            404
        );
        server.shutdown.cancel();
    }
}

#[tokio::test]
async fn a_silent_inbox_socket_is_closed_and_a_live_one_kept() {
    let server = start(|s| {
        s.limits = WebLimits {
            ws_ping_interval: Duration::from_millis(200),
            ws_idle_timeout: Duration::from_millis(900),
            ..WebLimits::default()
        }
    })
    .await;
    let proto = format!("supportbot.inbox, bearer.{TOKEN}");
    let url = server.ws_url("/inbox/ws");
    let headers = [("sec-websocket-protocol", proto.as_str())];
    let mut live = connect_with(&url, &headers).await.unwrap();
    let mut dead = connect_with(&url, &headers).await.unwrap();
    let mut pings = 0;
    let until = tokio::time::Instant::now() + Duration::from_millis(2500);
    while let Ok(next) = tokio::time::timeout_at(until, live.next()).await {
        match next {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Close(frame))) => panic!("a live inbox was closed: {frame:?}"),
            Some(Ok(_)) => {}
            other => panic!("a live inbox ended: {other:?}"),
        }
    }
    assert!(pings >= 5, "{pings} pings in 2.5 s");
    loop {
        match tokio::time::timeout(Duration::from_secs(2), dead.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => {
                assert_eq!(
                    frame.expect("a close frame").reason.as_str(),
                    "idle timeout"
                );
                break;
            }
            Ok(Some(Ok(_))) => continue,
            Ok(_) => break,
            Err(_) => panic!("the silent inbox is still open"),
        }
    }
}
