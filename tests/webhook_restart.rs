//! The real binary: `supportbot serve` is SIGKILLed in the middle of a webhook backlog and restarted; the
//! backlog is still delivered, each id once, in order. `supportbot outbox list|retry|drop` works on the stopped
//! bot's data directory and, through its control directory, on the running bot.
#![cfg(all(feature = "webhook", feature = "web"))]

mod webhook_support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use webhook_support::*;

const SECRET: &str = "forum-secret-4-0123456789";
const BIN: &str = env!("CARGO_BIN_EXE_supportbot");

/// Runs `supportbot outbox ARGS --data DIR`; returns the exit code, stdout and stderr.
async fn outbox(data: &Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("outbox").args(args).arg("--data").arg(data);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rows(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `/metrics`, with the operator token the config sets (no metrics token of its own).
async fn metrics(base: &str) -> String {
    reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth("test-operator-token")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backlog_survives_sigkill_and_is_managed_from_the_cli() {
    let rx = Receiver::start(&[("/cb", SECRET)], vec![]).await;
    rx.accept_only(2);
    let dir = tempfile::tempdir().unwrap();
    let data: PathBuf = dir.path().join("data");
    let config = dir.path().join("supportbot.toml");
    // Long backoff: after a refusal nothing is retried for 30 s or more unless `outbox retry` says so.
    let text = config_text(
        &data,
        &format!(
            "[web]\nlisten = \"127.0.0.1:0\"\ntoken = \"test-operator-token\"\n\
             [outbox]\nretry_base_ms = 60000\nretry_max_secs = 120\n\
             [[webhooks]]\nchannel = \"forum\"\nsecret = \"{SECRET}\"\ncallback_url = \"{}/cb\"\n",
            rx.base
        ),
    );
    std::fs::write(&config, text).unwrap();

    // First run: six questions from two users; the receiver takes two replies, then refuses.
    let mut serve = Serve::start(&config, &config.with_file_name("serve.log"));
    let hook = format!("{}/webhook/forum", serve.base);
    let mut sent = Vec::new();
    for i in 0..3 {
        for chat in ["u1", "u2"] {
            let id = format!("{chat}-q{i}");
            let (status, json) =
                post_signed(&hook, SECRET, &event(chat, &id, "554 DT:SPM 怎么办"), now()).await;
            assert_eq!(status, 200, "{json}");
            sent.push((chat, id));
        }
    }
    wait_until("two accepted, two refused", Duration::from_secs(30), || {
        let a = rx.attempts();
        a.iter().filter(|x| x.answer == "200").count() == 2
            && a.iter().filter(|x| x.answer == "503").count() >= 2
    })
    .await;
    // The six answers are queued as their questions are handled; wait until all four undelivered ones are.
    let backlog = "supportbot_outbox_backlog{destination=\"forum\"} 4";
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut text = metrics(&serve.base).await;
    while !text.contains(backlog) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        text = metrics(&serve.base).await;
    }
    assert!(text.contains(backlog), "{text}");
    // Let the store's background flush record the two deliveries, then kill -9 in the middle of the backlog.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    serve.child.kill().unwrap();
    serve.child.wait().unwrap();

    // Offline: the backlog is on disk.
    let (code, stdout, stderr) = outbox(&data, &["list"]).await;
    assert_eq!(code, 0, "{stderr}");
    let waiting = rows(&stdout);
    assert_eq!(waiting.len(), 4, "{stdout}");
    assert!(waiting.iter().all(|r| r["destination"] == "forum"));
    assert!(stderr.contains("4 undelivered (forum: 4)"), "{stderr}");
    let (code, stdout, _) = outbox(&data, &["retry"]).await;
    assert_eq!(code, 0);
    assert!(stdout.starts_with("4 undelivered"), "{stdout}");
    let (code, _, stderr) = outbox(&data, &["drop", "no-such-id"]).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no undelivered message no-such-id"),
        "{stderr}"
    );

    // Second run, receiver still refusing: the recovered items are tried at once and refused again.
    rx.set_refusing(true);
    let before = rx.attempts().len();
    let mut serve = Serve::start(&config, &config.with_file_name("serve.log"));
    wait_until(
        "the recovered items are tried",
        Duration::from_secs(30),
        || rx.attempts().len() >= before + 2,
    )
    .await;
    // Online: the CLI reaches the running bot through its control directory.
    let (code, stdout, stderr) = outbox(&data, &["list"]).await;
    assert_eq!(code, 0, "{stderr}");
    let waiting = rows(&stdout);
    assert_eq!(waiting.len(), 4, "{stdout}");
    assert!(waiting.iter().any(|r| r["attempts"].as_u64() >= Some(1)
        && r["last_error"].as_str().is_some_and(|e| e.contains("503"))));
    // Drop the last reply to u1 (seq number form), then let the receiver accept and retry now.
    let last_u1 = waiting
        .iter()
        .rev()
        .find(|r| r["order_key"] == "forum:u1")
        .unwrap()
        .clone();
    let (code, stdout, stderr) = outbox(&data, &["drop", &last_u1["seq"].to_string()]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(last_u1["id"].as_str().unwrap()), "{stdout}");
    rx.accept_all();
    let (code, stdout, stderr) = outbox(&data, &["retry"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("retried now"), "{stdout}");
    // Without the retry the next attempt would be 30 s or more away.
    wait_until("the backlog delivered", Duration::from_secs(20), || {
        rx.accepted("/cb").len() == 5
    })
    .await;
    let text = metrics(&serve.base).await;
    assert!(
        !text.contains("supportbot_outbox_backlog{destination=\"forum\"} "),
        "{text}"
    );

    // Each id once; per chat in question order; the dropped reply never sent.
    let accepted = rx.accepted("/cb");
    let keys: HashSet<&str> = accepted.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys.len(), 5);
    assert!(!keys.contains(last_u1["id"].as_str().unwrap()));
    assert!(accepted.iter().all(|a| a.signature_ok == Some(true)));
    for chat in ["u1", "u2"] {
        let got: Vec<&str> = accepted
            .iter()
            .filter(|a| a.body["chat"] == chat)
            .filter_map(|a| a.body["reply_to"].as_str())
            .collect();
        let mut expected: Vec<&str> = sent
            .iter()
            .filter(|(c, _)| *c == chat)
            .map(|(_, id)| id.as_str())
            .collect();
        if chat == "u1" {
            expected.pop();
        }
        assert_eq!(got, expected, "{chat}");
    }
    // A clean stop (SIGTERM) exits 0.
    Command::new("kill")
        .arg("-TERM")
        .arg(serve.child.id().to_string())
        .status()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || serve.child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
}
