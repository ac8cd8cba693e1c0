//! The `serve` command (placeholder until its issue lands).

use std::path::PathBuf;

use super::{CliError, CliResult};

/// Runs the command.
pub fn run(_config: Option<PathBuf>) -> CliResult {
    Err(CliError::runtime("serve is not available yet"))
}
