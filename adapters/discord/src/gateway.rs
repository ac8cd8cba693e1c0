//! The serenity gateway client: intents for DMs, guild messages and message content; its event handler
//! forwards messages and button presses to the orderer and acknowledges presses in time; [`run_led`] holds the
//! connection while this process leads the gateway, and asks for the lead again after losing it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serenity::all::{
    Client, ClientBuilder, Context, CreateInteractionResponse, EventHandler, GatewayIntents,
    HttpBuilder, Interaction, Message, Ready, ResumedEvent,
};
use serenity::http::Route;
use supportbot_chat::{InboundSink, Shutdown};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

use crate::inbound::Incoming;
use crate::rest::Rest;
use crate::StartError;

/// The role whose lead runs the gateway connection.
const GATEWAY: &str = "discord:gateway";
/// Pause before asking for the lead again after serenity's client could not be built.
const BUILD_RETRY: Duration = Duration::from_secs(5);

/// Discord wants an interaction answered within 3 s; we answer by this time even if the press is not stored
/// yet (storing normally takes milliseconds).
const ACK_DEADLINE: Duration = Duration::from_millis(2500);

/// The intents the channel needs: guild metadata (threads), guild messages, DMs, and message content.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

/// serenity's event handler: does no work itself, only queues events in arrival order.
#[derive(Clone)]
pub struct Handler {
    /// Where events go.
    pub events: mpsc::UnboundedSender<Incoming>,
    /// REST, to acknowledge interactions.
    pub rest: Rest,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn message(&self, _ctx: Context, message: Message) {
        if self
            .events
            .send(Incoming::Message(Box::new(message)))
            .is_err()
        {
            debug!("discord message arrived while shutting down");
        }
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        let Interaction::Component(press) = interaction else {
            debug!("ignoring a non-component interaction");
            return;
        };
        let received = Instant::now();
        let (stored_tx, stored_rx) = oneshot::channel();
        let (id, token) = (press.id, press.token.clone());
        if self
            .events
            .send(Incoming::Button(Box::new(press), stored_tx))
            .is_err()
        {
            return;
        }
        let rest = self.rest.clone();
        tokio::spawn(async move {
            let remaining = ACK_DEADLINE.saturating_sub(received.elapsed());
            let acknowledge = tokio::select! {
                stored = stored_rx => stored.unwrap_or(false),
                () = tokio::time::sleep(remaining) => true,
            };
            if !acknowledge {
                return;
            }
            let route = Route::InteractionResponse {
                interaction_id: id,
                token: &token,
            };
            match rest
                .post_empty(route, &CreateInteractionResponse::Acknowledge)
                .await
            {
                Ok(()) => {
                    debug!(interaction = %id, after_ms = received.elapsed().as_millis() as u64, "press acknowledged")
                }
                Err(e) => {
                    warn!(interaction = %id, error = %e, "could not acknowledge a button press")
                }
            }
        });
    }

    async fn ready(&self, _ctx: Context, ready: Ready) {
        info!(bot = %ready.user.name, guilds = ready.guilds.len(), "connected to the Discord gateway");
    }

    async fn resume(&self, _ctx: Context, _event: ResumedEvent) {
        info!("Discord gateway session resumed");
    }
}

/// What builds a gateway client: a fresh serenity client for each lead (a stopped client is not started
/// again), with the same event handler, so events of every connection go to the one orderer.
pub struct Gateway {
    /// The bot token.
    pub token: String,
    /// The HTTP client serenity's REST side uses.
    pub http: reqwest::Client,
    /// The API base (`[discord] api_url`), when not Discord's.
    pub base: Option<String>,
    /// The event handler.
    pub handler: Handler,
}

impl Gateway {
    /// A new serenity client (rate limiter off: the engine's outbox does the retrying, honouring Discord's
    /// `retry_after`).
    pub async fn client(&self) -> Result<Client, StartError> {
        let mut http = HttpBuilder::new(&self.token)
            .client(self.http.clone())
            .ratelimiter_disabled(true);
        if let Some(base) = &self.base {
            http = http.proxy(base.clone());
        }
        ClientBuilder::new_with_http(http.build(), intents())
            .event_handler(self.handler.clone())
            .await
            .map_err(|e| StartError::Client(e.to_string()))
    }
}

/// How one connection ended.
enum Ended {
    /// Shutdown: the gateway is closed for good.
    Shutdown,
    /// The lead was lost: the connection was closed, ask for the lead again.
    LostLead,
    /// The client stopped by itself (a refused token or intents): nothing to try again.
    Stopped,
}

/// Runs the gateway connection whenever this process leads the gateway, until `shutdown`: waits for the lead,
/// connects, and when the lead is lost closes the connection and waits for the lead again. A client that stops
/// by itself (Discord refused the token or the intents) ends the task and gives the lead up.
pub async fn run_led(
    gateway: Gateway,
    sink: Arc<dyn InboundSink>,
    bot_name: String,
    shutdown: Shutdown,
) {
    loop {
        let lead = tokio::select! {
            lead = sink.lead(GATEWAY) => lead,
            () = shutdown.cancelled() => return,
        };
        let mut client = match gateway.client().await {
            Ok(client) => client,
            Err(err) => {
                error!(error = %err, "cannot build the Discord gateway client; asking for the lead again");
                drop(lead);
                tokio::select! {
                    () = tokio::time::sleep(BUILD_RETRY) => continue,
                    () = shutdown.cancelled() => return,
                }
            }
        };
        let shards = client.shard_manager.clone();
        info!(bot = %bot_name, "starting the Discord gateway");
        let ended = tokio::select! {
            result = client.start() => {
                match result {
                    Ok(()) => info!("Discord gateway client stopped"),
                    Err(e) => error!(error = %explain(&e), "Discord gateway client stopped"),
                }
                Ended::Stopped
            }
            () = shutdown.cancelled() => Ended::Shutdown,
            () = lead.lost().cancelled() => Ended::LostLead,
        };
        if !matches!(ended, Ended::Stopped) {
            shards.shutdown_all().await;
        }
        drop(client);
        drop(lead);
        match ended {
            Ended::LostLead if !shutdown.is_cancelled() => {
                warn!("this process lost the lead of the Discord gateway and closed it; waiting to lead again");
            }
            _ => return,
        }
    }
}

/// A gateway failure in words a person can act on.
fn explain(e: &serenity::Error) -> String {
    use serenity::gateway::GatewayError;
    match e {
        serenity::Error::Gateway(GatewayError::InvalidAuthentication) => {
            "Discord closed the gateway: the bot token is invalid".into()
        }
        serenity::Error::Gateway(GatewayError::DisallowedGatewayIntents) => {
            "Discord refused the intents: enable the Message Content intent for this bot in the Developer Portal"
                .into()
        }
        other => other.to_string(),
    }
}
