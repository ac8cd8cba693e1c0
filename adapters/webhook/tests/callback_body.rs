//! A receiver whose answer never ends: the callback adapter reads only the first few KB of it and classifies
//! the delivery at once, instead of holding the outbox until the attempt's timeout while buffering the body.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use supportbot_chat::{Adapter, Delivery, Envelope, Outbound, SendError};
use supportbot_webhook::{CallbackAdapter, Secret};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A raw HTTP/1.1 server answering every request with `status` and an endless chunked body of 'x'; counts
/// the body bytes it managed to write.
async fn endless_receiver(status: &'static str) -> (String, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let written = Arc::new(AtomicU64::new(0));
    let counter = written.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then the body (its length is in Content-Length; a small JSON here).
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"
                );
                if tcp.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 1024, "x".repeat(1024));
                loop {
                    if tcp.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                    counter.fetch_add(1024, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            });
        }
    });
    (url, written)
}

fn envelope(id: &str) -> Envelope {
    Envelope {
        id: id.into(),
        destination: "forum".into(),
        order_key: "forum:u1".into(),
        delivery: Delivery::Message(Outbound {
            platform: "forum".into(),
            chat: "u1".into(),
            text: "hello".into(),
            buttons: vec![],
            reply_to: None,
            case: None,
        }),
    }
}

#[tokio::test]
async fn an_endless_error_body_is_cut_after_a_few_kb() {
    let (url, written) = endless_receiver("500 Internal Server Error").await;
    let adapter = CallbackAdapter::new(
        "forum",
        url,
        Secret::new("0123456789abcdef-callback"),
        Duration::from_secs(6),
    )
    .unwrap();
    let started = Instant::now();
    let outcome = adapter.deliver(&envelope("e1")).await;
    let took = started.elapsed();
    match outcome {
        Err(SendError::Transient(text)) => {
            assert!(text.starts_with("HTTP 500"), "{text}");
            assert!(
                text.contains("xxxx"),
                "the start of the body is kept: {text}"
            );
            assert!(text.len() < 400, "{} bytes of error text", text.len());
        }
        other => panic!("{other:?}"),
    }
    assert!(
        took < Duration::from_secs(3),
        "classified after {took:?}: the whole body was being read"
    );
    // The adapter stopped reading: the receiver is held back by TCP flow control, far below what an
    // unbounded reader would have taken in the same time.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = written.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = written.load(Ordering::Relaxed);
    assert!(
        after - before < 64 * 1024,
        "the receiver could still write {} bytes in 0.5 s",
        after - before
    );
}

#[tokio::test]
async fn an_endless_success_body_does_not_hold_the_delivery() {
    let (url, _) = endless_receiver("200 OK").await;
    let adapter = CallbackAdapter::new(
        "forum",
        url,
        Secret::new("0123456789abcdef-callback"),
        Duration::from_secs(6),
    )
    .unwrap();
    let started = Instant::now();
    adapter.deliver(&envelope("e2")).await.expect("delivered");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "delivered after {:?}",
        started.elapsed()
    );
}
