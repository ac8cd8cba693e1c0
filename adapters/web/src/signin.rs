//! Personal inbox sign-in: operators' passwords (Argon2 hashes from the config), sign-in sessions kept on disk
//! (`web/operator_sessions.json`, only SHA-256 digests of the cookies), each with its own CSRF token and expiry,
//! and the count of failed sign-ins per name and per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::gates::client_key;
use crate::secrets::{random_hex, token_matches};
use crate::settings::WebOperator;
use crate::WebError;

/// Names and addresses with failed sign-ins kept at most; past it, entries whose window has passed are dropped,
/// then (under a flood of distinct names) everything, so memory stays bounded.
const MAX_FAILURE_KEYS: usize = 100_000;

/// Name of the sign-in cookie.
pub const COOKIE: &str = "supportbot_inbox";

/// Who is working in the inbox: the shared token's operator or a signed-in one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The `web` user id (`wang`, or `admin` for the shared token).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Teams the operator works in.
    pub teams: Vec<String>,
    /// The sign-in behind this identity (digest of the cookie); `None` for the shared token.
    pub session: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    login: String,
    csrf: String,
    /// Fingerprint of the operator's password hash at sign-in: a changed password ends the session.
    #[serde(default)]
    password: String,
    /// Unix milliseconds.
    expires_ms: u64,
}

/// A sign-in as found from its cookie.
#[derive(Debug, Clone)]
pub struct Found {
    /// The operator's login.
    pub login: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// Digest of the cookie (the session's key).
    pub key: String,
    /// Fingerprint of the password hash the operator signed in with ([`fingerprint`]).
    pub password: String,
}

/// A short digest of a password hash, kept with a session so that a new password ends older sign-ins.
pub fn fingerprint(password_hash: &str) -> String {
    hex::encode(&Sha256::digest(password_hash.as_bytes())[..8])
}

/// Sign-in sessions, persisted so a restart keeps operators signed in (and signed out).
pub struct Sessions {
    path: PathBuf,
    ttl: Duration,
    map: Mutex<HashMap<String, Record>>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The key a sign-in is kept under: the SHA-256 digest of its cookie value.
pub(crate) fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Sessions {
    /// Opens the sessions file in `dir` (expired sessions are dropped).
    pub fn open(dir: &Path, ttl: Duration) -> Result<Sessions, WebError> {
        let path = dir.join("operator_sessions.json");
        let mut map: HashMap<String, Record> = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|err| {
                tracing::warn!(file = %path.display(), error = %err, "unreadable inbox sessions file; everyone signs in again");
                HashMap::new()
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(err) => return Err(WebError::io(&path, err)),
        };
        let now = now_ms();
        map.retain(|_, r| r.expires_ms > now);
        Ok(Sessions {
            path,
            ttl,
            map: Mutex::new(map),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn save(&self, map: &HashMap<String, Record>) -> Result<(), WebError> {
        let tmp = self.path.with_extension("json.tmp");
        let bytes = serde_json::to_vec(map).unwrap_or_default();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut file = options.open(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| WebError::io(&self.path, e))
    }

    /// Starts a session for `login`, who signed in with the password whose hash has `password` as
    /// [`fingerprint`]: returns the cookie value and the CSRF token.
    pub fn create(&self, login: &str, password: &str) -> Result<(String, String), WebError> {
        let token = random_hex(32);
        let csrf = random_hex(16);
        let mut map = self.lock();
        let now = now_ms();
        map.retain(|_, r| r.expires_ms > now);
        map.insert(
            digest(&token),
            Record {
                login: login.to_string(),
                csrf: csrf.clone(),
                password: password.to_string(),
                expires_ms: now
                    .saturating_add(u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)),
            },
        );
        self.save(&map)?;
        Ok((token, csrf))
    }

    /// The live session of a cookie value.
    #[cfg(test)]
    pub fn find(&self, token: &str) -> Option<Found> {
        let key = digest(token);
        self.find_key(&key)
    }

    /// The live session under a digest (to check an open socket's sign-in is still valid).
    pub fn find_key(&self, key: &str) -> Option<Found> {
        let map = self.lock();
        let r = map.get(key)?;
        (r.expires_ms > now_ms()).then(|| Found {
            login: r.login.clone(),
            csrf: r.csrf.clone(),
            key: key.to_string(),
            password: r.password.clone(),
        })
    }

    /// Ends a session (sign-out).
    pub fn remove(&self, key: &str) -> Result<(), WebError> {
        let mut map = self.lock();
        if map.remove(key).is_some() {
            self.save(&map)?;
        }
        Ok(())
    }

    /// Seconds a new session lasts (the cookie's `Max-Age`).
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

/// Failed sign-ins per name and per client address; over `max` within `window`, sign-ins are refused.
pub struct Failures {
    max: u32,
    window: Duration,
    map: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Failures {
    /// A counter allowing `max` failures per `window`.
    pub fn new(max: u32, window: Duration) -> Failures {
        Failures {
            max: max.max(1),
            window,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn keys(login: &str, ip: IpAddr) -> [String; 2] {
        [format!("name:{login}"), format!("ip:{}", client_key(ip))]
    }

    /// How long until a sign-in for `login` from `ip` may be tried again, when it may not now.
    pub fn blocked(&self, login: &str, ip: IpAddr) -> Option<Duration> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(login, ip)
            .iter()
            .filter_map(|k| map.get(k))
            .filter(|(n, since)| *n >= self.max && since.elapsed() < self.window)
            .map(|(_, since)| self.window.saturating_sub(since.elapsed()))
            .max()
    }

    /// Counts a failed sign-in.
    pub fn fail(&self, login: &str, ip: IpAddr) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_FAILURE_KEYS {
            map.retain(|_, (_, since)| since.elapsed() < self.window);
            if map.len() >= MAX_FAILURE_KEYS {
                tracing::warn!(
                    keys = map.len(),
                    "too many failed sign-in names and addresses; forgetting them"
                );
                map.clear();
            }
        }
        for key in Self::keys(login, ip) {
            let entry = map.entry(key).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= self.window {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    /// Forgets the failures of a name after it signed in.
    pub fn clear(&self, login: &str) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("name:{login}"));
    }

    /// Drops entries whose window has passed.
    pub fn retain_recent(&self) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (_, since)| since.elapsed() < self.window);
    }
}

/// A hash of a random password, verified against for unknown names so that they take as long as known ones.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::encode_b64(random_hex(16).as_bytes()).unwrap_or_else(|_| {
            SaltString::from_b64("c3VwcG9ydGJvdGRlY295").expect("a valid constant salt")
        });
        Argon2::default()
            .hash_password(random_hex(16).as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Checks `password` for the operator of `login` (CPU-heavy: run it off the async threads). Unknown names are
/// checked against a decoy so they cost the same.
pub fn verify(operators: &[WebOperator], login: &str, password: &str) -> Option<WebOperator> {
    let op = operators
        .iter()
        .find(|o| token_matches(&o.login, login))
        .cloned();
    let hash = op
        .as_ref()
        .map_or(decoy_hash(), |o| o.password_hash.as_str());
    let ok = PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    });
    op.filter(|_| ok)
}

/// The value of a cookie in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The `Set-Cookie` value for a new session, or (with `None`) one that clears it.
pub fn set_cookie(token: Option<&str>, max_age: Duration, secure: bool) -> String {
    let (value, age) = match token {
        Some(t) => (t, max_age.as_secs()),
        None => ("", 0),
    };
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; Max-Age={age}; HttpOnly; SameSite=Strict{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(login: &str, password: &str) -> WebOperator {
        let salt = SaltString::encode_b64(b"test-salt-123456").unwrap();
        WebOperator {
            login: login.into(),
            name: login.to_uppercase(),
            teams: vec![],
            password_hash: Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .unwrap()
                .to_string(),
        }
    }

    #[test]
    fn passwords_verify_only_for_their_operator() {
        let ops = [op("wang", "pass-of-wang"), op("lee", "pass-of-lee")];
        assert_eq!(verify(&ops, "wang", "pass-of-wang").unwrap().login, "wang");
        assert!(verify(&ops, "wang", "pass-of-lee").is_none());
        assert!(verify(&ops, "nobody", "pass-of-wang").is_none());
        assert!(verify(&ops, "wang", "").is_none());
    }

    #[test]
    fn sessions_persist_expire_and_end() {
        let dir = tempfile::tempdir().unwrap();
        let sessions = Sessions::open(dir.path(), Duration::from_secs(3600)).unwrap();
        let (token, csrf) = sessions.create("wang", "fp").unwrap();
        let found = sessions.find(&token).unwrap();
        assert_eq!(
            (found.login.as_str(), found.csrf.as_str()),
            ("wang", csrf.as_str())
        );
        let text = std::fs::read_to_string(dir.path().join("operator_sessions.json")).unwrap();
        assert!(!text.contains(&token), "only digests are kept");
        // A restart keeps the sign-in; sign-out ends it for good.
        let reopened = Sessions::open(dir.path(), Duration::from_secs(3600)).unwrap();
        assert!(reopened.find(&token).is_some());
        reopened.remove(&found.key).unwrap();
        assert!(reopened.find(&token).is_none());
        assert!(Sessions::open(dir.path(), Duration::from_secs(3600))
            .unwrap()
            .find(&token)
            .is_none());
        // A session past its expiry is refused.
        let short = Sessions::open(dir.path(), Duration::ZERO).unwrap();
        let (token, _) = short.create("wang", "fp").unwrap();
        assert!(short.find(&token).is_none());
    }

    #[test]
    fn failures_block_by_name_and_address() {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let f = Failures::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(f.blocked("wang", ip).is_none());
            f.fail("wang", ip);
        }
        assert!(f.blocked("wang", ip).is_some());
        assert!(
            f.blocked("wang", other).is_some(),
            "the name is blocked everywhere"
        );
        assert!(
            f.blocked("lee", ip).is_some(),
            "the address is blocked for every name"
        );
        assert!(f.blocked("lee", other).is_none());
        let quick = Failures::new(1, Duration::from_millis(1));
        quick.fail("wang", ip);
        std::thread::sleep(Duration::from_millis(5));
        assert!(quick.blocked("wang", ip).is_none(), "the window passes");
    }

    #[test]
    fn cookies_parse_and_carry_their_flags() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", "a=1; supportbot_inbox=abc ; b=2".parse().unwrap());
        assert_eq!(cookie(&h, COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "nope"), None);
        let set = set_cookie(Some("abc"), Duration::from_secs(60), true);
        assert_eq!(
            set,
            "supportbot_inbox=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!set_cookie(None, Duration::ZERO, false).contains("Secure"));
    }
}
