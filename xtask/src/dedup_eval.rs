//! `cargo xtask dedup-eval`: near-duplicate detection measured against a generated corpus
//! whose duplicates are known.
//!
//! The corpus comes from `gen-corpus` (exact copies, near copies with a few words changed or
//! a paragraph added or removed, and hard negatives that share about half their paragraphs
//! with another document). pith runs on it; then, on the text dedup compares (strip's
//! output, from `pith strip`), this task computes the true Jaccard similarity of 5-word
//! shingles (lower-cased alphanumeric words) for every generated pair:
//! - a *positive* is a (copy, original) pair with true similarity ≥ the threshold; recall is
//!   the share of positives that pith put in one cluster;
//! - every document pith dropped as a duplicate is a *predicted* pair with the document it
//!   names; precision is the share of those whose true similarity ≥ the threshold;
//! - hard negatives dropped are reported separately (they must be kept).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;

#[derive(Debug, Args)]
pub(crate) struct DedupEvalArgs {
    /// Documents to generate.
    #[arg(long, default_value_t = 20_000)]
    docs: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Similarity at and above which two documents are duplicates.
    #[arg(long, default_value_t = 0.8)]
    threshold: f64,
    /// Use this pith binary instead of building one.
    #[arg(long, value_name = "FILE")]
    pith: Option<PathBuf>,
}

const SHINGLE: usize = 5;

pub(crate) fn run(args: &DedupEvalArgs) -> anyhow::Result<()> {
    let dir = crate::target_dir().join("dedup-eval");
    let corpus = dir.join(format!("corpus-{}-{}", args.docs, args.seed));
    if !corpus.join("truth.jsonl").exists() {
        let _ = fs::remove_dir_all(&corpus);
        let status = Command::new(std::env::current_exe()?)
            .args(["gen-corpus", "--docs", &args.docs.to_string(), "--seed", &args.seed.to_string(), "--out"])
            .arg(&corpus)
            .status()
            .context("running gen-corpus")?;
        if !status.success() {
            bail!("gen-corpus failed");
        }
    }
    let pith = match &args.pith {
        Some(path) => path.clone(),
        None => {
            let status = crate::cargo().args(["build", "--release", "-p", "pith"]).status()?;
            if !status.success() {
                bail!("building pith failed");
            }
            crate::target_dir().join("release/pith")
        }
    };
    let out = dir.join("run");
    let _ = fs::remove_dir_all(&out);
    let mut parts: Vec<PathBuf> = fs::read_dir(&corpus)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("part-")))
        .collect();
    parts.sort();
    run_pith(&pith, "run", &parts, &out)?;

    // The text dedup compares is strip's output (dedup's own block removals come after).
    let stripped = dir.join("strip.jsonl");
    run_pith(&pith, "strip", &parts, &stripped)?;
    let mut text: HashMap<String, String> = HashMap::new();
    for record in read_jsonl(&stripped)? {
        let blocks = record["blocks"].as_array().cloned().unwrap_or_default();
        let joined: Vec<&str> = blocks.iter().filter_map(|b| b["text"].as_str()).collect();
        text.insert(record["id"].as_str().unwrap_or_default().to_owned(), joined.join("\n\n"));
    }

    // Cluster representative of every document.
    let mut rep: HashMap<String, String> = HashMap::new();
    let mut predicted: Vec<(String, String, String)> = Vec::new();
    for (file, dropped) in [("documents.jsonl", false), ("dropped.jsonl", true)] {
        for record in read_jsonl(&out.join(file))? {
            let id = record["id"].as_str().unwrap_or_default().to_owned();
            let of = record["duplicate_of"].as_str().filter(|_| dropped).map(str::to_owned);
            if let Some(of) = &of {
                predicted.push((id.clone(), of.clone(), record["reason"].as_str().unwrap_or_default().to_owned()));
            }
            rep.insert(id.clone(), of.unwrap_or(id));
        }
    }
    let shingles: HashMap<&str, HashSet<u64>> = text.iter().map(|(id, t)| (id.as_str(), shingle_set(t))).collect();
    let similarity = |a: &str, b: &str| match (shingles.get(a), shingles.get(b)) {
        (Some(x), Some(y)) => jaccard(x, y),
        _ => 0.0,
    };

    let mut positives = 0usize;
    let mut found = 0usize;
    let mut missed_examples = Vec::new();
    let mut hard_negatives = 0usize;
    let mut hard_negatives_dropped = 0usize;
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for record in read_jsonl(&corpus.join("truth.jsonl"))? {
        let id = record["id"].as_str().unwrap_or_default();
        let kind = record["kind"].as_str().unwrap_or_default();
        *kinds.entry(kind.to_owned()).or_default() += 1;
        let Some(of) = record["of"].as_str() else { continue };
        let same_cluster = rep.get(id).is_some_and(|r| Some(r) == rep.get(of));
        match kind {
            "hard_negative" => {
                hard_negatives += 1;
                if same_cluster {
                    hard_negatives_dropped += 1;
                }
            }
            _ => {
                let sim = similarity(id, of);
                if sim >= args.threshold {
                    positives += 1;
                    if same_cluster {
                        found += 1;
                    } else if missed_examples.len() < 5 {
                        missed_examples.push(format!("{id} ~ {of} (J = {sim:.3})"));
                    }
                }
            }
        }
    }
    let correct = predicted.iter().filter(|(a, b, _)| similarity(a, b) >= args.threshold).count();
    let wrong: Vec<String> = predicted
        .iter()
        .filter(|(a, b, _)| similarity(a, b) < args.threshold)
        .take(5)
        .map(|(a, b, reason)| format!("{a} -> {b} ({reason}, J = {:.3})", similarity(a, b)))
        .collect();
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    println!("documents: {} ({:?})", text.len(), sorted(kinds));
    println!("threshold: Jaccard of {SHINGLE}-word shingles >= {}", args.threshold);
    println!("| metric | value |\n|---|---|");
    println!("| predicted duplicate pairs | {} |", predicted.len());
    println!("| precision | {:.4} ({correct}/{}) |", ratio(correct, predicted.len()), predicted.len());
    println!("| recall | {:.4} ({found}/{positives}) |", ratio(found, positives));
    println!(
        "| hard negatives dropped | {:.4} ({hard_negatives_dropped}/{hard_negatives}) |",
        ratio(hard_negatives_dropped, hard_negatives)
    );
    for line in &wrong {
        println!("false positive: {line}");
    }
    for line in &missed_examples {
        println!("missed: {line}");
    }
    Ok(())
}

/// `pith COMMAND INPUTS... -o OUT`, quietly and without a cache.
fn run_pith(pith: &Path, command: &str, inputs: &[PathBuf], out: &Path) -> anyhow::Result<()> {
    let status = Command::new(pith)
        .arg(command)
        .args(inputs)
        .arg("-o")
        .arg(out)
        .args(["--no-cache", "--no-progress", "-q"])
        .status()
        .with_context(|| format!("running {}", pith.display()))?;
    if !status.success() {
        bail!("pith {command} failed ({status})");
    }
    Ok(())
}

fn sorted(map: HashMap<String, usize>) -> Vec<(String, usize)> {
    let mut v: Vec<_> = map.into_iter().collect();
    v.sort();
    v
}

fn read_jsonl(path: &Path) -> anyhow::Result<Vec<Value>> {
    let file = fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut res = Vec::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        res.push(serde_json::from_str(&line).with_context(|| format!("{} line {}", path.display(), n + 1))?);
    }
    Ok(res)
}

/// Hashes of the lower-cased word 5-grams (all words if fewer).
fn shingle_set(text: &str) -> HashSet<u64> {
    use std::hash::{Hash, Hasher};
    let words: Vec<String> =
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    let size = SHINGLE.min(words.len()).max(1);
    words
        .windows(size)
        .map(|w| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            w.hash(&mut h);
            h.finish()
        })
        .collect()
}

fn jaccard(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let inter = a.intersection(b).count();
    inter as f64 / (a.len() + b.len() - inter) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_of_shingles() {
        let a = shingle_set("one two three four five six");
        let b = shingle_set("One two three four five seven");
        // 2 shingles each, 1 shared: 1 / 3.
        assert!((jaccard(&a, &b) - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(jaccard(&a, &a), 1.0);
    }
}
