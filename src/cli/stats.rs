//! The `stats` command (placeholder until its issue lands).

use std::path::PathBuf;

use super::{CliError, CliResult};

/// Runs the command.
pub fn run(_config: Option<PathBuf>, _data: Option<PathBuf>) -> CliResult {
    Err(CliError::runtime("stats is not available yet"))
}
