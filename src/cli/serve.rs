//! `supportbot serve`: loads the config and the FAQ, opens the engine, starts every configured channel (the web
//! chat and inbox always; Telegram, Discord and webhooks when configured and compiled in), reloads the FAQ on
//! SIGHUP or when its files change, and shuts down cleanly on Ctrl-C / SIGTERM.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
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
    let faq = super::load_faq(&config)?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sled=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
    for (team, category) in unrouted_categories(&config, &faq) {
        tracing::warn!(
            team,
            category,
            "no FAQ entry has this category of [[teams]], so no handoff reaches the team through it"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(serve(config, faq))
}

/// The `[[teams]] categories` that no FAQ entry has, with their team: a misspelt category routes nothing.
fn unrouted_categories<'c>(config: &'c Config, faq: &Faq) -> Vec<(&'c str, &'c str)> {
    config
        .teams
        .iter()
        .flat_map(|t| {
            t.categories
                .iter()
                .map(move |c| (t.name.as_str(), c.as_str()))
        })
        .filter(|(_, c)| !faq.entries().iter().any(|e| e.category == *c))
        .collect()
}

async fn serve(config: Config, faq: Faq) -> CliResult {
    let options = crate::engine::EngineOptions {
        store: super::connect_configured(&config).await?,
        ..Default::default()
    };
    let engine = Engine::open_with(&config, faq, options)
        .await
        .map_err(CliError::runtime)?;
    let shutdown = Shutdown::new();
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();

    // Routes other channels serve on the web listener: the webhook channel's `POST /webhook/{channel}`, the
    // Telegram webhook and attachment links.
    #[allow(unused_mut)]
    let mut routes = Routes::default();
    #[cfg(feature = "webhook")]
    {
        let webhooks =
            crate::channels::webhook::start(&config, &engine).map_err(CliError::usage)?;
        routes = merge(routes, webhooks.router);
        #[cfg(not(feature = "web"))]
        if !config.webhooks.is_empty() {
            tracing::warn!("[[webhooks]] channels need the web channel's listener, which this build leaves out");
        }
    }
    #[cfg(feature = "telegram")]
    {
        let started = crate::channels::telegram::start(&config, &engine, shutdown.clone()).await;
        let started = started.map_err(|e| {
            let config_error = crate::channels::telegram::is_config_error(&e);
            stop_with(
                &shutdown,
                config_error,
                format!("the Telegram channel did not start: {e:#}"),
            )
        })?;
        if let Some(bot) = &started.bot {
            println!("Telegram: @{bot}");
        }
        tasks.extend(started.tasks);
        routes = merge(routes, started.router);
    }
    #[cfg(feature = "onebot")]
    {
        let started =
            crate::channels::onebot::start(&config, &engine, shutdown.clone()).map_err(|e| {
                stop_with(
                    &shutdown,
                    true,
                    format!("the QQ channel did not start: {e}"),
                )
            })?;
        if let Some(started) = started {
            #[cfg(not(feature = "web"))]
            tracing::warn!("[onebot] reverse mode needs the web channel's listener, which this build leaves out");
            routes = merge(routes, started.router);
            tasks.extend(started.task);
        }
    }
    #[cfg(feature = "wechat")]
    if let Some(router) = crate::channels::wechat::start(&config, &engine).map_err(|e| {
        stop_with(
            &shutdown,
            true,
            format!("the WeChat channel did not start: {e}"),
        )
    })? {
        #[cfg(not(feature = "web"))]
        tracing::warn!("[wechat] needs the web channel's listener, which this build leaves out");
        routes = merge(routes, router);
    }
    #[cfg(feature = "discord")]
    {
        let started = crate::channels::discord::start(&config, &engine, shutdown.clone()).await;
        tasks.extend(started.map_err(|e| {
            let config_error = crate::channels::discord::is_config_error(&e);
            stop_with(
                &shutdown,
                config_error,
                format!("the Discord channel did not start: {e:#}"),
            )
        })?);
    }
    let (mut web_done, announcement) = start_web(&config, &engine, routes, &shutdown).await?;

    let mut runner = {
        let (engine, shutdown) = (engine.clone(), shutdown.clone());
        tokio::spawn(async move { engine.run(shutdown).await })
    };
    tasks.push(tokio::spawn(faq_reloader(
        engine.clone(),
        config.bot.faq_dir.clone(),
        shutdown.clone(),
    )));
    // `supportbot outbox list|retry|drop` talk to the running bot through its data directory.
    tasks.push(super::outbox_cmd::control::spawn(
        engine.clone(),
        shutdown.clone(),
    ));
    print!("{announcement}");
    let _ = std::io::Write::flush(&mut std::io::stdout());

    // Runs until a stop signal, or until the engine or the web server fails on its own.
    let mut web_finished = false;
    let early = tokio::select! {
        _ = stop_signal() => None,
        done = &mut runner => Some(match done {
            Ok(Ok(())) => CliError::runtime("the engine stopped unexpectedly"),
            Ok(Err(err)) => CliError::runtime(err),
            Err(err) => CliError::runtime(format!("the engine failed: {err}")),
        }),
        err = &mut web_done => {
            web_finished = true;
            Some(err)
        }
    };
    if early.is_none() {
        eprintln!("Shutting down: finishing messages in flight and flushing the store…");
    }
    shutdown.cancel();
    if !web_finished {
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut web_done).await;
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
/// Stops what already started; a wrong token or setting is a config error (exit 2), anything else (the
/// platform unreachable) a runtime failure (exit 1).
fn stop_with(shutdown: &Shutdown, config_error: bool, message: String) -> CliError {
    shutdown.cancel();
    if config_error {
        CliError::usage(message)
    } else {
        CliError::runtime(message)
    }
}

/// Resolves when the web server stops (with why, as an error); never without the web channel.
type WebDone = Pin<Box<dyn Future<Output = CliError> + Send>>;

/// Routes of other channels for the web listener.
#[cfg(feature = "web")]
type Routes = crate::channels::web::Router;
/// Without the web channel there is no listener to serve other channels' routes on.
#[cfg(not(feature = "web"))]
type Routes = ();

#[cfg(feature = "web")]
#[allow(dead_code)]
fn merge(routes: Routes, more: Routes) -> Routes {
    routes.merge(more)
}

#[cfg(not(feature = "web"))]
#[allow(dead_code)]
fn merge<R>(routes: Routes, _more: R) -> Routes {
    routes
}

/// Starts the web channel (chat, inbox, API, metrics and the other channels' routes); returns its watch and
/// what to print once everything runs.
#[cfg(feature = "web")]
async fn start_web(
    config: &Config,
    engine: &Engine,
    routes: Routes,
    shutdown: &Shutdown,
) -> Result<(WebDone, String), CliError> {
    let web = match crate::channels::web::start(config, engine, routes, shutdown.clone()).await {
        Ok(web) => web,
        Err(err) => {
            shutdown.cancel();
            return Err(listen_error(err));
        }
    };
    let announcement = announcement(&web);
    let task = web.task;
    let done: WebDone = Box::pin(async move {
        match task.await {
            Ok(Ok(())) => CliError::runtime("the web server stopped unexpectedly"),
            Ok(Err(err)) => CliError::runtime(err),
            Err(err) => CliError::runtime(format!("the web server failed: {err}")),
        }
    });
    Ok((done, announcement))
}

/// Without the web channel: nothing to start or watch.
#[cfg(not(feature = "web"))]
async fn start_web(
    _: &Config,
    _: &Engine,
    _: Routes,
    _: &Shutdown,
) -> Result<(WebDone, String), CliError> {
    let done: WebDone = Box::pin(std::future::pending());
    Ok((
        done,
        "supportbot is running (this build has no web channel).\nPress Ctrl-C to stop.\n"
            .to_string(),
    ))
}

/// A start failure of the web channel as one sentence (exit code 1).
#[cfg(feature = "web")]
fn listen_error(err: supportbot_web::WebError) -> CliError {
    match err {
        supportbot_web::WebError::Listen { .. } => CliError::runtime(format!(
            "{err}. Set another address with `[web] listen` in the config file."
        )),
        other => CliError::runtime(other),
    }
}

/// Tells the person who started the bot where to go.
#[cfg(feature = "web")]
fn announcement(web: &crate::channels::web::WebStarted) -> String {
    use crate::channels::web::TokenSource;
    let mut text = format!(
        "supportbot is running.\n  chat:   {url}/\n  inbox:  {url}/inbox\n",
        url = web.url
    );
    match &web.token_source {
        TokenSource::Config => {
            text.push_str("  operator token: the one set in [web] token / SUPPORTBOT_WEB_TOKEN\n")
        }
        TokenSource::File {
            path,
            created: true,
        } => {
            text.push_str(&format!(
                "  operator token (shown this once; kept in {}):\n    {}\n",
                path.display(),
                web.token
            ));
        }
        TokenSource::File {
            path,
            created: false,
        } => {
            text.push_str(&format!("  operator token: in {}\n", path.display()));
        }
    }
    let logins: Vec<&str> = web
        .channel
        .settings()
        .operators
        .iter()
        .map(|o| o.login.as_str())
        .collect();
    if !logins.is_empty() {
        text.push_str(&format!(
            "  operators sign in to the inbox with their name and password: {}\n",
            logins.join(", ")
        ));
    }
    text.push_str("Press Ctrl-C to stop.\n");
    text
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
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| {
            let meta = e.metadata().ok();
            (
                e.path(),
                meta.as_ref().and_then(|m| m.modified().ok()),
                meta.map_or(0, |m| m.len()),
            )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teams_categories_that_no_entry_has_are_found() {
        let config = Config::parse(
            "[[teams]]\nname = \"security\"\ncategories = [\"account\", \"acount\"]\n\
             [[teams]]\nname = \"rest\"\n",
            "s.toml",
        )
        .unwrap();
        let faq = Faq::builtin();
        assert_eq!(
            unrouted_categories(&config, &faq),
            vec![("security", "acount")]
        );
    }
}
