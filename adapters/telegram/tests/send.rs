//! Sending through the real teloxide client against the fake Bot API: plain text, splitting, replies,
//! keyboards, and how failures are reported to the outbox.

mod support;

use std::time::Duration;

use serde_json::json;
use support::fake_api::FakeTelegram;
use supportbot_chat::{Adapter, Delivery, Envelope, Outbound, SendError};
use supportbot_telegram::{connect, Settings, TelegramAdapter};

const TOKEN: &str = "123456:SEND-token";

async fn adapter(fake: &FakeTelegram) -> std::sync::Arc<TelegramAdapter> {
    let mut s = Settings::new(&fake.token);
    s.api_url = Some(fake.url.clone());
    connect(s).await.expect("connects").adapter()
}

fn envelope(
    id: &str,
    chat: &str,
    text: &str,
    buttons: &[&str],
    reply_to: Option<&str>,
) -> Envelope {
    Envelope {
        id: id.into(),
        destination: "telegram".into(),
        order_key: format!("telegram:{chat}"),
        delivery: Delivery::Message(Outbound {
            platform: "telegram".into(),
            chat: chat.into(),
            text: text.into(),
            buttons: buttons.iter().map(|b| b.to_string()).collect(),
            reply_to: reply_to.map(String::from),
            case: Some("C-1001".into()),
        }),
    }
}

#[tokio::test]
async fn text_goes_out_plain_and_as_a_reply() {
    let fake = FakeTelegram::start(TOKEN).await;
    let tg = adapter(&fake).await;
    assert_eq!(tg.name(), "telegram");
    let markup = "<b>not bold</b> *nor this* [link](http://x)";
    tg.deliver(&envelope("e1", "42", markup, &[], Some("42:17")))
        .await
        .expect("sent");
    let calls = fake.calls("sendmessage");
    assert_eq!(calls.len(), 1);
    let body = &calls[0].body;
    assert_eq!(body["text"], json!(markup));
    assert!(body.get("parse_mode").is_none(), "no parse mode: {body}");
    assert!(body.get("entities").is_none());
    assert_eq!(body["chat_id"], json!(42));
    assert_eq!(body["reply_parameters"]["message_id"], json!(17));
    assert_eq!(
        body["reply_parameters"]["allow_sending_without_reply"],
        json!(true)
    );
    let sent_id = fake.sent()[0]["message_id"].as_i64().unwrap();
    assert_eq!(
        tg.sent_message_id("e1"),
        Some(format!("42:{sent_id}")),
        "the form a reply's reply_to takes"
    );
    assert_eq!(tg.sent_message_id("other"), None);
}

#[tokio::test]
async fn long_text_is_split_with_buttons_on_the_last_part() {
    let fake = FakeTelegram::start(TOKEN).await;
    let tg = adapter(&fake).await;
    let paragraph = format!("{}\n", "邮件发送失败时请检查收件人地址。".repeat(20));
    let text = paragraph.repeat(30); // about 9,600 UTF-16 units
    tg.deliver(&envelope(
        "e2",
        "-100200",
        &text,
        &["有帮助", "没帮助"],
        Some("-100200:5"),
    ))
    .await
    .expect("sent");
    let calls = fake.calls("sendmessage");
    assert_eq!(calls.len(), 3);
    let mut rebuilt = String::new();
    for (i, call) in calls.iter().enumerate() {
        let part = call.body["text"].as_str().unwrap();
        assert!(part.encode_utf16().count() <= 4096);
        assert!(part.ends_with('。'), "part {i} ends at a line end");
        assert_eq!(call.body.get("reply_parameters").is_some(), i == 0);
        assert_eq!(call.body.get("reply_markup").is_some(), i == 2);
        rebuilt.push_str(part);
        rebuilt.push('\n');
    }
    assert_eq!(rebuilt, text);
    assert_eq!(
        calls[2].body["reply_markup"]["inline_keyboard"][1][0]["text"],
        json!("没帮助")
    );
}

#[tokio::test]
async fn rate_limits_report_retry_after_and_the_retry_is_delivered() {
    let fake = FakeTelegram::start(TOKEN).await;
    let tg = adapter(&fake).await;
    fake.rate_limit_next_send(3);
    let env = envelope("e3", "42", "hello", &[], None);
    match tg.deliver(&env).await {
        Err(SendError::RetryAfter(wait)) => assert_eq!(wait, Duration::from_secs(3)),
        other => panic!("expected RetryAfter, got {other:?}"),
    }
    assert!(fake.sent().is_empty());
    tg.deliver(&env).await.expect("delivered on retry");
    assert_eq!(fake.sent().len(), 1);
}

#[tokio::test]
async fn a_failed_part_is_resent_without_repeating_earlier_parts() {
    let fake = FakeTelegram::start(TOKEN).await;
    let tg = adapter(&fake).await;
    let text = "word ".repeat(2000); // 10,000 characters: three parts
    assert_eq!(supportbot_telegram::split_text(&text, 4096).len(), 3);
    let env = envelope("e4", "42", &text, &[], None);
    fake.pass_next_send();
    fake.rate_limit_next_send(1);
    assert!(matches!(
        tg.deliver(&env).await,
        Err(SendError::RetryAfter(_))
    ));
    assert_eq!(fake.sent().len(), 1, "first part accepted");
    tg.deliver(&env).await.expect("rest delivered");
    let texts: Vec<String> = fake
        .sent()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts.len(), 3, "no part sent twice");
    assert_eq!(texts.join(" "), text.trim_end());
    // Another envelope starts from its own first part.
    tg.deliver(&envelope("e4b", "42", "short", &[], None))
        .await
        .expect("sent");
    assert_eq!(fake.sent().len(), 4);
}

#[tokio::test]
async fn refusals_are_permanent() {
    let fake = FakeTelegram::start(TOKEN).await;
    let tg = adapter(&fake).await;
    fake.fail_next_send(
        403,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
    );
    assert!(matches!(
        tg.deliver(&envelope("e5", "42", "hi", &[], None)).await,
        Err(SendError::Permanent(_))
    ));
    fake.fail_next_send(
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
    );
    assert!(matches!(
        tg.deliver(&envelope("e6", "77", "hi", &[], None)).await,
        Err(SendError::Permanent(_))
    ));
    let bad_chat = envelope("e7", "web-session", "hi", &[], None);
    assert!(matches!(
        tg.deliver(&bad_chat).await,
        Err(SendError::Permanent(_))
    ));
    fake.fail_next_send(200, json!("<html>bad gateway</html>"));
    assert!(matches!(
        tg.deliver(&envelope("e8", "42", "hi", &[], None)).await,
        Err(SendError::Transient(_))
    ));
    assert!(fake.sent().is_empty());
}
