//! Ranking entries for a query over two views of the knowledge base: one document per entry (all its
//! questions and keywords) and one per question, so the query's words must also fit together in one way of
//! asking. Built once for serving, and again with some questions held out when the matcher calibrates itself.

use super::index::{Index, QueryTerms};
use super::tokenize::Term;

/// Share of the score that comes from the best single question rather than the entry as a whole.
const QUESTION_SHARE: f32 = 0.3;
/// Extra coverage an entry gets when one of its patterns matches.
pub const PATTERN_BONUS: f32 = 0.6;
/// Evidence (IDF mass) a pattern match counts as.
pub const STRONG_EVIDENCE: f32 = 7.0;
/// Share of a match that a term found only in an entry's answer (not its questions or keywords) counts for:
/// the answer holds the entry's own vocabulary ("reset link", "recovery code") that users repeat.
const ANSWER_SHARE: f32 = 0.5;
/// How many of the best entries are ranked fully (enough for candidates and the choice check).
const RANKED_KEPT: usize = 8;
/// How many of the semantically closest entries join the ranking even when they share no term with the query.
const SEMANTIC_JOINERS: usize = 3;
/// With meaning computed per entry on demand, how many of the best entries by terms it re-ranks.
const MEANING_RERANKED: usize = 32;

/// A query's meaning-level similarity to the entries.
pub enum Meaning<'a> {
    /// The query has no meaning vector.
    None,
    /// Every entry's similarity, computed up front (smaller knowledge bases): the closest entries join the
    /// ranking even when they share no term with the query.
    Dense(&'a [f32]),
    /// One entry's similarity on demand (large knowledge bases): meaning re-ranks the best entries by terms.
    OnDemand(&'a dyn Fn(usize) -> f32),
}

/// Share of the score that comes from meaning (the word vectors) when the query has a vector: more than terms,
/// since users who tell their situation share few words with an entry's questions. Chosen among 0.5–0.8 on the
/// development sets and the knowledge bases held out before this choice, with the best entry's lead in its
/// confidence.
pub const MEANING_SHARE: f32 = 0.7;

/// How the signals are mixed into one score for one query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mix {
    /// Weight of relative BM25 in the ranking order, next to the score (calibrated per knowledge base).
    pub blend: f32,
    /// Share of the score that comes from meaning rather than term coverage.
    pub semantic: f32,
}

impl Mix {
    /// The mix for a query with (or without) a meaning vector.
    pub fn for_query(blend: f32, has_meaning: bool) -> Mix {
        Mix {
            blend,
            semantic: if has_meaning { MEANING_SHARE } else { 0.0 },
        }
    }
}

thread_local! {
    /// Entry → position in the current query's score list; all `u32::MAX` between queries.
    static SLOTS: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// One entry's standing for a query.
#[derive(Debug, Clone, Copy)]
pub struct Ranked {
    /// Entry number.
    pub entry: usize,
    /// Share of the query the entry explains (plus pattern evidence), 0..=1.
    pub score: f32,
    /// IDF mass of the query's terms the entry contains.
    pub evidence: f32,
    /// Sort key: the score plus BM25 relative to the best entry's, weighted by the knowledge base's
    /// calibrated blend.
    pub order: f32,
}

/// The entry and question indexes of a knowledge base (or of part of it).
pub struct Views {
    index: Index,
    question_index: Index,
    /// Entry of each question document.
    question_owner: Vec<u32>,
    entries: usize,
    /// Whether each entry answers (is no handoff entry).
    answering: Vec<bool>,
}

impl Views {
    /// Indexes the questions (owner entry, terms) and each entry's keyword terms, leaving out the questions
    /// for which `held_out` is true. Only the entries `answering` (not handoff entries) make the term
    /// statistics: a knowledge base's handoff entries mark topics it leaves to people, and should not change
    /// how specific a word is among the topics it answers.
    pub fn build(
        questions: &[(u32, Vec<Term>)],
        keywords: &[Vec<Term>],
        answers: &[Vec<Term>],
        held_out: impl Fn(usize) -> bool,
        answering: impl Fn(usize) -> bool,
    ) -> Views {
        let mut entry_docs: Vec<Vec<Term>> = keywords.to_vec();
        let mut question_docs = Vec::with_capacity(questions.len());
        let mut question_owner = Vec::with_capacity(questions.len());
        for (i, (owner, terms)) in questions.iter().enumerate() {
            if held_out(i) {
                continue;
            }
            entry_docs[*owner as usize].extend(terms.iter().cloned());
            question_docs.push(terms.clone());
            question_owner.push(*owner);
        }
        Views {
            index: Index::build_with_context(
                entry_docs,
                answers.to_vec(),
                ANSWER_SHARE,
                &answering,
            ),
            question_index: Index::build(question_docs, |q| answering(question_owner[q] as usize)),
            question_owner,
            entries: keywords.len(),
            answering: (0..keywords.len()).map(answering).collect(),
        }
    }

    /// The query's terms weighed by the entry index (for `explain`).
    pub fn weigh(&self, terms: &[Term], unknown: impl Fn(&Term) -> f32) -> QueryTerms {
        self.index.query(terms, unknown)
    }

    /// The best entries for a query, best first, and the query's IDF mass (what its terms weigh together);
    /// `pattern_hits` are entries whose patterns matched and `meaning` the query's meaning-level similarity to
    /// the entries.
    pub fn rank(
        &self,
        terms: &[Term],
        pattern_hits: &[usize],
        unknown: impl Fn(&Term) -> f32 + Copy,
        meaning: Meaning<'_>,
        mix: Mix,
    ) -> (Vec<Ranked>, f32) {
        let dense: &[f32] = match meaning {
            Meaning::Dense(scores) => scores,
            _ => &[],
        };
        let query: QueryTerms = self.index.query(terms, unknown);
        // Per entry: coverage by the entry as a whole, and by its best single question. Every question's
        // terms are also its entry's, so the entries the entry index touched are all that can score.
        let mut per_entry: Vec<(usize, f32, f32, f32)> = self
            .index
            .score(&query)
            .into_iter()
            .map(|(doc, s)| (doc as usize, s.matched, 0.0, s.bm25))
            .collect();
        for &entry in pattern_hits.iter().chain(&closest(dense, mix)) {
            if !per_entry.iter().any(|e| e.0 == entry) {
                per_entry.push((entry, 0.0, 0.0, 0.0));
            }
        }
        let qquery = self.question_index.query(terms, unknown);
        let question_scores = self.question_index.coverage(&qquery);
        SLOTS.with(|slots| {
            // Dense entry → position map, reset to empty after use (no hashing, no per-query buffer).
            let mut slots = slots.borrow_mut();
            if slots.len() < self.entries {
                slots.resize(self.entries, u32::MAX);
            }
            for (i, e) in per_entry.iter().enumerate() {
                slots[e.0] = i as u32;
            }
            // The best question's IDF mass first, its share of the query once per entry after (dividing by
            // the same positive total keeps the order, so the maximum is the same).
            for (doc, s) in question_scores {
                let owner = self.question_owner[doc as usize] as usize;
                if let Some(e) = per_entry.get_mut(slots[owner] as usize) {
                    e.2 = e.2.max(s.matched);
                }
            }
            for e in per_entry.iter_mut() {
                slots[e.0] = u32::MAX;
                e.2 = if qquery.total > 0.0 {
                    e.2 / qquery.total
                } else {
                    0.0
                };
            }
        });
        let max_bm25 = per_entry.iter().map(|e| e.3).fold(f32::EPSILON, f32::max);
        let coverage = |matched: f32, question_cov: f32| {
            let entry_cov = if query.total > 0.0 {
                matched / query.total
            } else {
                0.0
            };
            (1.0 - QUESTION_SHARE) * entry_cov + QUESTION_SHARE * question_cov
        };
        let ranked_with = |(entry, matched, question_cov, bm25): (usize, f32, f32, f32),
                           meaning: f32| {
            let hit = pattern_hits.contains(&entry);
            let blended = (1.0 - mix.semantic) * coverage(matched, question_cov)
                + mix.semantic * meaning.max(0.0);
            let bonus = if hit { PATTERN_BONUS } else { 0.0 };
            Ranked {
                entry,
                score: (blended + bonus).min(1.0),
                evidence: matched + if hit { STRONG_EVIDENCE } else { 0.0 },
                order: blended + bonus + mix.blend * bm25 / max_bm25,
            }
        };
        let mut ranked: Vec<Ranked> = match meaning {
            Meaning::None => per_entry.into_iter().map(|e| ranked_with(e, 0.0)).collect(),
            Meaning::Dense(scores) => per_entry
                .into_iter()
                .map(|e| ranked_with(e, scores.get(e.0).copied().unwrap_or(0.0)))
                .collect(),
            Meaning::OnDemand(score) => {
                // Meaning is worked out for the best entries by terms only.
                let mut by_terms: Vec<(f32, usize)> = per_entry
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (ranked_with(*e, 0.0).order, i))
                    .collect();
                if by_terms.len() > MEANING_RERANKED {
                    by_terms.select_nth_unstable_by(MEANING_RERANKED, |a, b| b.0.total_cmp(&a.0));
                    by_terms.truncate(MEANING_RERANKED);
                }
                by_terms
                    .into_iter()
                    .map(|(_, i)| ranked_with(per_entry[i], score(per_entry[i].0)))
                    .collect()
            }
        };
        let by_order =
            |a: &Ranked, b: &Ranked| b.order.total_cmp(&a.order).then(a.entry.cmp(&b.entry));
        // The best entries that answer, and the best handoff entry (it decides only when it comes first), so
        // that handoff entries never crowd answers out of the ranking.
        let mut handoff: Option<Ranked> = None;
        ranked.retain(|r| {
            if self.answering[r.entry] {
                return true;
            }
            if handoff.is_none_or(|h| by_order(r, &h).is_lt()) {
                handoff = Some(*r);
            }
            false
        });
        if ranked.len() > RANKED_KEPT {
            ranked.select_nth_unstable_by(RANKED_KEPT, by_order);
            ranked.truncate(RANKED_KEPT);
        }
        ranked.extend(handoff);
        ranked.sort_by(by_order);
        (ranked, query.total)
    }
}

/// The entries most similar in meaning to the query, when meaning counts at all.
fn closest(semantic: &[f32], mix: Mix) -> Vec<usize> {
    if mix.semantic <= 0.0 || semantic.is_empty() {
        return Vec::new();
    }
    let mut best: Vec<usize> = Vec::with_capacity(SEMANTIC_JOINERS + 1);
    for (entry, s) in semantic.iter().enumerate() {
        if *s <= 0.0 {
            continue;
        }
        let at = best.partition_point(|&b| semantic[b] >= *s);
        if at < SEMANTIC_JOINERS {
            best.insert(at, entry);
            best.truncate(SEMANTIC_JOINERS);
        }
    }
    best
}
