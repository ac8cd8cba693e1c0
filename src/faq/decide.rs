//! The FAQ decision: answer confidently, offer a few close choices, or hand off to a human. It looks at more
//! than the top score: how much of the query the best entry explains, how far ahead of the runner-up it is,
//! whether an error-code pattern matched, and whether the user asked for a person.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{RegexSet, RegexSetBuilder};
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
const CONFIDENT: f32 = 0.5;
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
/// How many of the best entries are ranked fully (enough for candidates and the choice check).
const RANKED_KEPT: usize = 8;
/// Share of the score that comes from the best single question rather than the entry as a whole.
const QUESTION_SHARE: f32 = 0.3;

thread_local! {
    /// Entry → position in the current query's score list; all `u32::MAX` between queries.
    static SLOTS: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Every entry's patterns in one automaton, and the entry each pattern belongs to.
struct Patterns {
    set: RegexSet,
    entry: Vec<usize>,
}

/// The matcher: normaliser, tokenizer, index and phrase lists of one knowledge base.
pub struct Matcher {
    entries: Vec<FaqEntry>,
    synonyms: SynonymRewriter,
    tokenizer: Tokenizer,
    index: Index,
    question_index: Index,
    /// Entry of each question document.
    question_owner: Vec<u32>,
    patterns: Patterns,
    human: PhraseSet,
    always_human: PhraseSet,
}

impl Matcher {
    /// Builds the matcher for checked entries.
    pub fn new(entries: Vec<FaqEntry>, lexicon: Lexicon) -> Matcher {
        let synonyms = SynonymRewriter::new(&lexicon.synonyms);
        let stopwords: Vec<String> = lexicon.stopwords.iter().map(|w| fold(w)).collect();
        // Keywords and synonym terms join jieba's dictionary so they are kept whole (在哪, 退信, 转人工).
        let domain_words: Vec<String> = entries
            .iter()
            .flat_map(|e| e.keywords.iter())
            .chain(lexicon.synonyms.iter().map(|s| &s.term))
            .map(|w| fold(w))
            .collect();
        // Each entry's questions and keywords, folded and rewritten once: the tokenizer first learns their
        // English stems, then analyses them.
        let prepare = |text: &String| synonyms.rewrite(&fold(text));
        let texts: Vec<(Vec<String>, Vec<String>)> = entries
            .iter()
            .map(|e| {
                let questions = e.questions.zh.iter().chain(&e.questions.en);
                (
                    questions.map(prepare).collect(),
                    e.keywords.iter().map(prepare).collect(),
                )
            })
            .collect();
        let mut tokenizer = Tokenizer::new(&stopwords, &domain_words);
        for text in texts.iter().flat_map(|(q, k)| q.iter().chain(k)) {
            tokenizer.learn_stems(text);
        }
        // Two views of the knowledge base: one document per entry (all its questions and keywords) and one
        // per question, so a query's words must also fit together in one way of asking.
        let mut entry_docs = Vec::with_capacity(entries.len());
        let mut question_docs = Vec::new();
        let mut question_owner = Vec::new();
        for (i, (questions, keywords)) in texts.iter().enumerate() {
            let mut all = Vec::new();
            for q in questions {
                let terms = tokenizer.terms(q);
                all.extend(terms.iter().cloned());
                question_docs.push(terms);
                question_owner.push(i as u32);
            }
            for k in keywords {
                all.extend(tokenizer.terms(k));
            }
            entry_docs.push(all);
        }
        let index = Index::build(entry_docs);
        let question_index = Index::build(question_docs);
        let (sources, owners): (Vec<&str>, Vec<usize>) = entries
            .iter()
            .enumerate()
            .flat_map(|(i, e)| e.patterns.iter().map(move |p| (p.as_str(), i)))
            .unzip();
        // Each pattern was compiled on its own when the FAQ was checked, so the set builds.
        let set = RegexSetBuilder::new(&sources)
            .case_insensitive(true)
            .build()
            .unwrap_or_else(|_| RegexSet::empty());
        let patterns = Patterns { set, entry: owners };
        Matcher {
            human: PhraseSet::new(&lexicon.human_phrases, &lexicon.not_human),
            always_human: PhraseSet::new(&lexicon.always_human, &[]),
            entries,
            synonyms,
            tokenizer,
            index,
            question_index,
            question_owner,
            patterns,
        }
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[FaqEntry] {
        &self.entries
    }

    /// Whether the message asks for a person.
    pub fn is_human_request(&self, text: &str) -> bool {
        self.human.found_in(&fold(text))
    }

    /// The decision in the query's own language.
    pub fn decide(&self, query: &str) -> Decision {
        self.decide_in(query, None)
    }

    /// The decision, answering in `lang` when given.
    pub fn decide_in(&self, query: &str, lang: Option<Lang>) -> Decision {
        let lang = lang.unwrap_or_else(|| Lang::detect(query));
        let folded = fold(query);
        let human_requested = self.human.found_in(&folded) || self.always_human.found_in(&folded);
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
            category: best
                .filter(|b| b.score >= LISTED)
                .map(|b| self.entries[b.entry].category.clone()),
            score: best.map(|b| round3(b.score)).unwrap_or(0.0),
            answer: None,
            candidates,
            human_requested,
        };
        let Some(best) = best else { return decision };
        if human_requested || !best.confident() {
            return decision;
        }
        let close = ranked[1..]
            .iter()
            .take_while(|r| r.confident() && best.order - r.order <= CLOSE)
            .count();
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

    /// The query's terms as the matcher sees them: (term, weight, whether any entry contains it).
    pub fn explain(&self, query: &str) -> Vec<(String, f32, bool)> {
        let text = self.synonyms.rewrite(&fold(query));
        let terms = self.tokenizer.terms(&text);
        let weighed = self
            .index
            .query(&terms, |t| self.tokenizer.unknown_weight(t));
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
                    super::tokenize::display(&t.text).to_string(),
                    round3(*w),
                    id.is_some(),
                )
            })
            .collect()
    }

    fn rank(&self, text: &str, terms: &[Term]) -> Vec<Ranked> {
        let weigh = |t: &Term| self.tokenizer.unknown_weight(t);
        let query: QueryTerms = self.index.query(terms, weigh);
        // Per entry: coverage by the entry as a whole, and by its best single question. Every question's
        // terms are also its entry's, so the entries the entry index touched are all that can score.
        let mut per_entry: Vec<(usize, f32, f32, f32)> = self
            .index
            .score(&query)
            .into_iter()
            .map(|(doc, s)| (doc as usize, s.matched, 0.0, s.bm25))
            .collect();
        let mut pattern_hit: Vec<usize> = Vec::new();
        for matched in self.patterns.set.matches(text).iter() {
            let entry = self.patterns.entry[matched];
            if !pattern_hit.contains(&entry) {
                pattern_hit.push(entry);
                if !per_entry.iter().any(|e| e.0 == entry) {
                    per_entry.push((entry, 0.0, 0.0, 0.0));
                }
            }
        }
        let qquery = self.question_index.query(terms, weigh);
        let question_scores = self.question_index.score(&qquery);
        SLOTS.with(|slots| {
            // Dense entry → position map, reset to empty after use (no hashing, no per-query buffer).
            let mut slots = slots.borrow_mut();
            if slots.len() < self.entries.len() {
                slots.resize(self.entries.len(), u32::MAX);
            }
            for (i, e) in per_entry.iter().enumerate() {
                slots[e.0] = i as u32;
            }
            for (doc, s) in question_scores {
                let owner = self.question_owner[doc as usize] as usize;
                let cov = if qquery.total > 0.0 {
                    s.matched / qquery.total
                } else {
                    0.0
                };
                if let Some(e) = per_entry.get_mut(slots[owner] as usize) {
                    e.2 = e.2.max(cov);
                }
            }
            for e in &per_entry {
                slots[e.0] = u32::MAX;
            }
        });
        let max_bm25 = per_entry.iter().map(|e| e.3).fold(f32::EPSILON, f32::max);
        let mut ranked: Vec<Ranked> = per_entry
            .into_iter()
            .map(|(entry, matched, question_cov, bm25)| {
                let hit = pattern_hit.contains(&entry);
                let entry_cov = if query.total > 0.0 {
                    matched / query.total
                } else {
                    0.0
                };
                let coverage = (1.0 - QUESTION_SHARE) * entry_cov + QUESTION_SHARE * question_cov;
                let bonus = if hit { PATTERN_BONUS } else { 0.0 };
                Ranked {
                    entry,
                    score: (coverage + bonus).min(1.0),
                    evidence: matched + if hit { STRONG_EVIDENCE } else { 0.0 },
                    order: coverage + bonus + 0.15 * bm25 / max_bm25,
                }
            })
            .collect();
        let by_order =
            |a: &Ranked, b: &Ranked| b.order.total_cmp(&a.order).then(a.entry.cmp(&b.entry));
        if ranked.len() > RANKED_KEPT {
            ranked.select_nth_unstable_by(RANKED_KEPT, by_order);
            ranked.truncate(RANKED_KEPT);
        }
        ranked.sort_by(by_order);
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

/// Phrases to look for, with exceptions: where an exception is the longest match at a place, the phrase
/// inside it does not count (人工 in 人工审核).
struct PhraseSet {
    automaton: Option<AhoCorasick>,
    /// Number of leading patterns that are phrases; the rest are exceptions.
    phrases: usize,
}

impl PhraseSet {
    fn new(phrases: &[String], exceptions: &[String]) -> PhraseSet {
        let fold_all = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(|p| fold(p))
                .filter(|p| !p.is_empty())
                .collect()
        };
        let mut patterns = fold_all(phrases);
        let count = patterns.len();
        patterns.extend(fold_all(exceptions));
        let automaton = if count == 0 {
            None
        } else {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .ok()
        };
        PhraseSet {
            automaton,
            phrases: count,
        }
    }

    /// Whether the folded text contains a phrase (ASCII phrases only as whole words).
    fn found_in(&self, text: &str) -> bool {
        let Some(automaton) = &self.automaton else {
            return false;
        };
        let bytes = text.as_bytes();
        automaton.find_iter(text).any(|m| {
            if m.pattern().as_usize() >= self.phrases {
                return false;
            }
            let word = |i: usize| bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric());
            let starts_ascii = bytes[m.start()].is_ascii_alphanumeric();
            let ends_ascii = bytes[m.end() - 1].is_ascii_alphanumeric();
            let glued_before = starts_ascii && m.start() > 0 && word(m.start() - 1);
            let glued_after = ends_ascii && word(m.end());
            !glued_before && !glued_after
        })
    }
}
