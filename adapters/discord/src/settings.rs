//! What the Discord channel needs to start: the bot token, an optional API base, and the operator rooms.

use std::fmt;

/// Settings of the Discord channel, built by the binary from `[discord]` and `[[teams]]`.
#[derive(Clone, Default)]
pub struct DiscordSettings {
    /// The bot token (never logged; `Debug` redacts it).
    pub token: String,
    /// Another REST + gateway base such as `http://127.0.0.1:9100` (tests); `None` means discord.com.
    pub api_url: Option<String>,
    /// Channel ids of the operator rooms (the teams' `discord:<channel>` rooms): case cards posted there get a
    /// thread per case.
    pub operator_rooms: Vec<u64>,
    /// The platform name the channel uses in `Inbound`/`Outbound` and as its adapter name (`discord`).
    pub platform: String,
}

impl DiscordSettings {
    /// Settings for `token` with the default platform name and no rooms.
    pub fn new(token: impl Into<String>) -> Self {
        DiscordSettings {
            token: token.into(),
            api_url: None,
            operator_rooms: Vec::new(),
            platform: "discord".into(),
        }
    }

    /// The platform name, `discord` when left empty.
    pub(crate) fn platform_name(&self) -> String {
        if self.platform.is_empty() {
            "discord".into()
        } else {
            self.platform.clone()
        }
    }
}

impl fmt::Debug for DiscordSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscordSettings")
            .field("token", &"<redacted>")
            .field("api_url", &self.api_url)
            .field("operator_rooms", &self.operator_rooms)
            .field("platform", &self.platform)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let s = DiscordSettings::new("secret-token-value");
        let shown = format!("{s:?}");
        assert!(!shown.contains("secret-token-value"), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
