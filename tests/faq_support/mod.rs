//! A team's own knowledge base for the FAQ tests: its entries beside the project's general lexicon, copied
//! unchanged as a team adopting the bot would do.

use supportbot::faq::{Faq, FaqSource};

/// A knowledge base of `toml` beside the general lexicon.
pub fn team_faq(toml: &str) -> Faq {
    Faq::from_source(FaqSource::from_files(vec![
        ("faq.toml".into(), toml.into()),
        (
            "lexicon.toml".into(),
            include_str!("../../faq/lexicon.toml").into(),
        ),
    ]))
    .unwrap()
}
