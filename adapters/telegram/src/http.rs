//! The channel's own HTTP listener: the webhook endpoint (`POST /telegram/webhook`, checked against the
//! secret token Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`) and the signed attachment downloads
//! (`GET /telegram/file/{file id}/{name}?sig=`).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use teloxide::net::Download;
use teloxide::requests::Requester;
use teloxide::types::{FileId, Update};
use teloxide::{ApiError, RequestError};

use crate::error::describe;
use crate::files::{content_type, percent_encode, safe_file_name, FileLinks};
use crate::receive::Receiver;

/// The header Telegram puts the webhook's secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// What the routes share.
pub struct HttpState {
    /// Takes updates in.
    pub receiver: Receiver,
    /// The webhook's secret token; `None` when the bot polls (the webhook route then answers 404).
    pub webhook_secret: Option<String>,
    /// Checks download links; `None` when links are off.
    pub links: Option<FileLinks>,
}

/// The routes of the listener.
pub fn router(state: Arc<HttpState>) -> Router {
    Router::new()
        .route("/telegram/webhook", post(webhook))
        .route("/telegram/file/{file_id}/{name}", get(file))
        .with_state(state)
}

async fn webhook(
    State(state): State<Arc<HttpState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let Some(secret) = state.webhook_secret.as_deref() else {
        return StatusCode::NOT_FOUND;
    };
    let given = headers
        .get(SECRET_HEADER)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if !same(given, secret.as_bytes()) {
        tracing::warn!("telegram webhook call with a wrong secret token refused");
        return StatusCode::UNAUTHORIZED;
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(err) => {
            tracing::warn!(error = %err, "telegram webhook body is not an update");
            return StatusCode::BAD_REQUEST;
        }
    };
    match state.receiver.handle(&update).await {
        Ok(()) => StatusCode::OK,
        // Telegram sends the update again later when the answer is not 2xx.
        Err(err) => {
            tracing::warn!(update = update.id.0, error = %err, "telegram update not stored; asking for redelivery");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

#[derive(Deserialize)]
struct SigQuery {
    #[serde(default)]
    sig: String,
}

async fn file(
    State(state): State<Arc<HttpState>>,
    Path((file_id, name)): Path<(String, String)>,
    Query(query): Query<SigQuery>,
) -> Response {
    let Some(links) = state.links.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !links.verify(&file_id, &query.sig) {
        return (StatusCode::FORBIDDEN, "invalid link").into_response();
    }
    let bot = &state.receiver.bot;
    let meta = match bot.get_file(FileId(file_id.clone())).await {
        Ok(meta) => meta,
        Err(RequestError::Api(ApiError::Unknown(d))) if d.starts_with("Bad Request") => {
            return (StatusCode::NOT_FOUND, "file not found at Telegram").into_response();
        }
        Err(err) => {
            tracing::warn!(file = %file_id, error = %describe(&err, &state.receiver.token), "getFile failed");
            return (StatusCode::BAD_GATEWAY, "Telegram did not give the file").into_response();
        }
    };
    let body = Body::from_stream(bot.download_file_stream(&meta.path));
    let name = safe_file_name(&name);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let names = format!(
        "filename=\"{ascii}\"; filename*=UTF-8''{}",
        percent_encode(&name)
    );
    let (kind, disposition) = match content_type(&meta.path) {
        Some(image) => (image, format!("inline; {names}")),
        None => ("application/octet-stream", format!("attachment; {names}")),
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Constant-time equality of two byte strings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn equality_is_exact() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert!(!same(b"", b"a"));
    }
}
