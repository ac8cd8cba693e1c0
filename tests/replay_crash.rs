//! Kills `supportbot replay` with SIGKILL again and again in the middle of a stream, restarts it each time on
//! the same data directory with the whole stream again (as a platform redelivers what it has no acknowledgement
//! for), and checks that the runs together printed what an uninterrupted run prints, in its order: nothing lost,
//! and nothing twice except the one line a kill can catch between printing it and noting it (at-least-once);
//! and that the cases hold every message, as in the uninterrupted run. Half of the kills land while replay is
//! blocked printing into a full stdout pipe, half while it is working; whatever it printed before it died is
//! drained from the pipe.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// Users who ask two questions with long answers each: output enough to fill a pipe many times over.
const ASKERS: usize = 300;

/// Eight users open cases, an operator takes them, users and operator write inside the cases; many more ask
/// two questions each.
fn stream() -> String {
    let mut events = Vec::new();
    for n in 0..ASKERS {
        let platform = if n % 2 == 0 { "telegram" } else { "web" };
        let user = format!("a{n}");
        events.push(dm(
            platform,
            &user,
            &format!("{user}-q"),
            "发送邮件被退回 554 DT:SPM",
        ));
        events.push(dm(
            platform,
            &user,
            &format!("{user}-t"),
            "我的QQ号被盗了怎么办",
        ));
    }
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

/// Runs replay on `data` to the end, feeding stdin and reading stdout at once (the output is larger than a pipe
/// holds); returns its lines, its stderr and whether it succeeded.
fn replay_whole(data: &Path, config: &Path, input: &str) -> (Vec<String>, String, bool) {
    let mut child = Command::new(binary())
        .args(["replay", "--data", data.to_str().unwrap()])
        .args(["--config", config.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (lines, stderr, out.status.success())
}

/// How a run is killed.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// After reading this many lines, at once: replay is working.
    Working(usize),
    /// After reading this many lines, once replay has stopped making progress because stdout is full.
    Blocked(usize),
}

/// Complete lines in `bytes` (a line cut short by the kill was not printed).
fn complete_lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    if lines.last().is_some_and(|l| !l.ends_with('\n')) {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// Runs replay on `data` and kills it with SIGKILL as `kill` says; returns every line it printed before dying.
fn run_and_kill(data: &Path, config: &Path, input: &str, kill: Kill) -> Vec<String> {
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
    let (Kill::Working(first) | Kill::Blocked(first)) = kill;
    let mut line = Vec::new();
    while printed.len() < first {
        line.clear();
        if reader.read_until(b'\n', &mut line).unwrap() == 0 {
            break;
        }
        printed.extend(complete_lines(&line));
    }
    if let Kill::Blocked(_) = kill {
        // Not reading: replay fills the pipe and blocks writing a line. It has stopped once its log of printed
        // messages stops growing (or it has finished).
        let log = data.join("replay-printed.log");
        let size = || std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let deadline = Instant::now() + Duration::from_secs(20);
        let (mut last, mut since) = (size(), Instant::now());
        while since.elapsed() < Duration::from_millis(400) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            if size() != last {
                (last, since) = (size(), Instant::now());
            }
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Whatever it printed before it died is still in the pipe.
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    printed.extend(complete_lines(&rest));
    let _ = writer.join();
    printed
}

/// The lines of consecutive runs as one output, a line repeated right after a restart counted once (the kill
/// caught it printed but not yet noted).
fn join_runs(runs: &[Vec<String>]) -> (Vec<String>, usize) {
    let mut all: Vec<String> = Vec::new();
    let mut repeated = 0;
    for run in runs {
        let mut lines = run.as_slice();
        if let (Some(first), Some(last)) = (lines.first(), all.last()) {
            if first == last {
                lines = &lines[1..];
                repeated += 1;
            }
        }
        all.extend_from_slice(lines);
    }
    (all, repeated)
}

#[test]
fn sigkill_again_and_again_loses_nothing_and_repeats_at_most_the_line_it_caught() {
    let input = stream();
    let reference_dir = tempfile::tempdir().unwrap();
    let config = write_config(reference_dir.path());
    let reference_data = reference_dir.path().join("data");
    let (reference, stderr, ok) = replay_whole(&reference_data, &config, &input);
    assert!(ok, "{stderr}");
    assert!(reference.len() > 2 * ASKERS + 80, "{}", reference.len());
    let bytes: usize = reference.iter().map(|l| l.len() + 1).sum();
    assert!(
        bytes > 4 * 65536,
        "the output fills a pipe several times: {bytes} bytes"
    );
    let distinct: std::collections::HashSet<&String> = reference.iter().collect();
    assert_eq!(
        distinct.len(),
        reference.len(),
        "every reference line is distinct"
    );
    let reference_cases = export(&reference_data);

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut runs = Vec::new();
    let mut kills = Vec::new();
    for i in 0..12 {
        let first = 3 + (i * 7) % 23;
        let kill = if i % 2 == 0 {
            Kill::Blocked(first)
        } else {
            Kill::Working(first)
        };
        runs.push(run_and_kill(&data, &config, &input, kill));
        kills.push(kill);
        let (so_far, _) = join_runs(&runs);
        if so_far.len() >= reference.len() {
            break;
        }
    }
    let (last, stderr, ok) = replay_whole(&data, &config, &input);
    assert!(ok, "{stderr}");
    runs.push(last);
    let sizes: Vec<usize> = runs.iter().map(Vec::len).collect();
    let context = format!("kills {kills:?}, lines per run {sizes:?}");
    assert!(kills.len() >= 6, "{context}");

    let (combined, repeated) = join_runs(&runs);
    let missing: Vec<&String> = reference.iter().filter(|l| !combined.contains(l)).collect();
    assert!(
        missing.is_empty(),
        "{} answers never printed ({context}): {:?}",
        missing.len(),
        missing
            .iter()
            .map(|l| l.chars().take(100).collect::<String>())
            .collect::<Vec<_>>()
    );
    assert_eq!(combined.len(), reference.len(), "{context}");
    assert_eq!(combined, reference, "{context}");
    assert!(repeated <= kills.len(), "{context}");
    eprintln!("{context}; lines printed again after a restart: {repeated}");
    // Every acknowledged message (one the bot printed a reply to) is in its case, as in the clean run.
    assert_eq!(export(&data), reference_cases, "{context}");
}
