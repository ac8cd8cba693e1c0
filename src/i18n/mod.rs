//! Every text the bot writes, in Chinese, English and Japanese. User texts follow the conversation's language; operator
//! texts use `[bot] operator_lang`.

pub mod operator;
pub mod operator_page;
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

    fn card() -> op::Card<'static> {
        op::Card {
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
        }
    }

    /// Every operator text, each kind once (each variant where a kind has several).
    fn operator_texts(lang: Lang, card: &op::Card<'_>) -> Vec<op::OperatorText> {
        let vip = op::Card {
            priority: 0,
            codes: &[],
            ..*card
        };
        let file = supportbot_chat::Attachment {
            kind: supportbot_chat::AttachmentKind::File,
            name: "log.txt".into(),
            url: "http://x/f".into(),
            size: 1,
        };
        vec![
            op::card(lang, card),
            op::card(lang, &vip),
            op::relay(lang, "C-1", "n", "c", "t", &[], true),
            op::relay(lang, "C-1", "n", "c", "t", &[file], false),
            op::taken(lang, "C-1", "u", "c", "r"),
            op::held_by(lang, "C-1", "b"),
            op::reserved(lang, "C-1", "m"),
            op::manager_case(lang, "C-1", "u", 5),
            op::already_yours(lang, "C-1"),
            op::is_closed(lang, "C-1"),
            op::no_such_case(lang, "C-1"),
            op::usage(lang, "/take C-1001"),
            op::usage(lang, "/reply C-1001 text"),
            op::usage(lang, "/note C-1001 text"),
            op::usage(lang, "/transfer C-1001 team"),
            op::queue_empty(lang),
            op::noted(lang, "C-1"),
            op::released(lang, "C-1"),
            op::transferred(lang, "C-1", "t"),
            op::unknown_team(lang, "t", "a"),
            op::closed(lang, "C-1"),
            op::not_yours(lang, "C-1", "b"),
            op::which_case(lang, "C-1"),
            op::link_dropped(lang, "C-1", "e", 5),
            op::linked(lang, "C-1", "e", true),
            op::linked(lang, "C-1", "e", false),
            op::delivery_failed(lang, "C-1", "t", "r"),
            op::withdrawn(lang, "C-1"),
            op::rated(lang, "C-1", 5),
        ]
    }

    /// The inbox's own notices of teaching the FAQ from a case.
    fn teaching_texts(lang: Lang) -> Vec<String> {
        use super::operator_page::{not_taught, taught, NotTaught};
        vec![
            taught(lang, "q", "C-1", "faq-1", "faq/taught.toml"),
            not_taught(lang, "C-1", NotTaught::NoCase),
            not_taught(lang, "C-1", NotTaught::NotHolder),
            not_taught(lang, "C-1", NotTaught::NoQuestion),
            not_taught(lang, "C-1", NotTaught::BuiltIn("faq")),
            not_taught(lang, "C-1", NotTaught::Refused("x.toml:1: bad")),
        ]
    }

    #[test]
    fn the_inbox_page_gets_no_command_hints() {
        for lang in [Lang::Zh, Lang::En, Lang::Ja] {
            for text in teaching_texts(lang) {
                assert!(
                    !text.contains("/reply") && !text.contains("/take"),
                    "{text}"
                );
            }
        }
        assert!(teaching_texts(Lang::Ja).iter().all(|t| japanese(t)));
        let card = card();
        for lang in [Lang::Zh, Lang::En, Lang::Ja] {
            for text in operator_texts(lang, &card) {
                let page = text.page();
                assert!(
                    !page.contains('/') || page.contains("/5"),
                    "{lang:?}: {page}"
                );
                assert!(!page.contains("[C-"), "{lang:?}: {page}");
                assert_eq!(text.clone().for_platform("web"), page);
                assert_eq!(text.clone().for_platform("telegram"), text.chat());
            }
            let taken = op::taken(lang, "C-7", "Li", "telegram", "recent");
            assert!(taken.chat().contains("/reply C-7"), "{lang:?}");
            assert!(taken.page().contains("C-7") && taken.page().contains("Li"));
            assert!(op::card(lang, &card).chat().contains("/take C-1001"));
        }
        let en = |text: op::OperatorText| text.for_platform("web");
        assert_eq!(
            en(op::taken(Lang::En, "C-7", "Li", "telegram", "r")),
            "You took C-7 (Li, telegram). Type your reply below."
        );
        let both = op::manager_case(Lang::En, "C-7", "Li", 5).then(op::card(Lang::En, &card));
        assert!(both.chat().ends_with("Take it: /take C-1001"));
        assert!(both
            .page()
            .starts_with("Your customer Li just opened case C-7."));
        assert!(both.page().ends_with("It is waiting in the queue."));
        assert_eq!(
            op::OperatorText::from("x".to_string()).for_platform("web"),
            "x"
        );
    }

    #[test]
    fn every_text_is_written_in_japanese_too() {
        let ja = Lang::Ja;
        let card = card();
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
            op::queue_header(ja, 1),
        ];
        for text in &texts {
            assert!(japanese(text), "not Japanese: {text}");
        }
        for text in operator_texts(ja, &card) {
            // The chat relay of a user's message is the user's own words, with no sentence of the bot's.
            let relay = text.chat().starts_with("[C-1] n (c):");
            assert!(relay || japanese(text.chat()), "not Japanese: {text:?}");
            assert!(japanese(text.page()), "not Japanese: {text:?}");
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
