//! The `[store]` section: which backend keeps the state (the embedded sled store in `[bot] data_dir`, or a
//! PostgreSQL database that several `serve` processes may share), sled's page cache, and the database URL (also
//! read from `DATABASE_URL`). The URL's password never appears in `Debug` or in messages.

use serde::Deserialize;

use super::database_url::DatabaseUrl;
use super::ConfigError;

/// The environment variable read for `[store] url`.
pub const DATABASE_URL_VAR: &str = "DATABASE_URL";

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Which backend keeps the state.
    pub backend: StoreBackend,
    /// sled's page cache, in MiB.
    pub cache_mb: u64,
    /// The PostgreSQL database (`backend = "postgres"` only; else `DATABASE_URL`).
    pub url: Option<DatabaseUrl>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: StoreBackend::Sled,
            cache_mb: 64,
            url: None,
        }
    }
}

/// `[store] backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(try_from = "String")]
pub enum StoreBackend {
    /// sled and a write-ahead log in `[bot] data_dir`: embedded, one process.
    #[default]
    Sled,
    /// A PostgreSQL database, shared by any number of processes.
    Postgres,
}

impl TryFrom<String> for StoreBackend {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.as_str() {
            "sled" => Ok(StoreBackend::Sled),
            "postgres" => Ok(StoreBackend::Postgres),
            other => Err(format!(
                "[store] backend must be \"sled\" or \"postgres\", not \"{other}\""
            )),
        }
    }
}

/// Checks of the file's `[store]` that need more than their types.
pub(super) fn check(
    store: &StoreConfig,
    locate: impl Fn(&str) -> String,
) -> Result<(), ConfigError> {
    if store.backend == StoreBackend::Sled && store.url.is_some() {
        return Err(ConfigError::Invalid {
            location: locate("url"),
            message: "[store] url is only used with backend = \"postgres\"".into(),
        });
    }
    Ok(())
}

/// Fills `[store] url` from `DATABASE_URL` for the PostgreSQL backend when the file has none, then checks that
/// the PostgreSQL backend has a URL.
pub(super) fn apply_env(
    store: &mut StoreConfig,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    if store.backend != StoreBackend::Postgres {
        return Ok(());
    }
    if store.url.is_none() {
        if let Some(text) = get(DATABASE_URL_VAR) {
            let url = DatabaseUrl::parse(&text).map_err(|message| ConfigError::Invalid {
                location: DATABASE_URL_VAR.into(),
                message,
            })?;
            store.url = Some(url);
        }
    }
    if store.url.is_none() {
        return Err(ConfigError::Invalid {
            location: "[store]".into(),
            message: format!(
                "backend = \"postgres\" needs `url` (or the {DATABASE_URL_VAR} environment variable)"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn sled_is_the_default_and_database_url_is_ignored_for_it() {
        let mut c = Config::parse("", "s.toml").unwrap();
        assert_eq!(c.store.backend, StoreBackend::Sled);
        apply_env(
            &mut c.store,
            &env(&[(DATABASE_URL_VAR, "postgres://a@h/db")]),
        )
        .unwrap();
        assert!(c.store.url.is_none());
    }

    #[test]
    fn postgres_takes_its_url_from_the_file_or_the_environment() {
        let text = "[store]\nbackend = \"postgres\"\nurl = \"postgres://bot:s3cret@127.0.0.1:5433/support\"\n";
        let c = Config::parse(text, "s.toml").unwrap();
        let url = c.store.url.as_ref().unwrap();
        assert_eq!(url.settings().get_ports(), &[5433]);
        assert_eq!(url.describe(), "database support at 127.0.0.1:5433 as bot");
        let debug = format!("{c:?}");
        assert!(!debug.contains("s3cret"), "{debug}");

        let mut c = Config::parse("[store]\nbackend = \"postgres\"\n", "s.toml").unwrap();
        apply_env(
            &mut c.store,
            &env(&[(DATABASE_URL_VAR, "postgres://bot:pw@db.internal/support")]),
        )
        .unwrap();
        assert_eq!(
            c.store.url.unwrap().settings().get_dbname(),
            Some("support")
        );
    }

    #[test]
    fn bad_store_values_are_errors_naming_the_key() {
        let err = Config::parse("[store]\nbackend = \"mysql\"\n", "s.toml").unwrap_err();
        let err = err.to_string();
        assert!(err.starts_with("s.toml:2:"), "{err}");
        assert!(err.contains("[store] backend"), "{err}");

        let err = Config::parse(
            "[store]\nbackend = \"postgres\"\nurl = \"postgres://bot:pw@host:notaport/db\"\n",
            "s.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("s.toml:3:"), "{err}");
        assert!(err.contains("[store] url"), "{err}");
        assert!(!err.contains("pw@"), "the password is not repeated: {err}");

        let err = Config::parse("[store]\nurl = \"postgres://h/db\"\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("s.toml:2:"), "{err}");
        assert!(err.contains("only used with backend"), "{err}");

        let mut c = Config::parse("[store]\nbackend = \"postgres\"\n", "s.toml").unwrap();
        let err = apply_env(&mut c.store, &env(&[])).unwrap_err().to_string();
        assert!(
            err.contains("needs `url`") && err.contains(DATABASE_URL_VAR),
            "{err}"
        );
        let err = apply_env(&mut c.store, &env(&[(DATABASE_URL_VAR, "nonsense url")]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("DATABASE_URL: "), "{err}");
    }
}
