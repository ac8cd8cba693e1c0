//! The FAQ knowledge base: loading and validating `faq/*.toml`, and matching a user's question to an entry.

mod calibrate;
mod cosine;
mod decide;
mod entry;
mod index;
mod japanese;
mod lang;
mod lint;
mod load;
mod normalize;
mod phrases;
mod rank;
mod semantic;
mod smalltalk;
mod taught;
mod tokenize;
mod typo;
mod wordvec;

pub use calibrate::{confidence, Bars, Calibration};
pub use decide::{Action, Candidate, Decision};
pub use entry::{FaqEntry, Lexicon, Localized};
pub use lang::Lang;
pub use lint::{Lint, Warning};
pub use load::{FaqError, FaqSource};
pub use normalize::extract_error_codes;
pub use taught::{teach, TAUGHT_FILE};

use std::sync::Arc;

/// A loaded knowledge base with its search index. Cheap to clone (shared).
#[derive(Clone)]
pub struct Faq {
    inner: Arc<decide::Matcher>,
}

impl Faq {
    /// Loads and validates every `*.toml` file in `dir`.
    pub fn load_dir(dir: &std::path::Path) -> Result<Faq, FaqError> {
        Faq::from_source(FaqSource::read_dir(dir)?)
    }

    /// The knowledge base built into the binary (the repository's `faq/` directory).
    pub fn builtin() -> Faq {
        Faq::from_source(FaqSource::builtin())
            .expect("the built-in FAQ is checked by the test suite")
    }

    /// Loads the FAQ from `dir` when it exists, else the built-in one.
    pub fn load_or_builtin(dir: &std::path::Path) -> Result<Faq, FaqError> {
        if dir.is_dir() {
            Faq::load_dir(dir)
        } else {
            Ok(Faq::builtin())
        }
    }

    /// Validates and indexes already-read FAQ files.
    pub fn from_source(source: FaqSource) -> Result<Faq, FaqError> {
        let (entries, lexicon) = source.parse()?;
        Ok(Faq {
            inner: Arc::new(decide::Matcher::new(entries, lexicon)),
        })
    }

    /// One FAQ decision for a user's message, with no conversation state.
    pub fn decide(&self, query: &str) -> Decision {
        self.inner.decide(query)
    }

    /// The decision with the answer language forced (a user's `/lang` choice).
    pub fn decide_in(&self, query: &str, lang: Lang) -> Decision {
        self.inner.decide_in(query, Some(lang))
    }

    /// The message as the matcher reads it once its typos are put right, when they changed it (for
    /// `ask --explain`).
    pub fn corrected(&self, query: &str) -> Option<String> {
        self.inner.corrected(query)
    }

    /// The other company's product a message names, when this knowledge base never mentions it: no entry
    /// answers such a message (for `ask --explain`).
    pub fn other_product(&self, query: &str) -> Option<String> {
        self.inner.other_product(query)
    }

    /// The request for a general assistant (天气预报, write a poem) a message makes, when this knowledge base
    /// never mentions it: no entry answers such a message (for `ask --explain`).
    pub fn off_topic(&self, query: &str) -> Option<String> {
        self.inner.off_topic(query)
    }

    /// The handoff entry ranked first for a message, and whether it was sure enough to hand the message to its
    /// category: such a message is never answered from an entry ranked below it (for `ask --explain`).
    pub fn handoff_entry(&self, query: &str) -> Option<(&FaqEntry, bool)> {
        self.inner.handoff_entry(query)
    }

    /// The query's search terms with their weights and whether any entry contains them (for `ask --explain`).
    pub fn explain(&self, query: &str) -> Vec<(String, f32, bool)> {
        self.inner.explain(query)
    }

    /// Every entry, in file order.
    pub fn entries(&self) -> &[FaqEntry] {
        self.inner.entries()
    }

    /// The entry with this id that answers (a handoff entry has no answer to give).
    pub fn entry(&self, id: &str) -> Option<&FaqEntry> {
        self.inner
            .entries()
            .iter()
            .find(|e| e.id == id && !e.handoff)
    }

    /// The decision bars this knowledge base calibrated for itself at load, and what calibration measured.
    pub fn calibration(&self) -> (Bars, &Calibration) {
        self.inner.calibration()
    }

    /// Entries that can never be answered because one of their questions contains an always-human phrase:
    /// (entry, phrase). `faq check` reports them.
    pub fn conflicts(&self) -> Vec<(&FaqEntry, &str)> {
        self.inner.conflicts().collect()
    }

    /// Warnings for support staff about the knowledge base (`faq lint`).
    pub fn lint(&self) -> Lint {
        lint::lint(&self.inner)
    }

    /// Whether the text is an explicit request for a human (转人工, "agent", ...).
    pub fn is_human_request(&self, text: &str) -> bool {
        self.inner.is_human_request(text)
    }
}
