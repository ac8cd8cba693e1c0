//! Writes that are not durable yet. A value reaches sled only after its log record is durable (so sled's files
//! never hold a change the log could lose): it waits here until its group is synced, then in the stage
//! until the flusher applies that to sled. Readers look here first. Each entry remembers the ticket that wrote
//! it, so moving an older batch on never hides a newer value.

use sled::IVec;

use super::batch::Batch;

/// A key's pending value: the ticket that wrote it and the value (`None`: removed).
type Entry = (u64, Option<IVec>);

/// Pending values by key. A hash map: point reads and writes happen for every message, scans seldom.
#[derive(Default)]
pub(crate) struct Overlay {
    map: foldhash::HashMap<IVec, Entry>,
}

/// What the overlay says about a key.
pub(crate) enum Lookup {
    /// Not pending: sled has the current value.
    Absent,
    /// Pending with this value (`None`: removed).
    Pending(Option<IVec>),
}

impl Overlay {
    /// Records the writes of `batch`, applied under `ticket`.
    pub(crate) fn record(&mut self, ticket: u64, batch: &Batch) {
        for (key, value) in batch.ops() {
            self.map.insert(key.clone(), (ticket, value.clone()));
        }
    }

    /// Forgets the writes of `batch` (now durable and in the stage) unless a later ticket wrote the same key.
    pub(crate) fn forget(&mut self, ticket: u64, batch: &Batch) {
        for (key, _) in batch.ops() {
            if self.map.get(key).is_some_and(|(t, _)| *t == ticket) {
                self.map.remove(key);
            }
        }
    }

    /// The pending value of `key`.
    pub(crate) fn lookup(&self, key: &[u8]) -> Lookup {
        match self.map.get(key) {
            Some((_, value)) => Lookup::Pending(value.clone()),
            None => Lookup::Absent,
        }
    }

    /// Pending entries under `prefix`, in key order.
    pub(crate) fn under(&self, prefix: &[u8]) -> Vec<(IVec, Option<IVec>)> {
        sorted_under(self.map.iter().map(|(k, (_, v))| (k, v)), prefix)
    }

    /// Number of pending keys.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// The entries of `entries` under `prefix`, sorted by key.
pub(crate) fn sorted_under<'a>(
    entries: impl Iterator<Item = (&'a IVec, &'a Option<IVec>)>,
    prefix: &[u8],
) -> Vec<(IVec, Option<IVec>)> {
    let mut found: Vec<(IVec, Option<IVec>)> = entries
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    found
}

/// Merges two layers of pending entries under a prefix (each in key order); `newer` wins on equal keys.
pub(crate) fn layer(
    newer: Vec<(IVec, Option<IVec>)>,
    older: Vec<(IVec, Option<IVec>)>,
) -> Vec<(IVec, Option<IVec>)> {
    if newer.is_empty() {
        return older;
    }
    let mut out = Vec::with_capacity(newer.len() + older.len());
    let mut older = older.into_iter().peekable();
    for (key, value) in newer {
        while let Some((k, _)) = older.peek() {
            if k >= &key {
                break;
            }
            out.push(older.next().expect("peeked"));
        }
        if older.peek().is_some_and(|(k, _)| *k == key) {
            older.next();
        }
        out.push((key, value));
    }
    out.extend(older);
    out
}

/// Merges sled's entries under a prefix (in key order) with the overlay's (in key order; they win, and `None`
/// hides the key).
pub(crate) fn merge(
    sled: impl Iterator<Item = Result<(sled::IVec, sled::IVec), sled::Error>>,
    pending: Vec<(IVec, Option<IVec>)>,
) -> Result<Vec<(sled::IVec, sled::IVec)>, sled::Error> {
    let mut out = Vec::new();
    let mut pending = pending.into_iter().peekable();
    for item in sled {
        let (key, value) = item?;
        while let Some((k, _)) = pending.peek() {
            if k.as_ref() >= key.as_ref() {
                break;
            }
            let (k, v) = pending.next().expect("peeked");
            push_pending(&mut out, k, v);
        }
        match pending.peek() {
            Some((k, _)) if k.as_ref() == key.as_ref() => {
                let (k, v) = pending.next().expect("peeked");
                push_pending(&mut out, k, v);
            }
            _ => out.push((key, value)),
        }
    }
    for (k, v) in pending {
        push_pending(&mut out, k, v);
    }
    Ok(out)
}

/// Adds a pending entry to a merged scan unless it is a removal.
fn push_pending(out: &mut Vec<(IVec, IVec)>, key: IVec, value: Option<IVec>) {
    if let Some(value) = value {
        out.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_batch_applied_late_keeps_the_newer_value_visible() {
        let mut overlay = Overlay::default();
        let first = Batch::of(&[("k", Some("1"))]);
        let second = Batch::of(&[("k", Some("2"))]);
        overlay.record(1, &first);
        overlay.record(2, &second);
        overlay.forget(1, &first);
        assert!(matches!(overlay.lookup(b"k"), Lookup::Pending(Some(v)) if v == b"2"));
        overlay.forget(2, &second);
        assert!(matches!(overlay.lookup(b"k"), Lookup::Absent));
        assert_eq!(overlay.len(), 0);
    }

    #[test]
    fn a_newer_layer_wins_and_both_stay_in_key_order() {
        let entry = |k: &str, v: Option<&str>| (IVec::from(k), v.map(IVec::from));
        let newer = vec![
            entry("b", Some("new")),
            entry("c", None),
            entry("e", Some("new")),
        ];
        let older = vec![
            entry("a", Some("old")),
            entry("c", Some("old")),
            entry("d", None),
        ];
        assert_eq!(
            layer(newer, older),
            vec![
                entry("a", Some("old")),
                entry("b", Some("new")),
                entry("c", None),
                entry("d", None),
                entry("e", Some("new")),
            ]
        );
    }

    #[test]
    fn scans_merge_pending_inserts_and_removals_in_order() {
        let sled_side: Vec<Result<(sled::IVec, sled::IVec), sled::Error>> = ["p/a", "p/c", "p/e"]
            .iter()
            .map(|k| {
                Ok((
                    sled::IVec::from(k.as_bytes()),
                    sled::IVec::from(b"old".as_slice()),
                ))
            })
            .collect();
        let pending: Vec<(IVec, Option<IVec>)> = vec![
            ("p/b".into(), Some("new".into())),
            ("p/c".into(), None),
            ("p/e".into(), Some("newer".into())),
            ("p/f".into(), Some("new".into())),
        ];
        let merged: Vec<(String, String)> = merge(sled_side.into_iter(), pending)
            .unwrap()
            .into_iter()
            .map(|(k, v)| {
                (
                    String::from_utf8(k.to_vec()).unwrap(),
                    String::from_utf8(v.to_vec()).unwrap(),
                )
            })
            .collect();
        let expected = [
            ("p/a", "old"),
            ("p/b", "new"),
            ("p/e", "newer"),
            ("p/f", "new"),
        ];
        assert_eq!(
            merged,
            expected
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        );
    }
}
