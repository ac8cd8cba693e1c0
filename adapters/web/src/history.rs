//! Recent history of each chat session, kept on disk (`<data>/web/sessions/<id>.jsonl`) so that a reload or a
//! reconnect — also after a restart of the bot — shows the conversation again, and so that a message delivered
//! while the page was closed is waiting when it comes back.

use std::collections::HashMap;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::frames::MessageFrame;
use crate::WebError;

/// A file larger than this is cut back to the last `keep` messages.
const COMPACT_BYTES: u64 = 256 * 1024;
/// The per-session history files.
pub struct History {
    dir: PathBuf,
    keep: usize,
    locks: std::sync::Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

/// Proof that the caller holds a session's lock: what is stored for a session and what its open sockets are
/// sent happen in one order, so a reconnecting page sees every message exactly once (history, then live).
pub struct SessionGuard {
    session: String,
    _guard: OwnedMutexGuard<()>,
}

impl SessionGuard {
    /// The session this guard locks.
    pub fn session(&self) -> &str {
        &self.session
    }
}

impl History {
    /// Opens (creating) the history directory; `keep` messages are returned by [`History::recent`].
    pub fn open(dir: &Path, keep: usize) -> Result<History, WebError> {
        std::fs::create_dir_all(dir).map_err(|e| WebError::io(dir, e))?;
        Ok(History {
            dir: dir.to_path_buf(),
            keep: keep.max(1),
            locks: Default::default(),
        })
    }

    /// Locks one session (other sessions are not held up).
    pub async fn lock(&self, session: &str) -> SessionGuard {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(session.to_string()).or_default().clone()
        };
        SessionGuard {
            session: session.to_string(),
            _guard: lock.lock_owned().await,
        }
    }

    /// Deletes the histories of sessions silent for longer than `age` (their tokens then start afresh);
    /// returns how many were deleted.
    pub async fn prune_older_than(&self, age: std::time::Duration) -> std::io::Result<usize> {
        let dir = self.dir.clone();
        blocking(move || {
            let mut removed = 0;
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let stale = entry
                    .metadata()?
                    .modified()?
                    .elapsed()
                    .is_ok_and(|e| e > age);
                if stale && entry.path().extension().is_some_and(|x| x == "jsonl") {
                    std::fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
    }

    /// Forgets the locks nobody holds or waits for (run now and then).
    pub fn prune_locks(&self) {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
    }

    fn path(&self, session: &str) -> PathBuf {
        self.dir.join(format!("{session}.jsonl"))
    }

    /// Appends one message to a session's history. The session must be a checked session id.
    pub async fn append(&self, guard: &SessionGuard, item: &MessageFrame) -> std::io::Result<()> {
        let mut line = serde_json::to_string(item).map_err(std::io::Error::other)?;
        line.push('\n');
        let path = self.path(guard.session());
        let keep = self.keep;
        // One trip to the blocking pool for the whole append (open, write, size check, rare compaction).
        blocking(move || append_line(&path, &line, keep)).await
    }

    /// The last messages of a session, oldest first, marked as history. Unreadable lines are skipped.
    pub async fn recent(&self, guard: &SessionGuard) -> std::io::Result<Vec<MessageFrame>> {
        let path = self.path(guard.session());
        let text = match blocking(move || std::fs::read_to_string(path)).await {
            Ok(text) => text,
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut items: Vec<MessageFrame> = text
            .lines()
            .filter_map(|line| serde_json::from_str::<MessageFrame>(line).ok())
            .collect();
        let start = items.len().saturating_sub(self.keep);
        items.drain(..start);
        for item in &mut items {
            item.history = true;
        }
        Ok(items)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(std::io::Error::other)?
}

fn append_line(path: &Path, line: &str, keep: usize) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(line.as_bytes())?;
    let len = file.metadata()?.len();
    drop(file);
    if len > COMPACT_BYTES {
        let text = std::fs::read_to_string(path)?;
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(keep);
        let mut kept = lines[start..].join("\n");
        kept.push('\n');
        let tmp = path.with_extension("jsonl.tmp");
        std::fs::write(&tmp, kept)?;
        std::fs::rename(&tmp, path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> MessageFrame {
        MessageFrame {
            text: text.into(),
            buttons: vec![],
            case: None,
            from: None,
            reply_to: None,
            attachments: vec![],
            history: false,
        }
    }

    #[tokio::test]
    async fn keeps_the_last_messages_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path(), 3).unwrap();
        for i in 0..5 {
            let guard = history.lock("s1").await;
            history
                .append(&guard, &msg(&format!("m{i}")))
                .await
                .unwrap();
        }
        history.prune_locks();
        assert!(history.locks.lock().unwrap().is_empty());
        drop(history);
        let history = History::open(dir.path(), 3).unwrap();
        let recent = history.recent(&history.lock("s1").await).await.unwrap();
        let texts: Vec<_> = recent.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["m2", "m3", "m4"]);
        assert!(recent.iter().all(|m| m.history));
        assert!(history
            .recent(&history.lock("other").await)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            history
                .prune_older_than(std::time::Duration::from_secs(3600))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            history
                .prune_older_than(std::time::Duration::ZERO)
                .await
                .unwrap(),
            1
        );
        assert!(history
            .recent(&history.lock("s1").await)
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn large_files_are_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path(), 2).unwrap();
        let big = "x".repeat(10_000);
        let guard = history.lock("s2").await;
        for i in 0..40 {
            history
                .append(&guard, &msg(&format!("{i}{big}")))
                .await
                .unwrap();
        }
        let len = std::fs::metadata(dir.path().join("s2.jsonl"))
            .unwrap()
            .len();
        assert!(len <= COMPACT_BYTES, "file was not compacted: {len} bytes");
        let recent = history.recent(&guard).await.unwrap();
        assert_eq!(recent.len(), 2);
        assert!(recent[1].text.starts_with("39"));
    }
}
