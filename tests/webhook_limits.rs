//! Limits through the webhook channel on the real engine: one flooding user is told to slow down once and not
//! answered past the burst (every request still acknowledged), and an event's `ts` far from the receive time
//! does not move its case to the head of the queue.
#![cfg(feature = "webhook")]

mod webhook_support;

use std::time::Duration;

use supportbot::config::Config;
use supportbot_chat::CaseDirectory;
use webhook_support::*;

const SECRET: &str = "forum-secret-of-enough-length";

fn hook_config(dir: &std::path::Path, base: &str, limits: &str) -> Config {
    let text = config_text(
        dir,
        &format!(
            "{limits}\n[[webhooks]]\nchannel = \"forum\"\nsecret = \"{SECRET}\"\ncallback_url = \"{base}/cb\"\n"
        ),
    );
    Config::parse(&text, "t.toml").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_webhook_user_is_slowed_down() {
    let rx = Receiver::start(&[("/cb", SECRET)], vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let limits = "[limits]\nmessages_per_minute = 1\nmessage_burst = 3";
    let bot = Bot::start(&hook_config(dir.path(), &rx.base, limits), vec![]).await;
    for i in 0..10 {
        let (status, body) = post_signed(
            &bot.hook(),
            SECRET,
            &event("u1", &format!("m{i}"), "554 DT:SPM"),
            now(),
        )
        .await;
        assert_eq!(status, 200, "every message is acknowledged: {body}");
    }
    let (status, _) = post_signed(
        &bot.hook(),
        SECRET,
        &event("u2", "other", "554 DT:SPM"),
        now(),
    )
    .await;
    assert_eq!(status, 200);
    wait_until("the answers", Duration::from_secs(10), || {
        rx.accepted("/cb").len() >= 5
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let to_u1: Vec<String> = rx
        .accepted("/cb")
        .iter()
        .filter(|a| a.body["chat"] == "u1")
        .map(|a| a.body["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(to_u1.len(), 4, "three answers and one notice: {to_u1:#?}");
    assert_eq!(to_u1.iter().filter(|t| t.contains("太快")).count(), 1);
    assert_eq!(
        rx.accepted("/cb")
            .iter()
            .filter(|a| a.body["chat"] == "u2")
            .count(),
        1
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_from_the_year_2000_does_not_jump_the_queue() {
    let rx = Receiver::start(&[("/cb", SECRET)], vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let bot = Bot::start(&hook_config(dir.path(), &rx.base, ""), vec![]).await;
    let open_case = |user: &'static str, ts: Option<&'static str>| {
        let hook = bot.hook();
        async move {
            for (i, text) in ["human", "attachments fail to send", "skip", "skip"]
                .iter()
                .enumerate()
            {
                let mut body: serde_json::Value =
                    serde_json::from_str(&event(user, &format!("{user}{i}"), text)).unwrap();
                if let Some(ts) = ts {
                    body["ts"] = ts.into();
                }
                let (status, answer) = post_signed(&hook, SECRET, &body.to_string(), now()).await;
                assert_eq!(status, 200, "{answer}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    open_case("early", None).await;
    open_case("late", Some("2000-01-01T00:00:00+08:00")).await;
    let mut queue = Vec::new();
    for _ in 0..100 {
        queue = bot.engine.list(false).await;
        if queue.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(queue.len(), 2, "{queue:#?}");
    assert_eq!(queue[0].user_name, "user early", "{queue:#?}");
    assert!(
        queue[1].opened_at.format("%Y").to_string().as_str() >= "2026",
        "{queue:#?}"
    );
    bot.stop().await;
}
