//! Search terms of Japanese text. Japanese is written without spaces and no Japanese dictionary ships with the
//! bot, so a run of kana and kanji is cut by script instead: katakana words (パスワード, メール) are whole
//! terms, kanji runs give character bigrams (迷惑メール → 迷惑 + メール) and a lone kanji stays (届かない → 届),
//! two kanji with one kana between them that is no particle give a pair too (問い合わせ → 問, 問合, 合; 振り分け →
//! 振, 振分, 分), and hiragana, which carries grammar (particles, endings, polite forms), is left out. Kanji bigrams
//! use the same form as Chinese character bigrams, so a Japanese query also meets Chinese words written with
//! the same characters.

use super::lang::{is_cjk, is_kana};
use super::tokenize::{bigram, Term};

/// The script of one character of a Japanese run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Kanji,
    Katakana,
    /// Hiragana, and anything else inside the run.
    Other,
}

fn script(c: char) -> Script {
    if is_cjk(c) || c == '々' {
        Script::Kanji
    } else if matches!(c as u32, 0x30A1..=0x30FA | 0x30FC..=0x30FF | 0x31F0..=0x31FF) {
        Script::Katakana
    } else {
        Script::Other
    }
}

/// Whether a character belongs to a Japanese run (kana or kanji, and the iteration mark 々).
pub fn in_run(c: char) -> bool {
    is_cjk(c) || is_kana(c) || c == '々'
}

/// Particles: a kana between two kanji that is one of these separates two words (問題を解決) rather than
/// joining a compound verb (問い合わせ).
const PARTICLES: &[char] = &[
    'を', 'が', 'は', 'に', 'で', 'の', 'と', 'も', 'へ', 'や', 'か',
];

/// Appends the terms of one folded run of kana and kanji to `out`, leaving out terms for which `filler` is
/// true (the FAQ's stop words, e.g. 方法).
pub fn push_terms(run: &str, filler: impl Fn(&str) -> bool, out: &mut Vec<Term>) {
    let chars: Vec<char> = run.chars().collect();
    let mut start = 0;
    while start < chars.len() {
        let kind = script(chars[start]);
        let end = (start..chars.len())
            .find(|&i| script(chars[i]) != kind)
            .unwrap_or(chars.len());
        let piece = &chars[start..end];
        match kind {
            Script::Kanji => {
                push_compound(&chars, start, &filler, out);
                push_kanji(piece, &filler, out)
            }
            Script::Katakana => push_katakana(piece, &filler, out),
            Script::Other => {}
        }
        start = end;
    }
}

/// A compound verb or noun written with one kana between its kanji (問い合わせ, 振り分け, 乗っ取る, 申し込み): the
/// two kanji around the kana as one more bigram (问合, 振分), so that the compound counts as a word of its own
/// and its spellings without the kana (問合せ) meet it. `at` is where a kanji piece starts.
fn push_compound(chars: &[char], at: usize, filler: &impl Fn(&str) -> bool, out: &mut Vec<Term>) {
    if at < 2 {
        return;
    }
    let (before, kana) = (chars[at - 2], chars[at - 1]);
    if script(before) != Script::Kanji || script(kana) != Script::Other || PARTICLES.contains(&kana)
    {
        return;
    }
    push_pair(&[before, chars[at]], filler, out);
}

/// Appends the bigram of two kanji unless it is a filler word.
fn push_pair(pair: &[char], filler: &impl Fn(&str) -> bool, out: &mut Vec<Term>) {
    let text: String = pair.iter().collect();
    if !filler(&text) {
        out.push(bigram(pair));
    }
}

/// A kanji run: one term for a single kanji (the stem of a verb or adjective: 送れない → 送), else its
/// character bigrams.
fn push_kanji(piece: &[char], filler: &impl Fn(&str) -> bool, out: &mut Vec<Term>) {
    if piece.len() == 1 {
        let text = piece[0].to_string();
        if !filler(&text) {
            out.push(bigram(&[piece[0]]));
        }
        return;
    }
    for pair in piece.windows(2) {
        push_pair(pair, filler, out);
    }
}

/// A katakana run: the whole word, plus its bigrams when it is long enough to be written in more than one way
/// (スクリーンショット / スクショ, メールアドレス).
fn push_katakana(piece: &[char], filler: &impl Fn(&str) -> bool, out: &mut Vec<Term>) {
    // A lone prolonged sound mark or small kana is no word.
    if piece.len() < 2 {
        return;
    }
    let word: String = piece.iter().collect();
    if filler(&word) {
        return;
    }
    out.push(Term {
        text: word,
        bigram: false,
    });
    if piece.len() >= 4 {
        for pair in piece.windows(2) {
            out.push(bigram(pair));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faq::tokenize::display;

    fn terms(text: &str, stop: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        push_terms(text, |w| stop.contains(&w), &mut out);
        out.iter().map(|t| display(&t.text).to_string()).collect()
    }

    #[test]
    fn katakana_words_stay_whole_and_hiragana_is_left_out() {
        let t = terms("パスワードをわすれました", &[]);
        assert_eq!(t[0], "パスワード");
        assert!(t.contains(&"パス".to_string()), "{t:?}");
        assert!(!t.iter().any(|w| w.contains('を') || w.contains('わ')));
    }

    #[test]
    fn kanji_runs_give_bigrams_and_single_kanji_stay() {
        assert_eq!(terms("迷惑メール", &[]), vec!["迷惑", "メール"]);
        assert_eq!(
            terms("企業の技術支援", &[]),
            vec!["企業", "技術", "術支", "支援"]
        );
    }

    #[test]
    fn the_same_words_conjugated_share_their_terms() {
        let a = terms("メールが届かない", &[]);
        let b = terms("メールが届きません", &[]);
        assert_eq!(a, b);
    }

    #[test]
    fn compounds_written_with_a_kana_between_their_kanji_give_the_kanji_pair() {
        assert_eq!(terms("問い合わせ", &[]), vec!["問", "問合", "合"]);
        assert!(terms("問合せ", &[]).contains(&"問合".to_string()));
        assert_eq!(terms("問題を解決", &[]), vec!["問題", "解決"]);
        assert_eq!(terms("乗っ取られた", &[]), vec!["乗", "乗取", "取"]);
    }

    #[test]
    fn filler_words_are_dropped() {
        assert_eq!(terms("設定の方法を教えて", &["方法", "教"]), vec!["設定"]);
        assert!(terms("です", &[]).is_empty());
    }

    #[test]
    fn bigrams_are_marked_like_chinese_bigrams() {
        let mut out = Vec::new();
        push_terms("迷惑", |_| false, &mut out);
        assert!(out[0].bigram);
        assert_eq!(out[0], bigram(&['迷', '惑']));
    }
}
