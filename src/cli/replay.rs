//! `supportbot replay`: JSON Lines events from stdin through the engine `serve` runs, every outbound message
//! printed as a JSON line as it is delivered. Lines are handled one at a time, so the output is deterministic.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use supportbot_chat::{
    Adapter, Delivery, Envelope, Inbound, InboundSink, SendError, Shutdown, SinkError,
};
use tokio::io::AsyncBufReadExt;

use super::{CliError, CliResult};
use crate::config::Config;
use crate::engine::{Engine, EngineOptions};
use crate::faq::Faq;
use crate::store::{perms, StoreError};

/// File in the data directory listing envelopes already printed (see [`StdoutAdapter`]).
const PRINTED_LOG: &str = "replay-printed.log";

/// Runs the command.
pub fn run(config: Option<PathBuf>, data: Option<PathBuf>) -> CliResult {
    let mut config = super::load_config(config.as_deref())?;
    if let Some(dir) = data {
        config.bot.data_dir = dir;
    }
    let faq = super::load_faq(&config)?;
    // Engine failures are logged; show warnings and errors on stderr (RUST_LOG overrides).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(replay(config, faq))
}

async fn replay(config: Config, faq: Faq) -> CliResult {
    let options = EngineOptions {
        serial_delivery: true,
        store: super::connect_configured(&config).await?,
        ..EngineOptions::default()
    };
    let engine = Engine::open_with(&config, faq, options)
        .await
        .map_err(CliError::runtime)?;
    let pending: HashSet<String> = engine.outbox_list().into_iter().map(|i| i.id).collect();
    let stdout = StdoutAdapter::open(&config.bot.data_dir, &pending).map_err(CliError::runtime)?;
    engine.register_fallback_adapter(Arc::new(stdout));
    let shutdown = Shutdown::new();
    let runner = {
        let (engine, shutdown) = (engine.clone(), shutdown.clone());
        tokio::spawn(async move { engine.run(shutdown).await })
    };
    let result = feed(&engine).await;
    engine.settle().await;
    shutdown.cancel();
    let stopped = runner.await;
    // After a storage fault, later lines fail because of it: the fault is the one thing to report.
    if let Some(fault) = engine.store().fault() {
        return Err(CliError::runtime(StoreError::Failed(fault)));
    }
    match stopped {
        Ok(Ok(())) => {}
        Ok(Err(err)) => return Err(CliError::runtime(err)),
        Err(err) => {
            return Err(CliError::runtime(format!(
                "the engine stopped unexpectedly: {err}"
            )))
        }
    }
    result
}

/// Reads stdin line by line; each event is accepted and fully handled (answers printed) before the next.
async fn feed(engine: &Engine) -> CliResult {
    engine.settle().await;
    let mut input = tokio::io::BufReader::new(tokio::io::stdin());
    let mut raw = Vec::new();
    let mut number = 0usize;
    loop {
        raw.clear();
        let read = input
            .read_until(b'\n', &mut raw)
            .await
            .map_err(|e| CliError::runtime(format!("cannot read stdin: {e}")))?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        let line = match std::str::from_utf8(&raw) {
            Ok(l) => l.trim(),
            Err(_) => {
                eprintln!("supportbot: line {number}: not valid UTF-8; skipped");
                continue;
            }
        };
        if line.is_empty() {
            continue;
        }
        let event: Inbound = match serde_json::from_str(line) {
            Ok(e) => e,
            Err(err) => {
                eprintln!("supportbot: line {number}: malformed event ({err}); skipped");
                continue;
            }
        };
        match engine.accept(event).await {
            Ok(_) => {}
            Err(SinkError::Rejected(why)) => eprintln!("supportbot: line {number}: {why}; skipped"),
            Err(err) => return Err(CliError::runtime(format!("line {number}: {err}"))),
        }
        engine.settle().await;
    }
}

/// Prints every message as a JSON line on stdout. Once the line is printed and flushed, the envelope id is
/// appended to a log in the data directory (a plain write, which survives the process being killed): after a
/// crash, the outbox redelivers what it did not see confirmed, and ids already in the log are not printed a
/// second time. Printing first makes delivery at-least-once: a kill between the two prints that line again
/// after the restart, and never loses it.
pub struct StdoutAdapter {
    state: Mutex<Printed>,
}

struct Printed {
    earlier: HashSet<String>,
    log: File,
}

impl StdoutAdapter {
    /// Opens the log, keeping only ids still pending in the outbox (`pending`).
    pub fn open(data_dir: &Path, pending: &HashSet<String>) -> Result<StdoutAdapter, String> {
        let path = data_dir.join(PRINTED_LOG);
        // With the PostgreSQL store nothing else creates the data directory.
        perms::private_dir(data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let earlier: HashSet<String> = match File::open(&path) {
            Ok(f) => BufReader::new(f)
                .lines()
                .map_while(Result::ok)
                .filter(|id| pending.contains(id))
                .collect(),
            Err(_) => HashSet::new(),
        };
        let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
        let mut log = perms::private_file()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .map_err(fail)?;
        for id in &earlier {
            writeln!(log, "{id}").map_err(fail)?;
        }
        Ok(StdoutAdapter {
            state: Mutex::new(Printed { earlier, log }),
        })
    }
}

#[async_trait]
impl Adapter for StdoutAdapter {
    fn name(&self) -> &str {
        "stdout"
    }

    async fn deliver(&self, envelope: &Envelope) -> Result<(), SendError> {
        let Delivery::Message(message) = &envelope.delivery else {
            return Ok(());
        };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.earlier.contains(&envelope.id) {
            return Ok(());
        }
        let line =
            serde_json::to_string(message).map_err(|e| SendError::Permanent(e.to_string()))?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{line}")
                .and_then(|_| out.flush())
                .map_err(|e| SendError::Permanent(format!("stdout is closed: {e}")))?;
        }
        // The line is out: a failure to note it costs at most a second copy after a crash.
        if let Err(err) = writeln!(state.log, "{}", envelope.id) {
            tracing::warn!(error = %err, id = %envelope.id, "noting a printed message failed");
        }
        Ok(())
    }
}
