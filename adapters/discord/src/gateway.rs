//! The serenity gateway client: intents for DMs, guild messages and message content; its event handler
//! forwards messages and button presses to the orderer and acknowledges presses in time.

use std::time::{Duration, Instant};

use serenity::all::{
    Context, CreateInteractionResponse, EventHandler, GatewayIntents, Interaction, Message, Ready,
    ResumedEvent,
};
use serenity::http::Route;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::inbound::Incoming;
use crate::rest::Rest;

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
