//! Throughput of the TF-IDF keywords' two halves on JSONL records' `text` fields:
//! `cargo run --release -p pith-features --example keywords_bench -- [--rounds=N]
//! [--stage=map|candidates|keywords] FILE.jsonl...`.
//!
//! The map step is what the driver's corpus pass runs per document (language, then the
//! distinct term hashes, counted into `DocFreq`); the candidates step is what its second
//! phase runs per document (`candidates_of`, the keywords and the candidates for later
//! rescoring) against the corpus's frequencies, and the keywords step is `keywords_of`
//! there. Each document is the record's text as it is (no parse, strip or dedup), which
//! is all keywords read. Prints MB/s per CPU second of each step.
//!
//! With `--stage=NAME` only the map step and that step are timed (the map step gives the
//! frequencies the others need), each inside `bench_NAME`, so that
//! `valgrind --tool=callgrind --toggle-collect='keywords_bench::bench_candidates'` counts
//! one step's instructions alone.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use pith_features::FeaturesConfig;
use pith_features::keywords::incremental::{candidates_of, n_candidates};
use pith_features::keywords::{DocFreq, DocFreqIndex, keywords_of, language_and_term_hashes};

fn main() {
    let mut rounds = 2;
    let mut only = None;
    let mut texts = Vec::new();
    for arg in std::env::args().skip(1) {
        if let Some(n) = arg.strip_prefix("--rounds=") {
            rounds = n.parse().expect("--rounds=N");
            continue;
        }
        if let Some(stage) = arg.strip_prefix("--stage=") {
            only = Some(stage.to_owned());
            continue;
        }
        let lines = std::fs::read_to_string(&arg).unwrap_or_else(|e| panic!("{arg}: {e}"));
        for (i, line) in lines.lines().enumerate() {
            let record: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{arg} line {}: {e}", i + 1));
            if let Some(text) = record.get("text").and_then(serde_json::Value::as_str) {
                texts.push(text.to_owned());
            }
        }
    }
    let cfg = FeaturesConfig::default();
    let bytes: usize = texts.iter().map(String::len).sum::<usize>() * rounds;
    let rate = |secs: f64| bytes as f64 / 1e6 / secs;
    println!("{} docs, {:.1} MB x {rounds}", texts.len(), bytes as f64 / 1e6 / rounds as f64);
    let mut langs = Vec::new();
    let mut doc_freq = DocFreq::default();
    let map = cpu(|| (langs, doc_freq) = bench_map(&texts, &cfg, rounds));
    println!("map {:.1} MB/s per CPU second ({} terms)", rate(map), doc_freq.doc_counts.len());
    let index = DocFreqIndex::new(&doc_freq);
    if only.as_deref().is_none_or(|s| s == "candidates") {
        let mut n = 0;
        let secs = cpu(|| n = bench_candidates(&texts, &langs, &index, cfg.keywords, rounds));
        println!("candidates {:.1} MB/s per CPU second ({n} keywords)", rate(secs));
    }
    if only.as_deref().is_none_or(|s| s == "keywords") {
        let mut n = 0;
        let secs = cpu(|| n = bench_keywords(&texts, &langs, &index, cfg.keywords, rounds));
        println!("keywords {:.1} MB/s per CPU second ({n} keywords)", rate(secs));
    }
}

/// The corpus pass's map step: each text's language and distinct term hashes, counted.
#[inline(never)]
fn bench_map(texts: &[String], cfg: &FeaturesConfig, rounds: usize) -> (Vec<Option<String>>, DocFreq) {
    let mut langs = Vec::new();
    let mut doc_freq = DocFreq::default();
    for _ in 0..rounds {
        langs.clear();
        doc_freq = DocFreq::of_term_hashes(texts.iter().map(|text| {
            let (lang, hashes) = language_and_term_hashes(text, cfg);
            langs.push(lang);
            hashes
        }));
    }
    (langs, doc_freq)
}

/// The second phase's keywords and candidates of each text; the number of keywords.
#[inline(never)]
fn bench_candidates(
    texts: &[String],
    langs: &[Option<String>],
    index: &DocFreqIndex,
    k: usize,
    rounds: usize,
) -> usize {
    let mut n = 0;
    for _ in 0..rounds {
        for (text, lang) in texts.iter().zip(langs) {
            let (keywords, candidates) = candidates_of(text, lang.as_deref(), index, k, n_candidates(k));
            std::hint::black_box(candidates);
            n += keywords.len();
        }
    }
    n
}

/// `keywords_of` each text; the number of keywords.
#[inline(never)]
fn bench_keywords(texts: &[String], langs: &[Option<String>], index: &DocFreqIndex, k: usize, rounds: usize) -> usize {
    let mut n = 0;
    for _ in 0..rounds {
        for (text, lang) in texts.iter().zip(langs) {
            n += keywords_of(text, lang.as_deref(), index, k).len();
        }
    }
    n
}

/// CPU seconds (user and system, this process) that `work` took, on Linux.
fn cpu(work: impl FnOnce()) -> f64 {
    let start = cpu_seconds();
    work();
    (cpu_seconds() - start).max(0.01)
}

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (in parentheses): utime and stime are the 12th and
    // 13th, in clock ticks of 1/100 s.
    let Some(close) = stat.rfind(')') else { return 0.0 };
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
