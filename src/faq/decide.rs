//! The FAQ decision: answer confidently, offer a few close choices, or hand off to a human. It looks at more
//! than the top score: how much of the query the best entry explains, how far ahead of the runner-up it is,
//! whether an error-code pattern matched, and whether the user asked for a person.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexBuilder};
use serde::Serialize;

use super::entry::{FaqEntry, Lexicon};
use super::index::{Index, QueryTerms};
use super::normalize::{fold, SynonymRewriter};
use super::tokenize::{Term, Tokenizer};
use super::Lang;

/// What the bot should do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// One entry fits with confidence: answer it.
    Answer,
    /// A few entries fit about equally: offer them as choices.
    Choose,
    /// Nothing fits, or the user wants a person.
    Handoff,
}

/// A possible entry and its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Entry id.
    pub faq: String,
    /// Score in 0..=1 (share of the query the entry explains, plus pattern evidence).
    pub score: f32,
    /// The entry's title question in the answer language.
    pub question: String,
}

/// One decision, explainable through its candidates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The message as received.
    pub query: String,
    /// The language the answer is in.
    pub lang: Lang,
    /// Answer, choose or handoff.
    pub action: Action,
    /// The answered entry (action `answer`).
    pub faq: Option<String>,
    /// Category of the best entry, when one fits at all (routes a handoff to a team).
    pub category: Option<String>,
    /// Score of the best entry.
    pub score: f32,
    /// The answer text (action `answer`).
    pub answer: Option<String>,
    /// The best entries, best first.
    pub candidates: Vec<Candidate>,
    /// Whether the user explicitly asked for a human (or named a topic only humans handle).
    #[serde(skip)]
    pub human_requested: bool,
}

/// Coverage at or above which the best entry is a confident answer.
const CONFIDENT: f32 = 0.62;
/// Lower coverage still answers when this much specific evidence (IDF mass) matched.
const PARTIAL: f32 = 0.4;
const STRONG_EVIDENCE: f32 = 7.0;
/// A runner-up within this distance of the best, itself confident, makes the decision a choice.
const CLOSE: f32 = 0.06;
/// Entries below this score are not listed as candidates.
const LISTED: f32 = 0.2;
/// Extra coverage an entry gets when one of its patterns matches.
const PATTERN_BONUS: f32 = 0.6;
const MAX_CANDIDATES: usize = 3;

struct Pattern {
    entry: usize,
    regex: Regex,
}

/// The matcher: normaliser, tokenizer, index and phrase lists of one knowledge base.
pub struct Matcher {
    entries: Vec<FaqEntry>,
    synonyms: SynonymRewriter,
    tokenizer: Tokenizer,
    index: Index,
    patterns: Vec<Pattern>,
    human: Option<AhoCorasick>,
    always_human: Option<AhoCorasick>,
}

impl Matcher {
    /// Builds the matcher for checked entries.
    pub fn new(entries: Vec<FaqEntry>, lexicon: Lexicon) -> Matcher {
        let synonyms = SynonymRewriter::new(&lexicon.synonyms);
        let stopwords: Vec<String> = lexicon.stopwords.iter().map(|w| fold(w)).collect();
        let tokenizer = Tokenizer::new(&stopwords, &[]);
        let docs = entries
            .iter()
            .map(|e| {
                let mut text = String::new();
                for q in e.questions.zh.iter().chain(&e.questions.en).chain(&e.keywords) {
                    text.push_str(q);
                    text.push('\n');
                }
                tokenizer.terms(&synonyms.rewrite(&fold(&text)))
            })
            .collect();
        let index = Index::build(docs);
        let patterns = entries
            .iter()
            .enumerate()
            .flat_map(|(i, e)| e.patterns.iter().map(move |p| (i, p)))
            .filter_map(|(entry, p)| {
                let regex = RegexBuilder::new(p).case_insensitive(true).build().ok()?;
                Some(Pattern { entry, regex })
            })
            .collect();
        Matcher {
            human: phrase_automaton(&lexicon.human_phrases),
            always_human: phrase_automaton(&lexicon.always_human),
            entries,
            synonyms,
            tokenizer,
            index,
            patterns,
        }
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[FaqEntry] {
        &self.entries
    }

    /// Whether the message asks for a person.
    pub fn is_human_request(&self, text: &str) -> bool {
        contains_phrase(self.human.as_ref(), &fold(text))
    }

    /// The decision in the query's own language.
    pub fn decide(&self, query: &str) -> Decision {
        self.decide_in(query, None)
    }

    /// The decision, answering in `lang` when given.
    pub fn decide_in(&self, query: &str, lang: Option<Lang>) -> Decision {
        let lang = lang.unwrap_or_else(|| Lang::detect(query));
        let folded = fold(query);
        let human_requested = contains_phrase(self.human.as_ref(), &folded)
            || contains_phrase(self.always_human.as_ref(), &folded);
        let text = self.synonyms.rewrite(&folded);
        let terms = self.tokenizer.terms(&text);
        let ranked = self.rank(&text, &terms);
        let candidates: Vec<Candidate> = ranked
            .iter()
            .filter(|r| r.score >= LISTED)
            .take(MAX_CANDIDATES)
            .map(|r| Candidate {
                faq: self.entries[r.entry].id.clone(),
                score: round3(r.score),
                question: self.entries[r.entry].title(lang).to_string(),
            })
            .collect();
        let best = ranked.first();
        let mut decision = Decision {
            query: query.to_string(),
            lang,
            action: Action::Handoff,
            faq: None,
            category: best.filter(|b| b.score >= LISTED).map(|b| self.entries[b.entry].category.clone()),
            score: best.map(|b| round3(b.score)).unwrap_or(0.0),
            answer: None,
            candidates,
            human_requested,
        };
        let Some(best) = best else { return decision };
        if human_requested || !best.confident() {
            return decision;
        }
        let close = ranked[1..].iter().take_while(|r| r.confident() && best.score - r.score <= CLOSE).count();
        if close > 0 {
            decision.action = Action::Choose;
            decision.candidates.truncate(close + 1);
            return decision;
        }
        let entry = &self.entries[best.entry];
        decision.action = Action::Answer;
        decision.faq = Some(entry.id.clone());
        decision.answer = Some(entry.answer.get(lang).trim().to_string());
        decision
    }

    fn rank(&self, text: &str, terms: &[Term]) -> Vec<Ranked> {
        let query: QueryTerms = self.index.query(terms);
        let scores = self.index.score(&query);
        let mut pattern_hits = vec![false; self.entries.len()];
        for p in &self.patterns {
            if p.regex.is_match(text) {
                pattern_hits[p.entry] = true;
            }
        }
        let max_bm25 = scores.values().map(|s| s.bm25).fold(0.0f32, f32::max).max(f32::EPSILON);
        let mut ranked: Vec<Ranked> = scores
            .iter()
            .map(|(&doc, s)| (doc as usize, s.matched, s.bm25))
            .chain(
                pattern_hits
                    .iter()
                    .enumerate()
                    .filter(|(i, hit)| **hit && !scores.contains_key(&(*i as u32)))
                    .map(|(i, _)| (i, 0.0, 0.0)),
            )
            .map(|(entry, matched, bm25)| {
                let coverage = if query.total > 0.0 { matched / query.total } else { 0.0 };
                let bonus = if pattern_hits[entry] { PATTERN_BONUS } else { 0.0 };
                Ranked {
                    entry,
                    score: (coverage + bonus).min(1.0),
                    evidence: matched + if pattern_hits[entry] { STRONG_EVIDENCE } else { 0.0 },
                    order: coverage + bonus + 0.15 * bm25 / max_bm25,
                }
            })
            .collect();
        ranked.sort_by(|a, b| b.order.total_cmp(&a.order).then(a.entry.cmp(&b.entry)));
        ranked
    }
}

#[derive(Debug, Clone, Copy)]
struct Ranked {
    entry: usize,
    score: f32,
    evidence: f32,
    order: f32,
}

impl Ranked {
    fn confident(&self) -> bool {
        self.score >= CONFIDENT || (self.score >= PARTIAL && self.evidence >= STRONG_EVIDENCE)
    }
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

fn phrase_automaton(phrases: &[String]) -> Option<AhoCorasick> {
    let folded: Vec<String> = phrases.iter().map(|p| fold(p)).filter(|p| !p.is_empty()).collect();
    if folded.is_empty() {
        return None;
    }
    AhoCorasickBuilder::new().match_kind(MatchKind::LeftmostLongest).build(folded).ok()
}

/// Whether the text contains a phrase; ASCII phrases only match whole words.
fn contains_phrase(automaton: Option<&AhoCorasick>, text: &str) -> bool {
    let Some(automaton) = automaton else { return false };
    let bytes = text.as_bytes();
    automaton.find_iter(text).any(|m| {
        let word = |i: usize| bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric());
        let starts_ascii = bytes[m.start()].is_ascii_alphanumeric();
        let ends_ascii = bytes[m.end() - 1].is_ascii_alphanumeric();
        !(starts_ascii && m.start() > 0 && word(m.start() - 1)) && !(ends_ascii && word(m.end()))
    })
}
