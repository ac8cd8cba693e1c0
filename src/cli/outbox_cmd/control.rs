//! Managing the outbox of a running `supportbot serve` from the command line. sled lets one process open a
//! data directory, so `supportbot outbox` drops a request file into `<data>/control/` and the running bot
//! (see [`spawn`]) answers it in a response file next to it. Whoever may write the data directory already
//! holds all of the bot's state, so the directory's permissions are the access control.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use supportbot_chat::Shutdown;

use crate::engine::Engine;
use crate::outbox::ItemInfo;

/// How often the running bot looks for requests.
const POLL: Duration = Duration::from_millis(200);
/// Responses nobody collected are removed after this long.
const STALE: Duration = Duration::from_secs(60);

/// One request to the running bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Request {
    /// Every undelivered message.
    List,
    /// End the waiting backoff of every undelivered message (after checking `id` exists, when given).
    Retry {
        /// An envelope id or outbox sequence number.
        id: Option<String>,
    },
    /// Drop one undelivered message.
    Drop {
        /// An envelope id or outbox sequence number.
        id: String,
    },
}

/// The running bot's answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Response {
    /// Whether the request was carried out.
    pub ok: bool,
    /// The undelivered messages (for `list`).
    #[serde(default)]
    pub items: Vec<ItemRow>,
    /// A sentence for the user.
    #[serde(default)]
    pub message: String,
}

/// One undelivered message, as printed by `outbox list` (the outbox's [`ItemInfo`]).
pub type ItemRow = serde_json::Value;

/// Why the running bot could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The request file could not be written or the answer read.
    #[error("cannot reach the running supportbot through {dir}: {source}")]
    Io {
        /// The control directory.
        dir: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// No answer came in time.
    #[error("the supportbot process using this data directory did not answer within {0} seconds")]
    NoAnswer(u64),
    /// The answer was unreadable.
    #[error("unreadable answer from the running supportbot: {0}")]
    BadAnswer(String),
}

/// The control directory of a data directory.
pub fn control_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("control")
}

/// Whether an outbox row is the one a user named (`id` is an envelope id or a sequence number).
pub fn names(info: &ItemInfo, id: &str) -> bool {
    info.id == id || id.parse::<u64>().ok() == Some(info.seq)
}

/// Sends `request` to the bot running on `data_dir` and waits up to `wait` for its answer.
pub fn request(
    data_dir: &Path,
    request: &Request,
    wait: Duration,
) -> Result<Response, ControlError> {
    let dir = control_dir(data_dir);
    let io = |source| ControlError::Io {
        dir: dir.clone(),
        source,
    };
    let nonce = format!(
        "{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let req_path = dir.join(format!("{nonce}.req"));
    let res_path = dir.join(format!("{nonce}.res"));
    let tmp = dir.join(format!("{nonce}.tmp"));
    let body = serde_json::to_vec(request).map_err(|e| ControlError::BadAnswer(e.to_string()))?;
    std::fs::write(&tmp, body).map_err(io)?;
    // Renamed into place so the bot never reads half a request.
    std::fs::rename(&tmp, &req_path).map_err(io)?;
    let deadline = Instant::now() + wait;
    loop {
        match std::fs::read(&res_path) {
            Ok(bytes) => {
                let _ = std::fs::remove_file(&res_path);
                return serde_json::from_slice(&bytes)
                    .map_err(|e| ControlError::BadAnswer(e.to_string()));
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(io(err)),
        }
        if Instant::now() >= deadline {
            let _ = std::fs::remove_file(&req_path);
            return Err(ControlError::NoAnswer(wait.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Answers control requests for `engine`'s data directory until `shutdown`. `serve` runs it.
pub fn spawn(engine: Engine, shutdown: Shutdown) -> tokio::task::JoinHandle<()> {
    let dir = control_dir(&engine.config().bot.data_dir);
    tokio::spawn(async move {
        if let Err(err) = create_private_dir(&dir) {
            tracing::warn!(dir = %dir.display(), error = %err, "outbox control directory unavailable");
            return;
        }
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(POLL) => {}
            }
            if let Err(err) = answer_pending(&engine, &dir).await {
                tracing::warn!(dir = %dir.display(), error = %err, "reading outbox control requests failed");
            }
        }
    })
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

async fn answer_pending(engine: &Engine, dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("req") => {
                let Ok(bytes) = std::fs::read(&path) else {
                    continue;
                };
                // Gone already: the requester gave up.
                if std::fs::remove_file(&path).is_err() {
                    continue;
                }
                let response = match serde_json::from_slice::<Request>(&bytes) {
                    Ok(req) => execute(engine, req).await,
                    Err(err) => Response {
                        ok: false,
                        message: format!("unreadable request: {err}"),
                        ..Default::default()
                    },
                };
                let tmp = path.with_extension("restmp");
                std::fs::write(&tmp, serde_json::to_vec(&response).unwrap_or_default())?;
                std::fs::rename(&tmp, path.with_extension("res"))?;
            }
            Some("res") | Some("restmp") | Some("tmp") => {
                let old = entry_age(&path).is_some_and(|age| age > STALE);
                if old {
                    let _ = std::fs::remove_file(&path);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn entry_age(path: &Path) -> Option<Duration> {
    std::fs::metadata(path)
        .ok()?
        .modified()
        .ok()?
        .elapsed()
        .ok()
}

/// Carries out one request on the running engine.
pub async fn execute(engine: &Engine, request: Request) -> Response {
    let items = engine.outbox_list();
    match request {
        Request::List => {
            let rows = items
                .iter()
                .filter_map(|i| serde_json::to_value(i).ok())
                .collect();
            Response {
                ok: true,
                items: rows,
                message: String::new(),
            }
        }
        Request::Retry { id } => {
            if let Some(id) = &id {
                if !items.iter().any(|i| names(i, id)) {
                    return failure(format!("there is no undelivered message {id}"));
                }
            }
            engine.outbox_retry_now();
            tracing::info!(waiting = items.len(), "outbox retried on request");
            Response {
                ok: true,
                message: format!("{} undelivered message(s) retried now", items.len()),
                ..Default::default()
            }
        }
        Request::Drop { id } => {
            let Some(item) = items.iter().find(|i| names(i, &id)) else {
                return failure(format!("there is no undelivered message {id}"));
            };
            match engine.outbox_drop(item.seq).await {
                Ok(true) => {
                    tracing::info!(id = %item.id, destination = %item.destination, "outbox message dropped on request");
                    Response {
                        ok: true,
                        message: format!("dropped {} (to {})", item.id, item.destination),
                        ..Default::default()
                    }
                }
                Ok(false) => failure(format!("{id} was delivered or dropped meanwhile")),
                Err(err) => failure(err.to_string()),
            }
        }
    }
}

fn failure(message: String) -> Response {
    Response {
        ok: false,
        message,
        ..Default::default()
    }
}
