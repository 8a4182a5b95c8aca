//! Property tests of the cache through its public API: values round-trip through
//! `put`/`get`, and no file content makes `get` panic or return a value it was not given.

use std::fs;
use std::path::{Path, PathBuf};

use pith_cache::{Cache, Key, Lookup, fingerprint};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// Shaped like the stage outputs the driver stores: strings, options, nested vectors, an
/// enum (like `Slot`) and floats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    id: String,
    title: Option<String>,
    blocks: Vec<(u32, String)>,
    raw_bytes: u64,
    score: f64,
    bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Slot {
    Ok(Record),
    Failed { stage: String, error: String },
}

fn record() -> impl Strategy<Value = Record> {
    (
        any::<String>(),
        any::<Option<String>>(),
        prop::collection::vec((any::<u32>(), any::<String>()), 0..20),
        any::<u64>(),
        // Finite, so that `PartialEq` means equal bits.
        -1e12f64..1e12,
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(id, title, blocks, raw_bytes, score, bytes)| Record {
            id,
            title,
            blocks,
            raw_bytes,
            score,
            bytes,
        })
}

fn slot() -> impl Strategy<Value = Slot> {
    prop_oneof![
        4 => record().prop_map(Slot::Ok),
        1 => (any::<String>(), any::<String>()).prop_map(|(stage, error)| Slot::Failed { stage, error }),
    ]
}

/// Where `get` looks for a key (`<root>/<stage>-v<version>/<hh>/<hex>.bin.zst`), per the
/// cache's documented layout.
fn path_of(root: &Path, stage: &str, version: u32, key: &Key) -> PathBuf {
    let hex = key.hex();
    root.join(format!("{stage}-v{version}")).join(&hex[..2]).join(format!("{hex}.bin.zst"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn put_then_get_round_trips(values in prop::collection::vec(slot(), 0..8), seed in any::<u64>()) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let cache = Cache::open(dir.path()).expect("cache opens");
        let key = Key::for_stage("parse", 1, &(), &fingerprint(&seed));
        let output = fingerprint(&values);
        cache.put("parse", 1, &key, &values, &output).expect("put");
        prop_assert!(path_of(dir.path(), "parse", 1, &key).is_file(), "the documented layout");
        match cache.get::<Vec<Slot>>("parse", 1, &key) {
            Lookup::Hit(got) => prop_assert_eq!(got, (values, output)),
            other => return Err(TestCaseError::fail(format!("expected a hit, got {other:?}"))),
        }
        // Another version of the stage does not see it.
        prop_assert!(matches!(cache.get::<Vec<Slot>>("parse", 2, &key), Lookup::Miss));
    }

    #[test]
    fn any_bytes_as_a_cache_file_are_a_miss_or_corrupt(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let cache = Cache::open(dir.path()).expect("cache opens");
        let key = Key::for_stage("strip", 3, &(), &fingerprint(&bytes));
        let path = path_of(dir.path(), "strip", 3, &key);
        fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        fs::write(&path, &bytes).expect("write");
        match cache.get::<Vec<Slot>>("strip", 3, &key) {
            Lookup::Corrupt(err) => {
                prop_assert!(err.to_string().contains(&key.hex()), "the error names the file: {}", err);
                prop_assert!(!path.exists(), "a bad file is removed");
            }
            other => return Err(TestCaseError::fail(format!("random bytes gave {other:?}"))),
        }
    }

    /// A valid file with one byte changed is never a hit with a different value.
    #[test]
    fn a_damaged_file_is_never_a_wrong_value(value in slot(), at in any::<prop::sample::Index>(), flip in 1u8..) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let cache = Cache::open(dir.path()).expect("cache opens");
        let key = Key::for_stage("dedup", 1, &(), &fingerprint(&value));
        cache.put("dedup", 1, &key, &value, &key).expect("put");
        let path = path_of(dir.path(), "dedup", 1, &key);
        let mut bytes = fs::read(&path).expect("read");
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        fs::write(&path, &bytes).expect("write");
        match cache.get::<Slot>("dedup", 1, &key) {
            Lookup::Corrupt(_) => {}
            Lookup::Hit(got) => prop_assert_eq!(got, (value, key), "byte {} changed", i),
            Lookup::Miss => return Err(TestCaseError::fail("the file was there")),
        }
    }
}

#[test]
fn truncations_of_a_valid_file_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let value = vec![Slot::Failed { stage: "parse".into(), error: "x".repeat(1000) }];
    let key = Key::for_stage("features", 1, &(), &fingerprint("t"));
    cache.put("features", 1, &key, &value, &key).unwrap();
    let path = path_of(dir.path(), "features", 1, &key);
    let bytes = fs::read(&path).unwrap();
    for len in 0..bytes.len() {
        fs::write(&path, &bytes[..len]).unwrap();
        assert!(matches!(cache.get::<Vec<Slot>>("features", 1, &key), Lookup::Corrupt(_)), "truncated to {len}");
        fs::write(&path, &bytes[..len]).unwrap();
        assert!(matches!(cache.output_key("features", 1, &key), Lookup::Corrupt(_)), "truncated to {len}");
    }
}
