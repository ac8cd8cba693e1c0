//! The stats dashboard as the web inbox serves it (`/inbox/stats`): the core renders the page.

/// The core's stats dashboard.
pub trait StatsPage: Send + Sync {
    /// The dashboard as one self-contained HTML page, or why it could not be made.
    fn dashboard_html(&self) -> Result<String, String>;
}
