//! Telegram end to end: the real engine, the real Telegram channel (teloxide) against a fake Bot API, and the
//! real web channel: private FAQ answers, groups with and without a mention, button presses, a handoff worked
//! from the Telegram operator group, a Telegram user answered from the web inbox, and a 429 honoured.
#![cfg(all(feature = "telegram", feature = "web"))]

mod telegram_support;

use std::time::Duration;

use serde_json::json;
use supportbot_chat::CaseDirectory;
use telegram_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_question_gets_the_faq_answer_and_buttons_work() {
    let fake = FakeTelegram::start(TOKEN).await;
    let stack = Stack::start(&fake).await;
    let commands = fake.calls("setmycommands");
    assert!(
        commands.iter().any(|c| c.body["language_code"] == "zh"),
        "Chinese command menu"
    );
    assert!(
        commands.iter().any(|c| c.body["language_code"] == "en"),
        "English command menu"
    );

    let asked = fake.private_text(42, "Li", "发送邮件被退回 554 DT:SPM 怎么办");
    let answer = wait_text(&fake, 42, "ssl.smtp.qq.com").await;
    assert_eq!(buttons(&answer), vec!["有帮助", "没帮助"]);
    fake.wait(WAIT, "the update acknowledged", || {
        (fake.highest_offset() > asked).then_some(())
    })
    .await;
    let first = &fake.calls("sendmessage")[0].body;
    assert!(first.get("parse_mode").is_none(), "plain text: {first}");
    assert!(
        first["reply_parameters"]["message_id"].is_i64(),
        "answers as a reply: {first}"
    );
    assert!(fake
        .calls("sendchataction")
        .iter()
        .any(|c| c.body["chat_id"] == 42 && c.body["action"] == "typing"));

    fake.press(
        42,
        "Li",
        answer["message_id"].as_i64().unwrap(),
        &data_of(&answer, "有帮助"),
    );
    wait_text(&fake, 42, "很高兴").await;
    fake.wait(WAIT, "the press answered", || {
        (!fake.calls("answercallbackquery").is_empty()).then_some(())
    })
    .await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_the_bot_speaks_only_when_addressed() {
    let fake = FakeTelegram::start(TOKEN).await;
    let stack = Stack::start(&fake).await;
    let chatter = fake.group_text(-100200, 42, "Li", "有人知道 554 DT:SPM 怎么办吗");
    fake.wait(WAIT, "chatter acknowledged", || {
        (fake.highest_offset() > chatter).then_some(())
    })
    .await;
    stack.engine.settle().await;
    assert!(
        fake.sent_to(-100200).is_empty(),
        "silent without a mention: {:?}",
        texts_to(&fake, -100200)
    );

    fake.group_text(
        -100200,
        42,
        "Li",
        &format!("@{BOT_USERNAME} 发送邮件被退回 554 DT:SPM 怎么办"),
    );
    let answer = wait_text(&fake, -100200, "ssl.smtp.qq.com").await;
    assert!(answer["reply_to_id"].is_i64(), "answers the asking message");
    stack.stop().await;
}

/// Walks Telegram user `user` through the intake (the last step with a screenshot); returns the case number.
async fn handoff(fake: &FakeTelegram, user: i64, name: &str) -> String {
    fake.private_text(user, name, "转人工");
    wait_text(fake, user, "问题现象").await;
    fake.private_text(user, name, "带附件的邮件发不出去");
    let steps = fake
        .wait(WAIT, "the skippable step question", || {
            fake.sent_to(user)
                .into_iter()
                .rev()
                .find(|m| buttons(m) == vec!["跳过".to_string()])
        })
        .await;
    fake.press(
        user,
        name,
        steps["message_id"].as_i64().unwrap(),
        &data_of(&steps, "跳过"),
    );
    let before = fake.sent_to(user).len();
    wait_count(fake, user, before + 1).await;
    fake.private_photo(
        user,
        name,
        &format!("SHOT{user}"),
        "提示 554 DT:SPM",
        b"\x89PNG fake screenshot",
    );
    let opened = fake
        .wait(WAIT, "the case number", || {
            fake.sent_to(user)
                .into_iter()
                .find(|m| m["text"].as_str().unwrap().contains("C-"))
        })
        .await;
    let text = opened["text"].as_str().unwrap();
    let start = text.find("C-").unwrap();
    text[start..]
        .chars()
        .take_while(|c| *c == 'C' || *c == '-' || c.is_ascii_digit())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handoff_is_worked_from_the_telegram_operator_group() {
    let fake = FakeTelegram::start(TOKEN).await;
    let stack = Stack::start(&fake).await;
    let case = handoff(&fake, 42, "Li").await;

    // The card reaches the operator group with a take button.
    let card = wait_text(&fake, OPS_ROOM, &case).await;
    assert!(
        card["text"].as_str().unwrap().contains("554 DT:SPM"),
        "{card}"
    );
    let take = format!("/take {case}");
    assert_eq!(buttons(&card), vec![take.clone()]);

    // Wang takes it with the button, then answers by replying to the card.
    fake.press(
        WANG,
        "Wang",
        card["message_id"].as_i64().unwrap(),
        &data_of(&card, &take),
    );
    let joined_before = fake.sent_to(42).len();
    wait_count(&fake, 42, joined_before + 1).await;
    // An operator replies to a card they have read; by then the bot has recorded which Telegram message
    // the card became (the outbox does so right after Telegram accepts it).
    let card_id = card["message_id"].as_i64().unwrap();
    let card_reference = format!("pm:telegram:{OPS_ROOM}:{OPS_ROOM}:{card_id}");
    let deadline = std::time::Instant::now() + WAIT;
    while stack
        .engine
        .store()
        .case_of_message(&card_reference)
        .await
        .unwrap()
        .is_none()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the card's Telegram message id was never recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let answer = "请把 SMTP 服务器改为 ssl.smtp.qq.com，端口 465 <b>not bold</b>";
    fake.reply_to_sent(
        OPS_ROOM,
        WANG,
        "Wang",
        answer,
        card["message_id"].as_i64().unwrap(),
    );
    wait_text(&fake, 42, "<b>not bold</b>").await;

    // The user's answer goes back to the operator.
    fake.private_text(42, "Li", "好的，我试试 thanks");
    fake.wait(WAIT, "the relay to the operator", || {
        fake.sent().into_iter().find(|m| {
            m["chat"]["id"] != 42 && m["text"].as_str().unwrap().contains("我试试 thanks")
        })
    })
    .await;

    // The screenshot is in the case, downloadable through the web listener without the bot token.
    let detail = stack.engine.get(&case).await.expect("the case");
    assert_eq!(
        detail.summary.assignee.as_deref(),
        Some(format!("telegram:{WANG}").as_str())
    );
    let shot = detail
        .transcript
        .iter()
        .flat_map(|e| e.attachments.iter())
        .next()
        .expect("an attachment")
        .clone();
    assert!(
        shot.url
            .starts_with(&format!("http://{}/telegram/file/SHOT42/", stack.web_addr)),
        "{}",
        shot.url
    );
    assert!(!shot.url.contains("E2E-telegram-token"));
    let body = reqwest::get(&shot.url)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.as_ref(), b"\x89PNG fake screenshot");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_telegram_user_is_answered_from_the_web_inbox() {
    let fake = FakeTelegram::start(TOKEN).await;
    let stack = Stack::start(&fake).await;
    let mut inbox = stack.inbox().await;
    let case = handoff(&fake, 43, "Zhang").await;
    next_where(&mut inbox, "queue", |q| {
        q["cases"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["id"] == case.as_str()))
    })
    .await;

    send(
        &mut inbox,
        json!({"type": "action", "action": "take", "case": case}),
    )
    .await;
    send(
        &mut inbox,
        json!({"type": "action", "action": "reply", "case": case, "text": "Hi from the inbox *not italic*"}),
    )
    .await;
    let reply = wait_text(&fake, 43, "Hi from the inbox").await;
    assert!(
        reply["text"].as_str().unwrap().contains("*not italic*"),
        "{reply}"
    );
    let sent = fake.calls("sendmessage");
    let call = sent
        .iter()
        .find(|c| {
            c.body["text"]
                .as_str()
                .unwrap()
                .contains("Hi from the inbox")
        })
        .unwrap();
    assert!(call.body.get("parse_mode").is_none());
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_answer_waits_retry_after_then_arrives() {
    let fake = FakeTelegram::start(TOKEN).await;
    let stack = Stack::start(&fake).await;
    fake.rate_limit_next_send(1);
    fake.private_text(44, "Zhou", "发送邮件被退回 554 DT:SPM 怎么办");
    wait_text(&fake, 44, "ssl.smtp.qq.com").await;
    let attempts: Vec<_> = fake
        .calls("sendmessage")
        .into_iter()
        .filter(|c| c.body["chat_id"] == 44)
        .collect();
    assert_eq!(attempts.len(), 2, "refused once, then delivered");
    let waited = attempts[1].at.duration_since(attempts[0].at);
    assert!(
        waited >= Duration::from_millis(950),
        "retry_after honoured, waited {waited:?}"
    );
    assert_eq!(attempts[0].body["text"], attempts[1].body["text"]);
    stack.engine.settle().await;
    assert!(stack.engine.outbox_list().is_empty());
    stack.stop().await;
}
