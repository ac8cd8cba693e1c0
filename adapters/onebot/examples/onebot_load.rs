//! A bounded load generator for the QQ channel against the fake OneBot implementation on loopback: how many
//! message events per second reach the sink (frame parsing, segments, addressing) over one reverse WebSocket,
//! and how many deliveries per second the adapter makes (segments, `echo`-matched responses). Run:
//! `cargo run --release -p supportbot-onebot --example onebot_load [messages] [chats]`.

#[path = "../../../tests/onebot_support/mod.rs"]
mod onebot_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use onebot_support::{private, FakeOneBot};
use serde_json::json;
use supportbot_chat::{
    Accepted, Adapter, Delivery, Envelope, Inbound, InboundSink, Outbound, Shutdown, SinkError,
};
use supportbot_onebot::{reverse, Mode, OneBotChannel, Settings};

/// Counts what arrives; stands for an engine that stores instantly.
#[derive(Default)]
struct Counter {
    got: AtomicUsize,
}

#[async_trait]
impl InboundSink for Counter {
    async fn accept(&self, _message: Inbound) -> Result<Accepted, SinkError> {
        self.got.fetch_add(1, Ordering::Relaxed);
        Ok(Accepted::New)
    }
}

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let messages = arg(1, 20_000).clamp(1, 200_000);
    let chats = arg(2, 64).clamp(1, 10_000);
    let counter = Arc::new(Counter::default());
    let settings = Settings {
        platform: "qq".into(),
        mode: Mode::Reverse,
        access_token: Some("load-token".into()),
        action_timeout: Duration::from_secs(10),
    };
    let channel = OneBotChannel::new(settings, counter.clone());
    let shutdown = Shutdown::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = reverse::router(channel.clone(), shutdown.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let fake = FakeOneBot::new();
    fake.connect(&format!("ws://{addr}{}", reverse::PATH), Some("load-token"))
        .await
        .unwrap();
    while !channel.connected() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let start = Instant::now();
    for i in 0..messages {
        let user = 100_000 + (i % chats) as i64;
        fake.push(private(user, i as i64, json!("发邮件被退回 554 DT:SPM")));
    }
    while counter.got.load(Ordering::Relaxed) < messages {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "events stopped arriving"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let inbound = start.elapsed();

    let deliveries = messages.min(20_000);
    let start = Instant::now();
    let mut lanes = Vec::new();
    for lane in 0..chats {
        let channel = channel.clone();
        let per_lane = deliveries / chats + usize::from(lane < deliveries % chats);
        lanes.push(tokio::spawn(async move {
            for i in 0..per_lane {
                let envelope = Envelope {
                    id: format!("e-{lane}-{i}"),
                    destination: "qq".into(),
                    order_key: format!("qq:{lane}"),
                    delivery: Delivery::Message(Outbound {
                        platform: "qq".into(),
                        chat: (100_000 + lane).to_string(),
                        text: "请检查邮件内容是否包含敏感词,然后再试一次。".into(),
                        buttons: vec!["有帮助".into(), "没帮助".into()],
                        reply_to: Some("7".into()),
                        case: None,
                    }),
                };
                channel.deliver(&envelope).await.expect("delivered");
            }
        }));
    }
    for lane in lanes {
        lane.await.unwrap();
    }
    let outbound = start.elapsed();
    println!(
        "QQ (OneBot v11, reverse WebSocket): {messages} events in {:.2} s = {:.0} messages/s into the sink; \
         {deliveries} deliveries over {chats} chats in {:.2} s = {:.0} deliveries/s",
        inbound.as_secs_f64(),
        messages as f64 / inbound.as_secs_f64(),
        outbound.as_secs_f64(),
        deliveries as f64 / outbound.as_secs_f64()
    );
    shutdown.cancel();
    server.abort();
}
