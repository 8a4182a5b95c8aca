//! `parse` throughput, in raw input bytes per second.
//!
//! Fixtures: the seed article of `corpus/`, and, when `../shared/corpus-dev` is present,
//! its naive page texts (each page a document, and all pages concatenated as one large
//! document, which shows whether cost stays linear in a document's size).
//! Run with `cargo bench -p pith-parse`.

use divan::Bencher;
use divan::counter::BytesCount;

#[path = "../../../tests/common/bench_fixtures.rs"]
mod fixtures;

use fixtures::{fixture, fixture_names, raw_bytes};

fn main() {
    divan::main();
}

#[divan::bench(args = fixture_names(), sample_count = 20)]
fn parse(bencher: Bencher, name: &str) {
    let docs = fixture(name);
    bencher.counter(BytesCount::new(raw_bytes(docs))).bench(|| {
        for doc in docs {
            divan::black_box_drop(pith_parse::parse(divan::black_box(doc)));
        }
    });
}
