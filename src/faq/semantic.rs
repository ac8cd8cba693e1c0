//! Meaning-level similarity between a query and each entry's questions, from the built-in word vectors.
//! Every question's vector is centred on the mean of this knowledge base's questions before comparing: what
//! all of one FAQ's questions share (its product, its register) says nothing about which entry fits, and
//! removing it spreads the entries apart. An entry's score joins its closest question with the centroid of all
//! its questions: the variants together say what the entry is about, which one variant alone may miss.

use super::cosine::{cosine, cosines, to_fixed, ONE};
use super::wordvec::WordVectors;

/// Question vectors of one knowledge base.
pub struct Semantic {
    table: &'static WordVectors,
    dims: usize,
    /// Mean of the normalised question vectors.
    mean: Vec<f32>,
    /// One centred, normalised vector per question in fixed point (all zero for a question with no known
    /// word).
    vectors: Vec<i16>,
    /// First question of each entry, and one past the last question (questions come grouped by entry).
    starts: Vec<u32>,
    /// Per entry, the normalised sum of its questions' vectors in fixed point (all zero for an entry without
    /// a question vector).
    centroids: Vec<i16>,
}

/// Share of the centroid in an entry's score (the closest question has the rest). Chosen on the development
/// sets (0.3 to 0.5 scored alike there); the centroid alone scored lower than the closest question alone.
const CENTROID_SHARE: f32 = 0.3;

impl Semantic {
    /// Vectors for `questions` (entry, folded text; grouped by entry in entry order) of a knowledge base with
    /// `entries` entries.
    pub fn build<'t>(
        questions: &[(u32, &'t str)],
        entries: usize,
        cut: impl Fn(&'t str) -> Vec<&'t str> + Copy,
    ) -> Semantic {
        let table = WordVectors::builtin();
        let dims = table.dims();
        let mut vectors = vec![0.0f32; questions.len() * dims];
        let mut mean = vec![0.0f32; dims];
        let mut known = 0usize;
        for (row, (_, text)) in vectors.chunks_exact_mut(dims).zip(questions) {
            if table.embed(text, cut, row) && normalise(row) {
                known += 1;
                for (m, x) in mean.iter_mut().zip(row.iter()) {
                    *m += x;
                }
            }
        }
        if known > 0 {
            mean.iter_mut().for_each(|m| *m /= known as f32);
        }
        for row in vectors.chunks_exact_mut(dims) {
            if row.iter().any(|x| *x != 0.0) {
                center(row, &mean);
            }
        }
        let starts: Vec<u32> = (0..=entries as u32)
            .map(|e| questions.partition_point(|(o, _)| *o < e) as u32)
            .collect();
        let vectors: Vec<i16> = vectors.iter().map(|x| to_fixed(*x)).collect();
        let mut semantic = Semantic {
            table,
            dims,
            mean,
            vectors,
            starts,
            centroids: Vec::new(),
        };
        semantic.centroids = semantic.centroids_without(|_| false);
        semantic
    }

    /// Per entry, the normalised sum of its question vectors but those `held_out`, in fixed point.
    fn centroids_without(&self, held_out: impl Fn(usize) -> bool) -> Vec<i16> {
        let entries = self.starts.len() - 1;
        let mut centroids = Vec::with_capacity(entries * self.dims);
        let mut sum = vec![0.0f32; self.dims];
        for entry in 0..entries {
            let (from, to) = self.range(entry);
            sum.fill(0.0);
            for i in (from..to).filter(|&i| !held_out(i)) {
                let row = &self.vectors[i * self.dims..(i + 1) * self.dims];
                for (s, x) in sum.iter_mut().zip(row) {
                    *s += *x as f32 / ONE;
                }
            }
            if !normalise(&mut sum) {
                sum.fill(0.0);
            }
            centroids.extend(sum.iter().map(|x| to_fixed(*x)));
        }
        centroids
    }

    /// The knowledge base with the questions `held_out` left out (calibration asks them as queries).
    pub fn holding_out<F: Fn(usize) -> bool>(&self, held_out: F) -> HeldOut<'_, F> {
        HeldOut {
            semantic: self,
            centroids: self.centroids_without(&held_out),
            held_out,
        }
    }

    /// The questions of `entry`.
    fn range(&self, entry: usize) -> (usize, usize) {
        (self.starts[entry] as usize, self.starts[entry + 1] as usize)
    }

    /// The query's centred, normalised vector (fixed point); `None` when the table knows none of its words.
    pub fn query<'t>(
        &self,
        text: &'t str,
        cut: impl FnMut(&'t str) -> Vec<&'t str>,
    ) -> Option<Vec<i16>> {
        let mut v = vec![0.0f32; self.dims];
        if !self.table.embed(text, cut, &mut v) || !normalise(&mut v) {
            return None;
        }
        center(&mut v, &self.mean);
        Some(v.iter().map(|x| to_fixed(*x)).collect())
    }

    /// The vector of question `i` (for calibration, which holds questions out and asks them as queries).
    pub fn question(&self, i: usize) -> Option<&[i16]> {
        let row = &self.vectors[i * self.dims..(i + 1) * self.dims];
        row.iter().any(|x| *x != 0).then_some(row)
    }

    /// Number of questions.
    pub fn questions(&self) -> usize {
        self.vectors.len() / self.dims
    }

    /// How close in meaning `query` is to `entry` (0 when nothing compares).
    pub fn entry_score(&self, query: &[i16], entry: usize) -> f32 {
        let (from, to) = self.range(entry);
        let mut closest = Vec::with_capacity(to - from);
        cosines(
            &self.vectors[from * self.dims..to * self.dims],
            query,
            &mut closest,
        );
        let centroid = cosine(
            &self.centroids[entry * self.dims..(entry + 1) * self.dims],
            query,
        );
        join(closest.into_iter().fold(0.0, f32::max), centroid)
    }

    /// [`Semantic::entry_score`] of every entry.
    pub fn entry_scores(&self, query: &[i16]) -> Vec<f32> {
        self.scores(query, |_| false, &self.centroids)
    }

    /// Per entry, the cosine of `query` with the closest of its questions but those `held_out`, joined with
    /// its cosine with the entry's centroid (from `centroids`). Every cosine is taken in one pass over the
    /// vectors.
    fn scores(
        &self,
        query: &[i16],
        held_out: impl Fn(usize) -> bool,
        centroids: &[i16],
    ) -> Vec<f32> {
        let entries = self.starts.len() - 1;
        let mut questions = Vec::with_capacity(self.questions());
        cosines(&self.vectors, query, &mut questions);
        let mut centres = Vec::with_capacity(entries);
        cosines(centroids, query, &mut centres);
        (0..entries)
            .map(|entry| {
                let (from, to) = self.range(entry);
                let closest = (from..to)
                    .filter(|&i| !held_out(i))
                    .map(|i| questions[i])
                    .fold(0.0, f32::max);
                join(closest, centres[entry])
            })
            .collect()
    }
}

/// An entry's meaning score from its closest question's cosine and its centroid's.
fn join(closest: f32, centroid: f32) -> f32 {
    (1.0 - CENTROID_SHARE) * closest + CENTROID_SHARE * centroid.max(0.0)
}

/// A knowledge base's question vectors with some questions held out.
pub struct HeldOut<'s, F> {
    semantic: &'s Semantic,
    held_out: F,
    /// The entries' centroids without the held-out questions.
    centroids: Vec<i16>,
}

impl<F: Fn(usize) -> bool> HeldOut<'_, F> {
    /// [`Semantic::entry_scores`] without the held-out questions.
    pub fn entry_scores(&self, query: &[i16]) -> Vec<f32> {
        self.semantic.scores(query, &self.held_out, &self.centroids)
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scales `v` to length 1; false (and `v` unchanged) for a zero vector.
fn normalise(v: &mut [f32]) -> bool {
    let norm = dot(v, v).sqrt();
    if norm <= f32::EPSILON {
        return false;
    }
    v.iter_mut().for_each(|x| *x /= norm);
    true
}

/// Removes `mean` from normalised `v` and normalises again (a vector equal to the mean becomes zero).
fn center(v: &mut [f32], mean: &[f32]) {
    for (x, m) in v.iter_mut().zip(mean) {
        *x -= m;
    }
    if !normalise(v) {
        v.fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Single characters, as a stand-in for jieba.
    fn words(run: &str) -> Vec<&str> {
        run.char_indices()
            .map(|(i, c)| &run[i..i + c.len_utf8()])
            .collect()
    }

    #[test]
    fn a_paraphrase_finds_its_entry_without_a_shared_word() {
        let questions = [
            (0, "forgot my password"),
            (0, "忘记密码"),
            (1, "how do i get a refund"),
            (1, "退款"),
            (2, "change the language of the app"),
            (2, "切换语言"),
        ];
        let sem = Semantic::build(&questions, 3, words);
        let best = |text: &'static str| {
            let q = sem.query(text, words).unwrap();
            let scores = sem.entry_scores(&q);
            (0..3).max_by(|a, b| scores[*a].total_cmp(&scores[*b]))
        };
        assert_eq!(best("money back please"), Some(1));
        assert_eq!(best("return my payment"), Some(1));
        assert_eq!(best("switch the app to chinese"), Some(2));
    }

    #[test]
    fn held_out_questions_do_not_count() {
        let questions = [(0, "forgot my password"), (1, "refund")];
        let sem = Semantic::build(&questions, 2, words);
        let q = sem.question(0).unwrap().to_vec();
        assert!(sem.entry_scores(&q)[0] > 0.99);
        assert_eq!(sem.entry_score(&q, 0), sem.entry_scores(&q)[0]);
        assert_eq!(sem.entry_score(&q, 1), sem.entry_scores(&q)[1]);
        assert_eq!(sem.holding_out(|i| i == 0).entry_scores(&q)[0], 0.0);
        assert_eq!(
            sem.holding_out(|_| false).entry_scores(&q),
            sem.entry_scores(&q)
        );
    }

    #[test]
    fn an_entry_scores_by_its_closest_question_and_its_centroid() {
        let questions = [
            (0, "forgot my password"),
            (0, "reset the login code"),
            (1, "refund"),
        ];
        let sem = Semantic::build(&questions, 2, words);
        let q = sem.question(0).unwrap().to_vec();
        let cos = |a: &[i16], b: &[i16]| cosine(a, b);
        let other = sem.question(1).unwrap();
        // The query is question 0 itself: the closest question gives 1, the centroid of both questions less.
        let centroid = {
            let mut sum: Vec<f32> = q
                .iter()
                .zip(other)
                .map(|(a, b)| (*a as f32 + *b as f32) / ONE)
                .collect();
            assert!(normalise(&mut sum));
            sum.iter().map(|x| to_fixed(*x)).collect::<Vec<i16>>()
        };
        let expected = (1.0 - CENTROID_SHARE) * cos(&q, &q) + CENTROID_SHARE * cos(&centroid, &q);
        assert!((sem.entry_score(&q, 0) - expected).abs() < 1e-3);
        assert!(sem.entry_score(&q, 0) < 0.999);
        // With question 0 held out, both parts come from question 1 alone.
        let held = sem.holding_out(|i| i == 0).entry_scores(&q)[0];
        assert!((held - cos(other, &q).max(0.0)).abs() < 1e-3, "{held}");
        assert!(held < sem.entry_score(&q, 0));
    }

    #[test]
    fn a_text_without_known_words_has_no_vector() {
        let sem = Semantic::build(&[(0, "password")], 1, words);
        assert!(sem.query("1234 !!", words).is_none());
    }

    #[test]
    fn fixed_point_cosine_matches_floating_point() {
        let a: Vec<f32> = (0..13).map(|i| (i as f32 - 6.0) / 10.0).collect();
        let b: Vec<f32> = (0..13)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) / 10.0)
            .collect();
        let (mut a, mut b) = (a, b);
        assert!(normalise(&mut a) && normalise(&mut b));
        let fixed = |v: &[f32]| v.iter().map(|x| to_fixed(*x)).collect::<Vec<i16>>();
        assert!((cosine(&fixed(&a), &fixed(&b)) - dot(&a, &b)).abs() < 1e-3);
        assert!((cosine(&fixed(&a), &fixed(&a)) - 1.0).abs() < 1e-3);
    }

    #[test]
    fn dot_handles_lengths_that_are_not_multiples_of_eight() {
        let a: Vec<f32> = (0..13).map(|i| i as f32).collect();
        assert_eq!(dot(&a, &a), (0..13).map(|i| (i * i) as f32).sum::<f32>());
    }
}
