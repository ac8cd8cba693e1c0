//! Registry of open WebSockets by chat: a message for a chat goes to every socket that chat has open (several
//! tabs), and a socket that cannot keep up is dropped rather than slowing everyone down.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tokio::sync::mpsc;

/// Frames waiting for one socket before it counts as stuck and is dropped.
const SOCKET_QUEUE: usize = 256;

struct Conn {
    id: u64,
    tx: mpsc::Sender<Pushed>,
}

/// What a socket's writer is handed.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    /// A JSON frame.
    Frame(String),
    /// A message of the chat's mailbox (JSON) with its number there: skipped by a socket whose history
    /// already held it.
    Letter(u64, String),
    /// Close the socket: the page reconnects and reads its history again.
    Reconnect,
}

/// Open sockets per chat id.
#[derive(Default)]
pub struct Hub {
    next_id: AtomicU64,
    chats: Mutex<HashMap<String, Vec<Conn>>>,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Conn>>> {
        // A panic while holding this lock leaves the map consistent (single inserts/removes), so go on.
        self.chats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a socket of `chat`; returns its id and the receiver its writer task drains.
    pub fn attach(&self, chat: &str) -> (u64, mpsc::Receiver<Pushed>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(SOCKET_QUEUE);
        self.lock()
            .entry(chat.to_string())
            .or_default()
            .push(Conn { id, tx });
        (id, rx)
    }

    /// Removes a socket; returns whether the chat has no socket left.
    pub fn detach(&self, chat: &str, id: u64) -> bool {
        let mut chats = self.lock();
        let Some(conns) = chats.get_mut(chat) else {
            return true;
        };
        conns.retain(|c| c.id != id);
        if conns.is_empty() {
            chats.remove(chat);
            true
        } else {
            false
        }
    }

    /// Sends a JSON frame to every socket of `chat`; returns how many took it.
    pub fn push(&self, chat: &str, json: &str) -> usize {
        self.send(chat, || Pushed::Frame(json.to_string()))
    }

    /// Sends message `n` of `chat`'s mailbox to every socket of `chat`; returns how many took it.
    pub fn push_letter(&self, chat: &str, n: u64, json: &str) -> usize {
        self.send(chat, || Pushed::Letter(n, json.to_string()))
    }

    fn send(&self, chat: &str, item: impl Fn() -> Pushed) -> usize {
        let mut chats = self.lock();
        let Some(conns) = chats.get_mut(chat) else {
            return 0;
        };
        let mut sent = 0;
        conns.retain(|conn| match conn.tx.try_send(item()) {
            Ok(()) => {
                sent += 1;
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(chat, socket = conn.id, "socket too slow, dropping it");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        if conns.is_empty() {
            chats.remove(chat);
        }
        sent
    }

    /// Closes every socket (each page reconnects); returns how many there were.
    pub fn close_all(&self) -> usize {
        let all = std::mem::take(&mut *self.lock());
        let mut closed = 0;
        for conn in all.into_values().flatten() {
            // A socket whose queue is full is dropped all the same (its writer closes when the sender goes).
            let _ = conn.tx.try_send(Pushed::Reconnect);
            closed += 1;
        }
        closed
    }

    /// Whether `chat` has a socket open.
    #[cfg(test)]
    pub fn is_connected(&self, chat: &str) -> bool {
        self.lock().contains_key(chat)
    }

    /// Number of open sockets.
    pub fn sockets(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pushes_to_every_socket_of_a_chat() {
        let hub = Hub::default();
        let (a, mut ra) = hub.attach("c1");
        let (_b, mut rb) = hub.attach("c1");
        let (_c, mut rc) = hub.attach("c2");
        assert_eq!(hub.push("c1", "x"), 2);
        assert_eq!(ra.recv().await, Some(Pushed::Frame("x".into())));
        assert_eq!(rb.recv().await, Some(Pushed::Frame("x".into())));
        assert!(rc.try_recv().is_err());
        assert_eq!(hub.sockets(), 3);
        assert!(!hub.detach("c1", a));
        assert_eq!(hub.push("c1", "y"), 1);
        assert_eq!(hub.push("nobody", "y"), 0);
        assert_eq!(hub.push_letter("c2", 7, "z"), 1);
        assert_eq!(rc.recv().await, Some(Pushed::Letter(7, "z".into())));
        assert_eq!(hub.close_all(), 2);
        assert_eq!(rc.recv().await, Some(Pushed::Reconnect));
        assert_eq!(hub.sockets(), 0);
        assert_eq!(hub.push("c2", "after"), 0);
    }

    #[tokio::test]
    async fn a_stuck_socket_is_dropped() {
        let hub = Hub::default();
        let (_id, _rx) = hub.attach("slow");
        for _ in 0..SOCKET_QUEUE {
            assert_eq!(hub.push("slow", "x"), 1);
        }
        assert_eq!(hub.push("slow", "x"), 0);
        assert!(!hub.is_connected("slow"));
    }
}
