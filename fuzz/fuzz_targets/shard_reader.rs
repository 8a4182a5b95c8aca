//! The JSONL shard reader (`pith::input::ShardReader`) on any bytes: a second read that
//! is told each shard's heads (the entries without texts, as phase 1 caches them) gives
//! the same shards, and their texts parse back to what the first read had; a third one,
//! told that each shard is known but given no heads (each read hash-first, then read
//! again and parsed), gives what the first read had.

#![no_main]

use std::collections::HashMap;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use pith::input::{Compression, Entry, Format, InputFile, KnownHeads, Location, RawShard, ShardReader};

struct Heads(HashMap<[u8; 32], RawShard>);

impl KnownHeads for Heads {
    fn heads(&self, digest: &[u8; 32]) -> Option<RawShard> {
        self.0.get(digest).cloned()
    }
}

struct KnowsAll;

impl KnownHeads for KnowsAll {
    fn heads(&self, _: &[u8; 32]) -> Option<RawShard> {
        None
    }

    fn knows(&self, _: &[u8; 32]) -> bool {
        true
    }
}

fuzz_target!(|data: &[u8]| {
    let files = [InputFile {
        location: Location::Stdin(Arc::new(data.to_vec())),
        rel: "-".into(),
        format: Format::Jsonl(Compression::None),
        size: data.len() as u64,
    }];
    // A small limit, so that some lines are over it.
    let max = 64;
    let read: Vec<RawShard> = ShardReader::new(&files, max).collect();
    let heads = Heads(
        read.iter()
            .filter_map(|shard| {
                let mut heads = RawShard { raw: None, ..shard.clone() };
                for entry in &mut heads.entries {
                    if let Entry::Doc(doc) = entry {
                        doc.text.clear();
                    }
                }
                Some((*shard.digest()?, heads))
            })
            .collect(),
    );
    let again: Vec<RawShard> = ShardReader::with_known(&files, max, &heads).collect();
    assert_eq!(again.len(), read.len());
    for (before, now) in read.iter().zip(&again) {
        assert_eq!(now.digest(), before.digest());
        assert_eq!(now.lacks_texts(), before.digest().is_some());
        assert!(now.with_texts().as_ref() == before);
    }
    assert!(ShardReader::with_known(&files, max, &KnowsAll).collect::<Vec<_>>() == read);
});
