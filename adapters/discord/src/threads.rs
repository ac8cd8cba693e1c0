//! The case ↔ thread map of the operator rooms: each case's card message in a room and the thread started
//! from it. Kept in memory and rebuilt from thread names (`C-1001 · …`) after a restart.

use std::collections::HashMap;
use std::sync::Mutex;

/// Discord's limit on a channel (thread) name.
const NAME_LIMIT: usize = 100;

/// What is known of one case in one room.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseSlot {
    /// The card message the thread hangs from, once posted.
    pub card: Option<u64>,
    /// The case's thread, once created (or found by name).
    pub thread: Option<u64>,
}

#[derive(Default)]
struct Inner {
    slots: HashMap<(u64, String), CaseSlot>,
    thread_case: HashMap<u64, String>,
    card_case: HashMap<u64, String>,
}

/// The map, shared by delivery (posting cards, finding threads) and receiving (thread → case).
#[derive(Default)]
pub struct CaseThreads {
    inner: Mutex<Inner>,
}

impl CaseThreads {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves plain maps behind, still consistent enough to use.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The slot of `case` in `room`.
    pub fn slot(&self, room: u64, case: &str) -> CaseSlot {
        self.lock()
            .slots
            .get(&(room, case.to_string()))
            .copied()
            .unwrap_or_default()
    }

    /// Records the card message of `case` in `room`.
    pub fn set_card(&self, room: u64, case: &str, message: u64) {
        let mut inner = self.lock();
        inner
            .slots
            .entry((room, case.to_string()))
            .or_default()
            .card = Some(message);
        inner.card_case.insert(message, case.to_string());
    }

    /// Records the thread of `case` in `room`.
    pub fn set_thread(&self, room: u64, case: &str, thread: u64) {
        let mut inner = self.lock();
        inner
            .slots
            .entry((room, case.to_string()))
            .or_default()
            .thread = Some(thread);
        inner.thread_case.insert(thread, case.to_string());
    }

    /// Forgets a thread Discord no longer knows (deleted); the next message for its case starts a new one.
    pub fn forget_thread(&self, thread: u64) {
        let mut inner = self.lock();
        if let Some(case) = inner.thread_case.remove(&thread) {
            for ((_, c), slot) in inner.slots.iter_mut() {
                if *c == case && slot.thread == Some(thread) {
                    slot.thread = None;
                    slot.card = None;
                }
            }
        }
    }

    /// The case a thread belongs to.
    pub fn case_of_thread(&self, thread: u64) -> Option<String> {
        self.lock().thread_case.get(&thread).cloned()
    }

    /// The case a card message belongs to.
    pub fn case_of_card(&self, message: u64) -> Option<String> {
        self.lock().card_case.get(&message).cloned()
    }
}

/// The case number a thread name starts with (`C-1001 · …` → `C-1001`).
pub fn case_from_name(name: &str) -> Option<String> {
    let rest = name.trim_start().strip_prefix("C-")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let next = rest[digits..].chars().next();
    (digits > 0 && !next.is_some_and(|c| c.is_alphanumeric()))
        .then(|| format!("C-{}", &rest[..digits]))
}

/// A thread name for `case` from the first line of its card: it starts with the case number, so the map can
/// be rebuilt from names.
pub fn thread_name(case: &str, card_text: &str) -> String {
    let first = card_text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let name = match first.find(case) {
        Some(at) => first[at..].to_string(),
        None if first.is_empty() => case.to_string(),
        None => format!("{case} · {first}"),
    };
    let mut out: String = name.chars().take(NAME_LIMIT).collect();
    if out.chars().count() < name.chars().count() {
        out = out.chars().take(NAME_LIMIT - 1).collect();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_to_the_case() {
        let name = thread_name(
            "C-1001",
            "New case C-1001 · team mail · P1 · telegram · Li (en)\nProblem: x",
        );
        assert_eq!(name, "C-1001 · team mail · P1 · telegram · Li (en)");
        assert_eq!(case_from_name(&name).as_deref(), Some("C-1001"));
        assert_eq!(thread_name("C-7", "hello"), "C-7 · hello");
        assert_eq!(thread_name("C-7", ""), "C-7");
        assert_eq!(thread_name("C-7", &"x".repeat(300)).chars().count(), 100);
    }

    #[test]
    fn only_case_prefixes_parse() {
        assert_eq!(case_from_name("C-12"), Some("C-12".into()));
        assert_eq!(case_from_name("C-12x"), None);
        assert_eq!(case_from_name("general"), None);
        assert_eq!(case_from_name("C-"), None);
    }

    #[test]
    fn map_links_cards_threads_and_cases() {
        let map = CaseThreads::default();
        map.set_card(5, "C-1", 100);
        map.set_thread(5, "C-1", 200);
        assert_eq!(
            map.slot(5, "C-1"),
            CaseSlot {
                card: Some(100),
                thread: Some(200)
            }
        );
        assert_eq!(map.case_of_thread(200).as_deref(), Some("C-1"));
        assert_eq!(map.case_of_card(100).as_deref(), Some("C-1"));
        assert_eq!(map.slot(6, "C-1"), CaseSlot::default());
        map.forget_thread(200);
        assert_eq!(map.slot(5, "C-1"), CaseSlot::default());
        assert_eq!(map.case_of_thread(200), None);
    }
}
