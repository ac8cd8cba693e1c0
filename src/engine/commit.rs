//! Committing a handling step: its writes, the outbox items for its messages (and for case events forwarded
//! to inbox hooks) and the removal of the handled inbound message go to the store as one commit; the items
//! are then handed to the outbox, which delivers each once the commit is durable.

use supportbot_chat::{CaseEvent, Delivery, Envelope, Outbound};

use crate::outbox::{Item, Outbox};
use crate::store::changes::Changes;
use crate::store::{Commit, StoreError};

/// What a committed step hands on: outbox items and events to broadcast.
pub(crate) struct Committed {
    /// Outbox items (already in the batch).
    pub items: Vec<Item>,
    /// Case events of the step.
    pub events: Vec<CaseEvent>,
}

/// Stores the step with one commit; the store numbers its outbox items.
pub(crate) async fn commit(
    changes: Changes,
    forwarders: &[String],
) -> Result<Committed, StoreError> {
    let mut parts = changes.into_parts();
    let mut outbox_records = Vec::with_capacity(parts.sends.len());
    let created_ms = chrono::Utc::now().timestamp_millis();
    for (i, event) in parts.events.iter().enumerate() {
        for name in forwarders {
            parts.sends.push((
                Envelope {
                    id: format!("{}#ev{i}:{name}", parts.source),
                    destination: name.clone(),
                    order_key: format!("forward:{name}"),
                    delivery: Delivery::Event(event.clone()),
                },
                false,
            ));
        }
    }
    let mut items = Vec::with_capacity(parts.sends.len());
    for (envelope, case_message) in parts.sends {
        if case_message {
            if let Delivery::Message(Outbound {
                case: Some(case), ..
            }) = &envelope.delivery
            {
                parts
                    .writes
                    .case_messages
                    .insert(envelope.id.clone(), case.clone());
            }
        }
        let item = Item {
            seq: 0,
            ticket: None,
            created_ms,
            envelope,
        };
        outbox_records.push(Outbox::record(&item));
        items.push(item);
    }
    let stored = parts
        .step
        .commit(Commit {
            writes: parts.writes,
            outbox: outbox_records,
            handled: parts.inbox_seq,
        })
        .await?;
    for (item, seq) in items.iter_mut().zip(stored.outbox_seqs) {
        item.seq = seq;
        item.ticket = Some(stored.ticket);
    }
    Ok(Committed {
        items,
        events: parts.events,
    })
}
