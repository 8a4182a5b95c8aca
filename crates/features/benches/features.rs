//! `features` throughput, in raw input bytes per second (the input is `parse`, `strip` and
//! `dedup`'s output with empty corpus stats, computed outside the timed loop).
//!
//! Fixtures: the seed article of `corpus/`, and, when `../shared/corpus-dev` is present,
//! its naive page texts (each page a document, and all pages concatenated as one large
//! document, which shows whether cost stays linear in a document's size).
//! Run with `cargo bench -p pith-features`.

use divan::Bencher;
use divan::counter::BytesCount;
use pith_dedup::{CorpusStats, DedupConfig};
use pith_features::FeaturesConfig;
use pith_strip::StripConfig;
use pith_types::DedupedDoc;

#[path = "../../../tests/common/bench_fixtures.rs"]
mod fixtures;

use fixtures::{fixture, fixture_names, raw_bytes};

fn main() {
    divan::main();
}

#[divan::bench(args = fixture_names(), sample_count = 20)]
fn features(bencher: Bencher, name: &str) {
    let docs = fixture(name);
    let (strip_cfg, dedup_cfg) = (StripConfig::default(), DedupConfig::default());
    let stats = CorpusStats::default();
    let deduped: Vec<DedupedDoc> = docs
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let stripped = pith_strip::strip(pith_parse::parse(doc), &strip_cfg);
            pith_dedup::dedup(stripped, i as u64, &stats, &dedup_cfg)
        })
        .collect();
    let cfg = FeaturesConfig::default();
    bencher.counter(BytesCount::new(raw_bytes(docs))).bench(|| {
        for doc in &deduped {
            divan::black_box_drop(pith_features::features(divan::black_box(doc), &cfg));
        }
    });
}
