//! Platform-neutral message types and the contracts between the supportbot core and its channel adapters.
//!
//! Adapters depend on this crate only; the core implements [`InboundSink`] and [`CaseDirectory`], adapters
//! implement [`Adapter`]. Nothing here names a chat platform's SDK.

mod adapter;
mod answers;
mod cases;
mod deliver_once;
mod lead;
mod message;
mod metrics;
mod page_mail;
mod reports;
pub mod text;

pub use adapter::{Accepted, Adapter, Delivery, Envelope, InboundSink, SendError, SinkError};
pub use answers::{AnswerBook, SuggestedAnswer};
pub use cases::{CaseDetail, CaseDirectory, CaseEntry, CaseEvent, CaseEventKind, CaseSummary};
pub use deliver_once::accept_patiently;
pub use lead::Lead;
pub use message::{Attachment, AttachmentKind, Inbound, Outbound};
pub use metrics::MetricsSource;
pub use page_mail::{
    FileKept, FileQuota, FileSweep, FileUsage, Letter, MailError, MailEvent, PageFile, PageFiles,
    PageMail,
};
pub use reports::StatsPage;

/// Cancellation token every long-running task takes to know when to stop.
pub use tokio_util::sync::CancellationToken as Shutdown;
