//! `supportbot cases list|show|export`: reads cases from the store and prints JSON.

use std::path::PathBuf;

use super::{load_config, CliError, CliResult};
use crate::cases::view;
use crate::store::Store;

/// Opens the configured store: PostgreSQL, or the sled store of an existing data directory (`--data`, else
/// `[bot] data_dir`).
pub(crate) async fn open_store(
    config: Option<PathBuf>,
    data: Option<PathBuf>,
) -> Result<Store, CliError> {
    let config = load_config(config.as_deref())?;
    super::open_store(&config, data).await
}

fn print_json(value: &impl serde::Serialize, pretty: bool) -> CliResult {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    println!("{}", text.map_err(CliError::runtime)?);
    Ok(())
}

/// `cases list`: one JSON object a line, waiting cases in queue order, then assigned, then closed.
pub async fn list(config: Option<PathBuf>, data: Option<PathBuf>) -> CliResult {
    let store = open_store(config, data).await?;
    for row in view::list(&store, true).await.map_err(CliError::runtime)? {
        print_json(&row, false)?;
    }
    Ok(())
}

/// `cases show ID`: one case with transcript and history.
pub async fn show(config: Option<PathBuf>, data: Option<PathBuf>, id: &str) -> CliResult {
    let store = open_store(config, data).await?;
    let case = view::find(&store, id)
        .await
        .map_err(CliError::runtime)?
        .ok_or_else(|| CliError::runtime(format!("there is no case {id}")))?;
    print_json(
        &view::export(&store, &case)
            .await
            .map_err(CliError::runtime)?,
        true,
    )
}

/// `cases export`: every case, one JSON array.
pub async fn export(config: Option<PathBuf>, data: Option<PathBuf>) -> CliResult {
    let store = open_store(config, data).await?;
    let mut all = Vec::new();
    for case in view::all(&store).await.map_err(CliError::runtime)? {
        all.push(
            view::export(&store, &case)
                .await
                .map_err(CliError::runtime)?,
        );
    }
    print_json(&all, true)
}
