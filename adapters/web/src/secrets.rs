//! Secrets of the web channel: the operator token file, constant-time token checks, and the server key that
//! signs session tokens and attachment links (so both survive restarts without a table of their own).

use std::io::Write;
use std::path::Path;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::WebError;

type HmacSha256 = Hmac<Sha256>;

/// Length in hex characters of a session id (the public half of a session token, also the web chat id).
pub const SESSION_ID_LEN: usize = 32;

/// `n` random bytes from the operating system's CSPRNG-seeded generator, as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Reads a secret kept in a file, or creates the file with a fresh 32-byte random secret (hex).
///
/// Returns the secret and whether it was created now. On Unix the new file is readable by its owner only.
pub fn load_or_create_secret(path: &Path) -> Result<(String, bool), WebError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let secret = text.trim().to_string();
            if secret.len() < 16 {
                return Err(WebError::Secret(format!(
                    "{} holds a secret shorter than 16 characters; delete it to have a new one made",
                    path.display()
                )));
            }
            Ok((secret, false))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| WebError::io(parent, e))?;
            }
            let secret = random_hex(32);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(path).map_err(|e| WebError::io(path, e))?;
            file.write_all(format!("{secret}\n").as_bytes())
                .map_err(|e| WebError::io(path, e))?;
            file.sync_all().map_err(|e| WebError::io(path, e))?;
            Ok((secret, true))
        }
        Err(err) => Err(WebError::io(path, err)),
    }
}

/// Compares a presented token with the expected one in constant time (both are hashed first, so neither
/// their contents nor their lengths show in the timing).
pub fn token_matches(presented: &str, expected: &str) -> bool {
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    bool::from(a.ct_eq(&b)) && !expected.is_empty()
}

/// Signs and checks session tokens and file links with the server key.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl Signer {
    /// A signer over this key (the contents of the server key file).
    pub fn new(key: &str) -> Signer {
        Signer {
            key: key.as_bytes().to_vec(),
        }
    }

    fn mac_hex(&self, purpose: &str, value: &str) -> String {
        // HMAC accepts keys of any length; this cannot fail.
        let mut mac = match HmacSha256::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(purpose.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    fn mac_ok(&self, purpose: &str, value: &str, presented: &str) -> bool {
        let expected = self.mac_hex(purpose, value);
        bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
    }

    /// A new session: its token (`<id>.<signature>`, given to the browser) and its id (the chat id).
    pub fn new_session(&self) -> (String, String) {
        let id = random_hex(SESSION_ID_LEN / 2);
        (format!("{id}.{}", self.mac_hex("session", &id)), id)
    }

    /// The session id of a token this server issued, or `None` for anything else.
    pub fn session_id(&self, token: &str) -> Option<String> {
        let (id, sig) = token.split_once('.')?;
        if id.len() != SESSION_ID_LEN
            || !id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return None;
        }
        self.mac_ok("session", id, sig).then(|| id.to_string())
    }

    /// The signature that makes the link of an uploaded file downloadable without a bearer token.
    pub fn file_signature(&self, file_id: &str) -> String {
        self.mac_hex("file", file_id)
    }

    /// Whether `sig` is the signature of this file id.
    pub fn file_signature_ok(&self, file_id: &str, sig: &str) -> bool {
        self.mac_ok("file", file_id, sig)
    }
}

/// Whether a string looks like a session id (the web chat ids of visitors).
pub fn is_session_id(chat: &str) -> bool {
    chat.len() == SESSION_ID_LEN && chat.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tokens_verify_and_resist_tampering() {
        let signer = Signer::new("k1-secret-key-for-tests");
        let (token, id) = signer.new_session();
        assert!(is_session_id(&id));
        assert_eq!(signer.session_id(&token).as_deref(), Some(id.as_str()));
        // Another key does not accept it.
        assert_eq!(Signer::new("another-key-0000").session_id(&token), None);
        // A changed id with the old signature is refused.
        let (_, sig) = token.split_once('.').unwrap();
        let forged = format!("{}.{sig}", "0".repeat(SESSION_ID_LEN));
        assert_eq!(signer.session_id(&forged), None);
        assert_eq!(signer.session_id("garbage"), None);
        assert_eq!(signer.session_id(&id), None);
    }

    #[test]
    fn token_compare() {
        assert!(token_matches("abc123", "abc123"));
        assert!(!token_matches("abc124", "abc123"));
        assert!(!token_matches("", "abc123"));
        assert!(!token_matches("", ""));
    }

    #[test]
    fn secret_file_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/token");
        let (a, created) = load_or_create_secret(&path).unwrap();
        assert!(created);
        assert_eq!(a.len(), 64);
        let (b, created) = load_or_create_secret(&path).unwrap();
        assert!(!created);
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0);
        }
    }
}
