//! The WeChat channel as `serve` wires it (the real engine on sled, the real WeChat channel on the real web
//! listener and, where an operator answers, the real Telegram channel against the fake Bot API), against a fake
//! WeChat server: the URL check, answers through the customer-service API, a retried push answered once, an
//! expired token, the safe mode, the 48-hour window, and refused pushes that store nothing.
#![cfg(all(feature = "wechat", feature = "web", feature = "telegram"))]

mod channel_stack;
mod telegram_support;
mod wechat_support;

use channel_stack::Stack;
use supportbot::channels::wechat;
use supportbot_chat::CaseDirectory;
use telegram_support::{free_addr, FakeTelegram, OPS_ROOM, TOKEN as TG_TOKEN, WANG};
use wechat_support::*;

fn config_text(listen: &str, api: &str, safe: bool, telegram: Option<&FakeTelegram>) -> String {
    let key = if safe {
        format!("encoding_aes_key = \"{AES_KEY}\"\n")
    } else {
        String::new()
    };
    let tg = telegram.map_or(String::new(), |fake| {
        format!(
            "[telegram]\ntoken = \"{}\"\napi_url = \"{}\"\npoll_timeout_secs = 1\n",
            fake.token, fake.url
        )
    });
    format!(
        r#"
[hours]
timezone = "+08:00"
open = "00:00-23:59"
peak = []
off_peak = []

[[operators]]
name = "Wang"
accounts = ["telegram:{WANG}"]
teams = ["mail"]

[[teams]]
name = "mail"
rooms = ["telegram:{OPS_ROOM}"]

[web]
listen = "{listen}"

[wechat]
app_id = "{APP_ID}"
app_secret = "{APP_SECRET}"
token = "{SERVER_TOKEN}"
api_url = "{api}"
{key}
{tg}

[outbox]
retry_base_ms = 50
retry_max_secs = 1
"#
    )
}

/// The stack with the WeChat channel against `api` (and Telegram with `telegram_fake`).
struct WeChat {
    stack: Stack,
    base: String,
}

impl WeChat {
    async fn start(api: &FakeWeChat, safe: bool, telegram_fake: Option<&FakeTelegram>) -> WeChat {
        let listen = free_addr();
        let text = config_text(&listen, &api.url, safe, telegram_fake);
        let stack = Stack::start(&text, |config, engine, _| {
            let routes = wechat::start(config, engine).unwrap().expect("configured");
            (routes, Vec::new())
        })
        .await;
        WeChat {
            stack,
            base: format!("http://{listen}"),
        }
    }

    async fn stop(self) {
        self.stack.stop(WAIT).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_url_check_answers_echostr_only_when_signed() {
    let api = FakeWeChat::start().await;
    let stack = WeChat::start(&api, false, None).await;
    let sig = sign(&[SERVER_TOKEN, "1764064800", "n1"]);
    let good = reqwest::get(format!(
        "{}/wechat?signature={sig}&timestamp=1764064800&nonce=n1&echostr=hello123",
        stack.base
    ))
    .await
    .unwrap();
    assert_eq!(good.status(), 200);
    assert_eq!(good.text().await.unwrap(), "hello123");
    let bad = reqwest::get(format!(
        "{}/wechat?signature={sig}&timestamp=1764064801&nonce=n1&echostr=x",
        stack.base
    ))
    .await
    .unwrap();
    assert_eq!(bad.status(), 401);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_retried_three_times_is_answered_once() {
    let api = FakeWeChat::start().await;
    let stack = WeChat::start(&api, false, None).await;
    let xml = text_xml("o-user1", 5001, "发邮件被退回 554 DT:SPM");
    for _ in 0..3 {
        assert_eq!(
            push(&stack.base, &xml, SERVER_TOKEN, false).await,
            (200, "success".into())
        );
    }
    api.wait_text("o-user1", "554").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let sent = api.sent_to("o-user1");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].1.contains("1. "),
        "buttons as numbered choices: {}",
        sent[0].1
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_fetched_again_mid_conversation() {
    let api = FakeWeChat::start().await;
    let stack = WeChat::start(&api, false, None).await;
    push(
        &stack.base,
        &text_xml("o-user2", 1, "发邮件被退回 554 DT:SPM"),
        SERVER_TOKEN,
        false,
    )
    .await;
    let (first_token, _) = api.wait_text("o-user2", "554").await;
    api.expire_tokens();
    push(
        &stack.base,
        &text_xml("o-user2", 2, "邮箱被盗了怎么办"),
        SERVER_TOKEN,
        false,
    )
    .await;
    api.wait("a second answer", || {
        (api.sent_to("o-user2").len() >= 2).then_some(())
    })
    .await;
    let second_token = api.sent_to("o-user2")[1].0.clone();
    assert_ne!(first_token, second_token);
    assert_eq!(api.tokens_issued(), 2);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_push_is_answered_in_safe_mode() {
    let api = FakeWeChat::start().await;
    let stack = WeChat::start(&api, true, None).await;
    let (status, body) = push(
        &stack.base,
        &text_xml("o-safe", 77, "发邮件被退回 554 DT:SPM"),
        SERVER_TOKEN,
        true,
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "success"));
    api.wait_text("o-safe", "554").await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pushes_are_refused_and_store_nothing() {
    let api = FakeWeChat::start().await;
    let stack = WeChat::start(&api, true, None).await;
    let xml = text_xml("o-bad", 9, "发邮件被退回 554 DT:SPM");
    assert_eq!(
        push(&stack.base, &xml, "another-token", false).await.0,
        401,
        "bad signature"
    );
    assert_eq!(
        push(&stack.base, "<xml><MsgType>text</xml", SERVER_TOKEN, false)
            .await
            .0,
        400,
        "malformed XML"
    );
    let huge = text_xml("o-bad", 9, &"长".repeat(30_000));
    assert_eq!(
        push(&stack.base, &huge, SERVER_TOKEN, false).await.0,
        413,
        "oversized"
    );
    let unsigned = reqwest::Client::new()
        .post(format!("{}/wechat", stack.base))
        .body(xml.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 400);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(api.sent_to("o-bad").is_empty());
    // The same message id sent correctly afterwards is new: nothing of the refused ones was stored.
    assert_eq!(push(&stack.base, &xml, SERVER_TOKEN, true).await.0, 200);
    api.wait_text("o-bad", "554").await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_outside_the_48_hour_window_is_given_up_with_a_note_to_the_operator() {
    let api = FakeWeChat::start().await;
    let tg = FakeTelegram::start(TG_TOKEN).await;
    let stack = WeChat::start(&api, false, Some(&tg)).await;
    for (i, text) in ["转人工", "附件邮件发不出去", "跳过", "跳过"]
        .iter()
        .enumerate()
    {
        push(
            &stack.base,
            &text_xml("o-late", 100 + i as u64, text),
            SERVER_TOKEN,
            false,
        )
        .await;
        api.wait("each step's answer", || {
            (api.sent_to("o-late").len() > i).then_some(())
        })
        .await;
    }
    telegram_support::wait_text(&tg, OPS_ROOM, "C-1001").await;
    tg.group_text(OPS_ROOM, WANG, "Wang", "/take C-1001");
    api.wait_text("o-late", "Wang").await;
    api.close_window("o-late");
    tg.group_text(OPS_ROOM, WANG, "Wang", "/reply C-1001 请试试 465 端口");
    // "48 hours", not "48": a case's opening time can read 18:48.
    telegram_support::wait_text(&tg, OPS_ROOM, "48 hours").await;
    let detail = stack.stack.engine.get("C-1001").await.unwrap();
    assert!(
        detail.history.iter().any(|e| e.text.contains("48 hours")),
        "{:#?}",
        detail.history
    );
    stack.stop().await;
}
