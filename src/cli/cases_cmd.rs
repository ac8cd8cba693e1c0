//! The `cases` commands (placeholder until the engine issue lands).

use std::path::PathBuf;

use super::{CliError, CliResult};

/// `cases list`.
pub fn list(_config: Option<PathBuf>, _data: Option<PathBuf>) -> CliResult {
    Err(CliError::runtime("cases is not available yet"))
}

/// `cases show ID`.
pub fn show(_config: Option<PathBuf>, _data: Option<PathBuf>, _id: &str) -> CliResult {
    Err(CliError::runtime("cases is not available yet"))
}

/// `cases export`.
pub fn export(_config: Option<PathBuf>, _data: Option<PathBuf>) -> CliResult {
    Err(CliError::runtime("cases is not available yet"))
}
