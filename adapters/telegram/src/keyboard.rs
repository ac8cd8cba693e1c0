//! Inline keyboards for the engine's reply choices, and mapping a pressed button back to its label.
//!
//! Telegram limits callback data to 64 bytes, less than many FAQ questions. A short label travels whole
//! (`t:<label>`); a longer one travels as its position (`i:<n>`) and is read back from the keyboard of the
//! message the button belongs to, which Telegram sends along with the press. No state is kept, so presses
//! work across restarts.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardButtonKind, InlineKeyboardMarkup};

/// Telegram's limit on callback data, in bytes.
const MAX_DATA: usize = 64;

/// Telegram's limit on a button's label, in characters (longer labels are shortened with `…`).
const MAX_LABEL: usize = 120;

/// One button per row, so long labels stay readable.
pub fn markup(labels: &[String]) -> InlineKeyboardMarkup {
    let rows = labels.iter().enumerate().map(|(index, label)| {
        let shown = shorten(label);
        vec![InlineKeyboardButton::callback(
            shown,
            callback_data(index, label),
        )]
    });
    InlineKeyboardMarkup::new(rows)
}

/// The callback data of the button at `index` with this label.
pub fn callback_data(index: usize, label: &str) -> String {
    let whole = format!("t:{label}");
    if whole.len() <= MAX_DATA && shorten(label) == *label {
        whole
    } else {
        format!("i:{index}")
    }
}

/// The label a press stands for, given its data and (when the message is still accessible) its keyboard.
pub fn label_of(data: &str, markup: Option<&InlineKeyboardMarkup>) -> Option<String> {
    if let Some(label) = data.strip_prefix("t:") {
        return Some(label.to_string());
    }
    markup?
        .inline_keyboard
        .iter()
        .flatten()
        .find(|b| matches!(&b.kind, InlineKeyboardButtonKind::CallbackData(d) if d == data))
        .map(|b| b.text.clone())
}

fn shorten(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL {
        label.to_string()
    } else {
        let mut cut: String = label.chars().take(MAX_LABEL - 1).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_labels_travel_whole_and_long_ones_by_index() {
        let long = "我的邮件发送失败，提示 554 DT:SPM，应该怎么处理才能正常发出去".to_string();
        let labels = vec!["是".to_string(), long.clone()];
        let kb = markup(&labels);
        assert_eq!(callback_data(0, "是"), "t:是");
        assert_eq!(callback_data(1, &long), "i:1");
        assert_eq!(label_of("t:是", None).as_deref(), Some("是"));
        assert_eq!(label_of("i:1", Some(&kb)).as_deref(), Some(long.as_str()));
        assert_eq!(label_of("i:1", None), None);
        assert_eq!(label_of("i:7", Some(&kb)), None);
    }

    #[test]
    fn every_callback_fits_telegram_limits() {
        let labels: Vec<String> = (0..5).map(|i| format!("{i} {}", "x".repeat(200))).collect();
        for (i, row) in markup(&labels).inline_keyboard.iter().enumerate() {
            let InlineKeyboardButtonKind::CallbackData(d) = &row[0].kind else {
                panic!("not a callback")
            };
            assert!(d.len() <= MAX_DATA);
            assert_eq!(d, &format!("i:{i}"));
            assert!(row[0].text.chars().count() <= MAX_LABEL);
        }
    }
}
