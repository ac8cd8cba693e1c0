//! The committer under concurrent readers and writers.

use super::*;

fn insert(key: &str, value: u64) -> Batch {
    let mut batch = Batch::default();
    batch.insert(key.as_bytes().to_vec(), value.to_be_bytes().to_vec());
    batch
}

fn value(bytes: &[u8]) -> u64 {
    u64::from_be_bytes(bytes.try_into().unwrap())
}

/// A value moves from the overlay to the stage to sled while readers look; they must never miss it or see
/// an older one, by key or by scan.
#[test]
fn a_written_value_stays_readable_while_it_moves_to_sled() {
    const KEYS: u64 = 40;
    let dir = tempfile::tempdir().unwrap();
    let config = sled::Config::new()
        .path(dir.path().join("db"))
        .flush_every_ms(None);
    let db = config.open().unwrap();
    let tree = db.open_tree("t").unwrap();
    let committer = Committer::start(db, tree, config, dir.path(), true).unwrap();
    let writer = {
        let committer = committer.clone();
        std::thread::spawn(move || {
            for i in 0..20_000u64 {
                committer
                    .apply(insert(&format!("k/{:02}", i % KEYS), i))
                    .unwrap();
                if i % 2500 == 2499 {
                    committer.checkpoint().unwrap();
                } else if i % 10 == 9 {
                    // Many small groups: many moves for the reader to race with.
                    std::thread::sleep(Duration::from_micros(50));
                }
            }
        })
    };
    let mut seen = vec![None::<u64>; KEYS as usize];
    while !writer.is_finished() {
        let scanned = committer.scan(b"k/").unwrap();
        let present = seen.iter().filter(|v| v.is_some()).count();
        assert!(scanned.len() >= present, "a scan missed a key");
        for (k, last) in seen.iter_mut().enumerate() {
            let now = committer.get(format!("k/{k:02}").as_bytes()).unwrap();
            let now = now.map(|v| value(&v));
            assert!(now >= *last, "key {k}: {now:?} after {last:?}");
            *last = now;
        }
    }
    writer.join().unwrap();
    let last = committer.get(b"k/00").unwrap().map(|v| value(&v));
    assert_eq!(last, Some(19_960));
    committer.stop();
}
