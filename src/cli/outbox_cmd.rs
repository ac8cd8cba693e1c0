//! The `outbox` commands (placeholder until the webhook issue lands).

use std::path::PathBuf;

use super::{CliError, CliResult};

/// `outbox list`.
pub fn list(_config: Option<PathBuf>, _data: Option<PathBuf>) -> CliResult {
    Err(CliError::runtime("outbox is not available yet"))
}

/// `outbox retry [ID]`.
pub fn retry(_config: Option<PathBuf>, _data: Option<PathBuf>, _id: Option<String>) -> CliResult {
    Err(CliError::runtime("outbox is not available yet"))
}

/// `outbox drop ID`.
pub fn drop(_config: Option<PathBuf>, _data: Option<PathBuf>, _id: &str) -> CliResult {
    Err(CliError::runtime("outbox is not available yet"))
}
