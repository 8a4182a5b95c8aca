//! `Cache::get` on any file at a key's path (`<root>/<stage>-v<version>/<hh>/<hex>.bin.zst`):
//! a miss or `Corrupt`, never a panic or an abort, and a hit only for bytes that are
//! exactly the encoding of the value.
//!
//! The first byte picks what the rest becomes, so that every layer is reached:
//! - mode 0: the whole file;
//! - mode 1: the payload behind a valid header (`pith_cache::framed`), so the zstd decoder
//!   sees it;
//! - mode 2: the bincode bytes, zstd-compressed behind a valid header, so the decoder of
//!   one of the stage output types sees it.
//!
//! `Cache::output_key`, which reads the header alone, sees the same files first.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pith_cache::{Cache, Key, Lookup, fingerprint};
use pith_dedup::{DedupDelta, Sketch};
use pith_types::{Features, ParsedDoc, Slot, StrippedDoc};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn root() -> &'static PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("pith-fuzz-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        dir
    })
}

fn with_header(payload: &[u8], key: &Key) -> Vec<u8> {
    pith_cache::framed(payload, key, key)
}

fn key_of(stage: &str, data: &[u8]) -> Key {
    Key::for_stage(stage, 1, &(), &fingerprint(data))
}

fn get<T: Serialize + DeserializeOwned>(stage: &str, data: &[u8], file: &[u8], bincode: Option<&[u8]>) {
    let cache = Cache::open(root()).expect("cache opens");
    let key = key_of(stage, data);
    let hex = key.hex();
    let dir = root().join(format!("{stage}-v1")).join(&hex[..2]);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join(format!("{hex}.bin.zst"));
    std::fs::write(&path, file).expect("write");
    match cache.output_key(stage, 1, &key) {
        Lookup::Hit(_) => {}
        Lookup::Corrupt(err) => {
            assert!(err.to_string().contains(&hex), "the error names the file");
            assert!(!path.exists(), "a bad file is removed");
            std::fs::write(&path, file).expect("write");
        }
        Lookup::Miss => panic!("a file that is there is not a miss"),
    }
    match cache.get::<T>(stage, 1, &key) {
        Lookup::Hit((value, _)) => {
            // bincode's legacy format is canonical: a value decodes only from its own
            // encoding, all of it. So a hit must re-encode to the very bytes it came from.
            if let Some(bytes) = bincode {
                assert_eq!(fingerprint(&value).0, *blake3::hash(bytes).as_bytes(), "hit from foreign bytes");
            }
            let _ = std::fs::remove_file(&path);
        }
        Lookup::Corrupt(err) => {
            assert!(err.to_string().contains(&hex), "the error names the file");
            assert!(!path.exists(), "a bad file is removed");
        }
        Lookup::Miss => panic!("a file that is there is not a miss"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let stage = ["parse", "strip", "dedup_map", "dedup", "features"][usize::from(selector / 3) % 5];
    let key = key_of(stage, rest);
    let (file, bincode) = match selector % 3 {
        0 => (rest.to_vec(), None),
        1 => (with_header(rest, &key), None),
        _ => (with_header(&zstd::bulk::compress(rest, 1).expect("compress"), &key), Some(rest)),
    };
    match stage {
        "parse" => get::<Vec<Slot<ParsedDoc>>>(stage, rest, &file, bincode),
        "strip" => get::<Vec<Slot<StrippedDoc>>>(stage, rest, &file, bincode),
        "dedup_map" => get::<Vec<Option<Sketch>>>(stage, rest, &file, bincode),
        "dedup" => get::<Vec<Slot<DedupDelta>>>(stage, rest, &file, bincode),
        _ => get::<Vec<Slot<Features>>>(stage, rest, &file, bincode),
    }
});
