//! `supportbot replay`, `cases` and `stats` through the real binary on real data directories.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use support::*;

fn lines(events: &[supportbot_chat::Inbound]) -> String {
    events.iter().map(|e| line(e) + "\n").collect()
}

/// A Telegram user opens a case; a Discord operator takes and answers it.
fn cross_platform() -> Vec<supportbot_chat::Inbound> {
    vec![
        dm("telegram", "42", "m1", "发送邮件被退回 554 DT:SPM"),
        dm("telegram", "42", "m2", "没帮助"),
        dm("telegram", "42", "m3", "转人工"),
        dm("telegram", "42", "m4", "带附件的邮件被退回"),
        dm("telegram", "42", "m5", "跳过"),
        dm("telegram", "42", "m6", "554 DT:SPM"),
        group("discord", "8001", "7001", "d1", "/take C-1001", true),
        dm("telegram", "42", "m7", "在吗?"),
        group(
            "discord",
            "8001",
            "7001",
            "d2",
            "/reply C-1001 请改用 ssl.smtp.qq.com",
            true,
        ),
        group(
            "discord",
            "8001",
            "7001",
            "d3",
            "/close C-1001 已解决",
            true,
        ),
        dm("telegram", "42", "m8", "5"),
    ]
}

fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

#[test]
fn telegram_users_case_is_answered_by_a_discord_operator() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let (out, stderr, status) = replay(
        &dir.path().join("data"),
        Some(&config),
        &lines(&cross_platform()),
    );
    assert!(status.status.success(), "{stderr}");
    let card = out
        .iter()
        .find(|v| field(v, "chat") == "8001" && field(v, "text").contains("/take"))
        .unwrap();
    assert_eq!(field(card, "platform"), "discord");
    assert_eq!(field(card, "case"), "C-1001");
    let reply = out
        .iter()
        .find(|v| field(v, "text") == "请改用 ssl.smtp.qq.com")
        .expect("the operator's answer");
    assert_eq!(
        (
            field(reply, "platform"),
            field(reply, "chat"),
            field(reply, "case")
        ),
        ("telegram", "42", "C-1001")
    );
    let relay = out
        .iter()
        .find(|v| field(v, "text").contains("在吗?"))
        .unwrap();
    assert_eq!(field(relay, "platform"), "discord");
    let rating = out
        .iter()
        .find(|v| field(v, "text").contains("已解决"))
        .unwrap();
    assert_eq!(
        rating["buttons"],
        serde_json::json!(["1", "2", "3", "4", "5"])
    );
    assert!(out.iter().all(|v| v.as_object().unwrap().keys().all(|k| {
        ["platform", "chat", "text", "buttons", "reply_to", "case"].contains(&k.as_str())
    })));
}

#[test]
fn output_is_deterministic() {
    let input = lines(&cross_platform());
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (ca, cb) = (write_config(a.path()), write_config(b.path()));
    let first = replay(&a.path().join("data"), Some(&ca), &input).2.stdout;
    let second = replay(&b.path().join("data"), Some(&cb), &input).2.stdout;
    assert!(!first.is_empty());
    assert_eq!(
        String::from_utf8(first).unwrap(),
        String::from_utf8(second).unwrap()
    );
}

#[test]
fn malformed_lines_are_reported_by_number_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let input = format!(
        "{}\nthis is not json\n{{\"platform\":\"web\"}}\n\n{}\n",
        line(&dm("web", "a", "1", "发送邮件被退回 554 DT:SPM")),
        line(&dm("web", "a", "2", "有帮助"))
    );
    let (out, stderr, status) = replay(&dir.path().join("data"), None, &input);
    assert!(status.status.success(), "{stderr}");
    assert!(stderr.contains("line 2:"), "{stderr}");
    assert!(stderr.contains("line 3:"), "{stderr}");
    assert!(!stderr.contains("line 5"), "{stderr}");
    assert_eq!(out.len(), 2);
    assert_eq!(field(&out[1], "reply_to"), "2");
}

#[test]
fn state_is_kept_between_two_runs_and_updates_are_handled_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let events = cross_platform();
    let (first, _, _) = replay(&data, Some(&config), &lines(&events[..6]));
    assert!(first.iter().any(|v| field(v, "text").contains("C-1001")));

    // The same updates again (a platform redelivering) plus the rest of the story.
    let (second, stderr, status) = replay(&data, Some(&config), &lines(&events));
    assert!(status.status.success(), "{stderr}");
    assert!(
        second.iter().all(|v| field(v, "reply_to") != "m1"),
        "m1 is not answered twice"
    );
    assert!(second
        .iter()
        .any(|v| field(v, "text") == "请改用 ssl.smtp.qq.com"));
    let (third, _, _) = replay(
        &data,
        Some(&config),
        &lines(&[
            dm("web", "z", "z1", "/human"),
            dm("web", "z", "z2", "跳过"),
            dm("web", "z", "z3", "跳过"),
            dm("web", "z", "z4", "跳过"),
        ]),
    );
    assert!(
        third.iter().any(|v| field(v, "case") == "C-1002"),
        "case numbers continue"
    );
}

#[test]
fn non_operators_trying_take_and_case_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let mut events = cross_platform()[..6].to_vec();
    events.push(dm("discord", "666", "x1", "/take C-1001"));
    events.push(dm("discord", "666", "x2", "/case C-1001"));
    let (out, _, _) = replay(&dir.path().join("data"), Some(&config), &lines(&events));
    let refusals: Vec<_> = out.iter().filter(|v| field(v, "chat") == "666").collect();
    assert_eq!(refusals.len(), 2);
    assert_eq!(refusals[0]["text"], refusals[1]["text"]);
    assert!(refusals
        .iter()
        .all(|v| v.get("case").is_none() && !field(v, "text").contains("1001")));
    let data = dir.path().join("data");
    let show = run(
        &["cases", "show", "C-1001", "--data", data.to_str().unwrap()],
        "",
    );
    let case: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(case["status"], "open");
    assert!(case["assignee"].is_null());
}

#[test]
fn guessing_a_case_link_code_from_many_web_sessions_fails() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let mut events = cross_platform()[..6].to_vec();
    // Five fresh web sessions each quote the case and try five codes (every code there is, in turn).
    let mut guess = 0u32;
    for s in 0..5 {
        let session = format!("attacker{s}");
        events.push(dm("web", &session, &format!("{session}-q"), "C-1001"));
        for g in 0..5 {
            events.push(dm(
                "web",
                &session,
                &format!("{session}-{g}"),
                &format!("{guess:06}"),
            ));
            guess += 1;
        }
    }
    let (out, _, _) = replay(&dir.path().join("data"), Some(&config), &lines(&events));
    let codes: Vec<_> = out
        .iter()
        .filter(|v| field(v, "chat") == "42" && field(v, "text").contains("验证码"))
        .collect();
    assert_eq!(codes.len(), 3, "three codes an hour reach the case's chat");
    let to_attackers: Vec<_> = out
        .iter()
        .filter(|v| field(v, "chat").starts_with("attacker"))
        .collect();
    assert!(
        to_attackers.iter().all(|v| v.get("case").is_none()),
        "{to_attackers:#?}"
    );
    assert!(!to_attackers
        .iter()
        .any(|v| field(v, "text").contains("验证成功")));
    let dropped = to_attackers
        .iter()
        .filter(|v| field(v, "text").contains("已取消"))
        .count();
    assert_eq!(dropped, 5, "every attempt ends after five wrong codes");
}

#[test]
fn cases_and_stats_commands_read_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    replay(&data, Some(&config), &lines(&cross_platform()));
    let d = data.to_str().unwrap();

    let list = run(&["cases", "list", "--data", d], "");
    assert!(list.status.success());
    let rows: Vec<Value> = String::from_utf8(list.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0]["id"].as_str(), rows[0]["status"].as_str()),
        (Some("C-1001"), Some("closed"))
    );

    let show = run(&["cases", "show", "1001", "--data", d], "");
    let case: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(case["rating"], 5);
    assert_eq!(case["team"], "mail");
    assert_eq!(case["error_codes"], serde_json::json!(["554 DT:SPM"]));
    let kinds: Vec<_> = case["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["opened", "assigned", "message", "message", "closed", "rated"]
    );

    let export = run(&["cases", "export", "--data", d], "");
    let all: Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["transcript"], case["transcript"]);

    let missing = run(&["cases", "show", "C-9999", "--data", d], "");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no case C-9999"));

    let stats = run(&["stats", "--data", d], "");
    let s: Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(s["cases"], 1);
    assert_eq!(s["handoffs_by_team"]["mail"], 1);
    assert_eq!(s["average_rating"], 5.0);
    assert_eq!(
        s["median_first_reply_secs"], 0.0,
        "all events share one timestamp"
    );
    assert_eq!(
        s["top_unanswered"][0]["question"],
        "发送邮件被退回 554 dt:spm"
    );

    let nowhere = run(
        &[
            "cases",
            "list",
            "--data",
            dir.path().join("nope").to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(nowhere.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("does not exist"));
}

#[test]
fn a_second_process_on_the_same_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut first = Command::new(binary())
        .args(["replay", "--data", data.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = first.stdin.take().unwrap();
    stdin
        .write_all(line(&dm("web", "a", "1", "/start")).as_bytes())
        .unwrap();
    stdin.write_all(b"\n").unwrap();
    stdin.flush().unwrap();
    // Wait until the first process answered, so it certainly holds the directory.
    let mut stdout = std::io::BufReader::new(first.stdout.take().unwrap());
    let mut answer = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut answer).unwrap();
    assert!(answer.contains("\"chat\":\"a\""), "{answer}");

    let (_, stderr, second) = replay(&data, None, "");
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stderr.contains("in use by another supportbot process"),
        "{stderr}"
    );
    assert!(stderr.contains(data.to_str().unwrap()), "{stderr}");
    drop(stdin);
    assert!(first.wait().unwrap().success());
}

#[test]
fn a_bad_config_is_a_usage_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[bot]\nname = \"x\"\ncolour = \"blue\"\n").unwrap();
    let (_, stderr, status) = replay(&dir.path().join("data"), Some(&config), "");
    assert_eq!(status.status.code(), Some(2));
    assert!(stderr.contains("bad.toml:3:"), "{stderr}");
}
