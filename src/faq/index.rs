//! The inverted index over FAQ entries: BM25 term weights plus the IDF-weighted share of a query's terms that
//! an entry covers (how much of what the user said the entry explains).

use std::collections::HashMap;

use foldhash::HashMapExt;

use super::tokenize::Term;

thread_local! {
    /// Per-thread accumulator, all zero between queries, and the list of documents a query touched (empty
    /// between queries), so scoring allocates no per-document buffer.
    static SCRATCH: std::cell::RefCell<(Vec<EntryScore>, Vec<u32>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// BM25 term-frequency saturation.
const K1: f32 = 1.2;
/// BM25 length normalisation.
const B: f32 = 0.5;
/// Weight of a character bigram relative to a whole word.
pub const BIGRAM_WEIGHT: f32 = 0.5;

/// Postings for every term of the knowledge base.
pub struct Index {
    term_ids: foldhash::HashMap<String, u32>,
    /// Per term: (entry, term frequency in the entry, share of the term's weight that counts as coverage,
    /// BM25's denominator `tf + norm` of the entry).
    postings: Vec<Vec<(u32, f32, f32, f32)>>,
    idf: Vec<f32>,
    /// Number of documents.
    docs: usize,
    /// The IDF a term that no entry contains would have (the most specific possible).
    unknown_idf: f32,
}

/// How one entry scores against one query.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntryScore {
    /// BM25 relevance.
    pub bm25: f32,
    /// IDF mass of the query's terms this entry contains.
    pub matched: f32,
}

/// A query's terms with their weights, looked up once.
pub struct QueryTerms {
    /// (term id when known, weight × IDF, is a bigram).
    pub terms: Vec<(Option<u32>, f32, bool)>,
    /// Total IDF mass of the query (the coverage denominator).
    pub total: f32,
}

impl Index {
    /// Indexes one document (term list) per entry; only the documents `counted` make the term statistics.
    pub fn build(docs: Vec<Vec<Term>>, counted: impl Fn(usize) -> bool) -> Index {
        Index::build_with_context(docs, Vec::new(), 0.0, counted)
    }

    /// Indexes one document per entry, plus context terms per entry (its answer) that are not in the
    /// document: they count as `context_weight` of a match towards coverage and nothing towards BM25. Only
    /// the documents `counted` make the term statistics (IDF and the average length): every document can
    /// match, but how specific a word is is measured on those.
    pub fn build_with_context(
        docs: Vec<Vec<Term>>,
        context: Vec<Vec<Term>>,
        context_weight: f32,
        counted: impl Fn(usize) -> bool,
    ) -> Index {
        let mut term_ids: foldhash::HashMap<String, u32> = foldhash::HashMap::new();
        let mut postings: Vec<Vec<(u32, f32, f32, f32)>> = Vec::new();
        let mut doc_len = Vec::with_capacity(docs.len());
        let mut context = context.into_iter();
        for (doc, terms) in docs.into_iter().enumerate() {
            let mut tf: HashMap<u32, f32> = HashMap::new();
            let mut len = 0.0;
            for term in terms {
                let next = term_ids.len() as u32;
                let id = *term_ids.entry(term.text).or_insert(next);
                if id as usize == postings.len() {
                    postings.push(Vec::new());
                }
                let w = if term.bigram { BIGRAM_WEIGHT } else { 1.0 };
                *tf.entry(id).or_default() += w;
                len += w;
            }
            let mut extra: Vec<u32> = Vec::new();
            if context_weight > 0.0 {
                for term in context.next().unwrap_or_default() {
                    let next = term_ids.len() as u32;
                    let id = *term_ids.entry(term.text).or_insert(next);
                    if id as usize == postings.len() {
                        postings.push(Vec::new());
                    }
                    if !tf.contains_key(&id) && !extra.contains(&id) {
                        extra.push(id);
                    }
                }
            }
            for (id, f) in tf {
                postings[id as usize].push((doc as u32, f, 1.0, f32::NAN));
            }
            for id in extra {
                postings[id as usize].push((doc as u32, 0.0, context_weight, f32::NAN));
            }
            doc_len.push(len);
        }
        let n = (0..doc_len.len()).filter(|&d| counted(d)).count().max(1) as f32;
        let idf = postings
            .iter()
            .map(|p| idf_of(n, p.iter().filter(|e| counted(e.0 as usize)).count() as f32))
            .collect();
        let counted_len: f32 = (0..doc_len.len())
            .filter(|&d| counted(d))
            .map(|d| doc_len[d])
            .sum();
        let avg_len = (counted_len / n).max(1.0);
        let norm: Vec<f32> = doc_len
            .iter()
            .map(|len| K1 * (1.0 - B + B * len / avg_len))
            .collect();
        for posting in postings.iter_mut().flatten() {
            posting.3 = posting.1 + norm[posting.0 as usize];
        }
        Index {
            term_ids,
            postings,
            idf,
            docs: norm.len(),
            unknown_idf: idf_of(n, 0.0),
        }
    }

    /// Looks the query's distinct terms up. A term no entry contains counts with the highest IDF, scaled by
    /// `unknown_weight` (how topical the word is in general language).
    pub fn query(&self, terms: &[Term], unknown_weight: impl Fn(&Term) -> f32) -> QueryTerms {
        let mut out: Vec<(Option<u32>, f32, bool)> = Vec::with_capacity(terms.len());
        let mut seen: Vec<&str> = Vec::with_capacity(terms.len());
        let mut total = 0.0;
        for term in terms {
            if seen.contains(&term.text.as_str()) {
                continue;
            }
            seen.push(&term.text);
            let id = self.term_ids.get(&term.text).copied();
            let idf = match id {
                Some(i) => self.idf[i as usize],
                None => self.unknown_idf * unknown_weight(term),
            };
            let weight = if term.bigram { BIGRAM_WEIGHT } else { 1.0 } * idf;
            total += weight;
            out.push((id, weight, term.bigram));
        }
        QueryTerms { terms: out, total }
    }

    /// Scores every document that shares a term with the query: (document, score), in no order.
    pub fn score(&self, query: &QueryTerms) -> Vec<(u32, EntryScore)> {
        self.accumulate::<true>(query)
    }

    /// Like [`Index::score`], with `matched` only (`bm25` left at 0), for views that rank by coverage.
    pub fn coverage(&self, query: &QueryTerms) -> Vec<(u32, EntryScore)> {
        self.accumulate::<false>(query)
    }

    fn accumulate<const BM25: bool>(&self, query: &QueryTerms) -> Vec<(u32, EntryScore)> {
        // Dense accumulation plus a list of touched documents: no hashing on the hot path, and the cost
        // stays proportional to the postings read even for a very large knowledge base.
        SCRATCH.with(|scratch| {
            let (acc, touched) = &mut *scratch.borrow_mut();
            if acc.len() < self.docs {
                acc.resize(self.docs, EntryScore::default());
            }
            for &(id, weight, _) in &query.terms {
                let Some(id) = id else { continue };
                for &(doc, tf, share, denominator) in &self.postings[id as usize] {
                    let s = &mut acc[doc as usize];
                    if s.matched == 0.0 {
                        touched.push(doc);
                    }
                    if BM25 {
                        s.bm25 += weight * tf * (K1 + 1.0) / denominator;
                    }
                    s.matched += weight * share;
                }
            }
            // Leave the scratch all zero and the list empty for the next query: only touched slots were
            // written.
            touched
                .drain(..)
                .map(|doc| (doc, std::mem::take(&mut acc[doc as usize])))
                .collect()
        })
    }
}

fn idf_of(n: f32, df: f32) -> f32 {
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(words: &[&str]) -> Vec<Term> {
        words
            .iter()
            .map(|w| Term {
                text: w.to_string(),
                bigram: false,
            })
            .collect()
    }

    #[test]
    fn coverage_is_the_matched_mass_of_a_full_score() {
        let index = Index::build_with_context(
            vec![
                doc(&["card", "lost", "lost"]),
                doc(&["card", "activate"]),
                doc(&["pin"]),
            ],
            vec![doc(&["freeze"]), doc(&[]), doc(&["card"])],
            0.5,
            |_| true,
        );
        let query = index.query(&doc(&["card", "lost", "freeze", "unheard"]), |_| 1.0);
        let mut full = index.score(&query);
        let mut matched = index.coverage(&query);
        full.sort_by_key(|(d, _)| *d);
        matched.sort_by_key(|(d, _)| *d);
        assert_eq!(full.iter().map(|(d, _)| *d).collect::<Vec<_>>(), [0, 1, 2]);
        for ((d, f), (e, m)) in full.iter().zip(&matched) {
            assert_eq!(d, e);
            assert_eq!(f.matched, m.matched);
            assert_eq!(m.bm25, 0.0);
        }
        // The entry with the repeated word and the context word explains the most and ranks first by BM25.
        assert!(full[0].1.matched > full[1].1.matched && full[0].1.bm25 > full[1].1.bm25);
        // Context terms count towards coverage, never towards BM25.
        assert_eq!(full[2].1.bm25, 0.0);
        assert!(full[2].1.matched > 0.0);
        // The scratch is left clean: the same query scores the same again.
        let again = index.score(&query);
        assert_eq!(again.len(), 3);
    }
}
