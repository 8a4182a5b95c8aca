//! `cargo xtask fuzz`: run a cargo-fuzz target from `fuzz/`, which is a cargo workspace of
//! its own (so `cargo test --workspace` never builds libFuzzer).
//!
//! `cargo xtask fuzz TARGET --secs N` runs `cargo fuzz run TARGET -s none -- -max_total_time=N`
//! in `fuzz/`: no sanitizer, so it works on stable Rust. It installs cargo-fuzz first
//! (`cargo install cargo-fuzz --locked`) when `cargo fuzz` is missing. `cargo xtask fuzz
//! --list` prints the targets. The corpus is `fuzz/corpus/TARGET` (only its `seed-*` files
//! are committed); crash inputs go to `fuzz/artifacts/TARGET`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct FuzzArgs {
    /// The fuzz target (a file name in fuzz/fuzz_targets, without `.rs`).
    #[arg(required_unless_present = "list", conflicts_with = "list")]
    target: Option<String>,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 60, value_name = "N")]
    secs: u64,
    /// List the fuzz targets and exit.
    #[arg(long)]
    list: bool,
    /// More libFuzzer options, after `--` (for example `-- -max_len=100000 -jobs=2`).
    #[arg(last = true, value_name = "LIBFUZZER_ARGS")]
    libfuzzer_args: Vec<String>,
}

pub(crate) fn run(args: &FuzzArgs) -> anyhow::Result<()> {
    let fuzz_dir = crate::workspace_root().join("fuzz");
    let targets = list_targets(&fuzz_dir)?;
    if args.list {
        for target in &targets {
            println!("{target}");
        }
        return Ok(());
    }
    let target = args.target.as_deref().expect("clap requires a target without --list");
    if !targets.iter().any(|t| t == target) {
        bail!("no fuzz target `{target}` in {}; the targets are: {}", fuzz_dir.display(), targets.join(", "));
    }
    ensure_cargo_fuzz()?;

    let mut cmd = cargo_in(&fuzz_dir);
    cmd.args(["fuzz", "run", target, "-s", "none", "--"]).arg(format!("-max_total_time={}", args.secs));
    cmd.args(&args.libfuzzer_args);
    let shown =
        format!("cargo fuzz run {target} -s none -- -max_total_time={} {}", args.secs, args.libfuzzer_args.join(" "));
    eprintln!("==> (in fuzz/) {}", shown.trim_end());
    let status = cmd.status().with_context(|| format!("starting `{}`", shown.trim_end()))?;
    if !status.success() {
        bail!(
            "fuzz target `{target}` failed ({status}); crash inputs, if any, are in {}",
            fuzz_dir.join("artifacts").join(target).display()
        );
    }
    Ok(())
}

/// The targets: the `.rs` files of `fuzz/fuzz_targets`, sorted. Read from the directory, so
/// `--list` works before cargo-fuzz is installed.
fn list_targets(fuzz_dir: &Path) -> anyhow::Result<Vec<String>> {
    let dir = fuzz_dir.join("fuzz_targets");
    let mut res = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path: PathBuf = entry.with_context(|| format!("reading {}", dir.display()))?.path();
        if path.extension().is_some_and(|e| e == "rs")
            && let Some(stem) = path.file_stem()
        {
            res.push(stem.to_string_lossy().into_owned());
        }
    }
    res.sort();
    Ok(res)
}

/// Installs cargo-fuzz unless `cargo fuzz` already runs.
fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let found = crate::cargo().args(["fuzz", "--version"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    if found.is_ok_and(|s| s.success()) {
        return Ok(());
    }
    eprintln!("==> cargo install cargo-fuzz --locked (`cargo fuzz` is missing)");
    let status = crate::cargo()
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .context("starting `cargo install cargo-fuzz --locked`")?;
    if !status.success() {
        bail!("`cargo install cargo-fuzz --locked` failed ({status})");
    }
    Ok(())
}

/// `cargo` run from `dir`, which is a workspace of its own.
fn cargo_in(dir: &Path) -> Command {
    let mut cmd = crate::cargo();
    cmd.current_dir(dir);
    cmd
}
