//! Reading FAQ files and checking them: every problem is reported as `file:line: what is wrong`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};
use serde::Deserialize;
use toml::Spanned;

use super::entry::{FaqEntry, Lexicon, Localized, Synonym};

/// The repository's `faq/` directory, built into the binary.
static BUILTIN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/faq");

/// A problem with the FAQ files. Displays as `file:line: problem`.
#[derive(Debug, thiserror::Error)]
pub enum FaqError {
    /// The directory or a file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// What was being read.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The directory holds no `*.toml` file.
    #[error("{0}: no FAQ files (*.toml) found")]
    Empty(PathBuf),
    /// A problem at a place in a file.
    #[error("{file}:{line}: {message}")]
    At {
        /// The file name.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// FAQ files read into memory (name and text), ready to be parsed and checked.
#[derive(Debug, Clone, Default)]
pub struct FaqSource {
    files: Vec<(String, String)>,
}

/// Longest category name.
const CATEGORY_LEN: usize = 32;

/// Whether `name` is a category as `[[teams]] categories` names it: lowercase ASCII letters, digits and
/// hyphens, starting with a letter. A team brings its own (the built-in FAQ uses account, mail, features,
/// service and enterprise); `faq check` lists the ones it found, where a misspelt one shows.
fn valid_category(name: &str) -> bool {
    name.len() <= CATEGORY_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    faq: Vec<Spanned<RawEntry>>,
    #[serde(default)]
    synonyms: Vec<Synonym>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    human_phrases: Vec<String>,
    #[serde(default)]
    not_human: Vec<String>,
    #[serde(default)]
    always_human: Vec<String>,
    #[serde(default)]
    other_products: Vec<String>,
    #[serde(default)]
    not_products: Vec<String>,
    #[serde(default)]
    off_topic: Vec<String>,
    /// Question variants of entries, taught from cases (see `taught`).
    #[serde(default)]
    variants: Vec<Spanned<super::taught::RawVariant>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: Option<String>,
    category: Option<String>,
    questions: Option<RawLocalized<Vec<String>>>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
    answer: Option<RawLocalized<String>>,
    #[serde(default)]
    handoff: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocalized<T> {
    zh: Option<T>,
    en: Option<T>,
    ja: Option<T>,
}

impl FaqSource {
    /// Reads every `*.toml` file of a directory, in name order.
    pub fn read_dir(dir: &Path) -> Result<FaqSource, FaqError> {
        let io = |source| FaqError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(FaqError::Empty(dir.to_path_buf()));
        }
        let mut files = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| FaqError::Io {
                path: path.clone(),
                source,
            })?;
            files.push((path.display().to_string(), text));
        }
        Ok(FaqSource { files })
    }

    /// The FAQ built into the binary.
    pub fn builtin() -> FaqSource {
        let mut files: Vec<(String, String)> = BUILTIN
            .files()
            .filter(|f| f.path().extension().is_some_and(|x| x == "toml"))
            .filter_map(|f| {
                Some((
                    format!("faq/{}", f.path().display()),
                    f.contents_utf8()?.to_string(),
                ))
            })
            .collect();
        files.sort();
        FaqSource { files }
    }

    /// A source from in-memory files (name, TOML text).
    pub fn from_files(files: Vec<(String, String)>) -> FaqSource {
        FaqSource { files }
    }

    /// The files (name, TOML text).
    pub fn files(&self) -> &[(String, String)] {
        &self.files
    }

    /// Replaces the text of the file named `name`, or adds it.
    pub fn replace(&mut self, name: &str, text: String) {
        match self.files.iter_mut().find(|(n, _)| n == name) {
            Some(file) => file.1 = text,
            None => self.files.push((name.to_string(), text)),
        }
    }

    /// Parses and checks every file: syntax, unknown fields, required fields in both languages, categories,
    /// duplicate ids across files and regexes.
    pub fn parse(&self) -> Result<(Vec<FaqEntry>, Lexicon), FaqError> {
        let mut entries = Vec::new();
        let mut lexicon = Lexicon::default();
        let mut seen: HashMap<String, (String, usize)> = HashMap::new();
        let mut variants = Vec::new();
        for (file, text) in &self.files {
            let raw: RawFile = toml::from_str(text).map_err(|e| FaqError::At {
                file: file.clone(),
                line: e
                    .span()
                    .map(|s| LineIndex::new(text).line_of(s.start))
                    .unwrap_or(1),
                message: e.message().trim().to_string(),
            })?;
            let lines = LineIndex::new(text);
            for spanned in raw.faq {
                let line = lines.line_of(spanned.span().start);
                let entry = check_entry(spanned.into_inner(), file, line)?;
                if let Some((first_file, first_line)) = seen.get(&entry.id) {
                    return Err(at(
                        file,
                        line,
                        format!(
                            "duplicate id \"{}\" (first defined at {first_file}:{first_line})",
                            entry.id
                        ),
                    ));
                }
                seen.insert(entry.id.clone(), (file.clone(), line));
                entries.push(entry);
            }
            lexicon.synonyms.extend(raw.synonyms);
            lexicon.stopwords.extend(raw.stopwords);
            lexicon.human_phrases.extend(raw.human_phrases);
            lexicon.not_human.extend(raw.not_human);
            lexicon.always_human.extend(raw.always_human);
            lexicon.other_products.extend(raw.other_products);
            lexicon.not_products.extend(raw.not_products);
            lexicon.off_topic.extend(raw.off_topic);
            for v in raw.variants {
                variants.push((file.clone(), lines.line_of(v.span().start), v.into_inner()));
            }
        }
        super::taught::apply(&mut entries, variants)?;
        if entries.is_empty() {
            let file = self
                .files
                .first()
                .map(|f| f.0.clone())
                .unwrap_or_else(|| "faq".into());
            return Err(at(
                &file,
                1,
                "the knowledge base has no [[faq]] entries".into(),
            ));
        }
        Ok((entries, lexicon))
    }
}

fn at(file: &str, line: usize, message: String) -> FaqError {
    FaqError::At {
        file: file.to_string(),
        line,
        message,
    }
}

/// Byte offsets of line starts, so that finding the line of an offset is a binary search.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// 1-based line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        self.0.partition_point(|&nl| nl < offset) + 1
    }
}

/// The optional Japanese value of an entry: absent is fine, present must not be empty.
fn optional_japanese<T>(
    id: &str,
    field: &str,
    value: Option<T>,
    filled: impl Fn(&T) -> bool,
) -> Result<Option<T>, String> {
    match value {
        Some(v) if !filled(&v) => Err(format!(
            "entry \"{id}\" has an empty Japanese {} (`{field}.ja`): fill it in or remove it",
            if field == "answer" {
                "answer"
            } else {
                "question list"
            }
        )),
        other => Ok(other),
    }
}

fn check_entry(raw: RawEntry, file: &str, line: usize) -> Result<FaqEntry, FaqError> {
    let id = raw
        .id
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| at(file, line, "entry has no `id`".into()))?;
    let missing = |what: &str| at(file, line, format!("entry \"{id}\" has no {what}"));
    let category = raw
        .category
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| missing("`category`"))?;
    if !valid_category(&category) {
        return Err(at(
            file,
            line,
            format!(
                "entry \"{id}\" has category \"{category}\": a category is lowercase letters, digits and \
                 hyphens, starting with a letter, at most {CATEGORY_LEN} characters (such as account or billing)"
            ),
        ));
    }
    let questions = raw.questions.ok_or_else(|| missing("`questions`"))?;
    let non_empty =
        |list: Option<Vec<String>>| list.filter(|l| l.iter().any(|q| !q.trim().is_empty()));
    let questions = Localized {
        zh: non_empty(questions.zh).ok_or_else(|| missing("Chinese question (`questions.zh`)"))?,
        en: non_empty(questions.en).ok_or_else(|| missing("English question (`questions.en`)"))?,
        ja: optional_japanese(&id, "questions", questions.ja, |l| {
            l.iter().any(|q| !q.trim().is_empty())
        })
        .map_err(|m| at(file, line, m))?,
    };
    for pattern in &raw.patterns {
        if let Err(e) = regex::Regex::new(pattern) {
            let reason = e
                .to_string()
                .lines()
                .last()
                .unwrap_or("invalid")
                .trim()
                .to_string();
            return Err(at(
                file,
                line,
                format!("entry \"{id}\" has an invalid pattern `{pattern}`: {reason}"),
            ));
        }
    }
    let answer = if raw.handoff {
        // A handoff entry is never answered: an answer written for it would never be sent.
        if raw.answer.is_some() {
            return Err(at(
                file,
                line,
                format!(
                    "entry \"{id}\" hands off to a person (`handoff = true`), so it takes no `answer`: \
                     remove the answer, or remove `handoff` to answer it"
                ),
            ));
        }
        Localized::default()
    } else {
        check_answer(raw.answer, &id, questions.ja.is_some()).map_err(|m| at(file, line, m))?
    };
    Ok(FaqEntry {
        id,
        category,
        questions,
        keywords: raw.keywords,
        patterns: raw.patterns,
        answer,
        handoff: raw.handoff,
        file: file.to_string(),
        line,
    })
}

/// The answer of an entry that answers: Chinese and English, and Japanese exactly when the entry has Japanese
/// questions.
fn check_answer(
    answer: Option<RawLocalized<String>>,
    id: &str,
    japanese_questions: bool,
) -> Result<Localized<String>, String> {
    let missing = |what: &str| format!("entry \"{id}\" has no {what}");
    let answer = answer.ok_or_else(|| missing("`answer`"))?;
    let text = |a: Option<String>| a.filter(|s| !s.trim().is_empty());
    let answer = Localized {
        zh: text(answer.zh).ok_or_else(|| missing("Chinese answer (`answer.zh`)"))?,
        en: text(answer.en).ok_or_else(|| missing("English answer (`answer.en`)"))?,
        ja: optional_japanese(id, "answer", answer.ja, |a| !a.trim().is_empty())?,
    };
    match (japanese_questions, &answer.ja) {
        (true, None) => Err(format!(
            "entry \"{id}\" has `questions.ja` but no `answer.ja` (give both, or neither)"
        )),
        (false, Some(_)) => Err(format!(
            "entry \"{id}\" has `answer.ja` but no `questions.ja` (give both, or neither)"
        )),
        _ => Ok(answer),
    }
}
