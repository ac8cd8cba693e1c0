//! The real `supportbot serve` binary with a Telegram token: it answers a Telegram user through the fake Bot
//! API, stops cleanly on SIGTERM, and refuses a wrong token with a failure exit code and one clear sentence.
#![cfg(all(feature = "telegram", feature = "web"))]

mod support_telegram;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support_telegram::*;

fn write_config(dir: &std::path::Path, fake: &FakeTelegram, token: &str) -> std::path::PathBuf {
    let text = config_text(fake, &free_addr()).replace(TOKEN, token);
    let text = text.replacen(
        "[bot]\n",
        &format!(
            "[bot]\ndata_dir = \"{}\"\nfaq_dir = \"{}\"\n",
            dir.join("data").display(),
            dir.join("nofaq").display()
        ),
        1,
    );
    let path = dir.join("supportbot.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_telegram_users_and_stops_on_sigterm() {
    let fake = FakeTelegram::start(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &fake, TOKEN);
    let mut child = Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("TELEGRAM_BOT_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    fake.wait(WAIT, "polling", || (!fake.calls("getupdates").is_empty()).then_some(()))
        .await;
    fake.private_text(42, "Li", "发送邮件被退回 554 DT:SPM 怎么办");
    wait_text(&fake, 42, "ssl.smtp.qq.com").await;

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + WAIT;
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(exit.success(), "exit {exit:?}: {stderr}");
    assert!(
        !stderr.contains("E2E-telegram-token"),
        "the token is never logged: {stderr}"
    );
    assert_eq!(fake.pending_updates(), 0, "handled updates acknowledged at stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_wrong_token_with_a_clear_error() {
    let fake = FakeTelegram::start(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &fake, "424242:NOT-THE-TOKEN");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_supportbot"))
            .args(["serve", "--config"])
            .arg(&config)
            .env_remove("TELEGRAM_BOT_TOKEN")
            .output()
            .expect("serve runs")
    })
    .await
    .unwrap();
    // `serve` decides the code (1 today; `channels::telegram::is_config_error` tells a configuration fault).
    assert!(matches!(output.status.code(), Some(1 | 2)), "{:?}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("refused the bot token"), "{stderr}");
    assert!(
        !stderr.contains("NOT-THE-TOKEN") && !stderr.contains("panicked"),
        "{stderr}"
    );
}
