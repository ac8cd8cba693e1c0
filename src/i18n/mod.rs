//! Every text the bot writes, in Chinese, English and Japanese. User texts follow the conversation's language; operator
//! texts use `[bot] operator_lang`.

pub mod operator;
mod user;

pub use user::*;

use crate::faq::Lang;

/// Picks the Chinese, English or Japanese format string and formats it (arguments captured from the caller's
/// scope).
#[macro_export]
#[doc(hidden)]
macro_rules! tr {
    ($lang:expr, $zh:literal, $en:literal, $ja:literal) => {
        match $lang {
            $crate::faq::Lang::Zh => format!($zh),
            $crate::faq::Lang::En => format!($en),
            $crate::faq::Lang::Ja => format!($ja),
        }
    };
}

/// The language for a stored code (`en`, `ja`, else Chinese).
pub fn from_code(code: &str) -> Lang {
    Lang::parse(code).unwrap_or(Lang::Zh)
}

/// The language a platform's locale hint names (`en-US` → English, `zh-Hant` → Chinese, `ja-JP` → Japanese);
/// `None` for a language
/// the bot does not speak.
pub fn from_locale(locale: &str) -> Option<Lang> {
    let primary = locale.split(['-', '_']).next()?.trim().to_ascii_lowercase();
    Lang::parse(&primary)
}

/// Whether `text` equals one of the labels, ignoring case and surrounding blanks.
pub fn is_label(text: &str, labels: &[&str]) -> bool {
    let t = text.trim();
    labels.iter().any(|l| t.eq_ignore_ascii_case(l))
}
