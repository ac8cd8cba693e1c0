//! Splits a long text into Telegram-sized messages at line, sentence or word boundaries.
//!
//! Telegram counts message length in UTF-16 code units (4096 at most), so that is what is counted here.

/// Longest text of one Telegram message, in UTF-16 code units.
pub const MAX_MESSAGE: usize = 4096;

/// Splits `text` into parts of at most `limit` UTF-16 units each, none empty, in order.
///
/// A part ends, by preference, at a line break, then after a sentence end (`。！？.!?`), then at a space, in
/// the second half of the allowed length; only text without any of those is cut mid-word (never mid-character).
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(2);
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if utf16_len(rest) <= limit {
            push_part(&mut parts, rest);
            break;
        }
        let fit = fitting_prefix(rest, limit);
        let cut = best_break(&rest[..fit]).unwrap_or(fit);
        push_part(&mut parts, &rest[..cut]);
        rest = rest[cut..].trim_start_matches(['\n', '\r', ' ']);
    }
    parts
}

fn push_part(parts: &mut Vec<String>, part: &str) {
    let part = part.trim_end();
    if !part.trim().is_empty() {
        parts.push(part.to_string());
    }
}

fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// The byte length of the longest prefix of `text` within `limit` UTF-16 units (at least one character).
fn fitting_prefix(text: &str, limit: usize) -> usize {
    let mut units = 0;
    for (at, ch) in text.char_indices() {
        units += ch.len_utf16();
        if units > limit {
            return if at == 0 { ch.len_utf8() } else { at };
        }
    }
    text.len()
}

/// Where to end a part inside `window` (a byte index after the break), if a good break exists.
fn best_break(window: &str) -> Option<usize> {
    let half = window.len() / 2;
    let after = |pred: &dyn Fn(char) -> bool| {
        window
            .char_indices()
            .rev()
            .find(|&(at, ch)| at >= half && pred(ch))
            .map(|(at, ch)| at + ch.len_utf8())
    };
    after(&|c| c == '\n')
        .or_else(|| after(&|c| matches!(c, '。' | '！' | '？' | '.' | '!' | '?' | '；' | ';')))
        .or_else(|| after(&char::is_whitespace))
        .filter(|&cut| cut > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(parts: &[String], limit: usize) {
        for p in parts {
            assert!(!p.is_empty());
            assert!(utf16_len(p) <= limit, "part of {} units", utf16_len(p));
        }
    }

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split_text("hello", MAX_MESSAGE), vec!["hello".to_string()]);
    }

    #[test]
    fn splits_at_line_breaks() {
        let line = "word ".repeat(150); // 750 bytes
        let text = format!("{line}\n{line}\n{line}\n{line}\n{line}\n{line}\n{line}");
        let parts = split_text(&text, MAX_MESSAGE);
        check(&parts, MAX_MESSAGE);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].ends_with("word"), "first part ends at a line end");
        assert_eq!(parts.join(" ").split_whitespace().count(), 150 * 7);
    }

    #[test]
    fn splits_at_spaces_without_breaking_words() {
        let text = "abcdefg ".repeat(2000);
        let parts = split_text(&text, MAX_MESSAGE);
        check(&parts, MAX_MESSAGE);
        assert!(parts.len() >= 4);
        for p in &parts {
            assert!(p.split(' ').all(|w| w == "abcdefg"), "a word was cut");
        }
    }

    #[test]
    fn counts_utf16_and_cuts_chinese_after_sentences() {
        let sentence = "您好，这是一个很长的中文句子，用来测试分段。";
        let text = sentence.repeat(400);
        let parts = split_text(&text, MAX_MESSAGE);
        check(&parts, MAX_MESSAGE);
        assert!(parts.iter().all(|p| p.ends_with('。')));
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn text_without_breaks_is_cut_on_char_boundaries() {
        let text = "😀".repeat(3000); // 2 UTF-16 units each
        let parts = split_text(&text, MAX_MESSAGE);
        check(&parts, MAX_MESSAGE);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn blank_text_gives_no_parts() {
        assert!(split_text("  \n ", 10).is_empty());
    }
}
