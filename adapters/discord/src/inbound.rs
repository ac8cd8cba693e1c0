//! From gateway events to the engine, in order: serenity dispatches every event on a task of its own, so
//! events are gathered for a moment, put back in Discord's order (snowflake ids grow with time), and handed
//! to per-channel lanes that each call the sink one message at a time. Button presses are acknowledged once
//! stored, or at the latest just before Discord's 3-second deadline.

use std::sync::Arc;
use std::time::Duration;

use serenity::model::application::ComponentInteraction;
use serenity::model::channel::Message;
use supportbot_chat::{accept_patiently, Inbound, InboundSink, Shutdown, SinkError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, error, warn};

use crate::directory::{ChannelKind, Directory};
use crate::normalize::{button_to_inbound, message_to_inbound, Place};
use crate::rest::Rest;

/// How long events are gathered before being put in order.
const SETTLE: Duration = Duration::from_millis(15);
/// Number of lanes; one channel always goes to the same lane.
const LANES: usize = 8;

/// One gateway event for the engine.
pub enum Incoming {
    /// A message was created.
    Message(Box<Message>),
    /// A button was pressed; `stored` tells the acknowledger whether the press was taken.
    Button(Box<ComponentInteraction>, oneshot::Sender<bool>),
}

impl Incoming {
    /// The snowflake that orders events.
    fn order(&self) -> u64 {
        match self {
            Incoming::Message(m) => m.id.get(),
            Incoming::Button(b, _) => b.id.get(),
        }
    }

    /// The channel the event happened in (its lane).
    fn channel(&self) -> u64 {
        match self {
            Incoming::Message(m) => m.channel_id.get(),
            Incoming::Button(b, _) => b.channel_id.get(),
        }
    }
}

/// What the lanes need to turn events into `Inbound`s.
pub struct Receiver {
    /// Platform name.
    pub platform: String,
    /// The bot's user id.
    pub bot: u64,
    /// REST, for channel lookups.
    pub rest: Rest,
    /// Known chats and case threads.
    pub dir: Arc<Directory>,
    /// The engine.
    pub sink: Arc<dyn InboundSink>,
}

/// Spawns the orderer and its lanes; they end when `events` closes or `shutdown` fires.
pub fn spawn(
    receiver: Receiver,
    mut events: mpsc::UnboundedReceiver<Incoming>,
    shutdown: Shutdown,
) -> JoinHandle<()> {
    let receiver = Arc::new(receiver);
    let mut lanes = Vec::with_capacity(LANES);
    let mut lane_tasks = Vec::with_capacity(LANES);
    for _ in 0..LANES {
        let (tx, rx) = mpsc::channel::<Incoming>(256);
        lanes.push(tx);
        lane_tasks.push(tokio::spawn(run_lane(
            receiver.clone(),
            rx,
            shutdown.clone(),
        )));
    }
    tokio::spawn(async move {
        'outer: loop {
            let first = tokio::select! {
                event = events.recv() => match event { Some(e) => e, None => break },
                () = shutdown.cancelled() => break,
            };
            let mut batch = vec![first];
            let deadline = tokio::time::Instant::now() + SETTLE;
            loop {
                tokio::select! {
                    event = events.recv() => match event { Some(e) => batch.push(e), None => break },
                    () = tokio::time::sleep_until(deadline) => break,
                }
            }
            batch.sort_by_key(Incoming::order);
            for event in batch {
                let lane = (event.channel() % LANES as u64) as usize;
                if lanes[lane].send(event).await.is_err() {
                    break 'outer;
                }
            }
        }
        drop(lanes);
        for task in lane_tasks {
            let _ = task.await;
        }
    })
}

async fn run_lane(receiver: Arc<Receiver>, mut rx: mpsc::Receiver<Incoming>, shutdown: Shutdown) {
    while let Some(event) = rx.recv().await {
        if shutdown.is_cancelled() {
            break;
        }
        match event {
            Incoming::Message(msg) => {
                if let Some(inbound) = receiver.message(&msg).await {
                    receiver.store(inbound).await;
                }
            }
            Incoming::Button(press, stored) => {
                let inbound = button_to_inbound(&receiver.platform, &press);
                let ok = receiver.store(inbound).await;
                let _ = stored.send(ok);
            }
        }
    }
}

impl Receiver {
    /// Where a message was written and what it becomes.
    async fn message(&self, msg: &Message) -> Option<Inbound> {
        let channel = msg.channel_id.get();
        let place = if msg.guild_id.is_none() {
            if !msg.author.bot {
                self.dir.learn_dm(msg.author.id.get(), channel);
            }
            Place::Direct
        } else if self.dir.is_room(channel) {
            let card_case = msg
                .message_reference
                .as_ref()
                .and_then(|r| r.message_id)
                .and_then(|id| self.dir.threads.case_of_card(id.get()));
            Place::Room { card_case }
        } else if self.dir.has_rooms() {
            match self.dir.guild_channel(&self.rest, channel).await {
                Ok(ChannelKind::Thread {
                    case: Some(case), ..
                }) => Place::CaseThread(case),
                Ok(_) => Place::Channel,
                Err(e) => {
                    warn!(channel, error = %e, "cannot look up the channel; treating it as a plain channel");
                    Place::Channel
                }
            }
        } else {
            Place::Channel
        };
        message_to_inbound(&self.platform, self.bot, msg, &place)
    }

    /// Hands one message to the engine (waiting while it is busy: the gateway cannot deliver it again); true
    /// once it is stored.
    async fn store(&self, inbound: Inbound) -> bool {
        let id = inbound.id.clone();
        match accept_patiently(self.sink.as_ref(), inbound).await {
            Ok(accepted) => {
                debug!(message = %id, ?accepted, "discord message stored");
                true
            }
            Err(SinkError::Rejected(reason)) => {
                warn!(message = %id, %reason, "the engine rejected a discord message");
                false
            }
            Err(e) => {
                error!(message = %id, error = %e, "a discord message could not be stored");
                false
            }
        }
    }
}
