//! Phrase lists found in folded text (requests for a person, topics only people handle), each with its
//! exceptions (人工审核 is no request for 人工).

use aho_corasick::AhoCorasick;

use super::normalize::{fold, longest_first};

/// Phrases to look for, with exceptions: where an exception is the longest match at a place, the phrase
/// inside it does not count (人工 in 人工审核).
pub struct PhraseSet {
    automaton: Option<AhoCorasick>,
    /// Number of leading patterns that are phrases; the rest are exceptions.
    phrases: usize,
}

impl PhraseSet {
    pub fn new(phrases: &[String], exceptions: &[String]) -> PhraseSet {
        let fold_all = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(|p| fold(p))
                .filter(|p| !p.is_empty())
                .collect()
        };
        let mut patterns = fold_all(phrases);
        let count = patterns.len();
        patterns.extend(fold_all(exceptions));
        // Exceptions alone find nothing.
        let automaton = if count == 0 {
            None
        } else {
            longest_first(&patterns)
        };
        PhraseSet {
            automaton,
            phrases: count,
        }
    }

    /// The set of the `phrases` that none of the folded `texts` contains (as [`PhraseSet::found_in`] finds
    /// them), with its `exceptions`.
    pub fn absent_from<'t>(
        phrases: &[String],
        exceptions: &[String],
        texts: impl IntoIterator<Item = &'t str>,
    ) -> PhraseSet {
        let (patterns, owners): (Vec<String>, Vec<usize>) = phrases
            .iter()
            .enumerate()
            .map(|(i, p)| (fold(p), i))
            .filter(|(p, _)| !p.is_empty())
            .unzip();
        let mut seen = vec![false; phrases.len()];
        // One pass over each text, with overlapping matches: a phrase inside a longer one (网易 in 网易云) is
        // contained too.
        if let Ok(automaton) = AhoCorasick::new(&patterns) {
            for text in texts {
                for m in automaton.find_overlapping_iter(text) {
                    if whole_word(text.as_bytes(), m.start(), m.end()) {
                        seen[owners[m.pattern().as_usize()]] = true;
                    }
                }
            }
        }
        let absent: Vec<String> = phrases
            .iter()
            .zip(&seen)
            .filter(|(_, seen)| !**seen)
            .map(|(p, _)| p.clone())
            .collect();
        PhraseSet::new(&absent, exceptions)
    }

    /// Whether the folded text contains a phrase (ASCII phrases only as whole words).
    pub fn found_in(&self, text: &str) -> bool {
        self.first_in(text).is_some()
    }

    /// The first phrase the folded text contains (ASCII phrases only as whole words).
    pub fn first_in(&self, text: &str) -> Option<String> {
        let automaton = self.automaton.as_ref()?;
        let bytes = text.as_bytes();
        automaton
            .find_iter(text)
            .find(|m| {
                m.pattern().as_usize() < self.phrases && whole_word(bytes, m.start(), m.end())
            })
            .map(|m| text[m.start()..m.end()].to_string())
    }
}

/// Whether the match `start..end` of `bytes` stands as a word: one that begins (ends) with an ASCII letter or
/// digit must not be glued to another before (after) it; Chinese phrases match anywhere.
pub(super) fn whole_word(bytes: &[u8], start: usize, end: usize) -> bool {
    let word = |i: usize| bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric());
    let glued_before = word(start) && start > 0 && word(start - 1);
    let glued_after = word(end - 1) && word(end);
    !glued_before && !glued_after
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn absent_from_keeps_the_phrases_a_text_does_not_contain() {
        let texts = ["用支付宝付款", "or google play"];
        let absent = PhraseSet::absent_from(
            &names(&["支付宝", "淘宝", "google", "play store"]),
            &[],
            texts,
        );
        assert_eq!(absent.first_in("淘宝和支付宝").as_deref(), Some("淘宝"));
        assert!(absent.found_in("the play store"));
        assert!(!absent.found_in("支付宝 google"));
        // Latin phrases count only as whole words, as when a message is searched.
        let absent = PhraseSet::absent_from(&names(&["ups"]), &[], ["groups and setups"]);
        assert!(absent.found_in("sent by ups"));
        // An exception holds the name without naming it.
        let absent = PhraseSet::absent_from(&names(&["京东"]), &names(&["北京东"]), [""]);
        assert!(!absent.found_in("寄到北京东路"));
        assert!(absent.found_in("京东上买的"));
    }
}
