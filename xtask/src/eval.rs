//! `cargo xtask eval`: cleaning quality of `pith run` against the corpus-dev ground truth.
//!
//! For each dataset (a subdirectory holding `*.truth.txt`), it runs the release `pith` on the
//! dataset's inputs, turns `documents.jsonl` and `dropped.jsonl` into one `<id>.txt` per input
//! under `<out>/<dataset>/pred/`, which is what `score.py` reads, and scores them with
//! [`crate::score`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::Args;

use crate::score::{self, DocScore, Summary};

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The ground-truth corpus [default: ../shared/corpus-dev, from the workspace root].
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// Only this dataset (a subdirectory of the corpus); repeatable [default: all].
    #[arg(long = "dataset", value_name = "NAME")]
    datasets: Vec<String>,
    /// Also score two stable halves of each dataset, A and B (FNV-1a of the id, even or odd).
    #[arg(long)]
    split: bool,
    /// Write per-document scores as TSV, worst F1 first.
    #[arg(long, value_name = "FILE")]
    per_doc: Option<PathBuf>,
    /// Where the runs and predictions go [default: target/eval in the workspace].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Go on with the other datasets after one fails (the exit code is still non-zero).
    #[arg(long)]
    keep_going: bool,
    /// Evaluate this pith binary instead of building target/release/pith (to compare versions).
    #[arg(long, value_name = "FILE")]
    pith: Option<PathBuf>,
}

/// One scored dataset.
struct Scored {
    name: String,
    rows: Vec<DocScore>,
    summary: Summary,
}

pub(crate) fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let root = crate::workspace_root();
    let corpus = match &args.corpus {
        Some(dir) => std::path::absolute(dir)?,
        None => {
            let dir = root.join("../shared/corpus-dev");
            dir.canonicalize().unwrap_or(dir)
        }
    };
    let out = match &args.out {
        Some(dir) => std::path::absolute(dir)?,
        None => crate::target_dir().join("eval"),
    };
    let datasets = find_datasets(&corpus, &args.datasets)?;

    let pith = match &args.pith {
        Some(path) => std::path::absolute(path)?,
        None => {
            eprintln!("==> cargo build --release -p pith");
            let status =
                crate::cargo().args(["build", "--release", "-p", "pith"]).status().context("starting cargo build")?;
            if !status.success() {
                bail!("cargo build --release -p pith failed ({status})");
            }
            crate::target_dir().join("release").join("pith")
        }
    };

    let mut scored = Vec::new();
    let mut failed = Vec::new();
    for name in &datasets {
        match eval_dataset(&pith, &corpus.join(name), &out.join(name)) {
            Ok(rows) => {
                let summary = score::summarize(&rows);
                scored.push(Scored { name: name.clone(), rows, summary });
            }
            Err(err) if args.keep_going => {
                eprintln!("error: {name}: {err:#}");
                failed.push(name.clone());
            }
            Err(err) => return Err(err.context(format!("dataset {name}"))),
        }
    }

    print!("{}", table(&scored, args.split));
    if let Some(path) = &args.per_doc {
        std::fs::write(path, per_doc_tsv(&scored)).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("per-document scores: {}", path.display());
    }
    if !failed.is_empty() {
        bail!("{} of {} datasets failed: {}", failed.len(), datasets.len(), failed.join(", "));
    }
    Ok(())
}

/// The subdirectories of `corpus` that hold `*.truth.txt`, sorted, or the requested ones.
fn find_datasets(corpus: &Path, wanted: &[String]) -> anyhow::Result<Vec<String>> {
    let mut res = Vec::new();
    for entry in std::fs::read_dir(corpus).with_context(|| format!("reading corpus {}", corpus.display()))? {
        let entry = entry.with_context(|| format!("reading {}", corpus.display()))?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let has_truth = std::fs::read_dir(entry.path())?
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".truth.txt"));
        if has_truth && let Some(name) = entry.file_name().to_str() {
            res.push(name.to_owned());
        }
    }
    res.sort();
    if !wanted.is_empty() {
        for name in wanted {
            if !res.contains(name) {
                bail!("no dataset {name} in {} (found: {})", corpus.display(), res.join(", "));
            }
        }
        res.retain(|name| wanted.contains(name));
    }
    if res.is_empty() {
        bail!("no dataset (a subdirectory with *.truth.txt) in {}", corpus.display());
    }
    Ok(res)
}

/// Runs pith on one dataset, writes `<out>/pred/<id>.txt` for every input and scores them.
fn eval_dataset(pith: &Path, dataset: &Path, out: &Path) -> anyhow::Result<Vec<DocScore>> {
    // Inputs are named explicitly: given the directory, pith would also read the *.truth.txt files.
    let mut inputs: Vec<String> = std::fs::read_dir(dataset)
        .with_context(|| format!("reading {}", dataset.display()))?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|name| name.ends_with(".txt") && !name.ends_with(".truth.txt"))
        .collect();
    inputs.sort();
    anyhow::ensure!(!inputs.is_empty(), "no input .txt files in {}", dataset.display());

    let run_dir = out.join("run");
    let pred_dir = out.join("pred");
    for dir in [&run_dir, &pred_dir] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
        }
    }
    std::fs::create_dir_all(&pred_dir).with_context(|| format!("creating {}", pred_dir.display()))?;

    // All files go in one command (dedup is corpus-wide, so batches would change the result);
    // file names relative to the dataset keep the command line short and are the ids pith uses.
    eprintln!("==> pith run <{} files of {}> -o {}", inputs.len(), dataset.display(), run_dir.display());
    let status = Command::new(pith)
        .current_dir(dataset)
        .arg("run")
        .args(&inputs)
        .arg("-o")
        .arg(&run_dir)
        .args(["--no-cache", "--no-progress", "-q"])
        .status()
        .with_context(|| format!("starting {}", pith.display()))?;
    if !status.success() {
        bail!("pith run failed ({status})");
    }

    let mut texts: HashMap<String, String> = HashMap::new();
    for file in ["documents.jsonl", "dropped.jsonl"] {
        read_texts(&run_dir.join(file), &mut texts)?;
    }
    for input in &inputs {
        let stem = input.strip_suffix(".txt").expect("inputs end with .txt");
        let text = texts.get(input.as_str()).map(String::as_str).unwrap_or_default();
        let path = pred_dir.join(format!("{stem}.txt"));
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    score::score_dir(&pred_dir, dataset)
}

/// Adds `id → text` for each record of a pith JSONL output file.
fn read_texts(path: &Path, texts: &mut HashMap<String, String>) -> anyhow::Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("{}:{}: malformed JSON", path.display(), n + 1))?;
        let (Some(id), Some(text)) = (record["id"].as_str(), record["text"].as_str()) else {
            bail!("{}:{}: a record without a string id and text", path.display(), n + 1);
        };
        texts.insert(id.to_owned(), text.to_owned());
    }
    Ok(())
}

/// FNV-1a, 64 bits: a stable hash for the A/B split that needs no dependency.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The half a document belongs to: "A" when the FNV-1a hash of its id is even, else "B".
fn half(id: &str) -> &'static str {
    if fnv1a64(id.as_bytes()).is_multiple_of(2) { "A" } else { "B" }
}

fn table(scored: &[Scored], split: bool) -> String {
    let mut res = String::new();
    let _ = writeln!(
        res,
        "{:<16} {:>5} {:>7} {:>7} {:>7} {:>7} {:>6} {:>8} {:>7}",
        "dataset", "docs", "macroP", "macroR", "macroF1", "shF1", "with%", "without%", "microF1"
    );
    let mut row = |label: &str, s: &Summary| {
        let pct = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
        let _ = writeln!(
            res,
            "{:<16} {:>5} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>6} {:>8} {:>7.3}{}",
            label,
            s.docs,
            s.macro_p,
            s.macro_r,
            s.macro_f1,
            s.sh_f1,
            pct(s.with_pct),
            pct(s.without_pct),
            s.micro_f1,
            if s.missing > 0 { format!("  ({} missing)", s.missing) } else { String::new() },
        );
    };
    for d in scored {
        row(&d.name, &d.summary);
        if split {
            for h in ["A", "B"] {
                row(&format!("{}/{h}", d.name), &score::summarize(d.rows.iter().filter(|r| half(&r.id) == h)));
            }
        }
    }
    res
}

fn per_doc_tsv(scored: &[Scored]) -> String {
    let mut rows: Vec<(&str, &DocScore)> =
        scored.iter().flat_map(|d| d.rows.iter().map(move |r| (d.name.as_str(), r))).collect();
    rows.sort_by(|a, b| a.1.f1.total_cmp(&b.1.f1).then_with(|| (a.0, &a.1.id).cmp(&(b.0, &b.1.id))));
    let mut res = String::from("dataset\tid\tP\tR\tF1\tpred_words\ttruth_words\n");
    for (dataset, r) in rows {
        let _ = writeln!(
            res,
            "{dataset}\t{}\t{:.4}\t{:.4}\t{:.4}\t{}\t{}",
            r.id,
            r.p,
            r.r,
            r.f1,
            r.tp + r.fp,
            r.tp + r.fn_
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_known_values() {
        // The reference vectors of the FNV specification.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
