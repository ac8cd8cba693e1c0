//! Storage faults end to end, through the real binary: `replay` on a data directory whose file system fills up
//! (a small tmpfs) exits 1 at once, naming the path, and a run after space is freed continues with nothing
//! acknowledged lost; a damaged log segment or damaged sled files stop the start with a clear error naming the
//! path and change nothing; a fresh data directory is readable by its owner only. (`serve` on a full disk:
//! `serve_failstop.rs`.)

mod support;
mod tmpfs;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::*;
use tmpfs::Tmpfs;

/// Longest a run may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(90);

/// What one run printed and how it ended.
struct Run {
    lines: Vec<String>,
    stderr: String,
    code: Option<i32>,
}

/// Waits for `child` at most [`LIMIT`]; a child still running then is killed and the test fails.
fn finish(mut child: Child, what: &str) -> Run {
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} hung: still running after {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let bytes = out.join().unwrap();
    Run {
        lines: String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect(),
        stderr: err.join().unwrap(),
        code: status.code(),
    }
}

/// Runs `replay` on `data` with `input`, within [`LIMIT`].
fn replay_run(data: &Path, config: &Path, input: &str) -> Run {
    let mut child = Command::new(binary())
        .args(["replay", "--data"])
        .arg(data)
        .arg("--config")
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    finish(child, "replay")
}

/// The last line of stderr: the one-sentence error.
fn last_line(stderr: &str) -> &str {
    stderr.lines().last().unwrap_or("")
}

/// `count` users asking a question with a long answer, and eight cases with operator replies.
fn stream(count: usize) -> String {
    let mut events = Vec::new();
    for n in 0..count {
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
    for n in 0..8 {
        let user = format!("c{n}");
        for (i, text) in ["转人工", "附件太大发不出去", "跳过", "554 DT:SPM"]
            .iter()
            .enumerate()
        {
            events.push(dm("telegram", &user, &format!("{user}-{i}"), text));
        }
        let case = 1001 + n;
        let take = format!("/take C-{case}");
        events.push(group(
            "discord",
            "8001",
            "7001",
            &format!("take{n}"),
            &take,
            true,
        ));
        let reply = format!("/reply C-{case} 收到,正在查");
        events.push(group(
            "discord",
            "8001",
            "7001",
            &format!("rep{n}"),
            &reply,
            true,
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

/// Two runs' lines as one output, a line repeated right after the restart counted once.
fn joined(first: &[String], second: &[String]) -> Vec<String> {
    let mut all = first.to_vec();
    let skip = usize::from(!first.is_empty() && first.last() == second.first());
    all.extend_from_slice(&second[skip..]);
    all
}

#[test]
fn replay_on_a_full_disk_exits_1_naming_the_path_and_continues_once_space_is_freed() {
    let input = stream(400);
    let reference_dir = tempfile::tempdir().unwrap();
    let config = write_config(reference_dir.path());
    let reference_data = reference_dir.path().join("data");
    let reference = replay_run(&reference_data, &config, &input);
    assert_eq!(reference.code, Some(0), "{}", reference.stderr);
    let reference_cases = export(&reference_data);

    // With 1 MiB left, the log's appends hit the full disk mid-stream; with 4 MiB, the log fits and sled's own
    // writes hit it (at the latest when the run ends and the store checkpoints). Under load (seen once in CI)
    // the log can still be the first to hit the disk, as the log and sled grow at different paces: the run is
    // then repeated on a fresh disk, three times at most.
    for (room, sled) in [(1024 * 1024, false), (4 * 1024 * 1024, true)] {
        let mut attempts = 0;
        let (disk, data, full) = loop {
            attempts += 1;
            let Some(disk) = Tmpfs::mount("6m") else {
                return;
            };
            let data = disk.path().join("data");
            let empty = replay_run(&data, &config, "");
            assert_eq!(empty.code, Some(0), "{}", empty.stderr);
            disk.fill(room);
            let full = replay_run(&data, &config, &input);
            if sled && last_line(&full.stderr).contains("/wal/") && attempts < 3 {
                continue;
            }
            break (disk, data, full);
        };
        let sentence = last_line(&full.stderr);
        assert_eq!(full.code, Some(1), "room {room}: {}", full.stderr);
        assert!(
            sentence.starts_with("the store stopped at a write failure and accepts nothing more: ")
                && sentence.contains(data.to_str().unwrap())
                && sentence.contains("No space left on device"),
            "room {room}: {sentence}"
        );
        assert_eq!(sentence.contains("/wal/"), !sled, "room {room}: {sentence}");
        assert!(!full.stderr.contains("panicked"), "{}", full.stderr);
        if !sled {
            assert!(
                full.lines.len() < reference.lines.len(),
                "stopped mid-stream"
            );
        }

        disk.free();
        let after = replay_run(&data, &config, &input);
        assert_eq!(after.code, Some(0), "room {room}: {}", after.stderr);
        // Nothing acknowledged is lost: the two runs printed what a clean run prints, and the cases match.
        assert_eq!(
            joined(&full.lines, &after.lines),
            reference.lines,
            "room {room}"
        );
        assert_eq!(export(&data), reference_cases, "room {room}");
    }
}

/// Runs replay on `data` and kills it with SIGKILL once it has printed `lines` lines.
fn replay_killed(data: &Path, config: &Path, input: &str, lines: usize) {
    let mut child = Command::new(binary())
        .args(["replay", "--data"])
        .arg(data)
        .arg("--config")
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut out = child.stdout.take().unwrap();
    let mut seen = 0;
    let mut byte = [0u8; 1];
    while seen < lines && out.read(&mut byte).unwrap() == 1 {
        seen += usize::from(byte[0] == b'\n');
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The log's files with a digest of their contents.
fn log_files(data: &Path) -> Vec<(std::path::PathBuf, u64, u32)> {
    let mut files: Vec<_> = std::fs::read_dir(data.join("wal"))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let digest = bytes
                .iter()
                .fold(0u32, |h, b| h.rotate_left(5) ^ u32::from(*b));
            (path, bytes.len() as u64, digest)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_damaged_log_segment_stops_the_start_naming_it_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let input = stream(40);
    // Killed, so the log still holds what this run acknowledged.
    replay_killed(&data, &config, &input, 30);
    let segment = std::fs::read_dir(data.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    assert!(
        bytes.len() > 4096,
        "the log holds records: {} bytes",
        bytes.len()
    );
    bytes[8 + 3] ^= 0xff; // inside the first record, which many good records follow
    std::fs::write(&segment, &bytes).unwrap();
    let before = log_files(&data);

    for _ in 0..2 {
        let run = replay_run(&data, &config, &input);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        assert!(run.lines.is_empty(), "{:?}", run.lines);
        let sentence = last_line(&run.stderr);
        assert!(
            sentence.contains(segment.to_str().unwrap())
                && sentence.contains("unreadable log record at byte 0"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(
            log_files(&data) == before,
            "a refused start leaves the log as it was"
        );
    }
}

/// How sled's files are damaged.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// Every byte of a file flipped.
    Garbled(&'static str),
    /// A file cut to half its length.
    Halved(&'static str),
}

#[test]
fn damaged_sled_files_stop_the_start_naming_the_data_directory() {
    let input = stream(20);
    for damage in [
        Damage::Garbled("db"),
        Damage::Halved("db"),
        Damage::Garbled("conf"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(dir.path());
        let data = dir.path().join("data");
        let first = replay_run(&data, &config, &input);
        assert_eq!(first.code, Some(0), "{}", first.stderr);
        let (Damage::Garbled(file) | Damage::Halved(file)) = damage;
        let path = data.join(file);
        let mut bytes = std::fs::read(&path).unwrap();
        match damage {
            Damage::Garbled(_) => bytes.iter_mut().for_each(|b| *b ^= 0xa5),
            Damage::Halved(_) => bytes.truncate(bytes.len() / 2),
        }
        std::fs::write(&path, &bytes).unwrap();

        // Refused, and refused again: the damage is not papered over by the first attempt.
        for _ in 0..2 {
            let run = replay_run(&data, &config, &input);
            assert_eq!(run.code, Some(1), "{damage:?}: {}", run.stderr);
            assert!(run.lines.is_empty(), "{damage:?}: nothing answered again");
            let sentence = last_line(&run.stderr);
            assert!(
                sentence.starts_with("cannot open the data directory ")
                    && sentence.contains(data.to_str().unwrap()),
                "{damage:?}: {}",
                run.stderr
            );
            assert!(
                !run.stderr.contains("panicked"),
                "{damage:?}: {}",
                run.stderr
            );
        }
    }
}

/// Every directory under `dir` (and `dir`) is 0700 and every file 0600; returns the files checked.
fn assert_private(dir: &Path) -> Vec<String> {
    let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{}", dir.display());
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            files.extend(assert_private(&path));
        } else {
            assert_eq!(
                meta.permissions().mode() & 0o777,
                0o600,
                "{}",
                path.display()
            );
            files.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    files
}

#[test]
fn a_fresh_data_directory_is_readable_by_its_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("new/data");
    let run = replay_run(&data, &config, &stream(3));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let files = assert_private(&data);
    for expected in ["db", "conf", "replay-printed.log"] {
        assert!(
            files.iter().any(|f| f == expected),
            "{expected} in {files:?}"
        );
    }
    assert!(files.iter().any(|f| f.ends_with(".wal")), "{files:?}");
    // A second run (sled rewrites its snapshot at open) keeps it so.
    let run = replay_run(&data, &config, &stream(3));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_private(&data);
}
