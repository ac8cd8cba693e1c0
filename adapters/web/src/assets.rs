//! The chat page and the operator inbox: plain HTML, CSS and JavaScript built into the binary (no build step),
//! served with a strict Content-Security-Policy (scripts and styles from this server only, no inline code).

use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

const CHAT_HTML: &str = include_str!("assets/chat.html");
const INBOX_HTML: &str = include_str!("assets/inbox.html");
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "chat.css",
        "text/css; charset=utf-8",
        include_str!("assets/chat.css"),
    ),
    (
        "chat.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/chat.js"),
    ),
    (
        "inbox.css",
        "text/css; charset=utf-8",
        include_str!("assets/inbox.css"),
    ),
    (
        "inbox.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/inbox.js"),
    ),
    (
        "common.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/common.js"),
    ),
    (
        "inbox-texts.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/inbox-texts.js"),
    ),
    (
        "inbox-canned.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/inbox-canned.js"),
    ),
    (
        "inbox-feed.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/inbox-feed.js"),
    ),
];

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   connect-src 'self' ws: wss:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'";

fn page(html: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONTENT_SECURITY_POLICY, CSP),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (REFERRER_POLICY, "no-referrer"),
            (X_FRAME_OPTIONS, "SAMEORIGIN"),
            (CACHE_CONTROL, "no-cache"),
        ],
        html,
    )
        .into_response()
}

/// `GET /`: the chat page.
pub async fn chat_page() -> Response {
    page(CHAT_HTML)
}

/// `GET /inbox`: the operator inbox page (it asks for the token; the data behind it needs it).
pub async fn inbox_page() -> Response {
    page(INBOX_HTML)
}

/// `GET /assets/{file}`: the pages' scripts and styles.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (CONTENT_TYPE, *content_type),
                (X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
