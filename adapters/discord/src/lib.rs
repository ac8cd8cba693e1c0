//! supportbot's Discord channel (serenity 0.12): users in DMs and server channels, operators in case threads
//! under their team's room, and the outbox adapter that delivers the engine's messages.
//!
//! [`connect`] checks the token, builds the serenity client and the [`DiscordAdapter`]; [`DiscordChannel::spawn`]
//! runs the gateway (whenever this process leads it) and the ordered hand-off of events to the engine until the
//! shutdown token fires.

mod deliver;
mod directory;
mod escape;
mod gateway;
mod inbound;
mod normalize;
mod operator;
mod rest;
mod settings;
mod split;
mod threads;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serenity::all::UserId;
use serenity::http::Route;
use supportbot_chat::{InboundSink, Shutdown};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use deliver::DiscordAdapter;
pub use escape::escape_markdown;
pub use normalize::{button_text, INTERACTION_PREFIX};
pub use settings::DiscordSettings;
pub use split::{split_message, DISCORD_LIMIT};
pub use threads::case_from_name;

use directory::Directory;
use rest::Rest;

/// Why the channel could not start. Each is one sentence a person setting up the bot can act on.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No token in the config nor the environment.
    #[error("no Discord bot token: set [discord] token or DISCORD_BOT_TOKEN")]
    NoToken,
    /// `api_url` is not an http(s) base.
    #[error("[discord] api_url `{0}` is not an http:// or https:// address")]
    BadApiUrl(String),
    /// Discord answered 401 to the token.
    #[error("Discord refused the bot token (401 Unauthorized): check [discord] token or DISCORD_BOT_TOKEN")]
    BadToken,
    /// Discord could not be asked.
    #[error("cannot check the bot token with Discord at {base}: {reason}")]
    Unreachable {
        /// The API base.
        base: String,
        /// What went wrong.
        reason: String,
    },
    /// serenity could not build its client.
    #[error("cannot start the Discord gateway client: {0}")]
    Client(String),
}

#[derive(Deserialize)]
struct CurrentUser {
    id: UserId,
    username: String,
}

/// A connected, not yet running, Discord channel.
pub struct DiscordChannel {
    adapter: Arc<DiscordAdapter>,
    bot: u64,
    bot_name: String,
    gateway: gateway::Gateway,
    receiver: inbound::Receiver,
    events: mpsc::UnboundedReceiver<inbound::Incoming>,
}

/// Checks the token (`GET /users/@me`), then builds the serenity client (rate limiter off: the engine's
/// outbox does the retrying, honouring Discord's `retry_after`) and the delivery adapter.
pub async fn connect(
    settings: DiscordSettings,
    sink: Arc<dyn InboundSink>,
) -> Result<DiscordChannel, StartError> {
    let token = settings.token.trim().to_string();
    if token.is_empty() {
        return Err(StartError::NoToken);
    }
    let base = match settings
        .api_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Some(url.trim_end_matches('/').to_string())
        }
        Some(url) => return Err(StartError::BadApiUrl(url.to_string())),
        None => None,
    };
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| StartError::Client(e.to_string()))?;
    let rest = Rest::new(client.clone(), &token, base.clone());
    let me: CurrentUser = rest.get(Route::UserMe).await.map_err(|e| {
        if e.is_unauthorized() {
            StartError::BadToken
        } else {
            let shown = base.clone().unwrap_or_else(|| "https://discord.com".into());
            StartError::Unreachable {
                base: shown,
                reason: e.to_string(),
            }
        }
    })?;
    let platform = settings.platform_name();
    let dir = Arc::new(Directory::new(
        settings.operator_rooms.iter().copied().filter(|id| *id > 0),
    ));
    let adapter = Arc::new(DiscordAdapter::new(
        platform.clone(),
        rest.clone(),
        dir.clone(),
    ));
    let (tx, events) = mpsc::unbounded_channel();
    let handler = gateway::Handler {
        events: tx,
        rest: rest.clone(),
    };
    let gateway = gateway::Gateway {
        token,
        http: client,
        base,
        handler,
    };
    // Built once now so that a client serenity refuses stops the start; each lead builds its own.
    drop(gateway.client().await?);
    let receiver = inbound::Receiver {
        platform,
        bot: me.id.get(),
        rest,
        dir,
        sink,
    };
    Ok(DiscordChannel {
        adapter,
        bot: me.id.get(),
        bot_name: me.username,
        gateway,
        receiver,
        events,
    })
}

impl DiscordChannel {
    /// The adapter to register with the engine's outbox.
    pub fn adapter(&self) -> Arc<DiscordAdapter> {
        self.adapter.clone()
    }

    /// The bot's own user id.
    pub fn bot_id(&self) -> u64 {
        self.bot
    }

    /// Runs the gateway and the hand-off to the engine until `shutdown` fires; returns their tasks. One process
    /// of a deployment holds the gateway connection: the gateway task waits for the lead, connects, and when the
    /// lead is lost it disconnects and waits for the lead again.
    pub fn spawn(self, shutdown: Shutdown) -> Vec<JoinHandle<()>> {
        let DiscordChannel {
            gateway,
            receiver,
            events,
            bot_name,
            ..
        } = self;
        let sink = receiver.sink.clone();
        let handoff = inbound::spawn(receiver, events, shutdown.clone());
        let gateway = tokio::spawn(gateway::run_led(gateway, sink, bot_name, shutdown));
        vec![gateway, handoff]
    }
}
