//! JSON API for the inbox (`/api/cases`, `/api/cases/{id}`, operator token or sign-in required), `/healthz`, `/metrics`
//! (metrics token) and the page settings (`/config.json`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::guard::bearer;
use crate::inbox_ws::normalize_case;
use crate::secrets::token_matches;
use crate::stats::WebStats;
use crate::MetricsAccess;
use crate::WebChannel;

/// The 401 answer, with the header that names the scheme.
pub fn unauthorized(channel: &WebChannel) -> Response {
    refused(
        channel,
        "an operator token is required (Authorization: Bearer ...)",
    )
}

fn refused(channel: &WebChannel, message: &str) -> Response {
    WebStats::inc(&channel.out.stats.unauthorized);
    (
        StatusCode::UNAUTHORIZED,
        [("www-authenticate", "Bearer")],
        Json(json!({"error": "unauthorized", "message": message})),
    )
        .into_response()
}

/// Query of `/api/cases`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Include closed cases.
    #[serde(default)]
    closed: Option<String>,
}

/// `GET /api/cases`: the queue, then assigned cases (and closed ones with `?closed=1`).
pub async fn list_cases(
    State(channel): State<Arc<WebChannel>>,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    if channel.operator_of(&headers).await.is_none() {
        return unauthorized(&channel);
    }
    let closed = matches!(query.closed.as_deref(), Some("1" | "true" | "yes"));
    Json(channel.core.cases.list(closed).await).into_response()
}

/// Query of `/api/search`.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    /// Words and filters (`status:closed team:mail code:554 from:2026-11-01`).
    #[serde(default)]
    q: String,
}

/// `GET /api/search?q=…`: matching cases, newest first (400 for a bad filter).
pub async fn search(
    State(channel): State<Arc<WebChannel>>,
    Query(query): Query<SearchQuery>,
    headers: HeaderMap,
) -> Response {
    if channel.operator_of(&headers).await.is_none() {
        return unauthorized(&channel);
    }
    if query.q.chars().count() > 500 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "bad_query", "message": "the query is too long"})),
        )
            .into_response();
    }
    match crate::search::Query::parse(&query.q) {
        Ok(q) => Json(json!({"cases": channel.search.search(&q)})).into_response(),
        Err(problem) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "bad_query", "message": problem})),
        )
            .into_response(),
    }
}

/// `GET /inbox/stats`: the stats dashboard page, for a signed-in operator or the operator token.
pub async fn stats_page(State(channel): State<Arc<WebChannel>>, headers: HeaderMap) -> Response {
    if channel.operator_of(&headers).await.is_none() {
        return unauthorized(&channel);
    }
    let stats = channel.core.stats.clone();
    match tokio::task::spawn_blocking(move || stats.dashboard_html()).await {
        Ok(Ok(page)) => (
            [
                (CONTENT_TYPE, "text/html; charset=utf-8"),
                (
                    axum::http::header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
                ),
                (axum::http::header::CACHE_CONTROL, "no-store"),
            ],
            page,
        )
            .into_response(),
        Ok(Err(problem)) => {
            tracing::error!(%problem, "the stats dashboard could not be made");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": "unavailable", "message": problem})),
            )
                .into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `GET /api/canned`: the team's canned replies (500 with `file:line: problem` when the file is broken).
pub async fn canned(State(channel): State<Arc<WebChannel>>, headers: HeaderMap) -> Response {
    if channel.operator_of(&headers).await.is_none() {
        return unauthorized(&channel);
    }
    let Some(path) = channel.out.settings.canned_path.clone() else {
        return Json(json!({"replies": []})).into_response();
    };
    match tokio::task::spawn_blocking(move || crate::canned::load(&path)).await {
        Ok(Ok(replies)) => Json(json!({"replies": replies})).into_response(),
        Ok(Err(problem)) => {
            tracing::warn!(%problem, "canned replies file is broken");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": "canned_file", "message": problem})),
            )
                .into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `GET /api/cases/{id}`: one case with transcript, attachments, error codes and suggestions, plus
/// `suggested_answers`: the suggested FAQ entries' answers in the case's language, and `earlier_cases`: the other
/// cases of the conversations it spans.
pub async fn get_case(
    State(channel): State<Arc<WebChannel>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if channel.operator_of(&headers).await.is_none() {
        return unauthorized(&channel);
    }
    let Some(id) = normalize_case(&id) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "bad_case", "message": "not a case number"})),
        )
            .into_response();
    };
    match channel.core.cases.get(&id).await {
        Some(detail) => {
            let answers: Vec<_> = detail
                .suggestions
                .iter()
                .filter_map(|faq| channel.core.answers.answer(faq, &detail.summary.lang))
                .collect();
            let mut body = serde_json::to_value(&detail).unwrap_or_default();
            if let Some(map) = body.as_object_mut() {
                map.insert("suggested_answers".into(), json!(answers));
                map.insert(
                    "earlier_cases".into(),
                    json!(channel.search.related(&detail.summary.id)),
                );
            }
            Json(body).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "unknown_case", "message": format!("no case {id}")})),
        )
            .into_response(),
    }
}

/// `GET /healthz`: 200 while the core accepts messages, 503 with the reason once it does not.
pub async fn healthz(State(channel): State<Arc<WebChannel>>) -> Response {
    match channel.core.metrics.health() {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "failing", "reason": reason})),
        )
            .into_response(),
    }
}

/// `GET /metrics`: the core's and the channel's figures in the Prometheus text format, for the bearer of the
/// metrics token (the operator token when none is set); on a listener of its own, for everyone unless a
/// metrics token is set.
pub async fn metrics(State(channel): State<Arc<WebChannel>>, headers: HeaderMap) -> Response {
    let settings = &channel.out.settings;
    let expected = match &settings.metrics {
        MetricsAccess::Bearer(token) => Some(token.as_deref().unwrap_or(&settings.operator_token)),
        MetricsAccess::Separate(token) => token.as_deref(),
    };
    if let Some(expected) = expected {
        if !bearer(&headers).is_some_and(|t| token_matches(t, expected)) {
            return refused(
                &channel,
                "the metrics token is required (Authorization: Bearer ...)",
            );
        }
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        channel.prometheus().await,
    )
        .into_response()
}

/// `GET /config.json`: what the pages need to know (no secrets).
pub async fn page_config(State(channel): State<Arc<WebChannel>>) -> Response {
    let s = &channel.out.settings;
    Json(json!({
        "bot_name": s.bot_name,
        "max_text_chars": s.max_text_chars,
        "max_upload_bytes": s.max_upload_bytes,
    }))
    .into_response()
}
