//! FAQ answers as an operator may send them (the inbox offers a case's FAQ suggestions as one-click replies in
//! the user's language), and teaching the FAQ from a case.

use serde::{Deserialize, Serialize};

/// One FAQ entry's answer in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestedAnswer {
    /// The FAQ entry id.
    pub faq: String,
    /// The entry's first question in that language (its title).
    pub question: String,
    /// The answer text.
    pub answer: String,
    /// The language of `question` and `answer` (`zh`, `en` or `ja`).
    pub lang: String,
}

/// The core's knowledge base as the inbox sees it.
pub trait AnswerBook: Send + Sync {
    /// The answer of entry `faq` in `lang` (the bot's closest language when it has no text in `lang`), or
    /// `None` for an unknown entry.
    fn answer(&self, faq: &str, lang: &str) -> Option<SuggestedAnswer>;

    /// Offers the user's question of `case` as a new question variant of entry `faq`, for `operator` (a
    /// `platform:id` account) who holds the case. `Ok` says what was written, `Err` why nothing was.
    fn teach(&self, case: &str, faq: &str, operator: &str) -> Result<String, String>;
}
