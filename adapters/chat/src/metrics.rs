//! Operational figures the core exposes for adapters that serve them (the web channel's `/metrics`).

/// A source of metrics already rendered in the Prometheus text exposition format.
pub trait MetricsSource: Send + Sync {
    /// The current figures as Prometheus text (`# HELP`, `# TYPE` and sample lines).
    fn prometheus(&self) -> String;
}
