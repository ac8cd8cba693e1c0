//! The PostgreSQL connection URL of `[store] url` (or `DATABASE_URL`), in either of libpq's forms
//! (`postgres://user:password@host:port/database?…` or `host=… dbname=…`), checked when the config is loaded.
//! `sslmode` and `sslrootcert` are read here rather than by the client library: `require`, `verify-ca` and
//! `verify-full` connect with TLS and verify the server's certificate (name included) against the public root
//! certificates and those of the `sslrootcert` file, which is read now so that a missing or unreadable file is a
//! configuration error; `disable`, `allow` and `prefer` (the default) connect without TLS. The password never
//! appears in `Debug` or in messages.

use std::str::FromStr;
use std::sync::OnceLock;

use regex::Regex;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde::Deserialize;

/// Whether connections use TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTls {
    /// Plain connections.
    Off,
    /// TLS, the server's certificate verified against the public roots and these extra ones (`sslrootcert`).
    Verified(Vec<CertificateDer<'static>>),
}

/// A PostgreSQL connection URL, parsed.
#[derive(Clone)]
pub struct DatabaseUrl {
    config: tokio_postgres::Config,
    tls: DatabaseTls,
}

/// The `sslmode` and `sslrootcert` settings of a URL, and the URL without them.
struct TlsParams {
    rest: String,
    mode: Option<String>,
    root_cert: Option<String>,
}

impl DatabaseUrl {
    /// Parses a URL; the message says what is wrong without repeating the URL (it may hold a password).
    pub fn parse(text: &str) -> Result<DatabaseUrl, String> {
        let params = tls_params(text.trim())?;
        let mut config = tokio_postgres::Config::from_str(&params.rest)
            .map_err(|e| format!("not a PostgreSQL connection URL ({e})"))?;
        if config.get_hosts().is_empty() {
            return Err("the PostgreSQL URL names no host".into());
        }
        if config.get_dbname().is_none() {
            return Err("the PostgreSQL URL names no database".into());
        }
        let tls = match params.mode.as_deref().unwrap_or("prefer") {
            "disable" | "allow" | "prefer" => DatabaseTls::Off,
            "require" | "verify-ca" | "verify-full" => {
                DatabaseTls::Verified(match &params.root_cert {
                    Some(path) => root_certificates(path)?,
                    None => Vec::new(),
                })
            }
            other => {
                return Err(format!(
                    "sslmode must be disable, allow, prefer, require, verify-ca or verify-full, not \"{other}\""
                ))
            }
        };
        if tls == DatabaseTls::Off && params.root_cert.is_some() {
            return Err(
                "sslrootcert is only used with sslmode=require, verify-ca or verify-full".into(),
            );
        }
        // The client library negotiates TLS only when asked to; plain connections never try it.
        config.ssl_mode(match tls {
            DatabaseTls::Off => tokio_postgres::config::SslMode::Disable,
            DatabaseTls::Verified(_) => tokio_postgres::config::SslMode::Require,
        });
        Ok(DatabaseUrl { config, tls })
    }

    /// The parsed connection settings.
    pub fn settings(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// Whether connections use TLS, and the extra root certificates.
    pub fn tls(&self) -> &DatabaseTls {
        &self.tls
    }

    /// Where the URL points, without its password: `database supportbot at 127.0.0.1:5432 as user`.
    pub fn describe(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => "?".into(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        format!(
            "database {} at {host}:{port} as {}{}",
            self.config.get_dbname().unwrap_or("?"),
            self.config.get_user().unwrap_or("?"),
            match self.tls {
                DatabaseTls::Off => "",
                DatabaseTls::Verified(_) => " over TLS",
            }
        )
    }
}

/// Takes `sslmode` and `sslrootcert` out of a URL of either form.
fn tls_params(text: &str) -> Result<TlsParams, String> {
    let mut params = TlsParams {
        rest: String::new(),
        mode: None,
        root_cert: None,
    };
    let mut take = |key: &str, value: String| match key {
        "sslmode" => params.mode = Some(value),
        _ => params.root_cert = Some(value),
    };
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        let (base, query) = text.split_once('?').unwrap_or((text, ""));
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((key @ ("sslmode" | "sslrootcert"), value)) => {
                    take(key, percent_decode(value)?)
                }
                _ => kept.push(pair),
            }
        }
        params.rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
    } else {
        static KEY_VALUE: OnceLock<Regex> = OnceLock::new();
        let pattern = KEY_VALUE.get_or_init(|| {
            Regex::new(r"(?:^|\s)(sslmode|sslrootcert)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)")
                .expect("a valid pattern")
        });
        for found in pattern.captures_iter(text) {
            let value = found[2].trim_matches('\'').replace("\\'", "'");
            take(&found[1], value);
        }
        params.rest = pattern.replace_all(text, " ").trim().to_string();
    }
    Ok(params)
}

/// A URL query value with its `%XX` escapes decoded.
fn percent_decode(value: &str) -> Result<String, String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("the PostgreSQL URL has a bad %-escape in sslmode or sslrootcert")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "sslrootcert is not UTF-8".to_string())
}

/// The certificates of a PEM file.
fn root_certificates(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read sslrootcert {path}: {e}"))?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("sslrootcert {path} is not a PEM certificate file ({e})"))?;
    if certs.is_empty() {
        return Err(format!("sslrootcert {path} holds no certificate"));
    }
    Ok(certs)
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.describe())
    }
}

impl TryFrom<String> for DatabaseUrl {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        DatabaseUrl::parse(&value).map_err(|e| format!("[store] url: {e}"))
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        DatabaseUrl::try_from(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_sslmode_connections_are_plain() {
        let url = DatabaseUrl::parse("postgres://bot:pw@127.0.0.1:5433/support").unwrap();
        assert_eq!(url.tls(), &DatabaseTls::Off);
        assert_eq!(
            url.settings().get_ssl_mode(),
            tokio_postgres::config::SslMode::Disable
        );
        let url = DatabaseUrl::parse("host=h dbname=d user=u sslmode=prefer").unwrap();
        assert_eq!(url.tls(), &DatabaseTls::Off);
    }

    #[test]
    fn sslmode_require_and_verify_use_tls_in_both_forms() {
        for text in [
            "postgres://bot:pw@db.example/support?sslmode=require",
            "postgresql://bot@db.example/support?connect_timeout=5&sslmode=verify-full",
            "host=db.example dbname=support user=bot sslmode=verify-ca",
        ] {
            let url = DatabaseUrl::parse(text).unwrap();
            assert_eq!(url.tls(), &DatabaseTls::Verified(Vec::new()), "{text}");
            assert_eq!(
                url.settings().get_ssl_mode(),
                tokio_postgres::config::SslMode::Require
            );
            assert!(url.describe().ends_with("over TLS"), "{}", url.describe());
        }
        let url =
            DatabaseUrl::parse("postgres://bot@h/db?connect_timeout=7&sslmode=require").unwrap();
        assert_eq!(
            url.settings().get_connect_timeout(),
            Some(&std::time::Duration::from_secs(7))
        );
    }

    #[test]
    fn bad_tls_settings_are_errors() {
        let err = DatabaseUrl::parse("postgres://bot:pw@h/db?sslmode=always").unwrap_err();
        assert!(err.contains("sslmode must be"), "{err}");
        let err = DatabaseUrl::parse("postgres://h/db?sslmode=require&sslrootcert=/no/such.pem")
            .unwrap_err();
        assert!(
            err.contains("cannot read sslrootcert /no/such.pem"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let err = DatabaseUrl::parse(&format!(
            "host=h dbname=d sslmode=verify-full sslrootcert='{}'",
            junk.display()
        ))
        .unwrap_err();
        assert!(err.contains("holds no certificate"), "{err}");
        let err = DatabaseUrl::parse("postgres://h/db?sslrootcert=%2Fca.pem").unwrap_err();
        assert!(err.contains("only used with sslmode"), "{err}");
    }
}
