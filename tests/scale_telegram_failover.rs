//! Telegram long polling with two `serve` processes on one PostgreSQL database: one process polls the (fake)
//! Bot API at a time; when it is SIGKILLed, the other takes polling over and answers the next message.
#![cfg(all(feature = "telegram", feature = "web"))]

mod telegram_support;
mod webhook_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use telegram_support::{free_addr, wait_text, FakeTelegram, TOKEN};
use webhook_support::Serve;

/// `serve`'s config for instance `name`: the Telegram test config on the shared database.
fn instance_config(dir: &Path, name: &str, fake: &FakeTelegram, url: &str) -> PathBuf {
    let text = telegram_support::config_text(fake, &free_addr());
    let own = format!(
        "[bot]\ndata_dir = \"{}\"\nfaq_dir = \"{}\"\n",
        dir.join(name).display(),
        concat!(env!("CARGO_MANIFEST_DIR"), "/faq"),
    );
    let text = format!(
        "{}\n[store]\nbackend = \"postgres\"\nurl = \"{url}\"\n",
        text.replacen("[bot]\n", &own, 1)
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// `getUpdates` calls over `window` (the test config long-polls for 1 s: about one a second per poller).
async fn polls_during(fake: &FakeTelegram, window: Duration) -> usize {
    let from = Instant::now();
    tokio::time::sleep(window).await;
    fake.calls("getupdates")
        .iter()
        .filter(|c| c.at >= from)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_runs_in_one_process_and_moves_when_it_dies() {
    let Some(cluster) = supportbot_pg_cluster::shared() else {
        return;
    };
    let url = cluster.database("telegram_failover");
    let fake = FakeTelegram::start(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let mut a = Serve::start(
        &instance_config(dir.path(), "a", &fake, &url),
        &dir.path().join("a.log"),
    );
    fake.wait(Duration::from_secs(20), "A polls", || {
        (!fake.calls("getupdates").is_empty()).then_some(())
    })
    .await;
    let _b = Serve::start(
        &instance_config(dir.path(), "b", &fake, &url),
        &dir.path().join("b.log"),
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let polls = polls_during(&fake, Duration::from_secs(5)).await;
    assert!(
        (2..=7).contains(&polls),
        "one process polls (about one call a second), not two: {polls} calls in 5 s"
    );
    fake.private_text(42, "Li", "发送邮件被退回 554 DT:SPM 怎么办");
    wait_text(&fake, 42, "ssl.smtp.qq.com").await;

    // The polling process dies: the other starts polling and answers.
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let killed = Instant::now();
    fake.wait(Duration::from_secs(20), "B polls", || {
        fake.calls("getupdates")
            .iter()
            .any(|c| c.at > killed)
            .then_some(())
    })
    .await;
    let took_over = killed.elapsed();
    fake.private_text(43, "Han", "怎么设置邮件自动回复");
    telegram_support::wait_count(&fake, 43, 1).await;
    assert!(
        took_over < Duration::from_secs(15),
        "polling moved in {took_over:?}"
    );
}
