//! Operational figures and health the core exposes for adapters that serve them (the web channel's `/metrics`
//! and `/healthz`).

/// A source of metrics already rendered in the Prometheus text exposition format.
#[async_trait::async_trait]
pub trait MetricsSource: Send + Sync {
    /// The current figures as Prometheus text (`# HELP`, `# TYPE` and sample lines); some are read from the
    /// store.
    async fn prometheus(&self) -> String;

    /// `Ok` while the core accepts messages; otherwise why it does not, in one sentence (the web channel's
    /// `/healthz` answers 503 with it).
    fn health(&self) -> Result<(), String> {
        Ok(())
    }
}
