//! The two languages the bot speaks and how a message's language is told.

use serde::{Deserialize, Serialize};

/// A language of the bot: Chinese or English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Chinese (answers in simplified Chinese).
    Zh,
    /// English.
    En,
}

impl Lang {
    /// A message with any Chinese character is Chinese; anything else is English.
    pub fn detect(text: &str) -> Lang {
        if text.chars().any(is_cjk) {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Parses `zh` / `en` (and common spellings such as `cn`, `chinese`, `中文`, `english`).
    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim().to_lowercase().as_str() {
            "zh" | "cn" | "zh-cn" | "zh-hans" | "chinese" | "中文" | "汉语" => Some(Lang::Zh),
            "en" | "english" | "英文" | "英语" => Some(Lang::En),
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
}
