//! `faq lint`: what a support person should look at in a knowledge base — entries users will confuse (with
//! scores), entries with too few question variants, and variants that add nothing because they say what
//! another variant of the entry already says.

use super::decide::Matcher;
use super::Lang;

/// Fewer question variants than this in a language is too few to match the ways users ask.
const MIN_VARIANTS: usize = 3;
/// Two variants of one entry sharing this share of all their terms say the same thing.
const SAME_TERMS: f32 = 0.8;
/// A question of one entry on which another entry scores this close to (or above) its own entry (within 15 %).
const CONFUSABLE: f32 = 0.85;

/// One warning.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// `file:line` of the entry concerned.
    pub at: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// The lint report.
#[derive(Debug, Clone)]
pub struct Lint {
    /// Warnings, by entry in file order.
    pub warnings: Vec<Warning>,
    /// One line: entries, warnings and the calibrated bars.
    pub summary: String,
}

/// Lints a loaded knowledge base.
pub fn lint(m: &Matcher) -> Lint {
    let entries = m.entries();
    let mut warnings = Vec::new();
    let (bars, calibration) = m.calibration();
    for (i, e) in entries.iter().enumerate() {
        let at = format!("{}:{}", e.file, e.line);
        let japanese = e.questions.ja.is_some().then_some(Lang::Ja);
        for lang in [Lang::Zh, Lang::En].into_iter().chain(japanese) {
            let n = e.questions.get(lang).len();
            // A handoff entry only marks a topic the knowledge base leaves to people: a few questions do.
            if n < MIN_VARIANTS && !e.handoff {
                warnings.push(Warning {
                    at: at.clone(),
                    message: format!(
                        "entry {} has only {n} {} question(s): add the ways users ask (at least {MIN_VARIANTS})",
                        e.id,
                        lang.code()
                    ),
                });
            }
            let sets: Vec<Vec<String>> = e
                .questions
                .get(lang)
                .iter()
                .map(|q| m.term_set(q))
                .collect();
            for a in 0..sets.len() {
                for b in a + 1..sets.len() {
                    if overlap(&sets[a], &sets[b]) >= SAME_TERMS {
                        warnings.push(Warning {
                            at: at.clone(),
                            message: format!(
                                "entry {}: questions \"{}\" and \"{}\" use the same words; reword one the way another user would ask",
                                e.id,
                                e.questions.get(lang)[a],
                                e.questions.get(lang)[b]
                            ),
                        });
                    }
                }
            }
        }
        // Questions of this entry on which another entry scores about as well.
        let mut worst: Option<(usize, f32, f32, &str)> = None;
        for q in e.questions.zh.iter().chain(&e.questions.en) {
            let ranked = m.ranked(q);
            let own = ranked.iter().find(|r| r.0 == i).map_or(0.0, |r| r.1);
            if let Some(other) = ranked.iter().find(|r| r.0 != i) {
                if other.1 >= CONFUSABLE * own && other.1 >= bars.partial {
                    let gap = own - other.1;
                    if worst.is_none_or(|w| gap < w.1 - w.2) {
                        worst = Some((other.0, own, other.1, q));
                    }
                }
            }
        }
        if let Some((other, own, score, q)) = worst {
            warnings.push(Warning {
                at: at.clone(),
                message: format!(
                    "entry {} is confusable with {}: its question \"{q}\" scores {own:.2} on it and {score:.2} on {}; make the questions say what differs",
                    e.id, entries[other].id, entries[other].id
                ),
            });
        }
    }
    for &(a, b, count) in calibration.confusions.iter().filter(|c| c.2 >= 2) {
        let e = &entries[a];
        warnings.push(Warning {
            at: format!("{}:{}", e.file, e.line),
            message: format!(
                "entries {} and {} are confusable: {count} of their question variants, held out, ranked the other entry first",
                e.id, entries[b].id
            ),
        });
    }
    let summary = format!(
        "{} entries, {} warnings; calibrated bars: answer at {:.2}, BM25 blend {:.2} ({} held-out variants: {:.0}% ranked their own entry first, {:.0}% answered right, {:.0}% of stand-ins for uncovered questions handed off)",
        entries.len(),
        warnings.len(),
        bars.answer,
        bars.blend,
        calibration.held_out,
        calibration.top1 * 100.0,
        calibration.answered * 100.0,
        calibration.rejected * 100.0
    );
    Lint { warnings, summary }
}

/// Shared terms over all terms of two sorted term sets (Jaccard).
fn overlap(a: &[String], b: &[String]) -> f32 {
    let shared = a.iter().filter(|t| b.binary_search(t).is_ok()).count();
    let union = a.len() + b.len() - shared;
    if union == 0 {
        return 0.0;
    }
    shared as f32 / union as f32
}
