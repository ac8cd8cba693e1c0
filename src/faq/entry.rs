//! The FAQ data model: entries and the lexicon (synonyms, stop words, handoff phrases), as written in TOML.

use serde::{Deserialize, Serialize};

use super::Lang;

/// A text in the bot's languages: Chinese and English always, Japanese where the entry has it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized<T> {
    /// Chinese.
    pub zh: T,
    /// English.
    pub en: T,
    /// Japanese, optional: where it is missing, Japanese users get the English text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja: Option<T>,
}

impl<T> Localized<T> {
    /// The value for a language (English for Japanese when the entry has no Japanese).
    pub fn get(&self, lang: Lang) -> &T {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
            Lang::Ja => self.ja.as_ref().unwrap_or(&self.en),
        }
    }

    /// The language [`Localized::get`] really gives for `lang`.
    pub fn served(&self, lang: Lang) -> Lang {
        match (lang, &self.ja) {
            (Lang::Ja, None) => Lang::En,
            _ => lang,
        }
    }
}

/// One FAQ entry: a problem users ask about and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaqEntry {
    /// Stable id (`mail-bounce-554`), quoted in `ask --json` and in cases.
    pub id: String,
    /// `account`, `mail`, `features`, `service` or `enterprise`; routes handoffs to a team.
    pub category: String,
    /// Example questions users ask, in Chinese and English (and optionally Japanese). The first is the entry's
    /// title.
    pub questions: Localized<Vec<String>>,
    /// Extra search terms (error words, product names) that count like question words.
    pub keywords: Vec<String>,
    /// Regexes for error codes and other exact strings; a match is strong evidence for the entry.
    pub patterns: Vec<String>,
    /// The answer in Chinese and English (and optionally Japanese); empty for a handoff entry.
    pub answer: Localized<String>,
    /// A handoff entry (`handoff = true`): its questions belong to the product but the knowledge base does not
    /// answer them, so a message closest to it goes to a person of its category instead of another entry's
    /// answer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub handoff: bool,
    /// File the entry came from (for messages).
    #[serde(skip)]
    pub file: String,
    /// Line of the entry's `[[faq]]` header (for messages).
    #[serde(skip)]
    pub line: usize,
}

impl FaqEntry {
    /// The question shown for this entry (choice buttons, candidate lists).
    pub fn title(&self, lang: Lang) -> &str {
        self.questions
            .get(lang)
            .first()
            .map(String::as_str)
            .unwrap_or(&self.id)
    }
}

/// A group of spellings that mean the same thing; every variant is rewritten to `term` before matching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Synonym {
    /// The spelling used in the index.
    pub term: String,
    /// Other spellings, typos and translations users write.
    pub variants: Vec<String>,
}

/// Words and phrases that steer matching, kept with the FAQ so support staff can edit them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Lexicon {
    /// Variant spellings rewritten to one term.
    pub synonyms: Vec<Synonym>,
    /// Filler words that carry no topic (怎么办, please, ...).
    pub stopwords: Vec<String>,
    /// Explicit requests for a human; a message that is mostly one of these is always a handoff.
    pub human_phrases: Vec<String>,
    /// Phrases that contain a human phrase but are not a request for one (人工审核, 人工智能).
    pub not_human: Vec<String>,
    /// Topics the bot never answers itself (refunds, complaints); a message naming one is a handoff.
    pub always_human: Vec<String>,
    /// Other companies' products and services (支付宝, Netflix); a message naming one that the knowledge base
    /// never mentions is about that product, so no entry answers it.
    pub other_products: Vec<String>,
    /// Phrases that contain the name of another product but do not name it (北京东路 holds 京东).
    pub not_products: Vec<String>,
    /// Requests for a general assistant rather than a support desk (天气预报, write a poem); a message making
    /// one that the knowledge base never mentions is about something else, so no entry answers it.
    pub off_topic: Vec<String>,
}
