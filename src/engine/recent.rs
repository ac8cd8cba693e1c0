//! A conversation's recent lines, kept in a ring of [`RECENT_LINES`] slots: each
//! message overwrites one small record instead of rewriting the whole history inside the conversation record,
//! and nothing has to be deleted as lines age out. They are read only when a case opens (they become its
//! transcript) or a group conversation moves to a private chat.

use crate::store::changes::Changes;
use crate::store::records::{Conversation, Line};
use crate::store::{RecentSlot, StoreError};

/// Lines of recent history kept per conversation.
pub(crate) const RECENT_LINES: usize = 12;

/// Appends a line, replacing the one [`RECENT_LINES`] lines older.
pub(crate) fn push(ch: &mut Changes, conv: &mut Conversation, line: Line) {
    // Records written before lines had their own keys keep them inline; move them out first.
    for old in std::mem::take(&mut conv.recent) {
        append(ch, conv, old);
    }
    append(ch, conv, line);
}

fn append(ch: &mut Changes, conv: &mut Conversation, mut line: Line) {
    line.seq = Some(conv.recent_seq);
    let slot = RecentSlot::Ring(conv.recent_seq % RECENT_LINES as u64);
    ch.set_recent_line(&conv.key, slot, Some(line));
    conv.recent_seq += 1;
}

/// The recent lines, oldest first.
pub(crate) async fn lines(ch: &Changes, conv: &Conversation) -> Result<Vec<Line>, StoreError> {
    read(ch, conv).await.map(|(lines, _)| lines)
}

/// The recent lines, oldest first, removed from the conversation (a case takes them over).
pub(crate) async fn take(
    ch: &mut Changes,
    conv: &mut Conversation,
) -> Result<Vec<Line>, StoreError> {
    let (lines, slots) = read(ch, conv).await?;
    conv.recent.clear();
    for slot in slots {
        ch.set_recent_line(&conv.key, slot, None);
    }
    Ok(lines)
}

/// The last [`RECENT_LINES`] lines, and the slots of every stored line. Earlier versions stored each line
/// under its number and deleted it as it aged out; such lines are read alongside the ring's until a case
/// takes them.
async fn read(
    ch: &Changes,
    conv: &Conversation,
) -> Result<(Vec<Line>, Vec<RecentSlot>), StoreError> {
    let stored = ch.recent_lines(&conv.key).await?;
    let slots = stored.iter().map(|(slot, _)| *slot).collect();
    let mut numbered: Vec<(u64, Line)> = stored
        .into_iter()
        .map(|(slot, line)| {
            let number = match (line.seq, slot) {
                (Some(n), _) | (None, RecentSlot::Numbered(n)) => n,
                (None, RecentSlot::Ring(_)) => 0,
            };
            (number, line)
        })
        .collect();
    numbered.sort_by_key(|(number, _)| *number);
    let mut lines = conv.recent.clone();
    lines.extend(numbered.into_iter().map(|(_, line)| line));
    let excess = lines.len().saturating_sub(RECENT_LINES);
    lines.drain(..excess);
    Ok((lines, slots))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Line {
        Line {
            at: chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00+08:00").unwrap(),
            role: "user".into(),
            text: text.into(),
            attachments: vec![],
            seq: None,
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

    #[tokio::test]
    async fn inline_lines_move_out_and_the_ring_keeps_the_last_twelve() {
        let mut ch = Changes::scratch().await;
        let mut conv = conversation(vec![line("old 1"), line("old 2")]);
        for i in 0..30 {
            push(&mut ch, &mut conv, line(&format!("new {i}")));
        }
        assert!(
            conv.recent.is_empty(),
            "inline lines moved to their own records"
        );
        let expected: Vec<String> = (18..30).map(|i| format!("new {i}")).collect();
        assert_eq!(texts(&lines(&ch, &conv).await.unwrap()), expected);
        assert_eq!(
            ch.recent_lines("web:u1").await.unwrap().len(),
            RECENT_LINES,
            "the ring holds twelve records however many lines went through it"
        );

        assert_eq!(texts(&take(&mut ch, &mut conv).await.unwrap()), expected);
        assert!(
            lines(&ch, &conv).await.unwrap().is_empty(),
            "a case took them"
        );
        push(&mut ch, &mut conv, line("after"));
        assert_eq!(
            texts(&lines(&ch, &conv).await.unwrap()),
            vec!["after".to_string()]
        );
    }

    #[tokio::test]
    async fn lines_stored_under_their_numbers_are_read_with_the_rings_until_taken() {
        let mut ch = Changes::scratch().await;
        let mut conv = conversation(vec![]);
        // The earlier layout: lines 20 to 25 under their numbers, without a number inside.
        for n in 20..26u64 {
            let old = line(&format!("stored {n}"));
            ch.set_recent_line("web:u1", RecentSlot::Numbered(n), Some(old));
        }
        conv.recent_seq = 26;
        for i in 0..3 {
            push(&mut ch, &mut conv, line(&format!("new {i}")));
        }
        let mut expected: Vec<String> = (20..26).map(|n| format!("stored {n}")).collect();
        expected.extend((0..3).map(|i| format!("new {i}")));
        assert_eq!(texts(&lines(&ch, &conv).await.unwrap()), expected);

        for i in 3..12 {
            push(&mut ch, &mut conv, line(&format!("new {i}")));
        }
        let expected: Vec<String> = (0..12).map(|i| format!("new {i}")).collect();
        assert_eq!(
            texts(&lines(&ch, &conv).await.unwrap()),
            expected,
            "older lines age out"
        );
        assert_eq!(texts(&take(&mut ch, &mut conv).await.unwrap()), expected);
        assert!(
            ch.recent_lines("web:u1").await.unwrap().is_empty(),
            "taking removes the records of both layouts"
        );
    }
}
