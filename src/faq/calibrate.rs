//! Self-calibration at load time: the question variants of one entry are paraphrases of each other, so each
//! variant, held out of the index, is a user question whose right answer is known. Scoring the held-out
//! variants (leave-one-variant-out, in a few folds) gives this knowledge base's own score distributions: how
//! high the right entry scores when it is on top (questions to answer), and how high the best *other* entry
//! scores (what a question that no entry covers looks like). The answer bar is the one under which most of
//! them come out right (on the [`confidence`] of each: its score and its lead over the runner-up), and the
//! blend of BM25 into the ranking is the one that ranks the most held-out variants right. A held-out variant
//! is scored like a query: by its terms and by its meaning (the word vectors), without the held-out questions.

use serde::Serialize;

use super::rank::{Meaning, Mix, Views};
use super::semantic::Semantic;
use super::tokenize::Term;

/// Weight of the best entry's lead over the runner-up in its confidence. A message that one entry covers tends to
/// score clearly higher on it than on any other, while a message no entry covers tends to score alike on a few
/// neighbours, so the lead separates the two where the score alone does not. Chosen on the development sets
/// (0, 0.3, 0.6 and 1 tried; 1 scored highest there).
pub const LEAD_WEIGHT: f32 = 1.0;

/// How sure the matcher is of the best entry: its score plus [`LEAD_WEIGHT`] times its lead over the best other
/// entry's score (`runner_up`, 0 when there is none). The answer bars apply to it.
pub fn confidence(score: f32, runner_up: f32) -> f32 {
    score + LEAD_WEIGHT * (score - runner_up).max(0.0)
}

/// The decision bars of one knowledge base.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bars {
    /// [`confidence`] at or above which the best entry is answered.
    pub answer: f32,
    /// Lower confidence that still answers when strong specific evidence (an error-code pattern, rare terms)
    /// matched.
    pub partial: f32,
    /// A runner-up within this distance of the best, itself confident, makes the decision a choice.
    pub close: f32,
    /// Weight of relative BM25 in the ranking order, next to coverage.
    pub blend: f32,
}

impl Bars {
    /// The bars used when the knowledge base is too small or too large to calibrate on.
    pub const DEFAULT: Bars = Bars {
        answer: 0.5,
        partial: 0.4,
        close: 0.06,
        blend: 0.15,
    };
}

/// What calibration measured (for `faq lint`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Calibration {
    /// Held-out variants scored.
    pub held_out: usize,
    /// Share of them whose own entry ranked first.
    pub top1: f32,
    /// Share answered correctly with the chosen bars.
    pub answered: f32,
    /// Share of the "no entry covers it" stand-ins that the bars hand off.
    pub rejected: f32,
    /// Pairs of entries whose variants were taken for each other: (held-out entry, entry ranked first, count).
    pub confusions: Vec<(usize, usize, usize)>,
}

/// Folds of leave-one-variant-out.
const FOLDS: usize = 3;
/// Entries need this many questions (both languages) for one of them to be held out.
const MIN_QUESTIONS: usize = 4;
/// Knowledge bases above this many questions keep the default bars (rebuilding their indexes for each fold
/// would cost seconds).
const MAX_QUESTIONS: usize = 20_000;
/// At most about this many held-out variants are scored.
const MAX_PROBES: usize = 800;
/// How much a held-out variant answered right counts against a stand-in handed off when the answer bar is
/// placed. Most messages that reach the bar are questions the knowledge base answers: requests for a person,
/// other companies' products, requests for a general assistant and small talk are decided before it. The
/// stand-ins are also entries of the same FAQ, far closer to a variant than most real uncovered questions, so
/// each one handed off says less than a variant answered. Chosen on the development sets and their thinned
/// copies (0.7 and 0.8 scored lower).
const ANSWERED_WEIGHT: f32 = 0.75;
/// Width of the soft step by which a confidence counts as over or under a candidate bar: a bar is judged by
/// the probes near it too, so that one probe more or less does not move it far where the count is flat.
const SOFTNESS: f32 = 0.03;
/// Step between the candidate bars.
const BAR_STEP: f32 = 0.005;
/// Blends of BM25 into the ranking order that calibration tries (the first is the default).
const BLENDS: [f32; 5] = [0.15, 0.0, 0.3, 0.6, 1.0];
/// Lowest and highest answer bar calibration may choose.
const BAR_RANGE: (f32, f32) = (0.25, 0.75);

/// One held-out variant's outcome.
struct Probe {
    owner: usize,
    /// Entry ranked first and its score, if any.
    top: Option<(usize, f32)>,
    /// Best score of an entry other than the owner.
    best_other: f32,
    /// Second-best score of an entry other than the owner.
    second_other: f32,
    /// Whether the best entry other than the owner is a handoff entry.
    other_handoff: bool,
}

impl Probe {
    /// How sure the matcher is of the variant's own entry, when that entry ranked first: its score and its
    /// lead over the best other entry.
    fn right_confidence(&self) -> Option<f32> {
        self.top
            .filter(|(e, _)| *e == self.owner)
            .map(|(_, s)| confidence(s, self.best_other))
    }

    /// The variant as a stand-in for a question no entry covers: how sure the matcher is of the best other
    /// entry (its score and its lead over the next). A stand-in whose best other entry is a handoff entry is
    /// handed off whatever the bar (the rule for a handoff entry ranked first), so it scores below any bar:
    /// the bar need not rise to turn it away.
    fn stand_in_confidence(&self) -> f32 {
        if self.other_handoff {
            f32::NEG_INFINITY
        } else {
            confidence(self.best_other, self.second_other)
        }
    }
}

/// The answer bar for `probes`, with the confidences of the variants ranked right and of the stand-ins.
/// It is the candidate bar that makes the most probes come out right: variants ranked right answered (each
/// counting [`ANSWERED_WEIGHT`]), stand-ins handed off (each counting the rest), a confidence near the bar
/// counting partly on both sides ([`SOFTNESS`]). A stand-in closest to a handoff entry is handed off at any
/// bar and leaves it where it is.
fn answer_bar(probes: &[Probe]) -> (f32, Vec<f32>, Vec<f32>) {
    let right: Vec<f32> = probes.iter().filter_map(Probe::right_confidence).collect();
    let others: Vec<f32> = probes.iter().map(Probe::stand_in_confidence).collect();
    // Stand-ins handed off at any bar add the same to every candidate: only the others can move it.
    let movable: Vec<f32> = others.iter().copied().filter(|c| c.is_finite()).collect();
    if right.is_empty() || movable.is_empty() {
        return (Bars::DEFAULT.answer, right, others);
    }
    let over = |confidence: f32, bar: f32| 1.0 / (1.0 + ((bar - confidence) / SOFTNESS).exp());
    let come_out_right = |bar: f32| -> f32 {
        ANSWERED_WEIGHT * right.iter().map(|&c| over(c, bar)).sum::<f32>()
            + (1.0 - ANSWERED_WEIGHT) * movable.iter().map(|&c| 1.0 - over(c, bar)).sum::<f32>()
    };
    // The lowest of the best candidates.
    let mut best = (Bars::DEFAULT.answer, f32::NEG_INFINITY);
    let steps = ((BAR_RANGE.1 - BAR_RANGE.0) / BAR_STEP).round() as usize;
    for bar in (0..=steps).map(|i| BAR_RANGE.0 + i as f32 * BAR_STEP) {
        let outcome = come_out_right(bar);
        if outcome > best.1 {
            best = (bar, outcome);
        }
    }
    (best.0, right, others)
}

/// Calibrates the bars on the knowledge base's own question variants.
pub fn calibrate(
    questions: &[(u32, Vec<Term>)],
    keywords: &[Vec<Term>],
    answers: &[Vec<Term>],
    handoff: &[bool],
    semantic: &Semantic,
    unknown: impl Fn(&Term) -> f32 + Copy,
) -> (Bars, Calibration) {
    if questions.len() > MAX_QUESTIONS {
        return (Bars::DEFAULT, Calibration::default());
    }
    // Position of each question within its entry, and the entry's question count.
    let mut count = vec![0usize; keywords.len()];
    let mut position = Vec::with_capacity(questions.len());
    for (owner, _) in questions {
        position.push(count[*owner as usize]);
        count[*owner as usize] += 1;
    }
    // The first question (the title) stays in: it is what the entry is about. A handoff entry's questions
    // are never answered, so they say nothing of the answer bar.
    let eligible = |i: usize| {
        let owner = questions[i].0 as usize;
        count[owner] >= MIN_QUESTIONS
            && position[i] > 0
            && !questions[i].1.is_empty()
            && !handoff[owner]
    };
    // A large knowledge base is measured on an even sample of its variants.
    let stride = (0..questions.len()).filter(|&i| eligible(i)).count() / MAX_PROBES + 1;
    let fold_of = |i: usize| {
        (eligible(i) && i.is_multiple_of(stride))
            .then(|| (position[i] + questions[i].0 as usize) % FOLDS)
    };
    // Probes per blend of BM25 into the ranking order.
    let mut by_blend: Vec<Vec<Probe>> = BLENDS.iter().map(|_| Vec::new()).collect();
    for fold in 0..FOLDS {
        let held_out = |i: usize| fold_of(i) == Some(fold);
        let views = Views::build(questions, keywords, answers, held_out, |e| !handoff[e]);
        let meanings = semantic.holding_out(held_out);
        for (i, (owner, terms)) in questions.iter().enumerate() {
            if !held_out(i) {
                continue;
            }
            let owner = *owner as usize;
            let meaning = semantic
                .question(i)
                .map(|q| meanings.entry_scores(q))
                .unwrap_or_default();
            for (b, blend) in BLENDS.iter().enumerate() {
                let mix = Mix::for_query(*blend, !meaning.is_empty());
                let (ranked, _) = views.rank(terms, &[], unknown, dense(&meaning), mix);
                let mut others = ranked.iter().filter(|r| r.entry != owner);
                let (best, second) = (others.next(), others.next());
                by_blend[b].push(Probe {
                    owner,
                    top: ranked.first().map(|r| (r.entry, r.score)),
                    best_other: best.map_or(0.0, |r| r.score),
                    second_other: second.map_or(0.0, |r| r.score),
                    other_handoff: best.is_some_and(|r| handoff[r.entry]),
                });
            }
        }
    }
    if by_blend[0].len() < 20 {
        return (Bars::DEFAULT, Calibration::default());
    }
    // The blend that ranks the most held-out variants' own entries first (the default on a tie).
    let top1 = |probes: &[Probe]| {
        probes
            .iter()
            .filter(|p| p.top.is_some_and(|(e, _)| e == p.owner))
            .count()
    };
    let mut chosen = 0;
    for b in 1..BLENDS.len() {
        if top1(&by_blend[b]) > top1(&by_blend[chosen]) {
            chosen = b;
        }
    }
    let blend = BLENDS[chosen];
    let probes = &by_blend[chosen];
    let n = probes.len() as f32;
    let (answer, right, others) = answer_bar(probes);
    let bars = Bars {
        answer,
        partial: answer - 0.1,
        close: Bars::DEFAULT.close,
        blend,
    };
    let mut confusions: Vec<(usize, usize, usize)> = Vec::new();
    for p in probes {
        if let Some((top, _)) = p.top.filter(|(e, _)| *e != p.owner) {
            match confusions
                .iter_mut()
                .find(|c| (c.0, c.1) == (p.owner, top) || (c.0, c.1) == (top, p.owner))
            {
                Some(c) => c.2 += 1,
                None => confusions.push((p.owner, top, 1)),
            }
        }
    }
    confusions.sort_by_key(|c| std::cmp::Reverse(c.2));
    let calibration = Calibration {
        held_out: probes.len(),
        top1: top1(probes) as f32 / n,
        answered: right.iter().filter(|&&c| c >= answer).count() as f32 / n,
        rejected: others.iter().filter(|&&c| c < answer).count() as f32 / n,
        confusions,
    };
    (bars, calibration)
}

/// Per-entry scores as the ranking takes them (none for a variant without a meaning vector).
fn dense(scores: &[f32]) -> Meaning<'_> {
    if scores.is_empty() {
        Meaning::None
    } else {
        Meaning::Dense(scores)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_adds_the_lead_over_the_runner_up() {
        assert_eq!(confidence(0.5, 0.5), 0.5);
        assert!((confidence(0.5, 0.3) - (0.5 + LEAD_WEIGHT * 0.2)).abs() < 1e-6);
        // A runner-up scoring higher (another ranking order) takes nothing away.
        assert_eq!(confidence(0.4, 0.45), 0.4);
        assert!(confidence(0.45, 0.1) > confidence(0.5, 0.45));
    }

    /// A variant of entry 0 ranked right at `confidence` (half its score, half its lead over other entries
    /// that score nothing: as a stand-in, it is under any bar).
    fn ranked_right(confidence: f32) -> Probe {
        Probe {
            owner: 0,
            top: Some((0, confidence / 2.0)),
            best_other: 0.0,
            second_other: 0.0,
            other_handoff: false,
        }
    }

    /// A variant of entry 1 ranked wrong: its best other entry stands in at `confidence`.
    fn stand_in(confidence: f32, other_handoff: bool) -> Probe {
        Probe {
            owner: 1,
            top: Some((2, confidence)),
            best_other: confidence,
            second_other: confidence,
            other_handoff,
        }
    }

    #[test]
    fn the_bar_answers_the_variants_and_hands_off_the_stand_ins_between_them() {
        let mut probes: Vec<Probe> = (0..20)
            .map(|i| ranked_right(0.6 + 0.005 * i as f32))
            .collect();
        probes.extend((0..20).map(|i| stand_in(0.25 + 0.005 * i as f32, false)));
        let (bar, right, others) = answer_bar(&probes);
        assert_eq!((right.len(), others.len()), (20, 40), "{right:?}");
        assert!(bar > 0.35 && bar < 0.6, "{bar}");
    }

    #[test]
    fn where_variants_and_stand_ins_overlap_answering_the_variants_weighs_more() {
        // As many stand-ins as variants, all a little more confident than the variants: handing them off
        // would lose every variant.
        let mut probes: Vec<Probe> = (0..20).map(|_| ranked_right(0.5)).collect();
        probes.extend((0..20).map(|_| stand_in(0.55, false)));
        let (bar, _, _) = answer_bar(&probes);
        assert!(bar < 0.45, "{bar}");
        // Four times as many stand-ins outweigh them.
        probes.extend((0..60).map(|_| stand_in(0.55, false)));
        let (bar, _, _) = answer_bar(&probes);
        assert!(bar > 0.6, "{bar}");
    }

    #[test]
    fn stand_ins_closest_to_a_handoff_entry_do_not_raise_the_bar() {
        // Eighty stand-ins above twenty variants hold the bar over the variants; when seventy of them come
        // closest to a handoff entry, they are handed off at any bar and the variants are answered.
        let probes = |handoff: bool| -> Vec<Probe> {
            let right = (0..20).map(|_| ranked_right(0.5));
            let stand_ins = (0..80).map(|i| stand_in(0.55, handoff && i >= 10));
            right.chain(stand_ins).collect()
        };
        let (bar, _, _) = answer_bar(&probes(false));
        assert!(bar > 0.6, "{bar}");
        let (lower, _, others) = answer_bar(&probes(true));
        assert!(lower < 0.45, "{lower}");
        // Those seventy and the variants themselves (as stand-ins, nothing scores beside them) are under it.
        assert_eq!(others.iter().filter(|&&c| c < lower).count(), 90);
    }

    #[test]
    fn without_variants_ranked_right_the_bar_is_the_default() {
        let probes: Vec<Probe> = (0..30)
            .map(|i| stand_in(0.3 + 0.01 * i as f32, false))
            .collect();
        assert_eq!(answer_bar(&probes).0, Bars::DEFAULT.answer);
    }
}
