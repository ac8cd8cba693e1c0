//! Checks of the sections that need more than their types: QQ and WeChat channel settings, account managers
//! that must be operators, and the `[limits]` minimums; each error located as `file:line`.

use super::{line_at, Config, ConfigError, OneBotConfig, WeChatConfig};

/// The first problem of these sections, located in `text`.
pub(super) fn check(config: &Config, text: &str, file: &str) -> Result<(), ConfigError> {
    let invalid = |needle: &str, message: String| ConfigError::Invalid {
        location: match text.find(needle) {
            Some(at) => format!("{file}:{}", line_at(text, at)),
            None => file.to_string(),
        },
        message,
    };
    let sections = [
        (
            "[onebot]",
            config.onebot.as_ref().and_then(OneBotConfig::problem),
        ),
        (
            "[wechat]",
            config.wechat.as_ref().and_then(WeChatConfig::problem),
        ),
    ];
    for (section, problem) in sections {
        if let Some((key, message)) = problem {
            let at = text.find(section).map_or(0, |start| {
                text[start..].find(key).map_or(start, |k| start + k)
            });
            return Err(ConfigError::Invalid {
                location: format!("{file}:{}", line_at(text, at)),
                message,
            });
        }
    }
    for manager in &config.customers.managers {
        if !config.operators.iter().any(|o| o.name == manager.operator) {
            return Err(invalid(
                &format!("\"{}\"", manager.operator),
                format!(
                    "customers.managers: `{}` is not the name of an [[operators]] entry",
                    manager.operator
                ),
            ));
        }
    }
    if config.limits.queue_per_worker == 0 || config.limits.wrong_codes_per_link == 0 {
        return Err(invalid(
            "[limits]",
            "limits.queue_per_worker and limits.wrong_codes_per_link must be at least 1".into(),
        ));
    }
    Ok(())
}
