//! The real `supportbot serve` binary with a Telegram token: it answers a Telegram user through the fake Bot
//! API, stops cleanly on SIGTERM, and refuses a wrong token with a failure exit code and one clear sentence.
#![cfg(all(feature = "telegram", feature = "web"))]

mod telegram_support;

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use telegram_support::*;

fn write_config(dir: &std::path::Path, fake: &FakeTelegram, token: &str) -> std::path::PathBuf {
    let text = config_text(fake, &free_addr()).replace(TOKEN, token);
    let paths = format!(
        "[bot]\ndata_dir = \"{}\"\nfaq_dir = \"{}\"\n",
        dir.join("data").display(),
        dir.join("nofaq").display()
    );
    let path = dir.join("supportbot.toml");
    std::fs::write(&path, text.replacen("[bot]\n", &paths, 1)).unwrap();
    path
}

/// A running `serve`, killed if the test fails before it exits.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl Serve {
    fn start(config: &std::path::Path) -> Serve {
        let child = Command::new(env!("CARGO_BIN_EXE_supportbot"))
            .args(["serve", "--config"])
            .arg(config)
            .env_remove("TELEGRAM_BOT_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        Serve(child)
    }

    /// Waits for the process to end (fails the test after [`WAIT`]); returns its status and stderr.
    async fn exit(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "serve did not exit in time");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let mut stderr = String::new();
        if let Some(mut pipe) = self.0.stderr.take() {
            std::io::Read::read_to_string(&mut pipe, &mut stderr).unwrap();
        }
        (status, stderr)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_telegram_users_and_stops_on_sigterm() {
    let fake = FakeTelegram::start(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(&write_config(dir.path(), &fake, TOKEN));
    fake.wait(WAIT, "polling", || {
        (!fake.calls("getupdates").is_empty()).then_some(())
    })
    .await;
    fake.private_text(42, "Li", "发送邮件被退回 554 DT:SPM 怎么办");
    wait_text(&fake, 42, "ssl.smtp.qq.com").await;

    let status = Command::new("kill")
        .args(["-TERM", &serve.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (exit, stderr) = serve.exit().await;
    assert!(exit.success(), "exit {exit:?}: {stderr}");
    assert!(
        !stderr.contains("E2E-telegram-token"),
        "the token is never logged: {stderr}"
    );
    assert_eq!(
        fake.pending_updates(),
        0,
        "handled updates acknowledged at stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_wrong_token_with_a_clear_error() {
    let fake = FakeTelegram::start(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(&write_config(dir.path(), &fake, "424242:NOT-THE-TOKEN"));
    let (exit, stderr) = serve.exit().await;
    // `serve` decides the code (1 today; `channels::telegram::is_config_error` tells a configuration fault).
    assert_eq!(
        exit.code(),
        Some(2),
        "a refused token is a config error: {exit:?}"
    );
    assert!(stderr.contains("refused the bot token"), "{stderr}");
    assert!(
        !stderr.contains("NOT-THE-TOKEN") && !stderr.contains("panicked"),
        "{stderr}"
    );
}
