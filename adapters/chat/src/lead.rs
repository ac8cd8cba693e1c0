//! Receivers that must run once across every process of a deployment (Telegram long polling, the Discord
//! gateway): the core says which process runs them, and when it stops doing so.

use std::any::Any;

use crate::Shutdown;

/// This process's turn to run a single receiver. Dropping it gives the turn up; [`Lead::lost`] is cancelled
/// when the core can no longer vouch for it (the store connection that holds it failed), and the receiver must
/// stop then.
pub struct Lead {
    lost: Shutdown,
    _held: Box<dyn Any + Send + Sync>,
}

impl Lead {
    /// A lead held by `held` (a store connection, a lock guard), lost when `lost` is cancelled.
    pub fn new(lost: Shutdown, held: impl Any + Send + Sync) -> Lead {
        Lead {
            lost,
            _held: Box::new(held),
        }
    }

    /// The lead of a process that is the only one (an embedded store): held at once, never lost.
    pub fn sole() -> Lead {
        Lead::new(Shutdown::new(), ())
    }

    /// Cancelled when the lead is lost.
    pub fn lost(&self) -> &Shutdown {
        &self.lost
    }
}
