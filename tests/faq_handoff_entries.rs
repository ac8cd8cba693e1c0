//! Handoff entries (`handoff = true`): topics a knowledge base marks as its own but leaves to people. A message
//! whose best entry is one of them is handed off to that entry's category instead of being answered with the
//! nearest entry that has an answer; the entry is never offered or answered.

use std::process::Command;

mod faq_support;

use faq_support::team_faq;
use supportbot::faq::{Action, Faq};

/// A game's knowledge base: two answered topics, and selling accounts, which the team leaves to its trust
/// and safety people.
const GAME: &str = r#"
[[faq]]
id = "bind-phone"
category = "account"
questions.zh = ["怎么给游戏账号换绑手机", "账号绑定的手机号不用了", "换绑手机收不到验证码", "解绑手机号"]
questions.en = ["How do I change the phone bound to my account", "my old phone number is gone", "unbind my phone"]
answer.zh = "在「设置 > 账号安全 > 换绑手机」按提示验证旧手机或身份证后绑定新号码。"
answer.en = "Go to Settings > Account security > Change phone and verify with the old phone or your ID."

[[faq]]
id = "recharge-missing"
category = "billing"
questions.zh = ["充值了钻石没到账", "付了钱钻石没有加", "充值成功但是游戏里没钻石", "钻石充值延迟"]
questions.en = ["I paid but got no diamonds", "diamonds missing after top-up", "top-up not credited"]
answer.zh = "充值一般 5 分钟内到账；超过 30 分钟请重新登录游戏，仍未到账请提供订单号。"
answer.en = "Top-ups arrive within 5 minutes; after 30 minutes log in again, then send us the order number."
"#;

const TRADE: &str = r#"
[[faq]]
id = "account-trade"
category = "trust"
handoff = true
questions.zh = ["可以把游戏账号卖给别人吗", "买别人的账号安全吗", "账号交易被骗了"]
questions.en = ["can I sell my game account", "is buying an account allowed"]
"#;

#[test]
fn a_message_closest_to_a_handoff_entry_goes_to_its_category_and_is_never_answered_from_it() {
    let without = team_faq(GAME);
    let with = team_faq(&format!("{GAME}{TRADE}"));
    let question = "我想把我的账号卖给别人，怎么换绑手机给买家";
    // Without the handoff entry, the nearest entry with an answer takes the message.
    let d = without.decide(question);
    assert_eq!(d.action, Action::Answer, "{d:?}");
    assert_eq!(d.faq.as_deref(), Some("bind-phone"));

    let d = with.decide(question);
    assert_eq!(d.action, Action::Handoff, "{d:?}");
    assert_eq!(d.category.as_deref(), Some("trust"));
    assert!(d.faq.is_none() && d.answer.is_none() && !d.human_requested);
    // Candidates are entries with answers only (an operator may still use one).
    assert!(
        d.candidates.iter().all(|c| c.faq != "account-trade"),
        "{d:?}"
    );
    // The topics with answers are answered as before.
    let d = with.decide("换绑手机收不到验证码怎么办");
    assert_eq!(d.faq.as_deref(), Some("bind-phone"), "{d:?}");
    let d = with.decide("diamonds missing after I paid");
    assert_eq!(d.faq.as_deref(), Some("recharge-missing"), "{d:?}");
    // A handoff entry is listed with the others, but there is no entry to answer from by its id.
    assert!(with
        .entries()
        .iter()
        .any(|e| e.id == "account-trade" && e.handoff));
    assert!(with.entry("account-trade").is_none());
    assert!(with.entry("bind-phone").is_some());
    assert_eq!(
        with.handoff_entry(question)
            .map(|(e, sure)| (e.id.as_str(), sure)),
        Some(("account-trade", true))
    );
    assert!(with.handoff_entry("充值了钻石没到账").is_none());
}

#[test]
fn handoff_entries_do_not_change_how_the_answered_topics_are_weighed() {
    // Words of the handoff entries do not make the answered entries' words any rarer: the message that names
    // only what every answered entry shares is still offered as a choice, not handed off or answered.
    let with = team_faq(&format!("{GAME}{TRADE}"));
    let without = team_faq(GAME);
    for text in ["账号", "充值钻石", "换绑手机"] {
        let (a, b) = (with.explain(text), without.explain(text));
        assert_eq!(a, b, "{text}");
    }
}

#[test]
fn the_builtin_faq_hands_off_mail_features_it_does_not_answer() {
    let faq = Faq::builtin();
    for (question, category) in [
        ("邮件发错人了，想撤回", "mail"),
        ("can I recall an email I already sent", "mail"),
        ("邮箱满了收不了信", "features"),
    ] {
        let d = faq.decide(question);
        assert_eq!(d.action, Action::Handoff, "{question}: {d:?}");
        assert_eq!(d.category.as_deref(), Some(category), "{question}");
        assert!(!d.human_requested, "{question}");
        assert!(
            faq.handoff_entry(question).is_some_and(|(_, sure)| sure),
            "{question}"
        );
    }
    // The topics the FAQ answers still are.
    let d = faq.decide("发邮件被退回，提示554 DT:SPM");
    assert_eq!(d.faq.as_deref(), Some("mail-bounce-554"));
    let d = faq.decide("邮箱被盗了登不上去");
    assert_eq!(d.faq.as_deref(), Some("account-stolen"));
}

fn supportbot(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(args)
        .output()
        .expect("run supportbot")
}

#[test]
fn faq_check_refuses_an_answer_on_a_handoff_entry_and_export_marks_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("game.toml"), GAME).unwrap();
    let with_answer = format!("{TRADE}answer.zh = \"不能\"\nanswer.en = \"No\"\n");
    std::fs::write(dir.path().join("trade.toml"), &with_answer).unwrap();
    let path = dir.path().to_str().unwrap();
    let out = supportbot(&["faq", "check", path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("trade.toml:2: entry \"account-trade\" hands off to a person")
            && stderr.contains("takes no `answer`"),
        "{stderr}"
    );

    std::fs::write(dir.path().join("trade.toml"), TRADE).unwrap();
    let out = supportbot(&["faq", "check", path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = supportbot(&["faq", "export", path]);
    let entries: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_id = |id: &str| {
        entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id("account-trade")["handoff"], true);
    assert!(by_id("bind-phone").get("handoff").is_none());

    let elsewhere = tempfile::tempdir().unwrap();
    let config = elsewhere.path().join("supportbot.toml");
    std::fs::write(&config, format!("[bot]\nfaq_dir = {path:?}\n")).unwrap();
    let out = supportbot(&[
        "ask",
        "--config",
        config.to_str().unwrap(),
        "--explain",
        "我想把我的账号卖给别人，怎么换绑手机给买家",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("closest to handoff entry account-trade")
            && stderr.contains("a person of category trust"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("[handoff]"));
}
