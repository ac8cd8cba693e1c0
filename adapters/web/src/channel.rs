//! The web channel's shared state and the one path every user or operator message takes into the core:
//! limits, rate limit, `InboundSink::accept`, then the session history.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use supportbot_chat::{
    Accepted, AnswerBook, Attachment, CaseDirectory, Inbound, InboundSink, MetricsSource, Shutdown,
    SinkError, StatsPage,
};

use crate::frames::{MessageFrame, Refusal, ServerFrame};
use crate::gates::{Gate, Gates, Limited};
use crate::history::History;
use crate::hub::Hub;
use crate::i18n::{Lang, Notice};
use crate::mailroom::{self, SharedPages};
use crate::search::SearchIndex;
use crate::secrets::{load_or_create_secret, random_hex, Signer};
use crate::sign_ins::SignIns;
use crate::signin::{Failures, Operator, Sessions};
use crate::stats::WebStats;
use crate::status::CaseTracker;
use crate::upload_book::UploadBook;
use crate::upload_store::{SharedFiles, Uploads};
use crate::{WebError, WebSettings};
use supportbot_chat::{MailError, PageMail};

/// Operator notifications kept for an inbox page that opens later.
pub(crate) const INBOX_RECENT: usize = 100;

/// The core as the web channel uses it.
#[derive(Clone)]
pub struct Core {
    /// Where messages go.
    pub sink: Arc<dyn InboundSink>,
    /// The cases the inbox shows.
    pub cases: Arc<dyn CaseDirectory>,
    /// The figures `/metrics` serves.
    pub metrics: Arc<dyn MetricsSource>,
    /// FAQ answers the inbox offers as replies.
    pub answers: Arc<dyn AnswerBook>,
    /// The stats dashboard of `/inbox/stats`.
    pub stats: Arc<dyn StatsPage>,
}

/// What the outbox side needs (session histories, open sockets, case status): shared by the channel and the
/// adapter the engine holds. It holds no reference to the core, so the engine and the channel do not keep each
/// other alive.
pub(crate) struct Outlet {
    pub(crate) settings: WebSettings,
    /// The pages' mailboxes in the shared store, when several processes serve the pages; otherwise the
    /// history is kept in [`Outlet::history`] and the inbox's notices in [`Outlet::inbox_recent`].
    pub(crate) mail: Option<Arc<dyn PageMail>>,
    /// Per-session locks, and the session histories when there is no shared mail.
    pub(crate) history: History,
    pub(crate) chats: Hub,
    pub(crate) inbox: Hub,
    /// Recent notifications per inbox operator id.
    pub(crate) inbox_recent: Mutex<HashMap<String, VecDeque<MessageFrame>>>,
    pub(crate) tracker: CaseTracker,
    pub(crate) stats: WebStats,
    /// Uploaded files: in the data directory, or in the shared store when it keeps them.
    pub(crate) uploads: Uploads,
}

/// The web channel: chat page, operator inbox, JSON API, uploads; [`WebChannel::adapter`] is the `web` adapter
/// the engine's outbox delivers through.
pub struct WebChannel {
    pub(crate) out: Arc<Outlet>,
    pub(crate) signer: Signer,
    pub(crate) core: Core,
    pub(crate) limiter: DefaultKeyedRateLimiter<String>,
    pub(crate) gates: Gates,
    pub(crate) sessions: SignIns,
    pub(crate) failures: Failures,
    pub(crate) search: SearchIndex,
    pub(crate) shutdown: Shutdown,
}

/// The `web` adapter: delivers the core's messages to visitors' sessions and to the inbox.
pub struct WebAdapter {
    pub(crate) out: Arc<Outlet>,
}

impl WebChannel {
    /// Opens the channel's state in `settings.data_dir` (server key, session histories, uploads). Sockets
    /// close when `shutdown` fires.
    pub fn open(
        settings: WebSettings,
        core: Core,
        shutdown: Shutdown,
    ) -> Result<Arc<WebChannel>, WebError> {
        WebChannel::open_with_mail(settings, core, None, shutdown)
    }

    /// [`WebChannel::open`], with the pages' history and live messages going through `shared` (a store that
    /// every process serving the pages shares, whose session key they all use) when given.
    pub fn open_with_mail(
        settings: WebSettings,
        core: Core,
        shared: Option<SharedPages>,
        shutdown: Shutdown,
    ) -> Result<Arc<WebChannel>, WebError> {
        if settings.operator_token.trim().len() < 16 {
            return Err(WebError::Secret(
                "the operator token must be at least 16 characters long".into(),
            ));
        }
        let state = settings.state_dir();
        let (key, mail, files) = match shared {
            Some(shared) => (shared.key, Some(shared.mail), shared.files),
            None => (
                load_or_create_secret(&state.join("server.key"))?.0,
                None,
                None,
            ),
        };
        let history = History::open(&state.join("sessions"), settings.history_len)?;
        let uploads = match files {
            Some(files) => Uploads::Shared(SharedFiles::new(
                files,
                settings.uploads_dir(),
                settings.limits.clone(),
            )),
            None => Uploads::Local(UploadBook::open(
                &settings.uploads_dir(),
                settings.limits.clone(),
            )?),
        };
        let gates = Gates::new(&settings.limits);
        let sessions = match &mail {
            Some(mail) => SignIns::Shared {
                mail: mail.clone(),
                ttl: settings.session_ttl,
            },
            None => SignIns::Local(Sessions::open(&state, settings.session_ttl)?),
        };
        let failures = Failures::new(settings.signin_attempts, settings.signin_window);
        let per_minute =
            NonZeroU32::new(settings.messages_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(settings.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let limiter = RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst));
        let out = Arc::new(Outlet {
            settings,
            mail,
            history,
            chats: Hub::default(),
            inbox: Hub::default(),
            inbox_recent: Mutex::new(HashMap::new()),
            tracker: CaseTracker::default(),
            stats: WebStats::default(),
            uploads,
        });
        Ok(Arc::new(WebChannel {
            out,
            signer: Signer::new(&key),
            core,
            limiter,
            gates,
            sessions,
            failures,
            search: SearchIndex::default(),
            shutdown,
        }))
    }

    /// The `web` adapter to register with the engine's outbox.
    pub fn adapter(&self) -> Arc<WebAdapter> {
        Arc::new(WebAdapter {
            out: self.out.clone(),
        })
    }

    /// The settings the channel runs with.
    pub fn settings(&self) -> &WebSettings {
        &self.out.settings
    }

    /// A new session token (for tools and tests that speak the protocol without a page).
    pub fn new_session_token(&self) -> String {
        self.signer.new_session().0
    }

    /// Counts one message against the session's rate limit.
    pub(crate) fn check_rate(&self, session: &str, lang: Lang) -> Result<(), Refusal> {
        if self.limiter.check_key(&session.to_string()).is_err() {
            WebStats::inc(&self.out.stats.rate_limited);
            tracing::debug!(session, "rate limited");
            return Err(notice(Notice::RateLimited, lang));
        }
        Ok(())
    }

    /// Refuses a message from a session without an open case while its address (or everybody) has opened
    /// too many cases; records the address the session writes from.
    pub(crate) fn check_case_budget(
        &self,
        session: &str,
        ip: std::net::IpAddr,
        lang: Lang,
    ) -> Result<(), Refusal> {
        self.gates.may_open_case(session, ip).map_err(|limited| {
            WebStats::inc(&self.out.stats.limited_cases);
            tracing::info!(session, %ip, "message refused: too many cases opened from this address");
            limited_notice(limited, lang)
        })
    }

    /// Refuses empty and too long messages (before they count against the rate limit).
    pub(crate) fn validate(
        &self,
        text: &str,
        has_attachments: bool,
        lang: Lang,
    ) -> Result<(), Refusal> {
        if text.trim().is_empty() && !has_attachments {
            return Err(notice(Notice::Empty, lang));
        }
        if text.chars().count() > self.out.settings.max_text_chars {
            return Err(notice(Notice::TooLong, lang));
        }
        Ok(())
    }

    /// Hands a visitor's message to the core and, once it is stored, records it in the session history.
    /// Errors come back as the polite frame to show.
    pub(crate) async fn submit(
        &self,
        session: &str,
        text: String,
        client_id: Option<String>,
        attachments: Vec<Attachment>,
        lang: Lang,
    ) -> Result<(), Refusal> {
        self.validate(&text, !attachments.is_empty(), lang)?;
        let id = match client_id.filter(|c| valid_client_id(c)) {
            Some(c) => format!("{session}-{c}"),
            None => format!("{session}-{}", random_hex(8)),
        };
        let inbound = Inbound {
            platform: "web".into(),
            chat: session.to_string(),
            user: session.to_string(),
            name: format!("visitor {}", &session[..session.len().min(6)]),
            id,
            text: text.clone(),
            group: false,
            mention: true,
            reply_to: None,
            ts: None,
            attachments: attachments.clone(),
            // The page's language: the browser's, or the one the visitor picked.
            locale: Some(lang.code().to_string()),
            operator_room: false,
        };
        // The session lock is held until the message is in the history, so the bot's answer (delivered under
        // the same lock) is stored after it.
        let guard = self.out.history.lock(session).await;
        match self.core.sink.accept(inbound).await {
            Ok(Accepted::New) => {
                WebStats::inc(&self.out.stats.messages_in);
                let item = MessageFrame {
                    text,
                    buttons: vec![],
                    case: None,
                    from: Some("user".into()),
                    reply_to: None,
                    attachments,
                    history: false,
                };
                let recorded = match &self.out.mail {
                    Some(mail) => self
                        .out
                        .post_to_chat(mail.as_ref(), session, &item, false)
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string()),
                    None => self
                        .out
                        .history
                        .append(&guard, &item)
                        .await
                        .map_err(|e| e.to_string()),
                };
                if let Err(err) = recorded {
                    tracing::warn!(session, error = %err, "could not record the message in the session history");
                }
                Ok(())
            }
            Ok(Accepted::Duplicate) => Ok(()),
            Err(err) => Err(sink_error(err, lang)),
        }
    }

    /// Sends an operator command line from the inbox operator's own account (`web:<id>`) through the core.
    pub(crate) async fn operator_command(
        &self,
        op: &Operator,
        text: String,
    ) -> Result<(), Refusal> {
        if text.trim().is_empty() {
            return Err(notice(Notice::Empty, Lang::En));
        }
        if text.chars().count() > self.out.settings.max_text_chars {
            return Err(notice(Notice::TooLong, Lang::En));
        }
        let inbound = Inbound {
            platform: "web".into(),
            chat: op.id.clone(),
            user: op.id.clone(),
            name: op.name.clone(),
            id: format!("inbox-{}", random_hex(12)),
            text,
            group: false,
            mention: true,
            reply_to: None,
            ts: None,
            attachments: vec![],
            locale: None,
            operator_room: false,
        };
        match self.core.sink.accept(inbound).await {
            Ok(_) => Ok(()),
            Err(err) => Err(sink_error(err, Lang::En)),
        }
    }

    /// The channel's figures with the core's, as Prometheus text.
    pub(crate) async fn prometheus(&self) -> String {
        let mut text = self.core.metrics.prometheus().await;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(
            &self
                .out
                .stats
                .prometheus(self.out.chats.sockets(), self.out.inbox.sockets()),
        );
        text
    }
}

impl Outlet {
    /// Posts a message to a visitor session's mailbox (pushed to its pages on every process when `live`).
    /// The caller holds the session's lock, so this process posts a session's messages in order.
    pub(crate) async fn post_to_chat(
        &self,
        mail: &dyn PageMail,
        session: &str,
        frame: &MessageFrame,
        live: bool,
    ) -> Result<u64, MailError> {
        let body = serde_json::to_string(frame).map_err(|e| MailError(e.to_string()))?;
        let keep = self.settings.history_len.max(1);
        mail.post(&mailroom::chat_mailbox(session), &body, live, keep)
            .await
    }

    /// Posts a notification to inbox operator `op`'s mailbox, pushed to their pages on every process.
    pub(crate) async fn post_to_inbox(
        &self,
        mail: &dyn PageMail,
        op: &str,
        frame: &MessageFrame,
    ) -> Result<u64, MailError> {
        let body = serde_json::to_string(frame).map_err(|e| MailError(e.to_string()))?;
        mail.post(&mailroom::inbox_mailbox(op), &body, true, INBOX_RECENT)
            .await
    }

    /// Records a notification for inbox operator `op`, for their pages opened later, and sends it to the open
    /// ones.
    pub(crate) fn notify_inbox(&self, op: &str, frame: MessageFrame) {
        let json = ServerFrame::Message(frame.clone()).to_json();
        {
            let mut all = self.inbox_recent.lock().unwrap_or_else(|p| p.into_inner());
            let recent = all.entry(op.to_string()).or_default();
            recent.push_back(MessageFrame {
                history: true,
                ..frame
            });
            while recent.len() > INBOX_RECENT {
                recent.pop_front();
            }
        }
        self.inbox.push(op, &json);
    }
}

/// The refusal for a limit, with when to try again.
pub(crate) fn limited_notice(limited: Limited, lang: Lang) -> Refusal {
    let n = match limited.what {
        Gate::Sessions => Notice::TooManySessions,
        Gate::Uploads => Notice::TooManyUploads,
        Gate::Cases => Notice::TooManyCases,
    };
    let minutes = limited.retry_after.as_secs().div_ceil(60).max(1);
    Refusal {
        code: n.code(),
        text: format!("{} {}", n.text(lang), Notice::retry_in(minutes, lang)),
    }
}

/// An error frame for a notice.
pub(crate) fn notice(n: Notice, lang: Lang) -> Refusal {
    Refusal {
        code: n.code(),
        text: n.text(lang).to_string(),
    }
}

fn sink_error(err: SinkError, lang: Lang) -> Refusal {
    match err {
        SinkError::Rejected(reason) => {
            tracing::info!(%reason, "message rejected by the core");
            Refusal {
                code: Notice::Rejected.code(),
                text: format!("{} {reason}", Notice::Rejected.text(lang)),
            }
        }
        SinkError::Storage(reason) => {
            tracing::error!(%reason, "the core could not store a web message");
            notice(Notice::Unavailable, lang)
        }
        SinkError::ShuttingDown => notice(Notice::ShuttingDown, lang),
        SinkError::Busy => notice(Notice::Unavailable, lang),
    }
}

/// Page-chosen message ids: short, plain characters.
fn valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids() {
        assert!(valid_client_id("m-17_a"));
        assert!(!valid_client_id(""));
        assert!(!valid_client_id("a b"));
        assert!(!valid_client_id(&"x".repeat(65)));
    }
}
