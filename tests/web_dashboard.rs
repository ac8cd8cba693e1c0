//! The stats dashboard from a replayed week: `supportbot replay` feeds seven days of traffic (more at the
//! brief's peak hours 10-12 and 15-17, FAQ answers, unanswered questions, handoffs taken, answered, closed and
//! rated by an operator), `supportbot stats --html FILE` draws it, and the charts carry the week's figures: the
//! peak hours stand out, every day has its deflection rate, reply and resolution times, ratings, the team and
//! the operator, the unanswered questions with the closest FAQ entry. `/inbox/stats` serves the same page to
//! operators only. In Chromium the page renders its charts (screenshot with `SUPPORTBOT_SCREENSHOTS`).
#![cfg(feature = "web")]

mod web_support;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use web_support::cdp::{find_browser, Browser};
use web_support::*;

const REPLAY_CONFIG: &str = r#"
[bot]
name = "QQ邮箱客服"

[hours]
timezone = "+08:00"
open = "09:00-22:00"
peak = ["10:00-12:00", "15:00-17:00"]

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

[web]
listen = "127.0.0.1:0"
token = "e2e-operator-token-0123456789abcdef"
"#;

fn event(user: &str, id: &str, text: &str, at: &str) -> Value {
    json!({"platform": "telegram", "chat": user, "user": user, "name": format!("user{user}"), "id": id,
           "text": text, "group": false, "mention": false, "ts": at, "attachments": []})
}

fn operator(id: &str, text: &str, at: &str) -> Value {
    json!({"platform": "discord", "chat": "8001", "user": "7001", "name": "Wang", "id": id, "text": text,
           "group": true, "mention": true, "ts": at, "attachments": []})
}

/// Seven days, 09:00-21:59: six visitors an hour at the peaks, two otherwise; every third peak visitor and
/// every evening visitor hands off; every fifth asks something the FAQ does not know.
fn week() -> (String, usize) {
    let mut lines = Vec::new();
    let mut case = 1000;
    for day in 16..=22 {
        for hour in 9..=21 {
            let peak = matches!(hour, 10 | 11 | 15 | 16);
            let visitors = if peak { 6 } else { 2 };
            for v in 0..visitors {
                let user = format!("{day}{hour:02}{v}");
                let at = |min: u32| format!("2026-11-{day}T{hour:02}:{min:02}:00+08:00");
                let id = |n: u32| format!("{user}-{n}");
                let min = v * 8;
                if v % 5 == 4 {
                    lines.push(event(&user, &id(1), "怎么把邮箱界面换成深色主题", &at(min)));
                    continue;
                }
                lines.push(event(&user, &id(1), "554 DT:SPM 怎么办", &at(min)));
                let hands_off = (peak && v % 3 == 0) || hour >= 20;
                if !hands_off {
                    lines.push(event(&user, &id(2), "谢谢", &at(min + 1)));
                    continue;
                }
                case += 1;
                let c = format!("C-{case}");
                lines.push(event(&user, &id(2), "转人工", &at(min + 1)));
                lines.push(event(&user, &id(3), "群发邮件被退回", &at(min + 1)));
                lines.push(event(&user, &id(4), "跳过", &at(min + 2)));
                lines.push(event(&user, &id(5), "554 DT:SPM", &at(min + 2)));
                let reply_after = [1, 3, 7, 20][(case % 4) as usize];
                let close_after = [12, 45, 100, 300][(case % 4) as usize];
                let later = |m: u32| {
                    let t = chrono::DateTime::parse_from_rfc3339(&at(min + 2)).unwrap()
                        + chrono::Duration::minutes(i64::from(m));
                    t.to_rfc3339()
                };
                lines.push(operator(
                    &format!("t{case}"),
                    &format!("/take {c}"),
                    &later(1),
                ));
                lines.push(operator(
                    &format!("r{case}"),
                    &format!("/reply {c} 请减少收件人后重试"),
                    &later(reply_after),
                ));
                lines.push(operator(
                    &format!("c{case}"),
                    &format!("/close {c} 已解决"),
                    &later(close_after),
                ));
                let rating = ["5", "4", "5", "3"][(case % 4) as usize];
                lines.push(event(&user, &id(6), rating, &later(close_after + 1)));
            }
        }
    }
    let text = lines.iter().map(|l| l.to_string() + "\n").collect();
    (text, (case - 1000) as usize)
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_supportbot"))
}

/// The `data-value` of a chart mark.
fn value(html: &str, series: &str, x: &str) -> f64 {
    let needle = format!(r#"data-series="{series}" data-x="{x}" data-value=""#);
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no mark {series} {x}"))
        + needle.len();
    html[at..].split('"').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_week_on_the_dashboard() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let config = dir.path().join("config.toml");
    std::fs::write(&config, REPLAY_CONFIG).unwrap();
    let data = dir.path().join("data");
    let (input, cases) = week();
    let mut replay = bin()
        .args(["replay", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    replay
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = replay.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let page = dir.path().join("dashboard.html");
    let out = bin()
        .args(["stats", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(&data)
        .arg("--html")
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();

    // The peaks stand out in messages and in handoffs.
    for peak in ["10", "11", "15", "16"] {
        for quiet in ["09", "13", "14", "18"] {
            assert!(
                value(&html, "messages", peak) > value(&html, "messages", quiet),
                "{peak} vs {quiet}"
            );
        }
        assert!(value(&html, "handoffs", peak) > value(&html, "handoffs", "13"));
    }
    assert_eq!(value(&html, "handoffs", "03"), 0.0);
    let handoffs: f64 = (0..24)
        .map(|h| value(&html, "handoffs", &format!("{h:02}")))
        .sum();
    assert_eq!(handoffs as usize, cases);
    // Every day of the week has its conversations and deflection rate.
    for day in 16..=22 {
        let x = format!("11-{day}");
        assert!(value(&html, "conversations", &x) > 0.0, "{x}");
        assert!(value(&html, "answered by the bot", &x) > 0.0, "{x}");
        assert!(
            html.contains(&format!(r#"data-x="{x}" data-rate=""#)),
            "{x}"
        );
    }
    // Times, ratings, team and operator cover every case.
    let sum = |id: &str| -> f64 {
        let start = html.find(&format!(r#"<svg id="{id}""#)).unwrap();
        let svg = &html[start..start + html[start..].find("</svg>").unwrap()];
        svg.split(r#"data-value=""#)
            .skip(1)
            .map(|s| s.split('"').next().unwrap().parse::<f64>().unwrap())
            .sum()
    };
    assert_eq!(sum("first-reply") as usize, cases);
    assert_eq!(sum("resolution") as usize, cases);
    assert_eq!(sum("ratings") as usize, cases);
    assert_eq!(sum("by-team") as usize, cases);
    assert_eq!(sum("by-operator") as usize, cases);
    assert!(html.contains(r#"data-x="Wang""#));
    for bucket in ["1-5 min", "5-15 min", "15-60 min"] {
        assert!(value(&html, "cases", bucket) > 0.0, "{bucket}");
    }
    // The unanswered question, with a link to the closest entry shown on the page.
    assert!(html.contains("怎么把邮箱界面换成深色主题"));
    let needle = r##"<a class="faq" href="#faq-"##;
    let link = html.find(needle).expect("a closest entry");
    let id = html[link + needle.len()..].split('"').next().unwrap();
    assert!(
        html.contains(&format!(r#"<details id="faq-{id}">"#)),
        "{id}"
    );

    // The inbox serves the same dashboard to operators only.
    let stack = Stack::start_in(dir.clone(), REPLAY_CONFIG).await;
    let served = stack.api("/inbox/stats").await;
    assert_eq!(served.status(), 200);
    assert!(served.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let served = served.text().await.unwrap();
    assert!(served.contains(r#"<svg id="by-hour""#));
    let anonymous = reqwest::get(stack.http("/inbox/stats")).await.unwrap();
    assert_eq!(anonymous.status(), 401);

    if let Some(binary) = find_browser() {
        let browser = Browser::launch(&binary, "en-US").await;
        let mut tab = browser
            .open(&format!("file://{}", page.display()), 1280, 1500)
            .await;
        let charts = tab
            .eval("Array.from(document.querySelectorAll('svg.chart')).filter(s => s.getBoundingClientRect().height > 10 && s.querySelectorAll('rect').length > 0).length")
            .await;
        assert_eq!(charts, json!(7));
        let png = tab.screenshot().await;
        assert!(png.len() > 10_000);
        if let Some(dir) = std::env::var_os("SUPPORTBOT_SCREENSHOTS") {
            std::fs::write(std::path::Path::new(&dir).join("dashboard.png"), png).unwrap();
        }
    } else {
        eprintln!("SKIPPED the browser part: no Chromium found");
    }
    stack.stop().await;
}
