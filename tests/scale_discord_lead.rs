//! The Discord gateway on a PostgreSQL store: `supportbot serve` holds the gateway connection while it leads
//! the gateway; when the database connection holding the lead is killed, the process closes the gateway, asks
//! for the lead again, connects again once it has it, and answers DMs as before.
#![cfg(all(feature = "discord", feature = "web", feature = "webhook"))]

#[path = "../adapters/discord/tests/support/fake_discord/mod.rs"]
mod fake_discord;
mod webhook_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use fake_discord::{FakeDiscord, TOKEN};
use webhook_support::{config_text, Serve};

/// `serve`'s config: the Discord channel against the fake, on the shared database.
fn instance_config(dir: &Path, fake: &FakeDiscord, url: &str) -> PathBuf {
    let text = config_text(
        &dir.join("data"),
        &format!(
            "[web]\nlisten = \"127.0.0.1:0\"\ntoken = \"test-operator-token\"\n\
             [discord]\ntoken = \"{TOKEN}\"\napi_url = \"{api}\"\n\
             [store]\nbackend = \"postgres\"\nurl = \"{url}\"\n",
            api = fake.api_url
        ),
    );
    let path = dir.join("supportbot.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_reconnects_when_the_lost_lead_comes_back() {
    let Some(cluster) = supportbot_pg_cluster::shared() else {
        return;
    };
    let url = cluster.database("discord_lead");
    let database = url.rsplit('/').next().unwrap().to_string();
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let _serve = Serve::start(&instance_config(dir.path(), &fake, &url), &log);
    fake.wait_for("serve to connect", Duration::from_secs(60), |f| {
        f.connected().then_some(())
    })
    .await;
    assert_eq!(fake.sessions().0, 1, "one gateway session");
    fake.dm(42, "my mail bounced with 554 DT:SPM");
    fake.wait_sent_in(fake.dm_channel(42), 1).await;

    // The database connection holding the lead dies: the process stops the gateway and leads again.
    let killed = cluster.psql(
        &database,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks \
         WHERE locktype = 'advisory' AND classid = x'53420002'::int AND granted",
    );
    assert_eq!(killed.trim(), "1", "one connection held the lead");
    fake.wait_for("a new gateway session", Duration::from_secs(30), |f| {
        (f.sessions().0 >= 2 && f.connected()).then_some(())
    })
    .await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("lost the lead of the Discord gateway"),
        "the process said why it reconnected:\n{text}"
    );
    let asked = fake.dm(43, "my mail bounced with 554 DT:SPM");
    let sent = fake.wait_sent_in(fake.dm_channel(43), 1).await;
    assert_eq!(sent[0].reply_to(), Some(asked.to_string()));
    assert_eq!(fake.sessions().0, 2, "one new session, not more");
}
