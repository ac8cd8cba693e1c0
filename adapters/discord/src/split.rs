//! Splits an escaped text into pieces Discord accepts (2000 characters each), at paragraph, line or word
//! boundaries where possible, never inside a character or between an escaping backslash and its character.

use crate::escape::escape_line_start;

/// Discord's limit on a message's `content`.
pub const DISCORD_LIMIT: usize = 2000;

/// Room kept free in each piece for the escape a piece may need at its start.
const HEADROOM: usize = 4;

/// Discord counts length the way JavaScript does (UTF-16 code units); counting the same way is never short.
fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Splits `text` (already escaped) into pieces of at most `limit` UTF-16 units.
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let budget = limit.saturating_sub(HEADROOM).max(16);
    let mut pieces: Vec<String> = Vec::new();
    let mut rest = text;
    while units(rest) > budget {
        let hard = hard_cut(rest, budget);
        let (piece, next) = match soft_cut(&rest[..hard]) {
            Some((end, resume)) => (&rest[..end], &rest[resume..]),
            None => (&rest[..hard], &rest[hard..]),
        };
        push_piece(&mut pieces, piece);
        rest = next;
    }
    push_piece(&mut pieces, rest);
    if pieces.is_empty() {
        pieces.push(String::new());
    }
    pieces
}

fn push_piece(pieces: &mut Vec<String>, piece: &str) {
    if piece.trim().is_empty() {
        return;
    }
    if pieces.is_empty() {
        pieces.push(piece.to_string());
    } else {
        // A piece that starts mid-line now starts a message: a marker there would render.
        pieces.push(escape_line_start(piece));
    }
}

/// The largest byte index within `budget` units that is a char boundary and not right after an escaping
/// backslash.
fn hard_cut(s: &str, budget: usize) -> usize {
    let mut used = 0;
    let mut cut = 0;
    for (i, c) in s.char_indices() {
        used += c.len_utf16();
        if used > budget {
            break;
        }
        cut = i + c.len_utf8();
    }
    // Keep `\x` together: back off while the cut follows an odd run of backslashes.
    let run = s[..cut].bytes().rev().take_while(|b| *b == b'\\').count();
    if run % 2 == 1 {
        cut -= 1;
    }
    // Keep a zero-width space glued to the `@` before it.
    if s[..cut].ends_with('@') && s[cut..].starts_with('\u{200B}') {
        cut -= 1;
    }
    cut.max(1).min(s.len())
}

/// The best boundary in `window`: the last blank line, else line break, else space, in the second half of
/// the window. Returns (end of this piece, start of the next).
fn soft_cut(window: &str) -> Option<(usize, usize)> {
    let half = window.len() / 2;
    for sep in ["\n\n", "\n", " "] {
        if let Some(at) = window.rfind(sep) {
            if at >= half && at > 0 {
                return Some((at, at + sep.len()));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_piece() {
        assert_eq!(
            split_message("hello", DISCORD_LIMIT),
            vec!["hello".to_string()]
        );
        assert_eq!(split_message("", DISCORD_LIMIT), vec![String::new()]);
    }

    #[test]
    fn long_text_splits_at_paragraphs_and_keeps_everything() {
        let para = "word ".repeat(150); // 750 chars
        let text = format!("{para}\n\n{para}\n\n{para}");
        let pieces = split_message(&text, DISCORD_LIMIT);
        assert_eq!(pieces.len(), 2);
        assert!(pieces.iter().all(|p| units(p) <= DISCORD_LIMIT));
        assert!(pieces[0].ends_with("word "), "cut at the blank line");
        let joined: String = pieces.join("");
        assert_eq!(
            joined.replace(['\n', ' '], ""),
            text.replace(['\n', ' '], "")
        );
    }

    #[test]
    fn text_without_spaces_is_cut_hard_but_never_inside_a_char() {
        let text = "邮".repeat(4500);
        let pieces = split_message(&text, DISCORD_LIMIT);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| units(p) <= DISCORD_LIMIT));
        assert_eq!(pieces.concat(), text);
    }

    #[test]
    fn astral_chars_count_twice() {
        let text = "😀".repeat(1500);
        let pieces = split_message(&text, DISCORD_LIMIT);
        assert!(pieces.iter().all(|p| units(p) <= DISCORD_LIMIT));
        assert_eq!(pieces.concat(), text);
    }

    #[test]
    fn an_escape_is_never_cut_in_two() {
        let text = r"\*".repeat(1500);
        for p in split_message(&text, DISCORD_LIMIT) {
            assert!(
                p.starts_with('\\') && p.len() % 2 == 0,
                "piece broke an escape"
            );
        }
    }

    #[test]
    fn a_piece_starting_with_a_marker_is_escaped() {
        let text = format!("{} # not a header", "a".repeat(1994));
        let pieces = split_message(&text, DISCORD_LIMIT);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[1], r"\# not a header");
    }
}
