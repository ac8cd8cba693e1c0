//! Shared parts of the tests of several `serve` processes on one PostgreSQL database: an instance's config with
//! the `forum` webhook channel, posting a user's message, and reading what the receiver got for a chat.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use crate::webhook_support::*;

/// The `forum` channel's signing secret.
pub const SECRET: &str = "forum-secret-9-0123456789";

/// The config of one instance: its own data directory (uploads), the shared database, an operator on the
/// `forum` channel, the channel's callback.
pub fn instance_config(dir: &Path, name: &str, url: &str, callback: &str) -> PathBuf {
    instance_config_with(dir, name, url, callback, "")
}

/// [`instance_config`] with `extra` config text at its end.
pub fn instance_config_with(
    dir: &Path,
    name: &str,
    url: &str,
    callback: &str,
    extra: &str,
) -> PathBuf {
    let data = dir.join(name);
    let text = config_text(
        &data,
        &format!(
            "[store]\nbackend = \"postgres\"\nurl = \"{url}\"\n\
             [web]\nlisten = \"127.0.0.1:0\"\ntoken = \"test-operator-token\"\n\
             [[operators]]\nname = \"Wang\"\naccounts = [\"forum:op1\"]\n\
             [[webhooks]]\nchannel = \"forum\"\nsecret = \"{SECRET}\"\ncallback_url = \"{callback}\"\n\
             {extra}"
        ),
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts instance `name` on the database `url`, its log beside its config.
pub fn start(dir: &Path, name: &str, url: &str, callback: &str) -> Serve {
    let config = instance_config(dir, name, url, callback);
    Serve::start(&config, &dir.join(format!("{name}.log")))
}

/// Posts one user message; the HTTP status (0 when the process did not answer).
pub async fn post(base: &str, chat: &str, id: &str, text: &str) -> u16 {
    let hook = format!("{base}/webhook/forum");
    let ts = now().to_string();
    let body = event(chat, id, text);
    let sig = signature(SECRET, &ts, body.as_bytes());
    let sent = reqwest::Client::new()
        .post(hook)
        .header("X-Supportbot-Timestamp", &ts)
        .header("X-Supportbot-Signature", sig)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await;
    sent.map_or(0, |r| r.status().as_u16())
}

/// Posts one user message and expects it acknowledged.
pub async fn say(base: &str, chat: &str, id: &str, text: &str) {
    assert_eq!(post(base, chat, id, text).await, 200, "{chat} {id}");
}

/// The callbacks to `chat`, in arrival order.
pub fn to_chat(rx: &Receiver, chat: &str) -> Vec<serde_json::Value> {
    rx.accepted("/cb")
        .into_iter()
        .filter(|a| a.body["chat"] == chat)
        .map(|a| a.body)
        .collect()
}
