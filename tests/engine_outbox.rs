//! The durable outbox and the store: retries with backoff and retry-after, order per chat, giving up with a
//! note to the operator, restarts, a second process, concurrency across conversations, metrics, forwarding.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::*;
use supportbot::config::Config;
use supportbot::engine::{Engine, EngineOptions};
use supportbot_chat::{Delivery, InboundSink};

async fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn retry_after_is_honoured_and_order_is_kept_per_chat() {
    let mut bot = Bot::start().await;
    let telegram = bot.platform("telegram");
    telegram.fail_next(Fail::RetryAfter(300));
    bot.engine
        .accept(dm("telegram", "42", "m1", "发送邮件被退回 554 DT:SPM"))
        .await
        .unwrap();
    bot.engine
        .accept(dm("telegram", "42", "m2", "有帮助"))
        .await
        .unwrap();
    bot.engine
        .accept(dm("web", "w", "w1", "发送邮件被退回 554 DT:SPM"))
        .await
        .unwrap();
    bot.engine.settle().await;
    let out = bot.take();
    let replies: Vec<_> = to(&out, "telegram", "42")
        .iter()
        .map(|m| m.reply_to.clone().unwrap())
        .collect();
    assert_eq!(
        replies,
        vec!["m1", "m2"],
        "the retried message still goes first"
    );
    let attempts = telegram.attempts();
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts[0].0, attempts[1].0, "the same envelope is retried");
    assert!(
        attempts[1].1 - attempts[0].1 >= Duration::from_millis(300),
        "retry-after honoured"
    );
    // Another chat was not held up behind the waiting one.
    let web_pos = bot
        .envelopes()
        .iter()
        .position(|e| e.order_key == "web:w")
        .unwrap();
    assert_eq!(web_pos, 0, "{:?}", bot.envelopes());
}

#[tokio::test]
async fn transient_failures_back_off_exponentially() {
    let mut bot = Bot::start().await;
    let web = bot.platform("web");
    for _ in 0..3 {
        web.fail_next(Fail::Transient);
    }
    bot.send(dm("web", "w", "w1", "发送邮件被退回 554 DT:SPM"))
        .await;
    assert_eq!(bot.take().len(), 1, "delivered once in the end");
    let times: Vec<_> = web.attempts().iter().map(|a| a.1).collect();
    assert_eq!(times.len(), 4);
    // retry_base_ms = 20: delays are drawn from [10,20], [20,40], [40,80] ms.
    assert!(times[1] - times[0] >= Duration::from_millis(10));
    assert!(times[2] - times[1] >= Duration::from_millis(20));
    assert!(times[3] - times[2] >= Duration::from_millis(40));
}

async fn taken_case(bot: &mut Bot) {
    for (i, t) in ["/human", "跳过", "跳过", "跳过"].iter().enumerate() {
        bot.send(dm("web", "s1", &format!("s{i}"), t)).await;
    }
    bot.send(group("discord", "8001", "7001", "d1", "/take C-1001", true))
        .await;
    bot.take();
}

#[tokio::test]
async fn a_refused_message_is_given_up_and_the_operator_told() {
    let mut bot = Bot::start().await;
    taken_case(&mut bot).await;
    bot.platform("web").fail_next(Fail::Permanent);
    bot.send(group(
        "discord",
        "8001",
        "7001",
        "d2",
        "/reply C-1001 请重启客户端",
        true,
    ))
    .await;
    wait_for("the give-up note", || {
        bot.log
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.id.starts_with("giveup:"))
    })
    .await;
    bot.engine.settle().await;
    let out = bot.take();
    let note = one(&out, "discord", "8001");
    assert!(
        note.text.contains("web:s1") && note.text.contains("blocked"),
        "{}",
        note.text
    );
    let detail = supportbot_chat::CaseDirectory::get(&bot.engine, "C-1001")
        .await
        .unwrap();
    let failed = detail
        .history
        .iter()
        .find(|e| e.kind == supportbot_chat::CaseEventKind::DeliveryFailed)
        .unwrap();
    assert!(failed.text.contains("web:s1"));
    let metrics = supportbot_chat::MetricsSource::prometheus(&bot.engine).await;
    assert!(
        metrics.contains("supportbot_outbox_given_up_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_message_failing_past_the_give_up_time_is_given_up() {
    let mut bot = Bot::with_config(&format!("{CONFIG}\ngive_up_after_secs = 1\n")).await;
    taken_case(&mut bot).await;
    let web = bot.platform("web");
    for _ in 0..1000 {
        web.fail_next(Fail::Transient);
    }
    bot.send(group(
        "discord",
        "8001",
        "7001",
        "d2",
        "/reply C-1001 hello",
        true,
    ))
    .await;
    let out = bot.take();
    assert!(one(&out, "discord", "8001").text.contains("HTTP 502"));
    assert!(web.attempts().len() >= 3, "retried before giving up");
    assert!(bot.engine.outbox_backlog().is_empty());
}

#[tokio::test]
async fn the_outbox_survives_a_restart() {
    let bot = Bot::start().await;
    let telegram = bot.platform("telegram");
    for _ in 0..1000 {
        telegram.fail_next(Fail::Transient);
    }
    bot.engine
        .accept(dm("telegram", "42", "m1", "发送邮件被退回 554 DT:SPM"))
        .await
        .unwrap();
    wait_for("a failed attempt", || !telegram.attempts().is_empty()).await;
    assert_eq!(
        bot.engine.outbox_backlog(),
        vec![("telegram".to_string(), 1)]
    );
    let metrics = supportbot_chat::MetricsSource::prometheus(&bot.engine).await;
    assert!(
        metrics.contains("supportbot_outbox_backlog{destination=\"telegram\"} 1"),
        "{metrics}"
    );
    let envelope_id = telegram.attempts()[0].0.clone();

    let mut bot = bot.restart().await;
    bot.engine.settle().await;
    let delivered = bot.envelopes();
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        delivered[0].id, envelope_id,
        "the same envelope, with its idempotency key"
    );
    assert!(
        matches!(&delivered[0].delivery, Delivery::Message(m) if m.text.contains("ssl.smtp.qq.com"))
    );
    assert_eq!(bot.take().len(), 1);
}

#[tokio::test]
async fn messages_stored_but_not_handled_are_handled_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::parse(CONFIG, "t.toml").unwrap();
    config.bot.data_dir = dir.path().join("data");
    let store = test_store().await;
    {
        // Accepted (durable) but never run: as if the process stopped right after acknowledging.
        let options = EngineOptions {
            store: store.clone(),
            ..EngineOptions::default()
        };
        let engine = Engine::open_with(&config, faq(), options).await.unwrap();
        for i in 0..3 {
            engine
                .accept(dm(
                    "telegram",
                    "42",
                    &format!("m{i}"),
                    "发送邮件被退回 554 DT:SPM",
                ))
                .await
                .unwrap();
        }
    }
    let mut bot = Bot::open_on(dir, config, store).await;
    bot.engine.settle().await;
    let replies: Vec<_> = bot
        .take()
        .into_iter()
        .map(|m| m.reply_to.unwrap())
        .collect();
    assert_eq!(replies, vec!["m0", "m1", "m2"]);
    assert_eq!(
        bot.send(dm("telegram", "42", "m1", "x")).await,
        supportbot_chat::Accepted::Duplicate
    );
}

#[tokio::test]
async fn a_second_engine_on_the_same_data_dir_gets_a_clear_error() {
    let bot = Bot::start_on_sled().await;
    let err = Engine::open(&bot.config, faq())
        .await
        .err()
        .expect("the directory is in use");
    let text = err.to_string();
    assert!(
        text.contains("in use by another supportbot process"),
        "{text}"
    );
    assert!(
        text.contains(&bot.config.bot.data_dir.display().to_string()),
        "{text}"
    );
}

#[tokio::test]
async fn conversations_run_concurrently_and_each_stays_in_order() {
    let mut bot = Bot::start().await;
    let engine = Arc::new(bot.engine.clone());
    let mut tasks = Vec::new();
    for u in 0..40 {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..4 {
                let text = if i % 2 == 0 {
                    "发送邮件被退回 554 DT:SPM"
                } else {
                    "有帮助"
                };
                engine
                    .accept(dm("web", &format!("u{u}"), &format!("u{u}-{i}"), text))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    bot.engine.settle().await;
    let out = bot.take();
    assert_eq!(out.len(), 160);
    for u in 0..40 {
        let chat = format!("u{u}");
        let order: Vec<_> = to(&out, "web", &chat)
            .iter()
            .map(|m| m.reply_to.clone().unwrap())
            .collect();
        let expected: Vec<_> = (0..4).map(|i| format!("u{u}-{i}")).collect();
        assert_eq!(order, expected);
    }
}

#[tokio::test]
async fn metrics_cover_the_required_families() {
    let mut bot = Bot::start().await;
    bot.send(dm("web", "a", "1", "发送邮件被退回 554 DT:SPM"))
        .await;
    bot.send(dm("web", "a", "2", "邮箱")).await;
    for (i, t) in ["/human", "跳过", "跳过", "跳过"].iter().enumerate() {
        bot.send(dm("telegram", "9", &format!("h{i}"), t)).await;
    }
    bot.take();
    let text = supportbot_chat::MetricsSource::prometheus(&bot.engine).await;
    for needle in [
        "supportbot_messages_in_total{platform=\"web\"} 2",
        "supportbot_messages_out_total{platform=\"telegram\"} 4",
        "supportbot_faq_decisions_total{action=\"answer\"} 1",
        "supportbot_faq_decisions_total{action=\"choose\"} 1",
        "supportbot_handoffs_total{team=\"mail\"} 1",
        "supportbot_queue_length 1",
        "# TYPE supportbot_oldest_waiting_case_seconds gauge",
        "# TYPE supportbot_operator_reply_latency_seconds histogram",
        "# TYPE supportbot_outbox_backlog gauge",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

#[tokio::test]
async fn forwarders_receive_every_case_event() {
    let mut bot = Bot::start().await;
    let hook = FakePlatform::new("forward:helpdesk", bot.log.clone());
    bot.engine.register_forwarder(hook);
    taken_case(&mut bot).await;
    let events: Vec<_> = bot
        .envelopes()
        .into_iter()
        .filter(|e| e.destination == "forward:helpdesk")
        .filter_map(|e| match e.delivery {
            Delivery::Event(ev) => Some(ev.kind),
            Delivery::Message(_) => None,
        })
        .collect();
    use supportbot_chat::CaseEventKind::*;
    assert_eq!(events, vec![Opened, Assigned]);
}
