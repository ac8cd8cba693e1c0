//! supportbot's Telegram channel (teloxide): receives updates by long polling or webhook and hands them to
//! the core only acknowledging what the core stored; sends the core's messages as plain text with inline
//! keyboards; gives attachments download links that do not reveal the bot token.
//!
//! Start with [`connect`] (checks the token with `getMe`), register [`Telegram::adapter`] with the core's
//! outbox, then [`Telegram::start`] the receiving tasks.

mod commands;
mod deliver;
mod error;
mod files;
mod http;
mod inbound;
mod keyboard;
mod poll;
mod receive;
mod settings;
mod split;

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use supportbot_chat::{InboundSink, Shutdown};
use teloxide::payloads::{DeleteWebhookSetters, SetWebhookSetters};
use teloxide::requests::Requester;
use teloxide::{ApiError, Bot, RequestError};
use tokio::task::JoinHandle;

pub use deliver::TelegramAdapter;
pub use error::{classify, TelegramError};
pub use files::FileLinks;
pub use http::SECRET_HEADER;
pub use inbound::{BotIdentity, PLATFORM};
pub use settings::Settings;

/// The HTTP routes of the channel (webhook, attachment downloads), to merge into another listener.
pub use axum::Router;

/// The running channel.
pub struct Started {
    /// Receiving tasks (long polling, the own listener); they end after shutdown.
    pub tasks: Vec<JoinHandle<()>>,
    /// `POST /telegram/webhook` and `GET /telegram/file/...`, for a listener that does not run them yet (the
    /// web channel's, when `listen` is unset). Already served when `listen` is set.
    pub router: Router,
}
pub use split::{split_text, MAX_MESSAGE};

use error::describe;
use receive::Receiver;

/// A connected bot: its identity is known and the token works.
pub struct Telegram {
    bot: Bot,
    settings: Settings,
    me: BotIdentity,
    adapter: Arc<TelegramAdapter>,
}

/// Checks the settings and the token (`getMe`). A refused token is [`TelegramError::BadToken`].
pub async fn connect(settings: Settings) -> Result<Telegram, TelegramError> {
    let token = settings.token.trim().to_string();
    if token.is_empty() {
        return Err(TelegramError::Settings("the bot token is empty".into()));
    }
    if settings.webhook_url.is_some() && settings.listen.is_none() {
        return Err(TelegramError::Settings(
            "webhook mode needs `listen`, the address Telegram's posts reach".into(),
        ));
    }
    let api_url = settings
        .api_url
        .as_deref()
        .unwrap_or("https://api.telegram.org")
        .to_string();
    let url = reqwest::Url::parse(&api_url)
        .map_err(|e| TelegramError::Settings(format!("api_url `{api_url}` is not a URL: {e}")))?;
    // The client's timeout must exceed the long-polling wait.
    let client = teloxide::net::default_reqwest_settings()
        .timeout(settings.poll_timeout + std::time::Duration::from_secs(15))
        .build()
        .map_err(|e| TelegramError::Settings(format!("cannot build the HTTP client: {e}")))?;
    let bot = Bot::with_client(token.clone(), client).set_api_url(url);
    let me = match bot.get_me().await {
        Ok(me) => me,
        Err(RequestError::Api(ApiError::InvalidToken)) => return Err(TelegramError::BadToken),
        Err(err) => {
            return Err(TelegramError::Unreachable {
                url: api_url,
                reason: describe(&err, &token),
            })
        }
    };
    let username = me.user.username.clone().unwrap_or_default();
    if !me.user.is_bot || username.is_empty() {
        return Err(TelegramError::Unreachable {
            url: api_url,
            reason: "getMe did not describe a bot".into(),
        });
    }
    let me = BotIdentity {
        id: me.user.id,
        username,
    };
    tracing::info!(bot = %me.username, id = me.id.0, "telegram bot connected");
    let adapter = Arc::new(TelegramAdapter::new(bot.clone(), token.clone()));
    let settings = Settings { token, ..settings };
    Ok(Telegram {
        bot,
        settings,
        me,
        adapter,
    })
}

impl Telegram {
    /// Who the bot is.
    pub fn identity(&self) -> &BotIdentity {
        &self.me
    }

    /// The sending side, for the core's outbox.
    pub fn adapter(&self) -> Arc<TelegramAdapter> {
        Arc::clone(&self.adapter)
    }

    /// Publishes the command menu and starts receiving: the own listener (when `listen` is set), then long
    /// polling or the webhook. Every task stops on `shutdown`. Without `listen`, the returned router must be
    /// served by another listener for the webhook and attachment links to work.
    pub async fn start(
        self,
        sink: Arc<dyn InboundSink>,
        shutdown: Shutdown,
    ) -> Result<Started, TelegramError> {
        let token = self.settings.token.clone();
        commands::publish(&self.bot, &token).await?;
        let links = self
            .settings
            .file_link_base()
            .map(|base| FileLinks::new(base, &token));
        if links.is_none() {
            tracing::warn!("telegram attachments get no download links: no public address for them is configured");
        }
        let receiver = Receiver {
            bot: self.bot.clone(),
            token: token.clone(),
            me: self.me.clone(),
            links,
            sink,
        };
        let webhook_secret = self
            .settings
            .webhook_url
            .as_ref()
            .map(|_| webhook_secret(&token));
        let mut tasks = Vec::new();
        let state = Arc::new(http::HttpState {
            receiver: receiver.clone(),
            webhook_secret: webhook_secret.clone(),
            links: receiver.links.clone(),
        });
        let router = http::router(state);
        if let Some(addr) = self.settings.listen {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| TelegramError::Listen { addr, source })?;
            let app = router.clone();
            let stop = shutdown.clone();
            tracing::info!(%addr, "telegram listener started");
            tasks.push(tokio::spawn(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await;
                if let Err(err) = served {
                    tracing::error!(error = %err, "telegram listener failed");
                }
            }));
        }
        match (&self.settings.webhook_url, webhook_secret) {
            (Some(url), Some(secret)) => {
                let parsed = reqwest::Url::parse(url).map_err(|e| {
                    TelegramError::Settings(format!("webhook_url `{url}` is not a URL: {e}"))
                })?;
                self.bot
                    .set_webhook(parsed)
                    .secret_token(secret)
                    .allowed_updates(poll::wanted_updates())
                    .max_connections(1)
                    .await
                    .map_err(|e| TelegramError::Call {
                        call: "setWebhook",
                        reason: describe(&e, &token),
                    })?;
                tracing::info!(url = %url, "telegram webhook set");
            }
            _ => {
                self.bot
                    .delete_webhook()
                    .drop_pending_updates(false)
                    .await
                    .map_err(|e| TelegramError::Call {
                        call: "deleteWebhook",
                        reason: describe(&e, &token),
                    })?;
                let timeout = self.settings.poll_timeout;
                tasks.push(tokio::spawn(poll::run_led(receiver, timeout, shutdown)));
            }
        }
        Ok(Started { tasks, router })
    }
}

/// The webhook's secret token: derived from the bot token, so it is stable across restarts and unknown to
/// anyone without the token (Telegram allows `A-Z a-z 0-9 _ -`, up to 256 characters).
fn webhook_secret(token: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(b"supportbot-telegram-webhook");
    hex::encode(mac.finalize().into_bytes())
}

/// The secret token the webhook expects for this bot token (for tests and for checking a proxy setup).
pub fn expected_webhook_secret(token: &str) -> String {
    webhook_secret(token)
}
