//! The `[limits]` section: how fast one user account may write, how much the engine queues before adapters are
//! told to redeliver later, and how a case number quoted from another account is verified.

use std::num::NonZeroU32;

use serde::Deserialize;

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Messages one user account (`platform:id`) may send per minute, over all its chats, before the bot stops
    /// answering and relaying them one by one (they are still kept, and added to the user's case).
    pub messages_per_minute: NonZeroU32,
    /// How many messages an account may send at once before `messages_per_minute` applies.
    pub message_burst: NonZeroU32,
    /// Messages waiting for each engine worker; when a worker's queue is full, adapters are told to deliver
    /// the message again later instead of the engine holding it in memory.
    pub queue_per_worker: usize,
    /// Verification codes sent per case and hour for links from another account (quoting `C-1001`).
    pub link_codes_per_hour: usize,
    /// Wrong codes accepted for one link attempt; after that the attempt is dropped and a new quote is needed.
    pub wrong_codes_per_link: u8,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            messages_per_minute: NonZeroU32::new(30).expect("non-zero"),
            message_burst: NonZeroU32::new(10).expect("non-zero"),
            queue_per_worker: 1024,
            link_codes_per_hour: 3,
            wrong_codes_per_link: 5,
        }
    }
}
