//! A bounded load generator for the Discord channel against the fake Discord on loopback: how many gateway
//! messages per second reach the sink (serenity parsing + ordering + lanes), and how many deliveries per
//! second the adapter makes (escaping, splitting, REST). Run: `cargo run --release -p supportbot-discord
//! --example discord_load [messages] [users]`.

#[path = "../tests/support/fake_discord/mod.rs"]
mod fake_discord;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use fake_discord::{FakeDiscord, TOKEN};
use supportbot_chat::{
    Accepted, Adapter, Delivery, Envelope, Inbound, InboundSink, Outbound, Shutdown, SinkError,
};
use supportbot_discord::{connect, DiscordSettings};

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
    let messages = arg(1, 5000).clamp(1, 100_000);
    let users = arg(2, 50).clamp(1, 10_000) as u64;
    let fake = FakeDiscord::start().await;
    let counter = Arc::new(Counter::default());
    let mut settings = DiscordSettings::new(TOKEN);
    settings.api_url = Some(fake.api_url.clone());
    let channel = connect(settings, counter.clone()).await.expect("connects");
    let adapter = channel.adapter();
    let shutdown = Shutdown::new();
    let tasks = channel.spawn(shutdown.clone());
    fake.wait_connected().await;
    for u in 0..users {
        fake.add_user(100 + u, "load");
        fake.dm_channel(100 + u);
    }

    let start = Instant::now();
    for i in 0..messages {
        fake.dm(
            100 + (i as u64 % users),
            "my mail bounced with 554 DT:SPM, what now?",
        );
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    while counter.got.load(Ordering::Relaxed) < messages && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let got = counter.got.load(Ordering::Relaxed);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "inbound: {got}/{messages} DMs from {users} users in {secs:.2} s = {:.0} msg/s",
        got as f64 / secs
    );

    let deliveries = (messages / 5).max(1);
    let text = "Check the **spam** folder, then retry: https://service.mail.qq.com/ (554 DT:SPM)";
    let start = Instant::now();
    let mut work = Vec::new();
    for lane in 0..users {
        let adapter = adapter.clone();
        let per_lane = deliveries / users as usize
            + usize::from((lane as usize) < deliveries % users as usize);
        work.push(tokio::spawn(async move {
            for i in 0..per_lane {
                let out = Outbound {
                    platform: "discord".into(),
                    chat: (100 + lane).to_string(),
                    text: text.into(),
                    buttons: vec!["Yes".into(), "No".into()],
                    reply_to: None,
                    case: None,
                };
                let id = format!("load-{lane}-{i}");
                let env = Envelope {
                    id,
                    destination: "discord".into(),
                    order_key: String::new(),
                    delivery: Delivery::Message(out),
                };
                adapter.deliver(&env).await.expect("delivered");
            }
        }));
    }
    for w in work {
        let _ = w.await;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "outbound: {deliveries} deliveries over {users} chats in {secs:.2} s = {:.0} deliveries/s (sent: {})",
        deliveries as f64 / secs,
        fake.sent().len()
    );
    shutdown.cancel();
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
    }
}
