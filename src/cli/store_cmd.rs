//! `supportbot migrate` (the PostgreSQL schema brought up to date, its version printed) and `supportbot store
//! copy` (a sled data directory copied into an empty PostgreSQL database, verified by counts).

use std::path::PathBuf;

use super::{existing_data_dir, load_config, CliError, CliResult};
use crate::config::{Config, DatabaseUrl, StoreBackend};
use crate::store::postgres::{copy, PgStore};
use crate::store::{SledStore, StoreError};

/// The PostgreSQL URL of a config; a config for sled is a usage error.
fn configured_url(config: &Config, command: &str) -> Result<DatabaseUrl, CliError> {
    match (config.store.backend, &config.store.url) {
        (StoreBackend::Postgres, Some(url)) => Ok(url.clone()),
        _ => Err(CliError::usage(format!(
            "{command} needs a PostgreSQL database: [store] backend = \"postgres\" with `url` (or DATABASE_URL)"
        ))),
    }
}

/// `migrate --config FILE`.
pub async fn migrate(config: Option<PathBuf>) -> CliResult {
    let config = load_config(config.as_deref())?;
    let url = configured_url(&config, "migrate")?;
    let store = PgStore::open(&url).await.map_err(CliError::runtime)?;
    let done = store.migrated();
    if done.from == done.to {
        println!(
            "schema of {}: version {} (current)",
            store.target(),
            done.to
        );
    } else {
        println!(
            "schema of {}: version {} → {}",
            store.target(),
            done.from,
            done.to
        );
    }
    Ok(())
}

/// `store copy --from DIR (--to URL | --config FILE)`.
pub async fn copy(from: PathBuf, to: Option<String>, config: Option<PathBuf>) -> CliResult {
    let url = match (&to, &config) {
        (Some(_), Some(_)) => {
            return Err(CliError::usage(
                "give the target either as --to URL or with --config, not both",
            ))
        }
        (Some(text), None) => {
            DatabaseUrl::parse(text).map_err(|e| CliError::usage(format!("--to: {e}")))?
        }
        (None, _) => {
            let config = load_config(config.as_deref())?;
            configured_url(&config, "store copy")?
        }
    };
    let dir = existing_data_dir(&Config::default(), Some(from))?;
    let source = match SledStore::open(&dir, 64) {
        Ok(store) => store,
        Err(StoreError::Locked(dir)) => {
            return Err(CliError::runtime(format!(
                "the data directory {} is in use by a running supportbot: stop it before copying",
                dir.display()
            )))
        }
        Err(err) => return Err(CliError::runtime(err)),
    };
    let target = PgStore::open(&url).await.map_err(CliError::runtime)?;
    let counts = copy::sled_to_postgres(&source, &target)
        .await
        .map_err(CliError::runtime)?;
    println!(
        "copied {} into {}; rows in each table, counted after the copy:",
        dir.display(),
        target.target()
    );
    print!("{counts}");
    Ok(())
}
