//! First contact through `supportbot replay`: the language of a first message with no words comes from the
//! platform's locale, waits are promised honestly (no minute estimate outside working hours, the quieter hours at
//! peak), and a customer with an account manager reaches that manager first.

mod support;

use serde_json::Value;
use support::*;
use supportbot_chat::Inbound;

fn with_locale(mut m: Inbound, locale: &str) -> Inbound {
    m.locale = Some(locale.into());
    m
}

fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn run_replay(config: &str, events: &[Inbound]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let input: String = events.iter().map(|e| line(e) + "\n").collect();
    let (out, stderr, status) = replay(&dir.path().join("data"), Some(&path), &input);
    assert!(status.status.success(), "{stderr}");
    out
}

fn texts_to(out: &[Value], chat: &str) -> Vec<String> {
    out.iter()
        .filter(|v| field(v, "chat") == chat)
        .map(|v| field(v, "text").to_string())
        .collect()
}

#[test]
fn a_first_human_command_follows_the_platform_locale() {
    let out = run_replay(
        CONFIG,
        &[with_locale(dm("telegram", "42", "m1", "/human"), "en")],
    );
    let first = &texts_to(&out, "42")[0];
    assert!(first.is_ascii(), "English for an English locale: {first}");
    // Without a locale, the default language.
    let out = run_replay(CONFIG, &[dm("telegram", "43", "m1", "/human")]);
    assert!(!texts_to(&out, "43")[0].is_ascii());
}

#[test]
fn the_users_words_win_over_the_locale() {
    let out = run_replay(
        CONFIG,
        &[with_locale(
            dm("telegram", "42", "m1", "my mail bounced with 554 DT:SPM"),
            "zh-CN",
        )],
    );
    let answer = &texts_to(&out, "42")[0];
    assert!(
        answer.contains("Did this help") || answer.is_ascii(),
        "{answer}"
    );
}

/// The intake of a case at `ts`.
fn case_at(user: &str, ts: &str) -> Vec<Inbound> {
    ["转人工", "附件邮件发不出去", "跳过", "跳过"]
        .iter()
        .enumerate()
        .map(|(i, t)| at(dm("telegram", user, &format!("{user}-{i}"), t), ts))
        .collect()
}

#[test]
fn a_case_opened_after_hours_promises_no_minutes_and_names_the_return() {
    let out = run_replay(CONFIG, &case_at("42", "2026-11-25T23:30:00+08:00"));
    let opened = texts_to(&out, "42")
        .into_iter()
        .find(|t| t.contains("C-1001"))
        .unwrap();
    assert!(!opened.contains("分钟"), "no minute estimate: {opened}");
    assert!(
        opened.contains("09:00"),
        "names when operators are back: {opened}"
    );
    assert!(opened.contains("明天"), "{opened}");
    let mut events = case_at("42", "2026-11-25T23:30:00+08:00");
    events.push(at(
        dm("telegram", "42", "s", "/status"),
        "2026-11-25T23:40:00+08:00",
    ));
    let out = run_replay(CONFIG, &events);
    let status = texts_to(&out, "42").pop().unwrap();
    assert!(
        status.contains("09:00") && !status.contains("分钟"),
        "{status}"
    );
}

#[test]
fn a_case_opened_at_peak_names_the_quieter_hours_and_the_queue_estimate() {
    let out = run_replay(CONFIG, &case_at("42", "2026-11-25T10:30:00+08:00"));
    let opened = texts_to(&out, "42")
        .into_iter()
        .find(|t| t.contains("C-1001"))
        .unwrap();
    assert!(opened.contains("5 分钟"), "{opened}");
    assert!(
        opened.contains("14:00-15:00"),
        "names the quieter hours: {opened}"
    );
}

const MANAGED: &str = r#"
[[operators]]
name = "Wang"
accounts = ["telegram:5001", "discord:7001"]
teams = ["mail"]

[[operators]]
name = "Li"
accounts = ["discord:7002"]
teams = ["mail"]

[[teams]]
name = "mail"
rooms = ["discord:8001"]

[customers]
enterprise_phone = "400-800-0000"

[[customers.managers]]
operator = "Wang"
accounts = ["telegram:42"]
"#;

#[test]
fn a_managed_customers_case_goes_to_the_manager_first() {
    let mut events = case_at("42", "2026-11-25T13:30:00+08:00");
    events.push(at(
        group("discord", "8001", "7002", "li", "/take C-1001", true),
        "2026-11-25T13:31:00+08:00",
    ));
    events.push(at(
        dm("telegram", "5001", "w", "/take C-1001"),
        "2026-11-25T13:32:00+08:00",
    ));
    let out = run_replay(MANAGED, &events);
    let to_manager = texts_to(&out, "5001");
    assert!(
        to_manager[0].contains("C-1001") && to_manager[0].contains("你的客户"),
        "{to_manager:?}"
    );
    let opened = texts_to(&out, "42")
        .into_iter()
        .find(|t| t.contains("C-1001"))
        .unwrap();
    assert!(
        opened.contains("Wang"),
        "the user's message names the manager: {opened}"
    );
    assert!(
        opened.contains("400-800-0000"),
        "and the phone line: {opened}"
    );
    let room = texts_to(&out, "8001");
    assert!(
        room.iter().all(|t| !t.contains("附件邮件发不出去")),
        "no card in the team room yet: {room:?}"
    );
    assert!(
        room.iter().any(|t| t.contains("Wang")),
        "Li's /take is refused, naming the manager: {room:?}"
    );
    assert!(
        to_manager
            .iter()
            .any(|t| t.contains("附件邮件发不出去") && t != &to_manager[0]),
        "the manager took it: {to_manager:?}"
    );
    assert!(
        texts_to(&out, "42")
            .iter()
            .any(|t| t.contains("客服 Wang 已接入")),
        "the user is told Wang joined"
    );
}

#[test]
fn a_manager_who_is_not_an_operator_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        MANAGED.replace("operator = \"Wang\"", "operator = \"Nobody\""),
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = run(
        &[
            "replay",
            "--config",
            path.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.toml:") && err.contains("Nobody"),
        "{err}"
    );
    assert!(!data.exists(), "nothing written");
}
