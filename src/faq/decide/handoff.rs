//! Handoff entries in a decision: when the entry ranked first is one that the knowledge base leaves to
//! people, and whether it is sure enough to send the message to that entry's category.

use super::{confident, Matcher, VAGUE_MASS};
use crate::faq::calibrate::confidence;
use crate::faq::rank::{Ranked, STRONG_EVIDENCE};

impl Matcher {
    /// The handoff entry ranked first for a message, if one is, and whether it is as sure as an answer would
    /// have to be (its score and its lead over the best entry with an answer, against the answer bars). A
    /// message made only of words that most entries share ("邮箱") names no topic, not even one that is left
    /// to people, and a message about something `elsewhere` (another company's product, a request for a
    /// general assistant) is no topic of this one.
    pub(super) fn handoff_first(
        &self,
        ranked: &[Ranked],
        mass: f32,
        elsewhere: bool,
    ) -> Option<(usize, bool)> {
        let first = ranked.first()?;
        if !self.entries[first.entry].handoff || !names_a_topic(mass, first) || elsewhere {
            return None;
        }
        let answer = ranked
            .iter()
            .find(|r| !self.entries[r.entry].handoff)
            .map_or(0.0, |r| r.score);
        let sure = confident(confidence(first.score, answer), first, &self.bars);
        Some((first.entry, sure))
    }
}

/// Whether a message names a topic at all: its terms weigh more than words most entries share, or a pattern
/// matched (see `vague` in [`Matcher::decide_in`]).
pub(super) fn names_a_topic(mass: f32, r: &Ranked) -> bool {
    mass >= VAGUE_MASS || r.evidence >= STRONG_EVIDENCE
}
