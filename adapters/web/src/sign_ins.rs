//! Where inbox sign-ins are kept: in this process's data directory ([`Sessions`]), or, when several processes
//! serve the inbox, in the shared store, so that a sign-in made on one process is valid on every other and a
//! sign-out on one ends it everywhere.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::secrets::random_hex;
use crate::signin::{digest, Found, Sessions};
use crate::WebError;
use supportbot_chat::PageMail;

/// A sign-in as the shared store keeps it (under the digest of its cookie, with its expiry beside it).
#[derive(Serialize, Deserialize)]
struct Shared {
    login: String,
    csrf: String,
    password: String,
}

/// The inbox's sign-ins.
pub enum SignIns {
    /// Kept in the data directory.
    Local(Sessions),
    /// Kept in the store every process shares; each sign-in lasts `ttl`.
    Shared {
        /// The store.
        mail: Arc<dyn PageMail>,
        /// How long a sign-in lasts.
        ttl: Duration,
    },
}

fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl SignIns {
    /// Starts a sign-in for `login` (whose password hash has the fingerprint `password`): returns the cookie
    /// value and the CSRF token.
    pub async fn create(&self, login: &str, password: &str) -> Result<(String, String), WebError> {
        match self {
            SignIns::Local(sessions) => sessions.create(login, password),
            SignIns::Shared { mail, ttl } => {
                let token = random_hex(32);
                let csrf = random_hex(16);
                let record = Shared {
                    login: login.to_string(),
                    csrf: csrf.clone(),
                    password: password.to_string(),
                };
                let text = serde_json::to_string(&record).unwrap_or_default();
                let expires = unix_ms(SystemTime::now() + *ttl);
                mail.save_sign_in(&digest(&token), &text, expires)
                    .await
                    .map_err(|e| WebError::Secret(format!("cannot store the sign-in: {e}")))?;
                Ok((token, csrf))
            }
        }
    }

    /// The live sign-in of a cookie value.
    pub async fn find(&self, token: &str) -> Option<Found> {
        self.find_key(&digest(token)).await
    }

    /// The live sign-in under a digest (an open socket's sign-in checked again). A store that cannot be read
    /// counts as no sign-in.
    pub async fn find_key(&self, key: &str) -> Option<Found> {
        match self {
            SignIns::Local(sessions) => sessions.find_key(key),
            SignIns::Shared { mail, .. } => {
                let text = match mail.find_sign_in(key).await {
                    Ok(text) => text?,
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot read an inbox sign-in");
                        return None;
                    }
                };
                let record: Shared = serde_json::from_str(&text).ok()?;
                Some(Found {
                    login: record.login,
                    csrf: record.csrf,
                    key: key.to_string(),
                    password: record.password,
                })
            }
        }
    }

    /// Ends a sign-in (sign-out).
    pub async fn remove(&self, key: &str) -> Result<(), WebError> {
        match self {
            SignIns::Local(sessions) => sessions.remove(key),
            SignIns::Shared { mail, .. } => mail
                .end_sign_in(key)
                .await
                .map_err(|e| WebError::Secret(format!("cannot end the sign-in: {e}"))),
        }
    }

    /// How long a new sign-in lasts (the cookie's `Max-Age`).
    pub fn ttl(&self) -> Duration {
        match self {
            SignIns::Local(sessions) => sessions.ttl(),
            SignIns::Shared { ttl, .. } => *ttl,
        }
    }
}
