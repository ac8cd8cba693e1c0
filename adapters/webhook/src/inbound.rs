//! `POST /webhook/{channel}`: verifies a signed event in the replay format (docs/engine.md) and hands it to the core's
//! [`InboundSink`]; the sender gets 200 only once the event is durable.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use supportbot_chat::{Accepted, Inbound, InboundSink, SinkError};

/// How far an event's `ts` may be from the time it is received before the receive time replaces it.
const TS_TOLERANCE_MINUTES: i64 = 5;

use crate::signature::{self, Secret, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// Largest request body accepted by default (64 KiB); larger ones get 413.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

/// The receiving half of one `[[webhooks]]` channel.
#[derive(Debug, Clone)]
pub struct InboundChannel {
    /// Channel name: the path segment and the `platform` its events must carry.
    pub name: String,
    /// The channel's HMAC secret.
    pub secret: Secret,
}

struct RouterState {
    secrets: HashMap<String, Secret>,
    sink: Arc<dyn InboundSink>,
    max_body: usize,
}

/// The router serving `POST /webhook/{channel}` for these channels, with bodies limited to
/// [`DEFAULT_MAX_BODY`]. Merge it into the web channel's router.
pub fn router(channels: Vec<InboundChannel>, sink: Arc<dyn InboundSink>) -> Router {
    router_with_limit(channels, sink, DEFAULT_MAX_BODY)
}

/// [`router`] with another body limit, in bytes.
pub fn router_with_limit(
    channels: Vec<InboundChannel>,
    sink: Arc<dyn InboundSink>,
    max_body: usize,
) -> Router {
    let secrets = channels.into_iter().map(|c| (c.name, c.secret)).collect();
    let state = Arc::new(RouterState {
        secrets,
        sink,
        max_body,
    });
    Router::new()
        .route("/webhook/{channel}", post(receive))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

async fn receive(
    State(state): State<Arc<RouterState>>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(secret) = state.secrets.get(&channel) else {
        return error(StatusCode::NOT_FOUND, "unknown webhook channel");
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            tracing::info!(channel = %channel, limit = state.max_body, "webhook body too large");
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("body larger than {} bytes", state.max_body),
            );
        }
        Err(rejection) => return error(rejection.status(), rejection.body_text()),
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let checked = signature::verify(
        secret,
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
        &body,
        signature::now_unix(),
    );
    if let Err(err) = checked {
        tracing::info!(channel = %channel, reason = %err, "webhook request refused");
        return error(StatusCode::UNAUTHORIZED, err.to_string());
    }
    let mut message: Inbound = match serde_json::from_slice(&body) {
        Ok(message) => message,
        Err(err) => {
            tracing::info!(channel = %channel, error = %err, "webhook event is not valid JSON");
            return error(StatusCode::BAD_REQUEST, format!("malformed event: {err}"));
        }
    };
    if message.platform != channel {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "platform must be \"{channel}\", the channel's name (got \"{}\")",
                message.platform
            ),
        );
    }
    // Only the product's own adapters know operator rooms, and the caller's clock orders nothing.
    message.operator_room = false;
    message.clamp_ts(
        chrono::Utc::now().fixed_offset(),
        chrono::Duration::minutes(TS_TOLERANCE_MINUTES),
    );
    let id = message.id.clone();
    match state.sink.accept(message).await {
        Ok(Accepted::New) => {
            tracing::debug!(channel = %channel, id = %id, "webhook event accepted");
            (StatusCode::OK, Json(json!({ "status": "accepted" }))).into_response()
        }
        Ok(Accepted::Duplicate) => {
            tracing::debug!(channel = %channel, id = %id, "webhook event was a duplicate");
            (StatusCode::OK, Json(json!({ "status": "duplicate" }))).into_response()
        }
        Err(SinkError::Rejected(reason)) => error(StatusCode::BAD_REQUEST, reason),
        Err(err @ (SinkError::Storage(_) | SinkError::ShuttingDown | SinkError::Busy)) => {
            tracing::warn!(channel = %channel, id = %id, error = %err, "webhook event not stored");
            let mut response = error(
                StatusCode::SERVICE_UNAVAILABLE,
                "not stored, try again later",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            response
        }
    }
}
