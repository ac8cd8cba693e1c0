//! Parsing chat commands (`/take C-1001`, `/reply@bot 1001 text`) and case numbers quoted in text.

use std::sync::OnceLock;

use regex::Regex;

/// A chat command, for users or for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/start`.
    Start,
    /// `/help`.
    Help,
    /// `/human`.
    Human,
    /// `/cancel`.
    Cancel,
    /// `/status`.
    Status,
    /// `/lang zh|en|ja` (the argument as written).
    Lang(String),
    /// `/queue`.
    Queue,
    /// `/take C-1001`.
    Take(String),
    /// `/reply C-1001 text`.
    Reply(String, String),
    /// `/note C-1001 text`.
    Note(String, String),
    /// `/transfer C-1001 team`.
    Transfer(String, String),
    /// `/release C-1001`.
    Release(String),
    /// `/close C-1001 [summary]`.
    Close(String, String),
    /// `/case C-1001`.
    Case(String),
    /// Any other `/word`.
    Unknown(String),
}

impl Command {
    /// Whether only operators may use it.
    pub fn is_operator(&self) -> bool {
        matches!(
            self,
            Command::Queue
                | Command::Take(_)
                | Command::Reply(..)
                | Command::Note(..)
                | Command::Transfer(..)
                | Command::Release(_)
                | Command::Close(..)
                | Command::Case(_)
        )
    }
}

/// Removes leading `@mentions` (`@bot 554 ...` → `554 ...`).
pub fn strip_mentions(text: &str) -> &str {
    let mut rest = text.trim_start();
    while let Some(after) = rest.strip_prefix('@') {
        match after.find(char::is_whitespace) {
            Some(end) => rest = after[end..].trim_start(),
            None => return "",
        }
    }
    rest.trim_end()
}

/// Parses a command; `None` when the text is not a `/command`.
pub fn parse(text: &str) -> Option<Command> {
    let text = strip_mentions(text);
    let body = text.strip_prefix('/')?;
    let (word, rest) = match body.find(char::is_whitespace) {
        Some(i) => (&body[..i], body[i..].trim()),
        None => (body, ""),
    };
    let name = word.split('@').next().unwrap_or("").to_lowercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let (first, tail) = match rest.find(char::is_whitespace) {
        Some(i) => (rest[..i].to_string(), rest[i..].trim().to_string()),
        None => (rest.to_string(), String::new()),
    };
    Some(match name.as_str() {
        "start" => Command::Start,
        "help" => Command::Help,
        "human" | "agent" => Command::Human,
        "cancel" => Command::Cancel,
        "status" => Command::Status,
        "lang" | "language" => Command::Lang(rest.to_string()),
        "queue" => Command::Queue,
        "take" => Command::Take(first),
        "reply" => Command::Reply(first, tail),
        "note" => Command::Note(first, tail),
        "transfer" => Command::Transfer(first, tail),
        "release" => Command::Release(first),
        "close" => Command::Close(first, tail),
        "case" => Command::Case(first),
        _ => Command::Unknown(name),
    })
}

/// Parses a case number as written by people: `C-1001`, `c-1001`, `C1001` or `1001`.
pub fn case_number(text: &str) -> Option<u64> {
    let t = text.trim();
    let digits = t
        .strip_prefix("C-")
        .or_else(|| t.strip_prefix("c-"))
        .or_else(|| t.strip_prefix('C'))
        .or_else(|| t.strip_prefix('c'))
        .unwrap_or(t);
    if digits.is_empty() || digits.len() > 12 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The first case number quoted in free text (`C-1234`, the `C-` required, any case, `-` optional).
pub fn quoted_case(text: &str) -> Option<u64> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?i)(?:^|[^a-z0-9])c-?(\d{4,12})(?:$|[^0-9])").expect("valid regex")
    });
    re.captures(text)?.get(1)?.as_str().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_with_botname_and_optional_prefix() {
        assert_eq!(
            parse("/take@supportbot C-1001"),
            Some(Command::Take("C-1001".into()))
        );
        assert_eq!(
            parse("@bot /reply 1001 hello there"),
            Some(Command::Reply("1001".into(), "hello there".into()))
        );
        assert_eq!(
            parse("/close C-7"),
            Some(Command::Close("C-7".into(), String::new()))
        );
        assert_eq!(
            parse("/transfer c-1001 security"),
            Some(Command::Transfer("c-1001".into(), "security".into()))
        );
        assert_eq!(parse("/QUEUE"), Some(Command::Queue));
        assert_eq!(parse("/lang en"), Some(Command::Lang("en".into())));
        assert_eq!(
            parse("/frobnicate"),
            Some(Command::Unknown("frobnicate".into()))
        );
        assert_eq!(parse("hello /take"), None);
        assert_eq!(parse("/"), None);
        assert!(parse("/case 1").unwrap().is_operator());
        assert!(!parse("/status").unwrap().is_operator());
    }

    #[test]
    fn case_numbers() {
        assert_eq!(case_number("C-1001"), Some(1001));
        assert_eq!(case_number("1001"), Some(1001));
        assert_eq!(case_number("c1001"), Some(1001));
        assert_eq!(case_number("C-"), None);
        assert_eq!(case_number("C-10x"), None);
        assert_eq!(quoted_case("我的工单是 C-1234,还没解决"), Some(1234));
        assert_eq!(quoted_case("case c1234 again"), Some(1234));
        assert_eq!(quoted_case("error 554 DT:SPM"), None);
        assert_eq!(quoted_case("ABC-1234"), None);
        assert_eq!(strip_mentions("@bot @x hi"), "hi");
        assert_eq!(strip_mentions("@bot"), "");
    }
}
