//! Same-sound slips of a pinyin keyboard: the knowledge base's two- and three-character words by their sound,
//! and the windows of a message that sound like one of them but that the knowledge base never has.

use std::borrow::Cow;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use pinyin::ToPinyin;

use super::Dictionary;
use crate::faq::lang::{is_cjk, is_kana};

/// Stands for the character a word is looked up without.
const MASKED: char = '\0';
/// Fills the third place of a two-character word.
const PAD: char = '\u{1}';

/// Two or three characters in a fixed-size key (no allocation per lookup).
type Chars3 = [char; 3];

/// A word of the dictionary is taken for a slip only when it is this rare in general Chinese…
const RARE: usize = 50;
/// …and the knowledge base's word of the same sound is this many times as common (转帐 for 转账, 拥金 for 佣金).
const COMMONER: usize = 10;

/// The knowledge base's words by their sound, to put a message's same-sound slips right.
pub struct Homophones {
    /// A word with one character masked, and the masked character's reading → the words (by index).
    by_sound: HashMap<(Chars3, &'static str), Vec<u32>>,
    /// The words and how often the knowledge base uses each.
    words: Vec<(Chars3, u32)>,
    /// Every two and three neighbouring Chinese characters of the knowledge base's texts.
    seen: HashSet<Chars3>,
}

impl Homophones {
    /// Learns the words of `texts` (folded questions, keywords and answers) as `dictionary` cuts them.
    pub fn build<'t>(
        texts: impl IntoIterator<Item = &'t str>,
        dictionary: &impl Dictionary,
    ) -> Homophones {
        let mut seen = HashSet::new();
        let mut counts: HashMap<Chars3, u32> = HashMap::new();
        for text in texts {
            if text.chars().any(is_kana) {
                continue;
            }
            for run in cjk_runs(text) {
                let chars: Vec<char> = run.chars().collect();
                for len in 2..=3 {
                    seen.extend(chars.windows(len).map(key));
                }
                for word in dictionary.cut(run) {
                    let chars: Vec<char> = word.chars().collect();
                    if (2..=3).contains(&chars.len()) && !dictionary.is_filler(word) {
                        *counts.entry(key(&chars)).or_default() += 1;
                    }
                }
            }
        }
        let mut words: Vec<(Chars3, u32)> = counts.into_iter().collect();
        // A fixed order, so that equal counts pick the same correction on every load.
        words.sort_unstable();
        let mut by_sound: HashMap<(Chars3, &'static str), Vec<u32>> = HashMap::new();
        for (index, (word, _)) in words.iter().enumerate() {
            for place in 0..len_of(word) {
                for reading in readings(word[place]) {
                    let slot = by_sound.entry((masked(word, place), reading)).or_default();
                    if !slot.contains(&(index as u32)) {
                        slot.push(index as u32);
                    }
                }
            }
        }
        Homophones {
            by_sound,
            words,
            seen,
        }
    }

    /// `text` (folded) with its same-sound slips put right. Only characters the dictionary leaves standing
    /// alone are replaced, or a whole word of it that is rare where the knowledge base's word is common, so a
    /// word the user meant is not changed into another. Japanese text is left as it is.
    pub fn fix<'t>(&self, text: &'t str, dictionary: &impl Dictionary) -> Cow<'t, str> {
        if self.words.is_empty() || text.chars().any(is_kana) {
            return Cow::Borrowed(text);
        }
        let mut fixes: Vec<(usize, usize, Chars3)> = Vec::new();
        for run in cjk_runs(text) {
            let offset = run.as_ptr() as usize - text.as_ptr() as usize;
            self.fix_run(run, offset, dictionary, &mut fixes);
        }
        if fixes.is_empty() {
            return Cow::Borrowed(text);
        }
        fixes.sort_unstable_by_key(|f| f.0);
        let mut fixed = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, word) in fixes {
            fixed.push_str(&text[at..start]);
            fixed.extend(chars_of(&word));
            at = end;
        }
        fixed.push_str(&text[at..]);
        Cow::Owned(fixed)
    }

    /// Finds the slips of one run of Chinese characters that starts at byte `offset` of the text: (start, end,
    /// the word meant).
    fn fix_run(
        &self,
        run: &str,
        offset: usize,
        dictionary: &impl Dictionary,
        fixes: &mut Vec<(usize, usize, Chars3)>,
    ) {
        let chars: Vec<(usize, char)> = run.char_indices().collect();
        let letters: Vec<char> = chars.iter().map(|&(_, c)| c).collect();
        // Cheap first: most messages have no window the knowledge base lacks and sounds like one of its words.
        let mut found: Vec<(usize, usize, u32)> = Vec::new();
        for len in [3, 2] {
            for (start, window) in letters.windows(len).enumerate() {
                if let Some(word) = self.meant(window) {
                    found.push((start, len, word));
                }
            }
        }
        if found.is_empty() {
            return;
        }
        // word_at[i]: the first character and the length of the word of the cut that character i is in.
        let mut word_at = Vec::with_capacity(letters.len());
        for word in dictionary.cut(run) {
            let (first, n) = (word_at.len(), word.chars().count());
            word_at.extend(std::iter::repeat_n((first, n), n));
        }
        let mut taken = vec![false; letters.len()];
        // Three-character words first, then two; a character is replaced at most once.
        for (start, len, word) in found {
            let span = start..start + len;
            let meant = &self.words[word as usize].0;
            let alone = word_at
                .get(span.clone())
                .is_some_and(|w| w.iter().all(|&(_, n)| n == 1));
            let rare_word = word_at.get(start) == Some(&(start, len)) && {
                let typed = dictionary.frequency(&letters[span.clone()].iter().collect::<String>());
                let common = dictionary.frequency(&chars_of(meant).collect::<String>());
                typed <= RARE && common >= COMMONER * typed.max(1)
            };
            if (alone || rare_word)
                && !taken[span.clone()].iter().any(|&t| t)
                && !self.explained_outside(&letters, start, len, meant)
            {
                taken[span.clone()].iter_mut().for_each(|t| *t = true);
                let end = chars.get(start + len).map_or(run.len(), |&(at, _)| at);
                fixes.push((offset + chars[start].0, offset + end, *meant));
            }
        }
    }

    /// Whether the character of `letters[start..start + len]` that differs from `word` forms, with its neighbour
    /// outside the window, two characters the knowledge base has (有代驾: 代 belongs to its 代驾, not to 有待).
    fn explained_outside(&self, letters: &[char], start: usize, len: usize, word: &Chars3) -> bool {
        let Some(place) = (0..len).find(|&i| letters[start + i] != word[i]) else {
            return false;
        };
        let at = start + place;
        let before = place == 0 && at > 0 && self.seen.contains(&key(&letters[at - 1..=at]));
        let after = place == len - 1
            && at + 1 < letters.len()
            && self.seen.contains(&key(&letters[at..=at + 1]));
        before || after
    }

    /// The knowledge base's word that `window` (two or three characters it never has together) most likely
    /// stands for: same length, the same characters but one, and that one sounds alike. The most used wins.
    fn meant(&self, window: &[char]) -> Option<u32> {
        let window = key(window);
        if self.seen.contains(&window) {
            return None;
        }
        let mut best: Option<u32> = None;
        for place in 0..len_of(&window) {
            let masked = masked(&window, place);
            for reading in readings(window[place]) {
                for &word in self.by_sound.get(&(masked, reading)).into_iter().flatten() {
                    if best.is_none_or(|b| self.words[word as usize].1 > self.words[b as usize].1) {
                        best = Some(word);
                    }
                }
            }
        }
        best
    }
}

/// The runs of Chinese characters of a text.
fn cjk_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_cjk(c))
        .filter(|run| !run.is_empty())
}

fn key(chars: &[char]) -> Chars3 {
    [chars[0], chars[1], chars.get(2).copied().unwrap_or(PAD)]
}

/// The characters of a two- or three-character key.
fn chars_of(word: &Chars3) -> impl Iterator<Item = char> + '_ {
    word.iter().copied().filter(|&c| c != PAD)
}

fn len_of(word: &Chars3) -> usize {
    if word[2] == PAD {
        2
    } else {
        3
    }
}

fn masked(word: &Chars3, place: usize) -> Chars3 {
    let mut word = *word;
    word[place] = MASKED;
    word
}

/// A character's toneless reading: its common one when it has several (还 is hai and huan, and 不 can be read fou
/// like 否: with every reading, 还能 would sound like 不能).
fn readings(c: char) -> impl Iterator<Item = &'static str> {
    c.to_pinyin().into_iter().map(|reading| reading.plain())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dictionary of a few words with their frequencies; other characters stand alone. Enough to test the
    /// rules without jieba.
    struct Words(&'static [(&'static str, usize)]);

    const WORDS: Words = Words(&[
        ("开户", 64),
        ("佣金", 127),
        ("拥金", 3),
        ("撤单", 3),
        ("理赔", 40),
        ("一直", 18596),
        ("一只", 6814),
        ("可以", 50000),
        ("直接", 9000),
        ("哪些", 9000),
        ("里程", 300),
        ("历程", 300),
        ("有待", 500),
    ]);

    impl Dictionary for Words {
        /// Longest word first, else one character.
        fn cut<'t>(&self, run: &'t str) -> Vec<&'t str> {
            let mut words = Vec::new();
            let mut rest = run;
            while let Some(first) = rest.chars().next() {
                let len = self
                    .0
                    .iter()
                    .filter(|(w, _)| rest.starts_with(*w))
                    .map(|(w, _)| w.len())
                    .max()
                    .unwrap_or(first.len_utf8());
                words.push(&rest[..len]);
                rest = &rest[len..];
            }
            words
        }

        fn frequency(&self, word: &str) -> usize {
            self.0
                .iter()
                .find(|(w, _)| *w == word)
                .map_or(1, |(_, f)| *f)
        }

        fn is_filler(&self, word: &str) -> bool {
            word == "哪些"
        }
    }

    fn homophones(texts: &[&'static str]) -> Homophones {
        Homophones::build(texts.iter().copied(), &WORDS)
    }

    fn fix(h: &Homophones, text: &str) -> String {
        h.fix(text, &WORDS).into_owned()
    }

    #[test]
    fn a_same_sound_slip_becomes_the_knowledge_bases_word() {
        let h = homophones(&["怎么开户", "佣金多少", "怎么撤单", "理赔要多久"]);
        assert_eq!(fix(&h, "想炒股 怎么开护啊"), "想炒股 怎么开户啊");
        assert_eq!(fix(&h, "拥金太高了"), "佣金太高了");
        assert_eq!(fix(&h, "理陪要把发票寄过去吗"), "理赔要把发票寄过去吗");
    }

    #[test]
    fn words_the_dictionary_knows_and_other_sounds_stay() {
        let h = homophones(&["怎么开户", "一直不到账", "哪些", "怎么撤单"]);
        // 可以直接: both words are known; 以直 sounds like 一直 but crosses them.
        assert_eq!(fix(&h, "网上可以直接销户吗"), "网上可以直接销户吗");
        // 开会 is not a same-sound slip of 开户.
        assert_eq!(fix(&h, "明天开会"), "明天开会");
        // A stop word is never a correction (哪写 sounds like 哪些).
        assert_eq!(fix(&h, "在哪写"), "在哪写");
        // Nothing changes in Japanese, and text the knowledge base has is left alone.
        assert_eq!(fix(&h, "開護の方法を教えて"), "開護の方法を教えて");
        assert!(matches!(h.fix("怎么撤单", &WORDS), Cow::Borrowed(_)));
        // A word of the dictionary as common as the knowledge base's stays (一只 is no slip of 一直); a rare
        // one is taken for a slip (拥金 for 佣金, tested above).
        assert_eq!(fix(&h, "推荐一只股票"), "推荐一只股票");
        // 代 belongs to 代驾, which the knowledge base has, not to 有待.
        let h = homophones(&["有待确认", "代驾怎么收费", "哪些"]);
        assert_eq!(fix(&h, "你们有代驾服务吗"), "你们有代驾服务吗");
        assert_eq!(fix(&h, "有代确认"), "有待确认");
    }

    #[test]
    fn the_most_used_word_wins_and_latin_text_is_kept() {
        let h = homophones(&["里程", "里程", "历程"]);
        assert_eq!(fix(&h, "my 李程 points"), "my 里程 points");
    }
}
