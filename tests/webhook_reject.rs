//! Bad requests to `POST /webhook/{channel}` on the real engine: a bad signature, a stale or future timestamp,
//! malformed JSON, a spoofed platform and an oversized body are refused and store nothing: the same message ids
//! sent correctly afterwards are new, and only they are answered.
#![cfg(feature = "webhook")]

mod webhook_support;

use std::time::Duration;

use supportbot::config::Config;
use webhook_support::*;

const SECRET: &str = "forum-secret-2-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_requests_store_nothing() {
    let rx = Receiver::start(&[("/cb", SECRET)], vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        dir.path(),
        &format!(
            "[[webhooks]]\nchannel = \"forum\"\nsecret = \"{SECRET}\"\ncallback_url = \"{}/cb\"\n",
            rx.base
        ),
    );
    let bot = Bot::start(&Config::parse(&text, "t.toml").unwrap(), vec![]).await;
    let url = bot.hook();

    let bad_sig = post_signed(
        &url,
        "not-the-secret",
        &event("u1", "m1", "554 DT:SPM"),
        now(),
    )
    .await;
    assert_eq!(bad_sig.0, 401, "{}", bad_sig.1);
    let stale = post_signed(
        &url,
        SECRET,
        &event("u1", "m2", "554 DT:SPM"),
        now() - 6 * 60,
    )
    .await;
    assert_eq!(stale.0, 401, "{}", stale.1);
    let future = post_signed(
        &url,
        SECRET,
        &event("u1", "m3", "554 DT:SPM"),
        now() + 6 * 60,
    )
    .await;
    assert_eq!(future.0, 401, "{}", future.1);
    let malformed = post_signed(
        &url,
        SECRET,
        r#"{"platform":"forum","chat":"u1","user":"u1","id":"m4","text":"hi""#,
        now(),
    )
    .await;
    assert_eq!(malformed.0, 400);
    assert!(
        malformed.1["error"]
            .as_str()
            .unwrap()
            .contains("EOF while parsing"),
        "{}",
        malformed.1
    );
    let wrong_type = post_signed(
        &url,
        SECRET,
        r#"{"platform":"forum","chat":"u1","user":"u1","id":"m5","group":"yes"}"#,
        now(),
    )
    .await;
    assert_eq!(wrong_type.0, 400);
    assert!(
        wrong_type.1["error"]
            .as_str()
            .unwrap()
            .contains("invalid type"),
        "{}",
        wrong_type.1
    );
    let spoofed = post_signed(
        &url,
        SECRET,
        &event("u1", "m6", "hi").replace("\"forum\"", "\"telegram\""),
        now(),
    )
    .await;
    assert_eq!(spoofed.0, 400);
    let oversized = post_signed(
        &url,
        SECRET,
        &event("u1", "m7", &"长".repeat(30_000)),
        now(),
    )
    .await;
    assert_eq!(oversized.0, 413);
    // Unsigned, and signed over another body.
    let plain = reqwest::Client::new()
        .post(&url)
        .body(event("u1", "m8", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status().as_u16(), 401);
    let ts = now().to_string();
    let sig = signature(SECRET, &ts, event("u1", "m9", "hi").as_bytes());
    let swapped = reqwest::Client::new()
        .post(&url)
        .header("X-Supportbot-Timestamp", &ts)
        .header("X-Supportbot-Signature", sig)
        .body(event("u1", "m9", "transfer all my mail"))
        .send()
        .await
        .unwrap();
    assert_eq!(swapped.status().as_u16(), 401);

    // Nothing of that was stored: the same ids are new now, and only these get answers.
    let ids = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"];
    for id in ids {
        let (status, json) = post_signed(&url, SECRET, &event("u1", id, "554 DT:SPM"), now()).await;
        assert_eq!(
            (status, json["status"].as_str()),
            (200, Some("accepted")),
            "{id}: {json}"
        );
    }
    wait_until("the answers", Duration::from_secs(30), || {
        rx.accepted("/cb").len() >= ids.len()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answered: Vec<String> = rx
        .accepted("/cb")
        .iter()
        .filter_map(|a| a.body["reply_to"].as_str().map(String::from))
        .collect();
    assert_eq!(answered, ids);
    // A redelivery is acknowledged as a duplicate and not answered again.
    let (status, json) = post_signed(&url, SECRET, &event("u1", "m1", "554 DT:SPM"), now()).await;
    assert_eq!((status, json["status"].as_str()), (200, Some("duplicate")));
    assert!(bot.engine.outbox_list().is_empty());
    bot.stop().await;
}

#[test]
fn a_short_secret_stops_serve_with_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bot.toml");
    let text = config_text(
        &dir.path().join("data"),
        "[[webhooks]]\nchannel = \"forum\"\nsecret = \"tooshort\"\ncallback_url = \"http://127.0.0.1:9/cb\"\n",
    );
    std::fs::write(&config, &text).unwrap();
    let line = text.lines().position(|l| l.starts_with("secret")).unwrap() + 1;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("SUPPORTBOT_WEBHOOK_SECRET_FORUM")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "bot.toml:{line}: the secret of webhook channel `forum` must be at least 16 bytes"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("tooshort"),
        "the secret is never printed: {stderr}"
    );
    assert!(!dir.path().join("data").exists(), "nothing was started");

    // From the environment: the variable is named instead.
    let text = config_text(
        &dir.path().join("data"),
        "[[webhooks]]\nchannel = \"forum\"\ncallback_url = \"http://127.0.0.1:9/cb\"\n",
    );
    std::fs::write(&config, &text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("SUPPORTBOT_WEBHOOK_SECRET_FORUM", "short-env")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("SUPPORTBOT_WEBHOOK_SECRET_FORUM: the secret of webhook channel `forum`"),
        "{stderr}"
    );
}
