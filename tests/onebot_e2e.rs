//! The QQ channel as `serve` wires it (the real engine on sled, the real OneBot channel, the real web listener and,
//! where an operator answers, the real Telegram channel against the fake Bot API), talking to a fake OneBot
//! implementation: private answers, group addressing, a QQ user's case answered from Telegram, a dropped
//! connection, forward mode, and refused connections that store nothing.
#![cfg(all(feature = "onebot", feature = "web", feature = "telegram"))]

mod channel_stack;
mod onebot_support;
mod telegram_support;

use channel_stack::Stack;
use onebot_support::*;
use serde_json::json;
use supportbot::channels::onebot;
use supportbot::config::Config;
use supportbot_chat::CaseDirectory;
use telegram_support::{free_addr, FakeTelegram, OPS_ROOM, TOKEN as TG_TOKEN, WANG};

const QQ_TOKEN: &str = "onebot-token-for-tests";

/// Always open, never peak; Wang answers on Telegram, every team's cards go to the Telegram operator group.
fn config_text(listen: &str, onebot: &str, telegram: Option<&FakeTelegram>) -> String {
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
teams = ["mail", "security"]

[[teams]]
name = "security"
categories = ["account"]
rooms = ["telegram:{OPS_ROOM}"]

[[teams]]
name = "mail"
rooms = ["telegram:{OPS_ROOM}", "qq:group:999"]

[web]
listen = "{listen}"

{onebot}

{tg}

[outbox]
retry_base_ms = 50
retry_max_secs = 1
"#
    )
}

/// The stack with the QQ channel of `onebot_section` (and Telegram with `telegram_fake`).
struct Qq {
    stack: Stack,
    ws_url: String,
}

impl Qq {
    async fn start(onebot_section: &str, telegram_fake: Option<&FakeTelegram>) -> Qq {
        let listen = free_addr();
        let text = config_text(&listen, onebot_section, telegram_fake);
        let stack = Stack::start(&text, |config, engine, shutdown| {
            let qq = onebot::start(config, engine, shutdown)
                .unwrap()
                .expect("configured");
            (qq.router, qq.task.into_iter().collect())
        })
        .await;
        Qq {
            stack,
            ws_url: format!("ws://{listen}/onebot/v11/ws"),
        }
    }

    async fn stop(self) {
        self.stack.stop(WAIT).await;
    }
}

fn reverse() -> String {
    format!(
        "[onebot]\nmode = \"reverse\"\naccess_token = \"{QQ_TOKEN}\"\naction_timeout_secs = 1\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_qq_question_is_answered_as_a_reply() {
    let stack = Qq::start(&reverse(), None).await;
    let fake = FakeOneBot::new();
    fake.connect(&stack.ws_url, Some(QQ_TOKEN)).await.unwrap();
    fake.push(private(42, 7, json!("发邮件被退回 554 DT:SPM")));
    let answer = fake.wait_text("private", 42, "554").await;
    assert_eq!(segment(&answer, "reply").unwrap()["data"]["id"], "7");
    assert!(
        text_of(&answer).contains("1. "),
        "buttons become numbered choices: {}",
        text_of(&answer)
    );
    // A redelivered event (same message_id) is handled once.
    fake.push(private(42, 7, json!("发邮件被退回 554 DT:SPM")));
    fake.push(private(42, 8, json!("[CQ:face,id=1]谢谢 &#91;好的&#93;")));
    fake.wait("the second answer", |f| {
        (f.sent_to("private", 42).len() >= 2).then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        fake.sent_to("private", 42).len(),
        2,
        "{:#?}",
        fake.actions()
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_chatter_is_ignored_and_an_at_is_answered_with_reply_and_at() {
    let stack = Qq::start(&reverse(), None).await;
    let fake = FakeOneBot::new();
    fake.connect(&stack.ws_url, Some(QQ_TOKEN)).await.unwrap();
    fake.push(group(555, 42, 20, json!("今天天气不错 554 DT:SPM")));
    fake.push(group(
        555,
        43,
        21,
        json!([
            {"type": "at", "data": {"qq": SELF_ID.to_string()}},
            {"type": "text", "data": {"text": " 发邮件被退回 554 DT:SPM"}}
        ]),
    ));
    let answer = fake.wait_text("group", 555, "554").await;
    assert_eq!(segment(&answer, "reply").unwrap()["data"]["id"], "21");
    assert_eq!(
        segment(&answer, "at").unwrap()["data"]["qq"],
        "43",
        "the asker is @-mentioned"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        fake.sent_to("group", 555).len(),
        1,
        "the chatter got nothing: {:#?}",
        fake.actions()
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qq_users_case_is_taken_and_answered_by_a_telegram_operator() {
    let tg = FakeTelegram::start(TG_TOKEN).await;
    let stack = Qq::start(&reverse(), Some(&tg)).await;
    let fake = FakeOneBot::new();
    fake.connect(&stack.ws_url, Some(QQ_TOKEN)).await.unwrap();
    for (i, text) in ["转人工", "附件邮件发不出去", "跳过", "跳过"]
        .iter()
        .enumerate()
    {
        fake.push(private(42, 100 + i as i64, json!(text)));
        fake.wait("each step's answer", |f| {
            (f.sent_to("private", 42).len() > i).then_some(())
        })
        .await;
    }
    fake.wait_text("private", 42, "C-1001").await;
    telegram_support::wait_text(&tg, OPS_ROOM, "C-1001").await;
    tg.group_text(OPS_ROOM, WANG, "Wang", "/take C-1001");
    fake.wait_text("private", 42, "Wang").await;
    tg.group_text(OPS_ROOM, WANG, "Wang", "/reply C-1001 请换用 ssl 端口 465");
    fake.wait_text("private", 42, "请换用 ssl 端口 465").await;
    fake.push(private(42, 200, json!("好的,我试试")));
    telegram_support::wait_text(&tg, OPS_ROOM, "好的,我试试").await;
    let detail = stack.stack.engine.get("C-1001").await.unwrap();
    assert_eq!(detail.summary.channel, "qq");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qq_operator_works_a_case_from_a_qq_group_room() {
    let section = format!(
        "{}\n[[operators]]\nname = \"Qin\"\naccounts = [\"qq:6001\"]\nteams = [\"mail\"]\n",
        reverse()
    );
    let stack = Qq::start(&section, None).await;
    let fake = FakeOneBot::new();
    fake.connect(&stack.ws_url, Some(QQ_TOKEN)).await.unwrap();
    for (i, text) in ["转人工", "附件邮件发不出去", "跳过", "跳过"]
        .iter()
        .enumerate()
    {
        fake.push(private(42, 300 + i as i64, json!(text)));
        fake.wait("each step's answer", |f| {
            (f.sent_to("private", 42).len() > i).then_some(())
        })
        .await;
    }
    let card = fake.wait_text("group", 999, "C-1001").await;
    fake.push(group(999, 6001, 400, json!("/take C-1001")));
    fake.wait_text("private", 42, "Qin").await;
    // A reply to the case card is a reply to the user.
    let card_id = card["_message_id"].to_string();
    fake.push(group(
        999,
        6001,
        401,
        json!([
            {"type": "reply", "data": {"id": card_id}},
            {"type": "text", "data": {"text": "请用 465 端口"}}
        ]),
    ));
    fake.wait_text("private", 42, "请用 465 端口").await;
    fake.push(private(42, 402, json!("好的")));
    fake.wait_text("group", 999, "好的").await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_survives_the_connection_dropping_mid_stream() {
    let stack = Qq::start(&reverse(), None).await;
    let fake = FakeOneBot::new();
    fake.connect(&stack.ws_url, Some(QQ_TOKEN)).await.unwrap();
    // The implementation takes the action but the connection drops before it answers.
    fake.set_silent(true);
    fake.push(private(42, 7, json!("发邮件被退回 554 DT:SPM")));
    fake.wait("the first attempt", |f| {
        (!f.sent_to("private", 42).is_empty()).then_some(())
    })
    .await;
    fake.drop_connection();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    fake.set_silent(false);
    fake.connect(&stack.ws_url, Some(QQ_TOKEN)).await.unwrap();
    let attempts = fake
        .wait("a retry after reconnecting", |f| {
            let sent = f.sent_to("private", 42);
            (sent.len() >= 2).then_some(sent)
        })
        .await;
    assert_eq!(text_of(&attempts[0]), text_of(attempts.last().unwrap()));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused_and_stores_nothing() {
    let stack = Qq::start(&reverse(), None).await;
    let fake = FakeOneBot::new();
    assert_eq!(
        fake.connect(&stack.ws_url, Some("not-the-token")).await,
        Err(401)
    );
    assert_eq!(fake.connect(&stack.ws_url, None).await, Err(401));
    assert!(stack.stack.engine.list(true).await.is_empty());
    assert!(fake.actions().is_empty());
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_mode_connects_with_the_token_and_answers() {
    let fake = FakeOneBot::new();
    let url = fake.listen().await;
    let section =
        format!("[onebot]\nmode = \"forward\"\nurl = \"{url}\"\naccess_token = \"{QQ_TOKEN}\"\n");
    let stack = Qq::start(&section, None).await;
    fake.wait("the bot's connection", |f| {
        (!f.authorizations().is_empty() && f.connected()).then_some(())
    })
    .await;
    assert_eq!(
        fake.authorizations()[0].as_deref(),
        Some(format!("Bearer {QQ_TOKEN}").as_str())
    );
    fake.push(private(42, 7, json!("发邮件被退回 554 DT:SPM")));
    fake.wait_text("private", 42, "554").await;
    // The implementation restarts: the bot connects again by itself.
    fake.drop_connection();
    fake.wait("a second connection", |f| {
        (f.authorizations().len() >= 2 && f.connected()).then_some(())
    })
    .await;
    fake.push(private(43, 8, json!("发邮件被退回 554 DT:SPM")));
    fake.wait_text("private", 43, "554").await;
    stack.stop().await;
}

#[test]
fn forward_mode_without_a_url_is_a_config_error() {
    let text = config_text("127.0.0.1:0", "[onebot]\nmode = \"forward\"\n", None);
    let err = Config::parse(&text, "bad.toml").unwrap_err().to_string();
    assert!(
        err.starts_with("bad.toml:") && err.contains("needs a url"),
        "{err}"
    );
}

#[test]
fn serve_refuses_an_open_reverse_endpoint_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_addr().rsplit(':').next().unwrap().to_string();
    let text = config_text(
        &format!("0.0.0.0:{port}"),
        "[onebot]\nmode = \"reverse\"\n",
        None,
    );
    let path = dir.path().join("supportbot.toml");
    std::fs::write(
        &path,
        format!(
            "[bot]\ndata_dir = {:?}\n{text}",
            dir.path().join("data").display().to_string()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(["serve", "--config"])
        .arg(&path)
        .env_remove("ONEBOT_ACCESS_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("access_token"), "{err}");
}
