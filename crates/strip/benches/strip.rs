//! `strip` throughput, in raw input bytes per second (the input is `parse`'s output,
//! computed outside the timed loop).
//!
//! Fixtures: the seed article of `corpus/`, and, when `../shared/corpus-dev` is present,
//! its naive page texts (each page a document, and all pages concatenated as one large
//! document, which shows whether cost stays linear in a document's size).
//! Run with `cargo bench -p pith-strip`.

use divan::Bencher;
use divan::counter::BytesCount;
use pith_strip::StripConfig;
use pith_types::ParsedDoc;

#[path = "../../../tests/common/bench_fixtures.rs"]
mod fixtures;

use fixtures::{fixture, fixture_names, raw_bytes};

fn main() {
    divan::main();
}

#[divan::bench(args = fixture_names(), sample_count = 20)]
fn strip(bencher: Bencher, name: &str) {
    let docs = fixture(name);
    let parsed: Vec<ParsedDoc> = docs.iter().map(pith_parse::parse).collect();
    let cfg = StripConfig::default();
    bencher.counter(BytesCount::new(raw_bytes(docs))).with_inputs(|| parsed.clone()).bench_values(|parsed| {
        for doc in parsed {
            divan::black_box_drop(pith_strip::strip(divan::black_box(doc), &cfg));
        }
    });
}
