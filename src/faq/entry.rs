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

/// An entry with fewer questions than this in a language is matched with its answer too.
pub const THIN_QUESTIONS: usize = 3;

impl FaqEntry {
    /// The texts the matcher compares a message with: the entry's questions, language by language, and where
    /// an entry has fewer than [`THIN_QUESTIONS`] of them in a language (the fewest `faq lint` accepts), its
    /// answer in that language. A team that writes one or two questions per entry still says what the entry is
    /// about in the answer ("Return the car at any store; the deposit is released within a day"), and a
    /// message that shares none of those questions' words often shares the answer's.
    pub fn matched_texts(&self) -> Vec<&str> {
        let langs = [
            (&self.questions.zh, Some(&self.answer.zh)),
            (&self.questions.en, Some(&self.answer.en)),
        ];
        let ja = self
            .questions
            .ja
            .as_ref()
            .map(|q| (q, self.answer.ja.as_ref()));
        let mut texts = Vec::new();
        for (questions, answer) in langs.into_iter().chain(ja) {
            texts.extend(questions.iter().map(String::as_str));
            if questions.len() < THIN_QUESTIONS {
                if let Some(answer) = answer.map(|a| a.trim()).filter(|a| !a.is_empty()) {
                    texts.push(answer);
                }
            }
        }
        texts
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(zh: &[&str], en: &[&str], ja: Option<&[&str]>) -> FaqEntry {
        let strings = |q: &[&str]| q.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        FaqEntry {
            id: "deposit".into(),
            category: "deposit".into(),
            questions: Localized {
                zh: strings(zh),
                en: strings(en),
                ja: ja.map(strings),
            },
            keywords: Vec::new(),
            patterns: Vec::new(),
            answer: Localized {
                zh: "还车验车后押金一天内解冻。信用卡额度以银行为准。".into(),
                en: "The deposit is released within a day of the return check. Card limits depend on the bank."
                    .into(),
                ja: Some("返却後、保証金は1日以内に解除されます。詳しくはアプリで。".into()),
            },
            handoff: false,
            file: String::new(),
            line: 0,
        }
    }

    #[test]
    fn an_entry_with_fewer_than_three_questions_in_a_language_is_also_matched_by_its_answer() {
        let thin = entry(
            &["押金什么时候退"],
            &["when do i get my deposit back"],
            Some(&[]),
        );
        assert_eq!(
            thin.matched_texts(),
            [
                "押金什么时候退",
                "还车验车后押金一天内解冻。信用卡额度以银行为准。",
                "when do i get my deposit back",
                "The deposit is released within a day of the return check. Card limits depend on the bank.",
                "返却後、保証金は1日以内に解除されます。詳しくはアプリで。",
            ]
        );
        // With enough questions of its own in a language, the answer is not borrowed there; without Japanese
        // questions at all, the entry takes no Japanese text.
        let full = entry(
            &["押金什么时候退", "押金多久解冻", "还车后押金怎么退"],
            &["deposit refund", "when is my deposit released"],
            None,
        );
        assert_eq!(
            full.matched_texts(),
            [
                "押金什么时候退",
                "押金多久解冻",
                "还车后押金怎么退",
                "deposit refund",
                "when is my deposit released",
                "The deposit is released within a day of the return check. Card limits depend on the bank.",
            ]
        );
    }
}
