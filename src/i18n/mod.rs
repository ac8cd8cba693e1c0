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

#[cfg(test)]
mod tests {
    use super::operator as op;
    use super::*;

    fn japanese(text: &str) -> bool {
        text.chars().any(|c| ('\u{3041}'..='\u{30fa}').contains(&c))
    }

    #[test]
    fn every_text_is_written_in_japanese_too() {
        let ja = Lang::Ja;
        let card = op::Card {
            id: "C-1001",
            team: "mail",
            priority: 1,
            channel: "telegram",
            user: "42",
            lang: "ja",
            subject: "s",
            codes: &[],
            suggestions: &[],
            attachments: 0,
            previous: None,
        };
        let texts = [
            welcome(ja, "bot"),
            help(ja),
            too_long(ja, 1, 2),
            did_it_help(ja),
            choose(ja),
            glad(ja),
            miss(ja),
            offer(ja),
            offer_declined(ja),
            intake(ja, 0),
            intake(ja, 1),
            intake(ja, 2),
            cancelled(ja),
            nothing_to_cancel(ja),
            moved_private(ja),
            case_opened(ja, "C-1", 1),
            manager_notified(ja, "m"),
            enterprise_phone(ja, "400", "C-1"),
            expected_wait(ja, 5),
            peak(ja, "p", "o"),
            after_hours(ja, "o", "b", true),
            after_hours(ja, "o", "b", false),
            already_open(ja, "C-1"),
            added_to_case(ja, "C-1"),
            operator_joined(ja, "n", "C-1"),
            released(ja, "C-1"),
            transferred(ja, "C-1", "t"),
            closed(ja, "C-1", Some("s")),
            closed(ja, "C-1", None),
            rated(ja, 5),
            no_case(ja),
            status_waiting(ja, "C-1", 1, "w"),
            status_assigned(ja, "C-1", "n"),
            lang_set(ja),
            lang_usage(ja),
            case_withdrawn(ja, "C-1"),
            operators_only(ja),
            unknown_case(ja, "C-1"),
            link_pending(ja, "C-1"),
            wrong_code(ja, 1),
            link_dropped(ja, "C-1"),
            waiting_for_code(ja, "C-1"),
            slow_down(ja),
            verify_code(ja, "C-1", "p", "123456"),
            verified(ja, "C-1"),
            linked_same_user(ja, "C-1"),
            passed_on(ja),
            op::card(ja, &card),
            op::relay(ja, "C-1", "n", "c", "t", &[], true),
            op::taken(ja, "C-1", "u", "c", "r"),
            op::held_by(ja, "C-1", "b"),
            op::reserved(ja, "C-1", "m"),
            op::manager_case(ja, "C-1", "u", 5),
            op::already_yours(ja, "C-1"),
            op::is_closed(ja, "C-1"),
            op::no_such_case(ja, "C-1"),
            op::usage(ja, "/take"),
            op::queue_empty(ja),
            op::queue_header(ja, 1),
            op::noted(ja, "C-1"),
            op::released(ja, "C-1"),
            op::transferred(ja, "C-1", "t"),
            op::unknown_team(ja, "t", "a"),
            op::closed(ja, "C-1"),
            op::not_yours(ja, "C-1", "b"),
            op::which_case(ja, "C-1"),
            op::link_dropped(ja, "C-1", "e", 5),
            op::linked(ja, "C-1", "e", true),
            op::linked(ja, "C-1", "e", false),
            op::delivery_failed(ja, "C-1", "t", "r"),
            op::withdrawn(ja, "C-1"),
            op::rated(ja, "C-1", 5),
        ];
        for text in &texts {
            assert!(japanese(text), "not Japanese: {text}");
        }
        for labels in [YES, NO, SKIP, HUMAN, NO_THANKS, NONE_OF_THESE] {
            assert!(japanese(&label(&labels, ja)), "{labels:?}");
            assert!(is_label(labels[2], &labels));
        }
        assert_eq!(from_code("ja"), Lang::Ja);
        assert_eq!(from_locale("ja-JP"), Some(Lang::Ja));
        assert_eq!(from_locale("fr-FR"), None);
    }
}
