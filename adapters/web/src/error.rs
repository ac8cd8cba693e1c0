//! Errors of the web channel (starting it, its files); per-request problems are answered to the client instead.

use std::path::Path;

/// Why the web channel could not start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A file or directory of the channel could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A secret file is unusable.
    #[error("{0}")]
    Secret(String),
    /// The listening address is taken or not allowed.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address asked for.
        addr: String,
        /// A one-sentence reason.
        reason: String,
    },
    /// The HTTP server stopped with an error.
    #[error("web server failed: {0}")]
    Serve(String),
}

impl WebError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> WebError {
        WebError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
