//! Keeps each connected visitor's page told about their open case: its number, whether it waits or an operator
//! has it, and its place in the queue, recomputed whenever a case event happens. The same feed tells the
//! channel's limits which cases web sessions open and which close.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::Notify;

use crate::frames::ServerFrame;
use crate::WebChannel;

type State = (String, Option<usize>);

struct Tracked {
    case: String,
    sent: Option<State>,
}

/// The case of each connected session and the status last sent to it.
#[derive(Default)]
pub struct CaseTracker {
    inner: Mutex<HashMap<String, Tracked>>,
    wake: Notify,
}

impl CaseTracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Tracked>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Follows `case` for a connected session (its status is sent again even if unchanged).
    pub fn watch(&self, chat: &str, case: &str) {
        let mut inner = self.lock();
        let same = inner.get(chat).is_some_and(|t| t.case == case);
        if !same {
            inner.insert(
                chat.to_string(),
                Tracked {
                    case: case.to_string(),
                    sent: None,
                },
            );
            drop(inner);
            self.wake.notify_one();
        }
    }

    /// Follows `case` and makes sure its status is sent once more (a page that just reconnected).
    pub fn rewatch(&self, chat: &str, case: &str) {
        self.lock().insert(
            chat.to_string(),
            Tracked {
                case: case.to_string(),
                sent: None,
            },
        );
        self.wake.notify_one();
    }

    /// Stops following a session (its last socket closed).
    pub fn forget(&self, chat: &str) {
        self.lock().remove(chat);
    }

    fn snapshot(&self) -> Vec<(String, String)> {
        self.lock()
            .iter()
            .map(|(chat, t)| (chat.clone(), t.case.clone()))
            .collect()
    }

    /// Records a state to send; false when it is what the session already has.
    fn record(&self, chat: &str, case: &str, state: &State) -> bool {
        let mut inner = self.lock();
        match inner.get_mut(chat) {
            Some(t) if t.case == case && t.sent.as_ref() != Some(state) => {
                t.sent = Some(state.clone());
                true
            }
            _ => false,
        }
    }
}

/// Recomputes and sends the status of every followed case.
pub async fn refresh(channel: &WebChannel) {
    let tracked = channel.out.tracker.snapshot();
    if tracked.is_empty() {
        return;
    }
    let mut states: HashMap<String, State> = HashMap::new();
    let mut waiting = 0;
    for case in channel.core.cases.list(false).await {
        let position = (case.status == "open").then(|| {
            waiting += 1;
            waiting
        });
        states.insert(case.id, (case.status, position));
    }
    for (chat, case) in tracked {
        let state = states
            .get(&case)
            .cloned()
            .unwrap_or_else(|| ("closed".to_string(), None));
        if channel.out.tracker.record(&chat, &case, &state) {
            let frame = ServerFrame::Status {
                case: case.clone(),
                status: state.0.clone(),
                position: state.1,
            };
            channel.out.chats.push(&chat, &frame.to_json());
        }
    }
}

/// Follows case events until shutdown and keeps the pages' case status current.
pub async fn run(channel: Arc<WebChannel>) {
    let mut events = channel.core.cases.subscribe();
    let mut events_open = true;
    loop {
        tokio::select! {
            _ = channel.shutdown.cancelled() => break,
            _ = channel.out.tracker.wake.notified() => {}
            got = events.recv(), if events_open => match got {
                Ok(event) => channel.gates.observe(&event),
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => events_open = false,
            },
        }
        // One recomputation for a burst of events.
        loop {
            match events.try_recv() {
                Ok(event) => channel.gates.observe(&event),
                Err(TryRecvError::Lagged(_)) => continue,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => {
                    events_open = false;
                    break;
                }
            }
        }
        refresh(&channel).await;
    }
}
