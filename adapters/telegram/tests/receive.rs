//! Receiving through the real teloxide client against the fake Bot API: long polling and its offset,
//! group addressing, button presses, restarts, a refused token.

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use support::fake_api::{FakeTelegram, BOT_USERNAME};
use support::MemorySink;
use supportbot_chat::{Adapter, Delivery, Envelope, InboundSink, Outbound, Shutdown};
use supportbot_telegram::{connect, Settings, TelegramAdapter, TelegramError};
use tokio::task::JoinHandle;

const TOKEN: &str = "123456:TEST-token";
const WAIT: Duration = Duration::from_secs(10);

fn settings(fake: &FakeTelegram) -> Settings {
    let mut s = Settings::new(&fake.token);
    s.api_url = Some(fake.url.clone());
    s.poll_timeout = Duration::from_secs(1);
    s
}

struct Running {
    shutdown: Shutdown,
    tasks: Vec<JoinHandle<()>>,
    adapter: Arc<TelegramAdapter>,
}

async fn start(fake: &FakeTelegram, sink: Arc<MemorySink>) -> Running {
    let telegram = connect(settings(fake)).await.expect("connects");
    let adapter = telegram.adapter();
    let shutdown = Shutdown::new();
    let tasks = telegram
        .start(sink as Arc<dyn InboundSink>, shutdown.clone())
        .await
        .expect("starts")
        .tasks;
    Running {
        shutdown,
        tasks,
        adapter,
    }
}

impl Running {
    async fn stop(self) {
        self.shutdown.cancel();
        for task in self.tasks {
            tokio::time::timeout(WAIT, task)
                .await
                .expect("task stops on shutdown")
                .expect("task did not panic");
        }
    }

    fn crash(self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn message(chat: &str, text: &str, buttons: &[&str]) -> Envelope {
    Envelope {
        id: format!("env-{chat}-{}", text.len()),
        destination: "telegram".into(),
        order_key: format!("telegram:{chat}"),
        delivery: Delivery::Message(Outbound {
            platform: "telegram".into(),
            chat: chat.into(),
            text: text.into(),
            buttons: buttons.iter().map(|b| b.to_string()).collect(),
            reply_to: None,
            case: None,
        }),
    }
}

#[tokio::test]
async fn private_message_is_stored_then_acknowledged() {
    let fake = FakeTelegram::start(TOKEN).await;
    let sink = MemorySink::new();
    let bot = start(&fake, Arc::clone(&sink)).await;
    let update = fake.private_text(42, "Li", "554 DT:SPM 怎么办");
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got[0].chat, "42");
    assert_eq!(got[0].user, "42");
    assert_eq!(got[0].text, "554 DT:SPM 怎么办");
    assert!(got[0].mention && !got[0].group);
    fake.wait(WAIT, "offset past the update", || {
        (fake.highest_offset() > update).then_some(())
    })
    .await;
    fake.wait(WAIT, "typing", || {
        (!fake.calls("sendchataction").is_empty()).then_some(())
    })
    .await;
    let typing = fake.calls("sendchataction");
    assert_eq!(typing[0].body["chat_id"], json!(42));
    assert_eq!(typing[0].body["action"], json!("typing"));
    let menus = fake.calls("setmycommands");
    let langs: Vec<_> = menus
        .iter()
        .map(|c| c.body["language_code"].clone())
        .collect();
    assert!(
        langs.contains(&json!("zh"))
            && langs.contains(&json!("en"))
            && langs.contains(&json!("ja")),
        "{langs:?}"
    );
    let zh = menus
        .iter()
        .find(|c| c.body["language_code"] == json!("zh"))
        .unwrap();
    assert!(zh.body["commands"].to_string().contains("转人工客服"));
    assert_eq!(
        fake.calls("deletewebhook").len(),
        1,
        "polling mode removes a webhook first"
    );
    let polls = fake.calls("getupdates");
    assert!(
        polls.iter().all(|c| c.body["timeout"] == json!(1)),
        "the configured poll timeout is used"
    );
    bot.stop().await;
}

#[tokio::test]
async fn offset_waits_until_the_core_stored_the_update() {
    let fake = FakeTelegram::start(TOKEN).await;
    let sink = MemorySink::new();
    sink.fail_next(1_000);
    let bot = start(&fake, Arc::clone(&sink)).await;
    let update = fake.private_text(42, "Li", "hello");
    fake.wait(WAIT, "an attempt", || {
        (!sink.attempts().is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        fake.highest_offset() <= update,
        "acknowledged before the store accepted it"
    );
    assert_eq!(fake.pending_updates(), 1);
    sink.fail_next(0);
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got[0].text, "hello");
    assert!(
        sink.attempts().len() >= 2,
        "the update was handed over again"
    );
    fake.wait(WAIT, "offset past the update", || {
        (fake.highest_offset() > update).then_some(())
    })
    .await;
    bot.stop().await;
}

#[tokio::test]
async fn groups_answer_only_when_addressed() {
    let fake = FakeTelegram::start(TOKEN).await;
    let sink = MemorySink::new();
    let bot = start(&fake, Arc::clone(&sink)).await;
    bot.adapter
        .deliver(&message("-100200", "I am the bot", &[]))
        .await
        .expect("sent");
    let bot_message = fake.sent()[0]["message_id"].as_i64().unwrap();
    fake.group_text(-100200, 42, "Li", "anyone know about 554?");
    fake.group_text(
        -100200,
        42,
        "Li",
        &format!("@{BOT_USERNAME} 554 DT:SPM 怎么办"),
    );
    fake.group_text(-100200, 43, "Wang", "/help@another_bot");
    fake.group_text(-100200, 43, "Wang", &format!("/help@{BOT_USERNAME}"));
    let last = fake.reply_to_sent(-100200, 44, "Zhao", "still failing", bot_message);
    let got = sink.wait_for(3, WAIT).await;
    fake.wait(WAIT, "all acknowledged", || {
        (fake.highest_offset() > last).then_some(())
    })
    .await;
    let got_after = sink.accepted();
    assert_eq!(
        got_after.len(),
        3,
        "only addressed messages reach the core: {got_after:#?}"
    );
    assert_eq!(got[0].text, "554 DT:SPM 怎么办");
    assert_eq!(
        (got[0].chat.as_str(), got[0].user.as_str()),
        ("-100200", "42")
    );
    assert!(got[0].group && got[0].mention);
    assert_eq!(got[1].text, "/help");
    assert_eq!(got[2].reply_to, Some(format!("-100200:{bot_message}")));
    bot.stop().await;
}

#[tokio::test]
async fn a_pressed_button_becomes_its_label() {
    let fake = FakeTelegram::start(TOKEN).await;
    let sink = MemorySink::new();
    let bot = start(&fake, Arc::clone(&sink)).await;
    let long = "我的邮件被退回，提示 554 DT:SPM，该怎么办才能正常发出";
    bot.adapter
        .deliver(&message("42", "请选择一个问题", &["是", long]))
        .await
        .expect("sent");
    let sent = fake.sent();
    let keyboard = &sent[0]["reply_markup"]["inline_keyboard"];
    assert_eq!(keyboard[0][0]["text"], json!("是"));
    let data = keyboard[1][0]["callback_data"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(data.len() <= 64);
    fake.press(42, "Li", sent[0]["message_id"].as_i64().unwrap(), &data);
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got[0].text, long);
    assert!(got[0].id.starts_with("cb:"));
    assert_eq!(got[0].chat, "42");
    let answers = fake
        .wait(WAIT, "answerCallbackQuery", || {
            let calls = fake.calls("answercallbackquery");
            (!calls.is_empty()).then_some(calls)
        })
        .await;
    assert_eq!(
        format!(
            "cb:{}",
            answers[0].body["callback_query_id"].as_str().unwrap()
        ),
        got[0].id
    );
    bot.stop().await;
}

#[tokio::test]
async fn shutdown_acknowledges_and_a_crash_redelivers_into_dedupe() {
    let fake = FakeTelegram::start(TOKEN).await;
    let sink = MemorySink::new();
    let bot = start(&fake, Arc::clone(&sink)).await;
    let last = fake.private_text(42, "Li", "one");
    sink.wait_for(1, WAIT).await;
    bot.stop().await;
    assert!(
        fake.highest_offset() > last,
        "a clean stop confirms what was handled"
    );

    // A crash right after storing: Telegram never got the acknowledgement and sends everything again.
    let bot = start(&fake, Arc::clone(&sink)).await;
    let second = fake.private_text(42, "Li", "two");
    sink.wait_for(2, WAIT).await;
    bot.crash();
    fake.redeliver_all();
    let bot = start(&fake, Arc::clone(&sink)).await;
    fake.wait(WAIT, "redelivered updates handled", || {
        (fake.highest_offset() > second).then_some(())
    })
    .await;
    let attempts = sink.attempts();
    assert!(attempts.len() >= 4, "both updates came again: {attempts:?}");
    assert_eq!(sink.accepted().len(), 2, "each stored once");
    bot.stop().await;
}

#[tokio::test]
async fn a_refused_token_is_a_clear_error() {
    let fake = FakeTelegram::start(TOKEN).await;
    let mut s = settings(&fake);
    s.token = "123456:WRONG-token".into();
    let err = connect(s).await.err().expect("refused");
    assert!(matches!(err, TelegramError::BadToken), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("TELEGRAM_BOT_TOKEN") && !text.contains("WRONG"),
        "{text}"
    );

    let mut unreachable = Settings::new(TOKEN);
    unreachable.api_url = Some("http://127.0.0.1:9".into());
    let err = connect(unreachable).await.err().expect("unreachable");
    let text = err.to_string();
    assert!(
        text.contains("127.0.0.1:9") && !text.contains("TEST-token"),
        "{text}"
    );
}
