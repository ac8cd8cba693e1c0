//! The FAQ decision: answer confidently, offer a few close choices, or hand off to a human. It looks at more
//! than the top score: how much of the query the best entry explains, how far ahead of the runner-up it is,
//! whether an error-code pattern matched, and whether the user asked for a person.

use std::borrow::Cow;

use regex::{RegexSet, RegexSetBuilder};
use serde::Serialize;

use super::calibrate::{calibrate, confidence, Bars, Calibration};
use super::entry::{FaqEntry, Lexicon};
use super::normalize::{fold, SynonymRewriter};
use super::phrases::PhraseSet;
use super::rank::{Meaning, Mix, Ranked, Views, MEANING_SHARE, STRONG_EVIDENCE};
use super::semantic::Semantic;
use super::smalltalk::{self, SmallTalk};
use super::tokenize::{Term, Tokenizer};
use super::typo::{Homophones, Misspellings};
use super::wordvec::WordVectors;
use super::Lang;

mod explain;
mod handoff;

use handoff::names_a_topic;

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
    /// Greetings, thanks, "are you a robot", jokes, goodbyes: a short reply in `answer`, no entry, no case.
    Smalltalk,
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
    /// The language the answer is in: the user's, except English for a Japanese user when the answered entry has
    /// no Japanese answer.
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
    /// Whether the message is closest to a handoff entry: a topic the knowledge base knows and leaves to
    /// people of `category`.
    #[serde(skip)]
    pub left_to_people: bool,
    /// How sure the matcher is of the best entry (its score and its lead over the runner-up; what the answer
    /// bar applies to), 0 when no entry scored or a handoff entry came first.
    #[serde(skip)]
    pub confidence: f32,
}

/// Up to this many questions, a query is compared in meaning with every question, so an entry that shares
/// no word with the query can still be found; above it, only with the questions of the best entries by
/// terms, which keeps decisions on very large knowledge bases fast.
const DENSE_MEANING_QUESTIONS: usize = 4_000;

/// A query whose terms weigh less than one word found in half of the entries (its IDF, ln 2 at any size)
/// names nothing specific.
const VAGUE_MASS: f32 = std::f32::consts::LN_2;

/// Entries below this score are not listed as candidates.
const LISTED: f32 = 0.2;
const MAX_CANDIDATES: usize = 3;

/// Every entry's patterns in one automaton, and the entry each pattern belongs to.
struct Patterns {
    set: RegexSet,
    entry: Vec<usize>,
}

/// The matcher: normaliser, tokenizer, index and phrase lists of one knowledge base, with the decision bars
/// it calibrated for itself.
pub struct Matcher {
    entries: Vec<FaqEntry>,
    synonyms: SynonymRewriter,
    tokenizer: Tokenizer,
    homophones: Homophones,
    misspellings: Misspellings,
    views: Views,
    semantic: Semantic,
    patterns: Patterns,
    human: PhraseSet,
    always_human: PhraseSet,
    /// Other products this knowledge base never mentions.
    other_products: PhraseSet,
    /// Requests for a general assistant that this knowledge base never mentions.
    off_topic: PhraseSet,
    smalltalk: SmallTalk,
    bars: Bars,
    calibration: Calibration,
    /// Entries whose questions contain an always-human phrase: (entry, phrase).
    conflicts: Vec<(usize, String)>,
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
        // An always-human phrase in a question cancels its entry: noted here for `faq check`.
        let prepare = |text: &String| synonyms.rewrite(&fold(text));
        // The same exceptions hold: 报警器 (an alarm) contains 报警 (calling the police).
        let always_human = PhraseSet::new(&lexicon.always_human, &lexicon.not_human);
        let mut conflicts: Vec<(usize, String)> = Vec::new();
        let mut texts: Vec<(Vec<String>, Vec<String>)> = Vec::with_capacity(entries.len());
        // Folded questions as written (before synonym rewriting) for the word vectors.
        let mut plain: Vec<(u32, String)> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let mut questions = Vec::new();
            // An answer's sentence that names an always-human topic cancels nothing: only questions do.
            let mut asked = e
                .questions
                .zh
                .iter()
                .chain(&e.questions.en)
                .chain(e.questions.ja.iter().flatten());
            if let Some(phrase) = asked
                .find_map(|q| always_human.first_in(&fold(q)))
                .filter(|_| !e.handoff)
            {
                conflicts.push((i, phrase));
            }
            for q in e.matched_texts() {
                let folded = fold(q);
                plain.push((i as u32, folded.clone()));
                questions.push(synonyms.rewrite(&folded));
            }
            texts.push((questions, e.keywords.iter().map(prepare).collect()));
        }
        let mut tokenizer = Tokenizer::new(&stopwords, &domain_words);
        for text in texts.iter().flat_map(|(q, k)| q.iter().chain(k)) {
            tokenizer.learn_stems(text);
        }
        let mut questions: Vec<(u32, Vec<Term>)> = Vec::new();
        let mut keywords: Vec<Vec<Term>> = Vec::with_capacity(entries.len());
        for (i, (qs, ks)) in texts.iter().enumerate() {
            questions.extend(qs.iter().map(|q| (i as u32, tokenizer.terms(q))));
            keywords.push(ks.iter().flat_map(|k| tokenizer.terms(k)).collect());
        }
        let answers: Vec<Vec<Term>> = entries
            .iter()
            .map(|e| {
                let mut terms = tokenizer.terms(&prepare(&e.answer.zh));
                terms.extend(tokenizer.terms(&prepare(&e.answer.en)));
                if let Some(ja) = &e.answer.ja {
                    terms.extend(tokenizer.terms(&prepare(ja)));
                }
                terms
            })
            .collect();
        let handoff: Vec<bool> = entries.iter().map(|e| e.handoff).collect();
        let views = Views::build(&questions, &keywords, &answers, |_| false, |e| !handoff[e]);
        // The words a typo in a message is put right to: the knowledge base's own, as written (questions,
        // keywords, answers and the lexicon's synonyms).
        let entry_texts: Vec<String> = entries
            .iter()
            .flat_map(|e| e.keywords.iter().chain([&e.answer.zh, &e.answer.en]))
            .map(|t| fold(t))
            .collect();
        let synonym_texts: Vec<String> = lexicon
            .synonyms
            .iter()
            .flat_map(|s| s.variants.iter().chain([&s.term]))
            .map(|t| fold(t))
            .collect();
        let questions_as_written = || plain.iter().map(|(_, q)| q.as_str());
        let typo_texts: Vec<&str> = questions_as_written()
            .chain(entry_texts.iter().chain(&synonym_texts).map(String::as_str))
            .collect();
        // A product the knowledge base names itself (in a question, keyword or answer) is none of the others.
        let answers_ja: Vec<String> = entries
            .iter()
            .flat_map(|e| &e.answer.ja)
            .map(|a| fold(a))
            .collect();
        let texts = || {
            questions_as_written().chain(entry_texts.iter().chain(&answers_ja).map(String::as_str))
        };
        let other_products =
            PhraseSet::absent_from(&lexicon.other_products, &lexicon.not_products, texts());
        let off_topic = PhraseSet::absent_from(&lexicon.off_topic, &[], texts());
        let homophones = Homophones::build(typo_texts.iter().copied(), &tokenizer);
        let misspellings =
            Misspellings::build(typo_texts.iter().copied(), |word| tokenizer.stem(word));
        let plain: Vec<(u32, &str)> = plain.iter().map(|(o, t)| (*o, t.as_str())).collect();
        let semantic = Semantic::build(&plain, entries.len(), |run| tokenizer.words(run));
        let (bars, calibration) =
            calibrate(&questions, &keywords, &answers, &handoff, &semantic, |t| {
                tokenizer.unknown_weight(t)
            });
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
            always_human,
            other_products,
            off_topic,
            smalltalk: SmallTalk::new(),
            entries,
            synonyms,
            tokenizer,
            homophones,
            misspellings,
            views,
            semantic,
            patterns,
            bars,
            calibration,
            conflicts,
        }
    }

    /// The bars this knowledge base calibrated for itself, and what calibration measured.
    pub fn calibration(&self) -> (Bars, &Calibration) {
        (self.bars, &self.calibration)
    }

    /// Entries that can never be answered because their questions contain an always-human phrase.
    pub fn conflicts(&self) -> impl Iterator<Item = (&FaqEntry, &str)> {
        self.conflicts
            .iter()
            .map(|(i, p)| (&self.entries[*i], p.as_str()))
    }

    /// A message folded with its typos put right (for the word vectors), and with synonyms rewritten too (for
    /// terms and patterns).
    fn prepare<'t>(&self, folded: &'t str) -> (Cow<'t, str>, String) {
        let sounds = self.homophones.fix(folded, &self.tokenizer);
        let table = WordVectors::builtin();
        let spelt = self.misspellings.fix(
            &sounds,
            |word| table.knows_english(word),
            |word| self.tokenizer.stem(word),
        );
        let fixed = spelt.map_or(sounds, Cow::Owned);
        let text = self.synonyms.rewrite(&fixed);
        (fixed, text)
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

    /// Whether the folded message is about something else than this knowledge base's product: another
    /// company's product, or a request for a general assistant, that it never mentions. No entry answers it.
    fn elsewhere(&self, folded: &str) -> bool {
        self.other_products.found_in(folded) || self.off_topic.found_in(folded)
    }

    /// The decision, answering in `lang` when given.
    pub fn decide_in(&self, query: &str, lang: Option<Lang>) -> Decision {
        let lang = lang.unwrap_or_else(|| Lang::detect(query));
        let folded = fold(query);
        let human_requested = self.human.found_in(&folded) || self.always_human.found_in(&folded);
        if !human_requested {
            let filler = |word: &str| self.tokenizer.is_filler(word);
            if let Some(kind) = self.smalltalk.classify(&folded, filler) {
                return Decision {
                    query: query.to_string(),
                    lang,
                    action: Action::Smalltalk,
                    faq: None,
                    category: None,
                    score: 0.0,
                    answer: Some(smalltalk::reply(kind, lang).to_string()),
                    candidates: Vec::new(),
                    human_requested: false,
                    left_to_people: false,
                    confidence: 0.0,
                };
            }
        }
        let elsewhere = self.elsewhere(&folded);
        let (folded, text) = self.prepare(&folded);
        let Ranking {
            ranked,
            with_meaning,
            mass,
        } = self.rank(&folded, &text);
        // A handoff entry is never offered: it has no answer.
        let answerable: Vec<&Ranked> = ranked
            .iter()
            .filter(|r| !self.entries[r.entry].handoff)
            .collect();
        let candidates: Vec<Candidate> = answerable
            .iter()
            .filter(|r| r.score >= LISTED)
            .take(MAX_CANDIDATES)
            .map(|r| Candidate {
                faq: self.entries[r.entry].id.clone(),
                score: round3(r.score),
                question: self.entries[r.entry].title(lang).to_string(),
            })
            .collect();
        let best = answerable.first().copied();
        // The best entry's lead counts over the runner-up in score (the ranking order may differ from it): the
        // next answer it competes with. A handoff entry close behind does not count, as it never competes
        // for the answer; it only decides when it is ranked first.
        let runner_up = answerable
            .iter()
            .skip(1)
            .map(|r| r.score)
            .fold(0.0, f32::max);
        let sure = best.map_or(0.0, |b| confidence(b.score, runner_up));
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
            left_to_people: false,
            confidence: sure,
        };
        if let Some((first, sure)) = self.handoff_first(&ranked, mass, elsewhere) {
            // The message is closest to a question the knowledge base leaves to people: it is not answered
            // from an entry ranked below. When the handoff entry is as sure as an answer would have to be, the
            // topic is known and goes to that entry's category.
            if sure {
                decision.category = Some(self.entries[first].category.clone());
                decision.left_to_people = true;
            }
            decision.confidence = 0.0;
            return decision;
        }
        let Some(best) = best else { return decision };
        let bars = &self.bars;
        if human_requested || elsewhere || !confident(sure, best, bars) {
            return decision;
        }
        // Mixing in meaning brings every entry's score closer to the others': a tie is closer too.
        let margin = if with_meaning {
            bars.close * (1.0 - MEANING_SHARE)
        } else {
            bars.close
        };
        // A message made only of words that most entries share ("邮箱" to a mail service's FAQ), with no
        // pattern matched, says too little to pick one entry however the scores fall: every entry that clears
        // the bar is offered.
        let vague = !names_a_topic(mass, best);
        let close = answerable[1..]
            .iter()
            // A runner-up close to the best leads nothing: its confidence is its score.
            .take_while(|r| {
                confident(r.score, r, bars) && (vague || best.score - r.score <= margin)
            })
            .count();
        if close > 0 {
            decision.action = Action::Choose;
            decision.candidates.truncate(close + 1);
            return decision;
        }
        let entry = &self.entries[best.entry];
        decision.action = Action::Answer;
        // A Japanese user gets the English answer of an entry that has no Japanese one, and is told so by `lang`.
        decision.lang = entry.answer.served(lang);
        decision.faq = Some(entry.id.clone());
        decision.answer = Some(entry.answer.get(lang).trim().to_string());
        decision
    }

    /// Ranks entries for a query: `folded` as the user wrote it (for the word vectors), `text` after synonym
    /// rewriting (for terms and patterns).
    fn rank(&self, folded: &str, text: &str) -> Ranking {
        // Jieba cuts the text once for the terms; the word vectors take the same words when synonym rewriting
        // left the text as written.
        let mut cut: Vec<Vec<&str>> = Vec::new();
        let terms = &self.tokenizer.terms_and_words(text, Some(&mut cut))[..];
        let mut pattern_hits: Vec<usize> = Vec::new();
        for matched in self.patterns.set.matches(text).iter() {
            let entry = self.patterns.entry[matched];
            if !pattern_hits.contains(&entry) {
                pattern_hits.push(entry);
            }
        }
        let query = if folded == text && !cut.is_empty() {
            let mut runs = cut.into_iter();
            self.semantic
                .query(text, |_| runs.next().unwrap_or_default())
        } else {
            self.semantic.query(folded, |run| self.tokenizer.words(run))
        };
        let mix = Mix::for_query(self.bars.blend, query.is_some());
        let unknown = |t: &Term| self.tokenizer.unknown_weight(t);
        let (ranked, mass) = match &query {
            None => self
                .views
                .rank(terms, &pattern_hits, unknown, Meaning::None, mix),
            Some(q) if self.semantic.questions() <= DENSE_MEANING_QUESTIONS => {
                let scores = self.semantic.entry_scores(q);
                self.views
                    .rank(terms, &pattern_hits, unknown, Meaning::Dense(&scores), mix)
            }
            Some(q) => {
                let score = |entry: usize| self.semantic.entry_score(q, entry);
                self.views.rank(
                    terms,
                    &pattern_hits,
                    unknown,
                    Meaning::OnDemand(&score),
                    mix,
                )
            }
        };
        Ranking {
            ranked,
            with_meaning: query.is_some(),
            mass,
        }
    }
}

/// The entries ranked for a query, and what the decision needs to know about the query.
struct Ranking {
    /// Best first.
    ranked: Vec<Ranked>,
    /// Whether meaning (the word vectors) took part.
    with_meaning: bool,
    /// IDF mass of the query's terms.
    mass: f32,
}

/// Whether an entry is sure enough (`sure`, its confidence) to be answered, by this knowledge base's bars.
fn confident(sure: f32, r: &Ranked, bars: &Bars) -> bool {
    sure >= bars.answer || (sure >= bars.partial && r.evidence >= STRONG_EVIDENCE)
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}
