//! A bounded load generator for the WeChat channel on loopback: how many signed pushes per second are
//! acknowledged (signature, XML, the sink) from concurrent senders, each push on a new connection, and how many customer-service
//! deliveries per second the adapter makes against the fake WeChat API. Run:
//! `cargo run --release -p supportbot-wechat --example wechat_load [pushes] [concurrency]`.

#[path = "../../../tests/wechat_support/mod.rs"]
mod wechat_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use supportbot_chat::{
    Accepted, Adapter, Delivery, Envelope, Inbound, InboundSink, Outbound, SinkError,
};
use supportbot_wechat::api::Api;
use supportbot_wechat::{router, Settings, WeChatChannel};
use wechat_support::*;

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
    let pushes = arg(1, 10_000).clamp(1, 100_000);
    let concurrency = arg(2, 32).clamp(1, 1_000);
    let api = FakeWeChat::start().await;
    let counter = Arc::new(Counter::default());
    let settings = Settings {
        platform: "wechat".into(),
        app_id: APP_ID.into(),
        token: SERVER_TOKEN.into(),
        aes_key: None,
    };
    let channel = WeChatChannel::new(
        settings,
        Api::new(&api.url, APP_ID, APP_SECRET),
        counter.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(channel.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (next, base) = (next.clone(), base.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= pushes {
                    break;
                }
                let xml = text_xml(
                    &format!("o-{}", i % 64),
                    i as u64,
                    "发邮件被退回 554 DT:SPM",
                );
                assert_eq!(push(&base, &xml, SERVER_TOKEN, false).await.0, 200);
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let inbound = start.elapsed();
    assert_eq!(counter.got.load(Ordering::Relaxed), pushes);

    let deliveries = pushes.min(10_000);
    let start = Instant::now();
    let mut lanes = Vec::new();
    for lane in 0..concurrency {
        let channel = channel.clone();
        let per_lane = deliveries / concurrency + usize::from(lane < deliveries % concurrency);
        lanes.push(tokio::spawn(async move {
            for i in 0..per_lane {
                let envelope = Envelope {
                    id: format!("e-{lane}-{i}"),
                    destination: "wechat".into(),
                    order_key: format!("wechat:o-{lane}"),
                    delivery: Delivery::Message(Outbound {
                        platform: "wechat".into(),
                        chat: format!("o-{lane}"),
                        text: "请检查邮件内容是否包含敏感词,然后再试一次。".into(),
                        buttons: vec![],
                        reply_to: None,
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
        "WeChat: {pushes} signed pushes from {concurrency} senders (a connection each) in {:.2} s = {:.0} pushes/s acknowledged; \
         {deliveries} customer-service deliveries in {:.2} s = {:.0} deliveries/s",
        inbound.as_secs_f64(),
        pushes as f64 / inbound.as_secs_f64(),
        outbound.as_secs_f64(),
        deliveries as f64 / outbound.as_secs_f64()
    );
    server.abort();
}
