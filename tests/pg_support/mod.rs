//! Helpers of the PostgreSQL tests: a fresh database on the test binary's throw-away cluster (see the
//! `supportbot-pg-cluster` crate; skipped when PostgreSQL is not installed), SQL through `psql`, records (those
//! of the store's unit tests, from `supportbot::store::fixtures`) and runs of the binary.
#![allow(dead_code)]

use supportbot::config::DatabaseUrl;
use supportbot::store::postgres::PgStore;
use supportbot::store::{Backend, Commit, StoreError, Stored};
use supportbot_pg_cluster::PgCluster;

/// The records the store's own unit tests use (each test binary uses some of them).
#[allow(unused_imports)]
pub use supportbot::store::fixtures::{case, conversation, inbound, line, now, outbox_item};

/// A fresh database on the shared cluster.
pub struct Db {
    pub cluster: &'static PgCluster,
    pub url: String,
    pub name: String,
}

impl Db {
    /// `None` (after a message) when PostgreSQL is not installed and not required.
    pub async fn new(hint: &str) -> Option<Db> {
        let hint = hint.to_string();
        tokio::task::spawn_blocking(move || {
            let cluster = supportbot_pg_cluster::shared()?;
            let url = cluster.database(&hint);
            let name = url.rsplit('/').next().unwrap().to_string();
            Some(Db { cluster, url, name })
        })
        .await
        .unwrap()
    }

    pub fn database_url(&self) -> DatabaseUrl {
        parse_url(&self.url)
    }

    /// A store on the database, as one process opens it.
    pub async fn open(&self) -> PgStore {
        PgStore::open(&self.database_url()).await.unwrap()
    }

    /// Runs SQL on the database and returns what it printed.
    pub fn psql(&self, sql: &str) -> String {
        self.cluster.psql(&self.name, sql)
    }

    /// Seconds left on the shortest lease `owner` holds.
    pub fn lease_seconds_left(&self, owner: &str) -> i64 {
        self.psql(&format!(
            "SELECT floor(extract(epoch FROM min(lease_until) - now())) FROM outbox WHERE lease_owner = '{owner}'"
        ))
        .parse()
        .unwrap()
    }
}

pub fn parse_url(text: &str) -> DatabaseUrl {
    DatabaseUrl::parse(text).unwrap()
}

/// Stores a conversation in a step of its own.
pub async fn commit_conversation(
    store: &PgStore,
    key: &str,
    name: &str,
) -> Result<Stored, StoreError> {
    let step = store.begin_step(key).await?;
    let mut commit = Commit::default();
    commit
        .writes
        .conversations
        .insert(key.into(), conversation(key, name));
    step.commit(commit).await
}

/// Runs the `supportbot` binary with `args`, `stdin` and extra environment variables (`DATABASE_URL` is removed
/// unless given).
pub fn run(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> std::process::Output {
    use std::io::Write;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_supportbot"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A private message from `user` on `platform`, as a replay line.
pub fn dm(platform: &str, user: &str, id: &str, text: &str) -> String {
    serde_json::json!({
        "platform": platform, "chat": user, "user": user, "name": format!("user{user}"), "id": id,
        "text": text, "group": false, "mention": false, "ts": "2026-11-25T13:30:00+08:00",
    })
    .to_string()
}

/// A group message addressed to the bot, as a replay line.
pub fn group(platform: &str, chat: &str, user: &str, id: &str, text: &str) -> String {
    serde_json::json!({
        "platform": platform, "chat": chat, "user": user, "name": format!("user{user}"), "id": id,
        "text": text, "group": true, "mention": true, "ts": "2026-11-25T13:30:00+08:00",
    })
    .to_string()
}

/// Operators and teams for the replays.
pub const CONFIG: &str = r#"
[hours]
timezone = "+08:00"
open = "09:00-22:00"

[[operators]]
name = "Wang"
accounts = ["discord:7001"]
teams = ["mail"]

[[teams]]
name = "mail"
rooms = ["discord:8001"]

[limits]
messages_per_minute = 6000
message_burst = 1000
"#;
