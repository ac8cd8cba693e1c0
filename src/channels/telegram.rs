//! Starts the Telegram channel for `serve`: checks the token (`getMe`), registers the `telegram` adapter with
//! the engine's outbox, and starts long polling or the webhook. Its routes (webhook, attachment downloads) are
//! returned for the web channel's listener to merge, unless `[telegram] listen` gives them a listener of their
//! own.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use supportbot_chat::{InboundSink, Shutdown};
use supportbot_telegram::{connect, Settings, TelegramError};
use tokio::task::JoinHandle;

use crate::config::{Config, TelegramConfig};
use crate::engine::Engine;

pub use supportbot_telegram::Router;

/// Default wait of one long-polling call, in seconds.
pub const DEFAULT_POLL_TIMEOUT_SECS: u64 = 10;

/// What [`start`] set up.
pub struct TelegramStarted {
    /// The bot's username (without `@`), `None` when no token is configured and nothing was started.
    pub bot: Option<String>,
    /// Receiving tasks; they end after shutdown.
    pub tasks: Vec<JoinHandle<()>>,
    /// `POST /telegram/webhook` and `GET /telegram/file/...`: merge into the web channel's router
    /// (`extra.merge(started.router)`). Empty when nothing was started or `[telegram] listen` serves them.
    pub router: Router,
}

impl TelegramStarted {
    fn idle() -> TelegramStarted {
        TelegramStarted {
            bot: None,
            tasks: Vec::new(),
            router: Router::new(),
        }
    }
}

/// The adapter's settings from `[telegram]` (and `[web]` for where attachment links point).
pub fn settings(config: &Config, telegram: &TelegramConfig) -> anyhow::Result<Settings> {
    let mut settings = Settings::new(telegram.token.trim());
    settings.api_url = telegram.api_url.clone().filter(|u| !u.trim().is_empty());
    let secs = telegram
        .poll_timeout_secs
        .unwrap_or(DEFAULT_POLL_TIMEOUT_SECS)
        .clamp(1, 50);
    settings.poll_timeout = Duration::from_secs(secs);
    settings.webhook_url = telegram
        .webhook_url
        .clone()
        .filter(|u| !u.trim().is_empty());
    if let Some(listen) = telegram.listen.as_deref().filter(|l| !l.trim().is_empty()) {
        let addr: SocketAddr = listen.trim().parse().map_err(|_| {
            TelegramError::Settings(format!(
                "[telegram] listen `{listen}` is not an address such as 127.0.0.1:8081"
            ))
        })?;
        settings.listen = Some(addr);
    }
    settings.public_url = telegram.public_url.clone().filter(|u| !u.trim().is_empty());
    if settings.public_url.is_none() && settings.listen.is_none() && cfg!(feature = "web") {
        // The web channel's listener serves the routes.
        let web = config
            .web
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.web.listen));
        settings.public_url = Some(web);
    }
    Ok(settings)
}

/// Starts the channel when a token is configured (`[telegram] token` or `TELEGRAM_BOT_TOKEN`); otherwise does
/// nothing. A refused token is an error naming where the token comes from.
pub async fn start(
    config: &Config,
    engine: &Engine,
    shutdown: Shutdown,
) -> anyhow::Result<TelegramStarted> {
    let Some(telegram) = config
        .telegram
        .as_ref()
        .filter(|t| !t.token.trim().is_empty())
    else {
        return Ok(TelegramStarted::idle());
    };
    let settings = settings(config, telegram)?;
    let own_listener = settings.listen.is_some();
    let bot = connect(settings)
        .await
        .context("the Telegram channel cannot start")?;
    let username = bot.identity().username.clone();
    engine.register_adapter(bot.adapter());
    let sink: Arc<dyn InboundSink> = Arc::new(engine.clone());
    let started = bot
        .start(sink, shutdown)
        .await
        .context("the Telegram channel cannot start")?;
    tracing::info!(bot = %username, "telegram channel started");
    let router = if own_listener {
        Router::new()
    } else {
        started.router
    };
    Ok(TelegramStarted {
        bot: Some(username),
        tasks: started.tasks,
        router,
    })
}

/// Whether a [`start`] failure is the configuration's fault (a refused token, bad settings: exit code 2) rather
/// than the network's (exit code 1).
pub fn is_config_error(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<TelegramError>(),
            Some(TelegramError::BadToken | TelegramError::Settings(_))
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_from_config() {
        let config = Config::parse(
            "[web]\nlisten = \"127.0.0.1:8080\"\n[telegram]\ntoken = \"1:T\"\npoll_timeout_secs = 99\n",
            "t.toml",
        )
        .unwrap();
        let s = settings(&config, config.telegram.as_ref().unwrap()).unwrap();
        assert_eq!(s.poll_timeout, Duration::from_secs(50));
        assert_eq!(s.listen, None);
        if cfg!(feature = "web") {
            assert_eq!(s.file_link_base().as_deref(), Some("http://127.0.0.1:8080"));
        }
        let own = Config::parse(
            "[telegram]\ntoken = \"1:T\"\nlisten = \"127.0.0.1:8081\"\n",
            "t.toml",
        )
        .unwrap();
        let s = settings(&own, own.telegram.as_ref().unwrap()).unwrap();
        assert_eq!(s.file_link_base().as_deref(), Some("http://127.0.0.1:8081"));
        let bad = Config::parse(
            "[telegram]\ntoken = \"1:T\"\nlisten = \"localhost\"\n",
            "t.toml",
        )
        .unwrap();
        let err = settings(&bad, bad.telegram.as_ref().unwrap()).unwrap_err();
        assert!(err.to_string().contains("[telegram] listen"), "{err}");
        assert!(is_config_error(
            &err.context("the Telegram channel cannot start")
        ));
    }
}
