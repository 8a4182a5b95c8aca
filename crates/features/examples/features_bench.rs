//! Throughput of `features` on text files: `cargo run --release -p pith-features --example
//! features_bench -- [--json] [--no-language] [--pipeline] [--rounds=N] FILE...`. Each file is
//! one document whose blocks are its blank-line separated paragraphs; with `--pipeline`, the
//! document is what parse, strip and dedup (with empty corpus statistics) make of the file,
//! as in the divan bench, and MB/s count the file's bytes.
//!
//! A `.jsonl` file (such as `cargo xtask gen-corpus`'s parts) holds one document per line,
//! `{"text": ..., "id": ...}`, always made with parse, strip and dedup as the driver does:
//! dedup's corpus statistics are those of all the JSONL records given (the corpus pass in
//! memory), and MB/s count the records' `text` bytes.
//!
//! Besides wall-clock MB/s it prints MB/s per CPU second of this process (from
//! `/proc/self/stat` on Linux), which a machine busy with other work disturbs less.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use pith_features::{FeaturesConfig, features};
use pith_types::{Block, BlockKind, DedupedDoc, Span};

fn main() {
    let mut json = false;
    let args: Vec<String> = std::env::args().skip(1).collect();
    // JSONL records always go through the pipeline, and so then do the text files.
    let mut pipeline = args.iter().any(|arg| arg.ends_with(".jsonl"));
    let mut rounds = None;
    let mut cfg = FeaturesConfig::default();
    let mut docs = Vec::new();
    let mut raw_bytes = 0;
    let mut records = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--json" => json = true,
            "--no-language" => cfg.language = false,
            "--pipeline" => pipeline = true,
            _ if arg.starts_with("--rounds=") => rounds = arg["--rounds=".len()..].parse().ok(),
            path if path.ends_with(".jsonl") => {
                let Ok(lines) = std::fs::read_to_string(path) else {
                    eprintln!("skipping {path}");
                    continue;
                };
                for (i, line) in lines.lines().enumerate() {
                    let Ok(mut record) = serde_json::from_str::<serde_json::Value>(line) else {
                        eprintln!("{path} line {}: skipping malformed JSON", i + 1);
                        continue;
                    };
                    let Some(serde_json::Value::String(text)) = record.get_mut("text").map(serde_json::Value::take)
                    else {
                        eprintln!("{path} line {}: skipping a record without text", i + 1);
                        continue;
                    };
                    let id = match record.get("id") {
                        Some(serde_json::Value::String(id)) => id.clone(),
                        _ => format!("{path}:{}", i + 1),
                    };
                    raw_bytes += text.len();
                    records.push(pith_types::RawDoc {
                        id,
                        source: pith_types::Source { path: path.to_owned(), line: Some(i as u64 + 1) },
                        text,
                        metadata_json: None,
                        diags: Vec::new(),
                    });
                }
            }
            path => {
                let Ok(text) = std::fs::read_to_string(path) else {
                    eprintln!("skipping {path}");
                    continue;
                };
                if pipeline {
                    raw_bytes += text.len();
                    let raw = pith_types::RawDoc {
                        id: path.to_owned(),
                        source: pith_types::Source { path: path.to_owned(), line: None },
                        text,
                        metadata_json: None,
                        diags: Vec::new(),
                    };
                    let stripped = pith_strip::strip(pith_parse::parse(&raw), &pith_strip::StripConfig::default());
                    let stats = pith_dedup::CorpusStats::default();
                    let index = docs.len() as u64;
                    docs.push(pith_dedup::dedup(stripped, index, &stats, &pith_dedup::DedupConfig::default()));
                    continue;
                }
                let blocks = text
                    .split("\n\n")
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .enumerate()
                    .map(|(i, p)| Block {
                        index: i as u32,
                        kind: BlockKind::Paragraph,
                        text: p.to_owned(),
                        span: Span { start: 0, end: 0 },
                    })
                    .collect();
                docs.push(DedupedDoc {
                    id: path.to_owned(),
                    title: None,
                    blocks,
                    removed: Vec::new(),
                    raw_bytes: 0,
                    drop: None,
                    cluster: None,
                });
            }
        }
    }
    if !records.is_empty() {
        let strip_cfg = pith_strip::StripConfig::default();
        let dedup_cfg = pith_dedup::DedupConfig::default();
        let stripped: Vec<_> =
            records.iter().map(|raw| pith_strip::strip(pith_parse::parse(raw), &strip_cfg)).collect();
        let stats = pith_dedup::reduce_in_memory(&stripped.iter().collect::<Vec<_>>(), &dedup_cfg);
        for (i, doc) in stripped.into_iter().enumerate() {
            docs.push(pith_dedup::dedup(doc, i as u64, &stats, &dedup_cfg));
        }
    }
    if json {
        for doc in &docs {
            println!("{}", serde_json::to_string(&features(doc, &cfg)).expect("serialises"));
        }
        return;
    }
    let bytes: usize = if pipeline {
        raw_bytes
    } else {
        docs.iter().map(|d| d.blocks.iter().map(|b| b.text.len() + 2).sum::<usize>()).sum()
    };
    let rounds = rounds.unwrap_or((200_000_000 / bytes.max(1)).clamp(1, 50));
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    let mut n_words = 0;
    for _ in 0..rounds {
        for doc in &docs {
            n_words += features(doc, &cfg).words;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = match (cpu_start, cpu_seconds()) {
        (Some(a), Some(b)) if b > a => format!(", {:.1} MB/s per CPU second", (bytes * rounds) as f64 / 1e6 / (b - a)),
        _ => String::new(),
    };
    println!(
        "{} docs, {:.1} MB x {rounds}: {:.1} MB/s{cpu} ({n_words} words)",
        docs.len(),
        bytes as f64 / 1e6,
        (bytes * rounds) as f64 / 1e6 / secs
    );
}

/// User and system CPU time of this process so far, on Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses): utime and stime are the
    // 12th and 13th, in clock ticks of 1/100 s.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
