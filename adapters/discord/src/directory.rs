//! Where a chat id points: a user (delivered through their DM channel), a guild channel, a case thread under
//! an operator room. Learned from incoming events and, for ids never seen, asked of the REST API.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use serde::Deserialize;
use serenity::http::Route;
use serenity::model::id::{ChannelId, GuildId, UserId};

use crate::rest::{Rest, RestError};
use crate::threads::{case_from_name, CaseThreads};

/// Past this many remembered channels or users, the memory is dropped and rebuilt on demand.
const MEMORY_CAP: usize = 50_000;

/// What a channel id is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelKind {
    /// A private chat with one user.
    Direct {
        /// The user.
        user: u64,
    },
    /// A text channel of a guild (or any other channel the bot can post in).
    Guild,
    /// A thread; `case` is set when it is a case thread under an operator room.
    Thread {
        /// The channel the thread hangs from.
        parent: u64,
        /// The case, for a case thread.
        case: Option<String>,
    },
}

/// A channel as the REST API describes it (only what is needed here).
#[derive(Debug, Deserialize)]
pub struct ChannelInfo {
    /// The channel id.
    pub id: ChannelId,
    /// Discord's channel type number.
    #[serde(rename = "type")]
    pub kind: u8,
    /// The guild, for guild channels.
    #[serde(default)]
    pub guild_id: Option<GuildId>,
    /// The parent channel, for threads.
    #[serde(default)]
    pub parent_id: Option<ChannelId>,
    /// The name, for guild channels.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct DmChannel {
    id: ChannelId,
}

#[derive(serde::Serialize)]
struct NewDm {
    recipient_id: UserId,
}

/// The lists of threads the thread endpoints return.
#[derive(Deserialize)]
pub struct ThreadList {
    /// The threads.
    #[serde(default)]
    pub threads: Vec<ChannelInfo>,
}

/// Known chats, operator rooms and the case threads.
pub struct Directory {
    rooms: HashSet<u64>,
    dm_by_user: Mutex<HashMap<u64, u64>>,
    kinds: Mutex<HashMap<u64, ChannelKind>>,
    /// The case ↔ thread map.
    pub threads: CaseThreads,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn remember<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= MEMORY_CAP {
        map.clear();
    }
    map.insert(key, value);
}

impl Directory {
    /// A directory for these operator rooms.
    pub fn new(rooms: impl IntoIterator<Item = u64>) -> Directory {
        Directory {
            rooms: rooms.into_iter().collect(),
            dm_by_user: Mutex::default(),
            kinds: Mutex::default(),
            threads: CaseThreads::default(),
        }
    }

    /// Whether `channel` is an operator room.
    pub fn is_room(&self, channel: u64) -> bool {
        self.rooms.contains(&channel)
    }

    /// Whether any operator room is configured.
    pub fn has_rooms(&self) -> bool {
        !self.rooms.is_empty()
    }

    /// Learns a user's DM channel from a message they sent there.
    pub fn learn_dm(&self, user: u64, channel: u64) {
        remember(&mut lock(&self.dm_by_user), user, channel);
        remember(
            &mut lock(&self.kinds),
            channel,
            ChannelKind::Direct { user },
        );
    }

    /// Learns a case thread the adapter created or found.
    pub fn learn_case_thread(&self, room: u64, case: &str, thread: u64) {
        self.threads.set_thread(room, case, thread);
        let kind = ChannelKind::Thread {
            parent: room,
            case: Some(case.to_string()),
        };
        remember(&mut lock(&self.kinds), thread, kind);
    }

    /// Forgets a channel that turned out not to exist any more.
    pub fn forget(&self, channel: u64) {
        lock(&self.kinds).remove(&channel);
        self.threads.forget_thread(channel);
    }

    /// What a guild channel is, asking the API for channels never seen. A thread under an operator room whose
    /// name starts with a case number is that case's thread (the map rebuilt after a restart).
    pub async fn guild_channel(&self, rest: &Rest, channel: u64) -> Result<ChannelKind, RestError> {
        if let Some(case) = self.threads.case_of_thread(channel) {
            return Ok(ChannelKind::Thread {
                parent: 0,
                case: Some(case),
            });
        }
        if let Some(kind) = lock(&self.kinds).get(&channel).cloned() {
            return Ok(kind);
        }
        let info: ChannelInfo = rest
            .get(Route::Channel {
                channel_id: ChannelId::new(channel.max(1)),
            })
            .await?;
        let kind = self.kind_of(&info);
        if let ChannelKind::Thread {
            parent,
            case: Some(case),
        } = &kind
        {
            self.threads.set_thread(*parent, case, channel);
        }
        remember(&mut lock(&self.kinds), channel, kind.clone());
        Ok(kind)
    }

    fn kind_of(&self, info: &ChannelInfo) -> ChannelKind {
        match info.kind {
            1 | 3 => ChannelKind::Direct { user: 0 },
            10..=12 => {
                let parent = info.parent_id.map_or(0, ChannelId::get);
                let case = if self.is_room(parent) {
                    info.name.as_deref().and_then(case_from_name)
                } else {
                    None
                };
                ChannelKind::Thread { parent, case }
            }
            _ => ChannelKind::Guild,
        }
    }

    /// The channel to post in for `chat`: the DM channel for a user id, the channel itself otherwise. An id
    /// never seen is looked up as a channel first and, when Discord knows no such channel, as a user.
    pub async fn target(&self, rest: &Rest, chat: u64) -> Result<u64, RestError> {
        if let Some(dm) = lock(&self.dm_by_user).get(&chat).copied() {
            return Ok(dm);
        }
        if self.is_room(chat) || lock(&self.kinds).contains_key(&chat) {
            return Ok(chat);
        }
        let id = ChannelId::new(chat.max(1));
        match rest
            .get::<ChannelInfo>(Route::Channel { channel_id: id })
            .await
        {
            Ok(info) => {
                let kind = self.kind_of(&info);
                remember(&mut lock(&self.kinds), chat, kind);
                Ok(chat)
            }
            Err(e) if e.is_not_found() => {
                let dm: DmChannel = rest
                    .post(
                        Route::UserMeDmChannels,
                        &NewDm {
                            recipient_id: UserId::new(chat.max(1)),
                        },
                    )
                    .await?;
                self.learn_dm(chat, dm.id.get());
                Ok(dm.id.get())
            }
            Err(e) => Err(e),
        }
    }

    /// Finds the thread of `case` under `room` by name, among the guild's active threads and the room's
    /// archived public threads.
    pub async fn find_case_thread(
        &self,
        rest: &Rest,
        room: u64,
        case: &str,
    ) -> Result<Option<u64>, RestError> {
        let room_id = ChannelId::new(room.max(1));
        let info: ChannelInfo = rest
            .get(Route::Channel {
                channel_id: room_id,
            })
            .await?;
        let matches = |t: &ChannelInfo| {
            t.parent_id.map(ChannelId::get) == Some(room)
                && t.name.as_deref().and_then(case_from_name).as_deref() == Some(case)
        };
        if let Some(guild_id) = info.guild_id {
            let active: ThreadList = rest.get(Route::GuildThreadsActive { guild_id }).await?;
            if let Some(t) = active.threads.iter().find(|t| matches(t)) {
                return Ok(Some(t.id.get()));
            }
        }
        let archived: ThreadList = rest
            .get_with(
                Route::ChannelArchivedPublicThreads {
                    channel_id: room_id,
                },
                vec![("limit", "100".into())],
            )
            .await?;
        Ok(archived
            .threads
            .iter()
            .find(|t| matches(t))
            .map(|t| t.id.get()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_kinds_carry_the_case_only_under_rooms() {
        let dir = Directory::new([10]);
        let info = |parent: u64, name: &str| ChannelInfo {
            id: ChannelId::new(99),
            kind: 11,
            guild_id: Some(GuildId::new(1)),
            parent_id: Some(ChannelId::new(parent)),
            name: Some(name.into()),
        };
        assert_eq!(
            dir.kind_of(&info(10, "C-5 · x")),
            ChannelKind::Thread {
                parent: 10,
                case: Some("C-5".into())
            }
        );
        assert_eq!(
            dir.kind_of(&info(11, "C-5 · x")),
            ChannelKind::Thread {
                parent: 11,
                case: None
            }
        );
    }
}
