//! Discord users end to end: the fake Discord (REST + gateway), the real serenity client, the real adapter and
//! the real engine: DM answers, guild mentions, buttons, a gateway drop and resume, and REST failures that the
//! outbox retries.
#![cfg(feature = "discord")]

mod discord_support;
#[path = "../adapters/discord/tests/support/fake_discord/mod.rs"]
mod fake_discord;

use std::collections::HashSet;
use std::time::Duration;

use discord_support::World;
use fake_discord::{Failure, Sent, UserMessage};

const BOUNCE: &str = "发送邮件被退回 554 DT:SPM 怎么办";

fn replies_to(sent: &[Sent], message: u64) -> Vec<Sent> {
    sent.iter()
        .filter(|s| s.reply_to() == Some(message.to_string()))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dm_question_gets_the_faq_answer_with_buttons() {
    let world = World::start().await;
    let asked = world.fake.dm(42, BOUNCE);
    let dm = world.fake.dm_channel(42);
    let sent = world.fake.wait_sent_in(dm, 1).await;
    let answer = &sent[0];
    assert!(
        answer.content().contains("ssl.smtp.qq.com"),
        "{}",
        answer.content()
    );
    assert_eq!(answer.reply_to(), Some(asked.to_string()));
    let labels: Vec<String> = answer
        .buttons()
        .into_iter()
        .map(|(_, label)| label)
        .collect();
    assert_eq!(labels, vec!["有帮助", "没帮助"]);
    assert_eq!(
        answer.body["allowed_mentions"]["parse"],
        serde_json::json!([])
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_server_channel_the_bot_answers_only_when_mentioned() {
    let world = World::start().await;
    let general = world.general;
    world
        .fake
        .user_writes(UserMessage::new(general, 42, BOUNCE));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        world.fake.sent_in(general).is_empty(),
        "not addressed: silence"
    );
    let asked = world.fake.user_writes(UserMessage {
        mention_bot: true,
        ..UserMessage::new(general, 42, BOUNCE)
    });
    let sent = world.fake.wait_sent_in(general, 1).await;
    assert_eq!(sent[0].reply_to(), Some(asked.to_string()));
    assert!(
        sent[0].content().contains("ssl.smtp.qq.com"),
        "{}",
        sent[0].content()
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pressed_button_is_answered_and_acknowledged() {
    let world = World::start().await;
    world.fake.dm(42, BOUNCE);
    let dm = world.fake.dm_channel(42);
    let answer = world.fake.wait_sent_in(dm, 1).await[0].clone();
    let (yes, label) = answer.buttons()[0].clone();
    assert_eq!(label, "有帮助");
    let press = world.fake.press(42, answer.id, &yes);
    let sent = world.fake.wait_sent_in(dm, 2).await;
    assert!(
        sent[1].content().contains("很高兴"),
        "{}",
        sent[1].content()
    );
    let ack = world
        .fake
        .wait_for("the acknowledgement", Duration::from_secs(5), |f| {
            f.acks().first().cloned()
        })
        .await;
    assert_eq!((ack.id, ack.kind), (press, 6));
    assert!(ack.after < Duration::from_secs(3), "{:?}", ack.after);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_drop_and_resume_loses_nothing_and_doubles_nothing() {
    let world = World::start().await;
    let fake = &world.fake;
    let dm = fake.dm_channel(42);
    let q1 = fake.dm(42, BOUNCE);
    fake.wait_sent_in(dm, 1).await;
    let before = replies_to(&fake.sent_in(dm), q1).len();
    // Discord replays the last event the bot already saw, plus everything sent while it was away.
    fake.set_resume_overlap(1);
    fake.drop_gateway(4000);
    let q2 = fake.dm(42, "怎么设置 IMAP 收信");
    let q3 = fake.dm(42, "邮箱容量满了怎么办");
    fake.wait_for(
        "answers to the messages sent while away",
        Duration::from_secs(15),
        |f| {
            let sent = f.sent_in(dm);
            (!replies_to(&sent, q2).is_empty() && !replies_to(&sent, q3).is_empty()).then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = fake.sent_in(dm);
    assert_eq!(
        replies_to(&sent, q1).len(),
        before,
        "the replayed message was not handled again"
    );
    let answered: HashSet<String> = sent.iter().filter_map(Sent::reply_to).collect();
    let expected: HashSet<String> = [q1, q2, q3].iter().map(u64::to_string).collect();
    assert_eq!(answered, expected);
    assert_eq!(fake.sessions(), (1, 1), "one IDENTIFY, one RESUME");
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_then_a_500_are_retried_by_the_outbox_until_delivered() {
    let world = World::start().await;
    let fake = &world.fake;
    fake.fail_next_posts(&[Failure::RateLimited(0.4), Failure::Status(500)]);
    let asked = fake.dm(42, BOUNCE);
    let dm = fake.dm_channel(42);
    let sent = fake.wait_sent_in(dm, 1).await;
    assert_eq!(sent[0].reply_to(), Some(asked.to_string()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.sent_in(dm).len(), 1, "delivered once");
    let times = fake.post_times();
    assert_eq!(times.len(), 3, "429, 500, then accepted");
    assert!(
        times[1].duration_since(times[0]) >= Duration::from_millis(400),
        "retry_after was honoured"
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_channel_starts_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    for text in [
        "",
        "[discord]\napi_url = \"http://127.0.0.1:9\"\ntoken = \" \"\n",
    ] {
        let mut config = supportbot::config::Config::parse(text, "t.toml").expect("config");
        config.bot.data_dir = dir.path().join(format!("data{}", text.len()));
        let engine = supportbot::engine::Engine::open(&config, discord_support::faq())
            .await
            .expect("engine");
        let shutdown = supportbot_chat::Shutdown::new();
        let tasks = supportbot::channels::discord::start(&config, &engine, shutdown)
            .await
            .expect("no error");
        assert!(tasks.is_empty(), "nothing runs without a token");
    }
}
