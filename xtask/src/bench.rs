//! `cargo xtask bench`: throughput of the release `pith` on a `gen-corpus` corpus (issue 7).
//!
//! For each thread count it runs `pith run` four times on the same cache directory: cold
//! (empty cache), warm (the same input again: every stage hits), touched (1% of the
//! corpus's documents changed in one place, as when 1% of the files change) and scattered
//! (another 1% spread through one file, so that every shard of that file misses). It reports wall time, MB/s, MB/s per
//! core, the per-stage CPU seconds and cache counts of `summary.json`, peak RSS, the cache's
//! size on disk and the speedup between thread counts, as `report.json` and `report.md`.
//! `--ablate` adds cold runs without parts of the work (the cache, TF-IDF keywords, both),
//! which say what each part costs a cold run.
//! `--compare datatrove` instead times datatrove's closest pipeline against pith on a slice
//! of the corpus (see [`datatrove`]).

mod corpus;
mod datatrove;
mod measure;
mod report;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use corpus::{Corpus, Format, Size};
use measure::Cost;

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Corpus size, in uncompressed JSONL bytes (KB, MB, GB: powers of 1000; KiB, MiB, GiB: of 1024).
    #[arg(long, default_value = "200MB", value_parser = corpus::parse_size)]
    size: Size,
    /// Thread counts to measure, comma-separated; speedups are relative to the first.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Corpus format.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    format: Format,
    /// gen-corpus seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where corpora, runs and reports go [default: target/bench in the workspace].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Run each cold/warm/touched/scattered sequence this many times and keep each run's fastest.
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// Instead of the runs above, time another tool's closest pipeline against pith on a
    /// slice of the corpus (writes compare.json and compare.md).
    #[arg(long, value_enum, value_name = "TOOL")]
    compare: Option<Compare>,
    /// Size of the slice for --compare (the corpus's first documents).
    #[arg(long, default_value = "5MB", value_parser = corpus::parse_size)]
    compare_size: Size,
    /// Measure this pith binary instead of building target/release/pith.
    #[arg(long, value_name = "FILE")]
    pith: Option<PathBuf>,
    /// Also run cold without the cache (`--no-cache`), without TF-IDF keywords
    /// (`[features] keywords = 0`) and without both: what each part costs a cold run.
    #[arg(long)]
    ablate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Compare {
    /// huggingface/datatrove (from PyPI, in a venv under the bench directory).
    Datatrove,
}

/// Share of the corpus's documents changed for each touched run.
const TOUCH_SHARE: f64 = 0.01;

/// The runs of a sequence, in order: `touched` changes 1% of the documents in one place
/// (the first documents of the first file), `scattered` another 1% spread through the
/// second file.
const SCENARIOS: [&str; 4] = ["cold", "warm", "touched", "scattered"];

/// `--ablate`'s cold runs: the scenario's name, whether it runs without the cache, and
/// whether without keywords.
const ABLATIONS: [(&str, bool, bool); 3] =
    [("cold, no cache", true, false), ("cold, no keywords", false, true), ("cold, no cache or keywords", true, true)];

/// The stage settings of a run without keywords (the defaults but for that).
const NO_KEYWORDS: &str = "[features]\nkeywords = 0\n";

pub(crate) fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let bench_dir = match &args.out {
        Some(dir) => std::path::absolute(dir)?,
        None => crate::target_dir().join("bench"),
    };
    std::fs::create_dir_all(&bench_dir).with_context(|| format!("creating {}", bench_dir.display()))?;
    let built = match &args.pith {
        Some(path) => std::path::absolute(path)?,
        None => build_pith(&["--release"], "release")?,
    };
    // Others may rebuild target/release/pith while the bench runs; every run must use the
    // same binary.
    let pith = bench_dir.join("pith-under-test");
    std::fs::copy(&built, &pith).with_context(|| format!("copying {} to {}", built.display(), pith.display()))?;
    // The work tree the binary was built from (it may change while the bench runs).
    let git = git_state();
    if args.compare == Some(Compare::Datatrove) {
        return datatrove::run(&bench_dir, &pith, git, &args.compare_size, args.seed);
    }
    let report = bench(&bench_dir, &pith, git, args)?;
    let markdown = report::markdown(&report);
    std::fs::write(bench_dir.join("report.json"), format!("{report:#}\n")).context("writing report.json")?;
    std::fs::write(bench_dir.join("report.md"), &markdown).context("writing report.md")?;
    println!("{markdown}");
    eprintln!("bench: wrote {} and report.md", bench_dir.join("report.json").display());
    Ok(())
}

/// Builds `pith` with cargo (`extra` are cargo's profile arguments) and returns its path.
fn build_pith(extra: &[&str], profile_dir: &str) -> anyhow::Result<PathBuf> {
    let shown = format!("cargo build {} -p pith", extra.join(" "));
    eprintln!("==> {shown}");
    let status = crate::cargo().arg("build").args(extra).args(["-p", "pith"]).status().context("starting cargo")?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(crate::target_dir().join(profile_dir).join("pith"))
}

/// Generates the corpus, runs every sequence and returns the report.
fn bench(bench_dir: &Path, pith: &Path, git: serde_json::Value, args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    anyhow::ensure!(!args.threads.is_empty() && !args.threads.contains(&0), "--threads needs counts of 1 or more");
    anyhow::ensure!(args.repeat > 0, "--repeat must be 1 or more");
    let corpus = corpus::ensure(bench_dir, &args.size, args.seed, args.format)?;
    let mut runs = Vec::new();
    let mut touched = None;
    for &threads in &args.threads {
        runs.extend(fastest_of(args.repeat, &format!("{threads} thread(s), sequence"), || {
            let (sequence, touches) = sequence(bench_dir, pith, &corpus, threads)?;
            touched = Some(touches);
            Ok(sequence)
        })?);
        if args.ablate {
            runs.extend(fastest_of(args.repeat, &format!("{threads} thread(s), ablations"), || {
                ablations(bench_dir, pith, &corpus, threads)
            })?);
        }
    }
    let touched = touched.expect("at least one sequence ran");
    Ok(report::build(report::Inputs {
        command: command_line(),
        git,
        pith,
        corpus: &corpus,
        touched: &touched,
        touch_share: TOUCH_SHARE,
        repeat: args.repeat,
        runs: &runs,
    }))
}

/// Each of the runs `runs` makes, the fastest of `repeat` times (`what` names them in
/// the progress lines).
fn fastest_of(repeat: u32, what: &str, mut runs: impl FnMut() -> anyhow::Result<Vec<Run>>) -> anyhow::Result<Vec<Run>> {
    let mut best: Vec<Option<Run>> = Vec::new();
    for i in 0..repeat {
        eprintln!("bench: {what} {} of {repeat}", i + 1);
        let made = runs()?;
        best.resize(made.len(), None);
        for (slot, run) in best.iter_mut().zip(made) {
            if slot.as_ref().is_none_or(|b| run.cost.wall_seconds < b.cost.wall_seconds) {
                *slot = Some(run);
            }
        }
    }
    Ok(best.into_iter().flatten().collect())
}

/// One measured `pith run`.
#[derive(Debug, Clone)]
struct Run {
    threads: usize,
    scenario: &'static str,
    cost: Cost,
    summary: serde_json::Value,
    cache_bytes: u64,
    /// `du -sb` of each stage's directory in the cache, by directory name (`strip-v3`).
    cache_by_stage: Vec<(String, u64)>,
}

/// Cold, warm and touched runs on a fresh cache directory.
fn sequence(
    bench_dir: &Path,
    pith: &Path,
    corpus: &Corpus,
    threads: usize,
) -> anyhow::Result<(Vec<Run>, Vec<corpus::Touched>)> {
    let run_dir = bench_dir.join("runs").join(format!("t{threads}"));
    corpus::remove_dir(&run_dir)?;
    let (input, cache) = (run_dir.join("input"), run_dir.join("cache"));
    corpus::link_input(corpus, &input)?;
    let mut res = Vec::new();
    let mut touched = Vec::new();
    for scenario in SCENARIOS {
        let layout = match scenario {
            "touched" => Some((0, corpus::Layout::Together)),
            "scattered" => Some((1, corpus::Layout::Spread)),
            _ => None,
        };
        if let Some((file, layout)) = layout {
            touched.push(corpus::touch(corpus, &input, &run_dir, TOUCH_SHARE, file, layout)?);
        }
        let out = run_dir.join(format!("out-{scenario}"));
        let (cost, summary) = run_pith(pith, &input, &out, Some(&cache), None, threads, &run_dir.join(scenario))?;
        let cache_bytes = measure::disk_usage(&cache)?;
        let cache_by_stage = stage_usage(&cache)?;
        eprintln!(
            "bench: {threads} thread(s) {scenario}: {:.2} s, load {:?}, other cores {:?}",
            cost.wall_seconds, cost.load_before, cost.other_cores
        );
        // Only the summary is kept: the documents of every run would fill the disk.
        corpus::remove_dir(&out)?;
        res.push(Run { threads, scenario, cost, summary, cache_bytes, cache_by_stage });
    }
    Ok((res, touched))
}

/// `ABLATIONS`' cold runs, each on a fresh cache directory (or none).
fn ablations(bench_dir: &Path, pith: &Path, corpus: &Corpus, threads: usize) -> anyhow::Result<Vec<Run>> {
    let run_dir = bench_dir.join("runs").join(format!("t{threads}-ablations"));
    corpus::remove_dir(&run_dir)?;
    let input = run_dir.join("input");
    corpus::link_input(corpus, &input)?;
    let config = run_dir.join("no-keywords.toml");
    std::fs::write(&config, NO_KEYWORDS).with_context(|| format!("writing {}", config.display()))?;
    let mut res = Vec::new();
    for (i, (scenario, no_cache, no_keywords)) in ABLATIONS.into_iter().enumerate() {
        let cache = run_dir.join(format!("cache-{i}"));
        let out = run_dir.join(format!("out-{i}"));
        let (cost, summary) = run_pith(
            pith,
            &input,
            &out,
            (!no_cache).then_some(cache.as_path()),
            no_keywords.then_some(config.as_path()),
            threads,
            &run_dir.join(format!("ablation-{i}")),
        )?;
        let (cache_bytes, cache_by_stage) = match no_cache {
            true => (0, Vec::new()),
            false => (measure::disk_usage(&cache)?, stage_usage(&cache)?),
        };
        eprintln!("bench: {threads} thread(s) {scenario}: {:.2} s", cost.wall_seconds);
        corpus::remove_dir(&out)?;
        corpus::remove_dir(&cache)?;
        res.push(Run { threads, scenario, cost, summary, cache_bytes, cache_by_stage });
    }
    Ok(res)
}

/// The size of each subdirectory of the cache (one per stage and version), sorted by name.
fn stage_usage(cache: &Path) -> anyhow::Result<Vec<(String, u64)>> {
    let mut res = Vec::new();
    for entry in std::fs::read_dir(cache).with_context(|| format!("reading {}", cache.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            res.push((name, measure::disk_usage(&path)?));
        }
    }
    res.sort();
    Ok(res)
}

/// `pith run input -o out` with the cache (or `--no-cache`) and the stage settings of
/// `config` (or the defaults), measured; returns its cost and `summary.json`. `log` names
/// the log file (with `.log`) and GNU time's report (`.time`).
fn run_pith(
    pith: &Path,
    input: &Path,
    out: &Path,
    cache: Option<&Path>,
    config: Option<&Path>,
    threads: usize,
    log: &Path,
) -> anyhow::Result<(Cost, serde_json::Value)> {
    corpus::remove_dir(out)?;
    let mut args = vec!["run".to_owned(), input.display().to_string(), "-o".to_owned(), out.display().to_string()];
    match cache {
        Some(dir) => args.extend(["--cache-dir".to_owned(), dir.display().to_string()]),
        None => args.push("--no-cache".to_owned()),
    }
    if let Some(config) = config {
        args.extend(["--config".to_owned(), config.display().to_string()]);
    }
    args.extend(["--threads".to_owned(), threads.to_string(), "--no-progress".to_owned(), "-q".to_owned()]);
    let cost = measure::run(pith, &args, &log.with_extension("log"))?;
    let path = out.join("summary.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let summary = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok((cost, summary))
}

/// How xtask was called, for the report.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo xtask {}", args.join(" "))
}

/// The current UTC time as ISO 8601, from `date` (xtask has no time crate).
fn now() -> Option<String> {
    let out = std::process::Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The workspace's commit and whether the work tree differs from it.
fn git_state() -> serde_json::Value {
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").args(args).current_dir(crate::workspace_root()).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]);
    // Changed and untracked files (outside target/), which the measured binary may include.
    let changed: Option<Vec<String>> =
        git(&["status", "--porcelain"]).map(|s| s.lines().map(|l| l.trim().to_owned()).collect());
    let dirty = changed.as_ref().map(|c| !c.is_empty());
    serde_json::json!({"commit": commit, "dirty": dirty, "changed": changed})
}

/// The SHA-256 of a file, from `sha256sum`, to tell which binary a report measured.
fn sha256(path: &Path) -> Option<String> {
    let out = std::process::Command::new("sha256sum").arg(path).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success().then(|| text.split_whitespace().next().unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct BenchCli {
        #[command(flatten)]
        args: BenchArgs,
    }

    /// The whole pipeline on a tiny corpus with the debug `pith`: it runs, and the report
    /// has the keys `docs/bench.md` and readers rely on.
    #[test]
    fn bench_runs_on_a_tiny_corpus() {
        let dir = crate::target_dir().join("tmp").join(format!("xtask-bench-test-{}", std::process::id()));
        corpus::remove_dir(&dir).unwrap();
        let pith = build_pith(&[], "debug").unwrap();
        let cli = BenchCli::try_parse_from([
            "bench",
            "--size=200KB",
            "--threads=1",
            "--ablate",
            "--out",
            dir.to_str().unwrap(),
        ])
        .unwrap();
        let report = bench(&dir, &pith, git_state(), &cli.args).unwrap();

        for key in ["date", "command", "git", "host", "pith", "corpus", "touches", "runs", "speedup", "targets"] {
            assert!(report.get(key).is_some(), "no `{key}` in {report:#}");
        }
        let corpus = &report["corpus"];
        let bytes = corpus["bytes"].as_u64().unwrap();
        assert!((100_000..400_000).contains(&bytes), "{corpus}");
        let runs = report["runs"].as_array().unwrap();
        let scenarios: Vec<&str> = runs.iter().map(|r| r["scenario"].as_str().unwrap()).collect();
        let ablations = ABLATIONS.map(|(scenario, _, _)| scenario);
        assert_eq!(scenarios, [&SCENARIOS[..], &ablations[..]].concat());
        for run in runs {
            for key in ["wall_seconds", "mb_per_s", "mb_per_s_per_core", "peak_rss_bytes", "cache_bytes", "stages"] {
                assert!(run.get(key).is_some(), "no `{key}` in {run:#}");
            }
            assert_eq!(run["documents_in"], corpus["docs"], "{run:#}");
            assert!(run["stages"]["parse"]["seconds"].is_number(), "{run:#}");
        }
        // The warm run hits everywhere; the touched runs miss some shards.
        assert_eq!(runs[1]["stages"]["parse"]["cache_misses"], 0, "{:#}", runs[1]);
        for run in &runs[2..SCENARIOS.len()] {
            assert!(run["stages"]["parse"]["cache_misses"].as_u64().unwrap() > 0, "{run:#}");
            assert!(run["keywords"]["certified"].is_u64(), "{run:#}");
        }
        // The touched shard's other documents keep their features.
        assert!(runs[2]["features_reused"].as_u64().unwrap() > 0, "{:#}", runs[2]);
        // The ablations: each against the cold run; the ones without the cache keep none,
        // the one without keywords keeps no keywords entry.
        let ablated = &runs[SCENARIOS.len()..];
        assert!(ablated.iter().all(|run| run["vs_cold"].as_f64().is_some_and(|v| v > 0.0)), "{ablated:#?}");
        assert_eq!((ablated[0]["cache_bytes"].as_u64(), ablated[2]["cache_bytes"].as_u64()), (Some(0), Some(0)));
        let stages = ablated[1]["cache_by_stage"].as_object().unwrap();
        assert!(stages.keys().any(|name| name.starts_with("features_json")), "{stages:#?}");
        assert!(!stages.keys().any(|name| name.starts_with("keywords")), "{stages:#?}");
        let touches = report["touches"].as_array().unwrap();
        assert_eq!(touches.len(), 2, "{touches:#?}");
        assert!(touches.iter().all(|t| t["docs_changed"] == 1), "{touches:#?}");
        let markdown = report::markdown(&report);
        assert!(markdown.contains("| 1 | cold |") && markdown.contains("Reuse in the `touched` run"), "{markdown}");
        assert!(markdown.contains("What the cold run's parts cost, 1 thread(s): without the cache "), "{markdown}");
        let targets = report["targets"].as_array().unwrap();
        let parse_strip = targets.iter().find(|t| t["what"].as_str().unwrap().starts_with("cold parse + strip"));
        let value = parse_strip.map(|t| t["value"].as_f64().unwrap());
        assert!(value.is_some_and(|v| v.is_finite() && v > 0.0), "{targets:#?}");

        // A second bench reuses the cached corpus.
        let again = corpus::ensure(&dir, &cli.args.size, 0, Format::Jsonl).unwrap();
        assert_eq!(Some(again.docs), corpus["docs"].as_u64());
        corpus::remove_dir(&dir).unwrap();
    }
}
