//! The store's unit of change: an ordered list of inserts and removals, written to the write-ahead log as one
//! record and then applied to sled. Every operation is a blind write (a whole value or a
//! removal), so replaying a logged batch over a state that already contains it changes nothing.

use sled::IVec;

/// Inserts and removals applied together. Keys and values are sled's shared buffers, so the log, the overlay
/// and sled all hold the same bytes without copying them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<(IVec, Option<IVec>)>,
    /// Per operation: whether it creates a key that holds no value (see [`Batch::insert_new`]).
    new_keys: Vec<bool>,
}

/// Tags of the log encoding.
const REMOVE: u8 = 0;
const INSERT: u8 = 1;

impl Batch {
    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: impl Into<IVec>, value: impl Into<IVec>) {
        self.ops.push((key.into(), Some(value.into())));
        self.new_keys.push(false);
    }

    /// Sets `key`, which holds no value now (the next number of a sequence above every stored one, such as an
    /// inbox or outbox slot). If it is removed again before the store's stage reaches sled, sled sees
    /// neither write.
    pub fn insert_new(&mut self, key: impl Into<IVec>, value: impl Into<IVec>) {
        self.ops.push((key.into(), Some(value.into())));
        self.new_keys.push(true);
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: impl Into<IVec>) {
        self.ops.push((key.into(), None));
        self.new_keys.push(false);
    }

    /// Whether the batch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Appends the log encoding: per operation a tag byte, the key and (for inserts) the value, each with a
    /// little-endian u32 length.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        for (key, value) in &self.ops {
            out.push(if value.is_some() { INSERT } else { REMOVE });
            put_bytes(out, key);
            if let Some(value) = value {
                put_bytes(out, value);
            }
        }
    }

    /// Reads the encoding written by [`Batch::encode_into`]; `None` when it is malformed. The log does not keep
    /// [`Batch::insert_new`] marks, so a replayed removal always reaches sled, which may hold the key from a pass
    /// made before the crash.
    pub(crate) fn decode(mut bytes: &[u8]) -> Option<Batch> {
        let mut batch = Batch::default();
        while let Some((&tag, rest)) = bytes.split_first() {
            let (key, rest) = take_bytes(rest)?;
            match tag {
                INSERT => {
                    let (value, rest) = take_bytes(rest)?;
                    batch.insert(key, value);
                    bytes = rest;
                }
                REMOVE => {
                    batch.remove(key);
                    bytes = rest;
                }
                _ => return None,
            }
        }
        Some(batch)
    }

    /// The operations, in order.
    pub(crate) fn ops(&self) -> &[(IVec, Option<IVec>)] {
        &self.ops
    }

    /// The operations, in order, each with whether it creates a new key ([`Batch::insert_new`]).
    pub(crate) fn ops_marked(&self) -> impl Iterator<Item = (&IVec, &Option<IVec>, bool)> {
        self.ops
            .iter()
            .zip(&self.new_keys)
            .map(|((key, value), new_key)| (key, value, *new_key))
    }
}

#[cfg(test)]
impl Batch {
    /// A batch of `(key, Some(value))` inserts and `(key, None)` removals, for tests.
    pub(crate) fn of(ops: &[(&str, Option<&str>)]) -> Batch {
        let mut batch = Batch::default();
        for (key, value) in ops {
            match value {
                Some(value) => batch.insert(key.as_bytes().to_vec(), value.as_bytes().to_vec()),
                None => batch.remove(key.as_bytes().to_vec()),
            }
        }
        batch
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Keys and values are far below 4 GiB: the engine refuses texts over 4,000 characters.
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn take_bytes(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<4>()?;
    let len = u32::from_le_bytes(*len) as usize;
    (rest.len() >= len).then(|| rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_encoding_round_trips() {
        let mut batch = Batch::default();
        batch.insert(b"conv/t:1".to_vec(), "值".as_bytes().to_vec());
        batch.remove(b"in/00000001".to_vec());
        batch.insert(Vec::new(), Vec::new());
        let mut bytes = Vec::new();
        batch.encode_into(&mut bytes);
        assert_eq!(Batch::decode(&bytes), Some(batch));
    }

    #[test]
    fn a_cut_or_garbled_encoding_is_refused() {
        let mut batch = Batch::default();
        batch.insert(b"k".to_vec(), b"value".to_vec());
        let mut bytes = Vec::new();
        batch.encode_into(&mut bytes);
        assert_eq!(Batch::decode(&bytes[..bytes.len() - 1]), None);
        bytes[0] = 7;
        assert_eq!(Batch::decode(&bytes), None);
    }
}
