//! Starts the Discord channel for `serve`: checks the token, registers the `discord` adapter with the engine's
//! outbox (case cards for `discord:<channel>` team rooms get a thread per case), and runs the gateway.

use std::sync::Arc;

use supportbot_chat::{InboundSink, Shutdown};
use supportbot_discord::{connect, DiscordSettings};
use tokio::task::JoinHandle;

use crate::config::{split_account, Config, DiscordConfig};
use crate::engine::Engine;

/// The platform name of Discord accounts, chats and rooms (`discord:7001`).
pub const PLATFORM: &str = "discord";

/// The adapter's settings from `[discord]` and the teams' `discord:<channel id>` rooms.
pub fn settings(config: &Config, discord: &DiscordConfig) -> anyhow::Result<DiscordSettings> {
    let mut settings = DiscordSettings::new(discord.token.trim());
    settings.api_url = discord.api_url.clone().filter(|u| !u.trim().is_empty());
    for room in config.teams.iter().flat_map(|t| &t.rooms) {
        let Some((PLATFORM, id)) = split_account(room) else {
            continue;
        };
        let id = id
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| {
                anyhow::anyhow!("team room `{room}` is not a Discord channel id (discord:<number>)")
            })?;
        if !settings.operator_rooms.contains(&id) {
            settings.operator_rooms.push(id);
        }
    }
    Ok(settings)
}

/// Starts the channel when a token is configured (`[discord] token` or `DISCORD_BOT_TOKEN`), otherwise does
/// nothing. A refused token is an error naming where the token comes from.
pub async fn start(
    config: &Config,
    engine: &Engine,
    shutdown: Shutdown,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let Some(discord) = config
        .discord
        .as_ref()
        .filter(|d| !d.token.trim().is_empty())
    else {
        return Ok(Vec::new());
    };
    let settings = settings(config, discord)?;
    let rooms = settings.operator_rooms.len();
    let sink: Arc<dyn InboundSink> = Arc::new(engine.clone());
    // `serve` says which channel failed; the error itself is one sentence naming what to fix.
    let channel = connect(settings, sink).await?;
    engine.register_adapter(channel.adapter());
    tracing::info!(
        bot_id = channel.bot_id(),
        operator_rooms = rooms,
        "discord channel started"
    );
    Ok(channel.spawn(shutdown))
}

/// Whether a start failure is the configuration's fault (missing or refused token, bad address) rather than
/// Discord being unreachable: `serve` exits 2 for those.
pub fn is_config_error(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<supportbot_discord::StartError>(),
            Some(
                supportbot_discord::StartError::NoToken
                    | supportbot_discord::StartError::BadApiUrl(_)
                    | supportbot_discord::StartError::BadToken
            )
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_come_from_the_teams() {
        let text = "[discord]\ntoken = \"t\"\n[[teams]]\nname = \"mail\"\nrooms = [\"discord:555\", \"telegram:-100\", \"discord:555\"]\n[[teams]]\nname = \"security\"\nrooms = [\"discord:777\"]\n";
        let config = Config::parse(text, "t.toml").unwrap();
        let s = settings(&config, config.discord.as_ref().unwrap()).unwrap();
        assert_eq!(s.operator_rooms, vec![555, 777]);
        assert_eq!(s.api_url, None);
        let bad = Config::parse(
            "[[teams]]\nname = \"mail\"\nrooms = [\"discord:ops\"]\n",
            "t.toml",
        )
        .unwrap();
        let err = settings(&bad, &DiscordConfig::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("discord:ops"), "{err}");
    }
}
