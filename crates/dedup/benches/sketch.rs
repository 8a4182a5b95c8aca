//! `sketch` (dedup's map step: exact hash, MinHash signature, short-block hashes)
//! throughput, in raw input bytes per second (the input is `parse` then `strip`'s output,
//! computed outside the timed loop).
//!
//! Fixtures: the seed article of `corpus/`, and, when `../shared/corpus-dev` is present,
//! its naive page texts (each page a document, and all pages concatenated as one large
//! document, which shows whether cost stays linear in a document's size).
//! Run with `cargo bench -p pith-dedup`.

use divan::Bencher;
use divan::counter::BytesCount;
use pith_dedup::DedupConfig;
use pith_strip::StripConfig;
use pith_types::StrippedDoc;

#[path = "../../../tests/common/bench_fixtures.rs"]
mod fixtures;

use fixtures::{fixture, fixture_names, raw_bytes};

fn main() {
    divan::main();
}

#[divan::bench(args = fixture_names(), sample_count = 20)]
fn sketch(bencher: Bencher, name: &str) {
    let docs = fixture(name);
    let strip_cfg = StripConfig::default();
    let stripped: Vec<StrippedDoc> =
        docs.iter().map(|doc| pith_strip::strip(pith_parse::parse(doc), &strip_cfg)).collect();
    let cfg = DedupConfig::default();
    bencher.counter(BytesCount::new(raw_bytes(docs))).bench(|| {
        for doc in &stripped {
            divan::black_box_drop(pith_dedup::sketch(divan::black_box(doc), &cfg));
        }
    });
}
