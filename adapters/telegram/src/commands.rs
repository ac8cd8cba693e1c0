//! The user commands shown in Telegram's command menu, in Chinese, English and Japanese (`setMyCommands`).

use teloxide::payloads::SetMyCommandsSetters;
use teloxide::requests::Requester;
use teloxide::types::BotCommand;
use teloxide::Bot;

use crate::error::{describe, TelegramError};

/// `(command, Chinese, English, Japanese description)` of the user commands (docs/engine.md).
const COMMANDS: &[(&str, &str, &str, &str)] = &[
    ("start", "开始咨询", "Start", "相談を始める"),
    (
        "help",
        "帮助与常见问题",
        "Help and common questions",
        "ヘルプとよくある質問",
    ),
    (
        "human",
        "转人工客服",
        "Talk to a human agent",
        "担当者と話す",
    ),
    (
        "status",
        "查看我的工单",
        "Status of my case",
        "案件の状況を見る",
    ),
    (
        "cancel",
        "取消当前操作",
        "Cancel the current step",
        "進行中の操作をやめる",
    ),
    (
        "lang",
        "切换语言：/lang zh、/lang en 或 /lang ja",
        "Switch language: /lang zh, /lang en or /lang ja",
        "言語の切り替え:/lang zh、/lang en、/lang ja",
    ),
];

/// The menu in one language (`zh`, `ja`, or anything else for English).
pub fn menu(lang: &str) -> Vec<BotCommand> {
    COMMANDS
        .iter()
        .map(|(cmd, zh, en, ja)| {
            let text = match lang {
                "zh" => *zh,
                "ja" => *ja,
                _ => *en,
            };
            BotCommand::new(*cmd, text)
        })
        .collect()
}

/// Publishes the menu: Chinese for users whose Telegram is in Chinese, Japanese for Japanese, English for
/// everyone else.
pub async fn publish(bot: &Bot, token: &str) -> Result<(), TelegramError> {
    let failed = |err: teloxide::RequestError| TelegramError::Call {
        call: "setMyCommands",
        reason: describe(&err, token),
    };
    bot.set_my_commands(menu("zh"))
        .language_code("zh")
        .await
        .map_err(failed)?;
    bot.set_my_commands(menu("en"))
        .language_code("en")
        .await
        .map_err(failed)?;
    bot.set_my_commands(menu("ja"))
        .language_code("ja")
        .await
        .map_err(failed)?;
    bot.set_my_commands(menu("en")).await.map_err(failed)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_follow_telegram_rules() {
        for lang in ["zh", "en", "ja"] {
            for c in menu(lang) {
                assert!(
                    c.command.len() <= 32 && c.command.chars().all(|ch| ch.is_ascii_lowercase())
                );
                assert!(!c.description.is_empty() && c.description.chars().count() <= 256);
            }
        }
        assert_eq!(menu("zh")[2].description, "转人工客服");
        assert_eq!(menu("en")[2].description, "Talk to a human agent");
        assert_eq!(menu("ja")[2].description, "担当者と話す");
    }
}
