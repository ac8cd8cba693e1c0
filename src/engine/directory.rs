//! The engine as the inbox sees it: the case list and details (`CaseDirectory`), `/metrics` and `/healthz`.

use async_trait::async_trait;
use supportbot_chat::{CaseDetail, CaseDirectory, CaseEvent, CaseSummary, MetricsSource};

use super::{Engine, Gauges};
use crate::cases::view;

#[async_trait]
impl CaseDirectory for Engine {
    async fn list(&self, include_closed: bool) -> Vec<CaseSummary> {
        view::list(&self.sh.store, include_closed)
            .await
            .unwrap_or_else(|err| {
                tracing::error!(error = %err, "listing cases failed");
                Vec::new()
            })
    }

    async fn get(&self, id: &str) -> Option<CaseDetail> {
        let found = match view::find(&self.sh.store, id).await {
            Ok(Some(case)) => view::detail(&self.sh.store, &case).await.map(Some),
            other => other.map(|_| None),
        };
        found.unwrap_or_else(|err| {
            tracing::error!(error = %err, case = %id, "reading a case failed");
            None
        })
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<CaseEvent> {
        self.sh.events.subscribe()
    }
}

#[async_trait::async_trait]
impl MetricsSource for Engine {
    async fn prometheus(&self) -> String {
        let (queue_length, oldest) = view::waiting_figures(&self.sh.store)
            .await
            .unwrap_or((0, None));
        let now = chrono::Utc::now().timestamp_millis();
        let gauges = Gauges {
            queue_length,
            oldest_waiting_secs: oldest.map_or(0.0, |ms| (now - ms).max(0) as f64 / 1000.0),
            backlog: self.sh.outbox.backlog(),
        };
        self.sh.metrics.render(&gauges)
    }

    fn health(&self) -> Result<(), String> {
        match self.sh.store.fault() {
            Some(fault) => Err(crate::store::StoreError::Failed(fault).to_string()),
            None => Ok(()),
        }
    }
}
