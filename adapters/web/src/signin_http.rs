//! The inbox's sign-in endpoints (`POST /inbox/login`, `POST /inbox/logout`, `GET /inbox/me`) and who a request
//! comes from: the shared operator token (`Authorization: Bearer`, the scripts' way) or a sign-in cookie.
//! State changes made with a cookie need the session's CSRF token (`X-CSRF-Token`, or the `csrf.<token>`
//! subprotocol of the inbox socket).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, RETRY_AFTER, SEC_WEBSOCKET_PROTOCOL, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::guard::{bearer, origin_ok, protocol_token};
use crate::listen::{peer_ip, Peer};
use crate::secrets::token_matches;
use crate::signin::{cookie, fingerprint, set_cookie, verify, Found, Operator, COOKIE};
use crate::stats::WebStats;
use crate::WebChannel;

/// Subprotocol prefix the inbox page uses to present its CSRF token when opening the socket.
pub const CSRF_PROTOCOL_PREFIX: &str = "csrf.";
/// Header carrying the CSRF token of a state-changing request.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Longest name or password accepted by the sign-in form.
const MAX_FIELD: usize = 256;

#[derive(Debug, Deserialize)]
struct Credentials {
    name: String,
    password: String,
}

/// Why a request was refused (counted where it is decided).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denied {
    /// No sign-in, a dead one, or no operator token: 401.
    Unauthorized,
    /// A sign-in without its CSRF token: 403.
    Csrf,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Bearer"), ("cache-control", "no-store")],
                Json(json!({"error": "unauthorized", "message": "sign in or present the operator token"})),
            )
                .into_response(),
            Denied::Csrf => error(
                StatusCode::FORBIDDEN,
                "csrf",
                "the CSRF token is missing or wrong",
            ),
        }
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [(CACHE_CONTROL, "no-store")],
        Json(json!({"error": code, "message": message})),
    )
        .into_response()
}

impl WebChannel {
    /// The shared token's operator (`web:admin`).
    pub(crate) fn token_operator(&self) -> Operator {
        let s = &self.out.settings;
        Operator {
            id: s.inbox_operator.clone(),
            name: s.inbox_operator_name.clone(),
            teams: Vec::new(),
            session: None,
        }
    }

    /// The operator a live sign-in belongs to (`None` once the operator is no longer configured or has a new
    /// password).
    pub(crate) fn signed_in(&self, found: &Found) -> Option<Operator> {
        let op =
            self.out.settings.operators.iter().find(|o| {
                o.login == found.login && fingerprint(&o.password_hash) == found.password
            })?;
        Some(Operator {
            id: op.login.clone(),
            name: op.name.clone(),
            teams: op.teams.clone(),
            session: Some(found.key.clone()),
        })
    }

    async fn session_of(&self, headers: &HeaderMap) -> Option<(Operator, Found)> {
        let found = self.sessions.find(cookie(headers, COOKIE)?).await?;
        Some((self.signed_in(&found)?, found))
    }

    /// Who a read-only request comes from: the operator token's bearer or a signed-in operator.
    pub(crate) async fn operator_of(&self, headers: &HeaderMap) -> Option<Operator> {
        if bearer(headers).is_some_and(|t| token_matches(t, &self.out.settings.operator_token)) {
            return Some(self.token_operator());
        }
        self.session_of(headers).await.map(|(op, _)| op)
    }

    /// Who opens the inbox socket: the token (header or `bearer.` subprotocol), or a sign-in cookie together
    /// with its CSRF token as the `csrf.` subprotocol. `Err` is the answer to give.
    pub(crate) async fn socket_operator(&self, headers: &HeaderMap) -> Result<Operator, Denied> {
        let token = bearer(headers).or_else(|| protocol_token(headers));
        if token.is_some_and(|t| token_matches(t, &self.out.settings.operator_token)) {
            return Ok(self.token_operator());
        }
        let Some((op, found)) = self.session_of(headers).await else {
            WebStats::inc(&self.out.stats.unauthorized);
            return Err(Denied::Unauthorized);
        };
        let csrf = headers
            .get_all(SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|p| p.trim().strip_prefix(CSRF_PROTOCOL_PREFIX));
        if !csrf.is_some_and(|c| token_matches(c, &found.csrf)) {
            WebStats::inc(&self.out.stats.csrf_refused);
            return Err(Denied::Csrf);
        }
        Ok(op)
    }

    /// A signed-in operator making a state change: the cookie and a matching `X-CSRF-Token` header.
    async fn changing(&self, headers: &HeaderMap) -> Result<(Operator, Found), Denied> {
        let Some((op, found)) = self.session_of(headers).await else {
            WebStats::inc(&self.out.stats.unauthorized);
            return Err(Denied::Unauthorized);
        };
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if !sent.is_some_and(|c| token_matches(c, &found.csrf)) {
            WebStats::inc(&self.out.stats.csrf_refused);
            return Err(Denied::Csrf);
        }
        Ok((op, found))
    }
}

fn me_json(op: &Operator, csrf: &str) -> serde_json::Value {
    json!({
        "operator": format!("web:{}", op.id),
        "name": op.name,
        "teams": op.teams,
        "csrf": csrf,
    })
}

/// `POST /inbox/login` with `{"name": "...", "password": "..."}`: sets the sign-in cookie and answers the
/// operator and the session's CSRF token. Wrong credentials get 401, too many failures 429 with `Retry-After`.
pub async fn login(
    State(channel): State<Arc<WebChannel>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // A sign-in from another site's page would sign the browser in as someone else: refuse it.
    if headers.contains_key(axum::http::header::ORIGIN)
        && !origin_ok(&headers, &channel.out.settings.allowed_origins)
    {
        WebStats::inc(&channel.out.stats.bad_origin);
        return error(
            StatusCode::FORBIDDEN,
            "origin",
            "sign in from the inbox page",
        );
    }
    let Ok(creds) = serde_json::from_slice::<Credentials>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "send {\"name\": ..., \"password\": ...} as JSON",
        );
    };
    let login = creds.name.trim().to_lowercase();
    if login.is_empty() || login.len() > MAX_FIELD || creds.password.len() > MAX_FIELD {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the name or password is empty or too long",
        );
    }
    let ip = peer_ip(&peer);
    if let Some(wait) = channel.failures.blocked(&login, ip) {
        WebStats::inc(&channel.out.stats.signin_limited);
        tracing::warn!(%ip, login = %login, "sign-in refused: too many failed attempts");
        let secs = wait.as_secs().max(1);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, secs.to_string())],
            Json(json!({
                "error": "rate_limited",
                "message": format!("too many failed sign-ins; try again in {} minutes", secs.div_ceil(60)),
            })),
        )
            .into_response();
    }
    let operators = channel.out.settings.operators.clone();
    let candidate = login.clone();
    let checked =
        tokio::task::spawn_blocking(move || verify(&operators, &candidate, &creds.password))
            .await
            .ok()
            .flatten();
    let Some(op) = checked else {
        channel.failures.fail(&login, ip);
        WebStats::inc(&channel.out.stats.signin_failed);
        tracing::warn!(%ip, login = %login, "failed inbox sign-in");
        return error(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong name or password",
        );
    };
    channel.failures.clear(&login);
    let (token, csrf) = match channel
        .sessions
        .create(&op.login, &fingerprint(&op.password_hash))
        .await
    {
        Ok(pair) => pair,
        Err(err) => {
            tracing::error!(error = %err, "could not store an inbox sign-in");
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the sign-in could not be stored",
            );
        }
    };
    WebStats::inc(&channel.out.stats.signins);
    tracing::info!(operator = %format!("web:{}", op.login), %ip, "operator signed in");
    let cookie = set_cookie(
        Some(&token),
        channel.sessions.ttl(),
        channel.out.settings.secure_cookies(),
    );
    let body = me_json(
        &Operator {
            id: op.login.clone(),
            name: op.name.clone(),
            teams: op.teams.clone(),
            session: None,
        },
        &csrf,
    );
    (
        [
            (SET_COOKIE, cookie),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        Json(body),
    )
        .into_response()
}

/// `POST /inbox/logout` (cookie and `X-CSRF-Token`): ends the sign-in; open inbox sockets of it close.
pub async fn logout(State(channel): State<Arc<WebChannel>>, headers: HeaderMap) -> Response {
    let (op, found) = match channel.changing(&headers).await {
        Ok(pair) => pair,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(err) = channel.sessions.remove(&found.key).await {
        tracing::error!(error = %err, "could not store an inbox sign-out");
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the sign-out could not be stored",
        );
    }
    tracing::info!(operator = %format!("web:{}", op.id), "operator signed out");
    let cookie = set_cookie(
        None,
        channel.sessions.ttl(),
        channel.out.settings.secure_cookies(),
    );
    ([(SET_COOKIE, cookie)], Json(json!({"ok": true}))).into_response()
}

/// `GET /inbox/me`: the signed-in operator and the session's CSRF token (401 when not signed in).
pub async fn me(State(channel): State<Arc<WebChannel>>, headers: HeaderMap) -> Response {
    match channel.session_of(&headers).await {
        Some((op, found)) => (
            [(CACHE_CONTROL, "no-store")],
            Json(me_json(&op, &found.csrf)),
        )
            .into_response(),
        None => error(StatusCode::UNAUTHORIZED, "unauthorized", "not signed in"),
    }
}
