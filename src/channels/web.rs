//! Starts the web channel for `serve`: the operator token (config, environment, or a file made on first start),
//! the listener, the inbox operator account, the `web` adapter registered with the engine, and the server task.
//! On a store several processes share, the pages' history and live messages go through the store's mailboxes
//! ([`supportbot_chat::PageMail`]), so a page may be connected to any process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use supportbot_chat::{AnswerBook, Shutdown, StatsPage, SuggestedAnswer};
use supportbot_web::{
    bind, load_or_create_secret, Core, MetricsAccess, SharedPages, WebChannel, WebError, WebLimits,
    WebOperator, WebSettings,
};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::engine::Engine;
use crate::i18n::operator_page::{self as page, NotTaught};

/// Re-exported so `serve` can merge other channels' routes without naming axum.
pub use supportbot_web::Router;

/// The user id of the inbox operator on the `web` platform (account `web:admin`).
pub const INBOX_OPERATOR: &str = "admin";
/// Name users see for the inbox operator unless `[[operators]]` names the `web:admin` account.
pub const DEFAULT_OPERATOR_NAME: &str = "Operator";
/// Name of the file in the data directory that keeps the operator token made on first start.
pub const TOKEN_FILE: &str = "operator_token";

/// Where the operator token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `[web] token` or `SUPPORTBOT_WEB_TOKEN`.
    Config,
    /// The token file in the data directory; `created` when it was made by this start.
    File {
        /// The file.
        path: PathBuf,
        /// Whether it was created now.
        created: bool,
    },
}

/// A running web channel.
pub struct WebStarted {
    /// The channel (also the engine's `web` adapter).
    pub channel: Arc<WebChannel>,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Base URL of the chat page.
    pub url: String,
    /// Where the operator token came from.
    pub token_source: TokenSource,
    /// The operator token (for printing once on first start; never logged).
    pub token: String,
    /// The server task; ends after shutdown.
    pub task: JoinHandle<Result<(), WebError>>,
    /// The address of `/metrics`' own listener, when `[web] metrics_listen` is set.
    pub metrics_addr: Option<SocketAddr>,
    /// The metrics listener's task, when there is one.
    pub metrics_task: Option<JoinHandle<Result<(), WebError>>>,
}

/// The web channel's limits: `[web]`'s keys over the defaults.
pub fn limits(config: &Config) -> WebLimits {
    const MIB: u64 = 1024 * 1024;
    let web = &config.web;
    let d = WebLimits::default();
    let secs = std::time::Duration::from_secs;
    WebLimits {
        new_sessions_per_ip_per_hour: web
            .new_sessions_per_ip_per_hour
            .unwrap_or(d.new_sessions_per_ip_per_hour),
        new_sessions_per_minute: web
            .new_sessions_per_minute
            .unwrap_or(d.new_sessions_per_minute),
        uploads_per_ip_per_hour: web
            .uploads_per_ip_per_hour
            .unwrap_or(d.uploads_per_ip_per_hour),
        uploads_per_minute: web.uploads_per_minute.unwrap_or(d.uploads_per_minute),
        case_opens_per_ip_per_hour: web
            .case_opens_per_ip_per_hour
            .unwrap_or(d.case_opens_per_ip_per_hour),
        case_opens_per_hour: web.case_opens_per_hour.unwrap_or(d.case_opens_per_hour),
        upload_quota_bytes: web
            .upload_quota_mb
            .map_or(d.upload_quota_bytes, |mb| mb.saturating_mul(MIB)),
        upload_quota_files: web.upload_quota_files.unwrap_or(d.upload_quota_files),
        upload_total_bytes: web
            .uploads_total_mb
            .map_or(d.upload_total_bytes, |mb| mb.saturating_mul(MIB)),
        upload_retention: web
            .upload_retention_days
            .map_or(d.upload_retention, |days| {
                secs(days.saturating_mul(24 * 3600))
            }),
        max_connections: web.max_connections.map_or(d.max_connections, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        }),
        max_connections_per_ip: web
            .max_connections_per_ip
            .map_or(d.max_connections_per_ip, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            }),
        header_read_timeout: web
            .header_read_timeout_secs
            .map_or(d.header_read_timeout, secs),
        ws_ping_interval: web.ws_ping_secs.map_or(d.ws_ping_interval, secs),
        ws_idle_timeout: web.ws_idle_secs.map_or(d.ws_idle_timeout, secs),
    }
}

/// The stats dashboard of the engine's store, for `/inbox/stats`.
struct Dashboard(Engine);

impl StatsPage for Dashboard {
    fn dashboard_html(&self) -> Result<String, String> {
        let config = self.0.config();
        let tz = config.hours.timezone.0;
        let now = chrono::Utc::now().with_timezone(&tz);
        // The inbox calls this on a blocking thread, where waiting for the store's reads is allowed.
        let faq = self.0.faq();
        let gather = crate::report::gather(self.0.store(), &faq, &config.bot.name, tz, now);
        tokio::runtime::Handle::current()
            .block_on(gather)
            .map(|d| crate::report::render(&d))
            .map_err(|e| e.to_string())
    }
}

/// The engine's current knowledge base as the inbox's one-click answers.
struct FaqAnswers(Engine);

impl AnswerBook for FaqAnswers {
    fn answer(&self, faq: &str, lang: &str) -> Option<SuggestedAnswer> {
        let kb = self.0.faq();
        let entry = kb.entry(faq)?;
        let mut lang = crate::faq::Lang::parse(lang).unwrap_or(crate::faq::Lang::En);
        if lang == crate::faq::Lang::Ja && entry.answer.ja.is_none() {
            // Japanese users get the English answer where the entry has no Japanese one.
            lang = crate::faq::Lang::En;
        }
        Some(SuggestedAnswer {
            faq: entry.id.clone(),
            question: entry.title(lang).to_string(),
            answer: entry.answer.get(lang).clone(),
            lang: lang.code().to_string(),
        })
    }

    fn teach(&self, case: &str, faq: &str, operator: &str) -> Result<String, String> {
        let lang = crate::i18n::from_code(&self.0.config().bot.operator_lang);
        let refuse = |why: NotTaught<'_>| page::not_taught(lang, case, why);
        // The inbox calls this on a blocking thread, where waiting for the store's reads is allowed.
        let find = crate::cases::view::find(self.0.store(), case);
        let record = tokio::runtime::Handle::current()
            .block_on(find)
            .map_err(|e| refuse(NotTaught::Refused(&e.to_string())))?
            .ok_or_else(|| refuse(NotTaught::NoCase))?;
        if record.assignee.as_deref() != Some(operator) {
            return Err(refuse(NotTaught::NotHolder));
        }
        let question = record.subject.trim();
        if question.is_empty() {
            return Err(refuse(NotTaught::NoQuestion));
        }
        let dir = &self.0.config().bot.faq_dir;
        if !dir.is_dir() {
            return Err(refuse(NotTaught::BuiltIn(&dir.display().to_string())));
        }
        let file = crate::faq::teach(dir, faq, &record.lang, question, Some(case))
            .map_err(|e| refuse(NotTaught::Refused(&e.to_string())))?;
        Ok(page::taught(
            lang,
            question,
            case,
            faq,
            &file.display().to_string(),
        ))
    }
}

/// The team's canned replies file: `[web] canned_replies`, by default `canned.toml` beside the FAQ directory.
pub fn canned_path(config: &Config) -> PathBuf {
    config
        .web
        .canned_replies
        .clone()
        .unwrap_or_else(|| config.bot.faq_dir.with_file_name("canned.toml"))
}

/// The operators who sign in to the inbox with a password of their own (`[[operators]] web_password`), as
/// `web:<name>` with the name lower-cased.
pub fn web_operators(config: &Config) -> Vec<WebOperator> {
    config
        .operators
        .iter()
        .filter_map(|o| {
            Some(WebOperator {
                login: crate::config::web_login(&o.name),
                name: o.name.clone(),
                teams: o.teams.clone(),
                password_hash: o.web_password.clone()?,
            })
        })
        .collect()
}

/// The operator token: `[web] token` / `SUPPORTBOT_WEB_TOKEN`, else the data directory's token file (made now
/// when missing).
pub fn operator_token(config: &Config) -> Result<(String, TokenSource), WebError> {
    if let Some(token) = config
        .web
        .token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Ok((token.to_string(), TokenSource::Config));
    }
    let path = config.bot.data_dir.join(TOKEN_FILE);
    let (token, created) = load_or_create_secret(&path)?;
    Ok((token, TokenSource::File { path, created }))
}

/// Binds `[web] listen`, registers the inbox operator and the `web` adapter with the engine, and serves the
/// chat, inbox, API and metrics (plus `extra` routes, e.g. the webhook channel's) until `shutdown`.
pub async fn start(
    config: &Config,
    engine: &Engine,
    extra: Router,
    shutdown: Shutdown,
) -> Result<WebStarted, WebError> {
    let (token, token_source) = operator_token(config)?;
    let listener = bind(&config.web.listen).await?;
    let metrics_listener = match &config.web.metrics_listen {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let metrics_addr = match &metrics_listener {
        Some(l) => Some(l.local_addr().map_err(|e| WebError::Listen {
            addr: config.web.metrics_listen.clone().unwrap_or_default(),
            reason: e.to_string(),
        })?),
        None => None,
    };
    let addr = listener.local_addr().map_err(|e| WebError::Listen {
        addr: config.web.listen.clone(),
        reason: e.to_string(),
    })?;
    let url = format!("http://{addr}");
    let public_url = config.web.public_url.clone().unwrap_or_else(|| url.clone());
    let mut settings = WebSettings::new(&config.bot.data_dir, public_url, token.clone());
    settings.inbox_operator = INBOX_OPERATOR.to_string();
    // The name users see when the inbox operator joins: the `[[operators]]` entry holding `web:admin`, if any.
    let account = format!("web:{INBOX_OPERATOR}");
    settings.inbox_operator_name = config
        .operator(&account)
        .map(|o| o.name.clone())
        .unwrap_or_else(|| DEFAULT_OPERATOR_NAME.to_string());
    settings.bot_name = config.bot.name.clone();
    settings.allowed_origins = config.web.allowed_origins.clone();
    if let Some(n) = config.web.messages_per_minute {
        settings.messages_per_minute = n;
    }
    if let Some(n) = config.web.burst {
        settings.burst = n;
    }
    settings.max_text_chars = crate::engine::MAX_TEXT_CHARS;
    settings.limits = limits(config);
    settings.operators = web_operators(config);
    settings.canned_path = Some(canned_path(config));
    if let Err(problem) = supportbot_web::load_canned(&canned_path(config)) {
        tracing::warn!(%problem, "the canned replies file is broken; the inbox reports it until it is fixed");
    }
    if let Some(hours) = config.web.session_hours {
        settings.session_ttl = std::time::Duration::from_secs(hours.saturating_mul(3600));
    }
    if let Some(n) = config.web.signin_attempts {
        settings.signin_attempts = n;
    }
    if let Some(on) = config.web.typing_indicator {
        settings.typing_indicator = on;
    }
    let metrics_token = config
        .web
        .metrics_token
        .as_deref()
        .map(str::trim)
        .map(str::to_string);
    settings.metrics = if metrics_listener.is_some() {
        MetricsAccess::Separate(metrics_token)
    } else {
        MetricsAccess::Bearer(metrics_token)
    };
    engine.add_operator(&settings.inbox_operator_name, &account);
    let core = Core {
        sink: Arc::new(engine.clone()),
        cases: Arc::new(engine.clone()),
        metrics: Arc::new(engine.clone()),
        answers: Arc::new(FaqAnswers(engine.clone())),
        stats: Arc::new(Dashboard(engine.clone())),
    };
    let shared = match engine.store().page_mail() {
        Some(mail) => {
            let pages = SharedPages::open(mail).await.map_err(|e| {
                WebError::Secret(format!("cannot read the shared session key: {e}"))
            })?;
            // A store that keeps the pages' mailboxes keeps their uploads too, so that every process serves
            // every file.
            Some(match engine.store().page_files() {
                Some(files) => pages.with_files(files),
                None => pages,
            })
        }
        None => None,
    };
    let shared_pages = shared.is_some();
    let channel = WebChannel::open_with_mail(settings, core, shared, shutdown)?;
    engine.register_adapter(channel.adapter());
    let task = tokio::spawn(channel.clone().serve(listener, extra));
    let metrics_task = metrics_listener.map(|l| tokio::spawn(channel.clone().serve_metrics(l)));
    tracing::info!(%addr, operator = %account, shared_pages, "web channel started");
    Ok(WebStarted {
        channel,
        addr,
        url,
        token_source,
        token,
        task,
        metrics_addr,
        metrics_task,
    })
}
