//! Throughput of `features` on text files: `cargo run --release -p pith-features --example
//! features_bench -- [--json] [--no-language] [--rounds=N] FILE...`. Each file is one document whose
//! blocks are its blank-line separated paragraphs.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use pith_features::{FeaturesConfig, features};
use pith_types::{Block, BlockKind, DedupedDoc, Span};

fn main() {
    let mut json = false;
    let mut rounds = None;
    let mut cfg = FeaturesConfig::default();
    let mut docs = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--json" => json = true,
            "--no-language" => cfg.language = false,
            _ if arg.starts_with("--rounds=") => rounds = arg["--rounds=".len()..].parse().ok(),
            path => {
                let Ok(text) = std::fs::read_to_string(path) else {
                    eprintln!("skipping {path}");
                    continue;
                };
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
    if json {
        for doc in &docs {
            println!("{}", serde_json::to_string(&features(doc, &cfg)).expect("serialises"));
        }
        return;
    }
    let bytes: usize = docs.iter().map(|d| d.blocks.iter().map(|b| b.text.len() + 2).sum::<usize>()).sum();
    let rounds = rounds.unwrap_or((200_000_000 / bytes.max(1)).clamp(1, 50));
    let start = Instant::now();
    let mut n_words = 0;
    for _ in 0..rounds {
        for doc in &docs {
            n_words += features(doc, &cfg).words;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} docs, {:.1} MB x {rounds}: {:.1} MB/s ({n_words} words)",
        docs.len(),
        bytes as f64 / 1e6,
        (bytes * rounds) as f64 / 1e6 / secs
    );
}
