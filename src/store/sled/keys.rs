//! Key layout of the single sled tree: one prefix per record kind, numbers zero-padded so keys sort in order.

/// Stored inbound messages not yet handled, by arrival sequence.
pub const INBOX: &str = "in/";
/// Dedupe keys `platform:message-id`.
pub const DEDUPE: &str = "dd/";
/// Conversations by conversation key.
pub const CONVERSATION: &str = "cv/";
/// A conversation's recent lines.
pub const RECENT: &str = "rl/";
/// Cases by number.
pub const CASE: &str = "cs/";
/// Case transcript and history lines.
pub const CASE_LOG: &str = "cl/";
/// The waiting queue: priority, then age.
pub const QUEUE: &str = "q/";
/// The open case of a user account.
pub const USER_CASE: &str = "ua/";
/// Cases held by an operator account: `oc/<account>/<number>`.
pub const HELD: &str = "oc/";
/// Messages the bot sent that stand for a case (cards, relays): envelope ids and platform message ids.
pub const CASE_MESSAGE: &str = "cm/";
/// Outbox items by sequence.
pub const OUTBOX: &str = "ob/";
/// Questions the FAQ could not answer, with a count.
pub const UNANSWERED: &str = "uq/";
/// Cases kept for a customer's account manager, with the time the team gets them.
pub const RESERVED: &str = "rv/";
/// The case number counter.
pub const CASE_COUNTER: &str = "ctr/case";
/// Schema version of the whole store.
pub const SCHEMA: &str = "meta/schema";
/// The newest write-ahead log segment whose changes sled holds (see the store's `recover`).
pub const CHECKPOINTED: &str = "meta/checkpointed";

/// The parts one after another, with room for a 16-digit number after them. The keys written for every
/// message are built this way rather than with `format!`, which costs several times as much.
fn joined(parts: &[&str]) -> Vec<u8> {
    let mut key = Vec::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + 16);
    for part in parts {
        key.extend_from_slice(part.as_bytes());
    }
    key
}

/// `key` followed by `n` as 16 lower-case hex digits (`{n:016x}`).
fn with_hex(mut key: Vec<u8>, n: u64) -> Vec<u8> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    key.extend((0..16).rev().map(|i| DIGITS[(n >> (i * 4)) as usize & 0xF]));
    key
}

/// `in/<seq>`.
pub fn inbox(seq: u64) -> Vec<u8> {
    with_hex(joined(&[INBOX]), seq)
}

/// `dd/<platform>:<id>`.
pub fn dedupe(platform: &str, id: &str) -> Vec<u8> {
    joined(&[DEDUPE, platform, ":", id])
}

/// `cv/<conversation key>`.
pub fn conversation(key: &str) -> Vec<u8> {
    joined(&[CONVERSATION, key])
}

/// `rl/<length of the key>:<conversation key>/` (prefix of one conversation's recent lines; the length keeps
/// one key from being a prefix of another).
pub fn recent_prefix(conversation: &str) -> Vec<u8> {
    joined(&[
        RECENT,
        &conversation.len().to_string(),
        ":",
        conversation,
        "/",
    ])
}

/// `rl/<length>:<conversation key>/r<slot>`: slot `line number % lines kept` of a conversation's ring of
/// recent lines (two digits). Earlier versions kept each line under `…/<line number as 16 hex digits>`.
pub fn recent_slot(conversation: &str, slot: u64) -> Vec<u8> {
    let slot = (slot % 100) as u8;
    let mut key = recent_prefix(conversation);
    key.extend_from_slice(&[b'r', b'0' + slot / 10, b'0' + slot % 10]);
    key
}

/// `rl/<length>:<conversation key>/<line number as 16 hex digits>`: a line as earlier versions kept it.
pub fn recent_numbered(conversation: &str, number: u64) -> Vec<u8> {
    with_hex(recent_prefix(conversation), number)
}

/// `oc/<account>/<number>`.
pub fn held(account: &str, number: u64) -> Vec<u8> {
    format!("{HELD}{account}/{number:012}").into_bytes()
}

/// `oc/<account>/` (prefix of the cases one operator account holds).
pub fn held_prefix(account: &str) -> Vec<u8> {
    format!("{HELD}{account}/").into_bytes()
}

/// `cs/<number>`.
pub fn case(number: u64) -> Vec<u8> {
    format!("{CASE}{number:012}").into_bytes()
}

/// `cl/<number>/` (prefix of one case's log).
pub fn case_log_prefix(number: u64) -> Vec<u8> {
    format!("{CASE_LOG}{number:012}/").into_bytes()
}

/// `cl/<number>/<seq>`.
pub fn case_log(number: u64, seq: u32) -> Vec<u8> {
    format!("{CASE_LOG}{number:012}/{seq:08}").into_bytes()
}

/// `rv/<number>`.
pub fn reserved(number: u64) -> Vec<u8> {
    format!("{RESERVED}{number:012}").into_bytes()
}

/// `q/<priority>/<queued ms>/<number>`.
pub fn queue(priority: u8, queued_ms: i64, number: u64) -> Vec<u8> {
    format!("{QUEUE}{priority}/{:016}/{number:012}", queued_ms.max(0)).into_bytes()
}

/// `ua/<platform:id>`.
pub fn user_case(account: &str) -> Vec<u8> {
    format!("{USER_CASE}{account}").into_bytes()
}

/// `cm/<reference>`.
pub fn case_message(reference: &str) -> Vec<u8> {
    format!("{CASE_MESSAGE}{reference}").into_bytes()
}

/// `ob/<seq>`.
pub fn outbox(seq: u64) -> Vec<u8> {
    with_hex(joined(&[OUTBOX]), seq)
}

/// `uq/<normalised question>`.
pub fn unanswered(question: &str) -> Vec<u8> {
    format!("{UNANSWERED}{question}").into_bytes()
}

/// Parses the hex sequence at the end of an `in/` or `ob/` key.
pub fn seq_of(key: &[u8], prefix: &str) -> Option<u64> {
    let rest = key.strip_prefix(prefix.as_bytes())?;
    u64::from_str_radix(std::str::from_utf8(rest).ok()?, 16).ok()
}

/// Parses a `q/<priority>/<queued ms>/<number>` key.
pub fn parse_queue(key: &[u8]) -> Option<(u8, i64, u64)> {
    let text = std::str::from_utf8(key.strip_prefix(QUEUE.as_bytes())?).ok()?;
    let mut parts = text.split('/');
    let priority = parts.next()?.parse().ok()?;
    let queued_ms = parts.next()?.parse().ok()?;
    let number = parts.next()?.parse().ok()?;
    Some((priority, queued_ms, number))
}

/// Parses the case number at the end of a `q/` or `cs/` key.
pub fn number_at_end(key: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(key).ok()?;
    text.rsplit('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_numerically_and_parse_back() {
        assert!(inbox(9) < inbox(10));
        assert!(case(999) < case(1001));
        assert!(queue(0, 5_000, 2) < queue(1, 1, 1));
        assert!(queue(1, 1_000, 9) < queue(1, 2_000, 1));
        assert_eq!(seq_of(&outbox(255), OUTBOX), Some(255));
        assert_eq!(number_at_end(&queue(1, 7, 1042)), Some(1042));
        assert_eq!(number_at_end(&case(1001)), Some(1001));
        assert_eq!(parse_queue(&queue(1, 7, 1042)), Some((1, 7, 1042)));
        assert_eq!(number_at_end(&held("telegram:5001", 1003)), Some(1003));
    }

    #[test]
    fn built_keys_match_their_formats() {
        for n in [0, 1, 0xabc, u64::MAX] {
            assert_eq!(inbox(n), format!("in/{n:016x}").into_bytes());
            assert_eq!(outbox(n), format!("ob/{n:016x}").into_bytes());
        }
        assert_eq!(recent_slot("web:u1", 7), b"rl/6:web:u1/r07".to_vec());
        assert_eq!(recent_slot("web:u1", 11), b"rl/6:web:u1/r11".to_vec());
        assert_eq!(dedupe("telegram", "42"), b"dd/telegram:42".to_vec());
        assert_eq!(conversation("web:u1"), b"cv/web:u1".to_vec());
    }

    #[test]
    fn one_conversation_key_never_sees_anothers_lines() {
        assert!(!recent_slot("web:a/b", 0).starts_with(&recent_prefix("web:a")));
    }
}
