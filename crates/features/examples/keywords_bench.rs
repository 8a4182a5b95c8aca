//! Throughput of the TF-IDF keywords' two halves on JSONL records' `text` fields:
//! `cargo run --release -p pith-features --example keywords_bench -- [--rounds=N] FILE.jsonl...`.
//!
//! The map step is what the driver's corpus pass runs per document (language, then the
//! distinct term hashes, counted into `DocFreq`); the apply step is `keywords_of` against
//! the corpus's frequencies. Each document is the record's text as it is (no parse, strip
//! or dedup), which is all keywords read. Prints MB/s per CPU second of each step.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use pith_features::FeaturesConfig;
use pith_features::keywords::{DocFreq, DocFreqIndex, keywords_of, language_and_term_hashes};

fn main() {
    let mut rounds = 2;
    let mut texts = Vec::new();
    for arg in std::env::args().skip(1) {
        if let Some(n) = arg.strip_prefix("--rounds=") {
            rounds = n.parse().expect("--rounds=N");
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
    let mut langs = Vec::new();
    let mut doc_freq = DocFreq::default();
    let map = cpu(|| {
        for _ in 0..rounds {
            langs.clear();
            doc_freq = DocFreq::of_term_hashes(texts.iter().map(|text| {
                let (lang, hashes) = language_and_term_hashes(text, &cfg);
                langs.push(lang);
                hashes
            }));
        }
    });
    let index = DocFreqIndex::new(&doc_freq);
    let mut n_keywords = 0;
    let apply = cpu(|| {
        for _ in 0..rounds {
            for (text, lang) in texts.iter().zip(&langs) {
                n_keywords += keywords_of(text, lang.as_deref(), &index, cfg.keywords).len();
            }
        }
    });
    let rate = |secs: f64| bytes as f64 / 1e6 / secs;
    println!(
        "{} docs, {:.1} MB x {rounds}: map {:.1} MB/s, apply {:.1} MB/s per CPU second ({} terms, {n_keywords} keywords)",
        texts.len(),
        bytes as f64 / 1e6 / rounds as f64,
        rate(map),
        rate(apply),
        doc_freq.doc_counts.len(),
    );
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
