//! JSON shapes of the fake Discord: users, channels, messages, interactions and READY, with the fields
//! serenity 0.12 needs to parse them.

use serde_json::{json, Value};

/// The fake bot's user id.
pub const BOT_ID: u64 = 9000;
/// The one guild of the fake.
pub const GUILD_ID: u64 = 1000;

/// A user object.
pub fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "global_name": name, "discriminator": "0",
           "avatar": null, "bot": bot})
}

/// The bot's own user.
pub fn bot_user() -> Value {
    user(BOT_ID, "supportbot", true)
}

/// A channel object.
pub fn channel(id: u64, kind: u8, guild: Option<u64>, parent: Option<u64>, name: &str) -> Value {
    let mut c = json!({"id": id.to_string(), "type": kind, "name": name});
    if let Some(g) = guild {
        c["guild_id"] = json!(g.to_string());
    }
    if let Some(p) = parent {
        c["parent_id"] = json!(p.to_string());
    }
    if matches!(kind, 10..=12) {
        c["thread_metadata"] = json!({"archived": false, "auto_archive_duration": 10080,
            "archive_timestamp": now(), "locked": false});
    }
    c
}

/// A message object.
pub struct MessageParts<'a> {
    pub id: u64,
    pub channel: u64,
    pub guild: Option<u64>,
    pub author: Value,
    pub content: &'a str,
    pub mentions: Vec<Value>,
    pub reply_to: Option<Value>,
    pub attachments: Vec<Value>,
    pub components: Value,
}

/// Builds a message object.
pub fn message(p: MessageParts<'_>) -> Value {
    let mut m = json!({
        "id": p.id.to_string(), "channel_id": p.channel.to_string(), "author": p.author, "content": p.content,
        "timestamp": now(), "edited_timestamp": null, "tts": false, "mention_everyone": false,
        "mentions": p.mentions, "mention_roles": [], "attachments": p.attachments, "embeds": [],
        "pinned": false, "type": if p.reply_to.is_some() { 19 } else { 0 }, "components": p.components,
    });
    if let Some(g) = p.guild {
        m["guild_id"] = json!(g.to_string());
        m["member"] =
            json!({"roles": [], "nick": null, "joined_at": now(), "deaf": false, "mute": false});
    }
    if let Some(r) = p.reply_to {
        m["message_reference"] = json!({"message_id": r["id"], "channel_id": r["channel_id"]});
        m["referenced_message"] = r;
    }
    m
}

/// An attachment object on the CDN.
pub fn attachment(id: u64, name: &str, size: u64, image: bool) -> Value {
    let url = format!("https://cdn.discordapp.com/attachments/1/{id}/{name}");
    let mut a = json!({"id": id.to_string(), "filename": name, "size": size, "url": url,
                       "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net")});
    if image {
        a["content_type"] = json!("image/png");
        a["width"] = json!(64);
        a["height"] = json!(64);
    }
    a
}

/// A button press (component interaction) on `message`.
pub fn interaction(
    id: u64,
    channel: u64,
    guild: Option<u64>,
    presser: Value,
    custom_id: &str,
    message: Value,
) -> Value {
    let mut i = json!({
        "id": id.to_string(), "application_id": BOT_ID.to_string(), "type": 3,
        "data": {"custom_id": custom_id, "component_type": 2}, "channel_id": channel.to_string(),
        "token": format!("itoken-{id}"), "version": 1, "message": message, "locale": "en-US",
        "entitlements": [], "attachment_size_limit": 26214400,
    });
    match guild {
        Some(g) => {
            i["guild_id"] = json!(g.to_string());
            i["member"] = json!({"user": presser, "roles": [], "nick": null, "joined_at": now(),
                                 "deaf": false, "mute": false, "flags": 0});
        }
        None => i["user"] = presser,
    }
    i
}

/// The READY dispatch data.
pub fn ready(session: &str, resume_url: &str) -> Value {
    json!({"v": 10, "user": bot_user(), "guilds": [{"id": GUILD_ID.to_string(), "unavailable": true}],
           "session_id": session, "resume_gateway_url": resume_url,
           "application": {"id": BOT_ID.to_string(), "flags": 0}})
}

/// The current time as Discord writes it.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}
