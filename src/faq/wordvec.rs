//! The word-vector table built into the binary (`models/wordvec.bin`, made by `tools/wordvec/distill.py` from
//! multilingual-e5-small): one vector and one weight per Chinese word or character and English word. A text's
//! vector is the weighted sum of its words' vectors, so two ways of saying one thing land close together even
//! when they share no word (丢了 / 挂失, "lost my card" / 卡不见了).

use std::sync::OnceLock;

use super::lang::is_cjk;

/// The table as shipped.
static BUILTIN: &[u8] = include_bytes!("../../models/wordvec.bin");

const MAGIC: &[u8; 4] = b"SBWV";
const VERSION: u32 = 1;

/// A malformed table (only a broken build can ship one; the test suite loads the built-in table).
#[derive(Debug, thiserror::Error)]
#[error("word-vector table: {0}")]
pub struct TableError(&'static str);

/// Words, their weights and their 8-bit vectors.
pub struct WordVectors {
    dims: usize,
    /// Per dimension: the value of one quantisation step.
    scale: Vec<f32>,
    index: foldhash::HashMap<&'static str, u32>,
    /// Per word: how much it counts (high for rare words, low for everyday ones).
    weights: Vec<f32>,
    /// `dims` signed bytes per word, in word order.
    vectors: &'static [u8],
}

impl WordVectors {
    /// The built-in table, parsed on first use.
    pub fn builtin() -> &'static WordVectors {
        static TABLE: OnceLock<WordVectors> = OnceLock::new();
        TABLE.get_or_init(|| {
            WordVectors::parse(BUILTIN)
                .expect("the built-in word-vector table is checked by the tests")
        })
    }

    /// Reads a table in the layout `distill.py` writes: magic, version, word count, dimensions (u32 LE), one
    /// f32 scale per dimension, the words (length byte + UTF-8), one weight byte per word, the vectors.
    pub fn parse(raw: &'static [u8]) -> Result<WordVectors, TableError> {
        let mut at = 0usize;
        let mut take = |n: usize| -> Result<&'static [u8], TableError> {
            let slice = raw.get(at..at + n).ok_or(TableError("truncated"))?;
            at += n;
            Ok(slice)
        };
        if take(4)? != MAGIC {
            return Err(TableError("not a word-vector table"));
        }
        let mut u32_at = || -> Result<u32, TableError> {
            let bytes: [u8; 4] = take(4)?.try_into().map_err(|_| TableError("truncated"))?;
            Ok(u32::from_le_bytes(bytes))
        };
        if u32_at()? != VERSION {
            return Err(TableError("unknown version"));
        }
        let count = u32_at()? as usize;
        let dims = u32_at()? as usize;
        if dims == 0 || count == 0 {
            return Err(TableError("empty"));
        }
        let scale = take(4 * dims)?
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let mut index = foldhash::HashMap::default();
        index.reserve(count);
        for i in 0..count {
            let len = take(1)?[0] as usize;
            let word =
                std::str::from_utf8(take(len)?).map_err(|_| TableError("a word is not UTF-8"))?;
            index.insert(word, i as u32);
        }
        let weights = take(count)?.iter().map(|&w| w as f32 / 255.0).collect();
        let vectors = take(count * dims)?;
        if at != raw.len() {
            return Err(TableError("trailing bytes"));
        }
        Ok(WordVectors {
            dims,
            scale,
            index,
            weights,
            vectors,
        })
    }

    /// Length of a vector.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Number of words.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.weights.len()
    }

    /// Adds the weighted vector of `word` to `sum` (in quantisation steps); false for an unknown word.
    fn add(&self, word: &str, sum: &mut [f32]) -> bool {
        self.index
            .get(word)
            .map(|&row| self.add_row(row, sum))
            .is_some()
    }

    fn add_row(&self, row: u32, sum: &mut [f32]) {
        let i = row as usize;
        let weight = self.weights[i];
        let row = &self.vectors[i * self.dims..(i + 1) * self.dims];
        for (s, &b) in sum.iter_mut().zip(row) {
            *s += weight * (b as i8) as f32;
        }
    }

    /// Whether the table has an English word (folded), or the word without a plural, past or -ing ending.
    pub fn knows_english(&self, word: &str) -> bool {
        self.english_row(word).is_some()
    }

    fn english_row(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied().or_else(|| {
            ["s", "es", "ed", "d", "ing"].iter().find_map(|ending| {
                let stem = word.strip_suffix(ending).filter(|stem| stem.len() >= 2)?;
                self.index.get(stem).copied()
            })
        })
    }

    /// The vector of folded `text` (not normalised), written to `out`; false when no word of it is known.
    /// `cut` splits each run of Chinese characters into words (it is called once a run, in order); a word the
    /// table lacks counts by its characters.
    /// An English word the table lacks is tried without a plural, past or -ing ending.
    pub fn embed<'t>(
        &self,
        text: &'t str,
        mut cut: impl FnMut(&'t str) -> Vec<&'t str>,
        out: &mut [f32],
    ) -> bool {
        out.fill(0.0);
        let mut found = false;
        let mut rest = text;
        while let Some(start) = rest.find(|c: char| is_cjk(c) || c.is_ascii_alphabetic()) {
            rest = &rest[start..];
            let first = rest.chars().next().unwrap_or(' ');
            let end = if is_cjk(first) {
                rest.find(|c: char| !is_cjk(c)).unwrap_or(rest.len())
            } else {
                rest.find(|c: char| !c.is_ascii_alphabetic())
                    .unwrap_or(rest.len())
            };
            let (run, tail) = rest.split_at(end);
            rest = tail;
            if is_cjk(first) {
                for word in cut(run) {
                    if !self.add(word, out) {
                        let mut buf = [0u8; 4];
                        for c in word.chars() {
                            found |= self.add(c.encode_utf8(&mut buf), out);
                        }
                    } else {
                        found = true;
                    }
                }
            } else if run.len() >= 2 {
                found |= self.add_english(run, out);
            }
        }
        for (o, s) in out.iter_mut().zip(&self.scale) {
            *o *= s;
        }
        found
    }

    fn add_english(&self, word: &str, out: &mut [f32]) -> bool {
        self.english_row(word)
            .map(|row| self.add_row(row, out))
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
        dot / (na * nb)
    }

    fn chars(run: &str) -> Vec<&str> {
        run.char_indices()
            .map(|(i, c)| &run[i..i + c.len_utf8()])
            .collect()
    }

    #[test]
    fn the_builtin_table_parses_and_knows_both_languages() {
        let table = WordVectors::builtin();
        assert!(table.len() > 10_000);
        assert!(table.dims() >= 32);
        let mut v = vec![0.0; table.dims()];
        assert!(table.embed("password", chars, &mut v));
        assert!(table.embed("密码", chars, &mut v));
        assert!(!table.embed("123 !!", chars, &mut v));
        assert!(v.iter().all(|x| *x == 0.0));
    }

    #[test]
    fn related_words_are_closer_than_unrelated_ones() {
        let table = WordVectors::builtin();
        let vec_of = |t: &'static str| {
            let mut v = vec![0.0; table.dims()];
            assert!(table.embed(t, chars, &mut v), "{t}");
            v
        };
        let password = vec_of("password");
        assert!(cos(&password, &vec_of("密码")) > cos(&password, &vec_of("香蕉")));
        let refund = vec_of("refund");
        assert!(cos(&refund, &vec_of("money")) > cos(&refund, &vec_of("weather")));
    }

    #[test]
    fn everyday_english_words_of_support_messages_are_known() {
        let table = WordVectors::builtin();
        let mut v = vec![0.0; table.dims()];
        for word in [
            "forgot",
            "login",
            "someone",
            "invoice",
            "yesterday",
            "screenshot",
            "spam",
            "frozen",
        ] {
            assert!(table.index.contains_key(word), "{word}");
            assert!(table.embed(word, chars, &mut v), "{word}");
        }
    }

    #[test]
    fn english_endings_fall_back_to_the_stem() {
        let table = WordVectors::builtin();
        let mut a = vec![0.0; table.dims()];
        let mut b = vec![0.0; table.dims()];
        // A made-up plural of a known word is read as the word.
        assert!(table.embed("passwordes", chars, &mut a));
        assert!(table.embed("password", chars, &mut b));
        assert_eq!(a, b);
    }

    #[test]
    fn malformed_tables_are_refused() {
        assert!(WordVectors::parse(b"XXXX").is_err());
        assert!(WordVectors::parse(b"SBWV\x01\x00\x00\x00").is_err());
        let mut raw = b"SBWV".to_vec();
        raw.extend(1u32.to_le_bytes());
        raw.extend(1u32.to_le_bytes());
        raw.extend(2u32.to_le_bytes());
        raw.extend(1.0f32.to_le_bytes());
        raw.extend(1.0f32.to_le_bytes());
        raw.extend([1, b'a', 255, 1, 2]);
        let ok: &'static [u8] = Box::leak(raw.clone().into_boxed_slice());
        assert_eq!(WordVectors::parse(ok).map(|t| t.len()).ok(), Some(1));
        raw.push(0);
        let long: &'static [u8] = Box::leak(raw.into_boxed_slice());
        assert!(WordVectors::parse(long).is_err());
    }
}
