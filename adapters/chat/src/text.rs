//! Text helpers for platforms without buttons or with short messages: buttons as numbered choices the user
//! answers by number, and long texts in parts cut at line breaks.

/// `text` with the buttons numbered under it (`1. …`), or `text` alone when there are none.
pub fn with_numbered_choices(text: &str, buttons: &[String]) -> String {
    if buttons.is_empty() {
        return text.to_string();
    }
    let list: Vec<String> = buttons
        .iter()
        .enumerate()
        .map(|(i, b)| format!("{}. {b}", i + 1))
        .collect();
    format!("{text}\n\n{}", list.join("\n"))
}

/// The choice a reply picks by its number (`2` → the second), if it is one.
pub fn numbered_choice<'a>(reply: &str, choices: &'a [String]) -> Option<&'a String> {
    let n = reply.trim().parse::<usize>().ok()?;
    choices.get(n.checked_sub(1)?)
}

/// `text` in parts of at most `max` characters, cut at a line break where there is one.
pub fn split_at_lines(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest: &str = text;
    while rest.chars().count() > max {
        let cut = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        let at = rest[..cut].rfind('\n').filter(|&i| i > 0).unwrap_or(cut);
        parts.push(rest[..at].to_string());
        rest = rest[at..].trim_start_matches('\n');
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_string());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_at_line_breaks() {
        let text = format!("{}\n{}", "a".repeat(10), "b".repeat(10));
        assert_eq!(
            split_at_lines(&text, 15),
            vec!["a".repeat(10), "b".repeat(10)]
        );
        assert_eq!(split_at_lines("", 15), vec![String::new()]);
        assert_eq!(split_at_lines(&"c".repeat(31), 15).len(), 3);
    }

    #[test]
    fn buttons_become_numbered_choices_answered_by_number() {
        let buttons = vec!["A".to_string(), "B".to_string()];
        assert!(with_numbered_choices("Which one?", &buttons).ends_with("1. A\n2. B"));
        assert_eq!(with_numbered_choices("x", &[]), "x");
        assert_eq!(
            numbered_choice(" 2 ", &buttons).map(String::as_str),
            Some("B")
        );
        assert_eq!(numbered_choice("0", &buttons), None);
        assert_eq!(numbered_choice("3", &buttons), None);
        assert_eq!(numbered_choice("two", &buttons), None);
    }
}
