//! Operators on Discord end to end: a handoff opens a case whose card lands in the team's room with a thread,
//! the operator takes it and answers in the thread, the user's messages appear there, and the same works for a
//! user on another platform (Telegram).
#![cfg(feature = "discord")]

mod discord_support;
#[path = "../adapters/discord/tests/support/fake_discord/mod.rs"]
mod fake_discord;

use std::time::Duration;

use discord_support::{World, OPERATOR};
use fake_discord::{Sent, UserMessage};
use supportbot_chat::{AttachmentKind, CaseDirectory};

/// Waits until a message containing `needle` is in `channel`; returns it.
async fn wait_text(world: &World, channel: u64, needle: &str) -> Sent {
    let what = format!("`{needle}` in channel {channel}");
    world
        .fake
        .wait_for(&what, Duration::from_secs(10), |f| {
            f.sent_in(channel)
                .into_iter()
                .find(|s| s.content().contains(needle))
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discord_handoff_gets_a_case_thread_where_the_operator_answers() {
    let world = World::start().await;
    let fake = &world.fake;
    let dm = fake.dm_channel(42);
    fake.dm(42, "转人工");
    fake.wait_sent_in(dm, 1).await;
    fake.dm(42, "带附件的邮件发不出去");
    let steps = fake.wait_sent_in(dm, 2).await[1].clone();
    let (skip, label) = steps.buttons()[0].clone();
    assert_eq!(label, "跳过");
    fake.press(42, steps.id, &skip);
    fake.wait_sent_in(dm, 3).await;
    let mut error = UserMessage::new(dm, 42, "提示 554 DT:SPM");
    error.attachments = vec![fake_discord::payloads::attachment(
        77,
        "bounce.png",
        2048,
        true,
    )];
    fake.user_writes(error);
    let opened = wait_text(&world, dm, "C-1001").await;
    assert!(opened.content().contains("C-1001"), "{}", opened.content());
    // The screenshot is a case attachment, at its Discord CDN address.
    let case = world.engine.get("C-1001").await.expect("the case exists");
    let files: Vec<_> = case
        .transcript
        .iter()
        .flat_map(|e| e.attachments.clone())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].name, "bounce.png");
    assert_eq!(files[0].kind, AttachmentKind::Image);
    assert!(
        files[0]
            .url
            .starts_with("https://cdn.discordapp.com/attachments/"),
        "{}",
        files[0].url
    );

    // The card in the room, with its /take button, and a thread started from it.
    let card = wait_text(&world, world.room, "C-1001").await;
    assert!(card.content().contains("554 DT:SPM"), "{}", card.content());
    let take = card.buttons();
    assert_eq!(take[0].1, "/take C-1001");
    let thread = fake
        .wait_for("the case thread", Duration::from_secs(5), |f| {
            f.thread(card.id)
        })
        .await;
    assert_eq!(thread.0, world.room);
    assert!(thread.1.starts_with("C-1001"), "{}", thread.1);

    // The operator takes it from the card and answers in the thread.
    fake.press(OPERATOR, card.id, &take[0].0);
    let joined = fake.wait_sent_in(dm, 5).await;
    assert!(
        joined[4].content().contains("Wang"),
        "{}",
        joined[4].content()
    );
    fake.user_writes(UserMessage::new(card.id, OPERATOR, "请先清空垃圾箱再重试"));
    wait_text(&world, dm, "请先清空垃圾箱再重试").await;

    // The user's answer appears in the thread, not in the room.
    fake.dm(42, "好的 已经可以发送了");
    wait_text(&world, card.id, "好的 已经可以发送了").await;
    assert!(fake
        .sent_in(world.room)
        .iter()
        .all(|s| !s.content().contains("已经可以发送了")));

    // Markdown a user types is shown as text to the operator.
    fake.dm(42, "**谢谢** @everyone");
    let relayed = wait_text(&world, card.id, "谢谢").await;
    assert!(
        relayed
            .content()
            .contains("\\*\\*谢谢\\*\\* @\u{200B}everyone"),
        "{}",
        relayed.content()
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discord_operator_answers_a_telegram_user_from_the_thread() {
    let world = World::start().await;
    let fake = &world.fake;
    world.telegram_user_writes("555", "t1", "转人工").await;
    world.wait_telegram("555", 1).await;
    world
        .telegram_user_writes("555", "t2", "收不到 QQ 邮箱的验证码")
        .await;
    world.wait_telegram("555", 2).await;
    world.telegram_user_writes("555", "t3", "跳过").await;
    world.wait_telegram("555", 3).await;
    world.telegram_user_writes("555", "t4", "没有报错").await;
    let opened = world.wait_telegram("555", 4).await;
    assert_eq!(
        opened[3].case.as_deref(),
        Some("C-1001"),
        "{:#?}",
        opened[3]
    );

    let card = wait_text(&world, world.room, "C-1001").await;
    assert!(card.content().contains("telegram"), "{}", card.content());
    let thread = card.id;
    fake.wait_for("the case thread", Duration::from_secs(5), |f| {
        f.thread(thread)
    })
    .await;

    // Commands work in the thread without repeating the case number.
    fake.user_writes(UserMessage::new(thread, OPERATOR, "/take"));
    let joined = world.wait_telegram("555", 5).await;
    assert!(joined[4].text.contains("Wang"), "{}", joined[4].text);
    fake.user_writes(UserMessage::new(
        thread,
        OPERATOR,
        "Please check the spam folder",
    ));
    let answer = world.wait_telegram("555", 6).await;
    assert!(
        answer[5].text.contains("Please check the spam folder"),
        "{}",
        answer[5].text
    );
    assert_eq!(answer[5].case.as_deref(), Some("C-1001"));

    world.telegram_user_writes("555", "t5", "找到了,谢谢").await;
    wait_text(&world, thread, "找到了,谢谢").await;

    // Someone who is not an operator cannot answer the user from the thread.
    fake.user_writes(UserMessage::new(thread, 4242, "I am not staff"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(world
        .telegram
        .to("555")
        .iter()
        .all(|m| !m.text.contains("I am not staff")));

    fake.user_writes(UserMessage::new(thread, OPERATOR, "/close spam folder"));
    let rated = world.wait_telegram("555", 7).await;
    assert!(
        !rated[6].buttons.is_empty(),
        "a rating is asked: {:#?}",
        rated[6]
    );
    world.stop().await;
}
