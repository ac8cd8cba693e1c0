//! Replies to a webhook channel ride out a receiver's outage (500, then 429 with Retry-After, then a timeout):
//! everything arrives, in order per chat, each id once, signed; the backlog shows in `/metrics` meanwhile.
#![cfg(feature = "webhook")]

mod webhook_support;

use std::collections::HashSet;
use std::time::Duration;

use supportbot::config::Config;
use supportbot_chat::MetricsSource;
use webhook_support::*;

const SECRET: &str = "forum-secret-1-0123456789";

fn config(data: &std::path::Path, callback: &str) -> Config {
    let text = config_text(
        data,
        &format!(
            "[outbox]\nretry_base_ms = 50\nretry_max_secs = 1\n\
             [[webhooks]]\nchannel = \"forum\"\nsecret = \"{SECRET}\"\ncallback_url = \"{callback}\"\ntimeout_secs = 1\n"
        ),
    );
    Config::parse(&text, "test.toml").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_are_ridden_out_in_order_each_id_once() {
    let script = vec![
        Answer::Status(500),
        Answer::RetryAfter("1".into()),
        Answer::Hang(Duration::from_secs(3)),
    ];
    let rx = Receiver::start(&[("/cb", SECRET)], script).await;
    let dir = tempfile::tempdir().unwrap();
    let bot = Bot::start(&config(dir.path(), &format!("{}/cb", rx.base)), vec![]).await;

    let questions = [
        "554 DT:SPM 怎么办",
        "how do I change my password",
        "附件太大发不出去",
        "hello",
        "IMAP 怎么设置",
    ];
    let mut sent = Vec::new();
    for (i, q) in questions.iter().enumerate() {
        for chat in ["u1", "u2"] {
            let id = format!("{chat}-m{i}");
            let (status, json) =
                post_signed(&bot.hook(), SECRET, &event(chat, &id, q), now()).await;
            assert_eq!(
                (status, json["status"].as_str()),
                (200, Some("accepted")),
                "{json}"
            );
            sent.push((chat, id));
        }
    }
    wait_until("every reply delivered", Duration::from_secs(60), || {
        let answered: HashSet<String> = rx
            .accepted("/cb")
            .iter()
            .filter_map(|a| a.body["reply_to"].as_str().map(String::from))
            .collect();
        sent.iter().all(|(_, id)| answered.contains(id)) && bot.engine.outbox_list().is_empty()
    })
    .await;

    let attempts = rx.attempts();
    let accepted = rx.accepted("/cb");
    // The outage happened as scripted and every request was signed correctly.
    let answers: Vec<&str> = attempts.iter().take(3).map(|a| a.answer.as_str()).collect();
    assert_eq!(answers, ["500", "429", "hang"]);
    assert!(attempts.iter().all(|a| a.signature_ok == Some(true)));
    // Each envelope id accepted exactly once.
    let keys: Vec<&str> = accepted.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        keys.iter().collect::<HashSet<_>>().len(),
        keys.len(),
        "duplicates in {keys:?}"
    );
    // In order per chat: the replies follow the order of the questions.
    for chat in ["u1", "u2"] {
        let order: Vec<String> = accepted
            .iter()
            .filter(|a| a.body["chat"] == chat)
            .filter_map(|a| a.body["reply_to"].as_str().map(String::from))
            .collect();
        let mut deduped = order.clone();
        deduped.dedup();
        let expected: Vec<String> = sent
            .iter()
            .filter(|(c, _)| *c == chat)
            .map(|(_, id)| id.clone())
            .collect();
        assert_eq!(deduped, expected, "replies to {chat} out of order");
    }
    // Retry-After was honoured: the 429'd envelope came back no sooner than a second later.
    let limited = &attempts[1];
    let next = attempts
        .iter()
        .skip(2)
        .find(|a| a.key == limited.key)
        .expect("the 429'd envelope was retried");
    assert!(
        next.at.duration_since(limited.at) >= Duration::from_millis(1000),
        "retried too early"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backlog_per_destination_shows_in_metrics() {
    let rx = Receiver::start(&[("/cb", SECRET)], vec![]).await;
    rx.set_refusing(true);
    let dir = tempfile::tempdir().unwrap();
    let bot = Bot::start(&config(dir.path(), &format!("{}/cb", rx.base)), vec![]).await;
    for (i, chat) in ["a", "b", "c"].iter().enumerate() {
        let (status, _) = post_signed(
            &bot.hook(),
            SECRET,
            &event(chat, &format!("x{i}"), "hello"),
            now(),
        )
        .await;
        assert_eq!(status, 200);
    }
    wait_until("three refused deliveries", Duration::from_secs(20), || {
        rx.attempts()
            .iter()
            .map(|a| a.key.clone())
            .collect::<HashSet<_>>()
            .len()
            >= 3
    })
    .await;
    let text = bot.engine.prometheus().await;
    assert!(
        text.contains("supportbot_outbox_backlog{destination=\"forum\"} 3"),
        "{text}"
    );
    rx.set_refusing(false);
    wait_until("the backlog drains", Duration::from_secs(20), || {
        bot.engine.outbox_list().is_empty()
    })
    .await;
    assert!(!bot
        .engine
        .prometheus()
        .await
        .contains("supportbot_outbox_backlog{destination=\"forum\"} 3"));
    bot.stop().await;
}
