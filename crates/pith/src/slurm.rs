//! `pith submit slurm`: a plan's tasks as Slurm job arrays. pith does no scheduling of
//! its own: it writes one sbatch script per stage (`OUT/slurm/<stage>.sbatch`, each task
//! a `pith run-shard`), submits the stages with missing tasks as arrays of just those
//! tasks, chained by `afterok` dependencies with `--kill-on-invalid-dep=yes` (a failed
//! task cancels its dependents instead of leaving them pending), and can wait for them.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail, ensure};

use crate::distributed::{TaskStage, Work, compact_ranges};

/// Slurm's default `MaxArraySize` is 1001: larger stages are submitted as several
/// arrays of at most this many tasks, each told its offset.
const ARRAY_CHUNK: usize = 1000;

#[derive(Debug, Clone)]
pub(crate) struct SubmitOptions {
    pub(crate) partition: Option<String>,
    /// At most this many tasks of an array at once (`--array=...%K`).
    pub(crate) max_parallel: Option<usize>,
    pub(crate) cpus_per_task: usize,
    pub(crate) time: Option<String>,
    pub(crate) mem: Option<String>,
    /// More `sbatch` options, written into every script.
    pub(crate) sbatch_args: Vec<String>,
    /// The pith binary the tasks run (must be reachable from the compute nodes).
    pub(crate) pith: PathBuf,
    /// `--cache-dir DIR` or `--no-cache` for the tasks, instead of the plan's cache.
    pub(crate) cache_args: Vec<String>,
}

/// One `sbatch` call.
#[derive(Debug, Clone)]
pub(crate) struct Submission {
    pub(crate) stage: TaskStage,
    /// The stage whose jobs must all succeed first.
    pub(crate) after: Option<TaskStage>,
    pub(crate) args: Vec<String>,
    /// Filled in when submitted.
    pub(crate) job: Option<String>,
}

fn quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-=:,%+@".contains(&b)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn script(work: &Work, stage: TaskStage, opts: &SubmitOptions) -> String {
    let out = work.out.display().to_string();
    let logs = work.logs().display().to_string();
    let mut s = String::from("#!/bin/bash\n");
    let _ = writeln!(s, "# Written by `pith submit slurm`: the {} tasks of the plan in {out}.", stage.name());
    let _ = writeln!(s, "#SBATCH --job-name=pith-{}", stage.name());
    if stage.per_shard() {
        let last = work.count(stage).min(ARRAY_CHUNK) - 1;
        let limit = opts.max_parallel.map(|k| format!("%{k}")).unwrap_or_default();
        let _ = writeln!(s, "#SBATCH --array=0-{last}{limit}");
        let _ = writeln!(s, "#SBATCH --output={}", quote(&format!("{logs}/{}-%A_%a.log", stage.name())));
    } else {
        let _ = writeln!(s, "#SBATCH --output={}", quote(&format!("{logs}/{}-%j.log", stage.name())));
    }
    let _ = writeln!(s, "#SBATCH --cpus-per-task={}", opts.cpus_per_task);
    for (flag, value) in [("partition", &opts.partition), ("time", &opts.time), ("mem", &opts.mem)] {
        if let Some(value) = value {
            let _ = writeln!(s, "#SBATCH --{flag}={}", quote(value));
        }
    }
    for arg in &opts.sbatch_args {
        let _ = writeln!(s, "#SBATCH {arg}");
    }
    s.push_str("set -eu\n");
    let mut cmd = format!(
        "exec {} run-shard {} --stage {} --no-progress",
        quote(&opts.pith.display().to_string()),
        quote(&out),
        stage.name()
    );
    for arg in &opts.cache_args {
        let _ = write!(cmd, " {}", quote(arg));
    }
    if stage.per_shard() {
        cmd.push_str(" --shard-offset \"${PITH_SHARD_OFFSET:-0}\"");
    }
    s.push_str(&cmd);
    s.push('\n');
    s
}

/// Writes the scripts and works out the `sbatch` calls for the tasks still missing.
pub(crate) fn prepare(work: &Work, opts: &SubmitOptions) -> anyhow::Result<Vec<Submission>> {
    let dir = work.out.join("slurm");
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    std::fs::create_dir_all(work.logs()).with_context(|| format!("{}: cannot create", work.logs().display()))?;
    let mut res: Vec<Submission> = Vec::new();
    let mut previous: Option<TaskStage> = None;
    for stage in TaskStage::ALL {
        let path = dir.join(format!("{}.sbatch", stage.name()));
        std::fs::write(&path, script(work, stage, opts))
            .with_context(|| format!("{}: cannot write", path.display()))?;
        let missing = work.missing(stage);
        if missing.is_empty() {
            continue;
        }
        let mut common = vec!["--parsable".to_owned()];
        if previous.is_some() {
            common.push("--kill-on-invalid-dep=yes".to_owned());
        }
        if stage.per_shard() {
            let limit = opts.max_parallel.map(|k| format!("%{k}")).unwrap_or_default();
            for chunk_start in (0..work.count(stage)).step_by(ARRAY_CHUNK) {
                let indices: Vec<usize> = missing
                    .iter()
                    .filter(|&&i| (chunk_start..chunk_start + ARRAY_CHUNK).contains(&i))
                    .map(|&i| i - chunk_start)
                    .collect();
                if indices.is_empty() {
                    continue;
                }
                let mut args = common.clone();
                args.push(format!("--array={}{limit}", compact_ranges(&indices)));
                args.push(format!("--export=ALL,PITH_SHARD_OFFSET={chunk_start}"));
                args.push(path.display().to_string());
                res.push(Submission { stage, after: previous, args, job: None });
            }
        } else {
            let mut args = common;
            args.push(path.display().to_string());
            res.push(Submission { stage, after: previous, args, job: None });
        }
        previous = Some(stage);
    }
    Ok(res)
}

fn var(subs: &[Submission], i: usize) -> String {
    let stage = subs[i].stage;
    let nth = subs[..i].iter().filter(|s| s.stage == stage).count();
    format!("{}{nth}", stage.name())
}

/// The submissions as a shell script a user could run by hand.
pub(crate) fn render(subs: &[Submission]) -> String {
    let mut s = String::new();
    for (i, sub) in subs.iter().enumerate() {
        let mut args: Vec<String> = Vec::new();
        if let Some(after) = sub.after {
            let deps: Vec<String> =
                (0..i).filter(|&j| subs[j].stage == after).map(|j| format!("${}", var(subs, j))).collect();
            args.push(format!("--dependency=afterok:{}", deps.join(":")));
        }
        args.extend(sub.args.iter().map(|a| quote(a)));
        let _ = writeln!(s, "{}=$(sbatch {})", var(subs, i), args.join(" "));
    }
    s
}

/// Submits in order, filling in job ids and the dependencies on them.
pub(crate) fn submit(subs: &mut [Submission]) -> anyhow::Result<()> {
    for i in 0..subs.len() {
        let mut args = Vec::new();
        if let Some(after) = subs[i].after {
            let ids: Vec<&str> =
                subs[..i].iter().filter(|s| s.stage == after).filter_map(|s| s.job.as_deref()).collect();
            args.push(format!("--dependency=afterok:{}", ids.join(":")));
        }
        args.extend(subs[i].args.iter().cloned());
        let output = Command::new("sbatch")
            .args(&args)
            .output()
            .context("cannot run sbatch (is Slurm's client installed and SLURM_CONF set?)")?;
        ensure!(
            output.status.success(),
            "sbatch {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let job = stdout.trim().split(';').next().unwrap_or_default().to_owned();
        ensure!(!job.is_empty() && job.bytes().all(|b| b.is_ascii_digit()), "sbatch printed no job id: {stdout:?}");
        subs[i].job = Some(job);
    }
    Ok(())
}

/// Waits until none of `jobs` is queued or running. Jobs left pending on a dependency
/// that can never be met (where `--kill-on-invalid-dep` is not honoured) are cancelled.
pub(crate) fn wait(jobs: &[String]) -> anyhow::Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let list = jobs.join(",");
    loop {
        let output =
            Command::new("squeue").args(["-h", "-o", "%i %T %r", "-j", &list]).output().context("cannot run squeue")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            // squeue refuses ids it no longer knows: all of them finished long ago.
            let stderr = String::from_utf8_lossy(&output.stderr);
            if stderr.contains("Invalid job id") {
                return Ok(());
            }
            bail!("squeue failed: {}", stderr.trim());
        }
        if stdout.trim().is_empty() {
            return Ok(());
        }
        let stuck: Vec<&str> = stdout
            .lines()
            .filter(|l| l.contains("DependencyNeverSatisfied"))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        if !stuck.is_empty() {
            let _ = Command::new("scancel").args(&stuck).status();
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The pith binary to put in the scripts: this one.
pub(crate) fn this_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the pith binary's path")?;
    Ok(exe.canonicalize().unwrap_or(exe))
}

/// Logs of a stage's task, for error messages.
pub(crate) fn log_hint(work: &Work, stage: TaskStage) -> PathBuf {
    work.logs().join(format!("{}-*.log", stage.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("/a/b-c.log"), "/a/b-c.log");
        assert_eq!(quote("it's here"), r"'it'\''s here'");
        assert_eq!(quote(""), "''");
    }
}
