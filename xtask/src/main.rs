//! `cargo xtask`: the workspace's developer tasks, in Rust instead of shell scripts (the
//! rust-analyzer and ripgrep convention). It checks the workspace (`ci`, `tidy`), measures
//! cleaning quality against third-party ground truth (`eval`) and writes synthetic corpora
//! (`gen-corpus`). It is a dev tool that is never shipped: it may print, it runs cargo and
//! other programs through `std::process::Command`, and it depends only on clap, anyhow and
//! serde_json. It must not depend on any `pith` crate: it drives the `pith` binary the way a
//! user would.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod ci;
mod dedup_eval;
mod eval;
mod fuzz;
mod gen_corpus;
mod score;
mod slurm_test;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

/// Developer tasks for the pith workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Run `cargo fmt --check`, `cargo clippy -D warnings` and `cargo test`, stopping at the first failure.
    Ci,
    /// Run `pith` on the ground-truth corpora and score its output (the metric of score.py).
    Eval(eval::EvalArgs),
    /// Measure near-duplicate detection (precision, recall) on a generated corpus.
    DedupEval(dedup_eval::DedupEvalArgs),
    /// Write a deterministic synthetic corpus with known duplicates and boilerplate.
    GenCorpus(gen_corpus::GenCorpusArgs),
    /// Check that crates are documented in ARCHITECTURE.md, have `//!` docs and no `dbg!`.
    Tidy,
    /// Measure pipeline throughput, cache efficiency and scaling on a generated corpus.
    Bench(bench::BenchArgs),
    /// Run the planned pipeline through a local single-node Slurm and check it against `pith run`.
    SlurmTest(slurm_test::SlurmTestArgs),
    /// Run a cargo-fuzz target from fuzz/ for `--secs N` (installs cargo-fuzz if missing); `--list` the targets.
    Fuzz(fuzz::FuzzArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.task {
        Task::Ci => ci::run(),
        Task::Eval(args) => eval::run(&args),
        Task::GenCorpus(args) => gen_corpus::run(&args),
        Task::DedupEval(args) => dedup_eval::run(&args),
        Task::Tidy => tidy::run(),
        Task::Bench(args) => bench::run(&args),
        Task::Fuzz(args) => fuzz::run(&args),
        Task::SlurmTest(args) => slurm_test::run(&args),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of xtask's own manifest directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives inside the workspace").to_owned()
}

/// The cargo that runs us (cargo sets `$CARGO` for `cargo run`), so toolchain overrides carry over.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

/// Where cargo puts its build outputs: `$CARGO_TARGET_DIR` or `<root>/target`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
