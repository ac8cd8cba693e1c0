//! `supportbot serve`: loads the config and the FAQ, opens the engine, starts every configured channel (the web
//! chat and inbox always; Telegram, Discord and webhooks when configured and compiled in), reloads the FAQ on
//! SIGHUP or when its files change, and shuts down cleanly on Ctrl-C / SIGTERM.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use supportbot_chat::Shutdown;
use tokio::task::JoinHandle;

use super::{CliError, CliResult};
use crate::config::Config;
use crate::engine::Engine;
use crate::faq::Faq;

/// How often the FAQ directory is checked for changed files.
const FAQ_POLL: Duration = Duration::from_secs(2);

/// Runs the command.
pub fn run(config_path: Option<PathBuf>) -> CliResult {
    let config = crate::config::Config::load(config_path.as_deref()).map_err(CliError::usage)?;
    let faq = Faq::load_or_builtin(&config.bot.faq_dir).map_err(CliError::usage)?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sled=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(serve(config, faq))
}

async fn serve(config: Config, faq: Faq) -> CliResult {
    let engine = Engine::open(&config, faq).map_err(CliError::runtime)?;
    let shutdown = Shutdown::new();
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();

    // Routes other channels serve on the web listener: the webhook channel's `POST /webhook/{channel}`, the
    // Telegram webhook and attachment links.
    #[allow(unused_mut)]
    let mut extra = crate::channels::web::Router::new();
    #[cfg(feature = "webhook")]
    {
        let webhooks = crate::channels::webhook::start(&config, &engine).map_err(CliError::usage)?;
        extra = extra.merge(webhooks.router);
    }
    #[cfg(feature = "telegram")]
    {
        let started = crate::channels::telegram::start(&config, &engine, shutdown.clone()).await;
        let started =
            started.map_err(|e| stop_with(&shutdown, format!("the Telegram channel did not start: {e:#}")))?;
        if let Some(bot) = &started.bot {
            println!("Telegram: @{bot}");
        }
        tasks.extend(started.tasks);
        extra = extra.merge(started.router);
    }
    #[cfg(feature = "discord")]
    {
        let started = crate::channels::discord::start(&config, &engine, shutdown.clone()).await;
        tasks.extend(started.map_err(|e| stop_with(&shutdown, format!("the Discord channel did not start: {e:#}")))?);
    }

    let web = match crate::channels::web::start(&config, &engine, extra, shutdown.clone()).await {
        Ok(web) => web,
        Err(err) => {
            shutdown.cancel();
            return Err(listen_error(err));
        }
    };

    let mut runner = {
        let (engine, shutdown) = (engine.clone(), shutdown.clone());
        tokio::spawn(async move { engine.run(shutdown).await })
    };
    tasks.push(tokio::spawn(faq_reloader(engine.clone(), config.bot.faq_dir.clone(), shutdown.clone())));
    // `supportbot outbox list|retry|drop` talk to the running bot through its data directory.
    tasks.push(super::outbox_cmd::control::spawn(engine.clone(), shutdown.clone()));
    announce(&web);

    // Runs until a stop signal, or until the engine or the web server fails on its own.
    let mut web_task = web.task;
    let early = tokio::select! {
        _ = stop_signal() => None,
        done = &mut runner => Some(match done {
            Ok(Ok(())) => CliError::runtime("the engine stopped unexpectedly"),
            Ok(Err(err)) => CliError::runtime(err),
            Err(err) => CliError::runtime(format!("the engine failed: {err}")),
        }),
        done = &mut web_task => Some(match done {
            Ok(Ok(())) => CliError::runtime("the web server stopped unexpectedly"),
            Ok(Err(err)) => CliError::runtime(err),
            Err(err) => CliError::runtime(format!("the web server failed: {err}")),
        }),
    };
    if early.is_none() {
        eprintln!("Shutting down: finishing messages in flight and flushing the store…");
    }
    shutdown.cancel();
    if !web_task.is_finished() {
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut web_task).await;
    }
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }
    let engine_result = if runner.is_finished() && early.is_some() {
        Ok(())
    } else {
        match runner.await {
            Ok(result) => result.map_err(CliError::runtime),
            Err(err) => Err(CliError::runtime(format!("the engine failed: {err}"))),
        }
    };
    if let Some(err) = early {
        return Err(err);
    }
    engine_result?;
    eprintln!("Stopped.");
    Ok(())
}

/// Stops what already started and turns a start failure into a runtime error (exit code 1).
#[allow(dead_code)]
fn stop_with(shutdown: &Shutdown, message: String) -> CliError {
    shutdown.cancel();
    CliError::runtime(message)
}

/// A start failure of the web channel as one sentence (exit code 1).
fn listen_error(err: supportbot_web::WebError) -> CliError {
    match err {
        supportbot_web::WebError::Listen { .. } => {
            CliError::runtime(format!("{err}. Set another address with `[web] listen` in the config file."))
        }
        other => CliError::runtime(other),
    }
}

/// Tells the person who started the bot where to go.
fn announce(web: &crate::channels::web::WebStarted) {
    use crate::channels::web::TokenSource;
    println!("supportbot is running.");
    println!("  chat:   {}/", web.url);
    println!("  inbox:  {}/inbox", web.url);
    match &web.token_source {
        TokenSource::Config => println!("  operator token: the one set in [web] token / SUPPORTBOT_WEB_TOKEN"),
        TokenSource::File { path, created: true } => {
            println!("  operator token (shown this once; kept in {}):", path.display());
            println!("    {}", web.token);
        }
        TokenSource::File { path, created: false } => println!("  operator token: in {}", path.display()),
    }
    println!("Press Ctrl-C to stop.");
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Name, modification time and size of every `*.toml` file of the FAQ directory, sorted.
fn faq_fingerprint(dir: &Path) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| {
            let meta = e.metadata().ok();
            (e.path(), meta.as_ref().and_then(|m| m.modified().ok()), meta.map_or(0, |m| m.len()))
        })
        .collect();
    files.sort();
    files
}

/// Loads the FAQ again; a broken one is reported and the running one kept.
async fn reload_faq(engine: &Engine, dir: &Path, why: &str) {
    let owned = dir.to_path_buf();
    match tokio::task::spawn_blocking(move || Faq::load_or_builtin(&owned)).await {
        Ok(Ok(faq)) => {
            let entries = faq.entries().len();
            engine.set_faq(faq);
            tracing::info!(reason = why, entries, dir = %dir.display(), "FAQ reloaded");
        }
        Ok(Err(err)) => {
            tracing::error!(reason = why, error = %err, "the FAQ has errors; keeping the one already loaded");
        }
        Err(err) => tracing::error!(error = %err, "reloading the FAQ failed"),
    }
}

/// Reloads the FAQ on SIGHUP and when a file of the FAQ directory changes, until shutdown.
async fn faq_reloader(engine: Engine, dir: PathBuf, shutdown: Shutdown) {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut last = faq_fingerprint(&dir);
    let mut tick = tokio::time::interval(FAQ_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        #[cfg(unix)]
        let hup = async {
            match hangup.as_mut() {
                Some(h) => {
                    h.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let hup = std::future::pending::<()>();
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = hup => {
                last = faq_fingerprint(&dir);
                reload_faq(&engine, &dir, "SIGHUP").await;
            }
            _ = tick.tick() => {
                let now = faq_fingerprint(&dir);
                if now != last {
                    last = now;
                    reload_faq(&engine, &dir, "file change").await;
                }
            }
        }
    }
}
