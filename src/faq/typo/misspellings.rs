//! English misspellings: a word one letter added, dropped, changed or swapped away from one of the knowledge
//! base's, when it is no English word and no form of the knowledge base's.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use crate::faq::tokenize::latin_tokens;

/// The knowledge base's English words, to put right a message's word one keystroke away from one of them.
pub struct Misspellings {
    /// Words of four letters or more and how often the knowledge base uses each, by first letter: a slip
    /// seldom hits the first letter (gmail is not a slip of email).
    by_first: HashMap<u8, Vec<(String, u32)>>,
    /// The stems of all its English words: another form of one of them (reimburse beside reimbursed) is no
    /// slip.
    stems: HashSet<String>,
}

/// Shorter words are left alone: one keystroke turns too many of them into other words.
const MIN_SLIP_LEN: usize = 5;

impl Misspellings {
    /// Learns the English words of `texts` (folded); `stem` gives a word's stem as the index has it.
    pub fn build<'t>(
        texts: impl IntoIterator<Item = &'t str>,
        stem: impl Fn(&str) -> String,
    ) -> Misspellings {
        let mut counts: HashMap<&str, u32> = HashMap::new();
        let mut stems = HashSet::new();
        for text in texts {
            for (_, word) in latin_tokens(text) {
                stems.insert(stem(word));
                if word.len() >= MIN_SLIP_LEN - 1 && word.bytes().all(|b| b.is_ascii_lowercase()) {
                    *counts.entry(word).or_default() += 1;
                }
            }
        }
        let mut by_first: HashMap<u8, Vec<(String, u32)>> = HashMap::new();
        for (word, count) in counts {
            by_first
                .entry(word.as_bytes()[0])
                .or_default()
                .push((word.to_string(), count));
        }
        for words in by_first.values_mut() {
            // A fixed order, so that equal counts pick the same correction on every load.
            words.sort_unstable();
        }
        Misspellings { by_first, stems }
    }

    /// `text` (folded) with its misspelt English words put right, or `None` when it has none. A word is
    /// misspelt when neither it nor its stem is the knowledge base's, `known` (an English dictionary) does not
    /// have it, and one letter added, dropped, changed or swapped with its neighbour gives a word of the
    /// knowledge base; the most used such word wins. Technical tokens (`smtp.qq.com`, `dt:spm`, addresses) are
    /// left alone.
    pub fn fix(
        &self,
        text: &str,
        known: impl Fn(&str) -> bool,
        stem: impl Fn(&str) -> String,
    ) -> Option<String> {
        let mut fixed: Option<String> = None;
        let mut at = 0;
        for (start, word) in latin_tokens(text) {
            if word.len() < MIN_SLIP_LEN || !word.bytes().all(|b| b.is_ascii_lowercase()) {
                continue;
            }
            let Some(words) = self.by_first.get(&word.as_bytes()[0]) else {
                continue;
            };
            // A word of the knowledge base has its stem among the stems too.
            if known(word) || self.stems.contains(&stem(word)) {
                continue;
            }
            let best = words
                .iter()
                .filter(|(w, _)| one_edit(word.as_bytes(), w.as_bytes()))
                .fold(None, |best: Option<&(String, u32)>, candidate| match best {
                    Some(b) if b.1 >= candidate.1 => Some(b),
                    _ => Some(candidate),
                });
            if let Some((meant, _)) = best {
                let out = fixed.get_or_insert_with(|| String::with_capacity(text.len()));
                out.push_str(&text[at..start]);
                out.push_str(meant);
                at = start + word.len();
            }
        }
        let mut out = fixed?;
        out.push_str(&text[at..]);
        Some(out)
    }
}

/// Whether `a` and `b` differ by one letter added, dropped, changed, or swapped with its neighbour.
fn one_edit(a: &[u8], b: &[u8]) -> bool {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[common..], &b[common..]);
    match (a.len(), b.len()) {
        (0, 0) => false,
        (m, n) if m == n => {
            a[1..] == b[1..] || (m >= 2 && a[0] == b[1] && a[1] == b[0] && a[2..] == b[2..])
        }
        (m, n) if m == n + 1 => a[1..] == *b,
        (m, n) if n == m + 1 => b[1..] == *a,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn misspellings() -> (Misspellings, impl Fn(&str) -> String) {
        let stemmer = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
        let stem = move |w: &str| stemmer.stem(w).into_owned();
        let texts = [
            "how do i cancel my order",
            "the washer does not drain",
            "is my bill reimbursed",
            "email settings: smtp.qq.com",
        ];
        (Misspellings::build(texts, &stem), stem)
    }

    #[test]
    fn an_english_word_one_keystroke_from_the_faqs_is_put_right() {
        let (m, stem) = misspellings();
        // A small English dictionary stands in for the word table.
        let known = |w: &str| ["cancer", "gmail", "now"].contains(&w);
        let fix = |text: &str| m.fix(text, known, &stem);
        assert_eq!(fix("if i cancle now").as_deref(), Some("if i cancel now"));
        assert_eq!(
            fix("washr wont drian").as_deref(),
            Some("washer wont drain")
        );
        // Real words, other forms of the FAQ's words, other first letters and technical tokens stay.
        assert_eq!(fix("cancer cover"), None);
        assert_eq!(fix("will you reimburse it"), None);
        assert_eq!(fix("my gmail and tmail"), None);
        assert_eq!(fix("write to cancle@qq.com or smtq.qq.com"), None);
    }

    #[test]
    fn one_edit_is_one_letter_added_dropped_changed_or_swapped() {
        for (a, b) in [
            ("cancle", "cancel"),
            ("washr", "washer"),
            ("benifits", "benefits"),
            ("drain", "drains"),
        ] {
            assert!(one_edit(a.as_bytes(), b.as_bytes()), "{a} {b}");
            assert!(one_edit(b.as_bytes(), a.as_bytes()), "{b} {a}");
        }
        for (a, b) in [
            ("cancel", "cancel"),
            ("cnacle", "cancel"),
            ("wash", "washer"),
            ("abcd", "badc"),
        ] {
            assert!(!one_edit(a.as_bytes(), b.as_bytes()), "{a} {b}");
        }
    }
}
