//! The TOML configuration (docs/engine.md and each channel's page list the keys): every key optional, unknown keys rejected with `file:line`,
//! secrets also read from the environment and never printed by `Debug`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

mod channels;
mod customers;
mod database_url;
mod hours;
mod limits;
mod onebot;
mod operators;
mod sections;
mod store;
mod web;
mod wechat;

pub use channels::{
    forward_secret_var, webhook_secret_var, DiscordConfig, ForwardConfig, ForwardFormat,
    TelegramConfig, WebhookConfig, MIN_SECRET_BYTES,
};
pub use customers::{CustomersConfig, ManagerConfig};
pub use database_url::{DatabaseTls, DatabaseUrl};
pub use hours::{hhmm, HoursConfig, TimeRange, Tz};
pub use limits::LimitsConfig;
pub use onebot::OneBotConfig;
pub use operators::web_login;
pub use store::{StoreBackend, StoreConfig, DATABASE_URL_VAR};
pub use web::WebConfig;
pub use wechat::WeChatConfig;

/// Why the configuration could not be loaded. Displayed as one sentence, `file:line: problem` when located.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid: syntax, unknown key, bad value.
    #[error("{location}: {message}")]
    Invalid {
        /// `file:line` (or just the file when the line is unknown).
        location: String,
        /// What is wrong.
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[bot]`: name and directories.
    pub bot: BotConfig,
    /// `[hours]`: the bot's clock, working hours and peak hours.
    pub hours: HoursConfig,
    /// `[[operators]]`: who may use operator commands.
    pub operators: Vec<OperatorConfig>,
    /// `[[teams]]`: FAQ categories routed to teams and their operator rooms.
    pub teams: Vec<TeamConfig>,
    /// `[customers]`: enterprise accounts whose cases go first.
    pub customers: CustomersConfig,
    /// `[web]`: the web channel's listener.
    pub web: WebConfig,
    /// `[telegram]`, present when a token is configured (file or `TELEGRAM_BOT_TOKEN`).
    pub telegram: Option<TelegramConfig>,
    /// `[discord]`, present when a token is configured (file or `DISCORD_BOT_TOKEN`).
    pub discord: Option<DiscordConfig>,
    /// `[onebot]`: QQ through a OneBot v11 implementation.
    pub onebot: Option<OneBotConfig>,
    /// `[wechat]`: a WeChat Official Account.
    pub wechat: Option<WeChatConfig>,
    /// `[[webhooks]]`: generic HTTP channels.
    pub webhooks: Vec<WebhookConfig>,
    /// `[[forward]]`: inbox forwarding of case events to helpdesks and Slack-compatible hooks.
    pub forward: Vec<ForwardConfig>,
    /// `[outbox]`: retry and give-up policy of outgoing messages.
    pub outbox: OutboxConfig,
    /// `[store]`: the backend (sled or PostgreSQL) and its settings.
    pub store: StoreConfig,
    /// `[limits]`: per-account message rate, engine queues, case-link verification.
    pub limits: LimitsConfig,
}

/// `[bot]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BotConfig {
    /// Display name of the bot, used in greetings.
    pub name: String,
    /// Where sled keeps the state.
    pub data_dir: PathBuf,
    /// The FAQ directory (the built-in FAQ is used when it does not exist).
    pub faq_dir: PathBuf,
    /// Language of the bot's messages to operators (`zh`, `en` or `ja`).
    pub operator_lang: String,
    /// The users' language when neither their words nor their platform tell (`zh`, `en` or `ja`).
    pub lang: String,
}

impl Default for BotConfig {
    fn default() -> Self {
        BotConfig {
            name: "QQ邮箱客服".into(),
            data_dir: "data".into(),
            faq_dir: "faq".into(),
            operator_lang: "zh".into(),
            lang: "zh".into(),
        }
    }
}

/// One `[[operators]]` entry. Its `Debug` leaves the password hash out.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// The name users see when the operator joins.
    pub name: String,
    /// `platform:id` accounts of this person (fixed ids, never handles).
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Teams the operator works in.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Argon2 hash of the operator's inbox password (`supportbot operator passwd`); the inbox signs them in
    /// as `web:<name>`, name lower-cased, and that account is added to `accounts`.
    #[serde(default)]
    pub web_password: Option<String>,
}

impl std::fmt::Debug for OperatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorConfig")
            .field("name", &self.name)
            .field("accounts", &self.accounts)
            .field("teams", &self.teams)
            .field(
                "web_password",
                &self.web_password.as_ref().map(|_| "<hash>"),
            )
            .finish()
    }
}

/// One `[[teams]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    /// Team name (`mail`, `security`).
    pub name: String,
    /// FAQ categories routed here; a team with none catches every other category.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Operator rooms (`platform:chat`) where the team's case cards are posted.
    #[serde(default)]
    pub rooms: Vec<String>,
}

/// `[outbox]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// A message not accepted after this long is given up and its case's operator told.
    pub give_up_after_secs: u64,
    /// First retry delay; doubles on every failure (with jitter).
    pub retry_base_ms: u64,
    /// Longest delay between two attempts.
    pub retry_max_secs: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            give_up_after_secs: 24 * 3600,
            retry_base_ms: 1000,
            retry_max_secs: 300,
        }
    }
}

impl Config {
    /// Loads the file, or the defaults when `path` is `None`, then applies the environment's secrets.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = match path {
            None => Config::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                Config::parse(&text, &path.display().to_string())?
            }
        };
        let get = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        config.apply_env(get);
        store::apply_env(&mut config.store, &get)?;
        config.check_env_secrets()?;
        Ok(config)
    }

    /// Checks the secrets the environment filled in (the file's were checked when it was parsed): a short
    /// one is an error naming its variable.
    pub fn check_env_secrets(&self) -> Result<(), ConfigError> {
        channels::check_env_secrets(self)
    }

    /// Parses TOML text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|err| ConfigError::Invalid {
            location: match err.span() {
                Some(span) => format!("{file}:{}", line_at(text, span.start)),
                None => file.to_string(),
            },
            message: err.message().trim().to_string(),
        })?;
        config.validate(text, file)?;
        operators::check(&config, text, file)?;
        operators::add_web_accounts(&mut config);
        Ok(config)
    }

    /// Fills secrets from the environment (`get` returns a variable's value).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        if let Some(token) = get("TELEGRAM_BOT_TOKEN") {
            self.telegram
                .get_or_insert_with(TelegramConfig::default)
                .token = token;
        }
        if let Some(token) = get("DISCORD_BOT_TOKEN") {
            self.discord
                .get_or_insert_with(DiscordConfig::default)
                .token = token;
        }
        if let (Some(secret), Some(wechat)) = (get("WECHAT_APP_SECRET"), self.wechat.as_mut()) {
            wechat.app_secret = secret;
        }
        if let (Some(token), Some(onebot)) = (get("ONEBOT_ACCESS_TOKEN"), self.onebot.as_mut()) {
            onebot.access_token = Some(token);
        }
        if let Some(token) = get("SUPPORTBOT_WEB_TOKEN") {
            self.web.token = Some(token);
        }
        if let Some(token) = get("SUPPORTBOT_METRICS_TOKEN") {
            self.web.metrics_token = Some(token);
        }
        for hook in &mut self.webhooks {
            if hook.secret.is_empty() {
                if let Some(secret) = get(&webhook_secret_var(&hook.channel)) {
                    hook.secret = secret;
                }
            }
        }
        for target in &mut self.forward {
            if target.secret.is_empty() {
                if let Some(secret) = get(&forward_secret_var(&target.name)) {
                    target.secret = secret;
                }
            }
        }
    }

    fn validate(&self, text: &str, file: &str) -> Result<(), ConfigError> {
        let invalid = |needle: &str, message: String| ConfigError::Invalid {
            location: match text.find(needle) {
                Some(at) => format!("{file}:{}", line_at(text, at)),
                None => file.to_string(),
            },
            message,
        };
        let accounts = self.operators.iter().flat_map(|o| o.accounts.iter());
        let rooms = self.teams.iter().flat_map(|t| t.rooms.iter());
        let managed = self
            .customers
            .managers
            .iter()
            .flat_map(|m| m.accounts.iter());
        for id in accounts
            .chain(rooms)
            .chain(&self.customers.enterprise)
            .chain(managed)
        {
            if split_account(id).is_none() {
                return Err(invalid(
                    id,
                    format!("`{id}` is not a `platform:id` account or room"),
                ));
            }
        }
        if !self.teams.is_empty() {
            for op in &self.operators {
                if let Some(team) = op
                    .teams
                    .iter()
                    .find(|t| !self.teams.iter().any(|c| &c.name == *t))
                {
                    return Err(invalid(
                        team,
                        format!("operator {} names unknown team `{team}`", op.name),
                    ));
                }
            }
        }
        sections::check(self, text, file)?;
        store::check(&self.store, |key| {
            let at = text.find("[store]").map_or(0, |start| {
                text[start..].find(key).map_or(start, |k| start + k)
            });
            format!("{file}:{}", line_at(text, at))
        })?;
        if !matches!(self.bot.lang.as_str(), "zh" | "en" | "ja") {
            return Err(invalid(
                "lang",
                "[bot] lang must be \"zh\", \"en\" or \"ja\"".into(),
            ));
        }
        channels::check(self, text, file)?;
        if !matches!(self.bot.operator_lang.as_str(), "zh" | "en" | "ja") {
            return Err(invalid(
                "operator_lang",
                "operator_lang must be \"zh\", \"en\" or \"ja\"".into(),
            ));
        }
        Ok(())
    }

    /// The operator entry owning a `platform:id` account.
    pub fn operator(&self, account: &str) -> Option<&OperatorConfig> {
        self.operators
            .iter()
            .find(|o| o.accounts.iter().any(|a| a == account))
    }

    /// Whether the account's cases go first: an enterprise account, or a customer with an account manager.
    pub fn is_enterprise(&self, account: &str) -> bool {
        self.customers.enterprise.iter().any(|a| a == account) || self.manager_of(account).is_some()
    }

    /// The account manager (an operator) of a customer's account.
    pub fn manager_of(&self, account: &str) -> Option<&OperatorConfig> {
        let manager = self
            .customers
            .managers
            .iter()
            .find(|m| m.accounts.iter().any(|a| a == account))?;
        self.operators.iter().find(|o| o.name == manager.operator)
    }

    /// Whether `platform:chat` is one of the teams' operator rooms.
    pub fn is_operator_room(&self, platform: &str, chat: &str) -> bool {
        self.teams
            .iter()
            .flat_map(|t| &t.rooms)
            .any(|r| split_account(r) == Some((platform, chat)))
    }

    /// The team a case of this FAQ category goes to.
    pub fn team_for(&self, category: Option<&str>) -> String {
        if self.teams.is_empty() {
            return category.unwrap_or("general").to_string();
        }
        if let Some(cat) = category {
            if let Some(team) = self
                .teams
                .iter()
                .find(|t| t.categories.iter().any(|c| c == cat))
            {
                return team.name.clone();
            }
        }
        match self.teams.iter().find(|t| t.categories.is_empty()) {
            Some(team) => team.name.clone(),
            None => self.teams[0].name.clone(),
        }
    }

    /// The operator rooms of a team, as `(platform, chat)`.
    pub fn rooms_of(&self, team: &str) -> Vec<(String, String)> {
        self.teams
            .iter()
            .filter(|t| t.name == team)
            .flat_map(|t| &t.rooms)
            .filter_map(|r| split_account(r).map(|(p, c)| (p.to_string(), c.to_string())))
            .collect()
    }

    /// Whether a team name exists (any name is accepted when no teams are configured).
    pub fn team_exists(&self, team: &str) -> bool {
        self.teams.is_empty() || self.teams.iter().any(|t| t.name == team)
    }
}

/// Splits `platform:id` at its first colon; `None` when either part is empty.
pub fn split_account(account: &str) -> Option<(&str, &str)> {
    let (platform, id) = account.split_once(':')?;
    (!platform.is_empty() && !id.is_empty()).then_some((platform, id))
}

fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    #[test]
    fn defaults_without_a_file() {
        let c = Config::default();
        assert_eq!(c.web.listen, "127.0.0.1:8080");
        assert_eq!(c.bot.data_dir, PathBuf::from("data"));
        assert_eq!(c.hours.peak.len(), 2);
        assert_eq!(c.team_for(Some("mail")), "mail");
        assert_eq!(c.team_for(None), "general");
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let err = Config::parse("[bot]\nname = \"x\"\nnmae = \"y\"\n", "bot.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("bot.toml:3:"), "{err}");
        assert!(err.contains("nmae"), "{err}");
    }

    #[test]
    fn bad_time_range_is_located() {
        let err = Config::parse("[hours]\nopen = \"9-22\"\n", "h.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("h.toml:2:"), "{err}");
    }

    #[test]
    fn teams_route_categories_with_a_catch_all() {
        let c = Config::parse(
            "[[teams]]\nname = \"security\"\ncategories = [\"account\"]\nrooms = [\"telegram:-100999\"]\n\
             [[teams]]\nname = \"mail\"\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(c.team_for(Some("account")), "security");
        assert_eq!(c.team_for(Some("features")), "mail");
        assert_eq!(
            c.rooms_of("security"),
            vec![("telegram".to_string(), "-100999".to_string())]
        );
        assert!(c.is_operator_room("telegram", "-100999"));
    }

    #[test]
    fn bad_account_and_unknown_team_are_errors() {
        let err = Config::parse(
            "[[operators]]\nname = \"W\"\naccounts = [\"5001\"]\n",
            "o.toml",
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("o.toml:3:"), "{err}");
        let err = Config::parse(
            "[[teams]]\nname = \"a\"\n[[operators]]\nname = \"W\"\nteams = [\"b\"]\n",
            "o.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown team"), "{err}");
    }

    #[test]
    fn env_tokens_and_redacted_debug() {
        let mut c = Config::parse("[[webhooks]]\nchannel = \"forum-x\"\n", "w.toml").unwrap();
        c.apply_env(|k| match k {
            "TELEGRAM_BOT_TOKEN" => Some("123:SECRET".into()),
            "SUPPORTBOT_WEBHOOK_SECRET_FORUM_X" => Some("hooksecret".into()),
            _ => None,
        });
        assert_eq!(c.telegram.as_ref().unwrap().token, "123:SECRET");
        assert_eq!(c.webhooks[0].secret, "hooksecret");
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("SECRET") && !debug.contains("hooksecret"),
            "{debug}"
        );
    }

    #[test]
    fn ranges_wrap_midnight() {
        let r = TimeRange::parse("22:00-06:00").unwrap();
        assert!(r.contains(NaiveTime::from_hms_opt(23, 0, 0).unwrap()));
        assert!(r.contains(NaiveTime::from_hms_opt(5, 59, 0).unwrap()));
        assert!(!r.contains(NaiveTime::from_hms_opt(6, 0, 0).unwrap()));
        assert_eq!(
            Tz::parse("+05:30").unwrap().0.local_minus_utc(),
            5 * 3600 + 1800
        );
        assert!(Tz::parse("Asia/Shanghai").is_none());
    }
}
