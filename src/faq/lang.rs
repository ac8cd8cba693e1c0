//! The languages the bot speaks (Chinese, English, Japanese) and how a message's language is told.

use serde::{Deserialize, Serialize};

/// A language of the bot: Chinese, English or Japanese.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Chinese (answers in simplified Chinese).
    Zh,
    /// English.
    En,
    /// Japanese (answers from an entry's `answer.ja`, in English where the entry has none).
    Ja,
}

impl Lang {
    /// A message with any kana is Japanese; else one with any Chinese character is Chinese; anything else
    /// is English.
    pub fn detect(text: &str) -> Lang {
        if text.chars().any(is_kana) {
            Lang::Ja
        } else if text.chars().any(is_cjk) {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// `zh`, `en` or `ja`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// Parses `zh` / `en` / `ja` (and common spellings such as `cn`, `chinese`, `中文`, `english`, `jp`,
    /// `日本語`).
    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim().to_lowercase().as_str() {
            "zh" | "cn" | "zh-cn" | "zh-hans" | "chinese" | "中文" | "汉语" => Some(Lang::Zh),
            "en" | "english" | "英文" | "英语" => Some(Lang::En),
            "ja" | "jp" | "ja-jp" | "japanese" | "日本語" | "日本语" | "にほんご" | "日语"
            | "日文" => Some(Lang::Ja),
            _ => None,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Whether a character is a CJK ideograph (the scripts the Chinese tokenizer handles).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0xF900..=0xFAFF | 0x2A700..=0x2EBEF)
}

/// Whether a character is kana (hiragana, katakana, half-width katakana, the prolonged sound mark): the sign
/// of Japanese text, since Chinese never uses it. The katakana middle dot (・), which Chinese text borrows for
/// foreign names, does not count.
pub fn is_kana(c: char) -> bool {
    matches!(c as u32, 0x3041..=0x309F | 0x30A0..=0x30FA | 0x30FC..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_chinese_characters() {
        assert_eq!(Lang::detect("554 DT:SPM"), Lang::En);
        assert_eq!(Lang::detect("hi 客服"), Lang::Zh);
        assert_eq!(Lang::detect("郵箱"), Lang::Zh);
        assert_eq!(Lang::parse(" EN "), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
    }

    #[test]
    fn kana_makes_a_message_japanese() {
        assert_eq!(Lang::detect("パスワードを忘れました"), Lang::Ja);
        assert_eq!(Lang::detect("メール"), Lang::Ja);
        assert_eq!(Lang::detect("ｱｶｳﾝﾄ"), Lang::Ja);
        assert_eq!(Lang::detect("アカウントが乗っ取られた 554"), Lang::Ja);
        // Kanji alone is read as Chinese: nothing tells the two apart without kana.
        assert_eq!(Lang::detect("受信拒否"), Lang::Zh);
        assert_eq!(Lang::detect("I got 554 DT:SPM"), Lang::En);
        // Chinese punctuation and full-width forms are not kana.
        assert_eq!(Lang::detect("邮箱被盗了，怎么办？"), Lang::Zh);
        assert_eq!(Lang::detect("列奥纳多・达・芬奇"), Lang::Zh);
        assert_eq!(Lang::parse("JA"), Some(Lang::Ja));
        assert_eq!(Lang::parse("日本語"), Some(Lang::Ja));
        assert_eq!(Lang::parse("ja").map(Lang::code), Some("ja"));
    }
}
