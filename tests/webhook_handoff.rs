//! A webhook user's case answered by an operator working on Telegram (operator commands arrive as Inbound from
//! platform `telegram`), with every case event forwarded to a JSON helpdesk hook (signed) and a Slack hook.
#![cfg(feature = "webhook")]

mod webhook_support;

use std::time::Duration;

use supportbot::config::Config;
use supportbot_chat::{Adapter, Inbound, InboundSink};
use webhook_support::*;

const SECRET: &str = "forum-secret-3-0123456789";
const DESK_SECRET: &str = "desk-secret-0123456789";

fn telegram(id: &str, text: &str) -> Inbound {
    serde_json::from_value(serde_json::json!({
        "platform": "telegram", "chat": "5001", "user": "5001", "name": "Wang", "id": id, "text": text
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_users_case_is_answered_from_telegram_and_forwarded() {
    let rx = Receiver::start(&[("/cb", SECRET), ("/desk", DESK_SECRET)], vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        dir.path(),
        &format!(
            "[[operators]]\nname = \"Wang\"\naccounts = [\"telegram:5001\"]\n\
             [[webhooks]]\nchannel = \"forum\"\nsecret = \"{SECRET}\"\ncallback_url = \"{base}/cb\"\n\
             [[forward]]\nname = \"desk\"\nurl = \"{base}/desk\"\nsecret = \"{DESK_SECRET}\"\n\
             [[forward]]\nname = \"team-slack\"\nurl = \"{base}/slack\"\nformat = \"slack\"\n\
             events = [\"opened\", \"closed\"]\n",
            base = rx.base
        ),
    );
    let config = Config::parse(&text, "t.toml").unwrap();
    let tg = Recorder::new("telegram");
    let tg_adapter: std::sync::Arc<dyn Adapter> = tg.clone();
    let bot = Bot::start(&config, vec![tg_adapter]).await;

    // The user asks for a person and goes through the intake on the forum bridge.
    let steps = [
        ("m1", "/human"),
        ("m2", "邮件发不出去 <script>alert(1)</script>"),
        ("m3", "Skip"),
        ("m4", "Skip"),
    ];
    for (id, text) in steps {
        let (status, _) = post_signed(&bot.hook(), SECRET, &event("u1", id, text), now()).await;
        assert_eq!(status, 200);
    }
    wait_until("the case number", Duration::from_secs(20), || {
        rx.accepted("/cb")
            .iter()
            .any(|a| a.body["case"].is_string())
    })
    .await;
    let case = rx
        .accepted("/cb")
        .iter()
        .find_map(|a| a.body["case"].as_str().map(String::from))
        .unwrap();
    assert!(case.starts_with("C-"), "{case}");

    // The operator works the case from Telegram.
    let ops = [
        ("t1", format!("/take {case}")),
        (
            "t2",
            format!("/reply {case} 请把 SMTP 服务器改为 ssl.smtp.qq.com & retry"),
        ),
        ("t3", format!("/note {case} smtp host fixed")),
        ("t4", format!("/close {case} fixed")),
    ];
    for (id, text) in &ops {
        bot.engine.accept(telegram(id, text)).await.unwrap();
    }
    wait_until("the rating prompt", Duration::from_secs(20), || {
        rx.accepted("/cb")
            .iter()
            .any(|a| a.body["buttons"].as_array().is_some_and(|b| b.len() == 5))
    })
    .await;
    let (status, _) = post_signed(&bot.hook(), SECRET, &event("u1", "m5", "5"), now()).await;
    assert_eq!(status, 200);
    wait_until("everything delivered", Duration::from_secs(20), || {
        bot.engine.outbox_list().is_empty()
            && rx
                .accepted("/desk")
                .iter()
                .any(|a| a.body["kind"] == "rated")
    })
    .await;

    // The user got the operator's answer on the forum bridge, in the case, signed.
    let to_user = rx.accepted("/cb");
    assert!(to_user.iter().all(|a| a.signature_ok == Some(true)));
    let reply = to_user
        .iter()
        .find(|a| a.body["text"] == "请把 SMTP 服务器改为 ssl.smtp.qq.com & retry")
        .expect("the operator's reply reached the user");
    assert_eq!(
        (reply.body["chat"].as_str(), reply.body["case"].as_str()),
        (Some("u1"), Some(case.as_str()))
    );
    // The operator saw the case on Telegram.
    assert!(
        tg.texts().iter().any(|t| t.contains(&case)),
        "{:?}",
        tg.texts()
    );

    // The helpdesk got every event in order, signed, each once.
    let desk = rx.accepted("/desk");
    assert!(desk.iter().all(|a| a.signature_ok == Some(true)));
    let kinds: Vec<&str> = desk
        .iter()
        .map(|a| a.body["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["opened", "assigned", "message", "note", "closed", "rated"]
    );
    assert!(desk
        .iter()
        .all(|a| a.body["case"] == case.as_str() && a.body["id"] == a.key.as_str()));
    let keys: std::collections::HashSet<&str> = desk.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys.len(), desk.len());
    assert_eq!(desk[3].body["text"], "smtp host fixed");

    // The Slack hook got only the kinds it asked for, unsigned, with user text escaped.
    let slack = rx.accepted("/slack");
    assert_eq!(slack.len(), 2);
    assert!(slack.iter().all(|a| a.signature_ok.is_none()));
    let opened = slack[0].body["text"].as_str().unwrap();
    assert!(
        opened.starts_with(&format!("*{case}* opened by")),
        "{opened}"
    );
    assert!(!opened.contains('<') && !opened.contains('>'), "{opened}");
    assert!(opened.contains("&lt;script&gt;"), "{opened}");
    assert!(slack[1].body["text"]
        .as_str()
        .unwrap()
        .contains("closed by Wang"));
    bot.stop().await;
}
