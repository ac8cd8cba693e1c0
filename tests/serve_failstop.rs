//! `supportbot serve` on a data directory whose file system fills up (a small tmpfs): once the store fails,
//! webhook events are refused at once (503, so the platform redelivers), `/healthz` answers 503 naming the
//! path, the process stops on SIGTERM without hanging, and after space is freed a restart accepts again with
//! every event it acknowledged before still stored (its redelivery is a duplicate).
#![cfg(all(feature = "web", feature = "webhook"))]

mod tmpfs;
mod webhook_support;

use std::path::Path;
use std::time::{Duration, Instant};

use tmpfs::Tmpfs;
use webhook_support::*;

const SECRET: &str = "forum-secret-for-failstop";

/// Starts `serve` in `dir` with `config.toml` and its log in `stderr.log`.
fn start(dir: &Path) -> Serve {
    Serve::start(&dir.join("config.toml"), &dir.join("stderr.log"))
}

async fn healthz(serve: &Serve) -> (u16, serde_json::Value) {
    let resp = reqwest::get(format!("{}/healthz", serve.base))
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

async fn post(serve: &Serve, user: &str, id: &str) -> (u16, serde_json::Value) {
    let url = format!("{}/webhook/forum", serve.base);
    let body = event(user, id, "发送邮件被退回 554 DT:SPM 怎么办");
    post_signed(&url, SECRET, &body, now()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_a_full_disk_stops_acknowledging_says_why_and_continues_after_space_is_freed() {
    let Some(disk) = Tmpfs::mount("6m") else {
        return;
    };
    let rx = Receiver::start(&[("/cb", SECRET)], vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let data = disk.path().join("data");
    let config = config_text(
        &data,
        &format!(
            "[web]\nlisten = \"127.0.0.1:0\"\n[[webhooks]]\nchannel = \"forum\"\nsecret = \"{SECRET}\"\ncallback_url = \"{}/cb\"\n",
            rx.base
        ),
    );
    std::fs::write(dir.path().join("config.toml"), config).unwrap();

    let serve = start(dir.path());
    assert_eq!(healthz(&serve).await.0, 200);
    // Fill the disk, leaving a little room.
    disk.fill(64 * 1024);

    let mut acknowledged = Vec::new();
    let mut refused = None;
    for n in 0..5000 {
        let id = format!("m{n}");
        let (status, body) = post(&serve, &format!("u{n}"), &id).await;
        match status {
            200 => acknowledged.push((format!("u{n}"), id)),
            503 => {
                refused = Some(body);
                break;
            }
            other => panic!("event {n}: {other} {body}"),
        }
    }
    let refused = refused.expect("the disk filled up");
    assert!(!acknowledged.is_empty());

    let (status, health) = healthz(&serve).await;
    assert_eq!(status, 503, "{health}");
    let reason = health["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(data.to_str().unwrap()) && reason.contains("No space left on device"),
        "{health}"
    );
    // Refused at once from now on, even with room again: the failed store accepts nothing until restarted.
    disk.free();
    let started = Instant::now();
    for n in 0..3 {
        let (status, body) = post(&serve, "late", &format!("late{n}")).await;
        assert_eq!(status, 503, "{body} (first refusal: {refused})");
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(healthz(&serve).await.0, 503);
    serve.stop();
    eprintln!(
        "{} events acknowledged before the disk filled; /healthz: {health}",
        acknowledged.len()
    );

    // Restarted with space: healthy, and every acknowledged event is stored (its redelivery is a duplicate).
    let serve = start(dir.path());
    assert_eq!(healthz(&serve).await.0, 200);
    for (user, id) in &acknowledged {
        let (status, body) = post(&serve, user, id).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("duplicate")),
            "{id}: {body}"
        );
    }
    let (status, body) = post(&serve, "late", "late0").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("accepted")),
        "{body}"
    );
    serve.stop();
}
