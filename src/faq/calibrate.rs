//! Self-calibration at load time: the question variants of one entry are paraphrases of each other, so each
//! variant, held out of the index, is a user question whose right answer is known. Scoring the held-out
//! variants (leave-one-variant-out, in a few folds) gives this knowledge base's own score distributions: how
//! high the right entry scores when it is on top (questions to answer), and how high the best *other* entry
//! scores (what a question that no entry covers looks like). The answer bar is set between the two (on the
//! [`confidence`] of each: its score and its lead over the runner-up), and the
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
/// Share of the held-out variants ranked right whose confidence may fall under the answer bar: users' own wording
/// is farther from the questions than a team's variants are from each other, so the bar sits well under most
/// of them.
const RIGHT_QUANTILE: f32 = 0.2;
/// Share of the stand-ins for uncovered questions (the best other entry, with its lead over the next) under the
/// answer bar: they are entries of the same FAQ, far closer to a held-out variant than most real off-topic
/// messages.
const OTHER_QUANTILE: f32 = 0.7;
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
/// It lies between the confidences that held-out variants reach on their own entry (all but the lowest fifth
/// of them answered) and those of the best other entry (most stand-ins handed off). Quantiles move little
/// when a few probes change, unlike the peak of an accuracy curve that is flat near its top.
fn answer_bar(probes: &[Probe]) -> (f32, Vec<f32>, Vec<f32>) {
    let mut right: Vec<f32> = probes.iter().filter_map(Probe::right_confidence).collect();
    let mut others: Vec<f32> = probes.iter().map(Probe::stand_in_confidence).collect();
    let answer = match (
        quantile(&mut right, RIGHT_QUANTILE),
        quantile(&mut others, OTHER_QUANTILE),
    ) {
        (Some(right), Some(other)) => ((right + other) / 2.0).clamp(BAR_RANGE.0, BAR_RANGE.1),
        _ => Bars::DEFAULT.answer,
    };
    (answer, right, others)
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

/// The `q` quantile of `values` (none when empty), sorting them in place.
fn quantile(values: &mut [f32], q: f32) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f32::total_cmp);
    let at = ((values.len() - 1) as f32 * q).round() as usize;
    Some(values[at])
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

    #[test]
    fn stand_ins_closest_to_a_handoff_entry_do_not_raise_the_bar() {
        // The variants of entry 0 rank it first at 0.35; those of entry 1 rank entry 2 first.
        let probe = |owner, best_other, other_handoff| Probe {
            owner,
            top: Some(if owner == 0 {
                (0, 0.35)
            } else {
                (2, best_other)
            }),
            best_other,
            second_other: best_other,
            other_handoff,
        };
        // Ten variants ranked right at confidence 0.65 (score 0.35, lead 0.3; as stand-ins, 0.05), and ten
        // ranked wrong, whose best other entry is at 0.2 to 0.56; with `handoff`, the five most confident of
        // those come closest to a handoff entry.
        let probes = |handoff: bool| -> Vec<Probe> {
            let right = (0..10).map(|_| probe(0, 0.05, false));
            let stand_ins = (0..10).map(|i| probe(1, 0.2 + 0.04 * i as f32, handoff && i >= 5));
            right.chain(stand_ins).collect()
        };
        let (bar, right, _) = answer_bar(&probes(false));
        assert_eq!(right.len(), 10);
        assert!((bar - (0.65 + 0.32) / 2.0).abs() < 1e-5, "{bar}");
        // Those five are handed off at any bar, so they no longer hold the bar up.
        let (lower, _, others) = answer_bar(&probes(true));
        assert!(lower < bar - 0.1, "{lower} vs {bar}");
        assert_eq!(
            others.iter().filter(|&&c| c < lower).count(),
            19,
            "{others:?}"
        );
    }

    #[test]
    fn quantiles_pick_the_value_at_that_share() {
        let values = vec![0.5, 0.1, 0.9, 0.3, 0.7];
        assert_eq!(quantile(&mut values.clone(), 0.0), Some(0.1));
        assert_eq!(quantile(&mut values.clone(), 0.5), Some(0.5));
        assert_eq!(quantile(&mut values.clone(), 0.7), Some(0.7));
        assert_eq!(quantile(&mut values.clone(), 1.0), Some(0.9));
        assert_eq!(quantile(&mut [], 0.5), None);
    }
}
