//! Operator messages in a case's thread (or replies to a case card) become case commands for the engine:
//! plain text is `/reply C-… text`, and a command given without a case number gets the thread's case.

/// Operator commands whose first argument is a case number.
const CASE_COMMANDS: &[&str] = &[
    "take", "reply", "note", "transfer", "release", "close", "case",
];

/// Whether `word` is a case number as operators type it (`C-1001`, `c-1001`, `1001`).
fn is_case_number(word: &str) -> bool {
    let digits = word
        .strip_prefix("C-")
        .or_else(|| word.strip_prefix("c-"))
        .unwrap_or(word);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The engine command for `text` written in the thread (or as a reply to the card) of `case`.
pub fn case_command(case: &str, text: &str) -> String {
    let trimmed = text.trim();
    let Some(command) = trimmed.strip_prefix('/') else {
        return if trimmed.is_empty() {
            format!("/reply {case}")
        } else {
            format!("/reply {case} {trimmed}")
        };
    };
    let (word, args) = match command.find(char::is_whitespace) {
        Some(at) => (&command[..at], command[at..].trim_start()),
        None => (command, ""),
    };
    let name = word.split('@').next().unwrap_or(word).to_ascii_lowercase();
    if !CASE_COMMANDS.contains(&name.as_str()) {
        return trimmed.to_string();
    }
    let first = args.split_whitespace().next().unwrap_or("");
    if is_case_number(first) {
        return trimmed.to_string();
    }
    if args.is_empty() {
        format!("/{word} {case}")
    } else {
        format!("/{word} {case} {args}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_a_reply() {
        assert_eq!(
            case_command("C-7", "  please restart  "),
            "/reply C-7 please restart"
        );
        assert_eq!(case_command("C-7", ""), "/reply C-7");
    }

    #[test]
    fn commands_get_the_case_when_missing() {
        assert_eq!(case_command("C-7", "/take"), "/take C-7");
        assert_eq!(
            case_command("C-7", "/close solved it"),
            "/close C-7 solved it"
        );
        assert_eq!(
            case_command("C-7", "/transfer security"),
            "/transfer C-7 security"
        );
        assert_eq!(
            case_command("C-7", "/note checked\nlogs"),
            "/note C-7 checked\nlogs"
        );
    }

    #[test]
    fn commands_with_a_case_or_without_one_are_kept() {
        assert_eq!(case_command("C-7", "/take C-9"), "/take C-9");
        assert_eq!(case_command("C-7", "/case 9"), "/case 9");
        assert_eq!(case_command("C-7", "/queue"), "/queue");
        assert_eq!(case_command("C-7", "/help"), "/help");
    }
}
