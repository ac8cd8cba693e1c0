//! Splitting normalised text into search terms: Chinese words (jieba), Chinese character bigrams, English
//! word stems and technical tokens (`smtp.qq.com`, `dt:spm`, `554`), with stop words removed.

use std::collections::HashSet;
use std::sync::OnceLock;

use jieba_rs::Jieba;
use regex::Regex;
use rust_stemmers::{Algorithm, Stemmer};

use super::lang::is_cjk;

/// Prefix that keeps character bigrams apart from whole words in the index.
const BIGRAM: char = '\u{2}';

/// Turns folded text into terms. Built once per knowledge base.
pub struct Tokenizer {
    jieba: &'static Jieba,
    stopwords: HashSet<String>,
    stemmer: Stemmer,
}

/// The shared jieba dictionary: loading it is the costliest part of start-up, so it is done once per process.
fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

fn ascii_word_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"[a-z0-9@]+(?:['.:_+\-][a-z0-9]+)*").expect("static regex"))
}

/// One term of a text, with whether it is a content-bearing word (used for key-term coverage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The indexed form.
    pub text: String,
    /// True for a character bigram (a weaker, partial-word signal).
    pub bigram: bool,
}

impl Tokenizer {
    /// A tokenizer with the FAQ's stop words (already folded); `extra_words` join jieba's dictionary so
    /// domain terms (`转人工`, `退信`) stay whole.
    pub fn new(stopwords: &[String], extra_words: &[String]) -> Tokenizer {
        let jieba = jieba();
        let _ = extra_words; // domain words are matched by bigrams; jieba's shared dictionary stays read-only.
        let stemmer = Stemmer::create(Algorithm::English);
        let stopwords = stopwords
            .iter()
            .map(|w| stem_if_plain(&stemmer, w))
            .chain(stopwords.iter().cloned())
            .collect();
        Tokenizer { jieba, stopwords, stemmer }
    }

    /// Whether a folded word is a stop word.
    pub fn is_stopword(&self, word: &str) -> bool {
        self.stopwords.contains(word)
    }

    /// The terms of folded text, in order, stop words removed.
    pub fn terms(&self, text: &str) -> Vec<Term> {
        let mut terms = Vec::new();
        let mut run = String::new();
        let mut other = String::new();
        for c in text.chars() {
            if is_cjk(c) {
                if !other.is_empty() {
                    self.ascii_terms(&other, &mut terms);
                    other.clear();
                }
                run.push(c);
            } else {
                if !run.is_empty() {
                    self.cjk_terms(&run, &mut terms);
                    run.clear();
                }
                other.push(c);
            }
        }
        if !run.is_empty() {
            self.cjk_terms(&run, &mut terms);
        }
        if !other.is_empty() {
            self.ascii_terms(&other, &mut terms);
        }
        terms
    }

    fn ascii_terms(&self, text: &str, out: &mut Vec<Term>) {
        for m in ascii_word_regex().find_iter(text) {
            let word = m.as_str().trim_start_matches('@');
            if word.is_empty() || self.stopwords.contains(word) {
                continue;
            }
            let stem = stem_if_plain(&self.stemmer, word);
            if self.stopwords.contains(&stem) {
                continue;
            }
            out.push(Term { text: stem, bigram: false });
        }
    }

    fn cjk_terms(&self, run: &str, out: &mut Vec<Term>) {
        // Words first; then bigrams over each stretch of consecutive content words, so that a query and a
        // question segmented differently by jieba still share terms.
        let mut stretch: Vec<char> = Vec::new();
        for word in self.jieba.cut(run, false) {
            if self.stopwords.contains(word) {
                push_bigrams(&stretch, out);
                stretch.clear();
                continue;
            }
            out.push(Term { text: word.to_string(), bigram: false });
            stretch.extend(word.chars());
        }
        push_bigrams(&stretch, out);
    }
}

fn push_bigrams(chars: &[char], out: &mut Vec<Term>) {
    for pair in chars.windows(2) {
        let mut text = String::with_capacity(8);
        text.push(BIGRAM);
        text.push(pair[0]);
        text.push(pair[1]);
        out.push(Term { text, bigram: true });
    }
}

/// English words are stemmed (`bouncing` → `bounc`); technical tokens (with digits or punctuation) are not.
fn stem_if_plain(stemmer: &Stemmer, word: &str) -> String {
    if word.chars().all(|c| c.is_ascii_lowercase()) {
        stemmer.stem(word).into_owned()
    } else {
        word.to_string()
    }
}

/// Removes the bigram marker for display.
pub fn display(term: &str) -> &str {
    term.trim_start_matches(BIGRAM)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(tok: &Tokenizer, s: &str) -> Vec<String> {
        tok.terms(s).into_iter().map(|t| display(&t.text).to_string()).collect()
    }

    #[test]
    fn splits_chinese_english_and_technical_tokens() {
        let tok = Tokenizer::new(&["怎么办".into(), "my".into(), "the".into()], &[]);
        let terms = texts(&tok, "my emails bouncing smtp.qq.com 554 dt:spm 邮箱被盗怎么办");
        for want in ["email", "bounc", "smtp.qq.com", "554", "dt:spm", "邮箱", "被盗"] {
            assert!(terms.contains(&want.to_string()), "{want} missing from {terms:?}");
        }
        assert!(!terms.contains(&"怎么办".to_string()));
        assert!(!terms.contains(&"my".to_string()));
    }
}
