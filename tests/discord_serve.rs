//! `supportbot serve` (the real binary) with a Discord token: a refused token stops the start with one clear
//! sentence, and a good one (from `DISCORD_BOT_TOKEN`) answers a Discord DM.
#![cfg(all(feature = "discord", feature = "web"))]

#[path = "../adapters/discord/tests/support/fake_discord/mod.rs"]
mod fake_discord;

use std::process::Stdio;
use std::time::Duration;

use fake_discord::{FakeDiscord, TOKEN};
use tokio::process::Command;

fn write_config(dir: &std::path::Path, fake: &FakeDiscord) -> std::path::PathBuf {
    let text = format!(
        "[bot]\ndata_dir = \"{data}\"\nfaq_dir = \"{faq}\"\n\n[hours]\nopen = \"00:00-24:00\"\npeak = []\n\n\
         [web]\nlisten = \"127.0.0.1:0\"\n\n[discord]\napi_url = \"{api}\"\n",
        data = dir.join("data").display(),
        faq = dir.join("no-faq-here").display(),
        api = fake.api_url,
    );
    let path = dir.join("supportbot.toml");
    std::fs::write(&path, text).expect("config written");
    path
}

fn serve(config: &std::path::Path, token: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_supportbot"));
    cmd.args(["serve", "--config"])
        .arg(config)
        .env("DISCORD_BOT_TOKEN", token)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_stops_serve_with_a_clear_sentence() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &fake);
    let run = serve(&config, "wrong-token-value").output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("serve exits")
        .expect("ran");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a refused token is a config error: {stderr}"
    );
    assert!(stderr.contains("Discord refused the bot token"), "{stderr}");
    assert!(stderr.contains("DISCORD_BOT_TOKEN"), "{stderr}");
    assert!(
        !stderr.contains("wrong-token-value"),
        "the token never appears: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_a_token_answers_discord_dms() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &fake);
    let mut child = serve(&config, TOKEN).spawn().expect("serve starts");
    fake.wait_for("serve to connect", Duration::from_secs(60), |f| {
        f.connected().then_some(())
    })
    .await;
    let asked = fake.dm(42, "my mail bounced with 554 DT:SPM");
    let sent = fake.wait_sent_in(fake.dm_channel(42), 1).await;
    assert_eq!(sent[0].reply_to(), Some(asked.to_string()));
    assert!(sent[0].content().contains("smtp"), "{}", sent[0].content());
    let _ = child.kill().await;
}
