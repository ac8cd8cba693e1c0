//! Kills `supportbot replay` with SIGKILL in the middle of a stream, restarts it on the same data directory
//! with the whole stream again (as a platform redelivers what it has no acknowledgement for), and checks that
//! the two runs together printed exactly what an uninterrupted run prints — nothing answered twice, nothing
//! lost — and that the cases hold every message, as in the uninterrupted run.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use support::*;

/// Eight users open cases, an operator takes them, users and operator write inside the cases.
fn stream() -> String {
    let mut events = Vec::new();
    let users: Vec<(&str, String)> = (0..8)
        .map(|i| (if i % 2 == 0 { "telegram" } else { "web" }, format!("u{i}")))
        .collect();
    let ts = |minute: usize| format!("2026-11-25T13:{:02}:00+08:00", minute % 60);
    for (n, (platform, user)) in users.iter().enumerate() {
        for (i, text) in [
            "发送邮件被退回 554 DT:SPM",
            "没帮助",
            "转人工",
            "附件太大发不出去",
            "跳过",
            "554 DT:SPM",
        ]
        .iter()
        .enumerate()
        {
            events.push(at(dm(platform, user, &format!("{user}-{i}"), text), &ts(n)));
        }
    }
    for (n, (platform, user)) in users.iter().enumerate() {
        let case = 1001 + n;
        events.push(at(
            group(
                "discord",
                "8001",
                "7001",
                &format!("take{n}"),
                &format!("/take C-{case}"),
                true,
            ),
            &ts(20 + n),
        ));
        events.push(at(
            dm(platform, user, &format!("{user}-in1"), "截图在这里"),
            &ts(30 + n),
        ));
        events.push(at(
            group(
                "discord",
                "8001",
                "7001",
                &format!("rep{n}"),
                &format!("/reply C-{case} 收到,正在查"),
                true,
            ),
            &ts(40 + n),
        ));
        events.push(at(
            dm(platform, user, &format!("{user}-in2"), "谢谢"),
            &ts(50 + n),
        ));
    }
    events.iter().map(|e| line(e) + "\n").collect()
}

fn export(data: &Path) -> serde_json::Value {
    let out = run(&["cases", "export", "--data", data.to_str().unwrap()], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs replay on `data`, killing it with SIGKILL once it has printed `kill_after` lines; returns the lines it
/// printed before dying.
fn run_and_kill(data: &Path, config: &Path, input: &str, kill_after: usize) -> Vec<String> {
    let mut child = Command::new(binary())
        .args([
            "replay",
            "--data",
            data.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut printed = Vec::new();
    let mut line = String::new();
    while printed.len() < kill_after {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        printed.push(line.trim_end().to_string());
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Whatever it printed before it died is still in the pipe.
    for rest in reader.lines() {
        printed.push(rest.unwrap());
    }
    let _ = writer.join();
    printed
}

#[test]
fn sigkill_mid_stream_loses_nothing_and_answers_nothing_twice() {
    let input = stream();
    let reference_dir = tempfile::tempdir().unwrap();
    let config = write_config(reference_dir.path());
    let reference_data = reference_dir.path().join("data");
    let (_, stderr, out) = replay(&reference_data, Some(&config), &input);
    assert!(out.status.success(), "{stderr}");
    let reference: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(reference.len() > 80, "{}", reference.len());
    let reference_cases = export(&reference_data);

    for kill_after in [reference.len() / 3, reference.len() * 2 / 3] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let before = run_and_kill(&data, &config, &input, kill_after);
        assert!(
            before.len() >= kill_after && before.len() < reference.len(),
            "killed mid-stream: {}",
            before.len()
        );
        let (_, stderr, after) = replay(&data, Some(&config), &input);
        assert!(after.status.success(), "{stderr}");
        let after: Vec<String> = String::from_utf8(after.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();

        let mut combined = before.clone();
        combined.extend(after);
        assert_eq!(
            combined.len(),
            reference.len(),
            "killed after {kill_after} lines"
        );
        assert_eq!(combined, reference, "killed after {kill_after} lines");
        // Every acknowledged message (one the bot printed a reply to) is in its case, as in the clean run.
        assert_eq!(
            export(&data),
            reference_cases,
            "killed after {kill_after} lines"
        );
    }
}
