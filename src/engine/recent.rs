//! A conversation's recent lines, one record per line (`rl/`), so that each message appends a small record
//! instead of decoding and rewriting the whole history inside the conversation record. They are read only
//! when a case opens (they become its transcript) or a group conversation moves to a private chat.

use super::tx::Tx;
use crate::store::records::{Conversation, Line};
use crate::store::{keys, StoreError};

/// Lines of recent history kept per conversation.
pub(crate) const RECENT_LINES: usize = 12;

/// Appends a line, dropping the oldest beyond [`RECENT_LINES`].
pub(crate) fn push(tx: &mut Tx, conv: &mut Conversation, line: Line) {
    // Records written before lines had their own keys keep them inline; move them out first.
    for old in std::mem::take(&mut conv.recent) {
        append(tx, conv, &old);
    }
    append(tx, conv, &line);
}

fn append(tx: &mut Tx, conv: &mut Conversation, line: &Line) {
    // Line numbers only grow (a case taking the lines keeps the count), so the key is new.
    tx.put_new(keys::recent_line(&conv.key, conv.recent_seq), line);
    conv.recent_seq += 1;
    if let Some(dropped) = conv.recent_seq.checked_sub(RECENT_LINES as u64 + 1) {
        tx.del(keys::recent_line(&conv.key, dropped));
    }
}

/// The recent lines, oldest first.
pub(crate) fn lines(tx: &Tx, conv: &Conversation) -> Result<Vec<Line>, StoreError> {
    read(tx, conv).map(|(lines, _)| lines)
}

/// The recent lines, oldest first, removed from the conversation (a case takes them over).
pub(crate) fn take(tx: &mut Tx, conv: &mut Conversation) -> Result<Vec<Line>, StoreError> {
    let (lines, keys) = read(tx, conv)?;
    conv.recent.clear();
    for key in keys {
        tx.del(key);
    }
    Ok(lines)
}

/// The last [`RECENT_LINES`] lines, and the keys of every stored line.
fn read(tx: &Tx, conv: &Conversation) -> Result<(Vec<Line>, Vec<Vec<u8>>), StoreError> {
    let mut lines = conv.recent.clone();
    let keys = tx.keys(&keys::recent_prefix(&conv.key))?;
    for key in &keys {
        if let Some(line) = tx.get::<Line>(key)? {
            lines.push(line);
        }
    }
    let excess = lines.len().saturating_sub(RECENT_LINES);
    lines.drain(..excess);
    Ok((lines, keys))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn line(text: &str) -> Line {
        Line {
            at: chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00+08:00").unwrap(),
            role: "user".into(),
            text: text.into(),
            attachments: vec![],
        }
    }

    fn conversation(legacy: Vec<Line>) -> Conversation {
        serde_json::from_value(serde_json::json!({
            "key": "web:u1", "platform": "web", "chat": "u1", "user": "u1", "name": "U", "group": false,
            "lang": "zh", "updated_at": "2026-11-26T10:00:00+08:00",
            "recent": serde_json::to_value(legacy).unwrap(),
        }))
        .unwrap()
    }

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.text.clone()).collect()
    }

    #[test]
    fn inline_lines_move_out_and_only_the_last_twelve_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 4).unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00+08:00").unwrap();
        let mut tx = Tx::new(store, now, "test".into(), None);
        let mut conv = conversation(vec![line("old 1"), line("old 2")]);
        for i in 0..12 {
            push(&mut tx, &mut conv, line(&format!("new {i}")));
        }
        assert!(
            conv.recent.is_empty(),
            "inline lines moved to their own records"
        );
        let expected: Vec<String> = (0..12).map(|i| format!("new {i}")).collect();
        assert_eq!(texts(&lines(&tx, &conv).unwrap()), expected);
        assert_eq!(
            tx.keys(&keys::recent_prefix("web:u1")).unwrap().len(),
            RECENT_LINES,
            "older line records are deleted"
        );

        assert_eq!(texts(&take(&mut tx, &mut conv).unwrap()), expected);
        assert!(lines(&tx, &conv).unwrap().is_empty(), "a case took them");
        push(&mut tx, &mut conv, line("after"));
        assert_eq!(
            texts(&lines(&tx, &conv).unwrap()),
            vec!["after".to_string()]
        );
    }

    #[test]
    fn one_conversation_key_never_sees_anothers_lines() {
        assert!(!keys::recent_line("web:a/b", 0).starts_with(&keys::recent_prefix("web:a")));
    }
}
