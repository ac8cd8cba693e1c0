//! Splitting normalised text into search terms: Chinese words (jieba), Chinese character bigrams, English
//! word stems and technical tokens (`smtp.qq.com`, `dt:spm`, `554`), with stop words removed. Text with kana
//! is Japanese and its kana and kanji are cut by `japanese`.

use std::collections::HashSet;
use std::sync::OnceLock;

use jieba_rs::Jieba;
use regex::Regex;
use rust_stemmers::{Algorithm, Stemmer};

use super::japanese;
use super::lang::{is_cjk, is_kana};

/// Prefix that keeps character bigrams apart from whole words in the index.
const BIGRAM: char = '\u{2}';

/// Turns folded text into terms. Built once per knowledge base.
pub struct Tokenizer {
    jieba: Jieba,
    stopwords: HashSet<String>,
    /// Domain words from the FAQ; never treated as filler even when made of stop words (在哪).
    domain: HashSet<String>,
    stemmer: Stemmer,
    /// Stems of the English words of the knowledge base, worked out once ([`Tokenizer::learn_stems`]): most
    /// words users write are among them, and a lookup costs a fraction of stemming.
    stems: foldhash::HashMap<String, String>,
}

fn ascii_word_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"[a-z0-9@]+(?:['.:_+\-][a-z0-9]+)*").expect("static regex"))
}

/// The English words and technical tokens of folded text as the tokenizer takes them (`smtp.qq.com`, `dt:spm`,
/// `cancle`), with their byte offsets.
pub fn latin_tokens(text: &str) -> impl Iterator<Item = (usize, &str)> {
    ascii_word_regex()
        .find_iter(text)
        .map(|m| (m.start(), m.as_str()))
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
        let mut jieba = Jieba::new();
        for word in extra_words {
            let chars = word.chars().count();
            if chars >= 2 && word.chars().all(is_cjk) && !jieba.has_word(word) {
                // Twice the frequency that would just tie with the split, so the word wins.
                let freq = jieba
                    .suggest_freq(word)
                    .saturating_mul(2)
                    .saturating_add(10);
                jieba.add_word(word, Some(freq), None);
            }
        }
        let stemmer = Stemmer::create(Algorithm::English);
        let stopwords = stopwords
            .iter()
            .map(|w| stem_if_plain(&stemmer, w))
            .chain(stopwords.iter().cloned())
            .collect();
        let domain = extra_words.iter().cloned().collect();
        Tokenizer {
            jieba,
            stopwords,
            domain,
            stemmer,
            stems: Default::default(),
        }
    }

    /// Jieba's words of a run of Chinese characters (for the word vectors).
    pub fn words<'t>(&self, run: &'t str) -> Vec<&'t str> {
        self.jieba.cut(run, false)
    }

    /// Remembers the stem of every English word in folded `text` (the knowledge base's questions).
    pub fn learn_stems(&mut self, text: &str) {
        for m in ascii_word_regex().find_iter(text) {
            let word = m.as_str().trim_start_matches('@');
            if !self.stems.contains_key(word) {
                let stem = stem_if_plain(&self.stemmer, word);
                self.stems.insert(word.to_string(), stem);
            }
        }
    }

    /// The indexed form of an English word or technical token.
    pub fn stem(&self, word: &str) -> String {
        match self.stems.get(word) {
            Some(stem) => stem.clone(),
            None => stem_if_plain(&self.stemmer, word),
        }
    }

    /// How common a Chinese word is in general Chinese, by jieba's dictionary (1 and up).
    pub fn frequency(&self, word: &str) -> usize {
        self.jieba.suggest_freq(word)
    }

    /// Whether a Chinese word is filler: a stop word, or made only of stop words (怎么弄 = 怎么 + 弄).
    pub fn is_filler(&self, word: &str) -> bool {
        if self.stopwords.contains(word) {
            return true;
        }
        if self.domain.contains(word) {
            return false;
        }
        // can[i]: the first i characters split into stop words.
        let bounds: Vec<usize> = word
            .char_indices()
            .map(|(i, _)| i)
            .chain([word.len()])
            .collect();
        let mut can = vec![false; bounds.len()];
        can[0] = true;
        for end in 1..bounds.len() {
            can[end] = (0..end).any(|start| {
                can[start] && self.stopwords.contains(&word[bounds[start]..bounds[end]])
            });
        }
        can[bounds.len() - 1]
    }

    /// The terms of folded text, in order, stop words removed.
    pub fn terms(&self, text: &str) -> Vec<Term> {
        self.terms_and_words(text, None)
    }

    /// The terms of folded text, and into `words` jieba's words of each run of Chinese characters, one list a
    /// run in order (the same cut the word vectors take, so a query is cut once). Text with kana is cut as
    /// Japanese and leaves `words` empty.
    pub fn terms_and_words<'t>(
        &self,
        text: &'t str,
        mut words: Option<&mut Vec<Vec<&'t str>>>,
    ) -> Vec<Term> {
        let mut terms = Vec::new();
        let japanese = text.chars().any(is_kana);
        let in_run = |c: char| {
            if japanese {
                japanese::in_run(c)
            } else {
                is_cjk(c)
            }
        };
        // Alternating stretches of run characters and other text, as slices of `text`.
        // `None` marks the end of the text, which closes the last stretch.
        let mut start = 0;
        let mut running = None;
        let ends = text.char_indices().map(|(at, c)| (at, Some(in_run(c))));
        for (at, inside) in ends.chain([(text.len(), None)]) {
            if running == inside {
                continue;
            }
            if at > start {
                let piece = &text[start..at];
                if running == Some(true) {
                    if japanese {
                        japanese::push_terms(piece, |w| self.stopwords.contains(w), &mut terms);
                    } else {
                        let cut = self.jieba.cut(piece, false);
                        self.cjk_terms(&cut, &mut terms);
                        if let Some(words) = words.as_deref_mut() {
                            words.push(cut);
                        }
                    }
                } else {
                    self.ascii_terms(piece, &mut terms);
                }
            }
            start = at;
            running = inside;
        }
        terms
    }

    fn ascii_terms(&self, text: &str, out: &mut Vec<Term>) {
        for m in ascii_word_regex().find_iter(text) {
            let word = m.as_str().trim_start_matches('@');
            if word.is_empty() || self.stopwords.contains(word) {
                continue;
            }
            let stem = self.stem(word);
            if self.stopwords.contains(&stem) {
                continue;
            }
            out.push(Term {
                text: stem,
                bigram: false,
            });
        }
    }

    /// The terms of a run of Chinese characters from jieba's words of it.
    fn cjk_terms(&self, cut: &[&str], out: &mut Vec<Term>) {
        // Whole words, plus character bigrams inside long words and across runs of single characters (where
        // jieba found no word), so a query and a question segmented differently still share terms.
        let mut singles: Vec<char> = Vec::new();
        for &word in cut {
            if self.is_filler(word) {
                push_bigrams(&singles, out);
                singles.clear();
                continue;
            }
            out.push(Term {
                text: word.to_string(),
                bigram: false,
            });
            let chars: Vec<char> = word.chars().collect();
            if chars.len() == 1 {
                singles.push(chars[0]);
                continue;
            }
            push_bigrams(&singles, out);
            singles.clear();
            if chars.len() >= 3 {
                push_bigrams(&chars, out);
            }
        }
        push_bigrams(&singles, out);
    }

    /// How much a term the knowledge base does not contain says about the topic, from 0.15 (everyday
    /// vocabulary such as 时候, 工作) to 1 (rare words such as 昵称, 扩容), by its frequency in jieba's
    /// general dictionary. English words and bigrams count fully.
    /// Numbers no entry mentions (versions, sizes such as `30m`, dates) count like everyday words.
    pub fn unknown_weight(&self, term: &Term) -> f32 {
        if is_plain_number(&term.text) {
            return COMMON_WEIGHT;
        }
        if term.bigram || !term.text.chars().any(is_cjk) {
            return 1.0;
        }
        let freq = self.frequency(&term.text) as f32;
        let (rare, common) = (300f32.ln(), 20_000f32.ln());
        (1.0 - (freq.max(1.0).ln() - rare) / (common - rare)).clamp(COMMON_WEIGHT, 1.0)
    }
}

/// Weight of an everyday word relative to a rare, topical one.
const COMMON_WEIGHT: f32 = 0.15;

/// Digits with at most a short unit (`60`, `30m`, `25mb`).
fn is_plain_number(text: &str) -> bool {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && text.len() - digits <= 2 && text[digits..].chars().all(|c| c.is_ascii_lowercase())
}

fn push_bigrams(chars: &[char], out: &mut Vec<Term>) {
    for pair in chars.windows(2) {
        out.push(bigram(pair));
    }
}

/// The partial-word term of a few characters (a character bigram, or a single Japanese kanji).
pub(super) fn bigram(chars: &[char]) -> Term {
    let mut text = String::with_capacity(1 + 4 * chars.len());
    text.push(BIGRAM);
    text.extend(chars);
    Term { text, bigram: true }
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
        tok.terms(s)
            .into_iter()
            .map(|t| display(&t.text).to_string())
            .collect()
    }

    #[test]
    fn splits_chinese_english_and_technical_tokens() {
        let tok = Tokenizer::new(&["怎么办".into(), "my".into(), "the".into()], &[]);
        let terms = texts(
            &tok,
            "my emails bouncing smtp.qq.com 554 dt:spm 邮箱被盗怎么办",
        );
        for want in [
            "email",
            "bounc",
            "smtp.qq.com",
            "554",
            "dt:spm",
            "邮箱",
            "被盗",
        ] {
            assert!(
                terms.contains(&want.to_string()),
                "{want} missing from {terms:?}"
            );
        }
        assert!(!terms.contains(&"怎么办".to_string()));
        assert!(!terms.contains(&"my".to_string()));
    }

    #[test]
    fn every_stretch_of_a_text_gives_terms_and_each_chinese_run_its_words() {
        let tok = Tokenizer::new(&["的".into()], &[]);
        // Text that ends in ASCII, starts in ASCII, and alternates.
        assert_eq!(texts(&tok, "554 dt:spm"), ["554", "dt:spm"]);
        let mut words = Vec::new();
        let text = "qq邮箱的密码 forgot 忘记了 pin";
        let terms = tok.terms_and_words(text, Some(&mut words));
        assert_eq!(terms, tok.terms(text));
        let shown: Vec<&str> = terms.iter().map(|t| display(&t.text)).collect();
        for want in ["qq", "邮箱", "密码", "forgot", "pin"] {
            assert!(shown.contains(&want), "{want} missing from {shown:?}");
        }
        assert_eq!(
            words,
            vec![tok.words("邮箱的密码"), tok.words("忘记了")],
            "one list of jieba's words per Chinese run, in order"
        );
        // Japanese text is cut by script and gives no jieba words.
        let mut words = Vec::new();
        assert!(!tok
            .terms_and_words("パスワードを忘れた", Some(&mut words))
            .is_empty());
        assert!(words.is_empty());
        assert!(tok.terms("").is_empty());
    }

    #[test]
    fn learned_stems_give_the_same_terms() {
        let text = "my emails keep bouncing back, the bounced mails say dt:spm";
        let fresh = Tokenizer::new(&["my".into(), "the".into()], &[]);
        let mut learned = Tokenizer::new(&["my".into(), "the".into()], &[]);
        learned.learn_stems("emails bouncing bounced say dt:spm");
        assert_eq!(
            learned.stems.get("bouncing").map(String::as_str),
            Some("bounc")
        );
        assert_eq!(texts(&learned, text), texts(&fresh, text));
    }
}
