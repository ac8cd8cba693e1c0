//! Limits that keep one user from drowning the desk, on a real sled store: the per-account message rate (one
//! "slow down", nothing answered or relayed past it, every message still kept in the case), bounded worker
//! queues that refuse with `Busy` instead of growing, and operator commands refused outside operator rooms and
//! private chats.

mod support;

use std::time::Duration;

use support::*;
use supportbot::config::Config;
use supportbot::engine::{Engine, EngineOptions};
use supportbot_chat::{Accepted, CaseDirectory, InboundSink, Shutdown, SinkError};

/// The test config with a tight rate: bursts of 3, then one message a minute.
fn tight() -> String {
    CONFIG
        .replace("messages_per_minute = 6000", "messages_per_minute = 1")
        .replace("message_burst = 1000", "message_burst = 3")
}

#[tokio::test]
async fn a_flooding_user_is_told_to_slow_down_once_and_not_answered_past_the_burst() {
    let mut bot = Bot::with_config(&tight()).await;
    for i in 0..8 {
        bot.send(dm(
            "telegram",
            "42",
            &format!("m{i}"),
            "发送邮件被退回 554 DT:SPM",
        ))
        .await;
    }
    let out = bot.take();
    let replies = to(&out, "telegram", "42");
    let slow: Vec<_> = replies.iter().filter(|m| m.text.contains("太快")).collect();
    assert_eq!(slow.len(), 1, "one slow-down notice: {replies:#?}");
    assert_eq!(replies.len(), 3 + 1, "the burst's answers and the notice");
    // Another account is not affected.
    bot.send(dm("telegram", "43", "o1", "发送邮件被退回 554 DT:SPM"))
        .await;
    assert!(one(&bot.take(), "telegram", "43").text.contains("554"));
}

#[tokio::test]
async fn a_flood_inside_a_case_is_kept_but_not_relayed_one_by_one() {
    let mut bot =
        Bot::with_config(&tight().replace("message_burst = 3", "message_burst = 6")).await;
    request_case(&bot, "telegram", "42").await;
    bot.send(group(
        "discord",
        "8001",
        "7001",
        "take",
        "/take C-1001",
        true,
    ))
    .await;
    bot.take();
    for i in 0..10 {
        bot.send(dm("telegram", "42", &format!("f{i}"), &format!("第{i}条")))
            .await;
    }
    let out = bot.take();
    let relayed = to(&out, "discord", "8001").len();
    assert_eq!(
        relayed, 2,
        "only the burst's remainder reaches the operator room: {out:#?}"
    );
    let detail = bot.engine.get("C-1001").await.unwrap();
    for i in 0..10 {
        let line = format!("第{i}条");
        assert!(
            detail.transcript.iter().any(|e| e.text == line),
            "{line} is kept in the case"
        );
    }
}

#[tokio::test]
async fn operators_are_not_throttled() {
    let mut bot = Bot::with_config(&tight()).await;
    for i in 0..6 {
        bot.send(group(
            "discord",
            "8001",
            "7001",
            &format!("q{i}"),
            "/queue",
            true,
        ))
        .await;
    }
    assert_eq!(to(&bot.take(), "discord", "8001").len(), 6);
}

#[tokio::test]
async fn a_full_worker_queue_refuses_with_busy_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let text = CONFIG.replace("[limits]", "[limits]\nqueue_per_worker = 1");
    let mut config = Config::parse(&text, "test.toml").unwrap();
    config.bot.data_dir = dir.path().join("data");
    let options = EngineOptions {
        workers: Some(1),
        store: test_store().await,
        ..EngineOptions::default()
    };
    let engine = Engine::open_with(&config, faq(), options).await.unwrap();
    // Not running yet: the first message fills the one place in the queue.
    let first = engine
        .accept(dm("telegram", "42", "a", "你好"))
        .await
        .unwrap();
    assert_eq!(first, Accepted::New);
    let refused = engine.accept(dm("telegram", "42", "b", "在吗")).await;
    assert!(matches!(refused, Err(SinkError::Busy)), "{refused:?}");

    let shutdown = Shutdown::new();
    let runner = {
        let (engine, shutdown) = (engine.clone(), shutdown.clone());
        tokio::spawn(async move { engine.run(shutdown).await.unwrap() })
    };
    // Redelivered once there is room: it was not stored the first time, so it is new now.
    let mut again = engine.accept(dm("telegram", "42", "b", "在吗")).await;
    for _ in 0..100 {
        if !matches!(again, Err(SinkError::Busy)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        again = engine.accept(dm("telegram", "42", "b", "在吗")).await;
    }
    assert_eq!(again.unwrap(), Accepted::New);
    shutdown.cancel();
    runner.await.unwrap();
}

#[tokio::test]
async fn operator_commands_in_an_ordinary_group_are_refused_and_show_nothing() {
    let mut bot = Bot::start().await;
    request_case(&bot, "telegram", "42").await;
    bot.take();
    // Wang (telegram:5001) in a public group that is no operator room.
    for (id, cmd) in [
        ("c1", "/case C-1001"),
        ("c2", "/take C-1001"),
        ("c3", "/queue"),
    ] {
        bot.send(group("telegram", "-100300", "5001", id, cmd, true))
            .await;
        let out = bot.take();
        let reply = one(&out, "telegram", "-100300");
        assert!(
            reply.text.contains("仅供客服") || reply.text.contains("support staff only"),
            "{cmd}: {}",
            reply.text
        );
        assert!(!reply.text.contains("附件邮件发不出去"));
    }
    let detail = bot.engine.get("C-1001").await.unwrap();
    assert_eq!(
        detail.summary.status, "open",
        "the /take in the group did nothing"
    );
    // In his private chat the same command works.
    bot.send(dm("telegram", "5001", "p1", "/case C-1001")).await;
    assert!(one(&bot.take(), "telegram", "5001")
        .text
        .contains("附件邮件发不出去"));
}
