//! Time of each per-document stage on JSONL records, as the driver runs them:
//! `cargo run --release -p pith-features --example stages_bench -- [--docs=N] [--rounds=N]
//! [--stage=NAME] FILE.jsonl...`.
//!
//! The stages are parse, strip, sketch (dedup's map step), shingles (the exact shingle sets
//! that verify near-duplicate candidates, here of every document), candidates (the LSH
//! buckets of all the records' sketches), apply (dedup of one document against the corpus
//! statistics of all the records given) and features. Each is
//! run `rounds` times on the same inputs, made once beforehand, and the fastest round is
//! printed, in seconds and in MB/s of the records' `text` bytes.
//!
//! With `--stage=NAME` only that stage runs, inside `bench_NAME`, so that
//! `valgrind --tool=callgrind --toggle-collect='stages_bench::bench_strip'` counts the
//! stage's instructions alone.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::hint::black_box;
use std::time::Instant;

use pith_dedup::DedupConfig;
use pith_features::FeaturesConfig;
use pith_strip::StripConfig;
use pith_types::{DedupedDoc, ParsedDoc, RawDoc, StrippedDoc};

fn main() {
    let mut max_docs = usize::MAX;
    let mut rounds = 3;
    let mut only = None;
    let mut records = Vec::new();
    for arg in std::env::args().skip(1) {
        if let Some(n) = arg.strip_prefix("--docs=") {
            max_docs = n.parse().expect("--docs=N");
        } else if let Some(n) = arg.strip_prefix("--rounds=") {
            rounds = n.parse().expect("--rounds=N");
        } else if let Some(stage) = arg.strip_prefix("--stage=") {
            only = Some(stage.to_owned());
        } else {
            read_records(&arg, &mut records);
        }
    }
    records.truncate(max_docs);
    let bytes: usize = records.iter().map(|r| r.text.len()).sum();
    let (scfg, dcfg, fcfg) = (StripConfig::default(), DedupConfig::default(), FeaturesConfig::default());
    let parsed: Vec<ParsedDoc> = records.iter().map(pith_parse::parse).collect();
    let stripped: Vec<StrippedDoc> = parsed.iter().map(|d| pith_strip::strip(d.clone(), &scfg)).collect();
    let stats = pith_dedup::reduce_in_memory(&stripped.iter().collect::<Vec<_>>(), &dcfg);
    let deduped: Vec<DedupedDoc> =
        stripped.iter().enumerate().map(|(i, d)| pith_dedup::dedup(d.clone(), i as u64, &stats, &dcfg)).collect();
    let sketches: Vec<pith_dedup::Sketch> = stripped.iter().map(|d| pith_dedup::sketch(d, &dcfg)).collect();
    println!("{} docs, {:.1} MB", records.len(), bytes as f64 / 1e6);

    let stages: [(&str, &dyn Fn()); 7] = [
        ("parse", &|| bench_parse(&records)),
        ("strip", &|| bench_strip(parsed.clone(), &scfg)),
        ("sketch", &|| bench_sketch(&stripped, &dcfg)),
        ("shingles", &|| bench_shingles(&stripped, &dcfg)),
        ("candidates", &|| bench_candidates(&sketches, &dcfg)),
        ("apply", &|| bench_apply(stripped.clone(), &stats, &dcfg)),
        ("features", &|| bench_features(&deduped, &fcfg)),
    ];
    for (name, run) in stages {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let mut best = f64::INFINITY;
        for _ in 0..rounds {
            let start = Instant::now();
            run();
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!("{name:>10}: {best:.3} s, {:.1} MB/s", bytes as f64 / 1e6 / best);
    }
}

#[inline(never)]
fn bench_parse(records: &[RawDoc]) {
    for raw in records {
        black_box(pith_parse::parse(raw));
    }
}

#[inline(never)]
fn bench_strip(parsed: Vec<ParsedDoc>, cfg: &StripConfig) {
    for doc in parsed {
        black_box(pith_strip::strip(doc, cfg));
    }
}

#[inline(never)]
fn bench_sketch(stripped: &[StrippedDoc], cfg: &DedupConfig) {
    for doc in stripped {
        black_box(pith_dedup::sketch(doc, cfg));
    }
}

#[inline(never)]
fn bench_shingles(stripped: &[StrippedDoc], cfg: &DedupConfig) {
    for doc in stripped {
        black_box(pith_dedup::shingle_set(doc, cfg));
    }
}

#[inline(never)]
fn bench_candidates(sketches: &[pith_dedup::Sketch], cfg: &DedupConfig) {
    black_box(pith_dedup::candidate_pairs(&sketches.iter().collect::<Vec<_>>(), cfg));
}

#[inline(never)]
fn bench_apply(stripped: Vec<StrippedDoc>, stats: &pith_dedup::CorpusStats, cfg: &DedupConfig) {
    for (i, doc) in stripped.into_iter().enumerate() {
        black_box(pith_dedup::dedup(doc, i as u64, stats, cfg));
    }
}

#[inline(never)]
fn bench_features(deduped: &[DedupedDoc], cfg: &FeaturesConfig) {
    for doc in deduped {
        black_box(pith_features::features(doc, cfg));
    }
}

/// The records of a JSONL file with a `text` field, as `RawDoc`s.
fn read_records(path: &str, records: &mut Vec<RawDoc>) {
    let Ok(lines) = std::fs::read_to_string(path) else {
        eprintln!("skipping {path}");
        return;
    };
    for (i, line) in lines.lines().enumerate() {
        let Ok(mut record) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let Some(serde_json::Value::String(text)) = record.get_mut("text").map(serde_json::Value::take) else {
            continue;
        };
        let id = match record.get("id") {
            Some(serde_json::Value::String(id)) => id.clone(),
            _ => format!("{path}:{}", i + 1),
        };
        records.push(RawDoc {
            id,
            source: pith_types::Source { path: path.to_owned(), line: Some(i as u64 + 1) },
            text,
            metadata_json: None,
            diags: Vec::new(),
        });
    }
}
