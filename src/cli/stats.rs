//! `supportbot stats`: support figures from the store, as one JSON object.

use std::path::PathBuf;

use super::cases_cmd::open_store;
use super::{CliError, CliResult};
use crate::cases::stats;

/// Runs the command.
pub fn run(config: Option<PathBuf>, data: Option<PathBuf>) -> CliResult {
    let store = open_store(config, data)?;
    let figures = stats::compute(&store).map_err(CliError::runtime)?;
    let text = serde_json::to_string_pretty(&figures).map_err(CliError::runtime)?;
    println!("{text}");
    Ok(())
}
