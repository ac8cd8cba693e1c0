//! What the matcher saw in a message, for the people who tune a knowledge base: the message as read once its
//! typos are put right, another product it names, the handoff entry ranked first for it, its terms and weights
//! (`ask --explain`), and its term set and ranking (`faq lint`).

use super::{round3, Matcher};
use crate::faq::entry::FaqEntry;
use crate::faq::normalize::fold;

impl Matcher {
    /// The distinct search terms of a text (for `faq lint`).
    pub fn term_set(&self, text: &str) -> Vec<String> {
        let (_, text) = self.prepare(&fold(text));
        let mut terms: Vec<String> = self
            .tokenizer
            .terms(&text)
            .into_iter()
            .map(|t| t.text)
            .collect();
        terms.sort_unstable();
        terms.dedup();
        terms
    }

    /// The best entries for a text, with their scores (for `faq lint`).
    pub fn ranked(&self, text: &str) -> Vec<(usize, f32)> {
        let folded = fold(text);
        let (folded, text) = self.prepare(&folded);
        self.rank(&folded, &text)
            .ranked
            .into_iter()
            .map(|r| (r.entry, r.score))
            .collect()
    }

    /// The message as the matcher reads it once its typos are put right (folded), when that differs from the
    /// folded message (for `ask --explain`).
    pub fn corrected(&self, query: &str) -> Option<String> {
        let folded = fold(query);
        let (fixed, _) = self.prepare(&folded);
        (fixed != folded).then(|| fixed.into_owned())
    }

    /// The other product a message names that this knowledge base never mentions (for `ask --explain`).
    pub fn other_product(&self, query: &str) -> Option<String> {
        self.other_products.first_in(&fold(query))
    }

    /// The request for a general assistant a message makes that this knowledge base never mentions (for `ask
    /// --explain`).
    pub fn off_topic(&self, query: &str) -> Option<String> {
        self.off_topic.first_in(&fold(query))
    }

    /// The handoff entry ranked first for a message, and whether it was sure enough to hand the message to
    /// its category (for `ask --explain`).
    pub fn handoff_entry(&self, query: &str) -> Option<(&FaqEntry, bool)> {
        let folded = fold(query);
        let elsewhere = self.elsewhere(&folded);
        let (folded, text) = self.prepare(&folded);
        let ranking = self.rank(&folded, &text);
        let (entry, sure) = self.handoff_first(&ranking.ranked, ranking.mass, elsewhere)?;
        Some((&self.entries[entry], sure))
    }

    /// The query's terms as the matcher sees them: (term, weight, whether any entry contains it).
    pub fn explain(&self, query: &str) -> Vec<(String, f32, bool)> {
        let (_, text) = self.prepare(&fold(query));
        let terms = self.tokenizer.terms(&text);
        let weighed = self
            .views
            .weigh(&terms, |t| self.tokenizer.unknown_weight(t));
        let mut seen = Vec::new();
        terms
            .iter()
            .filter(|t| {
                let new = !seen.contains(&t.text);
                seen.push(t.text.clone());
                new
            })
            .zip(&weighed.terms)
            .map(|(t, (id, w, _))| {
                (
                    crate::faq::tokenize::display(&t.text).to_string(),
                    round3(*w),
                    id.is_some(),
                )
            })
            .collect()
    }
}
