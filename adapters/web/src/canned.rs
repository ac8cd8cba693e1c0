//! Canned replies: a team-editable TOML file (by default `canned.toml` beside the FAQ directory) of answers an
//! operator inserts with `/` in the inbox's reply box. Each reply has a text per language and may use the
//! placeholders `{user}` (the user's name), `{case}` (the case number), `{operator}` (the operator's name) and
//! `{team}`; the page fills them in. The file is read on every request, so edits apply at once; a broken file is
//! reported as `file:line: problem`.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The placeholders a canned reply may use.
pub const PLACEHOLDERS: [&str; 4] = ["user", "case", "operator", "team"];

/// One canned reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Canned {
    /// Short stable id, what `/` matches first (`smtp-ports`).
    pub id: String,
    /// What the list shows.
    pub title: String,
    /// Chinese text.
    #[serde(default)]
    pub zh: String,
    /// English text.
    #[serde(default)]
    pub en: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    reply: Vec<Canned>,
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The first `{name}` in `text` that is not a placeholder.
fn unknown_placeholder(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Some(name);
        }
        rest = &after[close + 1..];
    }
    None
}

/// Parses the file's text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Vec<Canned>, String> {
    let parsed: File = toml::from_str(text).map_err(|err| match err.span() {
        Some(span) => format!(
            "{file}:{}: {}",
            line_of(text, span.start),
            err.message().trim()
        ),
        None => format!("{file}: {}", err.message().trim()),
    })?;
    let mut seen = std::collections::HashSet::new();
    for reply in &parsed.reply {
        let at = |needle: &str| {
            text.find(needle).map_or(String::from(file), |i| {
                format!("{file}:{}", line_of(text, i))
            })
        };
        let id_at = at(&format!("\"{}\"", reply.id));
        if reply.id.trim().is_empty() || reply.title.trim().is_empty() {
            return Err(format!("{id_at}: a canned reply needs an id and a title"));
        }
        if reply.zh.trim().is_empty() && reply.en.trim().is_empty() {
            return Err(format!(
                "{id_at}: canned reply {} has no text (zh or en)",
                reply.id
            ));
        }
        if !seen.insert(reply.id.clone()) {
            return Err(format!(
                "{id_at}: canned reply id {} is used twice",
                reply.id
            ));
        }
        for body in [&reply.zh, &reply.en] {
            if let Some(name) = unknown_placeholder(body) {
                return Err(format!(
                    "{id_at}: canned reply {} uses {{{name}}}; the placeholders are {{user}}, {{case}}, {{operator}} and {{team}}",
                    reply.id
                ));
            }
        }
    }
    Ok(parsed.reply)
}

/// Reads the file; a missing file is no replies.
pub fn load(path: &Path) -> Result<Vec<Canned>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, &path.display().to_string()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(err) => Err(format!("{}: {err}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_locates_problems() {
        let ok = "[[reply]]\nid = \"hi\"\ntitle = \"Greeting\"\nen = \"Hello {user}, about {case}\"\nzh = \"{user} 您好\"\n";
        let replies = parse(ok, "c.toml").unwrap();
        assert_eq!(replies[0].id, "hi");
        assert_eq!(replies[0].en, "Hello {user}, about {case}");
        let bad = "[[reply]]\nid = \"hi\"\ntitle = \"G\"\nen = \"Hello {name}\"\n";
        let err = parse(bad, "c.toml").unwrap_err();
        assert!(
            err.starts_with("c.toml:2:") && err.contains("{name}"),
            "{err}"
        );
        let twice = format!("{ok}{ok}");
        assert!(parse(&twice, "c.toml").unwrap_err().contains("twice"));
        let empty = "[[reply]]\nid = \"x\"\ntitle = \"X\"\n";
        assert!(parse(empty, "c.toml").unwrap_err().contains("no text"));
        let syntax = "[[reply]]\nid = \"x\"\ntitle = \n";
        assert!(parse(syntax, "c.toml")
            .unwrap_err()
            .starts_with("c.toml:3:"));
        let unknown = "[[reply]]\nid = \"x\"\ntitle = \"X\"\nen = \"a\"\nfr = \"b\"\n";
        assert!(parse(unknown, "c.toml").unwrap_err().contains("fr"));
    }

    #[test]
    fn the_shipped_example_is_valid() {
        let replies = parse(include_str!("../../../canned.toml"), "canned.toml").unwrap();
        assert!(replies.len() >= 3);
        assert!(replies.iter().all(|r| !r.zh.is_empty() && !r.en.is_empty()));
    }

    #[test]
    fn a_missing_file_is_no_replies() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(&dir.path().join("canned.toml")).unwrap(), vec![]);
    }
}
