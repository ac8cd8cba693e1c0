//! Typos put right to the knowledge base's own words before matching: a Chinese word typed with a wrong
//! character of the same sound (开护 for 开户, 理陪 for 理赔), the commonest slip of a pinyin keyboard, and an
//! English word one keystroke away from one of the knowledge base's (cancle, benifits) that is no English word.

mod homophones;
mod misspellings;

pub use homophones::Homophones;
pub use misspellings::Misspellings;

use super::tokenize::Tokenizer;

/// What the matcher's Chinese dictionary says about text.
pub trait Dictionary {
    /// A run of Chinese characters cut into words (characters it knows no word for stand alone).
    fn cut<'t>(&self, run: &'t str) -> Vec<&'t str>;
    /// How common a word is in general Chinese (a count; 1 and up).
    fn frequency(&self, word: &str) -> usize;
    /// Whether a word is filler (a stop word): never a correction.
    fn is_filler(&self, word: &str) -> bool;
}

impl Dictionary for Tokenizer {
    fn cut<'t>(&self, run: &'t str) -> Vec<&'t str> {
        self.words(run)
    }

    fn frequency(&self, word: &str) -> usize {
        Tokenizer::frequency(self, word)
    }

    fn is_filler(&self, word: &str) -> bool {
        Tokenizer::is_filler(self, word)
    }
}
