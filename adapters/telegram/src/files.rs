//! Download links for files users send (photos, documents) that do not reveal the bot token.
//!
//! Telegram serves a file at `<api>/file/bot<token>/<path>`, a URL that would hand the token to whoever sees
//! it. Instead an attachment gets a link to this channel's own listener, `/telegram/file/<file id>/<name>`,
//! signed with an HMAC keyed by the token, and the listener fetches the file (`getFile`, then the download)
//! when an operator opens it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Makes and checks signed attachment links.
#[derive(Clone)]
pub struct FileLinks {
    base: String,
    key: Vec<u8>,
}

impl FileLinks {
    /// Links under `base` (the listener's public address, no trailing slash), signed with a key derived from
    /// the bot token.
    pub fn new(base: impl Into<String>, token: &str) -> FileLinks {
        FileLinks {
            base: base.into().trim_end_matches('/').to_string(),
            key: token.as_bytes().to_vec(),
        }
    }

    /// The signature of a file id (hex).
    pub fn signature(&self, file_id: &str) -> String {
        hex::encode(self.mac(file_id).finalize().into_bytes())
    }

    /// Whether `sig` is the signature of `file_id` (constant time).
    pub fn verify(&self, file_id: &str, sig: &str) -> bool {
        match hex::decode(sig) {
            Ok(bytes) => self.mac(file_id).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }

    /// The download link of a file, with the name the browser should save it under.
    pub fn link(&self, file_id: &str, name: &str) -> String {
        let name = if name.trim().is_empty() {
            "file".to_string()
        } else {
            name.to_string()
        };
        format!(
            "{}/telegram/file/{}/{}?sig={}",
            self.base,
            percent_encode(file_id),
            percent_encode(&name),
            self.signature(file_id)
        )
    }

    fn mac(&self, file_id: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(b"supportbot-telegram-file:");
        mac.update(file_id.as_bytes());
        mac
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986), so the text is one path segment.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A file name safe for a `Content-Disposition` header: no quotes, slashes or control characters.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '\\' | '/' | ';') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.');
    if trimmed.is_empty() {
        "file".to_string()
    } else {
        trimmed.chars().take(120).collect()
    }
}

/// The content type a downloaded file is served with: pictures inline, everything else as a download.
pub fn content_type(path: &str) -> Option<&'static str> {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_signed_and_checked() {
        let links = FileLinks::new("http://127.0.0.1:9/", "123:SECRET");
        let link = links.link("AgAD-x_1", "截图 1.png");
        assert!(link.starts_with(
            "http://127.0.0.1:9/telegram/file/AgAD-x_1/%E6%88%AA%E5%9B%BE%201.png?sig="
        ));
        assert!(!link.contains("SECRET"));
        let sig = link.rsplit("sig=").next().unwrap();
        assert!(links.verify("AgAD-x_1", sig));
        assert!(!links.verify("AgAD-x_2", sig));
        assert!(!links.verify("AgAD-x_1", "zz"));
        let other = FileLinks::new("http://127.0.0.1:9", "123:OTHER");
        assert!(!other.verify("AgAD-x_1", sig));
    }

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_file_name("../a\"b\n.txt"), "_a_b_.txt");
        assert_eq!(safe_file_name("  "), "file");
        assert_eq!(content_type("photos/file_1.JPG"), Some("image/jpeg"));
        assert_eq!(content_type("documents/x.svg"), None);
    }
}
