//! Questions taught from cases: when an operator closes a case and marks the FAQ entry that answered it, the
//! user's question becomes a new question variant of that entry. Variants are `[[variants]]` tables (in any FAQ
//! file; the inbox appends them to `taught.toml`) that `faq check` validates and a reload applies:
//!
//! ```toml
//! [[variants]]
//! faq = "mail-bounce-554"      # an existing entry
//! lang = "zh"                  # zh, en or ja
//! question = "群发通知全被退回来了"
//! case = "C-1042"              # where it came from (optional)
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::entry::FaqEntry;
use super::load::{FaqError, FaqSource};

/// The file the inbox appends taught questions to, in the FAQ directory.
pub const TAUGHT_FILE: &str = "taught.toml";

/// Longest taught question, in characters.
const MAX_QUESTION: usize = 300;

/// One `[[variants]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVariant {
    faq: String,
    lang: String,
    question: String,
    #[serde(default)]
    #[allow(dead_code)]
    case: Option<String>,
}

/// Adds each variant (with the file and line it came from) to its entry; an unknown entry, a language other
/// than `zh`/`en` or an empty question is an error at that line.
pub(super) fn apply(
    entries: &mut [FaqEntry],
    variants: Vec<(String, usize, RawVariant)>,
) -> Result<(), FaqError> {
    for (file, line, v) in variants {
        let at = |message: String| FaqError::At {
            file: file.clone(),
            line,
            message,
        };
        let question = v.question.trim();
        if question.is_empty() {
            return Err(at(format!(
                "variant for \"{}\" has an empty question",
                v.faq
            )));
        }
        let Some(entry) = entries.iter_mut().find(|e| e.id == v.faq) else {
            return Err(at(format!("variant for unknown entry \"{}\"", v.faq)));
        };
        let list = match v.lang.as_str() {
            "zh" => &mut entry.questions.zh,
            "en" => &mut entry.questions.en,
            "ja" => entry.questions.ja.get_or_insert_with(Vec::new),
            other => {
                return Err(at(format!(
                    "variant for \"{}\" has language \"{other}\" (use zh, en or ja)",
                    v.faq
                )))
            }
        };
        if !list.iter().any(|q| q.trim() == question) {
            list.push(question.to_string());
        }
    }
    Ok(())
}

/// The TOML of one variant table.
fn table(faq: &str, lang: &str, question: &str, case: Option<&str>) -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut text = format!(
        "\n[[variants]]\nfaq = {}\nlang = {}\nquestion = {}\n",
        quote(faq),
        quote(lang),
        quote(question)
    );
    if let Some(case) = case {
        text.push_str(&format!("case = {}\n", quote(case)));
    }
    text
}

/// Appends `question` as a variant of entry `faq` to `dir/taught.toml`, after checking that the whole
/// directory, with it, still loads; on any problem nothing is written. Returns the file written.
pub fn teach(
    dir: &Path,
    faq: &str,
    lang: &str,
    question: &str,
    case: Option<&str>,
) -> Result<PathBuf, FaqError> {
    let question: String = question
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_QUESTION)
        .collect();
    let path = dir.join(TAUGHT_FILE);
    let before = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            "# Questions users asked, taught from closed cases in the operator inbox. Review them like any FAQ\n\
             # change; `supportbot faq check` validates them and `serve` reloads them.\n"
                .to_string()
        }
        Err(source) => return Err(FaqError::Io { path, source }),
    };
    let after = format!("{before}{}", table(faq, lang, &question, case));
    let mut source = FaqSource::read_dir(dir)?;
    source.replace(&path.display().to_string(), after.clone());
    source.parse()?;
    let tmp = dir.join(format!(".{TAUGHT_FILE}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(after.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|source| FaqError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faq::{Action, Faq};

    fn faq_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in FaqSource::builtin().files() {
            let name = Path::new(name).file_name().unwrap();
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    const ODD: &str = "xylophone quartz mailbox refusal wobble";

    #[test]
    fn a_taught_question_is_answered_after_reload() {
        let dir = faq_dir();
        let before = Faq::load_dir(dir.path()).unwrap().decide(ODD);
        assert!(
            before.faq.as_deref() != Some("mail-bounce-554") || before.action != Action::Answer,
            "{before:?}"
        );
        let file = teach(dir.path(), "mail-bounce-554", "en", ODD, Some("C-1042")).unwrap();
        assert!(file.ends_with(TAUGHT_FILE));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("case = \"C-1042\""), "{text}");
        let after = Faq::load_dir(dir.path()).unwrap();
        let decision = after.decide(ODD);
        assert_eq!(decision.action, Action::Answer, "{decision:?}");
        assert_eq!(decision.faq.as_deref(), Some("mail-bounce-554"));
        assert!(after
            .entry("mail-bounce-554")
            .unwrap()
            .questions
            .en
            .iter()
            .any(|q| q == ODD));
        // Teaching it again adds nothing new to the entry.
        teach(dir.path(), "mail-bounce-554", "en", ODD, None).unwrap();
        let again = Faq::load_dir(dir.path()).unwrap();
        let count = |f: &Faq| f.entry("mail-bounce-554").unwrap().questions.en.len();
        assert_eq!(count(&again), count(&after));
    }

    #[test]
    fn a_bad_variant_is_refused_and_a_bad_file_reported() {
        let dir = faq_dir();
        // Teaching for an unknown entry writes nothing.
        let err = teach(dir.path(), "no-such-entry", "en", "hello", None).unwrap_err();
        assert!(
            err.to_string().contains("unknown entry \"no-such-entry\""),
            "{err}"
        );
        assert!(!dir.path().join(TAUGHT_FILE).exists());
        // A broken taught file (edited by hand) is reported with its place; the FAQ does not load from it.
        std::fs::write(
            dir.path().join(TAUGHT_FILE),
            "[[variants]]\nfaq = \"mail-bounce-554\"\nlang = \"fr\"\nquestion = \"bonjour\"\n",
        )
        .unwrap();
        let err = match Faq::load_dir(dir.path()) {
            Ok(_) => panic!("a broken taught file loaded"),
            Err(err) => err.to_string(),
        };
        assert!(
            err.contains("taught.toml:1:") && err.contains("\"fr\""),
            "{err}"
        );
        // And teaching does not add to a broken file.
        assert!(teach(dir.path(), "mail-bounce-554", "en", "hello there", None).is_err());
    }
}
