//! `pith`: the command-line driver. The only crate that knows the CLI, the terminal, the
//! environment and exit codes; stages are called through `pipeline`.

mod config;
mod distributed;
mod explain;
mod json;
mod output;
mod pipeline;
mod progress;
mod slurm;

/// mimalloc rather than glibc's allocator: a run allocates and frees documents' blocks,
/// records and payloads by the million across threads. On the 10 GB corpus at 2 threads:
/// user time 773 -> 645 s, wall 7:09 -> 6:04, peak RSS 1.72 -> 1.64 GiB; on the 200 MB
/// bench, cold at 2 threads 6.70 -> 6.18 s, warm 0.72 -> 0.58 s (session 11).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use pith_cache::Cache;

use crate::config::{RunConfig, StagesConfig};
use crate::distributed::{Outcome, TaskStage, Work};
use crate::output::{RunOutput, StageOutput};
use crate::pipeline::{Runner, Stage};
use crate::progress::Progress;
use pith::input::{self, InputFile};

/// Clean article corpora: parse, strip boilerplate, deduplicate, extract features.
#[derive(Debug, Parser)]
#[command(name = "pith", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    #[command(flatten)]
    global: GlobalArgs,
}

#[derive(Debug, Args)]
struct GlobalArgs {
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', global = true)]
    threads: Option<usize>,
    /// Cache directory (default: $PITH_CACHE_DIR, $XDG_CACHE_HOME/pith or ~/.cache/pith).
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Neither reuse nor keep a cache (a scratch cache under $TMPDIR lives for the run).
    #[arg(long, global = true)]
    no_cache: bool,
    /// Hide the progress bars.
    #[arg(long, global = true)]
    no_progress: bool,
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Print more (cache use, skipped files).
    #[arg(long, short, global = true)]
    verbose: bool,
    /// Stage settings as TOML (see `pith print-config` for the defaults).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Documents larger than this many bytes go to failures.jsonl unprocessed.
    #[arg(long, global = true, default_value_t = 64 << 20, value_name = "BYTES")]
    max_doc_bytes: u64,
    /// Skip near-duplicate detection.
    #[arg(long, global = true)]
    no_near_dup: bool,
    /// Memory in MB for the exact check of near-duplicate candidates. Candidates that need
    /// more are checked in windows of shards, reading the cache again (slower, same output);
    /// their texts, which a re-run reads instead of their shards, are cached if they fit
    /// (held beside the sets meanwhile: up to twice this memory).
    #[arg(long, global = true, default_value_t = 128, value_name = "MB")]
    dedup_memory: u64,
    /// Jaccard similarity at or above which documents are near duplicates.
    #[arg(long, global = true, value_name = "J")]
    dedup_threshold: Option<f64>,
    /// A short block held by at least this many documents is site chrome.
    #[arg(long, global = true, value_name = "N")]
    min_line_docs: Option<u32>,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the whole pipeline and write OUT/{documents,dropped,failures}.jsonl and summary.json.
    Run {
        /// Files or directories (walked recursively, sorted); `-` for stdin.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Output directory.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Run up to parse and print its records as JSONL.
    Parse(StageArgs),
    /// Run up to strip and print its records as JSONL.
    Strip(StageArgs),
    /// Run up to dedup (corpus pass included) and print its records as JSONL.
    Dedup(StageArgs),
    /// Run the whole pipeline and print each document's record as JSONL.
    Features(StageArgs),
    /// Write OUT/plan.json: the inputs cut into plan shards, for `run-shard` tasks on a
    /// cluster (the stage settings are fixed in the plan).
    Plan {
        /// Files or directories (walked recursively, sorted).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Output directory of the planned run.
        #[arg(long, short)]
        out: PathBuf,
        /// Plan shards: tasks per stage (each holds whole files, balanced by size).
        #[arg(long, default_value_t = 1)]
        shards: usize,
    },
    /// Run one task of a plan (what a Slurm array task runs); a finished task is skipped.
    RunShard {
        /// Output directory holding plan.json.
        out: PathBuf,
        #[arg(long, value_enum)]
        stage: TaskStage,
        /// Task index (default: $SLURM_ARRAY_TASK_ID + --shard-offset, then
        /// $JOB_COMPLETION_INDEX; 0 for reduce and merge).
        #[arg(long)]
        shard_index: Option<usize>,
        /// Added to $SLURM_ARRAY_TASK_ID (arrays are limited to MaxArraySize tasks).
        #[arg(long, default_value_t = 0)]
        shard_offset: usize,
    },
    /// Run every unfinished task of a plan here, in order.
    RunPlan {
        /// Output directory holding plan.json.
        out: PathBuf,
    },
    /// Submit a plan's unfinished tasks to a cluster scheduler.
    Submit {
        #[command(subcommand)]
        cmd: SubmitCmd,
    },
    /// Per stage of a plan: tasks done, failed, started, missing.
    Status {
        /// Output directory holding plan.json.
        out: PathBuf,
    },
    /// Show, block by block, what was kept and what was removed, by which stage and why.
    Explain {
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// Inspect or empty the cache.
    Cache {
        #[command(subcommand)]
        cmd: CacheCmd,
    },
    /// Print the default stage settings as TOML (a starting point for --config).
    PrintConfig,
}

#[derive(Debug, Args)]
struct StageArgs {
    /// Files or directories; `-` for stdin.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Write the records here instead of stdout.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum SubmitCmd {
    /// As Slurm job arrays (map, reduce, apply, merge), chained with afterok.
    Slurm(SlurmArgs),
}

#[derive(Debug, Args)]
struct SlurmArgs {
    /// Output directory holding plan.json.
    out: PathBuf,
    /// Write the scripts and print the sbatch commands, submit nothing.
    #[arg(long)]
    dry_run: bool,
    /// Wait until the jobs end; fail unless the run finished.
    #[arg(long)]
    wait: bool,
    #[arg(long)]
    partition: Option<String>,
    /// At most this many tasks of a stage at once.
    #[arg(long, value_name = "K")]
    max_parallel: Option<usize>,
    /// CPUs per task (the task's worker threads).
    #[arg(long, default_value_t = 1, value_name = "T")]
    cpus_per_task: usize,
    /// Time limit per task (sbatch --time).
    #[arg(long)]
    time: Option<String>,
    /// Memory per task (sbatch --mem).
    #[arg(long)]
    mem: Option<String>,
    /// Another sbatch option for every script, e.g. `--sbatch-arg=--account=nlp`.
    #[arg(long, value_name = "OPTION")]
    sbatch_arg: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum CacheCmd {
    /// Files and bytes per stage.
    Stats,
    /// Remove every cached file.
    Clean,
}

fn main() -> ExitCode {
    // Panics inside stages are caught and reported per document; the default hook
    // would print each one as if the run had crashed.
    std::panic::set_hook(Box::new(|_| {}));
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let mut stderr = io::stderr().lock();
            let _ = writeln!(stderr, "error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe))
}

/// clap's arguments → the validated run configuration (rg's `LowArgs` → `HiArgs`).
fn run_config(global: &GlobalArgs) -> anyhow::Result<RunConfig> {
    let mut stages = match &global.config {
        Some(path) => StagesConfig::load(path)?,
        None => StagesConfig::default(),
    };
    if global.no_near_dup {
        stages.dedup.near = false;
    }
    if let Some(t) = global.dedup_threshold {
        anyhow::ensure!((0.0..=1.0).contains(&t), "--dedup-threshold must be between 0 and 1, not {t}");
        stages.dedup.near_threshold = t;
    }
    if let Some(n) = global.min_line_docs {
        stages.dedup.line_min_docs = n;
    }
    anyhow::ensure!(stages.dedup.bands * stages.dedup.rows > 0, "dedup bands and rows must be positive");
    anyhow::ensure!(stages.dedup.shingle > 0, "dedup shingle must be positive");
    let cache_dir = (!global.no_cache).then(|| global.cache_dir.clone().unwrap_or_else(config::default_cache_dir));
    Ok(RunConfig {
        stages,
        cache_dir,
        cache_dir_given: global.cache_dir.is_some(),
        max_doc_bytes: global.max_doc_bytes,
        dedup_memory: global.dedup_memory.saturating_mul(1 << 20),
        progress: !global.no_progress,
        verbose: global.verbose,
        quiet: global.quiet,
    })
}

/// The cache a run uses. With `--no-cache`, a scratch cache in a temporary directory
/// that lives as long as the returned guard: nothing is reused from or left for other
/// runs, but phase 2 need not compute phase 1's work again.
fn open_cache(cfg: &RunConfig, progress: &Progress) -> (Cache, Option<tempfile::TempDir>) {
    let scratch = || -> Option<(Cache, tempfile::TempDir)> {
        let dir = tempfile::Builder::new().prefix("pith-scratch-").tempdir().ok()?;
        Some((Cache::open(dir.path()).ok()?, dir))
    };
    match &cfg.cache_dir {
        None => match scratch() {
            Some((cache, dir)) => (cache, Some(dir)),
            None => (Cache::disabled(), None),
        },
        Some(dir) => match Cache::open(dir) {
            Ok(cache) => (cache, None),
            Err(err) => {
                progress.warn(&format!("{err}; going on without the cache"));
                (Cache::disabled(), None)
            }
        },
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let cfg = run_config(&cli.global)?;
    let mut pool = rayon::ThreadPoolBuilder::new();
    // Inside a Slurm allocation, use the CPUs it gave the task.
    let slurm_cpus = std::env::var("SLURM_CPUS_PER_TASK").ok().and_then(|v| v.parse().ok());
    if let Some(n) = cli.global.threads.or(slurm_cpus) {
        anyhow::ensure!(n > 0, "--threads must be at least 1");
        pool = pool.num_threads(n);
    }
    let pool = pool.build().context("starting the worker threads")?;
    pool.install(|| dispatch(cli.cmd, &cfg))
}

/// The input files; `exclude` (the output directory) is never read as input.
fn list(
    inputs: &[PathBuf],
    exclude: Option<&std::path::Path>,
    cfg: &RunConfig,
    progress: &Progress,
) -> anyhow::Result<Vec<InputFile>> {
    let mut notes = input::ListingNotes::default();
    let files = input::list_inputs(inputs, exclude, &mut notes)?;
    for problem in &notes.problems {
        progress.warn(&format!("skipped part of an input: {problem}"));
    }
    if !notes.skipped.is_empty() && cfg.verbose {
        for path in &notes.skipped {
            progress.info(&format!("skipped {} (not .txt, .md, .jsonl, .jsonl.gz or .jsonl.zst)", path.display()));
        }
    } else if !notes.skipped.is_empty() {
        progress.info(&format!("skipped {} files of unknown formats (-v lists them)", notes.skipped.len()));
    }
    Ok(files)
}

#[allow(clippy::print_stdout)]
fn dispatch(cmd: Cmd, cfg: &RunConfig) -> anyhow::Result<()> {
    let progress = Progress::new(cfg.progress, cfg.quiet);
    match cmd {
        Cmd::Run { inputs, out } => {
            let started = Instant::now();
            let files = list(&inputs, Some(&out), cfg, &progress)?;
            input::check_output_dir(&out, &files)?;
            let mut sink = RunOutput::create(&out)?;
            let (cache, _scratch) = open_cache(cfg, &progress);
            let runner = Runner::new(cfg, cache, &progress);
            let totals = runner.run(&files, Stage::Features, &mut sink)?;
            let summary = output::summary(
                &totals,
                &runner.stage_stats(),
                cfg.cache_dir.as_deref(),
                started.elapsed().as_secs_f64(),
            );
            sink.finish(&summary)?;
            progress.info(&format!(
                "{} documents: {} kept, {} dropped, {} failed -> {} ({:.2}s)",
                totals.documents_in,
                totals.kept,
                totals.dropped,
                totals.failed,
                out.display(),
                started.elapsed().as_secs_f64()
            ));
            Ok(())
        }
        Cmd::Parse(args) => stage_command(args, Stage::Parse, cfg, &progress),
        Cmd::Strip(args) => stage_command(args, Stage::Strip, cfg, &progress),
        Cmd::Dedup(args) => stage_command(args, Stage::Dedup, cfg, &progress),
        Cmd::Features(args) => stage_command(args, Stage::Features, cfg, &progress),
        Cmd::Explain { inputs } => {
            let files = list(&inputs, None, cfg, &progress)?;
            let (cache, _scratch) = open_cache(cfg, &progress);
            let runner = Runner::new(cfg, cache, &progress);
            let docs = runner.explain(&files);
            let color = std::io::IsTerminal::is_terminal(&io::stdout());
            let mut stdout = io::stdout().lock();
            explain::print(&mut stdout, &docs, color)?;
            Ok(())
        }
        Cmd::Plan { inputs, out, shards } => {
            let files = list(&inputs, Some(&out), cfg, &progress)?;
            input::check_output_dir(&out, &files)?;
            let plan = distributed::plan(&files, shards, cfg, &out)?;
            let bytes: u64 = plan.inputs.iter().map(|f| f.size).sum();
            progress.info(&format!(
                "planned {} files ({bytes} bytes) in {} shards -> {}",
                plan.inputs.len(),
                plan.shards,
                out.join("plan.json").display()
            ));
            Ok(())
        }
        Cmd::RunShard { out, stage, shard_index, shard_offset } => {
            let work = Work::open(&out)?;
            let index = match shard_index {
                Some(i) => i,
                None => task_index(stage, shard_offset)?,
            };
            run_tasks(&work, &[(stage, index)], cfg, &progress)
        }
        Cmd::RunPlan { out } => {
            let work = Work::open(&out)?;
            let tasks: Vec<(TaskStage, usize)> =
                TaskStage::ALL.iter().flat_map(|&stage| (0..work.count(stage)).map(move |i| (stage, i))).collect();
            run_tasks(&work, &tasks, cfg, &progress)
        }
        Cmd::Submit { cmd: SubmitCmd::Slurm(args) } => submit_slurm(&args, cfg, &progress),
        Cmd::Status { out } => {
            let work = Work::open(&out)?;
            let mut stdout = io::stdout().lock();
            print_status(&mut stdout, &work)?;
            Ok(())
        }
        Cmd::Cache { cmd } => {
            let Some(dir) = &cfg.cache_dir else { anyhow::bail!("--no-cache: there is no cache to look at") };
            let cache = Cache::open(dir)?;
            let mut stdout = io::stdout().lock();
            match cmd {
                CacheCmd::Stats => {
                    writeln!(stdout, "cache: {}", dir.display())?;
                    let usage = cache.usage()?;
                    // The names' column as wide as the longest ("dedup_pair_texts-v10").
                    let width = usage.iter().map(|u| u.stage.len()).max().unwrap_or(0).max(16);
                    for u in &usage {
                        writeln!(stdout, "{:<width$} {:>8} files {:>12} bytes", u.stage, u.files, u.bytes)?;
                    }
                    let (files, bytes) = usage.iter().fold((0, 0), |(f, b), u| (f + u.files, b + u.bytes));
                    writeln!(stdout, "{:<width$} {files:>8} files {bytes:>12} bytes", "total")?;
                }
                CacheCmd::Clean => {
                    let freed = cache.clean()?;
                    writeln!(stdout, "removed {freed} bytes from {}", dir.display())?;
                }
            }
            Ok(())
        }
        Cmd::PrintConfig => {
            print!("{}", toml::to_string(&cfg.stages)?);
            Ok(())
        }
    }
}

/// The task index from the scheduler's environment: a Slurm array task's id plus the
/// offset of its array, or a Kubernetes indexed job's completion index.
fn task_index(stage: TaskStage, offset: usize) -> anyhow::Result<usize> {
    let env = |name: &str| -> anyhow::Result<Option<usize>> {
        match std::env::var(name) {
            Ok(v) => Ok(Some(v.trim().parse().with_context(|| format!("${name} is not an index: {v:?}"))?)),
            Err(_) => Ok(None),
        }
    };
    if let Some(id) = env("SLURM_ARRAY_TASK_ID")? {
        return Ok(id + offset);
    }
    if let Some(id) = env("JOB_COMPLETION_INDEX")? {
        return Ok(id + offset);
    }
    anyhow::ensure!(
        !stage.per_shard(),
        "which {} task? give --shard-index (or run it as a Slurm array task)",
        stage.name()
    );
    Ok(0)
}

/// Runs tasks of a plan in order, each with counters of its own.
fn run_tasks(work: &Work, tasks: &[(TaskStage, usize)], cfg: &RunConfig, progress: &Progress) -> anyhow::Result<()> {
    let cfg = work.run_config(cfg);
    let (cache, _scratch) = open_cache(&cfg, progress);
    for &(stage, index) in tasks {
        let runner = Runner::new(&cfg, cache.clone(), progress);
        let what = format!("{} task {index}", stage.name());
        match distributed::run_task(work, stage, index, &runner, cfg.cache_dir.as_deref())
            .with_context(|| format!("{}: {what}", work.out.display()))?
        {
            Outcome::Skipped => progress.info(&format!("{what}: done before, skipped")),
            Outcome::Done(marker) => {
                if cfg.verbose {
                    progress.info(&format!("{what}: done in {:.2}s", marker.seconds));
                }
            }
        }
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
fn submit_slurm(args: &SlurmArgs, cfg: &RunConfig, progress: &Progress) -> anyhow::Result<()> {
    let work = Work::open(&args.out)?;
    anyhow::ensure!(args.cpus_per_task > 0, "--cpus-per-task must be at least 1");
    let opts = slurm::SubmitOptions {
        partition: args.partition.clone(),
        max_parallel: args.max_parallel,
        cpus_per_task: args.cpus_per_task,
        time: args.time.clone(),
        mem: args.mem.clone(),
        sbatch_args: args.sbatch_arg.clone(),
        pith: slurm::this_binary()?,
        cache_args: match (&cfg.cache_dir, cfg.cache_dir_given) {
            (None, _) => vec!["--no-cache".to_owned()],
            (Some(dir), true) => vec!["--cache-dir".to_owned(), std::path::absolute(dir)?.display().to_string()],
            (Some(_), false) => Vec::new(),
        },
    };
    let mut subs = slurm::prepare(&work, &opts)?;
    if subs.is_empty() {
        progress.info(&format!("{}: every task is done", work.out.display()));
        return Ok(());
    }
    if args.dry_run {
        print!("{}", slurm::render(&subs));
        return Ok(());
    }
    slurm::submit(&mut subs)?;
    for sub in &subs {
        progress.info(&format!("submitted {} as job {}", sub.stage.name(), sub.job.as_deref().unwrap_or("?")));
    }
    if !args.wait {
        return Ok(());
    }
    let jobs: Vec<String> = subs.iter().filter_map(|s| s.job.clone()).collect();
    slurm::wait(&jobs)?;
    let failed: Vec<String> = TaskStage::ALL
        .iter()
        .flat_map(|&stage| work.missing(stage).into_iter().map(move |i| (stage, i)))
        .filter(|&(stage, i)| work.failure(stage, i).is_some())
        .map(|(stage, i)| format!("{} task {i} ({})", stage.name(), slurm::log_hint(&work, stage).display()))
        .collect();
    let unfinished = TaskStage::ALL.iter().map(|&s| work.missing(s).len()).sum::<usize>();
    if unfinished == 0 {
        progress.info(&format!("done -> {}", work.out.display()));
        return Ok(());
    }
    if failed.is_empty() {
        anyhow::bail!("{unfinished} tasks did not finish (cancelled?); `pith status` tells which");
    }
    anyhow::bail!("{unfinished} tasks did not finish; failed: {}", failed.join(", "))
}

fn print_status(w: &mut impl Write, work: &Work) -> anyhow::Result<()> {
    let bytes: u64 = work.plan.inputs.iter().map(|f| f.size).sum();
    writeln!(
        w,
        "plan {}: {} files, {bytes} bytes, {} shards",
        work.out.display(),
        work.plan.inputs.len(),
        work.plan.shards
    )?;
    for stage in TaskStage::ALL {
        let count = work.count(stage);
        let missing = work.missing(stage);
        let failed: Vec<usize> = missing.iter().copied().filter(|&i| work.failure(stage, i).is_some()).collect();
        let started: Vec<usize> =
            missing.iter().copied().filter(|&i| work.started(stage, i) && !failed.contains(&i)).collect();
        write!(w, "{:<7} {:>6}/{count} done", stage.name(), count - missing.len())?;
        if !failed.is_empty() {
            write!(w, ", failed: {}", distributed::compact_ranges(&failed))?;
        }
        if !started.is_empty() {
            write!(w, ", started (running or killed): {}", distributed::compact_ranges(&started))?;
        }
        writeln!(w)?;
        for &i in &failed {
            let message = work.failure(stage, i).unwrap_or_default();
            writeln!(w, "  {} {i}: {}", stage.name(), message.lines().next().unwrap_or(""))?;
        }
    }
    Ok(())
}

fn stage_command(args: StageArgs, until: Stage, cfg: &RunConfig, progress: &Progress) -> anyhow::Result<()> {
    let files = list(&args.inputs, None, cfg, progress)?;
    let (cache, _scratch) = open_cache(cfg, progress);
    let runner = Runner::new(cfg, cache, progress);
    let failures = match &args.out {
        Some(path) => {
            input::check_not_an_input(path, &files)?;
            // Written beside the target and renamed at the end: a failed or killed run
            // never leaves a half-written file under the final name.
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            let tmp =
                tempfile::NamedTempFile::new_in(dir).with_context(|| format!("{}: cannot write", path.display()))?;
            let mut sink = StageOutput { out: io::BufWriter::new(tmp), failures: Vec::new() };
            runner.run(&files, until, &mut sink)?;
            let tmp = sink
                .out
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(|| format!("{}: cannot write", path.display()))?;
            tmp.persist(path).with_context(|| format!("{}: cannot write", path.display()))?;
            sink.failures
        }
        None => {
            let mut sink = StageOutput { out: io::BufWriter::new(io::stdout().lock()), failures: Vec::new() };
            runner.run(&files, until, &mut sink)?;
            sink.out.flush()?;
            sink.failures
        }
    };
    for failure in failures {
        progress.warn(&format!("failed: {failure}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn default_config_round_trips_through_toml() {
        let text = toml::to_string(&StagesConfig::default()).unwrap();
        assert_eq!(toml::from_str::<StagesConfig>(&text).unwrap(), StagesConfig::default());
    }
}
