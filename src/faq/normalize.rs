//! Text normalisation before matching: NFKC (full-width to half-width), case folding, traditional to
//! simplified Chinese, and the FAQ's synonym table; plus pulling error codes out of a message.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;
use unicode_normalization::UnicodeNormalization;

use super::entry::Synonym;

/// Half-width, lower-case, simplified text. Applied to FAQ questions and user queries alike.
pub fn fold(text: &str) -> String {
    let folded = match fold_common(text) {
        Some(folded) => folded,
        None => {
            let nfkc: String = text.nfkc().collect::<String>().to_lowercase();
            // Apostrophe variants left by NFKC (’) become ASCII so "can’t" and "can't" agree.
            nfkc.replace(['\u{2019}', '\u{2018}'], "'")
        }
    };
    if folded.chars().any(super::lang::is_cjk) {
        zhconv::zhconv(&folded, zhconv::Variant::ZhHans)
    } else {
        folded
    }
}

/// NFKC, lower case and ASCII apostrophes in one pass, for text made only of characters whose NFKC form is
/// known without looking at their neighbours: ASCII, common Chinese characters, full-width ASCII forms, the
/// ideographic space and common CJK punctuation. Nearly every message is; `None` for any other text (combining
/// marks, compatibility ideographs, ligatures, ...), which takes the full normaliser.
fn fold_common(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let folded = match c as u32 {
            0..=0x7F => c.to_ascii_lowercase(),
            // Full-width ASCII forms are NFKC-equivalent to ASCII.
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0)?.to_ascii_lowercase(),
            0x3000 => ' ',
            0x2018 | 0x2019 => '\'',
            // Quotation marks, ideographic comma and full stop, and CJK brackets are stable under NFKC.
            0x201C | 0x201D | 0x3001 | 0x3002 | 0x3008..=0x3011 | 0x4E00..=0x9FFF => c,
            _ => return None,
        };
        out.push(folded);
    }
    Some(out)
}

/// Rewrites every synonym variant to its term, in one pass (longest variant first).
/// Variants that start or end with an ASCII letter or digit only match at word boundaries.
pub struct SynonymRewriter {
    automaton: Option<AhoCorasick>,
    terms: Vec<String>,
    bounded: Vec<(bool, bool)>,
}

impl SynonymRewriter {
    /// Builds the rewriter from the lexicon's synonym groups (already folded).
    pub fn new(groups: &[Synonym]) -> SynonymRewriter {
        let mut patterns = Vec::new();
        let mut terms = Vec::new();
        let mut bounded = Vec::new();
        for group in groups {
            let term = fold(&group.term);
            for variant in &group.variants {
                let variant = fold(variant);
                if variant.is_empty() || variant == term {
                    continue;
                }
                let starts = variant
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric());
                let ends = variant
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphanumeric());
                patterns.push(variant);
                terms.push(term.clone());
                bounded.push((starts, ends));
            }
        }
        let automaton = longest_first(&patterns);
        SynonymRewriter {
            automaton,
            terms,
            bounded,
        }
    }

    /// The text with variants replaced by their terms.
    pub fn rewrite(&self, text: &str) -> String {
        let Some(automaton) = &self.automaton else {
            return text.to_string();
        };
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len() + 8);
        let mut last = 0;
        for m in automaton.find_iter(text) {
            let (need_start, need_end) = self.bounded[m.pattern().as_usize()];
            let before_ok =
                !need_start || m.start() == 0 || !bytes[m.start() - 1].is_ascii_alphanumeric();
            let after_ok =
                !need_end || m.end() == bytes.len() || !bytes[m.end()].is_ascii_alphanumeric();
            if !(before_ok && after_ok) {
                continue;
            }
            out.push_str(&text[last..m.start()]);
            let term = &self.terms[m.pattern().as_usize()];
            // Keep English terms apart from neighbouring letters.
            let pad = term
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric());
            if pad {
                out.push(' ');
            }
            out.push_str(term);
            if pad {
                out.push(' ');
            }
            last = m.end();
        }
        out.push_str(&text[last..]);
        out
    }
}

/// An automaton that finds the longest of `patterns` starting at the leftmost place (none for no pattern, or
/// patterns it cannot build).
pub fn longest_first(patterns: &[String]) -> Option<AhoCorasick> {
    if patterns.is_empty() {
        return None;
    }
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(patterns)
        .ok()
}

fn error_code_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(?-u:\b)([45]\d{2})(?:\s*(?:[-:]\s*)?([a-z]{2,8}\s*:\s*[a-z]{2,8}))?(?-u:\b)|(?-u:\b)([a-z]{2,8}:[a-z]{2,8})(?-u:\b)")
            .expect("static regex")
    })
}

/// Error codes in a message (SMTP / HTTP status codes such as `554` or `502`, and SMTP reason tags such as
/// `DT:SPM`), upper-cased and in the order they appear, each once. Full-width input is understood.
pub fn extract_error_codes(text: &str) -> Vec<String> {
    let folded: String = text.nfkc().collect();
    let mut codes: Vec<String> = Vec::new();
    for caps in error_code_regex().captures_iter(&folded) {
        let code = match (caps.get(1), caps.get(2), caps.get(3)) {
            (Some(num), Some(tag), _) => format!("{} {}", num.as_str(), compact(tag.as_str())),
            (Some(num), None, _) => num.as_str().to_string(),
            (None, _, Some(tag)) => compact(tag.as_str()),
            _ => continue,
        };
        let code = code.to_uppercase();
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

fn compact(tag: &str) -> String {
    tag.chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full normaliser's answer, as `fold` gives it for text outside the common characters.
    fn fold_fully(text: &str) -> String {
        let nfkc: String = text.nfkc().collect::<String>().to_lowercase();
        nfkc.replace(['\u{2019}', '\u{2018}'], "'")
    }

    #[test]
    fn the_common_character_path_agrees_with_full_normalisation() {
        let ranges = [
            0x00..=0x7F,
            0xFF01..=0xFF5E,
            0x3000..=0x3002,
            0x3008..=0x3011,
            0x2018..=0x201D,
            0x4E00..=0x9FFF,
        ];
        let mut checked = 0;
        for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
            let text = format!("a{c}Ｂ{c}");
            if let Some(fast) = fold_common(&text) {
                assert_eq!(fast, fold_fully(&text), "U+{:04X}", c as u32);
                checked += 1;
            }
        }
        assert!(
            checked > 21_000,
            "the common path covers {checked} characters"
        );
        // Anything else goes the full way: a combining accent after a letter composes with it.
        assert_eq!(fold_common("cafe\u{301}"), None);
        assert_eq!(fold("cafe\u{301}"), "café");
        assert_eq!(fold("ﬁle …"), "file ...");
    }

    #[test]
    fn folds_width_case_and_script() {
        assert_eq!(fold("ＱＱ邮箱５５４　ＤＴ：ＳＰＭ"), "qq邮箱554 dt:spm");
        assert_eq!(fold("郵箱被盜了怎麼辦"), "邮箱被盗了怎么办");
        assert_eq!(fold("Can’t LOGIN"), "can't login");
    }

    #[test]
    fn rewrites_synonyms_at_word_boundaries() {
        let rw = SynonymRewriter::new(&[
            Synonym {
                term: "登录".into(),
                variants: vec!["登陆".into(), "log in".into()],
            },
            Synonym {
                term: "stolen".into(),
                variants: vec!["hacked".into()],
            },
        ]);
        assert_eq!(rw.rewrite("邮箱登陆不上"), "邮箱登录不上");
        assert_eq!(rw.rewrite("i can't log in"), "i can't 登录");
        assert_eq!(rw.rewrite("got hacked!"), "got  stolen !");
        assert_eq!(rw.rewrite("unhackedx"), "unhackedx");
    }

    #[test]
    fn extracts_error_codes() {
        assert_eq!(
            extract_error_codes("被退回，提示554 DT:SPM"),
            vec!["554 DT:SPM"]
        );
        assert_eq!(
            extract_error_codes("５５４　ＤＴ：ＳＰＭ and 502"),
            vec!["554 DT:SPM", "502"]
        );
        assert_eq!(extract_error_codes("退信 DT:SPM"), vec!["DT:SPM"]);
        assert!(extract_error_codes("2026年 30M 附件").is_empty());
    }
}
