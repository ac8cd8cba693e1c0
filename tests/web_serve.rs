//! `supportbot serve` as a process: what it prints, the operator token file, FAQ reload on file change and on
//! SIGHUP (a broken FAQ keeps the old one), clean stop on SIGTERM, and its exit codes.
#![cfg(feature = "web")]

mod web_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use web_support::*;

const PROBE: &str = r#"
[[faq]]
id = "reload-probe"
category = "features"
questions.zh = ["斑马条纹主题怎么开启", "斑马主题在哪里"]
questions.en = ["how do I enable the zebra stripe theme", "where is the zebra stripe theme"]
answer.zh = "斑马主题:设置 → 换肤 → 斑马(重载探针)。"
answer.en = "Zebra theme: Settings → Skins → Zebra (reload probe)."
"#;

struct Serve {
    child: Child,
    chat_url: String,
    stdout: Vec<String>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_supportbot")
}

/// Starts `serve` in `dir` with `config.toml`, stderr to `dir/stderr.log`; waits for the printed addresses.
fn serve(dir: &Path) -> Serve {
    let stderr = std::fs::File::create(dir.join("stderr.log")).unwrap();
    let mut child = Command::new(bin())
        .args(["serve", "--config", "config.toml"])
        .current_dir(dir)
        .env("RUST_LOG", "info")
        .env_remove("SUPPORTBOT_WEB_TOKEN")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = Vec::new();
    let chat_url = loop {
        let Some(line) = lines.next() else {
            let log = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
            panic!("serve stopped before printing its addresses:\n{log}");
        };
        let line = line.unwrap();
        stdout.push(line.clone());
        if let Some(url) = line.trim().strip_prefix("chat:") {
            break url.trim().to_string();
        }
    };
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("Press Ctrl-C");
        stdout.push(line);
        if done {
            break;
        }
    }
    Serve {
        child,
        chat_url,
        stdout,
    }
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_exit(child: &mut Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        assert!(Instant::now() < deadline, "serve did not stop within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Asks one question in a new chat session and returns the first answer's text.
async fn ask(chat_url: &str, text: &str) -> String {
    let ws_url = chat_url
        .replacen("http://", "ws://", 1)
        .trim_end_matches('/')
        .to_string()
        + "/ws";
    let mut ws = connect(&ws_url).await;
    next_of(&mut ws, "session").await;
    send(&mut ws, json!({"type": "message", "text": text})).await;
    next_of(&mut ws, "message").await["text"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Asks until the answer satisfies `pred` (the reload poll runs every 2 s).
async fn ask_until(chat_url: &str, text: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = ask(chat_url, text).await;
        if pred(&answer) {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "no matching answer within 20 s; last: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn wait_log(dir: &Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
        if log.contains(needle) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "stderr never showed {needle:?}:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn copy_faq(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("faq");
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_prints_addresses_reloads_the_faq_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    copy_faq(&dir.path().join("faq"));
    std::fs::write(
        dir.path().join("config.toml"),
        "[web]\nlisten = \"127.0.0.1:0\"\n",
    )
    .unwrap();

    let mut bot = serve(dir.path());
    let out = bot.stdout.join("\n");
    assert!(bot.chat_url.starts_with("http://127.0.0.1:"), "{out}");
    assert!(
        out.contains(&format!("inbox:  {}inbox", bot.chat_url)),
        "{out}"
    );
    let token_file = dir.path().join("data").join("operator_token");
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_string();
    assert!(token.len() >= 32);
    assert!(
        out.contains(&token),
        "first start shows the token once: {out}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o077,
            0
        );
    }
    let health = reqwest::get(format!("{}healthz", bot.chat_url))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let cases = reqwest::Client::new()
        .get(format!("{}api/cases", bot.chat_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(cases.status(), 200);

    // FAQ reload on a file change.
    let question = "how do I enable the zebra stripe theme";
    assert!(!ask(&bot.chat_url, question).await.contains("reload probe"));
    let features = dir.path().join("faq").join("features.toml");
    let mut text = std::fs::read_to_string(&features).unwrap();
    text.push_str(PROBE);
    std::fs::write(&features, &text).unwrap();
    ask_until(&bot.chat_url, question, |a| a.contains("reload probe")).await;

    // A broken FAQ is reported and the loaded one kept.
    std::fs::write(
        dir.path().join("faq").join("broken.toml"),
        "[[faq]]\nid = \"x\"\nanswer.en = ",
    )
    .unwrap();
    let log = wait_log(dir.path(), "keeping the one already loaded");
    assert!(
        log.contains("broken.toml"),
        "the log names the broken file:\n{log}"
    );
    assert!(ask(&bot.chat_url, question).await.contains("reload probe"));

    // SIGHUP reloads too (the broken file gone again).
    std::fs::remove_file(dir.path().join("faq").join("broken.toml")).unwrap();
    signal(&bot.child, "-HUP");
    wait_log(dir.path(), "reason=\"SIGHUP\"");

    // The token never reaches the log.
    let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    assert!(
        !log.contains(&token),
        "the operator token leaked into the log"
    );

    signal(&bot.child, "-TERM");
    assert_eq!(wait_exit(&mut bot.child), 0);
    let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    assert!(log.contains("Stopped."), "{log}");
    drop(bot);

    // A second start keeps the token and does not print it.
    let bot = serve(dir.path());
    let out = bot.stdout.join("\n");
    assert!(!out.contains(&token), "{out}");
    assert!(out.contains("operator_token"), "{out}");
    assert_eq!(std::fs::read_to_string(&token_file).unwrap().trim(), token);
}

#[test]
fn bad_config_and_busy_port_exit_with_their_codes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "[web]\nlisten = 8080\n").unwrap();
    let out = Command::new(bin())
        .args(["serve", "--config", "config.toml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("config.toml:2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        format!("[web]\nlisten = \"{addr}\"\n"),
    )
    .unwrap();
    let out = Command::new(bin())
        .args(["serve", "--config", "config.toml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in use"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_limits_new_sessions_and_guards_metrics() {
    let dir = tempfile::tempdir().unwrap();
    copy_faq(&dir.path().join("faq"));
    std::fs::write(
        dir.path().join("config.toml"),
        "[web]\nlisten = \"127.0.0.1:0\"\nnew_sessions_per_ip_per_hour = 2\n\
         metrics_token = \"metrics-token-0123456789\"\nmetrics_listen = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let bot = serve(dir.path());
    assert!(ask(&bot.chat_url, "554 DT:SPM").await.contains("554"));
    assert!(!ask(&bot.chat_url, "554 DT:SPM").await.is_empty());
    // The third new session from this address is refused with a clear frame.
    let ws_url = bot.chat_url.replacen("http://", "ws://", 1) + "ws";
    let mut ws = connect(&ws_url).await;
    let refusal = next_json(&mut ws).await;
    assert_eq!(refusal["type"], "error", "{refusal}");
    assert_eq!(refusal["code"], "rate_limited");

    // /metrics lives on its own listener, for the metrics token only.
    let main = reqwest::get(format!("{}metrics", bot.chat_url))
        .await
        .unwrap();
    assert_eq!(main.status(), 404);
    let log = wait_log(dir.path(), "metrics listening");
    let addr = log
        .lines()
        .find(|l| l.contains("metrics listening"))
        .and_then(|l| l.split("addr=").nth(1))
        .map(|a| {
            a.split_whitespace()
                .next()
                .unwrap()
                .trim_matches('"')
                .to_string()
        })
        .expect("the log names the metrics address");
    let url = format!("http://{addr}/metrics");
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 401);
    let r = reqwest::Client::new()
        .get(&url)
        .bearer_auth("metrics-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("supportbot_web_limited_sessions_total 1"),
        "{text}"
    );
    let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    assert!(
        !log.contains("metrics-token-0123456789"),
        "the token leaked into the log"
    );
}
