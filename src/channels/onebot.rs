//! Starts the QQ channel for `serve`: registers the OneBot adapter with the engine and returns the reverse
//! WebSocket's route (for the web listener) and, in forward mode, the task that keeps the connection.

use std::sync::Arc;
use std::time::Duration;

use supportbot_chat::{Adapter, InboundSink, Shutdown};
use supportbot_onebot::{forward, reverse, Mode, OneBotChannel, Router, Settings};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::engine::Engine;

/// The platform name of QQ accounts and chats (`qq:<user_id>`, `qq:group:<group_id>`).
pub const PLATFORM: &str = "qq";

/// What [`start`] set up.
pub struct OneBotStarted {
    /// `GET /onebot/v11/ws` for the web listener.
    pub router: Router,
    /// The forward connection's task (none in reverse mode).
    pub task: Option<JoinHandle<()>>,
}

/// Why the channel did not start: a setting that cannot work.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OneBotSetupError(String);

/// Starts the channel when `[onebot]` is configured.
pub fn start(
    config: &Config,
    engine: &Engine,
    shutdown: Shutdown,
) -> Result<Option<OneBotStarted>, OneBotSetupError> {
    let Some(section) = &config.onebot else {
        return Ok(None);
    };
    let mode = match section.mode.as_str() {
        "forward" => Mode::Forward {
            url: section.url.clone().unwrap_or_default(),
        },
        _ => Mode::Reverse,
    };
    let token = section.access_token.clone().filter(|t| !t.is_empty());
    let loopback = config
        .web
        .listen
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|a| a.ip().is_loopback());
    if mode == Mode::Reverse && token.is_none() && !loopback {
        return Err(OneBotSetupError(format!(
            "[onebot] reverse mode on {} (not loopback) needs an access_token (or ONEBOT_ACCESS_TOKEN): anyone \
             who can reach it could speak as any QQ user",
            config.web.listen
        )));
    }
    let settings = Settings {
        platform: PLATFORM.into(),
        mode: mode.clone(),
        access_token: token,
        action_timeout: Duration::from_secs(section.action_timeout_secs.max(1)),
    };
    let sink: Arc<dyn InboundSink> = Arc::new(engine.clone());
    let channel = OneBotChannel::new(settings, sink);
    let adapter: Arc<dyn Adapter> = Arc::new(channel.clone());
    engine.register_adapter(adapter);
    let task = match mode {
        Mode::Forward { url } => {
            tracing::info!(%url, "QQ (OneBot v11) channel: connecting");
            Some(tokio::spawn(forward::run(
                channel.clone(),
                url,
                shutdown.clone(),
            )))
        }
        Mode::Reverse => {
            tracing::info!(
                path = reverse::PATH,
                "QQ (OneBot v11) channel: waiting for the implementation"
            );
            None
        }
    };
    Ok(Some(OneBotStarted {
        router: reverse::router(channel, shutdown),
        task,
    }))
}
