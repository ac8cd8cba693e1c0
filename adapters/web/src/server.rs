//! The HTTP side: the routes of the web channel, and serving them (with any extra routes, such as the webhook
//! channel's) until shutdown, together with the channel's background tasks.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

use crate::listen::{self, ConnLimits};
use crate::{
    api, assets, chat_ws, inbox_ws, signin_http, status, uploads, MetricsAccess, WebChannel,
    WebError,
};

impl WebChannel {
    /// The channel's routes: `/`, `/ws`, `/inbox`, `/inbox/ws`, `/inbox/login|logout|me`, `/api/cases[/{id}]`, `/upload`, `/files/{id}`,
    /// `/healthz`, `/metrics` (unless it has a listener of its own), `/config.json`, `/assets/{file}`.
    pub fn router(self: &Arc<Self>) -> Router {
        let upload_limit = usize::try_from(self.out.settings.max_upload_bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(256 * 1024);
        let router = Router::new()
            .route("/", get(assets::chat_page))
            .route("/inbox", get(assets::inbox_page))
            .route("/assets/{file}", get(assets::asset))
            .route("/ws", get(chat_ws::chat_ws))
            .route("/inbox/ws", get(inbox_ws::inbox_ws))
            .route("/inbox/login", post(signin_http::login))
            .route("/inbox/logout", post(signin_http::logout))
            .route("/inbox/me", get(signin_http::me))
            .route("/inbox/stats", get(api::stats_page))
            .route("/api/cases", get(api::list_cases))
            .route("/api/cases/{id}", get(api::get_case))
            .route("/api/canned", get(api::canned))
            .route("/api/search", get(api::search))
            .route(
                "/upload",
                post(uploads::upload).layer(DefaultBodyLimit::max(upload_limit)),
            )
            .route("/files/{id}", get(uploads::download))
            .route("/healthz", get(api::healthz))
            .route("/config.json", get(api::page_config));
        let router = match self.out.settings.metrics {
            MetricsAccess::Bearer(_) => router.route("/metrics", get(api::metrics)),
            MetricsAccess::Separate(_) => router,
        };
        router.with_state(self.clone())
    }

    /// The routes of the metrics listener: `/metrics` alone.
    pub fn metrics_router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/metrics", get(api::metrics))
            .with_state(self.clone())
    }

    fn conn_limits(&self) -> ConnLimits {
        let limits = &self.out.settings.limits;
        ConnLimits {
            max_connections: limits.max_connections,
            max_per_ip: limits.max_connections_per_ip,
            header_read_timeout: limits.header_read_timeout,
        }
    }

    /// Serves `/metrics` alone on `listener` (the `Separate` metrics access) until the channel's shutdown.
    pub async fn serve_metrics(self: Arc<Self>, listener: TcpListener) -> Result<(), WebError> {
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        tracing::info!(%addr, "metrics listening");
        let limits = ConnLimits {
            max_connections: 64,
            ..self.conn_limits()
        };
        listen::serve(
            listener,
            self.metrics_router(),
            limits,
            self.shutdown.clone(),
        )
        .await
        .map_err(|e| WebError::Serve(e.to_string()))
    }

    /// Serves the channel (merged with `extra` routes) on `listener` until the channel's shutdown token fires;
    /// open sockets are closed with "going away" and requests in flight finish.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        extra: Router,
    ) -> Result<(), WebError> {
        let app = self.router().merge(extra);
        let tracker = tokio::spawn(status::run(self.clone()));
        let indexer = tokio::spawn(crate::search::run(self.clone()));
        let mailroom = crate::mailroom::start(self.clone()).await;
        let housekeeping = {
            let channel = self.clone();
            tokio::spawn(async move {
                // Before the first sweep: files this process kept in its data directory before it shared a
                // store go into the store, so that every process serves them and the sweep sees them.
                if let crate::upload_store::Uploads::Shared(shared) = &channel.out.uploads {
                    shared.move_local(&channel.shutdown).await;
                }
                let mut tick = tokio::time::interval(channel.out.settings.housekeeping);
                loop {
                    tokio::select! {
                        _ = channel.shutdown.cancelled() => break,
                        _ = tick.tick() => {
                            channel.limiter.retain_recent();
                            channel.gates.retain_recent();
                            channel.failures.retain_recent();
                            channel.out.uploads.sweep(&*channel.core.cases).await;
                            channel.out.history.prune_locks();
                            let retention = channel.out.settings.history_retention;
                            let pruned = match &channel.out.mail {
                                Some(mail) => mail.prune(retention).await.map_err(|e| e.to_string()),
                                None => channel
                                    .out
                                    .history
                                    .prune_older_than(retention)
                                    .await
                                    .map(|n| n as u64)
                                    .map_err(|e| e.to_string()),
                            };
                            match pruned {
                                Ok(0) => {}
                                Ok(n) => tracing::info!(sessions = n, "forgot the history of long silent sessions"),
                                Err(err) => tracing::warn!(error = %err, "pruning session histories failed"),
                            }
                        }
                    }
                }
            })
        };
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        tracing::info!(%addr, "web channel listening");
        let result = listen::serve(listener, app, self.conn_limits(), self.shutdown.clone()).await;
        let _ = tracker.await;
        let _ = indexer.await;
        if let Some(mailroom) = mailroom {
            let _ = mailroom.await;
        }
        let _ = housekeeping.await;
        result.map_err(|e| WebError::Serve(e.to_string()))
    }
}

/// Binds the listening address with a clear error (address in use, permission, bad address).
pub async fn bind(addr: &str) -> Result<TcpListener, WebError> {
    TcpListener::bind(addr)
        .await
        .map_err(|err| WebError::Listen {
            addr: addr.to_string(),
            reason: match err.kind() {
                std::io::ErrorKind::AddrInUse => {
                    "the port is already in use by another program".to_string()
                }
                std::io::ErrorKind::PermissionDenied => {
                    "permission denied (ports below 1024 need privileges)".to_string()
                }
                std::io::ErrorKind::AddrNotAvailable => {
                    "this machine has no such address".to_string()
                }
                _ => err.to_string(),
            },
        })
}
